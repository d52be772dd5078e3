//! Giving freed heap memory back to the system once a burst of allocation is over: reading a
//! tasks file builds its whole YAML tree and many temporary strings on the reloading thread,
//! and what they freed stayed resident beneath the task set built with them (a reload of
//! 10 000 tasks: 65 MiB resident, 51 MiB after a trim; BENCHMARKS.md). It decides nothing else
//! about memory: the arena limit is set once in `main.rs`.

/// Returns the free pages of the allocator's arenas to the system. Cheap when little is free;
/// call it after a burst, not on a hot path, as it locks each arena while it walks it.
#[allow(
    unsafe_code,
    reason = "malloc_trim is glibc's only interface to return freed pages"
)]
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes each arena's lock and only returns pages of free chunks to the
    // kernel; its result (whether any page was returned) needs no handling.
    unsafe {
        libc::malloc_trim(0);
    }
}
