//! Scratch buffers of the forward and backward passes, owned by the caller.

use nn_math::Real;

use crate::Network;

/// The intermediate values of a batch: pre-activations `S⁽ᵏ⁾`, activations `A⁽ᵏ⁾`,
/// deltas `D⁽ᵏ⁾`, and dropout masks `r⁽ᵏ⁾`, each `n_k × B`, column by column.
///
/// A workspace keeps these out of the [`crate::Network`], so evaluating takes `&self`.
/// Its buffers grow to the largest batch they have served and are then reused: after the
/// first batch, passes of that size or smaller allocate nothing. One workspace serves
/// one thread; [`crate::Network::adjust_gradient`] uses the pass that the last
/// `evaluate_with` call on it stored.
#[derive(Clone, Debug, Default)]
pub struct Workspace<T> {
    /// Widths `n₀..n_L` of the network of the stored pass.
    pub(crate) widths: Vec<usize>,
    /// Columns of the stored pass; 0 when there is none.
    pub(crate) batch: usize,
    /// `A⁽⁰⁾`: the (possibly dropped-out) input.
    pub(crate) input: Vec<T>,
    /// `S⁽ᵏ⁾` at index `k − 1`.
    pub(crate) pre: Vec<Vec<T>>,
    /// `A⁽ᵏ⁾` at index `k − 1`.
    pub(crate) act: Vec<Vec<T>>,
    /// `D⁽ᵏ⁾` at index `k − 1`.
    pub(crate) delta: Vec<Vec<T>>,
    /// The targets of the last `adjust_gradient`, copied to contiguous columns.
    pub(crate) target: Vec<T>,
    /// `r⁽ᵏ⁾` at index `k` for `k = 0..L−1`, valid where `masked[k]`.
    pub(crate) masks: Vec<Vec<T>>,
    /// Whether layer `k`'s activations were dropped out in the stored pass.
    pub(crate) masked: Vec<bool>,
}

impl<T: Real> Workspace<T> {
    /// An empty workspace (see [`crate::Network::workspace`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The batch size of the stored forward pass (0 if none).
    pub fn batch_size(&self) -> usize {
        self.batch
    }

    /// Sizes every buffer for `widths` and `batch` columns, growing (never shrinking)
    /// the allocations; forgets the stored pass.
    pub(crate) fn prepare(&mut self, net: &Network<T>, batch: usize) {
        let layers = net.layers().len();
        if !net.has_widths(&self.widths) {
            self.widths.clear();
            self.widths.push(net.n_inputs());
            self.widths
                .extend(net.layers().iter().map(|l| l.n_outputs()));
        }
        self.batch = 0;
        for bufs in [&mut self.pre, &mut self.act, &mut self.delta] {
            bufs.resize_with(layers, Vec::new);
        }
        self.masks.resize_with(layers, Vec::new);
        self.masked.resize(layers, false);
        self.masked.iter_mut().for_each(|m| *m = false);
        let grow = |buf: &mut Vec<T>, len: usize| {
            if buf.len() < len {
                buf.resize(len, T::zero());
            }
        };
        let n0 = self.widths[0];
        grow(&mut self.input, n0 * batch);
        for k in 0..layers {
            let n = self.widths[k + 1];
            grow(&mut self.pre[k], n * batch);
            grow(&mut self.act[k], n * batch);
            grow(&mut self.delta[k], n * batch);
        }
        grow(&mut self.target, self.widths[layers] * batch);
    }
}
