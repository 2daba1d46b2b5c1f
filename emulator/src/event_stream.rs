//! The `application/vnd.amazon.eventstream` framing ConverseStream answers
//! in: event frames, exception frames, and cutting frames into small pieces
//! on the wire so clients must reassemble partial frames.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use serde_json::Value;

use crate::error::ErrorKind;

/// Content type of an event-stream response body.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// Largest piece a frame is cut into when fragmentation is on. Deliberately
/// odd and small so frame boundaries never line up with piece boundaries.
pub const FRAGMENT_SIZE: usize = 37;

/// Exceptions ConverseStream can raise after the stream has started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamException {
    Throttling,
    ModelStreamError,
    InternalServer,
    ServiceUnavailable,
    Validation,
}

impl StreamException {
    /// The `:exception-type` header value (camel case, unlike HTTP errors).
    pub fn event_name(self) -> &'static str {
        match self {
            StreamException::Throttling => "throttlingException",
            StreamException::ModelStreamError => "modelStreamErrorException",
            StreamException::InternalServer => "internalServerException",
            StreamException::ServiceUnavailable => "serviceUnavailableException",
            StreamException::Validation => "validationException",
        }
    }

    /// What Converse (which cannot fail half-way) reports instead.
    pub fn as_http_error(self) -> ErrorKind {
        match self {
            StreamException::Throttling => ErrorKind::Throttling,
            StreamException::ModelStreamError => ErrorKind::ModelError,
            StreamException::InternalServer => ErrorKind::InternalServer,
            StreamException::ServiceUnavailable => ErrorKind::ServiceUnavailable,
            StreamException::Validation => ErrorKind::Validation,
        }
    }
}

fn string_header(name: &'static str, value: &str) -> Header {
    Header::new(name, HeaderValue::String(value.to_string().into()))
}

fn encode(message: &Message) -> Bytes {
    let mut buffer = Vec::new();
    // Encoding only fails for headers or payloads beyond the format's
    // limits (16 MB), which the emulator never produces; an empty frame is
    // a safe answer if it ever did.
    if write_message_to(message, &mut buffer).is_err() {
        buffer.clear();
    }
    Bytes::from(buffer)
}

/// An event frame: `:event-type` names the ConverseStream event.
pub fn event_frame(event_type: &str, payload: &Value) -> Bytes {
    let message = Message::new(Bytes::from(payload.to_string()))
        .add_header(string_header(":message-type", "event"))
        .add_header(string_header(":event-type", event_type))
        .add_header(string_header(":content-type", "application/json"));
    encode(&message)
}

/// An exception frame; the stream ends after it.
pub fn exception_frame(exception: StreamException, message: &str) -> Bytes {
    let payload = serde_json::json!({ "message": message }).to_string();
    let message = Message::new(Bytes::from(payload))
        .add_header(string_header(":message-type", "exception"))
        .add_header(string_header(":exception-type", exception.event_name()))
        .add_header(string_header(":content-type", "application/json"));
    encode(&message)
}

/// The pieces a frame is written to the body in.
pub fn wire_pieces(frame: Bytes, fragment: bool) -> Vec<Bytes> {
    if !fragment {
        return vec![frame];
    }
    (0..frame.len())
        .step_by(FRAGMENT_SIZE)
        .map(|start| frame.slice(start..(start + FRAGMENT_SIZE).min(frame.len())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::read_message_from;

    #[test]
    fn frames_decode_with_the_sdk_reader() {
        let frame = event_frame("messageStart", &serde_json::json!({"role": "assistant"}));
        let mut buffer = frame.clone();
        let message = read_message_from(&mut buffer).unwrap();
        assert_eq!(&message.payload()[..], br#"{"role":"assistant"}"#);
        let event_type = message
            .headers()
            .iter()
            .find(|header| header.name().as_str() == ":event-type")
            .unwrap();
        assert_eq!(
            event_type.value().as_string().unwrap().as_str(),
            "messageStart"
        );
    }

    #[test]
    fn fragments_reassemble_and_respect_the_size() {
        let frame = exception_frame(StreamException::Throttling, "slow down");
        let pieces = wire_pieces(frame.clone(), true);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|piece| piece.len() <= FRAGMENT_SIZE));
        assert_eq!(pieces.concat(), frame.to_vec());
        assert_eq!(wire_pieces(frame.clone(), false), vec![frame]);
    }
}
