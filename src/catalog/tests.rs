//! The refresh policy as the catalogue applies it, on paused time, against a scripted
//! control plane (tests/it/models.rs covers the same calls against the emulator).

use super::*;
use crate::error::ErrorKind;
use aws_sdk_bedrock::types::{FoundationModelSummary, InferenceType, ModelModality};
use axum::http::StatusCode;
use std::sync::atomic::{AtomicU32, Ordering};

/// Answers the listing the test sets, after `delay`, and counts the calls.
struct Scripted {
    listing: Mutex<Result<ModelListing, ApiError>>,
    delay: Duration,
    lists: AtomicU32,
    describes: AtomicU32,
}

impl Control for Arc<Scripted> {
    async fn list_models(&self) -> Result<ModelListing, ApiError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.listing.lock().unwrap().clone()
    }

    async fn inference_profile_models(&self, profile: &str) -> Result<Vec<String>, ApiError> {
        self.describes.fetch_add(1, Ordering::SeqCst);
        match profile.rsplit_once('/') {
            Some((_, "known")) => Ok(vec![
                "arn:aws:bedrock:us-east-1::foundation-model/mistral.b".to_string(),
            ]),
            _ => Err(ApiError::not_found("no such profile")),
        }
    }
}

impl Scripted {
    fn lists(&self) -> u32 {
        self.lists.load(Ordering::SeqCst)
    }
    fn set(&self, listing: Result<ModelListing, ApiError>) {
        *self.listing.lock().unwrap() = listing;
    }
}

fn listing(ids: &[&str]) -> ModelListing {
    let models = ids
        .iter()
        .map(|id| {
            FoundationModelSummary::builder()
                .model_arn(format!("arn:aws:bedrock:us-east-1::foundation-model/{id}"))
                .model_id(*id)
                .output_modalities(ModelModality::Text)
                .inference_types_supported(InferenceType::OnDemand)
                .build()
                .unwrap()
        })
        .collect();
    ModelListing {
        models,
        profiles: Vec::new(),
    }
}

fn denied() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, ErrorKind::PermissionError, "denied")
}

fn catalog(
    ttl_ms: u64,
    miss_ms: u64,
    delay_ms: u64,
) -> (Arc<Scripted>, Arc<Catalog<Arc<Scripted>>>) {
    let control = Arc::new(Scripted {
        listing: Mutex::new(Ok(listing(&["mistral.a"]))),
        delay: Duration::from_millis(delay_ms),
        lists: AtomicU32::new(0),
        describes: AtomicU32::new(0),
    });
    let catalog = Catalog::new(control.clone(), Duration::from_millis(ttl_ms))
        .with_miss_refresh_interval(Duration::from_millis(miss_ms));
    (control, Arc::new(catalog))
}

async fn advance_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[tokio::test(start_paused = true)]
async fn stale_listings_are_served_while_one_task_refreshes() {
    let (control, catalog) = catalog(300, 300, 1500);
    let first = catalog.snapshot().await.unwrap();
    assert_eq!(control.lists(), 1);
    control.set(Ok(listing(&["mistral.a", "mistral.b"])));
    advance_ms(400).await;
    let started = Instant::now();
    let requests: Vec<_> = (0..5)
        .map(|_| {
            let catalog = catalog.clone();
            tokio::spawn(async move { catalog.snapshot().await })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap().unwrap(), first);
    }
    catalog.check("mistral.a").await.unwrap();
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "nobody waited for the listing"
    );
    advance_ms(1600).await;
    assert_eq!(control.lists(), 2, "one background refresh");
    assert!(catalog.snapshot().await.unwrap().knows("mistral.b"));
}

#[tokio::test(start_paused = true)]
async fn a_failed_refresh_falls_back_to_the_last_listing() {
    let (control, catalog) = catalog(200, 600_000, 0);
    let first = catalog.snapshot().await.unwrap();
    control.set(Err(denied()));
    advance_ms(300).await;
    catalog.check("mistral.a").await.unwrap();
    advance_ms(10).await;
    assert_eq!(control.lists(), 2, "the stale listing started a refresh");
    catalog.check("mistral.a").await.unwrap();
    assert_eq!(catalog.snapshot().await.unwrap(), first);
    // A miss while the last listing failed: the catalogue cannot tell, Bedrock decides.
    catalog.check("mistral.typo").await.unwrap();
    assert_eq!(
        control.lists(),
        2,
        "the failure is not retried on every request"
    );
}

#[tokio::test(start_paused = true)]
async fn a_miss_refreshes_once_then_waits_for_the_interval() {
    let (control, catalog) = catalog(600_000, 400, 0);
    catalog.snapshot().await.unwrap();
    let miss = catalog.check("mistral.typo").await.unwrap_err();
    assert_eq!(miss.status, StatusCode::NOT_FOUND);
    assert_eq!(
        control.lists(),
        1,
        "right after a listing, a miss does not list"
    );
    advance_ms(400).await;
    assert!(catalog.check("mistral.typo").await.is_err());
    assert_eq!(control.lists(), 2, "a miss refreshes the catalogue");
    assert!(catalog.check("mistral.typo").await.is_err());
    assert!(catalog.find("mistral.typo").await.is_err());
    assert_eq!(control.lists(), 2, "misses are rate-limited");
    // A model enabled since: found by the next miss after the interval.
    control.set(Ok(listing(&["mistral.a", "mistral.new"])));
    advance_ms(400).await;
    assert_eq!(catalog.find("mistral.new").await.unwrap().id, "mistral.new");
    catalog.check("mistral.a").await.unwrap();
    assert_eq!(control.lists(), 3, "hits never list");
}

#[tokio::test(start_paused = true)]
async fn without_list_permission_requests_pass_and_listing_is_not_retried_at_once() {
    let (control, catalog) = catalog(600_000, 30_000, 0);
    control.set(Err(denied()));
    catalog.check("anything").await.unwrap();
    assert_eq!(
        catalog.snapshot().await.unwrap_err().status,
        StatusCode::FORBIDDEN
    );
    assert!(catalog.find("anything").await.is_err());
    assert_eq!(control.lists(), 1);
    advance_ms(30_000).await;
    control.set(Ok(listing(&["mistral.a"])));
    assert!(
        catalog.check("anything").await.is_err(),
        "listed again after the interval"
    );
    assert_eq!(control.lists(), 2);
}

#[tokio::test(start_paused = true)]
async fn profile_lookups_are_kept_and_failed_ones_retried_after_the_interval() {
    let (control, catalog) = catalog(600_000, 1000, 0);
    let known = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/known";
    for _ in 0..3 {
        assert_eq!(
            catalog.underlying_model(known).await.as_deref(),
            Some("mistral.b")
        );
    }
    assert_eq!(control.describes.load(Ordering::SeqCst), 1, "kept for good");
    let unknown = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/nope";
    assert_eq!(catalog.underlying_model(unknown).await, None);
    assert_eq!(catalog.underlying_model(unknown).await, None);
    assert_eq!(control.describes.load(Ordering::SeqCst), 2);
    advance_ms(1000).await;
    assert_eq!(catalog.underlying_model(unknown).await, None);
    assert_eq!(
        control.describes.load(Ordering::SeqCst),
        3,
        "retried after the interval"
    );
}
