//! The binary's global allocator: mimalloc, with allocation counting for `idflow bench engine`.
//!
//! mimalloc rather than the system allocator because the engine's hot path is allocation-heavy
//! (JSON values, history events): with glibc's malloc about 43% of an instance's instructions
//! were spent allocating (callgrind), see BENCHMARKS.md. Counting costs every other command one
//! relaxed load per allocation.
//!
//! mimalloc's own `GlobalAlloc` (the `mimalloc` crate's `MiMalloc`) passes every request to its
//! aligned entry points (`mi_malloc_aligned`, ...), which first test whether a free block of the
//! size class happens to be aligned and cost about 50 instructions more per allocation than
//! `mi_malloc` (callgrind, BENCHMARKS.md). Nearly every Rust allocation asks for an alignment
//! `mi_malloc` already guarantees, so this allocator calls the plain entry points for those, as
//! std's `System` does with `malloc`, and the aligned ones only for the rest.

// A global allocator is `unsafe impl GlobalAlloc` by definition; this one only forwards to
// mimalloc and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use libmimalloc_sys as mi;

/// mimalloc, counting allocations and bytes requested while [`COUNTING`] is set.
struct CountingAllocator;

/// Counting is switched on only while this benchmark runs; every other command pays one relaxed
/// load per allocation.
pub static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

/// The alignment `mi_malloc` guarantees for a block of at least this many bytes
/// (`MI_MAX_ALIGN_SIZE`, `sizeof(max_align_t)` on the platforms mimalloc builds for); smaller
/// blocks are aligned to their size class, which is at least their size rounded up to a word.
const MALLOC_ALIGN: usize = 16;

/// Whether `mi_malloc(layout.size())` returns memory aligned enough for `layout`: the same test
/// std's `System` allocator makes before calling `malloc`.
#[inline]
fn plain(layout: &Layout) -> bool {
    layout.align() <= MALLOC_ALIGN && layout.align() <= layout.size()
}

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

// SAFETY: every call goes to mimalloc's allocation functions, which return memory of at least the
// requested size aligned as `plain` or the aligned entry point guarantees, and `mi_free` /
// `mi_realloc*` accept any pointer either kind returned. The counters are only statistics.
unsafe impl GlobalAlloc for CountingAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: mimalloc's allocation functions have no preconditions.
        unsafe {
            if plain(&layout) {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` was returned by one of mimalloc's allocation functions (above).
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as in `alloc`.
        unsafe {
            if plain(&layout) {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: `ptr` was returned by mimalloc for `layout`; the new block keeps its alignment:
        // `mi_realloc` when `mi_malloc(new_size)` would have been aligned enough, else the aligned
        // entry point.
        unsafe {
            if layout.align() <= MALLOC_ALIGN && layout.align() <= new_size {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
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
