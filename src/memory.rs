//! Handing memory back to the system after large requests.
//!
//! glibc's allocator keeps freed memory in its per-thread arenas: after four concurrent 9 MB
//! chats (9,999 messages each) the debug binary went from 30 MB at rest to a 162 MB peak and
//! stayed at 162 MB. `malloc_trim` releases the free pages of every arena. After a body of
//! [`LARGE_BODY_BYTES`] or more is parsed, a background task trims once a second for the next
//! [`TRIM_SECONDS`] seconds, long enough for the request and its Bedrock call to end (a trim
//! runs off the request path, on a blocking thread). Measured with the same burst (debug
//! binary, `tests/memory/measure_rss.py`): peaks of 134 to 148 MB, back to 33 to 41 MB two
//! seconds after the burst. mimalloc was tried instead: 45 MB at rest, 210 MB peaks, and about
//! 100 MB kept after the burst. The 199,999-message body is now refused by the request
//! limits (`openai::limits`) before it is parsed: 37 MB peak instead of 116 MB.
//! Other C libraries (musl) have no arenas to trim; there this is a no-op.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Bodies from this size on schedule trims.
pub const LARGE_BODY_BYTES: usize = 1 << 20;
/// For how many seconds after a large body the trimmer runs.
pub const TRIM_SECONDS: u32 = 60;

static TRIMS_LEFT: AtomicU32 = AtomicU32::new(0);

/// Notes a request body of `len` bytes; a large one schedules trims.
pub fn note_body(len: usize) {
    if len >= LARGE_BODY_BYTES {
        TRIMS_LEFT.store(TRIM_SECONDS, Ordering::Relaxed);
    }
}

/// Starts the trimmer (once, from `main`). Needs a Tokio runtime.
pub fn spawn_trimmer() {
    tokio::spawn(async {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let left = TRIMS_LEFT.load(Ordering::Relaxed);
            if left > 0 {
                TRIMS_LEFT.store(left - 1, Ordering::Relaxed);
                let _ = tokio::task::spawn_blocking(trim).await;
            }
        }
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only returns free memory to the system; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
