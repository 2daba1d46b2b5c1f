//! One API key as the gateway knows it after loading ([`ApiKey`]): its name, the SHA-256 of
//! the key (never the key itself), which models it may use, its aliases, limits and expiry; and
//! [`KeySet`], the loaded keys, searched in constant time.
//!
//! The key is kept only as its digest, so a key document may hold digests instead of usable
//! secrets, and a presented key is hashed once and compared against every digest with `subtle`
//! (no early exit, no data-dependent branch on which key matched).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// A key's SHA-256.
pub type KeyDigest = [u8; 32];

/// The SHA-256 of a key as presented.
pub fn digest(key: &str) -> KeyDigest {
    Sha256::digest(key.as_bytes()).into()
}

/// Limits on one key's use; `None` is no limit. Counted across every gateway instance by
/// [`crate::quota`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Tokens (input, output, cache reads and writes) per minute.
    pub tpm: Option<u64>,
    /// Tokens per UTC day.
    pub tokens_per_day: Option<u64>,
}

impl Limits {
    pub fn any(&self) -> bool {
        self.rpm.is_some() || self.tpm.is_some() || self.tokens_per_day.is_some()
    }
}

/// One named key. `Debug` never shows the digest.
#[derive(Clone, PartialEq)]
pub struct ApiKey {
    /// The key's name: in logs, metrics, errors and the usage report, instead of the key.
    pub name: String,
    pub(crate) digest: KeyDigest,
    /// Model ids or glob patterns (`*` matches any run of characters) this key may use;
    /// `None`: any model.
    pub models: Option<Vec<String>>,
    /// The model for `gpt-*` names with this key (instead of `DEFAULT_MODEL`).
    pub default_model: Option<String>,
    /// Names this key may use for model ids, resolved before the gateway's `MODEL_ALIASES`.
    pub aliases: HashMap<String, String>,
    pub limits: Limits,
    /// The largest `max_tokens` (`max_completion_tokens`, `max_output_tokens`) a request may
    /// ask for; a request asking for more, or for nothing, is sent with this.
    pub max_tokens: Option<u32>,
    /// Unix seconds after which the key is refused; `expires_text` is how the document wrote it.
    pub expires: Option<i64>,
    pub expires_text: Option<String>,
    /// May read `GET /usage`.
    pub admin: bool,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("models", &self.models)
            .field("limits", &self.limits)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// A key from a plain list: any model, no limits, not admin. Its name is `key-` and the
    /// first 8 hex digits of its SHA-256: stable across restarts, and no help to a guesser.
    pub fn plain(key: &str) -> ApiKey {
        let digest = digest(key);
        ApiKey {
            name: format!("key-{}", &hex(&digest)[..8]),
            digest,
            models: None,
            default_model: None,
            aliases: HashMap::new(),
            limits: Limits::default(),
            max_tokens: None,
            expires: None,
            expires_text: None,
            admin: false,
        }
    }

    /// Whether this key may use `model_id` (an id after alias resolution).
    pub fn allows(&self, model_id: &str) -> bool {
        match &self.models {
            None => true,
            Some(patterns) => patterns.iter().any(|p| glob_match(p, model_id)),
        }
    }

    /// Whether the key has expired at `now`.
    pub fn expired_at(&self, now: SystemTime) -> bool {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.expires.is_some_and(|at| now >= at)
    }

    /// Applies the key's `max_tokens` cap to a chat request (Responses requests become one).
    pub fn cap_request(&self, req: &mut crate::openai::chat::ChatRequest) {
        if self.max_tokens.is_some() {
            let asked = req.max_completion_tokens.or(req.max_tokens);
            req.max_completion_tokens = self.cap_max_tokens(asked);
            req.max_tokens = None;
        }
    }

    /// A request's token cap under this key: the smaller of what it asked and the key's cap.
    pub fn cap_max_tokens(&self, requested: Option<i64>) -> Option<i64> {
        match (requested, self.max_tokens) {
            (Some(asked), Some(cap)) => Some(asked.min(i64::from(cap))),
            (None, Some(cap)) => Some(i64::from(cap)),
            (asked, None) => asked,
        }
    }
}

/// The loaded keys.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct KeySet {
    keys: Vec<Arc<ApiKey>>,
}

impl KeySet {
    pub fn new(keys: Vec<ApiKey>) -> KeySet {
        KeySet {
            keys: keys.into_iter().map(Arc::new).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key whose digest is `presented`'s, compared against every key in constant time.
    pub fn find(&self, presented: &KeyDigest) -> Option<Arc<ApiKey>> {
        let mut found = subtle::Choice::from(0u8);
        let mut index = 0u32;
        for (i, key) in self.keys.iter().enumerate() {
            let hit = key.digest.ct_eq(presented);
            index.conditional_assign(&(i as u32), hit);
            found |= hit;
        }
        bool::from(found).then(|| self.keys[index as usize].clone())
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `*` matches any run of characters (none included); everything else matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and where in `text` it started matching.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            // Let the last `*` swallow one more character and retry from there.
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            "us.anthropic.*",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0"
        ));
        assert!(!glob_match("us.anthropic.*", "anthropic.claude"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(glob_match("*haiku*", "us.anthropic.claude-haiku-4-5"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        assert!(glob_match("a**", "abc"));
    }

    #[test]
    fn finds_the_matching_key_and_no_other() {
        let set = KeySet::new(vec![ApiKey::plain("k1"), ApiKey::plain("k2")]);
        assert_eq!(
            set.find(&digest("k2")).unwrap().name,
            ApiKey::plain("k2").name
        );
        assert_eq!(
            set.find(&digest("k1")).unwrap().name,
            ApiKey::plain("k1").name
        );
        assert!(set.find(&digest("k3")).is_none());
        assert!(KeySet::default().find(&digest("k1")).is_none());
        assert!(!format!("{:?}", ApiKey::plain("k1")).contains("digest"));
    }

    #[test]
    fn token_caps() {
        let mut key = ApiKey::plain("k");
        assert_eq!(key.cap_max_tokens(Some(10)), Some(10));
        key.max_tokens = Some(100);
        assert_eq!(key.cap_max_tokens(Some(10)), Some(10));
        assert_eq!(key.cap_max_tokens(Some(1000)), Some(100));
        assert_eq!(key.cap_max_tokens(None), Some(100));
    }
}
