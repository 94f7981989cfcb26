//! W1 and W2 as a plain hand-written loop on one thread: `W1-direct` and `W2-direct` of
//! the benchmark.
//!
//! No `Network`, `Workspace`, `Trainer`, activation or optimizer objects: the 784-128-64-10
//! ReLU network is three weight buffers and three bias vectors, and a step is the
//! textbook sequence (forward pass, output delta, Algorithm 7's deltas, Algorithm 9's
//! update fused into the weight-gradient product) written out with `nn_math`'s products
//! and fixed ReLU loops. It does what the library does for the benchmark's job — gather
//! each batch into a buffer (any order of examples must work), track the loss and the
//! training accuracy, check that the new weights are finite (this project's rule for any
//! training loop) — and nothing else: no dropout or regularizer hooks, no per-neuron
//! activations, no traits or dynamic dispatch, no threads. The library's
//! `threads=1` figures against this are what its generality costs
//! (`docs/dev-log.md`). At batch size 1 the library also computes the next example's
//! first-layer product while it updates that layer (W2's item 28), which this loop does
//! not.
//!
//! With the library's operations in the library's order (the same kernels, the same
//! softmax, `d ← d·f'(s)` for the ReLU derivative), it computes the same weights bit for
//! bit; the benchmark checks that on a few steps before it times anything.

use nn_core::{Loss, SoftmaxCrossEntropy, all_finite};
use nn_math::nalgebra::{DMatrixView, DMatrixViewMut};
use nn_math::{AlignedVec, Matrix, Op, gemm, mul_tn_to, mul_to};

/// The layer widths of W1.
const WIDTHS: [usize; 4] = [784, 128, 64, 10];

/// The network and its step buffers, all allocated once.
pub struct Direct {
    /// `W⁽ᵏ⁾` (`WIDTHS[k+1] × WIDTHS[k]`, column-major), from a 64-byte boundary like the
    /// library's, so that the products read them in place.
    w: Vec<AlignedVec<f32>>,
    b: Vec<Vec<f32>>,
    /// The batch's inputs and targets.
    x: AlignedVec<f32>,
    y: Vec<f32>,
    /// `S⁽ᵏ⁾`, `A⁽ᵏ⁾` and `D⁽ᵏ⁾` of each layer, room for `batch` columns.
    s: Vec<AlignedVec<f32>>,
    a: Vec<AlignedVec<f32>>,
    d: Vec<AlignedVec<f32>>,
}

impl Direct {
    /// A network with the given weights and biases (layer by layer, column-major) and
    /// buffers for batches of `batch` examples.
    pub fn new(weights: &[&[f32]], biases: &[&[f32]], batch: usize) -> Self {
        let wide = |n: usize| AlignedVec::zeroed(n * batch);
        Self {
            w: weights.iter().map(|w| AlignedVec::from_slice(w)).collect(),
            b: biases.iter().map(|b| b.to_vec()).collect(),
            x: wide(WIDTHS[0]),
            y: vec![0.0; WIDTHS[3] * batch],
            s: WIDTHS[1..].iter().map(|&n| wide(n)).collect(),
            a: WIDTHS[1..].iter().map(|&n| wide(n)).collect(),
            d: WIDTHS[1..].iter().map(|&n| wide(n)).collect(),
        }
    }

    /// The weights of layer `k`.
    pub fn weight(&self, k: usize) -> &[f32] {
        &self.w[k]
    }

    /// The biases of layer `k`.
    pub fn bias(&self, k: usize) -> &[f32] {
        &self.b[k]
    }

    /// One SGD step (learning rate `lr`) on the examples `columns` of `x` (inputs) and
    /// `t` (one-hot targets), at most the planned batch size: returns the batch's summed
    /// loss, how many examples the network classified right before the step, and whether
    /// every new weight and bias is finite.
    pub fn step(
        &mut self,
        x: &Matrix<f32>,
        t: &Matrix<f32>,
        columns: &[usize],
        lr: f32,
    ) -> (f32, usize, bool) {
        let (n0, n3, batch) = (WIDTHS[0], WIDTHS[3], columns.len());
        for (j, &c) in columns.iter().enumerate() {
            self.x[j * n0..(j + 1) * n0].copy_from_slice(&x.as_slice()[c * n0..(c + 1) * n0]);
            self.y[j * n3..(j + 1) * n3].copy_from_slice(&t.as_slice()[c * n3..(c + 1) * n3]);
        }

        // Forward: S⁽ᵏ⁾ = W⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾·1ᵀ, A⁽ᵏ⁾ = ReLU(S⁽ᵏ⁾) (the output layer linear).
        for k in 0..3 {
            let (n, n_prev) = (WIDTHS[k + 1], WIDTHS[k]);
            let w = DMatrixView::from_slice(&self.w[k], n, n_prev);
            let (done, rest) = self.a.split_at_mut(k);
            let input = match done.last() {
                Some(a) => &a[..n_prev * batch],
                None => &self.x[..n_prev * batch],
            };
            let input = DMatrixView::from_slice(input, n_prev, batch);
            let s = &mut self.s[k][..n * batch];
            mul_to(&w, &input, &mut DMatrixViewMut::from_slice(s, n, batch)).expect("W1's shapes");
            let a = &mut rest[0][..n * batch];
            for (sc, ac) in s.chunks_exact_mut(n).zip(a.chunks_exact_mut(n)) {
                for (v, bias) in sc.iter_mut().zip(&self.b[k]) {
                    *v += *bias;
                }
                for (out, &v) in ac.iter_mut().zip(sc.iter()) {
                    *out = if k == 2 || v > 0.0 { v } else { 0.0 };
                }
            }
        }

        // The output delta (softmax cross-entropy), the loss and the right answers.
        let (mut loss, mut right) = (0.0, 0);
        let out = self.a[2][..n3 * batch].chunks_exact(n3);
        let deltas = self.d[2].chunks_exact_mut(n3);
        for ((a, y), d) in out.zip(self.y.chunks_exact(n3)).zip(deltas) {
            loss += SoftmaxCrossEntropy.loss_and_gradient(a, y, d);
            let best = |v: &[f32]| (0..n3).fold(0, |m, i| if v[i] > v[m] { i } else { m });
            right += usize::from(best(a) == best(y));
        }

        // Deltas below (Algorithm 7): D⁽ᵏ⁻¹⁾ = (W⁽ᵏ⁾ᵀ·D⁽ᵏ⁾) ⊙ ReLU'(S⁽ᵏ⁻¹⁾).
        for k in (1..3).rev() {
            let (n, n_prev) = (WIDTHS[k + 1], WIDTHS[k]);
            let (lower, upper) = self.d.split_at_mut(k);
            let w = DMatrixView::from_slice(&self.w[k], n, n_prev);
            let d = DMatrixView::from_slice(&upper[0][..n * batch], n, batch);
            let below = &mut lower[k - 1][..n_prev * batch];
            mul_tn_to(
                &w,
                &d,
                &mut DMatrixViewMut::from_slice(below, n_prev, batch),
            )
            .expect("W1's shapes");
            for (v, &s) in below.iter_mut().zip(self.s[k - 1].iter()) {
                *v *= if s > 0.0 { 1.0 } else { 0.0 };
            }
        }

        // The update (Algorithm 9, fused): W⁽ᵏ⁾ += −(α/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ, b⁽ᵏ⁾ += −(α/B)·D⁽ᵏ⁾·1.
        let scale = -lr * (1.0 / batch as f32);
        let mut finite = true;
        for k in 0..3 {
            let (n, n_prev) = (WIDTHS[k + 1], WIDTHS[k]);
            let input = if k == 0 {
                &self.x[..]
            } else {
                &self.a[k - 1][..]
            };
            let input = DMatrixView::from_slice(&input[..n_prev * batch], n_prev, batch);
            let d = &self.d[k][..n * batch];
            let mut w = DMatrixViewMut::from_slice(&mut self.w[k], n, n_prev);
            let dm = DMatrixView::from_slice(d, n, batch);
            gemm(scale, &dm, Op::NoTrans, &input, Op::Trans, 1.0, &mut w).expect("W1's shapes");
            for dc in d.chunks_exact(n) {
                for (b, &v) in self.b[k].iter_mut().zip(dc) {
                    *b += scale * v;
                }
            }
            finite &= all_finite(&self.w[k]) && all_finite(&self.b[k]);
        }
        (loss, right, finite)
    }
}
