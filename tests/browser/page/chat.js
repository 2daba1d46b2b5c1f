// The browser test page's chat client: it talks to the gateway from another origin the way
// NextChat (github.com/ChatGPTNextWeb/NextChat, app/client/platforms/openai.ts and
// app/utils/chat.ts) does in its "custom endpoint" mode, so the browser tests prove what a
// NextChat user sees without building NextChat in CI. Reproduced here, in our own code:
//
// - the URL: the endpoint setting (`http://<host>/api`, no `/v1`) + `/v1/chat/completions`;
// - the headers: `Content-Type: application/json`, `Accept: application/json` and
//   `Authorization: Bearer <key>`, sent with `fetch` (so a CORS preflight comes first);
// - the body: NextChat's defaults (temperature 0.5, top_p 1, presence and frequency penalty 0),
//   `max_tokens: 4000` for vision models, `max_completion_tokens` and a developer message for
//   o1/o3/o4-mini, images only for vision models (chosen by name patterns or the VISION_MODELS
//   list), the last four messages of history, and no system prompt except for gpt-* names;
// - the stream: read by the same library, @fortaine/fetch-event-source (tests/browser/
//   package.json), with NextChat's handlers: an answer that is not a 200 event stream is shown
//   as its JSON (with a hint on 401); an event without `choices` is ignored (so a bare
//   `{"error":...}` event shows nothing); `reasoning_content` and `<think>` text are shown as
//   a quote; a failed fetch (CORS, network) shows `{"error": true, "message": ...}`;
// - the display: text is revealed on animation frames, 1/60 of what is pending per frame;
// - the title: after a reply, while the topic is the default one and the conversation counts
//   50 tokens or more by NextChat's estimate (a letter 1/4, other ASCII 1/2, anything else 3/2),
//   a non-streaming request asks for a title (gpt-* chats ask `gpt-4o-mini`), shown as the topic.
import { fetchEventSource, EventStreamContentType } from "/vendor/fetch-event-source/index.js";

const DEFAULT_TOPIC = "New Conversation";
const TOPIC_PROMPT =
  "Give this conversation a title of four or five words, without punctuation or quotes.";
const SUMMARIZE_MIN_TOKENS = 50;
const HISTORY_MESSAGE_COUNT = 4;
const SUMMARIZE_MODEL = "gpt-4o-mini";
const MODEL_CONFIG = { temperature: 0.5, top_p: 1, max_tokens: 4000, presence_penalty: 0, frequency_penalty: 0 };
const REQUEST_TIMEOUT_MS = 60_000;
const UNAUTHORIZED_HINT = "Unauthorized: check the API key in the settings.";
// NextChat's name patterns for models that take images (its constant.ts), less the ones no
// Bedrock id can match; the "Vision models" setting adds ids, like its VISION_MODELS variable.
const VISION_PATTERNS = [/vision/, /gpt-4o/, /gpt-4\.1/, /claude.*[34]/, /vl/i, /o3/, /o4-mini/, /gpt-5/];
const NOT_VISION_PATTERNS = [/claude-3-5-haiku-20241022/];

const session = { topic: DEFAULT_TOPIC, messages: [] };
let attachedImages = [];

const $ = (id) => document.getElementById(id);

function settings() {
  return {
    endpoint: $("endpoint").value.trim(),
    apiKey: $("api-key").value.trim(),
    model: $("model").value.trim(),
    visionModels: $("vision-models").value.split(",").map((m) => m.trim()).filter(Boolean),
  };
}

function chatPath(endpoint) {
  let base = endpoint.replace(/\/+$/, "");
  if (!base.startsWith("http")) base = "https://" + base;
  return `${base}/v1/chat/completions`;
}

function headers(apiKey) {
  const sent = { "Content-Type": "application/json", Accept: "application/json" };
  if (apiKey) sent.Authorization = `Bearer ${apiKey}`;
  return sent;
}

function isVisionModel(model, visionModels) {
  if (visionModels.includes(model)) return true;
  return !NOT_VISION_PATTERNS.some((p) => p.test(model)) && VISION_PATTERNS.some((p) => p.test(model));
}

const isReasoningFamily = (model) => /^(o1|o3|o4-mini)/.test(model);

function textOf(content) {
  if (typeof content === "string") return content;
  return content.filter((part) => part.type === "text").map((part) => part.text).join("");
}

function prettyObject(value) {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, "  ");
  return text.startsWith("```json") ? text : ["```json", text, "```"].join("\n");
}

function requestBody(history, model, stream, visionModels) {
  const vision = isVisionModel(model, visionModels);
  const reasoning = isReasoningFamily(model);
  const gpt5 = model.startsWith("gpt-5");
  const messages = history
    .filter((m) => !(reasoning && m.role === "system"))
    .map((m) => ({ role: m.role, content: vision ? m.content : textOf(m.content) }));
  const body = {
    messages,
    stream,
    model,
    temperature: reasoning || gpt5 ? 1 : MODEL_CONFIG.temperature,
    presence_penalty: reasoning ? 0 : MODEL_CONFIG.presence_penalty,
    frequency_penalty: reasoning ? 0 : MODEL_CONFIG.frequency_penalty,
    top_p: reasoning ? 1 : MODEL_CONFIG.top_p,
  };
  if (gpt5) {
    body.max_completion_tokens = MODEL_CONFIG.max_tokens;
  } else if (reasoning) {
    body.messages.unshift({ role: "developer", content: "Formatting re-enabled" });
    body.max_completion_tokens = MODEL_CONFIG.max_tokens;
  }
  if (vision && !reasoning && !gpt5) body.max_tokens = Math.max(MODEL_CONFIG.max_tokens, 4000);
  return body;
}

// One streamed reply, handled as NextChat's streamWithThink handles it.
function streamReply(path, body, sentHeaders, { onUpdate, onFinish, onError }) {
  const controller = new AbortController();
  let shown = "";
  let pending = "";
  let finished = false;
  let response;
  let inThinking = false;
  let lastThinking = false;
  let insideThinkTags = false;

  (function animate() {
    if (finished || controller.signal.aborted) {
      shown += pending;
      if (shown.length === 0) onError(new Error("empty response from server"));
      return;
    }
    if (pending.length > 0) {
      const count = Math.max(1, Math.round(pending.length / 60));
      shown += pending.slice(0, count);
      pending = pending.slice(count);
      onUpdate(shown);
    }
    requestAnimationFrame(animate);
  })();

  const finish = () => {
    if (finished) return;
    finished = true;
    onFinish(shown + pending, response);
  };
  controller.signal.onabort = finish;
  const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);

  fetchEventSource(path, {
    method: "POST",
    body: JSON.stringify(body),
    signal: controller.signal,
    headers: sentHeaders,
    async onopen(res) {
      clearTimeout(timeout);
      response = res;
      const type = res.headers.get("content-type");
      if (type?.startsWith("text/plain")) {
        shown = await res.clone().text();
        return finish();
      }
      if (!res.ok || !type?.startsWith(EventStreamContentType) || res.status !== 200) {
        const parts = [shown];
        let detail = await res.clone().text();
        try {
          detail = prettyObject(await res.clone().json());
        } catch {}
        if (res.status === 401) parts.push(UNAUTHORIZED_HINT);
        if (detail) parts.push(detail);
        shown = parts.join("\n\n");
        return finish();
      }
    },
    onmessage(msg) {
      if (msg.data === "[DONE]" || finished) return finish();
      if (!msg.data || msg.data.trim().length === 0) return;
      let piece;
      try {
        const choice = JSON.parse(msg.data).choices?.[0];
        if (!choice) return; // NextChat ignores events without choices
        const reasoning = choice.delta?.reasoning_content;
        piece = reasoning ? { thinking: true, text: reasoning } : { thinking: false, text: choice.delta?.content ?? "" };
      } catch (e) {
        console.error("[chat] unparsable event", msg.data, e);
        return;
      }
      if (!piece.text) return;
      if (!piece.thinking) {
        if (piece.text.startsWith("<think>")) {
          piece = { thinking: true, text: piece.text.slice(7).trim() };
          insideThinkTags = true;
        } else if (piece.text.endsWith("</think>")) {
          piece = { thinking: false, text: piece.text.slice(0, -8).trim() };
          insideThinkTags = false;
        } else if (insideThinkTags) {
          piece.thinking = true;
        }
      }
      const changed = lastThinking !== piece.thinking;
      lastThinking = piece.thinking;
      if (piece.thinking) {
        if (!inThinking || changed) {
          inThinking = true;
          if (pending.length > 0) pending += "\n";
          pending += "> " + piece.text;
        } else {
          pending += piece.text.split("\n\n").join("\n\n> ");
        }
      } else if (inThinking || changed) {
        inThinking = false;
        pending += "\n\n" + piece.text;
      } else {
        pending += piece.text;
      }
    },
    onclose() {
      finish();
    },
    onerror(e) {
      onError(e);
      throw e; // no retry, as in NextChat
    },
    openWhenHidden: true,
  }).catch(() => {});
}

function render(message) {
  if (!message.element) {
    message.element = document.createElement("article");
    message.element.className = "message";
    message.element.dataset.role = message.role;
    const content = document.createElement("div");
    content.className = "content";
    message.element.append(content);
    if (Array.isArray(message.content)) {
      for (const part of message.content.filter((p) => p.type === "image_url")) {
        const img = document.createElement("img");
        img.src = part.image_url.url;
        img.alt = "attached image";
        message.element.append(img);
      }
    }
    $("messages").append(message.element);
  }
  message.element.dataset.state = message.state;
  message.element.querySelector(".content").textContent = textOf(message.content);
  message.element.scrollIntoView({ block: "end" });
}

function trimTopic(topic) {
  return topic
    .trim()
    .replace(/^["'“”*]+|["'“”*]+$/g, "")
    .replace(/[.,!?;:。，！？]+$/, "");
}

function estimatedTokens(text) {
  let tokens = 0;
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code >= 128) tokens += 1.5;
    else tokens += code >= 65 && code <= 122 ? 0.25 : 0.5;
  }
  return tokens;
}

async function summarizeSession(config) {
  const tokens = session.messages.reduce((sum, m) => sum + estimatedTokens(textOf(m.content)), 0);
  if (session.topic !== DEFAULT_TOPIC || tokens < SUMMARIZE_MIN_TOKENS) return;
  const model = /^(gpt|chatgpt)/.test(config.model) ? SUMMARIZE_MODEL : config.model;
  const history = session.messages
    .slice(-HISTORY_MESSAGE_COUNT)
    .map(({ role, content }) => ({ role, content }))
    .concat({ role: "user", content: TOPIC_PROMPT });
  try {
    const res = await fetch(chatPath(config.endpoint), {
      method: "POST",
      body: JSON.stringify(requestBody(history, model, false, config.visionModels)),
      headers: headers(config.apiKey),
    });
    const json = await res.json();
    const message = json.error
      ? "```\n" + JSON.stringify(json, null, 4) + "\n```"
      : json.choices?.[0]?.message?.content ?? "";
    if (res.status === 200) {
      session.topic = message.length > 0 ? trimTopic(message) : DEFAULT_TOPIC;
      $("topic").textContent = session.topic;
    }
  } catch (e) {
    console.error("[chat] title request failed", e);
  }
}

function send() {
  const config = settings();
  const text = $("input").value;
  if (!text.trim() && attachedImages.length === 0) return;
  const content = attachedImages.length
    ? [
        ...(text ? [{ type: "text", text }] : []),
        ...attachedImages.map((url) => ({ type: "image_url", image_url: { url } })),
      ]
    : text;
  const history = session.messages.filter((m) => m.state !== "error").slice(-HISTORY_MESSAGE_COUNT);
  const user = { role: "user", content, state: "done" };
  const bot = { role: "assistant", content: "", state: "streaming" };
  const sent = history.map(({ role, content }) => ({ role, content })).concat({ role: "user", content });
  if (/^(gpt-|chatgpt-)/.test(config.model)) {
    sent.unshift({ role: "system", content: `You are a helpful assistant.\nCurrent model: ${config.model}` });
  }
  session.messages.push(user, bot);
  $("input").value = "";
  attachedImages = [];
  $("attachments").replaceChildren();
  render(user);
  render(bot);

  streamReply(chatPath(config.endpoint), requestBody(sent, config.model, true, config.visionModels), headers(config.apiKey), {
    onUpdate(shown) {
      bot.content = shown;
      render(bot);
    },
    onFinish(message) {
      if (bot.state === "error") return;
      bot.state = "done";
      if (message) bot.content = message;
      render(bot);
      if (message) summarizeSession(config);
    },
    onError(error) {
      bot.content += "\n\n" + prettyObject({ error: true, message: error.message });
      bot.state = "error";
      user.state = "error";
      render(bot);
    },
  });
}

// An attached image becomes a JPEG data URL drawn through a canvas, as NextChat compresses
// uploads before sending them.
async function attach(file) {
  const url = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = reject;
    reader.readAsDataURL(file);
  });
  const image = await new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = url;
  });
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext("2d").drawImage(image, 0, 0);
  const jpeg = canvas.toDataURL("image/jpeg", 0.9);
  attachedImages.push(jpeg);
  const thumb = document.createElement("img");
  thumb.src = jpeg;
  thumb.alt = "attachment";
  $("attachments").append(thumb);
}

$("send").addEventListener("click", send);
$("input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    send();
  }
});
$("image").addEventListener("change", async (e) => {
  for (const file of e.target.files) await attach(file);
  e.target.value = "";
  document.body.dataset.attachments = String(attachedImages.length);
});
document.body.dataset.ready = "true";
