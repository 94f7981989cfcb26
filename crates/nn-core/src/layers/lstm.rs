//! The LSTM layer (guide §13): PyTorch's `nn.LSTM` cell over a sequence, backpropagated
//! through time.

use nn_math::nalgebra::{DMatrixView, DMatrixViewMut};
use nn_math::{Matrix, MatrixView, MatrixViewMut, Op, Real, gemm};

use super::elman::Steps;
use super::gated::{Gated, add_column_sums, sigmoid_gates};
use super::recurrent_macros::{full_length_passes, recurrent_accessors};
use super::sequence::{
    carries, contiguous, contiguous_mut, sigmoid_in_place, step_view, step_view_mut, tanh_in_place,
};
use crate::{CoreError, Layer, ParamSpec, Saved};

/// A long short-term memory layer of `n_h` cells over sequences of `T` steps of `n_x`
/// values, with PyTorch's gate equations and order (guide eq. 4.3.6):
///
/// ```text
/// z_t = W_x·x_t + b_x + W_h·h_{t−1} + b_h          (4·n_h values: i, f, g, o)
/// i = σ(z_i),  f = σ(z_f),  g = tanh(z_g),  o = σ(z_o)
/// c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t),   h_0 = c_0 = 0
/// ```
///
/// Columns hold the steps one after another, as for [`crate::Elman`]; the tensors are
/// `nn.LSTM`'s (`weight_ih_l0`: `4n_h × n_x`, `weight_hh_l0`: `4n_h × n_h`, `bias_ih_l0`,
/// `bias_hh_l0`: `4n_h`, the gates in the order i, f, g, o).
///
/// ```
/// use nn_core::{Init, Layer, Lstm, Steps};
/// use rand::SeedableRng;
///
/// let lstm = Lstm::<f32>::init(28, 28, 128, Steps::Last, Init::Auto, &mut rand::rngs::StdRng::seed_from_u64(1))?;
/// assert_eq!((lstm.n_inputs(), lstm.n_outputs()), (784, 128));
/// # Ok::<(), nn_core::CoreError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Lstm<T: Real>(Gated<T>);

impl<T: Real> Lstm<T> {
    /// An LSTM layer over `steps` steps with the given weights (`W_x`: `4n_h × n_x`,
    /// `W_h`: `4n_h × n_h`) and biases (`4n_h` each), gates in PyTorch's order.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] naming the sizes for 0 steps, inputs or cells, or
    /// tensors of other shapes.
    pub fn new(
        steps: usize,
        w_x: Matrix<T>,
        w_h: Matrix<T>,
        biases: (Vec<T>, Vec<T>),
        output: Steps,
    ) -> Result<Self, CoreError> {
        Gated::new(("lstm", 4), steps, w_x, w_h, biases, output).map(Self)
    }

    /// An LSTM layer with weights and biases drawn by `init` (as for a sigmoid layer:
    /// Xavier under [`crate::Init::Auto`]; fan-in `n_x` and `n_h`) from `rng`.
    ///
    /// # Errors
    /// As [`Lstm::new`], and an invalid [`crate::Init`].
    pub fn init<R: rand::Rng + ?Sized>(
        steps: usize,
        n_x: usize,
        n_h: usize,
        output: Steps,
        init: crate::Init,
        rng: &mut R,
    ) -> Result<Self, CoreError> {
        let gates = sigmoid_gates();
        Gated::init(("lstm", 4), (steps, n_x, n_h), (output, &gates), init, rng).map(Self)
    }
}

recurrent_accessors!(Lstm, "cells");

/// Scratch of a batch of `B`: the gates `A` (`4n_h × T·B`: i, f, g, o after their
/// functions; `∂C/∂z` over them in the backward pass), the cell states `C`, `tanh(C)` and
/// the states `H` (`n_h × T·B` each), then `∂C/∂h` and `∂C/∂c` of one step (`n_h × B`),
/// and `2n_h × B` more, with which they hold each example's first `∂C/∂z` aside while
/// `∇W_h` is formed.
impl<T: Real> Layer<T> for Lstm<T> {
    fn kind(&self) -> &str {
        "lstm"
    }

    fn scratch_len(&self, batch: usize) -> usize {
        (7 * self.0.steps + 4) * self.0.n_h * batch
    }

    full_length_passes!();

    /// Guide eq. 4.3.6: the input products of all steps in one product, then step by
    /// step the recurrent product, the gates and the cell.
    fn forward_with_lengths(
        &self,
        input: MatrixView<'_, T>,
        mut output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
        lengths: &[usize],
    ) -> Result<(), CoreError> {
        let g = &self.0;
        let (n_h, steps, batch) = (g.n_h, g.steps, input.ncols());
        g.check_lengths(lengths, batch)?;
        let (g4, cols) = (4 * n_h, steps * batch);
        let (a, rest) = scratch.split_at_mut(g4 * cols);
        let (c, rest) = rest.split_at_mut(n_h * cols);
        let (tc, rest) = rest.split_at_mut(n_h * cols);
        let h = &mut rest[..n_h * cols];
        for col in a.chunks_exact_mut(g4) {
            for ((v, x), y) in col.iter_mut().zip(&self.0.b_x).zip(&self.0.b_h) {
                *v = *x + *y;
            }
        }
        self.0.add_input_products(contiguous(&input)?, a)?;
        let w_h = DMatrixView::from_slice(&self.0.w_h, g4, n_h);
        for t in 0..steps {
            if t > 0 {
                let h_prev = step_view(h, n_h, steps, t - 1, batch);
                let mut z = step_view_mut(a, g4, steps, t, batch);
                gemm(
                    T::one(),
                    &w_h,
                    Op::NoTrans,
                    &h_prev,
                    Op::NoTrans,
                    T::one(),
                    &mut z,
                )?;
            }
            for b in 0..batch {
                let col = b * steps + t;
                let z = &mut a[col * g4..(col + 1) * g4];
                let (ifg, o) = z.split_at_mut(3 * n_h);
                let (i_f, g) = ifg.split_at_mut(2 * n_h);
                sigmoid_in_place(i_f)?;
                tanh_in_place(g)?;
                sigmoid_in_place(o)?;
                let (i, f) = i_f.split_at(n_h);
                let at = col * n_h..(col + 1) * n_h;
                for k in 0..n_h {
                    let prev = if t > 0 {
                        c[at.start - n_h + k]
                    } else {
                        T::zero()
                    };
                    c[at.start + k] = f[k] * prev + i[k] * g[k];
                }
                tc[at.clone()].copy_from_slice(&c[at.clone()]);
                tanh_in_place(&mut tc[at.clone()])?;
                for k in 0..n_h {
                    h[at.start + k] = o[k] * tc[at.start + k];
                }
            }
        }
        g.write_output(h, contiguous_mut(&mut output)?, lengths);
        Ok(())
    }

    /// Backpropagation through time, guide eq. 4.3.7: from the last step down, the
    /// states' and cells' gradients through the gates and `∂C/∂z_t` over the gates; then
    /// the recurrent and input weights', the biases' and the inputs' gradients for all
    /// steps at once.
    fn backward_with_lengths(
        &self,
        saved: Saved<'_, T>,
        mut d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        mut d_input: Option<MatrixViewMut<'_, T>>,
        lengths: &[usize],
    ) -> Result<(), CoreError> {
        let gl = &self.0;
        let (n_h, steps, batch) = (gl.n_h, gl.steps, d_output.ncols());
        let (g4, cols) = (4 * n_h, steps * batch);
        let [g_wx, g_wh, g_bx, g_bh, ..] = grads else {
            return Err(CoreError::GradientMismatch {
                op: "lstm backward",
                detail: "the gradient lacks one of the layer's four tensors".into(),
            });
        };
        let (a, rest) = saved.scratch.split_at_mut(g4 * cols);
        let (c, rest) = rest.split_at_mut(n_h * cols);
        let (tc, rest) = rest.split_at_mut(n_h * cols);
        let (h, rest) = rest.split_at_mut(n_h * cols);
        // `∂C/∂h` and `∂C/∂c` of one step, in the first half of `tail`.
        let tail = &mut rest[..g4 * batch];
        let (dh, dc) = tail.split_at_mut(n_h * batch);
        let dc = &mut dc[..n_h * batch];
        dc.fill(T::zero());
        let delta: &[T] = contiguous_mut(&mut d_output)?;
        let w_h = DMatrixView::from_slice(&self.0.w_h, g4, n_h);
        let one = T::one();
        for t in (0..steps).rev() {
            // dh = Δ_t + W_hᵀ·dz_{t+1}.
            dh.fill(T::zero());
            gl.add_step_delta(delta, t, dh, lengths);
            if t + 1 < steps && carries(steps, gl.truncate, t + 1) {
                let dz_next = step_view(a, g4, steps, t + 1, batch);
                let mut dhm = DMatrixViewMut::from_slice(dh, n_h, batch);
                gemm(one, &w_h, Op::Trans, &dz_next, Op::NoTrans, one, &mut dhm)?;
            } else {
                dc.fill(T::zero()); // nothing carried back across a chunk boundary
            }
            for b in 0..batch {
                let col = b * steps + t;
                let (dh, dc) = (&dh[b * n_h..(b + 1) * n_h], &mut dc[b * n_h..(b + 1) * n_h]);
                let z = &mut a[col * g4..(col + 1) * g4];
                let at = col * n_h;
                for k in 0..n_h {
                    let (i, f, g, o) = (z[k], z[n_h + k], z[2 * n_h + k], z[3 * n_h + k]);
                    let tck = tc[at + k];
                    let c_prev = if t > 0 { c[at - n_h + k] } else { T::zero() };
                    // ∂C/∂c_t: from the next step (dc·f_{t+1}, already in dc) and h_t.
                    let dct = dc[k] + dh[k] * o * (one - tck) * (one + tck);
                    z[k] = dct * g * i * (one - i); // ∂C/∂z_i
                    z[n_h + k] = dct * c_prev * f * (one - f); // ∂C/∂z_f
                    z[2 * n_h + k] = dct * i * (one - g) * (one + g); // ∂C/∂z_g
                    z[3 * n_h + k] = dh[k] * tck * o * (one - o); // ∂C/∂z_o
                    dc[k] = dct * f; // carried to step t − 1
                }
            }
        }
        // `∇W_h += scale·Σ_t ∂C/∂z_t·h_{t−1}ᵀ` in one product over all `T·B − 1` step
        // columns, as in `Elman::backward_with_lengths`: each example's first `∂C/∂z` is
        // set aside (in `tail`, free now) and zeroed meanwhile.
        if steps > 1 {
            for (b, keep) in tail.chunks_exact_mut(g4).enumerate() {
                let first = &mut a[b * steps * g4..(b * steps + 1) * g4];
                keep.copy_from_slice(first);
                first.fill(T::zero());
            }
            let cols = cols - 1;
            let dz = DMatrixView::from_slice(&a[g4..], g4, cols);
            let h_prev = DMatrixView::from_slice(&h[..n_h * cols], n_h, cols);
            gemm(scale, &dz, Op::NoTrans, &h_prev, Op::Trans, one, g_wh)?;
            for (b, keep) in tail.chunks_exact(g4).enumerate() {
                a[b * steps * g4..(b * steps + 1) * g4].copy_from_slice(keep);
            }
        }
        // The two biases enter the same sum: the same gradient.
        add_column_sums(a, scale, g_bh.as_mut_slice());
        let d_in = match d_input.as_mut() {
            Some(d) => Some(contiguous_mut(d)?),
            None => None,
        };
        gl.input_gradients(a, contiguous(&saved.input)?, scale, (g_wx, g_bx), d_in)
    }

    /// `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0` (PyTorch's names).
    fn visit_params(&self, f: &mut dyn FnMut(ParamSpec, &[T])) {
        self.0.visit(f);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T])) {
        self.0.visit_mut(f);
    }

    /// Steps, inputs per step, cells and the output.
    fn settings(&self) -> Result<serde_json::Value, CoreError> {
        Ok(self.0.settings())
    }
}
