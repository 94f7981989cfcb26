//! Data parallelism: a batch's columns split across threads, each part's gradient
//! computed with its own workspace, and the parts combined in a fixed order.

use nn_core::{Dropout, Gradient, Loss, Network, Workspace};
use nn_math::Real;
use nn_math::nalgebra::DMatrixView;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::TrainError;
use crate::trainer::argmax;

/// One batch: inputs and targets (one example per column), the examples' indices in the
/// data set, and their classes (for accuracy) if the targets are one-hot.
pub(crate) struct Batch<'a, T> {
    pub x: &'a DMatrixView<'a, T>,
    pub y: &'a DMatrixView<'a, T>,
    pub indices: &'a [usize],
    pub classes: Option<&'a [usize]>,
}

impl<T: Real> Batch<'_, T> {
    /// Forward and backward pass over columns `a..a + w`: adds their mean gradient to
    /// `grad`; returns their mean loss and how many of them were classified right.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn part_gradient(
        &self,
        net: &Network<T>,
        (a, w): (usize, usize),
        loss: &(dyn Loss<T> + Send + Sync),
        dropout: Option<&Dropout>,
        rng: &mut StdRng,
        ws: &mut Workspace<T>,
        grad: &mut Gradient<T>,
    ) -> Result<(T, usize), TrainError> {
        let right = self.forward(net, (a, w), dropout, rng, ws)?;
        let l = net.adjust_gradient(ws, &self.y.columns(a, w), loss, grad)?;
        Ok((l, right))
    }

    /// The forward pass over columns `a..a + w` (with dropout, if any); returns how many
    /// of them were classified right.
    pub(crate) fn forward(
        &self,
        net: &Network<T>,
        (a, w): (usize, usize),
        dropout: Option<&Dropout>,
        rng: &mut StdRng,
        ws: &mut Workspace<T>,
    ) -> Result<usize, TrainError> {
        let x = self.x.columns(a, w);
        let out = match dropout {
            Some(d) => net.evaluate_with_dropout(&x, ws, d, rng)?,
            None => net.evaluate_with(&x, ws)?,
        };
        Ok(self.classes.map_or(0, |classes| {
            self.indices[a..a + w]
                .iter()
                .enumerate()
                .filter(|&(c, &i)| argmax(out.column(c).as_slice()) == classes[i])
                .count()
        }))
    }
}

/// The state of one part: its workspace and gradient persist across batches.
struct Slot<T: Real> {
    workspace: Workspace<T>,
    gradient: Option<Gradient<T>>,
    seed: u64,
    columns: (usize, usize),
    outcome: Option<Result<(T, usize), TrainError>>,
}

/// A thread pool and one slot per thread. The pool's threads live as long as the trainer,
/// so their packing buffers (nn-math's GEMM) are reused from batch to batch.
pub(crate) struct Parallel<T: Real> {
    pool: rayon::ThreadPool,
    slots: Vec<Slot<T>>,
}

impl<T: Real> Parallel<T> {
    pub(crate) fn new(threads: usize) -> Result<Self, TrainError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| {
                TrainError::Data(format!("cannot start {threads} training threads: {e}"))
            })?;
        let slots = (0..threads)
            .map(|_| Slot {
                workspace: Workspace::new(),
                gradient: None,
                seed: 0,
                columns: (0, 0),
                outcome: None,
            })
            .collect();
        Ok(Self { pool, slots })
    }

    /// The batch's mean gradient into `grad` (cleared first) and its mean loss: part `i`
    /// of `p` holds columns `i·B/p .. (i+1)·B/p` and draws its dropout masks from its own
    /// RNG, seeded from `rng`; the parts' gradients are summed in part order, weighted by
    /// their sizes. The same thread count therefore gives the same result every run.
    pub(crate) fn gradient(
        &mut self,
        net: &Network<T>,
        batch: &Batch<'_, T>,
        loss: &(dyn Loss<T> + Send + Sync),
        dropout: Option<&Dropout>,
        grad: &mut Gradient<T>,
        rng: &mut StdRng,
    ) -> Result<(T, usize), TrainError> {
        let len = batch.x.ncols();
        let parts = self.slots.len().min(len);
        for (i, slot) in self.slots.iter_mut().enumerate().take(parts) {
            if slot
                .gradient
                .as_ref()
                .is_none_or(|g| g.check_shapes(net).is_err())
            {
                slot.gradient = Some(net.gradient());
            }
            let (a, b) = (i * len / parts, (i + 1) * len / parts);
            slot.columns = (a, b - a);
            slot.seed = rng.random::<u64>();
            slot.outcome = None;
        }
        let slots = &mut self.slots[..parts];
        self.pool.install(|| run(slots, net, batch, loss, dropout));

        grad.clear();
        let total = T::lit(len as f64);
        let (mut loss_sum, mut right_sum) = (T::zero(), 0);
        for slot in &mut self.slots[..parts] {
            let (l, right) = slot
                .outcome
                .take()
                .unwrap_or_else(|| Err(TrainError::Data("a batch part did not run".into())))?;
            let share = T::lit(slot.columns.1 as f64) / total;
            loss_sum += share * l;
            right_sum += right;
            if let Some(g) = &slot.gradient {
                grad.add_scaled(g, share)?;
            }
        }
        Ok((loss_sum, right_sum))
    }
}

/// Runs every slot's part, splitting the slots in halves with `rayon::join`.
fn run<T: Real>(
    slots: &mut [Slot<T>],
    net: &Network<T>,
    batch: &Batch<'_, T>,
    loss: &(dyn Loss<T> + Send + Sync),
    dropout: Option<&Dropout>,
) {
    match slots {
        [] => {}
        [slot] => {
            let mut rng = StdRng::seed_from_u64(slot.seed);
            slot.outcome = Some(match slot.gradient.as_mut() {
                Some(g) => {
                    g.clear();
                    batch.part_gradient(
                        net,
                        slot.columns,
                        loss,
                        dropout,
                        &mut rng,
                        &mut slot.workspace,
                        g,
                    )
                }
                None => Err(TrainError::Data("a batch part has no gradient".into())),
            });
        }
        _ => {
            let (left, right) = slots.split_at_mut(slots.len() / 2);
            rayon::join(
                || run(left, net, batch, loss, dropout),
                || run(right, net, batch, loss, dropout),
            );
        }
    }
}
