//! Bounds on what one request body may cost, checked on the raw bytes before anything is parsed.
//!
//! `MAX_REQUEST_BYTES` bounds a body's size, not what parsing it costs: a body of 200,000 tiny
//! messages (8 MB) made the gateway allocate over 200 MB, as every JSON value becomes a Rust
//! value of tens to hundreds of bytes and then a Bedrock one. One pass over the bytes, which
//! allocates nothing but a stack as deep as the nesting, counts what would be built and refuses
//! the body with a 400 naming the limit and the field before any of it exists.
//!
//! The limits are far above what real clients send (long agent histories of hundreds of tool
//! results, Open WebUI's 36 tools, Codex's tool list) and far below what costs memory.
//! The scan does not validate JSON: where the bytes stop making sense it stops, and the parser
//! that follows reports the syntax error.

use crate::error::ApiError;

/// Entries of `messages`.
pub const MAX_MESSAGES: usize = 10_000;
/// Content parts (`messages[i].content` arrays), counted over all messages.
pub const MAX_CONTENT_PARTS: usize = 20_000;
/// Entries of `tools`, and of legacy `functions`.
pub const MAX_TOOLS: usize = 1_000;
/// Nesting of arrays and objects, the body's own object included.
pub const MAX_DEPTH: usize = 64;
/// Bytes of message text (string `content`, `text` and `refusal` parts, `reasoning_content`),
/// over all messages. Images, documents and audio are not text and are bounded by
/// `MAX_REQUEST_BYTES` alone.
pub const MAX_TEXT_BYTES: usize = 10_000_000;
/// JSON values of any kind (objects, arrays, strings, numbers...) in the whole body.
pub const MAX_JSON_VALUES: usize = 500_000;

/// What a container is, as far as the limits care.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Root,
    Messages,
    Message,
    Content,
    Part,
    Tools,
    Other,
}

/// One open array or object.
struct Frame {
    kind: Kind,
    is_array: bool,
    /// Array: elements seen so far. Object: unused.
    count: usize,
    /// Object: the key of the member being read (truncated; only for naming and matching).
    key: String,
    /// Object: the next string is a key.
    expect_key: bool,
}

/// Keys longer than this are not kept whole: no key the limits match is this long.
const KEY_KEEP: usize = 64;

/// Checks `body` against the limits above. Ok when within them, or when the bytes are not JSON
/// (the parser reports that).
pub fn check(body: &[u8]) -> Result<(), ApiError> {
    Scan::default().run(body)
}

#[derive(Default)]
struct Scan {
    stack: Vec<Frame>,
    values: usize,
    parts: usize,
    text: usize,
}

impl Scan {
    fn run(mut self, body: &[u8]) -> Result<(), ApiError> {
        let mut i = 0;
        while i < body.len() {
            match body[i] {
                b' ' | b'\t' | b'\n' | b'\r' | b':' => i += 1,
                b',' => {
                    if let Some(frame) = self.stack.last_mut().filter(|f| !f.is_array) {
                        frame.expect_key = true;
                    }
                    i += 1;
                }
                b'{' | b'[' => {
                    let is_array = body[i] == b'[';
                    let parent = self.value_start()?;
                    let kind = if self.stack.is_empty() {
                        Kind::Root
                    } else {
                        parent.child(is_array, self.current_key())
                    };
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(too_deep(self.path(self.stack.len())));
                    }
                    self.stack.push(Frame {
                        kind,
                        is_array,
                        count: 0,
                        key: String::new(),
                        expect_key: !is_array,
                    });
                    i += 1;
                }
                b'}' | b']' => {
                    self.stack.pop();
                    if self.stack.is_empty() {
                        return Ok(());
                    }
                    i += 1;
                }
                b'"' => {
                    let Some(end) = string_end(body, i + 1) else {
                        return Ok(());
                    };
                    let raw = &body[i + 1..end];
                    match self.stack.last_mut() {
                        Some(frame) if frame.expect_key => {
                            frame.expect_key = false;
                            frame.key = key_text(raw);
                        }
                        _ => {
                            let parent = self.value_start()?;
                            if is_text(parent, self.current_key()) {
                                self.text += raw.len();
                                if self.text > MAX_TEXT_BYTES {
                                    return Err(too_much_text(self.path(1)));
                                }
                            }
                        }
                    }
                    i = end + 1;
                }
                _ => {
                    // A number, true, false or null (or garbage the parser will name).
                    self.value_start()?;
                    if self.stack.is_empty() {
                        return Ok(());
                    }
                    while i < body.len() && !b",]} \t\n\r".contains(&body[i]) {
                        i += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Counts one value starting in the current container; returns that container's kind.
    fn value_start(&mut self) -> Result<Kind, ApiError> {
        self.values += 1;
        let Some(frame) = self.stack.last_mut() else {
            return Ok(Kind::Other);
        };
        let kind = frame.kind;
        if frame.is_array {
            frame.count += 1;
            let count = frame.count;
            if kind == Kind::Content {
                self.parts += 1;
            }
            let array_path = self.stack.len() - 1;
            match kind {
                Kind::Messages if count > MAX_MESSAGES => {
                    return Err(too_many(
                        self.path(array_path),
                        "messages",
                        MAX_MESSAGES,
                        "Send a shorter history (summarise or drop old turns).",
                    ));
                }
                Kind::Tools if count > MAX_TOOLS => {
                    return Err(too_many(
                        self.path(array_path),
                        "tools",
                        MAX_TOOLS,
                        "Offer fewer tools in one request.",
                    ));
                }
                Kind::Content if self.parts > MAX_CONTENT_PARTS => {
                    return Err(too_many(
                        self.path(array_path),
                        "content parts (counted over all messages)",
                        MAX_CONTENT_PARTS,
                        "Merge text parts or send fewer of them.",
                    ));
                }
                _ => {}
            }
        }
        if self.values > MAX_JSON_VALUES {
            return Err(too_many_values(self.path(self.stack.len())));
        }
        Ok(kind)
    }

    fn current_key(&self) -> &str {
        match self.stack.last() {
            Some(frame) if !frame.is_array => &frame.key,
            _ => "",
        }
    }

    /// The path of the value the first `depth` frames lead to, as serde_path_to_error writes
    /// it: `messages[2].content`.
    fn path(&self, depth: usize) -> String {
        let mut path = String::new();
        for frame in &self.stack[..depth] {
            if frame.is_array {
                path.push_str(&format!("[{}]", frame.count.saturating_sub(1)));
            } else {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&frame.key);
            }
        }
        path
    }
}

impl Kind {
    /// The kind of a container opened inside `self`, as its member `key` (or as an element).
    fn child(self, is_array: bool, key: &str) -> Kind {
        match (self, is_array, key) {
            (Kind::Root, true, "messages") => Kind::Messages,
            (Kind::Root, true, "tools" | "functions") => Kind::Tools,
            (Kind::Messages, false, _) => Kind::Message,
            (Kind::Message, true, "content") => Kind::Content,
            (Kind::Content, false, _) => Kind::Part,
            _ => Kind::Other,
        }
    }
}

/// Whether a string member `key` of a `parent` container is message text.
fn is_text(parent: Kind, key: &str) -> bool {
    matches!(
        (parent, key),
        (Kind::Message, "content" | "reasoning_content") | (Kind::Part, "text" | "refusal")
    )
}

/// The index of the closing quote of a string whose contents start at `from`.
fn string_end(body: &[u8], from: usize) -> Option<usize> {
    let mut j = from;
    while j < body.len() {
        match body[j] {
            b'"' => return Some(j),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
    None
}

/// A key's text for matching and naming: escapes decoded when present, long keys cut.
fn key_text(raw: &[u8]) -> String {
    let raw = &raw[..raw.len().min(KEY_KEEP * 6)];
    let text = if raw.contains(&b'\\') {
        let mut quoted = Vec::with_capacity(raw.len() + 2);
        quoted.push(b'"');
        quoted.extend_from_slice(raw);
        quoted.push(b'"');
        serde_json::from_slice::<String>(&quoted).unwrap_or_default()
    } else {
        String::from_utf8_lossy(raw).into_owned()
    };
    text.chars().take(KEY_KEEP).collect()
}

fn limit_error(param: String, message: String) -> ApiError {
    let param = if param.is_empty() {
        "body".to_string()
    } else {
        param
    };
    ApiError::invalid_param(param, message).with_code("request_too_complex")
}

fn too_many(param: String, what: &str, limit: usize, hint: &str) -> ApiError {
    limit_error(
        param.clone(),
        format!("`{param}` has more than {limit} {what}, this gateway's limit per request. {hint}"),
    )
}

fn too_deep(param: String) -> ApiError {
    limit_error(
        param.clone(),
        format!(
            "`{param}` is nested more than {MAX_DEPTH} arrays and objects deep, this gateway's limit per request. Flatten it."
        ),
    )
}

fn too_much_text(param: String) -> ApiError {
    limit_error(
        param,
        format!(
            "The messages hold more than {MAX_TEXT_BYTES} bytes of text, this gateway's limit per request. Send a shorter history."
        ),
    )
}

fn too_many_values(param: String) -> ApiError {
    limit_error(
        param.clone(),
        format!(
            "The request body holds more than {MAX_JSON_VALUES} JSON values (reached at `{param}`), this gateway's limit per request. Send a smaller request."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(messages: usize, extra: &str) -> String {
        let one = r#"{"role":"user","content":"x"}"#;
        let list = vec![one; messages].join(",");
        format!(r#"{{"model":"m","messages":[{list}]{extra}}}"#)
    }

    #[test]
    fn counts_messages_and_names_the_field() {
        assert!(check(chat(MAX_MESSAGES, "").as_bytes()).is_ok());
        let err = check(chat(MAX_MESSAGES + 1, "").as_bytes()).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages"));
        assert!(err.message.contains("10000 messages"), "{}", err.message);
    }

    #[test]
    fn counts_parts_over_all_messages() {
        let parts = vec![r#"{"type":"text","text":"a"}"#; 10_001].join(",");
        let message = format!(r#"{{"role":"user","content":[{parts}]}}"#);
        let body = format!(r#"{{"model":"m","messages":[{message},{message}]}}"#);
        let err = check(body.as_bytes()).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages[1].content"));
    }

    #[test]
    fn depth_names_the_deep_value() {
        let deep = "[".repeat(70) + &"]".repeat(70);
        let body = format!(
            r#"{{"model":"m","messages":[],"tools":[{{"function":{{"parameters":{deep}}}}}]}}"#
        );
        let err = check(body.as_bytes()).unwrap_err();
        let param = err.param.unwrap();
        assert!(
            param.starts_with("tools[0].function.parameters[0][0]"),
            "{param}"
        );
        // Depth counts the body itself: 64 levels pass, 65 do not.
        let ok = "[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1);
        assert!(check(format!(r#"{{"a":{ok}}}"#).as_bytes()).is_ok());
        let bad = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(check(format!(r#"{{"a":{bad}}}"#).as_bytes()).is_err());
    }

    #[test]
    fn text_counts_message_text_only() {
        let big = "y".repeat(MAX_TEXT_BYTES / 2 + 1);
        let text_msg = format!(r#"{{"role":"user","content":"{big}"}}"#);
        let err =
            check(format!(r#"{{"messages":[{text_msg},{text_msg}]}}"#).as_bytes()).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages"));
        let image = format!(
            r#"{{"role":"user","content":[{{"type":"image_url","image_url":{{"url":"{big}"}}}}]}}"#
        );
        assert!(check(format!(r#"{{"messages":[{image},{image}]}}"#).as_bytes()).is_ok());
    }

    #[test]
    fn keys_with_escapes_and_strings_with_brackets() {
        let body = r#"{"messa\u0067es":[{"role":"user","content":"]}{[\"]"}],"x":"\\"}"#;
        assert!(check(body.as_bytes()).is_ok());
        let many = chat(MAX_MESSAGES + 1, "").replacen("\"messages\"", r#""messa\u0067es""#, 1);
        assert!(check(many.as_bytes()).is_err());
    }

    #[test]
    fn values_are_counted_everywhere() {
        let numbers = vec!["1"; MAX_JSON_VALUES].join(",");
        let body = format!(r#"{{"additionalModelRequestFields":{{"a":[{numbers}]}}}}"#);
        let err = check(body.as_bytes()).unwrap_err();
        assert!(
            err.param
                .as_deref()
                .unwrap()
                .starts_with("additionalModelRequestFields.a["),
            "{:?}",
            err.param
        );
    }

    #[test]
    fn garbage_is_left_to_the_parser() {
        for body in ["{", "{\"a\":\"", "{]]]]", "nul", "{\"a\" 1 2 3}", "[[[["] {
            assert!(check(body.as_bytes()).is_ok(), "{body}");
        }
    }
}
