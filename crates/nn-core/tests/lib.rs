//! Integration tests of `nn-core`: gradients against finite differences, the errata,
//! the notes' small networks, shapes and errors, allocation-free steps, model files.
//!
//! `cargo xtask test` reruns the `gradients` module with a raised case count.

mod activation_runs;
mod allocations;
mod columns;
mod common;
mod conv_files;
mod conv_gradients;
mod errata;
mod errors;
mod feed;
mod gradients;
mod init;
mod layer_files;
mod layer_gradients;
mod learned;
mod learned_engine;
mod masked_gradients;
mod model_files;
mod perceptrons;
mod predict;
mod recurrent_files;
mod recurrent_gradients;
mod reference;
mod torch_state_dicts;

/// Counts heap allocations per thread, so that a test can assert that a training step
/// allocates nothing. Every test of this binary runs under it; counting costs nothing
/// measurable.
mod counting_allocator {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    }

    struct Counting;

    fn bump() {
        // `try_with`: the thread-local may already be gone while a thread shuts down.
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    }

    // SAFETY: every method forwards to the system allocator unchanged; counting touches
    // only a const-initialized thread-local `Cell`, which never allocates.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            bump();
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            bump();
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            bump();
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    /// The number of allocations (including reallocations) `f` makes on this thread.
    pub fn allocations_during(f: impl FnOnce()) -> usize {
        let before = ALLOCATIONS.with(Cell::get);
        f();
        ALLOCATIONS.with(Cell::get) - before
    }
}
