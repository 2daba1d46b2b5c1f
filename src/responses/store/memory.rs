//! The in-memory [`ResponseStore`]: the default outside Lambda (`make run`, containers).
//!
//! Bounded by count (`RESPONSES_MEMORY_MAX_ITEMS`) and by bytes (`RESPONSES_MEMORY_MAX_BYTES`,
//! the JSON size of each stored response); when a new response would exceed either bound the
//! oldest ones are evicted first. A response larger than the byte bound on its own is not
//! kept (a later `GET` answers 404, as for an evicted one). Lost on restart.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use futures_util::future::BoxFuture;

use super::{ResponseStore, StoredResponse};
use crate::error::ApiError;

/// Responses kept in process memory, oldest evicted first.
pub struct MemoryStore {
    max_items: usize,
    max_bytes: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// id → (response, its size in bytes).
    items: HashMap<String, (StoredResponse, usize)>,
    /// ids, oldest first (may hold ids already deleted; skipped on eviction).
    order: VecDeque<String>,
    bytes: usize,
}

impl MemoryStore {
    pub fn new(max_items: usize, max_bytes: usize) -> Self {
        MemoryStore {
            max_items,
            max_bytes,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // matters more than losing the store, so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn put_now(&self, response: StoredResponse) {
        let size = serde_json::to_vec(&response).map(|v| v.len()).unwrap_or(0);
        let mut inner = self.lock();
        if let Some((_, old)) = inner.items.remove(&response.id) {
            inner.bytes -= old;
        }
        if size > self.max_bytes || self.max_items == 0 {
            return;
        }
        while inner.items.len() + 1 > self.max_items || inner.bytes + size > self.max_bytes {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some((_, old)) = inner.items.remove(&oldest) {
                inner.bytes -= old;
            }
        }
        inner.order.retain(|id| id != &response.id);
        inner.order.push_back(response.id.clone());
        inner.bytes += size;
        inner.items.insert(response.id.clone(), (response, size));
        // Keep the order queue from growing with ids deleted out of band.
        if inner.order.len() > 2 * inner.items.len() + 16 {
            let Inner { items, order, .. } = &mut *inner;
            order.retain(|id| items.contains_key(id));
        }
    }
}

impl ResponseStore for MemoryStore {
    fn put(&self, response: StoredResponse) -> BoxFuture<'_, Result<(), ApiError>> {
        self.put_now(response);
        Box::pin(async { Ok(()) })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredResponse>, ApiError>> {
        let found = self.lock().items.get(id).map(|(r, _)| r.clone());
        Box::pin(async move { Ok(found) })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, ApiError>> {
        let mut inner = self.lock();
        let existed = match inner.items.remove(id) {
            Some((_, size)) => {
                inner.bytes -= size;
                true
            }
            None => false,
        };
        Box::pin(async move { Ok(existed) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(id: &str, text: &str) -> StoredResponse {
        StoredResponse {
            id: id.into(),
            created_at: 1,
            response: serde_json::json!({ "id": id, "text": text }),
            input_items: vec![],
            conversation: vec![],
        }
    }

    #[tokio::test]
    async fn put_get_delete() {
        let store = MemoryStore::new(10, 1 << 20);
        store.put(response("resp_a", "x")).await.unwrap();
        assert_eq!(store.get("resp_a").await.unwrap().unwrap().id, "resp_a");
        assert!(store.get("resp_b").await.unwrap().is_none());
        assert!(store.delete("resp_a").await.unwrap());
        assert!(!store.delete("resp_a").await.unwrap());
        assert!(store.get("resp_a").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn evicts_oldest_by_count() {
        let store = MemoryStore::new(2, 1 << 20);
        for id in ["resp_1", "resp_2", "resp_3"] {
            store.put(response(id, "x")).await.unwrap();
        }
        assert!(store.get("resp_1").await.unwrap().is_none());
        assert!(store.get("resp_2").await.unwrap().is_some());
        assert!(store.get("resp_3").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn evicts_oldest_by_bytes_and_refuses_oversized() {
        let one = serde_json::to_vec(&response("resp_1", &"x".repeat(100)))
            .unwrap()
            .len();
        let store = MemoryStore::new(100, one * 2 + one / 2);
        for id in ["resp_1", "resp_2", "resp_3"] {
            store.put(response(id, &"x".repeat(100))).await.unwrap();
        }
        assert!(store.get("resp_1").await.unwrap().is_none());
        assert!(store.get("resp_3").await.unwrap().is_some());
        store
            .put(response("resp_big", &"x".repeat(10 * one)))
            .await
            .unwrap();
        assert!(store.get("resp_big").await.unwrap().is_none());
        assert!(store.get("resp_2").await.unwrap().is_some());
    }
}
