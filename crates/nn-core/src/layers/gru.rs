//! The GRU layer (guide §13): PyTorch's `nn.GRU` cell over a sequence, backpropagated
//! through time.

use nn_math::nalgebra::{DMatrixView, DMatrixViewMut};
use nn_math::{Matrix, MatrixView, MatrixViewMut, Op, Real, gemm};

use super::elman::Steps;
use super::gated::{Gated, add_column_sums, sigmoid_gates};
use super::recurrent_macros::{full_length_passes, recurrent_accessors};
use super::sequence::{
    carries, contiguous, contiguous_mut, sigmoid_in_place, step_view, tanh_in_place,
};
use crate::{CoreError, Layer, ParamSpec, Saved};

/// A gated recurrent unit layer of `n_h` cells over sequences of `T` steps of `n_x`
/// values, with PyTorch's gate equations and order (guide eq. 4.3.8):
///
/// ```text
/// (x_r, x_z, x_n) = W_x·x_t + b_x,   (u_r, u_z, u_n) = W_h·h_{t−1} + b_h
/// r = σ(x_r + u_r),  z = σ(x_z + u_z),  n = tanh(x_n + r ⊙ u_n)
/// h_t = (1 − z) ⊙ n + z ⊙ h_{t−1},   h_0 = 0
/// ```
///
/// Columns hold the steps one after another, as for [`crate::Elman`]; the tensors are
/// `nn.GRU`'s (`weight_ih_l0`: `3n_h × n_x`, `weight_hh_l0`: `3n_h × n_h`, `bias_ih_l0`,
/// `bias_hh_l0`: `3n_h`, the gates in the order r, z, n).
///
/// ```
/// use nn_core::{Gru, Init, Layer, Steps};
/// use rand::SeedableRng;
///
/// let gru = Gru::<f32>::init(28, 28, 128, Steps::Last, Init::Auto, &mut rand::rngs::StdRng::seed_from_u64(1))?;
/// assert_eq!((gru.n_inputs(), gru.n_outputs()), (784, 128));
/// # Ok::<(), nn_core::CoreError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Gru<T: Real>(Gated<T>);

impl<T: Real> Gru<T> {
    /// A GRU layer over `steps` steps with the given weights (`W_x`: `3n_h × n_x`,
    /// `W_h`: `3n_h × n_h`) and biases (`3n_h` each), gates in PyTorch's order.
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
        Gated::new(("gru", 3), steps, w_x, w_h, biases, output).map(Self)
    }

    /// A GRU layer with weights and biases drawn by `init` (as for a sigmoid layer:
    /// Xavier under [`crate::Init::Auto`]; fan-in `n_x` and `n_h`) from `rng`.
    ///
    /// # Errors
    /// As [`Gru::new`], and an invalid [`crate::Init`].
    pub fn init<R: rand::Rng + ?Sized>(
        steps: usize,
        n_x: usize,
        n_h: usize,
        output: Steps,
        init: crate::Init,
        rng: &mut R,
    ) -> Result<Self, CoreError> {
        let gates = sigmoid_gates();
        Gated::init(("gru", 3), (steps, n_x, n_h), (output, &gates), init, rng).map(Self)
    }
}

recurrent_accessors!(Gru, "cells");

/// Scratch of a batch of `B`: the gates `A` (`3n_h × T·B`: r, z, n after their functions;
/// `∂C/∂(x_r, x_z, x_n)` over them in the backward pass), `u_n` and the states `H`
/// (`n_h × T·B` each), then one step's `W_h·h_{t−1} + b_h` (`3n_h × B`, its gradient in the
/// backward pass) and `∂C/∂h` (`n_h × B`).
impl<T: Real> Layer<T> for Gru<T> {
    fn kind(&self) -> &str {
        "gru"
    }

    fn scratch_len(&self, batch: usize) -> usize {
        (5 * self.0.steps + 4) * self.0.n_h * batch
    }

    full_length_passes!();

    /// Guide eq. 4.3.8: the input products of all steps in one product, then step by
    /// step the recurrent product and the gates.
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
        let (g3, cols) = (3 * n_h, steps * batch);
        let (a, rest) = scratch.split_at_mut(g3 * cols);
        let (un, rest) = rest.split_at_mut(n_h * cols);
        let (h, rest) = rest.split_at_mut(n_h * cols);
        let u = &mut rest[..g3 * batch];
        for col in a.chunks_exact_mut(g3) {
            col.copy_from_slice(&g.b_x);
        }
        g.add_input_products(contiguous(&input)?, a)?;
        let w_h = DMatrixView::from_slice(&g.w_h, g3, n_h);
        for t in 0..steps {
            // u = W_h·h_{t−1} + b_h (just b_h at the first step).
            for col in u.chunks_exact_mut(g3) {
                col.copy_from_slice(&g.b_h);
            }
            if t > 0 {
                let h_prev = step_view(h, n_h, steps, t - 1, batch);
                let mut um = DMatrixViewMut::from_slice(u, g3, batch);
                gemm(
                    T::one(),
                    &w_h,
                    Op::NoTrans,
                    &h_prev,
                    Op::NoTrans,
                    T::one(),
                    &mut um,
                )?;
            }
            for b in 0..batch {
                let col = b * steps + t;
                let z = &mut a[col * g3..(col + 1) * g3];
                let ub = &u[b * g3..(b + 1) * g3];
                for (v, w) in z[..2 * n_h].iter_mut().zip(&ub[..2 * n_h]) {
                    *v += *w;
                }
                sigmoid_in_place(&mut z[..2 * n_h])?;
                let at = col * n_h;
                un[at..at + n_h].copy_from_slice(&ub[2 * n_h..]);
                let (rz, n) = z.split_at_mut(2 * n_h);
                for (k, v) in n.iter_mut().enumerate() {
                    *v += rz[k] * ub[2 * n_h + k];
                }
                tanh_in_place(n)?;
                for k in 0..n_h {
                    let prev = if t > 0 { h[at - n_h + k] } else { T::zero() };
                    let zk = rz[n_h + k];
                    h[at + k] = (T::one() - zk) * n[k] + zk * prev;
                }
            }
        }
        g.write_output(h, contiguous_mut(&mut output)?, lengths);
        Ok(())
    }

    /// Backpropagation through time, guide eq. 4.3.9: from the last step down, the
    /// gradients of the gates' inputs from the state's, the recurrent weights' per step;
    /// then the input weights', the biases' and the inputs' for all steps at once.
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
        let (g3, cols) = (3 * n_h, steps * batch);
        let [g_wx, g_wh, g_bx, g_bh, ..] = grads else {
            return Err(CoreError::GradientMismatch {
                op: "gru backward",
                detail: "the gradient lacks one of the layer's four tensors".into(),
            });
        };
        let (a, rest) = saved.scratch.split_at_mut(g3 * cols);
        let (un, rest) = rest.split_at_mut(n_h * cols);
        let (h, rest) = rest.split_at_mut(n_h * cols);
        let (du, rest) = rest.split_at_mut(g3 * batch);
        let dh = &mut rest[..n_h * batch];
        dh.fill(T::zero());
        let delta: &[T] = contiguous_mut(&mut d_output)?;
        let w_h = DMatrixView::from_slice(&gl.w_h, g3, n_h);
        let one = T::one();
        for t in (0..steps).rev() {
            if t + 1 < steps && !carries(steps, gl.truncate, t + 1) {
                dh.fill(T::zero()); // nothing carried back across a chunk boundary
            }
            // dh += Δ_t (dh holds what later steps passed back).
            gl.add_step_delta(delta, t, dh, lengths);
            for b in 0..batch {
                let col = b * steps + t;
                let z = &mut a[col * g3..(col + 1) * g3];
                let dub = &mut du[b * g3..(b + 1) * g3];
                let dhb = &mut dh[b * n_h..(b + 1) * n_h];
                let at = col * n_h;
                for k in 0..n_h {
                    let (r, zk, n) = (z[k], z[n_h + k], z[2 * n_h + k]);
                    let prev = if t > 0 { h[at - n_h + k] } else { T::zero() };
                    let d = dhb[k];
                    let dn = d * (one - zk) * (one - n) * (one + n); // ∂C/∂(x_n + r·u_n)
                    let dz = d * (prev - n) * zk * (one - zk); // ∂C/∂(x_z + u_z)
                    let dr = dn * un[at + k] * r * (one - r); // ∂C/∂(x_r + u_r)
                    z[k] = dr;
                    z[n_h + k] = dz;
                    z[2 * n_h + k] = dn;
                    dub[k] = dr;
                    dub[n_h + k] = dz;
                    dub[2 * n_h + k] = dn * r; // ∂C/∂u_n
                    dhb[k] = d * zk; // carried to h_{t−1} directly
                }
            }
            add_column_sums(du, scale, g_bh.as_mut_slice());
            if t > 0 {
                let dum = DMatrixView::from_slice(du, g3, batch);
                let h_prev = step_view(h, n_h, steps, t - 1, batch);
                gemm(scale, &dum, Op::NoTrans, &h_prev, Op::Trans, one, g_wh)?;
                let mut dhm = DMatrixViewMut::from_slice(dh, n_h, batch);
                gemm(one, &w_h, Op::Trans, &dum, Op::NoTrans, one, &mut dhm)?;
            }
        }
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
