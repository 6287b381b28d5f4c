//! A global allocator that counts allocations, for the no-allocation tests and the per-command
//! ratio bench. Include it with `#[path = "common/counting_alloc.rs"] mod counting_alloc;` in a
//! test file of its own, and keep one test in that file so no other test thread allocates while
//! it counts. (`realloc` is GlobalAlloc's default, which goes through `alloc`, so it counts.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged.
#[allow(unsafe_code)] // Counting allocations needs a global allocator; it only forwards.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by any thread since the program started.
pub fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::SeqCst)
}
