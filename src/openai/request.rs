//! Parsing a request body into an OpenAI type, with errors that name the offending field.
//!
//! serde's own messages say "invalid type at line 1 column 57"; a client wants to know that
//! `messages[2].content` is wrong. `serde_path_to_error` tracks the path while parsing.

use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Parses `body` as JSON into `T`, turning any failure into a 400 that names the field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_request(
            "The request body is empty. Send a JSON object with `model` and `messages`.",
        ));
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::invalid_request(
            "The request body must be a JSON object, like {\"model\": ..., \"messages\": [...]}.",
        ));
    }
    crate::memory::note_body(body.len());
    super::limits::check(body)?;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::invalid_request(format!(
                "The request body is not valid JSON ({inner}). Send a JSON object."
            ));
        }
        // serde appends "at line X column Y"; the field path says more to a client.
        let detail = strip_position(&inner.to_string());
        // A missing field is reported at its parent object: name the field itself.
        if let Some(field) = missing_field(&detail) {
            let param = if path == "." {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
            return ApiError::invalid_param(
                param.clone(),
                format!("Invalid request: missing field `{param}`."),
            );
        }
        if path == "." {
            ApiError::invalid_request(format!("Invalid request body: {detail}."))
        } else {
            ApiError::invalid_param(
                path.clone(),
                format!("Invalid value for `{path}`: {detail}."),
            )
        }
    })?;
    // Text after the object (`{...} xyz`) is refused, as every strict JSON parser would.
    deserializer.end().map_err(|err| {
        ApiError::invalid_request(format!(
            "The request body has text after its JSON object ({}). Send one JSON object only.",
            strip_position(&err.to_string())
        ))
    })?;
    Ok(value)
}

/// The field name in serde's "missing field `name`".
fn missing_field(detail: &str) -> Option<&str> {
    detail.strip_prefix("missing field `")?.strip_suffix('`')
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(pos) => message[..pos].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Sample {
        model: String,
        items: Vec<Item>,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    #[test]
    fn names_the_nested_field() {
        let err =
            parse_json::<Sample>(br#"{"model":"m","items":[{"n":1},{"n":"x"}]}"#).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("items[1].n"));
        assert!(err.message.contains("invalid type"), "{}", err.message);
        assert!(!err.message.contains("line 1"), "{}", err.message);
    }

    #[test]
    fn missing_field_and_bad_json() {
        let err = parse_json::<Sample>(br#"{"items":[]}"#).unwrap_err();
        assert_eq!(err.message, "Invalid request: missing field `model`.");
        assert_eq!(err.param.as_deref(), Some("model"));
        let err = parse_json::<Sample>(br#"{"model":"m","items":[{"n":1},{}]}"#).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("items[1].n"));
        let err = parse_json::<Sample>(b"[1,2]").unwrap_err();
        assert!(
            err.message.contains("must be a JSON object"),
            "{}",
            err.message
        );
        let err = parse_json::<Sample>(b"{not json").unwrap_err();
        assert!(err.message.contains("not valid JSON"), "{}", err.message);
        let err = parse_json::<Sample>(b"  ").unwrap_err();
        assert!(err.message.contains("empty"));
    }

    #[test]
    fn text_after_the_object_is_refused() {
        let ok = parse_json::<Sample>(b"{\"model\":\"m\",\"items\":[]} \r\n\t ");
        assert!(ok.is_ok());
        for body in [
            &b"{\"model\":\"m\",\"items\":[]} xyz"[..],
            b"{\"model\":\"m\",\"items\":[]}{}",
            b"{\"model\":\"m\",\"items\":[]}]",
        ] {
            let err = parse_json::<Sample>(body).unwrap_err();
            assert!(err.message.contains("text after"), "{}", err.message);
            assert_eq!(err.status, 400);
        }
    }
}
