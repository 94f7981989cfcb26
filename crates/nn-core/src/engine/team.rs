//! A team of threads for splitting one training step: a fork–join on persistent,
//! briefly spinning worker threads.
//!
//! A training step at batch size 64 lasts about half a millisecond and needs a fork and a
//! join per layer, so waking a sleeping thread (tens of microseconds) for each would cost
//! more than it gains. The workers of a [`Team`] spin for a while after each job and only
//! then sleep, so the forks of one step reach a running thread.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::CoreError;

/// How long an idle worker spins before it sleeps.
const SPIN: Duration = Duration::from_micros(300);

/// A job: part `t` of the current fork, called once on each thread.
type Job<'a> = dyn Fn(usize) + Sync + 'a;

/// A value alone on its cache line, so that writes to it do not slow down readers of
/// its neighbours (the caller writes `post`, the workers `pending`).
#[repr(align(64))]
struct Line<T>(T);

/// State shared by the caller and the workers.
struct Shared {
    /// The generation, incremented once per fork (a worker runs a job when it sees a
    /// new value), and the current job (a pointer to a borrowed closure; see
    /// [`Team::run`]), on one line: a worker reads both after one miss.
    post: Line<(AtomicUsize, AtomicPtr<&'static Job<'static>>)>,
    /// Workers that have not finished the current job.
    pending: Line<AtomicUsize>,
    /// Set if a part panicked.
    panicked: AtomicBool,
    /// Set when the team is dropped.
    stop: AtomicBool,
    /// Workers asleep (or about to be) on `wake`.
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

/// A fixed number of threads that run the parts of a step together: the calling thread
/// runs part 0 and `threads − 1` workers run the others.
///
/// Built by [`Workspace::with_threads`](crate::Workspace::with_threads), which is how a
/// training step uses it. The workers live as long as the team; an idle worker spins for
/// about 0.3 ms and then sleeps until the next step.
pub(crate) struct Team {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    /// Held by the thread running a fork; a second caller runs its parts alone.
    running: Mutex<()>,
}

impl std::fmt::Debug for Team {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Team")
            .field("threads", &self.threads())
            .finish()
    }
}

impl Team {
    /// A team of `threads` threads (the caller and `threads − 1` new workers).
    ///
    /// # Errors
    /// [`CoreError::InvalidHyperParameter`] for 0 threads, [`CoreError::Threads`] if the
    /// operating system refuses a thread.
    pub(crate) fn new(threads: usize) -> Result<Self, CoreError> {
        if threads == 0 {
            return Err(CoreError::InvalidHyperParameter {
                op: "Team::new",
                name: "threads".into(),
                value: 0.0,
                requirement: "must be at least 1",
            });
        }
        let shared = Arc::new(Shared {
            post: Line((AtomicUsize::new(0), AtomicPtr::new(std::ptr::null_mut()))),
            pending: Line(AtomicUsize::new(0)),
            panicked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        });
        let mut team = Self {
            shared,
            workers: Vec::with_capacity(threads - 1),
            running: Mutex::new(()),
        };
        for part in 1..threads {
            let shared = Arc::clone(&team.shared);
            let handle = std::thread::Builder::new()
                .name(format!("nn-core-team-{part}"))
                .spawn(move || work(&shared, part))
                .map_err(|e| CoreError::Threads(e.to_string()))?;
            // On error, dropping `team` stops the workers started so far.
            team.workers.push(handle);
        }
        Ok(team)
    }

    /// The number of threads, counting the caller.
    pub(crate) fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// Runs `job(t)` for every part `t` in `0..threads()` at the same time and returns when
    /// all have finished. If another thread is running a fork on this team (or `job`
    /// itself calls `run`), the parts run one after another on the calling thread
    /// instead: the same results, without parallelism.
    pub(crate) fn run(&self, job: &Job<'_>) {
        if self.workers.is_empty() {
            job(0);
            return;
        }
        let _guard: MutexGuard<'_, ()> = match self.running.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                (0..self.threads()).for_each(job);
                return;
            }
        };
        let s = &*self.shared;
        // SAFETY (lifetime): the workers dereference this pointer only between the
        // generation bump below and their decrement of `pending`, and this function does
        // not return before `pending` is 0, so `job` outlives every use.
        let erased: &'static Job<'static> =
            unsafe { std::mem::transmute::<&Job<'_>, &'static Job<'static>>(job) };
        let slot = (&raw const erased).cast_mut();
        s.post.0.1.store(slot, Ordering::Relaxed);
        s.pending.0.store(self.workers.len(), Ordering::Relaxed);
        s.post.0.0.fetch_add(1, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            let _l = s.lock.lock().unwrap_or_else(|p| p.into_inner());
            s.wake.notify_all();
        }
        let mine = catch_unwind(AssertUnwindSafe(|| job(0)));
        while s.pending.0.load(Ordering::Acquire) != 0 {
            std::hint::spin_loop();
        }
        if let Err(payload) = mine {
            resume_unwind(payload);
        }
        if s.panicked.swap(false, Ordering::SeqCst) {
            panic!("a part of a parallel step panicked on a team worker thread");
        }
    }
}

/// A worker's loop: wait for a new generation, run its part, report, repeat.
fn work(s: &Shared, part: usize) {
    let mut seen = 0;
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        let generation = loop {
            let g = s.post.0.0.load(Ordering::Acquire);
            if g != seen {
                break g;
            }
            std::hint::spin_loop();
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(1024) && start.elapsed() > SPIN {
                let mut guard = s.lock.lock().unwrap_or_else(|p| p.into_inner());
                s.sleepers.fetch_add(1, Ordering::SeqCst);
                while s.post.0.0.load(Ordering::SeqCst) == seen {
                    guard = s.wake.wait(guard).unwrap_or_else(|p| p.into_inner());
                }
                s.sleepers.fetch_sub(1, Ordering::SeqCst);
            }
        };
        if s.stop.load(Ordering::Acquire) {
            return;
        }
        seen = generation;
        let slot = s.post.0.1.load(Ordering::Relaxed);
        if !slot.is_null() {
            // SAFETY: `run` keeps the closure and the slot alive until `pending` is 0,
            // which cannot happen before the decrement below.
            let job: &Job<'_> = unsafe { *slot };
            if catch_unwind(AssertUnwindSafe(|| job(part))).is_err() {
                s.panicked.store(true, Ordering::SeqCst);
            }
        }
        s.pending.0.fetch_sub(1, Ordering::Release);
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.post.0.0.fetch_add(1, Ordering::SeqCst);
        {
            let _l = self.shared.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.shared.wake.notify_all();
        }
        for w in self.workers.drain(..) {
            // A worker never panics outside a job (jobs are caught), so this cannot fail.
            let _ = w.join();
        }
    }
}

/// `t·n/p .. (t+1)·n/p`: part `t` of `p` of `n` indices (a batch's examples), so that the
/// parts cover `0..n` once, in order.
pub(crate) fn part_rows(n: usize, t: usize, p: usize) -> std::ops::Range<usize> {
    t * n / p..(t + 1) * n / p
}

/// Part `t` of `p` of `n` rows of a column-major matrix (a layer's inputs, or its
/// biases): as [`part_rows`] with the inner boundaries rounded to the nearest multiple
/// of 16, so that two threads' blocks of one column never share a 64-byte cache line (in
/// f32; two lines in f64). Writing neighbouring halves of the same lines made each
/// thread's share of the input gather as slow as the whole gather on one thread. (Rounded
/// down, 784 inputs split 384 + 400, and the second thread, which also starts each fork
/// later, took 5–12 µs longer per phase of a W1 step; 400 + 384 balances them.)
pub(crate) fn part_lines(n: usize, t: usize, p: usize) -> std::ops::Range<usize> {
    let bound = |t: usize| match t {
        _ if t >= p => n,
        _ => ((t * n / p + 8) / 16 * 16).min(n),
    };
    bound(t)..bound(t + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn every_part_runs_once_per_fork() {
        for threads in 1..=3 {
            let team = Team::new(threads).unwrap();
            let hits: Vec<AtomicU64> = (0..threads).map(|_| AtomicU64::new(0)).collect();
            for _ in 0..1000 {
                team.run(&|t| {
                    hits[t].fetch_add(1, Ordering::Relaxed);
                });
            }
            for h in &hits {
                assert_eq!(h.load(Ordering::Relaxed), 1000);
            }
        }
    }

    #[test]
    fn sleeping_workers_wake_up() {
        let team = Team::new(2).unwrap();
        let sum = AtomicU64::new(0);
        for i in 0..3 {
            std::thread::sleep(SPIN * 3);
            team.run(&|t| {
                sum.fetch_add(t as u64 + i, Ordering::Relaxed);
            });
        }
        // Parts 0 and 1 in each of rounds 0, 1, 2: (0 + i) + (1 + i).
        assert_eq!(sum.load(Ordering::Relaxed), (1..=5).step_by(2).sum::<u64>());
    }

    #[test]
    fn a_nested_fork_runs_sequentially() {
        let team = Team::new(2).unwrap();
        let count = AtomicU64::new(0);
        team.run(&|_| {
            team.run(&|_| {
                count.fetch_add(1, Ordering::Relaxed);
            });
        });
        assert_eq!(count.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn a_panicking_part_panics_the_caller_after_the_join() {
        let team = Team::new(2).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| {
            team.run(&|t| assert!(t == 0, "part {t} fails"));
        }));
        assert!(r.is_err());
        // The team still works afterwards.
        let count = AtomicU64::new(0);
        team.run(&|_| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(count.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn forks_from_two_threads_at_once_each_run_every_part() {
        // The second caller finds the team busy and runs its parts itself.
        let team = Team::new(2).unwrap();
        let hits: Vec<AtomicU64> = (0..2).map(|_| AtomicU64::new(0)).collect();
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..500 {
                        team.run(&|t| {
                            hits[t].fetch_add(1, Ordering::Relaxed);
                        });
                    }
                });
            }
        });
        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1000));
    }

    #[test]
    fn zero_threads_is_an_error() {
        assert!(Team::new(0).is_err());
    }

    #[test]
    fn parts_cover_the_rows_once() {
        for n in 0..70 {
            for p in 1..5 {
                let all: Vec<usize> = (0..p).flat_map(|t| part_rows(n, t, p)).collect();
                assert_eq!(all, (0..n).collect::<Vec<_>>());
                let all: Vec<usize> = (0..p).flat_map(|t| part_lines(n, t, p)).collect();
                assert_eq!(all, (0..n).collect::<Vec<_>>());
                for t in 1..p {
                    // An inner boundary is on a line, or the end (an empty last part).
                    let start = part_lines(n, t, p).start;
                    assert!(
                        start.is_multiple_of(16) || start == n,
                        "{n} rows, part {t} of {p}"
                    );
                }
            }
        }
        assert_eq!(part_lines(784, 0, 2), 0..400);
        assert_eq!(part_lines(25, 2, 3), 16..25);
    }
}
