//! Returning memory after large requests.
//!
//! glibc serves allocations above `M_MMAP_THRESHOLD` (128 KiB) with their
//! own `mmap`, unmapped on `free`, but by default it *raises* the threshold
//! to the size of every such block freed (up to 32 MiB), after which 1 MiB
//! request buffers come from per-thread arenas and stay resident (the attack
//! run saw 221 MiB after 60 clients sent 1 MiB frames). Setting the
//! threshold explicitly turns that dynamic adjustment off (mallopt(3),
//! "M_MMAP_THRESHOLD ... disables dynamic adjustment"), so every large
//! buffer goes back to the kernel when it is freed, also under `mlockall`
//! (`munmap` works on locked pages, `madvise(MADV_DONTNEED)` does not).
//! `malloc_trim(0)` then returns the free parts of the arenas after a burst.
#![allow(unsafe_code)]

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Allocations at or above this size get their own mapping.
pub const MMAP_THRESHOLD: i32 = 128 << 10;

/// `malloc_trim` runs at most this often.
const TRIM_INTERVAL: Duration = Duration::from_millis(200);

static LAST_TRIM: Mutex<Option<Instant>> = Mutex::new(None);

/// Fixes glibc's mmap threshold (call once, before threads start). Returns
/// false when the allocator refused (or is not glibc).
pub fn configure() -> bool {
    #[cfg(target_env = "gnu")]
    {
        // SAFETY: mallopt takes two integers and touches only the
        // allocator's own parameters; it has no memory-safety preconditions.
        unsafe { nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 }
    }
    #[cfg(not(target_env = "gnu"))]
    {
        false
    }
}

/// Hands free allocator memory back to the kernel (rate-limited).
pub fn release_free_memory() {
    let mut last = LAST_TRIM
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if last.is_some_and(|t| t.elapsed() < TRIM_INTERVAL) {
        return;
    }
    *last = Some(Instant::now());
    drop(last);
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim takes an integer and only releases memory the
    // allocator holds as free; it is thread-safe (it locks each arena).
    unsafe {
        nix::libc::malloc_trim(0);
    }
}
