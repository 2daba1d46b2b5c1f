// The official `openai` npm package's Responses API against the local gateway: a response,
// a stream, and one function tool, asserted on what the emulator answers (it echoes the last
// user text; `[[call:NAME]]` makes it call a tool).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

import { API_KEY, CHAT_MODEL, startGateway } from './servers.mjs';

let gateway;
let client;

before(async () => {
  gateway = await startGateway();
  client = new OpenAI({ baseURL: gateway.baseURL, apiKey: API_KEY, maxRetries: 0 });
});

after(async () => {
  await gateway?.stop();
});

const weather = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

test('responses.create answers with a Response object', async () => {
  const response = await client.responses.create({ model: CHAT_MODEL, input: 'Hello from node' });
  assert.match(response.id, /^resp_/);
  assert.equal(response.object, 'response');
  assert.equal(response.status, 'completed');
  assert.equal(response.output_text, 'Hello from node');
  assert.equal(response.usage.total_tokens, response.usage.input_tokens + response.usage.output_tokens);
});

test('responses.create streams typed events in order', async () => {
  const stream = await client.responses.create({ model: CHAT_MODEL, input: 'streaming from node', stream: true });
  const events = [];
  for await (const event of stream) events.push(event);
  assert.equal(events[0].type, 'response.created');
  const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
  assert.equal(text, 'streaming from node');
  const numbers = events.map((e) => e.sequence_number);
  assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
  assert.equal(events.at(-1).type, 'response.completed');
  assert.equal(events.at(-1).response.output[0].id, events.find((e) => e.type === 'response.output_item.added').item.id);
});

test('a function tool is called and its output answered', async () => {
  const first = await client.responses.create({
    model: CHAT_MODEL,
    tools: [weather],
    input: '[[call:get_weather {"city":"Oslo"}]]',
  });
  const call = first.output.find((item) => item.type === 'function_call');
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Oslo' });
  const second = await client.responses.create({
    model: CHAT_MODEL,
    tools: [weather],
    previous_response_id: first.id,
    input: [{ type: 'function_call_output', call_id: call.call_id, output: 'snow' }],
  });
  assert.ok(second.output_text.includes(`[toolResult ${call.call_id}: snow]`), second.output_text);
});
