//! The global allocator: mimalloc, counted, so INFO can report `used_memory`.
//!
//! Each thread adds its allocations and frees to its own counter (a relaxed
//! atomic on its own cache line, so the data path never contends); INFO sums
//! the counters. Memory freed on another thread than the one that allocated it
//! (values handed between cores) makes single counters drift, but never the sum.

use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

pub struct Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

const SLOTS: usize = 256;

#[repr(align(64))]
struct Counter(AtomicIsize);

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: Counter = Counter(AtomicIsize::new(0));
static COUNTERS: [Counter; SLOTS] = [ZERO; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[inline]
fn counter() -> &'static AtomicIsize {
    let slot = SLOT
        .try_with(|s| {
            let mut v = s.get();
            if v == usize::MAX {
                v = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS;
                s.set(v);
            }
            v
        })
        // During thread teardown the TLS is gone; any counter keeps the sum right.
        .unwrap_or(0);
    &COUNTERS[slot].0
}

// SAFETY: every method forwards to MiMalloc, a correct GlobalAlloc; the
// counting only adds arithmetic on atomics and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { MiMalloc.alloc(layout) };
        if !p.is_null() {
            counter().fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        counter().fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { MiMalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            counter().fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { MiMalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            counter().fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
}

/// Bytes currently allocated through the global allocator.
pub fn used_memory() -> usize {
    COUNTERS.iter().map(|c| c.0.load(Ordering::Relaxed)).sum::<isize>().max(0) as usize
}

/// Resident set size of the process, from /proc/self/statm.
pub fn rss_bytes() -> usize {
    let page = page_size();
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<usize>().ok()))
        .map_or(0, |pages| pages * page)
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

extern "C" {
    /// mimalloc's own: frees this thread's cached memory and returns unused
    /// pages to the system (linked in with the allocator).
    fn mi_collect(force: bool);
}

/// Gives memory this thread freed back to the system now rather than
/// whenever the allocator gets to it (after dropping a large buffer).
pub fn release_freed() {
    // SAFETY: mi_collect only touches the allocator's own state.
    unsafe { mi_collect(true) }
}
