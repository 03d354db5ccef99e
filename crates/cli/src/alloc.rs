//! The binary's global allocator: mimalloc, with allocation counting for `idflow bench engine`.
//!
//! mimalloc rather than the system allocator because the engine's hot path is allocation-heavy
//! (JSON values, history events): with glibc's malloc about 43% of an instance's instructions
//! were spent allocating (callgrind), see BENCHMARKS.md. Counting costs every other command one
//! relaxed load per allocation.

// A global allocator is `unsafe impl GlobalAlloc` by definition; this one only forwards to
// mimalloc and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use mimalloc::MiMalloc;

/// mimalloc, counting allocations and bytes requested while [`COUNTING`] is set.
struct CountingAllocator;

/// Counting is switched on only while this benchmark runs; every other command pays one relaxed
/// load per allocation.
pub static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

/// Adds one allocation of `bytes`. A load and a store rather than a locked read-modify-write:
/// the benchmark allocates from one thread, where this is exact, and a locked add on every
/// allocation would weigh on the figure being measured.
#[inline]
fn count(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCATIONS.store(ALLOCATIONS.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        ALLOCATED_BYTES.store(
            ALLOCATED_BYTES.load(Ordering::Relaxed) + bytes as u64,
            Ordering::Relaxed,
        );
    }
}

// SAFETY: every call is forwarded unchanged to `MiMalloc`, which upholds GlobalAlloc's contract;
// the counters are only statistics.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: same layout, forwarded as is.
        unsafe { MiMalloc.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `MiMalloc` with this layout.
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: same layout, forwarded as is.
        unsafe { MiMalloc.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: `ptr` was allocated by `MiMalloc` with `layout`; forwarded as is.
        unsafe { MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

pub fn counters() -> (u64, u64) {
    (
        ALLOCATIONS.load(Ordering::Relaxed),
        ALLOCATED_BYTES.load(Ordering::Relaxed),
    )
}
