//! The DynamoDB response store against a real DynamoDB API on loopback: moto's server, spoken
//! to by the real aws-sdk-dynamodb client, exactly as the gateway does on Lambda.
//!
//! Each test makes its own table in the shared moto. moto enforces DynamoDB's 400 KB item limit
//! (checked below), so the large-response tests prove the split, not just the round trip.
//! The gateway end to end over the same table: tests/it/responses_store_gateway.rs.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::responses_table::{Item, incompressible_image, n, new_table, raw_item};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use bedrock_gateway::responses::store::dynamo::{DynamoStore, EXPIRES_AT};
use bedrock_gateway::responses::store::{ResponseStore, StoredResponse};
use serde_json::{Value, json};

const DAY: i64 = 86_400;

fn store(table: &str, ttl_days: u32) -> DynamoStore {
    DynamoStore::new(
        &crate::support::sdk_config(&crate::support::moto::shared().url),
        table,
        ttl_days,
    )
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A stored response whose assistant text is `text` and whose conversation holds `image`
/// (a data URL) when given.
fn response(id: &str, text: &str, image: Option<&str>) -> StoredResponse {
    let mut user = json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "describe"}]});
    if let Some(url) = image {
        user["content"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "input_image", "image_url": url}));
    }
    let output = json!({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}]});
    StoredResponse {
        id: id.to_string(),
        created_at: now(),
        response: json!({"id": id, "object": "response", "status": "completed", "output": [output.clone()]}),
        input_items: vec![user.clone()],
        conversation: vec![user, output],
    }
}

/// DynamoDB's size of an item: attribute names plus values (binary and string lengths; a
/// number's digits are an upper bound of its size).
fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::B(b) => b.as_ref().len(),
                    AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
                    other => panic!("unexpected attribute {other:?}"),
                }
        })
        .sum()
}

#[tokio::test]
async fn put_get_delete_round_trip_with_the_ttl_attribute() {
    let (table, client) = new_table().await;
    let store = store(&table, 7);
    let original = response("resp_roundtrip", "Hello there.", None);
    store.put(original.clone()).await.expect("stored");

    assert_eq!(store.get("resp_roundtrip").await.unwrap(), Some(original));

    let item = raw_item(&client, &table, "resp_roundtrip").await.unwrap();
    assert_eq!(item["kind"].as_s().unwrap(), "response");
    assert_eq!(item["format"].as_s().unwrap(), "json+deflate/1");
    assert!(item["body"].as_b().is_ok(), "inline body: {item:?}");
    assert!(!item.contains_key("parts"));
    let expires_at = n(&item, EXPIRES_AT);
    let expected = now() + 7 * DAY;
    assert!(
        (expected - 60..=expected + 1).contains(&expires_at),
        "expires_at {expires_at}, expected about {expected}"
    );
    // Nothing of the conversation is readable in the item: it is compressed.
    let body = item["body"].as_b().unwrap().as_ref();
    assert!(!body.windows(12).any(|w| w == b"Hello there."));

    assert!(store.delete("resp_roundtrip").await.unwrap());
    assert_eq!(store.get("resp_roundtrip").await.unwrap(), None);
    assert!(raw_item(&client, &table, "resp_roundtrip").await.is_none());
    assert!(!store.delete("resp_roundtrip").await.unwrap());
}

#[tokio::test]
async fn the_default_ttl_is_thirty_days() {
    let (table, client) = new_table().await;
    let config =
        bedrock_gateway::config::Config::from_lookup(|k| (k == "API_KEY").then(|| "k".to_string()))
            .unwrap();
    let store = store(&table, config.responses_ttl_days);
    store.put(response("resp_ttl", "ok", None)).await.unwrap();
    let item = raw_item(&client, &table, "resp_ttl").await.unwrap();
    let expected = now() + 30 * DAY;
    assert!((expected - 60..=expected + 1).contains(&n(&item, EXPIRES_AT)));
}

#[tokio::test]
async fn moto_refuses_items_over_400_kb_as_dynamodb_does() {
    // Without this the split test below could pass against a table that takes anything.
    let (table, client) = new_table().await;
    let err = client
        .put_item()
        .table_name(&table)
        .item("id", AttributeValue::S("too-big".into()))
        .item("body", AttributeValue::B(Blob::new(vec![7u8; 410 * 1024])))
        .send()
        .await
        .expect_err("a 410 KB item is refused");
    let text = format!(
        "{}",
        aws_smithy_types::error::display::DisplayErrorContext(&err)
    );
    assert!(text.contains("ValidationException"), "{text}");
}

#[tokio::test]
async fn a_one_megabyte_response_is_compressed_split_and_joined_back() {
    let (table, client) = new_table().await;
    let store = store(&table, 30);
    let image = incompressible_image(768 * 1024); // ~1 MB of base64, as an image would be
    let original = response("resp_big", "A picture of noise.", Some(&image));
    let json_len = serde_json::to_vec(&original).unwrap().len();
    assert!(json_len > 1_000_000, "{json_len}");
    store
        .put(original.clone())
        .await
        .expect("a 1 MB response is stored");

    let manifest = raw_item(&client, &table, "resp_big").await.unwrap();
    assert!(!manifest.contains_key("body"));
    let parts = n(&manifest, "parts");
    assert!(parts >= 2, "{parts} parts");
    let size = n(&manifest, "size") as usize;
    assert!(size < json_len, "compressed {size} of {json_len}");
    let mut total = 0;
    for index in 0..parts {
        let part = raw_item(&client, &table, &format!("resp_big#{index}"))
            .await
            .unwrap_or_else(|| panic!("part {index}"));
        assert_eq!(part["kind"].as_s().unwrap(), "part");
        assert_eq!(n(&part, EXPIRES_AT), n(&manifest, EXPIRES_AT));
        assert!(item_size(&part) < 400 * 1024);
        total += part["body"].as_b().unwrap().as_ref().len();
    }
    assert_eq!(total, size);

    assert_eq!(store.get("resp_big").await.unwrap(), Some(original));
    // A part is not a response, whatever a client asks for.
    assert_eq!(store.get("resp_big#0").await.unwrap(), None);
    assert!(!store.delete("resp_big#0").await.unwrap());

    assert!(store.delete("resp_big").await.unwrap());
    for index in 0..parts {
        let key = format!("resp_big#{index}");
        assert!(
            raw_item(&client, &table, &key).await.is_none(),
            "{key} left"
        );
    }
    assert_eq!(store.get("resp_big").await.unwrap(), None);
}

#[tokio::test]
async fn a_long_text_history_fits_one_item_compressed() {
    let (table, client) = new_table().await;
    let store = store(&table, 30);
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(25_000); // 1.1 MB
    let original = response("resp_long", &text, None);
    store.put(original.clone()).await.unwrap();
    let item = raw_item(&client, &table, "resp_long").await.unwrap();
    assert!(item.contains_key("body") && !item.contains_key("parts"));
    assert_eq!(store.get("resp_long").await.unwrap(), Some(original));
}

#[tokio::test]
async fn missing_and_expired_responses_are_none() {
    let (table, client) = new_table().await;
    let store = store(&table, 30);
    assert_eq!(store.get("resp_never_stored").await.unwrap(), None);
    assert!(!store.delete("resp_never_stored").await.unwrap());
    // Ids DynamoDB would refuse as keys (empty, over 2048 bytes) are not stored either: a 404
    // for the client, not a 502. (moto refuses the empty key as DynamoDB does, but not a long
    // one; codec's `keys` unit test covers the length bound.)
    let long = format!("resp_{}", "9".repeat(3000));
    for id in ["", long.as_str()] {
        assert_eq!(store.get(id).await.unwrap(), None);
        assert!(!store.delete(id).await.unwrap());
    }

    // DynamoDB deletes expired items days late: the store must not serve them meanwhile.
    store
        .put(response("resp_expired", "old", None))
        .await
        .unwrap();
    client
        .update_item()
        .table_name(&table)
        .key("id", AttributeValue::S("resp_expired".into()))
        .update_expression("SET expires_at = :t")
        .expression_attribute_values(":t", AttributeValue::N((now() - 10).to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(store.get("resp_expired").await.unwrap(), None);
    assert!(!store.delete("resp_expired").await.unwrap());
}

#[tokio::test]
async fn unreachable_dynamodb_is_a_503_that_says_so() {
    let url = format!("http://127.0.0.1:{}", crate::support::moto::free_port());
    let store = DynamoStore::new(&crate::support::sdk_config(&url), "responses", 30);
    let started = tokio::time::Instant::now();
    for err in [
        store
            .put(response("resp_x", "hi", None))
            .await
            .expect_err("nothing listens"),
        store.get("resp_x").await.expect_err("nothing listens"),
        store.delete("resp_x").await.expect_err("nothing listens"),
    ] {
        assert_eq!(err.status.as_u16(), 503, "{err:?}");
        assert_eq!(err.kind, bedrock_gateway::error::ErrorKind::ApiError);
        assert_eq!(err.code.as_deref(), Some("response_store_unavailable"));
        assert!(err.message.contains("could not connect"), "{}", err.message);
        assert!(err.message.contains("store: false"), "{}", err.message);
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[tokio::test]
async fn a_missing_table_is_a_502_naming_the_dynamodb_error() {
    let store = store("no-such-table", 30);
    let err = store.get("resp_x").await.expect_err("no table");
    assert_eq!(err.status.as_u16(), 502, "{err:?}");
    assert!(
        err.message.contains("ResourceNotFoundException"),
        "{}",
        err.message
    );
    let body: Value = serde_json::from_str(&err.to_json()).unwrap();
    assert_eq!(body["error"]["code"], "response_store_unavailable");
}

#[tokio::test(start_paused = true)]
async fn a_dynamodb_that_never_answers_is_a_503_after_the_store_timeout() {
    use bedrock_gateway::responses::store::dynamo::STORE_TIMEOUT;
    // Accepts connections and reads requests, never answers: a blackholed endpoint.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let silent = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let store = DynamoStore::new(&crate::support::sdk_config(&url), "responses", 30);
    let started = tokio::time::Instant::now();
    let err = store.get("resp_x").await.expect_err("no answer");
    assert_eq!(started.elapsed(), STORE_TIMEOUT);
    assert_eq!(err.status.as_u16(), 503, "{err:?}");
    assert!(err.message.contains("timed out"), "{}", err.message);
    silent.abort();
}
