//! Giving memory back to the system after a long answer.
//!
//! glibc's allocator keeps the pages a burst of allocations freed (an
//! export of ten years touches a few MiB in the producer thread's arena and
//! in the body's chunks) and gives back only what lies at the top of each
//! heap, so the server would stay several MiB above its idle size after
//! every export. `malloc_trim(0)` returns every arena's free pages; nothing
//! live is touched.

/// Answers at least this long are followed by a trim; shorter ones free too
/// little to be worth walking the arenas.
pub(crate) const TRIM_AFTER_BYTES: u64 = 256 << 10;

/// Asks the C allocator to give its free pages back to the system (glibc's
/// `malloc_trim`; elsewhere nothing). Whether it gave anything back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn release_free_memory() -> bool {
    // SAFETY: malloc_trim takes no pointers and has no preconditions; glibc
    // locks each arena while it trims it (MT-Safe in malloc_trim(3)).
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Asks the C allocator to give its free pages back to the system (glibc's
/// `malloc_trim`; elsewhere nothing). Whether it gave anything back.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_free_memory() -> bool {
    false
}

/// Counts the bytes of a streamed answer; when it is dropped (the answer
/// sent, or the client gone) after at least [`TRIM_AFTER_BYTES`], gives the
/// memory the answer used back to the system.
#[derive(Debug, Default)]
pub(crate) struct TrimAfter {
    pub(crate) bytes: u64,
}

impl Drop for TrimAfter {
    fn drop(&mut self) {
        if self.bytes >= TRIM_AFTER_BYTES {
            release_free_memory();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On glibc, freeing a few MiB of small allocations below a live one
    /// leaves pages a trim gives back; the call is safe to make at any time.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn a_trim_after_a_burst_gives_memory_back() {
        let burst: Vec<Vec<u8>> = (0..20_000).map(|i| vec![i as u8; 512]).collect();
        // Allocated after the burst, so it sits above it in the heap.
        let keep = std::hint::black_box(Box::new([1u8; 64]));
        drop(burst);
        assert!(release_free_memory(), "nothing was given back");
        assert_eq!(keep[0], 1);
    }
}
