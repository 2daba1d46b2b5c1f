//! Stored Responses end to end: the real `bedrock-gateway` binary with `RESPONSES_TABLE` and
//! `AWS_ENDPOINT_URL_DYNAMODB` set, as on Lambda, over the Bedrock emulator, storing into a
//! DynamoDB table in moto (tests/it/support/responses_table.rs).

use crate::support::gateway_process::GatewayProcess;
use crate::support::responses_table::{incompressible_image, n, new_table, raw_item};
use reqwest::Method;
use serde_json::{Value, json};

/// The real `bedrock-gateway` binary in front of its own emulator, storing into `table`.
struct Gateway(GatewayProcess);

impl Gateway {
    async fn start(table: &str, dynamodb_url: &str) -> Gateway {
        Gateway(
            GatewayProcess::start(&[
                ("API_KEY", crate::support::KEY),
                ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_url),
                ("RESPONSES_TABLE", table),
                ("RUST_LOG", "warn"),
            ])
            .await,
        )
    }

    /// (status, JSON) of `method` on `/api/v1/responses{path}`.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .0
            .http
            .request(method, format!("{}/api/v1/responses{path}", self.0.url))
            .bearer_auth(crate::support::KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the gateway answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn output_text(response: &Value) -> String {
    response["output"]
        .as_array()
        .unwrap_or_else(|| panic!("no output: {response}"))
        .iter()
        .filter(|item| item["type"] == "message")
        .flat_map(|item| item["content"].as_array().unwrap().iter())
        .filter_map(|part| part["text"].as_str())
        .collect()
}

#[tokio::test]
async fn the_gateway_stores_continues_and_retrieves_through_dynamodb() {
    let (table, client) = new_table().await;
    let gw = Gateway::start(&table, &crate::support::moto::shared().url).await;

    // Stored by default (`store` is true unless the client says otherwise).
    let (status, first) = gw
        .call(
            Method::POST,
            "",
            Some(json!({"model": crate::support::MODEL, "input": "my name is Ann"})),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    let id = first["id"].as_str().unwrap().to_string();
    assert!(
        raw_item(&client, &table, &id).await.is_some(),
        "{id} is in the DynamoDB table, not only in memory"
    );

    // A second request continues it: Bedrock receives the stored turn before the new one.
    let (status, second) = gw
        .call(
            Method::POST,
            "",
            Some(json!({"model": crate::support::MODEL, "previous_response_id": id, "input": "[[echo:request]]"})),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["previous_response_id"], id.as_str());
    let sent: Value = serde_json::from_str(&output_text(&second)).unwrap();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{sent}");
    assert_eq!(messages[0]["content"][0]["text"], "my name is Ann");
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(
        messages[1]["content"][0]["text"],
        output_text(&first).as_str()
    );

    let (status, retrieved) = gw.call(Method::GET, &format!("/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(retrieved, first);
    let (status, items) = gw
        .call(Method::GET, &format!("/{id}/input_items"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(items["data"][0]["content"][0]["text"], "my name is Ann");

    // `store: false` writes nothing to the table.
    let (status, unstored) = gw
        .call(
            Method::POST,
            "",
            Some(json!({"model": crate::support::MODEL, "input": "forget me", "store": false})),
        )
        .await;
    assert_eq!(status, 200);
    let unstored_id = unstored["id"].as_str().unwrap();
    assert!(raw_item(&client, &table, unstored_id).await.is_none());

    let (status, _) = gw.call(Method::DELETE, &format!("/{id}"), None).await;
    assert_eq!(status, 200);
    assert!(raw_item(&client, &table, &id).await.is_none());
    let (status, err) = gw
        .call(
            Method::POST,
            "",
            Some(json!({"model": crate::support::MODEL, "previous_response_id": id, "input": "x"})),
        )
        .await;
    assert_eq!(status, 404, "{err}");
    assert_eq!(err["error"]["param"], "previous_response_id");
}

#[tokio::test]
async fn a_conversation_over_400_kb_continues_through_the_gateway() {
    let (table, client) = new_table().await;
    let gw = Gateway::start(&table, &crate::support::moto::shared().url).await;
    // 600 KB of text that does not compress: a pasted log, say.
    let paste = incompressible_image(450 * 1024);
    let (status, first) = gw
        .call(
            Method::POST,
            "",
            Some(json!({"model": crate::support::MODEL, "input": format!("summarise {paste}")})),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    let id = first["id"].as_str().unwrap().to_string();
    let manifest = raw_item(&client, &table, &id).await.expect("stored");
    assert!(n(&manifest, "parts") >= 2, "{:?}", manifest.keys());

    let (status, second) = gw
        .call(
            Method::POST,
            "",
            Some(json!({"model": crate::support::MODEL, "previous_response_id": id, "input": "[[echo:request]]"})),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    let sent: Value = serde_json::from_str(&output_text(&second)).unwrap();
    let first_text = sent["messages"][0]["content"][0]["text"].as_str().unwrap();
    assert_eq!(first_text.len(), "summarise ".len() + paste.len());
}
