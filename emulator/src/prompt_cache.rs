//! The emulated prompt cache: remembers every prefix that ended at a
//! `cachePoint` and reports cache writes for new prefixes and cache reads
//! for prefixes seen before, in Bedrock's usage terms.
//!
//! A checkpoint caches only when it covers the model's minimum (`min_cache_tokens`) since the
//! last checkpoint that cached; below it Bedrock answers normally and caches nothing (AWS's
//! prompt-caching page, see `ChatCapabilities::min_cache_tokens`).

use std::collections::HashSet;
use std::sync::Mutex;

/// The content before one cache point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Digest of the model id and everything before the cache point.
    pub key: String,
    /// Tokens (words) before the cache point.
    pub tokens_before: u64,
}

/// Tokens served from and written to the cache by one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheUsage {
    pub read: u64,
    pub write: u64,
}

/// Prefixes cached so far, shared by all requests to one emulator.
#[derive(Debug, Default)]
pub struct PromptCache {
    seen: Mutex<HashSet<String>>,
}

impl PromptCache {
    /// Accounts a request's checkpoints (in prompt order) and caches them.
    ///
    /// Like Anthropic's cache, the longest prefix seen before is read, and
    /// the tokens between it and the last checkpoint are written.
    pub fn account(&self, checkpoints: &[Checkpoint], min_tokens: u64) -> CacheUsage {
        let checkpoints = long_enough(checkpoints, min_tokens);
        let Some(last) = checkpoints.last() else {
            return CacheUsage::default();
        };
        // A poisoned lock only means another request panicked mid-insert;
        // the set itself is still usable.
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let read = checkpoints
            .iter()
            .filter(|checkpoint| seen.contains(&checkpoint.key))
            .map(|checkpoint| checkpoint.tokens_before)
            .max()
            .unwrap_or(0);
        let write = last.tokens_before.saturating_sub(read);
        for checkpoint in &checkpoints {
            seen.insert(checkpoint.key.clone());
        }
        CacheUsage { read, write }
    }
}

/// The checkpoints that cache: each covers at least `min_tokens` since the previous one that
/// did (AWS's example: a first checkpoint after 1,024 tokens, a second after 2,048).
fn long_enough(checkpoints: &[Checkpoint], min_tokens: u64) -> Vec<Checkpoint> {
    let mut cached_up_to = 0;
    let mut kept = Vec::new();
    for checkpoint in checkpoints {
        if checkpoint.tokens_before.saturating_sub(cached_up_to) >= min_tokens {
            cached_up_to = checkpoint.tokens_before;
            kept.push(checkpoint.clone());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(key: &str, tokens_before: u64) -> Checkpoint {
        Checkpoint {
            key: key.to_string(),
            tokens_before,
        }
    }

    #[test]
    fn writes_first_then_reads() {
        let cache = PromptCache::default();
        let points = [checkpoint("a", 10)];
        assert_eq!(cache.account(&points, 1), CacheUsage { read: 0, write: 10 });
        assert_eq!(cache.account(&points, 1), CacheUsage { read: 10, write: 0 });
    }

    #[test]
    fn extends_a_cached_prefix() {
        let cache = PromptCache::default();
        cache.account(&[checkpoint("a", 10)], 1);
        let usage = cache.account(&[checkpoint("a", 10), checkpoint("b", 25)], 1);
        assert_eq!(
            usage,
            CacheUsage {
                read: 10,
                write: 15
            }
        );
        assert_eq!(cache.account(&[], 1), CacheUsage::default());
    }

    #[test]
    fn checkpoints_below_the_minimum_cache_nothing() {
        let cache = PromptCache::default();
        let short = [checkpoint("a", 1000)];
        assert_eq!(cache.account(&short, 1024), CacheUsage::default());
        assert_eq!(cache.account(&short, 1024), CacheUsage::default());
        // Nothing cached before the second checkpoint, so it covers all 2,100 tokens and caches.
        let two = [checkpoint("a", 1000), checkpoint("b", 2100)];
        assert_eq!(
            cache.account(&two, 1024),
            CacheUsage {
                read: 0,
                write: 2100
            }
        );
        // A checkpoint 500 tokens after one that cached does not cache.
        let three = [checkpoint("b", 2100), checkpoint("c", 2600)];
        assert_eq!(
            cache.account(&three, 1024),
            CacheUsage {
                read: 2100,
                write: 0
            }
        );
    }
}
