//! Stored conversations: what `previous_response_id` continues, `item_reference`s, and the ids
//! input items get so that `GET /responses/{id}/input_items` can list them.

use serde_json::Value;

use crate::error::ApiError;
use crate::responses::store::ResponseStore;

/// The 404 for an id this gateway has not stored (never stored, deleted, evicted, or another
/// service's), in OpenAI's shape.
pub fn not_found(id: &str, param: Option<&str>) -> ApiError {
    let err = ApiError::not_found(format!("Response with id '{id}' not found."));
    match param {
        Some(p) => err.with_param(p).with_code("previous_response_not_found"),
        None => err,
    }
}

/// The conversation a `previous_response_id` continues.
pub async fn previous(store: &dyn ResponseStore, id: &str) -> Result<Vec<Value>, ApiError> {
    match store.get(id).await? {
        Some(stored) => Ok(stored.conversation),
        None => Err(not_found(id, Some("previous_response_id"))),
    }
}

fn prefix(kind: &str) -> &'static str {
    match kind {
        "message" => "msg",
        "function_call" => "fc",
        "function_call_output" => "fco",
        "custom_tool_call" => "ctc",
        "custom_tool_call_output" => "ctco",
        "reasoning" => "rs",
        _ => "item",
    }
}

/// Gives every input item an id (clients may send their own) and resolves `item_reference`s
/// against the earlier conversation.
pub fn prepare_input(
    items: Vec<Value>,
    earlier: &[Value],
    base: &str,
) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(items.len());
    for (i, mut item) in items.into_iter().enumerate() {
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(if item.get("role").is_some() {
                "message"
            } else {
                ""
            })
            .to_string();
        if kind == "item_reference" {
            let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
            let found = earlier
                .iter()
                .find(|e| e.get("id").and_then(Value::as_str) == Some(id));
            match found {
                Some(found) => {
                    out.push(found.clone());
                    continue;
                }
                None => {
                    return Err(ApiError::not_found(format!(
                        "Item with id '{id}' not found in the conversation of `previous_response_id`."
                    ))
                    .with_param(format!("input[{i}].id")));
                }
            }
        }
        if let Some(obj) = item.as_object_mut() {
            obj.entry("type")
                .or_insert_with(|| Value::String(kind.clone()));
            if !obj.get("id").is_some_and(Value::is_string) {
                obj.insert(
                    "id".into(),
                    Value::String(format!("{}_{base}{i:03}", prefix(&kind))),
                );
            }
        }
        out.push(item);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_references() {
        let earlier = vec![json!({"id":"msg_old","type":"message","role":"user","content":"a"})];
        let items = prepare_input(
            vec![
                json!({"role":"user","content":"b"}),
                json!({"type":"item_reference","id":"msg_old"}),
            ],
            &earlier,
            "x",
        )
        .unwrap();
        assert_eq!(items[0]["id"], "msg_x000");
        assert_eq!(items[0]["type"], "message");
        assert_eq!(items[1], earlier[0]);
        let err = prepare_input(
            vec![json!({"type":"item_reference","id":"nope"})],
            &earlier,
            "x",
        )
        .unwrap_err();
        assert_eq!(err.status.as_u16(), 404);
        assert_eq!(err.param.as_deref(), Some("input[0].id"));
    }
}
