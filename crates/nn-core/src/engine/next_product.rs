//! The next step's first-layer product, accumulated while a [`Feed`](crate::Feed)'s
//! `descend` updates the first layer, for batches of fewer than four examples.
//!
//! At such batch sizes a step streams the first layer's weights twice: the forward pass's
//! matrix-vector product `W⁽¹⁾·x` reads them, and the update `W⁽¹⁾ ← W⁽¹⁾ − (α/B)·d·xᵀ`
//! reads and writes them, each pass as long as the weights are large (784 × 128 in f32 is
//! 400 KB, beyond the L1 cache). A feed knows the next example, so while the update has
//! a block of new weights in the L1 cache it also adds that block's share of the next
//! product, `W⁽¹⁾[:, C]·x_next[C]`; the next `evaluate` then finds its product done.
//! [`nn_math::add_mul_columns`] adds the terms in the order of the forward pass's own
//! product, so the result is the same, bit for bit.
//!
//! The product is used only if nothing can have changed in between: the same network
//! in the same state (its [`Version`]), the columns named as
//! next, no dropout on the inputs, and the same split of the first layer's inputs
//! between the threads (each thread's partial product is kept apart, as the forward pass
//! computes it).

use std::any::TypeId;

use nn_math::{ALIGN, AlignedVec, Real};

use super::rows::Rows;
use crate::CoreError;
use crate::network::Version;

/// The workspace's store of a precomputed first-layer product.
#[derive(Clone, Debug, Default)]
pub(crate) struct NextProduct<T> {
    /// The columns the last `Feed::evaluate` named as next.
    pub(crate) upcoming: Vec<usize>,
    /// The columns `values` are for.
    pub(crate) columns: Vec<usize>,
    /// Part `t`'s product for column `j`, `W[:, C_t]·x_j[C_t]`, at
    /// `(t·columns.len() + j)·stride`, `n₁` long: each on its own cache lines, so that
    /// the threads accumulating them never write the same line.
    pub(crate) values: AlignedVec<T>,
    /// `n₁` rounded up to whole cache lines.
    pub(crate) stride: usize,
    /// Into how many blocks `C_t` the first layer's inputs were split.
    pub(crate) parts: usize,
    /// The state of the network the values belong to; `None` if there are none.
    pub(crate) version: Option<Version>,
}

impl<T: Real> NextProduct<T> {
    /// Forgets the values and the upcoming columns.
    pub(crate) fn forget(&mut self) {
        self.upcoming.clear();
        self.version = None;
    }

    /// Whether the values are the product of the network in state `version` with
    /// `columns`; they are forgotten either way (a product serves one step).
    pub(crate) fn take(&mut self, version: Version, columns: &[usize]) -> bool {
        let valid = self.version == Some(version) && self.columns == columns;
        self.version = None;
        valid
    }

    /// Whether a step at batch size `batch` can accumulate the next product in its update
    /// of the first layer: a thin update (fewer than four examples) now and a thin
    /// product next, in `f32` or `f64` (the types whose products
    /// [`nn_math::add_mul_columns`] reproduces).
    pub(crate) fn wanted(&self, batch: usize) -> bool {
        let float =
            TypeId::of::<T>() == TypeId::of::<f32>() || TypeId::of::<T>() == TypeId::of::<f64>();
        float && (1..4).contains(&batch) && (1..4).contains(&self.upcoming.len())
    }

    /// The job of accumulating the upcoming columns' product of `n` rows in `parts`
    /// parts, from `data` (`n0` rows, one example per column), into `values`.
    pub(crate) fn job<'a>(
        &'a mut self,
        data: &'a [T],
        n0: usize,
        n: usize,
        parts: usize,
    ) -> NextJob<'a, T> {
        let cols = self.upcoming.len();
        self.columns.clear();
        self.columns.extend_from_slice(&self.upcoming);
        self.parts = parts;
        self.version = None;
        self.stride = n.next_multiple_of(ALIGN / std::mem::size_of::<T>());
        if self.values.len() < self.stride * parts * cols {
            self.values = AlignedVec::zeroed(self.stride * parts * cols);
        }
        NextJob {
            data,
            n0,
            n,
            columns: &self.columns,
            out: Rows::new(&mut self.values, self.stride, parts * cols),
        }
    }
}

/// Accumulating the next product during the first layer's update: thread `t` adds, after
/// updating each block `cols` of its columns `C_t`, `W[:, cols]·x_j[cols]` to its output
/// for every upcoming column `j`.
pub(crate) struct NextJob<'a, T> {
    data: &'a [T],
    n0: usize,
    /// The layer's neurons (the products' length).
    n: usize,
    columns: &'a [usize],
    out: Rows<'a, T>,
}

impl<T: Real> NextJob<'_, T> {
    /// Zeroes part `t`'s outputs (before its first block).
    ///
    /// # Safety
    /// Part `t`'s outputs must be the calling thread's alone in this fork.
    pub(crate) unsafe fn start(&self, t: usize) {
        let cols = self.columns.len();
        for j in 0..cols {
            // SAFETY: forwarded from the caller.
            unsafe { self.out.segment_mut(t * cols + j, 0..self.n) }.fill(T::zero());
        }
    }

    /// Adds block `block` of the layer's columns (new weights `w`, `n₁ × block.len()`,
    /// column-major) to part `t`'s products.
    ///
    /// # Errors
    /// [`CoreError::Math`] if `w` is not `n₁ × block.len()` (a caller's bug).
    ///
    /// # Safety
    /// Part `t`'s outputs must be the calling thread's alone in this fork.
    pub(crate) unsafe fn add(
        &self,
        t: usize,
        w: &[T],
        block: std::ops::Range<usize>,
    ) -> Result<(), CoreError> {
        let (cols, n) = (self.columns.len(), self.n);
        for (j, &c) in self.columns.iter().enumerate() {
            let x = &self.data[c * self.n0..][block.clone()];
            // SAFETY: forwarded from the caller.
            let y = unsafe { self.out.segment_mut(t * cols + j, 0..n) };
            nn_math::add_mul_columns(w, x, y)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{HalfSquaredError, Network, SplitRule, Workspace};
    use nn_activations::{Identity, Relu, Tanh};
    use nn_math::{Matrix, Real};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// Steps of batch sizes `sizes` through a feed (each naming the next) and through the
    /// plain calls: the same weights, bit for bit; returns how many of the feed's forward
    /// passes found their first-layer product done.
    fn compare<T: Real>(n0: usize, threads: usize, rule: SplitRule, sizes: &[usize]) -> usize {
        let net = Network::<T>::builder(n0)
            .layer(7, Tanh)
            .layer(3, Relu)
            .layer(2, Identity)
            .build(&mut StdRng::seed_from_u64(5))
            .unwrap();
        let data = Matrix::from_fn(n0, 40, |i, j| {
            T::lit(((i * 7 + j * 11) % 13) as f64 / 6.0 - 1.0)
        });
        let mut batches = Vec::new();
        let mut at = 0;
        for &b in sizes {
            batches.push((at..at + b).map(|c| c % 40).collect::<Vec<_>>());
            at += b;
        }
        // f32 and f64 values convert to f64 exactly, so equal bits there are equal bits.
        let same = |a: &Matrix<T>, b: &Matrix<T>| {
            a.iter()
                .zip(b.iter())
                .all(|(x, y)| x.as_f64().to_bits() == y.as_f64().to_bits())
        };
        let (mut fed, mut plain) = (net.clone(), net);
        let mut ws = Workspace::with_threads(threads).unwrap();
        let mut pws = Workspace::with_threads(threads).unwrap();
        ws.set_split_rule(rule);
        pws.set_split_rule(rule);
        let mut feed = ws.feed(&data);
        let mut used = 0;
        for (i, cols) in batches.iter().enumerate() {
            let next = batches.get(i + 1).map_or(&[][..], |b| &b[..]);
            let y = Matrix::from_fn(2, cols.len(), |r, j| {
                T::lit(((r + cols[j]) % 3) as f64 / 2.0)
            });
            let ready = feed.workspace().next_product.version == Some(fed.version())
                && feed.workspace().next_product.columns == *cols;
            let a = feed.evaluate(&fed, cols, next).unwrap().clone_owned();
            used += usize::from(ready);
            let b = plain
                .evaluate_columns(&data, cols, &mut pws)
                .unwrap()
                .clone_owned();
            assert!(same(&a, &b));
            let la = feed
                .descend(&mut fed, &y, &HalfSquaredError, T::lit(0.3))
                .unwrap();
            let lb = plain
                .descend(&mut pws, &y, &HalfSquaredError, T::lit(0.3))
                .unwrap();
            assert_eq!(la.as_f64().to_bits(), lb.as_f64().to_bits());
            assert_eq!(fed, plain);
        }
        used
    }

    #[test]
    fn a_product_computed_ahead_is_the_forward_pass_s_bit_for_bit() {
        let sizes = [1, 1, 2, 3, 1, 4, 1, 2, 5, 3, 3, 1];
        for threads in [1, 2, 3] {
            // A small first layer (on the calling thread alone) and a large one (split by
            // inputs), in f64 and f32, and every layer split by examples (no product
            // ahead on more than one thread). Steps 1–4, 7, 10 and 11 follow a step of
            // fewer than four examples and have fewer than four themselves.
            for n0 in [9, 3000] {
                assert_eq!(compare::<f64>(n0, threads, SplitRule::Auto, &sizes), 7);
                assert_eq!(compare::<f32>(n0, threads, SplitRule::Auto, &sizes), 7);
            }
            let expected = if threads == 1 { 7 } else { 0 };
            let by_examples = compare::<f64>(9, threads, SplitRule::ByInputs(0), &sizes);
            assert_eq!(by_examples, expected);
        }
    }

    /// A product computed ahead is not used once the network has changed, for other
    /// columns, or when the inputs are dropped out: each forward pass equals the plain
    /// call's.
    #[test]
    fn a_product_is_not_used_once_anything_changed() {
        use crate::Dropout;
        let data = Matrix::from_fn(6, 5, |i, j| ((i * 5 + j * 3) % 11) as f64 / 5.0 - 1.0);
        let y = Matrix::from_element(2, 1, 0.25);
        let mut net = Network::<f64>::builder(6)
            .layer(4, Tanh)
            .layer(2, Identity)
            .build(&mut StdRng::seed_from_u64(2))
            .unwrap();
        let mut ws = Workspace::new();
        let mut plain = Workspace::new();
        let mut feed = ws.feed(&data);
        let same = |a: &Matrix<f64>, b: &Matrix<f64>| {
            a.iter()
                .zip(b.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits())
        };
        for case in 0..3 {
            feed.evaluate(&net, &[0], &[1]).unwrap();
            feed.descend(&mut net, &y, &HalfSquaredError, 0.5).unwrap();
            let got = match case {
                0 => {
                    net.engine_layers_mut()[0].weight_mut()[(1, 2)] += 0.5;
                    feed.evaluate(&net, &[1], &[]).unwrap().clone_owned()
                }
                1 => feed.evaluate(&net, &[2], &[]).unwrap().clone_owned(),
                _ => {
                    let d = Dropout::new(vec![0.5, 0.0]).unwrap();
                    let mut rng = StdRng::seed_from_u64(9);
                    feed.evaluate_with_dropout(&net, &[1], &[], &d, &mut rng)
                        .unwrap()
                        .clone_owned()
                }
            };
            let want = match case {
                0 => net.evaluate_columns(&data, &[1], &mut plain),
                1 => net.evaluate_columns(&data, &[2], &mut plain),
                _ => {
                    let d = Dropout::new(vec![0.5, 0.0]).unwrap();
                    let mut rng = StdRng::seed_from_u64(9);
                    net.evaluate_columns_with_dropout(&data, &[1], &mut plain, &d, &mut rng)
                }
            };
            assert!(same(&got, &want.unwrap().clone_owned()), "case {case}");
        }
    }

    /// A product computed in two parts (the first layer split by inputs between two
    /// threads) is not used by a pass that runs that layer whole (on the calling thread):
    /// its sums would be in another order.
    #[test]
    fn a_product_in_other_parts_is_not_used() {
        let data = Matrix::from_fn(9, 3, |i, j| ((i * 4 + j) % 5) as f64 / 3.0 - 0.7);
        let y = Matrix::from_element(2, 1, -0.5);
        let mut net = Network::<f64>::builder(9)
            .layer(5, Tanh)
            .layer(2, Identity)
            .build(&mut StdRng::seed_from_u64(8))
            .unwrap();
        let mut ws = Workspace::with_threads(2).unwrap();
        ws.set_split_rule(SplitRule::ByInputs(1));
        let mut feed = ws.feed(&data);
        feed.evaluate(&net, &[0], &[1]).unwrap();
        feed.descend(&mut net, &y, &HalfSquaredError, 0.5).unwrap();
        assert_eq!(feed.workspace().next_product.parts, 2);
        feed.workspace().set_split_rule(SplitRule::Auto); // the small first layer alone
        let got = feed.evaluate(&net, &[1], &[]).unwrap().clone_owned();
        let mut plain = Workspace::new();
        let want = net.evaluate_columns(&data, &[1], &mut plain).unwrap();
        assert!(
            got.iter()
                .zip(want.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
    }
}
