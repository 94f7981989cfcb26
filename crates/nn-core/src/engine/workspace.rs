//! Scratch buffers of the forward and backward passes, owned by the caller.

use std::sync::Arc;

use nn_math::{AlignedVec, MatrixView, Real};

use super::ahead::AheadBuffer;
use super::next_product::NextProduct;
use super::split::{SplitRule, Splitter};

use super::team::Team;
use crate::{CoreError, Network};

/// The intermediate values of a batch: pre-activations `S⁽ᵏ⁾`, activations `A⁽ᵏ⁾`,
/// deltas `D⁽ᵏ⁾`, and dropout masks `r⁽ᵏ⁾`, each `n_k × B`, column by column.
///
/// A workspace keeps these out of the [`crate::Network`], so evaluating takes `&self`.
/// Its buffers grow to the largest batch they have served and are then reused: after the
/// first batch, passes of that size or smaller allocate nothing. One workspace serves
/// one training step; [`crate::Network::adjust_gradient`] uses the pass that the last
/// `evaluate_with` call on it stored.
///
/// # Threads
/// A workspace made by [`Workspace::with_threads`] shares each pass between its threads,
/// layer by layer, in one of two ways ([`SplitRule`] picks which):
///
/// - **by inputs**, for a layer with many weights: thread `t` owns a block `C_t` of the
///   layer's inputs, i.e. contiguous columns `W[:, C_t]` of its weights, which it alone
///   reads and updates, so they stay in its own cache. In the forward pass it computes
///   the partial product `W[:, C_t]·A[C_t, :]`, and the partial products are added in
///   thread order; backwards it computes rows `C_t` of the delta below.
/// - **by examples**, for a small layer: thread `t` computes columns `J_t` of the batch
///   (its examples) forwards and backwards, reading all of `W`.
///
/// Either way, the weights' term `D·Aᵀ` of the update is split by inputs (each thread
/// adds it to its own columns of `W`), so there is no gradient to combine, and no thread
/// writes weights that another may still read: a layer split by examples is updated in
/// the next fork, after every thread has propagated through it. A layer too small to
/// share runs on the calling thread alone, which updates it at once. Each element is
/// computed by the same arithmetic whichever thread owns it, so results do not depend
/// on scheduling: the same thread count gives the same bits every run (and the batch's
/// loss is summed over the examples in order, as on one thread).
///
/// ```
/// use nn_core::{Network, Workspace};
/// use nn_activations::{Identity, Relu};
/// use nn_math::Matrix;
/// use rand::{SeedableRng, rngs::StdRng};
///
/// let mut rng = StdRng::seed_from_u64(1);
/// let net = Network::<f64>::builder(3).layer(8, Relu).layer(2, Identity).build(&mut rng)?;
/// let x = Matrix::from_fn(3, 5, |i, j| (i + j) as f64 / 7.0);
/// let mut one = Workspace::new();
/// let mut two = Workspace::with_threads(2)?;
/// assert_eq!(two.threads(), 2);
/// let a = net.evaluate_with(&x, &mut one)?.clone_owned();
/// let b = net.evaluate_with(&x, &mut two)?.clone_owned();
/// assert!((a - b).amax() < 1e-12);
/// # Ok::<(), nn_core::CoreError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Workspace<T> {
    /// The threads that share each step, if more than the caller's.
    pub(crate) team: Option<Arc<Team>>,
    /// How each layer's work is split between the threads.
    pub(crate) split: SplitRule,
    /// Whether every value the last backward pass wrote (weights or gradient) was finite.
    pub(crate) update_finite: bool,
    /// Widths `n₀..n_L` of the network of the stored pass.
    pub(crate) widths: Vec<usize>,
    /// Columns of the stored pass; 0 when there is none.
    pub(crate) batch: usize,
    /// Into how many blocks of examples the stored pass of a network that is not all
    /// dense was split between the threads (1: not split); see `engine::examples`.
    pub(crate) parts: usize,
    /// Each thread's own gradient (threads 1, 2, …) for such a split backward pass.
    pub(crate) part_grads: Vec<crate::Gradient<T>>,
    /// The addresses of each layer's buffers for such a split pass, taken anew for each.
    pub(crate) runs: Vec<super::rows::RawRun<T>>,
    /// `A⁽⁰⁾`: the (possibly dropped-out) input.
    pub(crate) input: Vec<T>,
    /// `S⁽ᵏ⁾` at index `k − 1`.
    pub(crate) pre: Vec<Vec<T>>,
    /// `A⁽ᵏ⁾` at index `k − 1`.
    pub(crate) act: Vec<Vec<T>>,
    /// `D⁽ᵏ⁾` at index `k − 1`, from a cache line (the `A` of the update's `D·Aᵀ`, which
    /// the product then reads in place).
    pub(crate) delta: Vec<AlignedVec<T>>,
    /// With `p` threads, the partial products `W⁽ᵏ⁾[:, C_t]·A⁽ᵏ⁻¹⁾[C_t, :]` of threads
    /// `t = 1..p` at index `k − 1`, one `n_k × B` block after the other (thread 0 writes
    /// its share straight into `S⁽ᵏ⁾`).
    pub(crate) partial: Vec<Vec<T>>,
    /// The targets of the last `adjust_gradient`, copied to contiguous columns.
    pub(crate) target: Vec<T>,
    /// Each example's loss in the last backward pass, summed in order afterwards.
    pub(crate) example_loss: Vec<T>,
    /// `r⁽ᵏ⁾` at index `k` for `k = 0..L−1`, valid where `masked[k]`.
    pub(crate) masks: Vec<Vec<T>>,
    /// Whether layer `k`'s activations were dropped out in the stored pass.
    pub(crate) masked: Vec<bool>,
    /// The next batch's inputs, gathered ahead during a [`Feed`](crate::Feed)'s steps.
    pub(crate) ahead: AheadBuffer<T>,
    /// The next step's first-layer product, if a feed's `descend` computed it.
    pub(crate) next_product: NextProduct<T>,
    /// The gradient through which `descend` updates a network that is not all dense.
    pub(crate) descent_gradient: Option<crate::Gradient<T>>,
    /// The valid steps of each example of the next batches (empty: no lengths).
    pub(crate) lengths: Vec<usize>,
    /// Per layer, each thread's sums of the learned activation parameters (`learned_len`
    /// values per thread; none for a layer that learns none).
    pub(crate) learned: Vec<Vec<T>>,
    /// Per layer, how many learned values it has (each thread's share of `learned`).
    pub(crate) learned_len: Vec<usize>,
}

impl<T: Real> Workspace<T> {
    /// An empty workspace (see [`crate::Network::workspace`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty workspace whose passes are split between `threads` threads (the caller and
    /// `threads − 1` workers it starts; `1` is [`Workspace::new`]). See the type's
    /// documentation for how the work is split.
    ///
    /// # Errors
    /// [`CoreError::InvalidHyperParameter`] for 0 threads, [`CoreError::Threads`] if a
    /// thread cannot be started.
    pub fn with_threads(threads: usize) -> Result<Self, CoreError> {
        let team = Team::new(threads)?;
        Ok(Self {
            team: (threads > 1).then(|| Arc::new(team)),
            ..Self::default()
        })
    }

    /// Declares the batches evaluated next to be sequences of different lengths: example
    /// `b` has `lengths[b]` valid steps, padded at the end to the network's steps (guide
    /// §13). Recurrent layers then leave each example's padding out of their output and
    /// gradient, and the loss leaves out the padded steps of a sequence output. An empty
    /// slice goes back to full-length sequences. The lengths stay until set again; each
    /// batch evaluated must have as many examples.
    ///
    /// ```
    /// use nn_core::{HalfSquaredError, Network, Steps};
    /// use nn_activations::{Identity, Tanh};
    /// use nn_math::Matrix;
    /// use rand::SeedableRng;
    ///
    /// let net = Network::<f64>::builder(5 * 2).sequence(5, 2)
    ///     .elman(4, Tanh, Steps::Last).layer(1, Identity)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(1))?;
    /// // Two sequences of 3 and 5 steps; the first padded with two steps of anything.
    /// let mut x = Matrix::from_fn(10, 2, |i, j| (i + j) as f64 / 10.0);
    /// let mut ws = net.workspace();
    /// ws.set_lengths(&[3, 5])?;
    /// let out = net.evaluate_with(&x, &mut ws)?.clone_owned();
    /// // The padding does not matter: the first sequence's output is its step 3's.
    /// for i in 6..10 { x[(i, 0)] = 99.0; }
    /// assert_eq!(net.evaluate_with(&x, &mut ws)?.clone_owned(), out);
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    ///
    /// # Errors
    /// [`CoreError::Architecture`] if the lengths do not fit in memory.
    pub fn set_lengths(&mut self, lengths: &[usize]) -> Result<(), CoreError> {
        self.lengths.clear();
        self.lengths.try_reserve(lengths.len()).map_err(|_| {
            CoreError::Architecture(format!("cannot hold {} sequence lengths", lengths.len()))
        })?;
        self.lengths.extend_from_slice(lengths);
        Ok(())
    }

    /// As [`set_lengths`](Workspace::set_lengths) for the examples `examples` of a data
    /// set whose examples have the lengths `all` (a training batch gathered by index);
    /// allocates nothing once it has held as many.
    ///
    /// # Errors
    /// [`CoreError::ColumnIndex`] for an example past `all`; as
    /// [`set_lengths`](Workspace::set_lengths).
    pub fn set_lengths_of(&mut self, all: &[usize], examples: &[usize]) -> Result<(), CoreError> {
        if let Some(&bad) = examples.iter().find(|&&e| e >= all.len()) {
            return Err(CoreError::ColumnIndex {
                op: "set_lengths_of",
                index: bad,
                columns: all.len(),
            });
        }
        self.lengths.clear();
        self.lengths.try_reserve(examples.len()).map_err(|_| {
            CoreError::Architecture(format!("cannot hold {} sequence lengths", examples.len()))
        })?;
        self.lengths.extend(examples.iter().map(|&e| all[e]));
        Ok(())
    }

    /// The lengths set by [`set_lengths`](Workspace::set_lengths) (empty: none).
    pub fn lengths(&self) -> &[usize] {
        &self.lengths
    }

    /// How this workspace splits layers (a copy, to use while its buffers are borrowed).
    pub(crate) fn splitter(&self) -> Splitter {
        Splitter {
            rule: self.split,
            threaded: self.team.is_some(),
        }
    }

    /// The team, if the passes are split between threads.
    pub(crate) fn team(&self) -> Option<Arc<Team>> {
        self.team.clone()
    }

    /// Sets how a threaded workspace splits each layer (the type's documentation
    /// explains the two ways). Results agree either way up to rounding; the default,
    /// [`SplitRule::Auto`], follows the measurements of `docs/dev-log.md`, and the
    /// others are for tests and for measuring.
    pub fn set_split_rule(&mut self, rule: SplitRule) {
        self.split = rule;
    }

    /// The rule set by [`set_split_rule`](Workspace::set_split_rule).
    pub fn split_rule(&self) -> SplitRule {
        self.split
    }

    /// The number of threads that share each pass (1 for [`Workspace::new`]).
    pub fn threads(&self) -> usize {
        self.team.as_ref().map_or(1, |t| t.threads())
    }

    /// Whether every value the last [`descend`](Network::descend) wrote into the network
    /// (or [`adjust_gradient`](Network::adjust_gradient) into the gradient) is finite;
    /// `false` before the first. Each thread checks the values it has just written, so
    /// this costs less than [`Network::params_finite`] afterwards.
    pub fn last_update_finite(&self) -> bool {
        self.update_finite
    }

    /// A view of the stored pass's output `A⁽ᴸ⁾` (empty if there is none).
    pub(crate) fn output(&self) -> MatrixView<'_, T> {
        let (n, batch) = (self.widths.last().copied().unwrap_or(0), self.batch);
        let out = self.act.last().map_or(&[][..], |a| &a[..n * batch]);
        MatrixView::from_slice(out, n, batch)
    }

    /// The batch size of the stored forward pass (0 if none).
    pub fn batch_size(&self) -> usize {
        self.batch
    }

    /// Sizes the sums of the learned activation parameters for the dense `layers` (the
    /// backward pass's), growing (never shrinking) the allocations.
    pub(crate) fn prepare_learned(&mut self, layers: &[crate::Dense<T>]) {
        let threads = self.threads();
        self.learned.resize_with(layers.len(), Vec::new);
        self.learned_len.resize(layers.len(), 0);
        for ((buf, len), layer) in self
            .learned
            .iter_mut()
            .zip(&mut self.learned_len)
            .zip(layers)
        {
            *len = layer.learned_len();
            if buf.len() < threads * *len {
                buf.resize(threads * *len, T::zero());
            }
        }
    }

    /// Sizes every buffer for `widths` and `batch` columns, growing (never shrinking)
    /// the allocations; forgets the stored pass.
    pub(crate) fn prepare(&mut self, net: &Network<T>, batch: usize) {
        let layers = net.n_layers();
        if !net.has_widths(&self.widths) {
            self.widths.clear();
            self.widths.push(net.n_inputs());
            self.widths.extend(net.layers().map(|l| l.n_outputs()));
        }
        self.batch = 0;
        for bufs in [&mut self.pre, &mut self.act, &mut self.partial] {
            bufs.resize_with(layers, Vec::new);
        }
        self.delta.resize_with(layers, AlignedVec::default);
        self.masks.resize_with(layers, Vec::new);
        self.masked.resize(layers, false);
        self.masked.iter_mut().for_each(|m| *m = false);
        let grow = |buf: &mut Vec<T>, len: usize| {
            if buf.len() < len {
                buf.resize(len, T::zero());
            }
        };
        let n0 = self.widths[0];
        let threads = self.threads();
        grow(&mut self.input, n0 * batch);
        for k in 0..layers {
            let n = self.widths[k + 1];
            grow(&mut self.pre[k], n * batch);
            grow(&mut self.act[k], n * batch);
            if self.delta[k].len() < n * batch {
                self.delta[k] = AlignedVec::zeroed(n * batch);
            }
            grow(&mut self.partial[k], (threads - 1) * n * batch);
        }
        grow(&mut self.target, self.widths[layers] * batch);
        grow(&mut self.example_loss, batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threaded_workspace_can_move_between_threads() {
        fn send_sync<X: Send + Sync>(_: &X) {}
        let ws = Workspace::<f32>::with_threads(2).unwrap();
        send_sync(&ws);
        let clone = ws.clone();
        assert_eq!(
            std::thread::spawn(move || clone.threads()).join().unwrap(),
            2
        );
        assert!(Workspace::<f32>::with_threads(0).is_err());
        assert_eq!(Workspace::<f64>::with_threads(1).unwrap().threads(), 1);
    }
}
