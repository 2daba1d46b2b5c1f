// The official `openai` npm package against the local gateway: a chat completion, a stream,
// a rejected key and a tool call, asserted on what the emulator is known to answer (it echoes
// the last user text, one word = one token).

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

test('non-streaming chat echoes the prompt with usage', async () => {
  const response = await client.chat.completions.create({
    model: CHAT_MODEL,
    messages: [{ role: 'user', content: 'Hello from openai node' }],
  });
  assert.match(response.id, /^chatcmpl-/);
  assert.equal(response.object, 'chat.completion');
  assert.equal(response.model, CHAT_MODEL);
  assert.equal(response.choices[0].message.role, 'assistant');
  assert.equal(response.choices[0].message.content, 'Hello from openai node');
  assert.equal(response.choices[0].finish_reason, 'stop');
  assert.equal(response.usage.completion_tokens, 4);
  assert.equal(response.usage.total_tokens, response.usage.prompt_tokens + response.usage.completion_tokens);
});

test('streaming chat arrives in several deltas and reassembles', async () => {
  const stream = await client.chat.completions.create({
    model: CHAT_MODEL,
    messages: [{ role: 'user', content: 'streaming works from node too' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const pieces = chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
  assert.ok(pieces.length > 1, 'expected several content deltas');
  assert.equal(pieces.join(''), 'streaming works from node too');
  const finishReasons = chunks.flatMap((c) => (c.choices[0]?.finish_reason ? [c.choices[0].finish_reason] : []));
  assert.deepEqual(finishReasons, ['stop']);
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage.completion_tokens, 5);
});

test('a wrong API key raises AuthenticationError', async () => {
  const wrong = new OpenAI({ baseURL: gateway.baseURL, apiKey: 'not-the-key', maxRetries: 0 });
  await assert.rejects(
    wrong.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    (err) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err?.constructor?.name}`);
      assert.equal(err.status, 401);
      assert.equal(err.error.type, 'authentication_error');
      return true;
    },
  );
});

test('a forced tool call, then the tool result sent back', async () => {
  const tools = [{
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city.',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  }];
  const question = { role: 'user', content: 'Weather in Madrid? [[call:get_weather {"city": "Madrid"}]]' };
  const first = await client.chat.completions.create({
    model: CHAT_MODEL, messages: [question], tools, tool_choice: 'required',
  });
  const choice = first.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Madrid' });

  const second = await client.chat.completions.create({
    model: CHAT_MODEL,
    messages: [question, choice.message, { role: 'tool', tool_call_id: call.id, content: 'warm and dry' }],
    tools,
  });
  assert.equal(second.choices[0].finish_reason, 'stop');
  assert.equal(second.choices[0].message.content, `[toolResult ${call.id}: warm and dry]`);
});

test('a streamed tool call is put together by the SDK stream helper', async () => {
  const runner = client.chat.completions.stream({
    model: CHAT_MODEL,
    messages: [{ role: 'user', content: 'go [[call:get_weather {"city": "Porto"}]]' }],
    tools: [{
      type: 'function',
      function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    }],
  });
  const final = await runner.finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Porto' });
});
