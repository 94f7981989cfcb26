//! Hostile input for every loader (issue "Hostile input"): truncations at every length
//! of small valid files, random and structured mutations, headers claiming huge sizes,
//! non-finite values. Each case must give `Ok` with finite values or an error: never a
//! panic (proptest reports it), never an abort, and never an allocation of more than
//! [`budget`] bytes for the input's length (the allocator below measures the peak).
//!
//! Cases per property: `NN_FUZZ_CASES` (default 64, what `cargo xtask test` runs);
//! `cargo xtask fuzz` runs 100,000 in a release build. A single allocation of more than
//! 1 GiB is refused (null): the library must handle that with `try_reserve`, or the
//! process aborts and the run fails, as it would on a machine without the memory.

mod csv;
mod idx;
mod model_files;
mod state_files;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::prelude::*;
use proptest::test_runner::Config;

mod tracking {
    use super::*;

    thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    /// The largest single allocation granted.
    const CAP: usize = 1 << 30;

    fn note(delta: isize) {
        // `try_with`: the thread-locals may be gone while a thread shuts down.
        let _ = LIVE.try_with(|live| {
            let now = live.get() + delta;
            live.set(now);
            let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
        });
    }

    struct Tracking;

    // SAFETY: every method forwards to the system allocator with the caller's layout, or
    // returns null (allowed: an allocation failure) for sizes above `CAP`; the
    // bookkeeping touches only const-initialized thread-local `Cell`s, which never
    // allocate.
    unsafe impl GlobalAlloc for Tracking {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if layout.size() > CAP {
                return std::ptr::null_mut();
            }
            // SAFETY: forwarded with the caller's guarantees.
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() {
                note(layout.size() as isize);
            }
            p
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            note(-(layout.size() as isize));
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            if layout.size() > CAP {
                return std::ptr::null_mut();
            }
            // SAFETY: forwarded with the caller's guarantees.
            let p = unsafe { System.alloc_zeroed(layout) };
            if !p.is_null() {
                note(layout.size() as isize);
            }
            p
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            if new_size > CAP {
                return std::ptr::null_mut();
            }
            // SAFETY: forwarded with the caller's guarantees.
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                note(new_size as isize - layout.size() as isize);
            }
            p
        }
    }

    #[global_allocator]
    static GLOBAL: Tracking = Tracking;

    /// Runs `f` and returns its result with the most memory it held at once (on this
    /// thread, above what was live before).
    pub fn peak_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
        let before = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(before));
        let r = f();
        let peak = PEAK.with(Cell::get);
        (r, (peak - before).max(0) as usize)
    }
}

/// The memory a loader may hold at once for an input of `len` bytes: a few times the
/// input (a parsed JSON header is several times its text) and 1 MiB for fixed costs.
pub fn budget(len: usize) -> usize {
    16 * len + (1 << 20)
}

/// Runs `load` on `input`, checking the memory budget; returns its result.
pub fn within_budget<R>(what: &str, input: &[u8], load: impl FnOnce() -> R) -> R {
    let (r, peak) = tracking::peak_during(load);
    assert!(
        peak <= budget(input.len()),
        "{what}: held {peak} bytes at once for {} bytes of input",
        input.len()
    );
    r
}

/// The proptest configuration: `NN_FUZZ_CASES` cases (default 64), no persistence of
/// failures into files (the input is printed instead).
pub fn config() -> Config {
    let cases = std::env::var("NN_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Byte edits, a cut and a tail applied to `seed`: the random mutation strategy.
pub fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        prop::option::of(any::<prop::sample::Index>()),
        prop::collection::vec(any::<u8>(), 0..4),
    )
        .prop_map(move |(edits, cut, tail)| {
            let mut bytes = seed.clone();
            for (at, b) in edits {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = b;
                }
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            bytes.extend(tail);
            bytes
        })
}

/// Numbers a hostile header might hold in place of a genuine one.
pub const HOSTILE_NUMBERS: [&str; 14] = [
    "0",
    "1",
    "-1",
    "255",
    "65536",
    "4294967295",
    "4294967296",
    "1099511627776",
    "18446744073709551615",
    "18446744073709551616",
    "1e308",
    "1e39",
    "NaN",
    "99999999999999999999999999",
];
