//! What a key store holds, read into a [`KeySet`]: a plain list of keys (`a,b` or one per
//! line; in Secrets Manager also `{"api_key": ...}`), or a key document of named keys:
//!
//! ```json
//! {"keys": [
//!   {"name": "team-a", "sha256": "<64 hex digits>", "models": ["us.anthropic.*"],
//!    "rpm": 60, "tpm": 100000, "tokens_per_day": 2000000, "max_tokens": 4096,
//!    "default_model": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
//!    "aliases": {"fast": "us.amazon.nova-micro-v1:0"}, "expires": "2027-01-01T00:00:00Z"},
//!   {"name": "ops", "key": "sk-...", "admin": true}
//! ]}
//! ```
//!
//! A document is checked whole, field by field, by hand rather than through serde: every
//! problem is named with its place (`keys[1] ("ops").rpm`), and no message ever repeats a value
//! from the document, since a key pasted into the wrong field must not reach a log. Unknown
//! fields are refused (a misspelt `modles` must not silently open every model).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::key::{ApiKey, KeySet, Limits, digest};

/// The fields a key may have.
const FIELDS: &[&str] = &[
    "name",
    "key",
    "sha256",
    "models",
    "default_model",
    "aliases",
    "rpm",
    "tpm",
    "tokens_per_day",
    "max_tokens",
    "expires",
    "admin",
];

/// The keys in a stored value, or what is wrong with it (one line, no secrets).
pub fn parse_keys(text: &str) -> Result<KeySet, String> {
    let trimmed = text.trim();
    if !trimmed.starts_with('{') && !trimmed.starts_with('[') {
        return plain(split_keys(trimmed));
    }
    let value: Value = serde_json::from_str(trimmed).map_err(|e| {
        // serde_json's syntax errors give a position and never quote the input.
        format!("the key store holds JSON that does not parse ({e})")
    })?;
    let Value::Object(map) = value else {
        return Err("a key document must be a JSON object: {\"keys\": [...]}".into());
    };
    if let Some(keys) = map.get("keys") {
        if let Some(other) = map.keys().find(|k| *k != "keys") {
            return Err(format!(
                "unknown field `{other}` beside `keys` in the key document"
            ));
        }
        return document(keys);
    }
    match map.get("api_key").or_else(|| map.get("api_keys")) {
        Some(Value::String(s)) => plain(split_keys(s)),
        Some(Value::Array(items)) => plain(
            items
                .iter()
                .filter_map(|v| v.as_str())
                .flat_map(split_keys)
                .collect(),
        ),
        _ => Err(
            "a JSON key store must hold {\"keys\": [...]} (named keys) or {\"api_key\": \"...\"}"
                .into(),
        ),
    }
}

/// Keys in a stored value: a StringList (`a,b`) or one key per line.
pub fn split_keys(value: &str) -> Vec<String> {
    value
        .split([',', '\n'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

fn plain(keys: Vec<String>) -> Result<KeySet, String> {
    if keys.is_empty() {
        return Err("the key store holds no key".into());
    }
    Ok(KeySet::new(keys.iter().map(|k| ApiKey::plain(k)).collect()))
}

fn document(keys: &Value) -> Result<KeySet, String> {
    let Value::Array(entries) = keys else {
        return Err("`keys` must be a list of keys".into());
    };
    if entries.is_empty() {
        return Err("`keys` is empty: the document must hold at least one key".into());
    }
    let mut names = HashSet::new();
    let mut digests = HashSet::new();
    let mut parsed = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let key = entry_key(index, entry)?;
        let place = format!("keys[{index}] (\"{}\")", key.name);
        if !names.insert(key.name.clone()) {
            return Err(format!("{place}: the name is used by another key"));
        }
        if !digests.insert(key.digest) {
            return Err(format!("{place}: the same key is listed twice"));
        }
        parsed.push(key);
    }
    Ok(KeySet::new(parsed))
}

fn entry_key(index: usize, entry: &Value) -> Result<ApiKey, String> {
    let Value::Object(fields) = entry else {
        return Err(format!("keys[{index}] must be an object"));
    };
    let name = match fields.get("name") {
        Some(Value::String(name)) if valid_name(name) => name.clone(),
        Some(Value::String(_)) => {
            return Err(format!(
                "keys[{index}].name must be 1 to 64 letters, digits, `.`, `_` or `-`"
            ));
        }
        _ => return Err(format!("keys[{index}] needs a `name` (a string)")),
    };
    let place = format!("keys[{index}] (\"{name}\")");
    let field = Field {
        fields,
        place: &place,
    };
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "{place}: unknown field `{unknown}` (known: {})",
            FIELDS.join(", ")
        ));
    }
    let digest = match (fields.get("key"), fields.get("sha256")) {
        (Some(_), Some(_)) => return Err(format!("{place}: give `key` or `sha256`, not both")),
        (None, None) => return Err(format!("{place}: needs `key` or `sha256`")),
        (Some(Value::String(key)), None) if !key.trim().is_empty() && key.trim() == key => {
            digest(key)
        }
        (Some(_), None) => {
            return Err(format!(
                "{place}.key must be a non-empty string without surrounding spaces"
            ));
        }
        (None, Some(Value::String(hex))) => parse_hex_digest(hex).ok_or_else(|| {
            format!("{place}.sha256 must be 64 hex digits (the SHA-256 of the key)")
        })?,
        (None, Some(_)) => return Err(format!("{place}.sha256 must be a string")),
    };
    let models = match fields.get("models") {
        None => None,
        Some(Value::Array(items)) if !items.is_empty() => Some(
            items
                .iter()
                .map(|m| match m {
                    Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                    _ => Err(format!(
                        "{place}.models must hold model ids or patterns (non-empty strings)"
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => {
            return Err(format!(
                "{place}.models must be a non-empty list of model ids or patterns (omit it for every model)"
            ));
        }
    };
    let aliases = match fields.get("aliases") {
        None => HashMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(alias, target)| match target {
                Value::String(id) if !id.trim().is_empty() => {
                    Ok((alias.clone(), id.trim().to_string()))
                }
                _ => Err(format!(
                    "{place}.aliases.{alias} must be a model id (a non-empty string)"
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(format!(
                "{place}.aliases must be an object of name -> model id"
            ));
        }
    };
    let (expires, expires_text) = match fields.get("expires") {
        None => (None, None),
        Some(Value::String(text)) => {
            let at = aws_smithy_types::DateTime::from_str(
                text,
                aws_smithy_types::date_time::Format::DateTimeWithOffset,
            )
            .map_err(|_| {
                format!("{place}.expires must be an RFC 3339 time such as 2027-01-31T00:00:00Z")
            })?;
            (Some(at.secs()), Some(text.clone()))
        }
        Some(_) => {
            return Err(format!(
                "{place}.expires must be an RFC 3339 time such as 2027-01-31T00:00:00Z"
            ));
        }
    };
    Ok(ApiKey {
        name: name.clone(),
        digest,
        models,
        default_model: field.string("default_model")?,
        aliases,
        limits: Limits {
            rpm: field.positive("rpm")?,
            tpm: field.positive("tpm")?,
            tokens_per_day: field.positive("tokens_per_day")?,
        },
        max_tokens: field
            .positive("max_tokens")?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        expires,
        expires_text,
        admin: match fields.get("admin") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(format!("{place}.admin must be true or false")),
        },
    })
}

/// Typed reads of one key's optional fields, with errors naming the place.
struct Field<'a> {
    fields: &'a Map<String, Value>,
    place: &'a str,
}

impl Field<'_> {
    fn positive(&self, name: &str) -> Result<Option<u64>, String> {
        match self.fields.get(name) {
            None => Ok(None),
            Some(value) => match value.as_u64() {
                Some(n) if n >= 1 => Ok(Some(n)),
                _ => Err(format!(
                    "{}.{name} must be a whole number of at least 1 (omit it for no limit)",
                    self.place
                )),
            },
        }
    }

    fn string(&self, name: &str) -> Result<Option<String>, String> {
        match self.fields.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            Some(_) => Err(format!("{}.{name} must be a non-empty string", self.place)),
        }
    }
}

/// Names go into logs, metric dimensions and the quota table's keys (`#` separates parts).
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn parse_hex_digest(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::key::hex;
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<KeySet, String> {
        parse_keys(&value.to_string())
    }

    #[test]
    fn plain_lists() {
        assert_eq!(parse_keys("a, b\nc\n").unwrap().len(), 3);
        assert_eq!(parse_keys(r#"{"api_key":"k1"}"#).unwrap().len(), 1);
        assert_eq!(parse_keys(r#"{"api_keys":["k1","k2"]}"#).unwrap().len(), 2);
        assert!(parse_keys("  \n").is_err());
        assert!(parse_keys(r#"{"other":1}"#).is_err());
    }

    #[test]
    fn a_document_with_every_field() {
        let set = parse(json!({"keys": [
            {"name": "team-a", "key": "sk-a", "models": ["us.anthropic.*"], "rpm": 60,
             "tpm": 1000, "tokens_per_day": 5000, "max_tokens": 256,
             "default_model": "us.anthropic.claude", "aliases": {"fast": "us.amazon.nova-micro-v1:0"},
             "expires": "2030-01-01T00:00:00+01:00", "admin": true},
            {"name": "hashed", "sha256": hex(&digest("sk-b")).to_uppercase()},
        ]}))
        .unwrap();
        let a = set.find(&digest("sk-a")).unwrap();
        assert_eq!(a.name, "team-a");
        assert!(a.allows("us.anthropic.claude") && !a.allows("amazon.nova"));
        assert_eq!(a.limits.rpm, Some(60));
        assert_eq!(a.limits.tokens_per_day, Some(5000));
        assert_eq!(a.max_tokens, Some(256));
        assert_eq!(a.expires, Some(1_893_452_400));
        assert!(a.admin);
        assert_eq!(a.aliases["fast"], "us.amazon.nova-micro-v1:0");
        let b = set.find(&digest("sk-b")).unwrap();
        assert_eq!(b.name, "hashed");
        assert!(!b.admin && b.models.is_none() && !b.limits.any());
    }

    #[test]
    fn bad_documents_name_the_problem_and_never_a_value() {
        let cases = [
            (json!({"keys": []}), "is empty"),
            (json!({"keys": {}}), "must be a list"),
            (json!({"keys": [{"key": "sk-secret"}]}), "needs a `name`"),
            (
                json!({"keys": [{"name": "a b", "key": "sk-secret"}]}),
                "letters, digits",
            ),
            (json!({"keys": [{"name": "a"}]}), "needs `key` or `sha256`"),
            (
                json!({"keys": [{"name": "a", "key": "sk-secret", "sha256": "00"}]}),
                "not both",
            ),
            (
                json!({"keys": [{"name": "a", "sha256": "sk-secret"}]}),
                "64 hex digits",
            ),
            (
                json!({"keys": [{"name": "a", "key": "sk-secret", "rpm": 0}]}),
                "keys[0] (\"a\").rpm must be",
            ),
            (
                json!({"keys": [{"name": "a", "key": "k", "tpm": "sk-secret"}]}),
                ".tpm must be",
            ),
            (
                json!({"keys": [{"name": "a", "key": "k", "models": []}]}),
                "non-empty list",
            ),
            (
                json!({"keys": [{"name": "a", "key": "k", "modles": ["x"]}]}),
                "unknown field `modles`",
            ),
            (
                json!({"keys": [{"name": "a", "key": "k", "expires": "sk-secret"}]}),
                "RFC 3339",
            ),
            (
                json!({"keys": [{"name": "a", "key": "k", "admin": "sk-secret"}]}),
                "true or false",
            ),
            (
                json!({"keys": [{"name": "a", "key": "k"}, {"name": "a", "key": "j"}]}),
                "name is used",
            ),
            (
                json!({"keys": [{"name": "a", "key": "k"}, {"name": "b", "key": "k"}]}),
                "listed twice",
            ),
            (json!({"keys": [], "extra": 1}), "unknown field `extra`"),
            (json!([1]), "JSON object"),
        ];
        for (doc, expected) in cases {
            let err = parse(doc.clone()).unwrap_err();
            assert!(err.contains(expected), "{doc}: {err}");
            assert!(!err.contains("sk-secret"), "{doc}: {err}");
        }
        let err = parse_keys("{\"keys\": [sk-secret").unwrap_err();
        assert!(
            err.contains("does not parse") && !err.contains("sk-secret"),
            "{err}"
        );
    }
}
