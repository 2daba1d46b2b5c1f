//! DynamoDB tables in moto for the response-store tests (tests/responses_store*.rs), shaped as
//! template.yaml makes them, and a raw look at their items. Included with
//! `#[path = "common/responses_table.rs"] mod responses_table;` after `mod moto; mod common;`.
#![allow(dead_code)]

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use base64::Engine;
use bedrock_gateway::responses::store::dynamo::EXPIRES_AT;

use super::moto;

pub type Item = HashMap<String, AttributeValue>;

pub fn dynamodb(url: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&super::sdk_config(url))
}

/// A new table shaped as template.yaml makes it (string key `id`, TTL on `expires_at`).
pub async fn new_table() -> (String, aws_sdk_dynamodb::Client) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "responses-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let client = dynamodb(&moto::shared().url);
    client
        .create_table()
        .table_name(&name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("moto creates the table");
    client
        .update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(EXPIRES_AT)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("moto enables TTL");
    (name, client)
}

pub async fn raw_item(client: &aws_sdk_dynamodb::Client, table: &str, id: &str) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .key("id", AttributeValue::S(id.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("moto answers")
        .item
}

pub fn n(item: &Item, name: &str) -> i64 {
    item[name].as_n().unwrap().parse().unwrap()
}

/// `len` bytes that do not compress (xorshift), as a base64 data URL: an image, to deflate.
pub fn incompressible_image(len: usize) -> String {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}
