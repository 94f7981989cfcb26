//! The Elman recurrent layer (guide §13): `h_t = f(W_x·x_t + W_h·h_{t−1} + b)` over a
//! sequence, backpropagated through time.

use nn_math::nalgebra::{DMatrixView, DMatrixViewMut};
use nn_math::{Matrix, MatrixView, MatrixViewMut, Op, Real, gemm};

use super::activation::{LayerActivation, NeuronActivation};
use super::describe::activation_settings;
use super::gated::{Gated, add_column_sums};
use super::recurrent_macros::{full_length_passes, recurrent_accessors};
use super::sequence::{carries, contiguous, contiguous_mut, step_view, step_view_mut};
use crate::{CoreError, Layer, ParamSpec, Saved};

/// What a recurrent layer hands to the next layer: its last state `h_T`, or every state
/// `h_1 … h_T` (one after another in the example's column, as its input steps are).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Steps {
    /// `h_T` only (`n_h` values per example): many-to-one.
    Last,
    /// `h_1 … h_T` (`T·n_h` values per example): many-to-many, or another recurrent
    /// layer on top.
    All,
}

/// An Elman layer of `n_h` neurons over sequences of `T` steps of `n_x` values:
/// `h_t = f(W_x·x_t + b_x + W_h·h_{t−1} + b_h)` for `t = 1 … T`, `h_0 = 0` (guide eq.
/// 4.3.1), with one activation for the layer or one per neuron. The two biases are kept
/// apart, as PyTorch's `nn.RNN` keeps `bias_ih` and `bias_hh`, so that its weights load
/// unchanged; only their sum matters.
///
/// An example's column holds its steps one after another: `x_t` is rows
/// `(t−1)·n_x .. t·n_x` (PyTorch's `batch_first` `N×T×n_x` tensor is the same memory as a
/// `(T·n_x) × N` batch here).
///
/// ```
/// use nn_core::{Elman, Init, Layer, Steps};
/// use nn_activations::Tanh;
/// use rand::SeedableRng;
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let rnn = Elman::<f32>::init(28, 28, 128, Tanh, Steps::Last, Init::Auto, &mut rng)?;
/// assert_eq!((rnn.n_inputs(), rnn.n_outputs()), (28 * 28, 128));
/// # Ok::<(), nn_core::CoreError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Elman<T: Real>(Gated<T>, LayerActivation<T>);

impl<T: Real> Elman<T> {
    /// An Elman layer over `steps` steps with the given weights (`W_x`: `n_h × n_x`,
    /// `W_h`: `n_h × n_h`), biases (`n_h` each) and activation.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] naming the sizes for 0 steps, inputs or neurons,
    /// weights or biases of other shapes, or a per-neuron list of another length.
    pub fn new(
        steps: usize,
        w_x: Matrix<T>,
        w_h: Matrix<T>,
        biases: (Vec<T>, Vec<T>),
        activation: impl Into<LayerActivation<T>>,
        output: Steps,
    ) -> Result<Self, CoreError> {
        let cell = Gated::new(("elman", 1), steps, w_x, w_h, biases, output)?;
        let activation = activation.into();
        if let Some(len) = activation.per_neuron_len()
            && len != cell.n_h
        {
            return Err(CoreError::Architecture(format!(
                "elman: {len} per-neuron activations for {} neurons",
                cell.n_h
            )));
        }
        Ok(Self(cell, activation))
    }

    /// An Elman layer with weights and biases drawn by `init` from `rng` (fan-in `n_x`
    /// for `W_x` and `b_x`, `n_h` for `W_h` and `b_h`).
    ///
    /// # Errors
    /// As [`Elman::new`], and an invalid [`crate::Init`].
    #[allow(clippy::too_many_arguments)]
    pub fn init<R: rand::Rng + ?Sized>(
        steps: usize,
        n_x: usize,
        n_h: usize,
        activation: impl Into<LayerActivation<T>>,
        output: Steps,
        init: crate::Init,
        rng: &mut R,
    ) -> Result<Self, CoreError> {
        let activation = activation.into();
        let size = (steps, n_x, n_h);
        let cell = Gated::init(("elman", 1), size, (output, &activation), init, rng)?;
        let (w_x, w_h) = (
            Matrix::from_vec(n_h, n_x, cell.w_x),
            Matrix::from_vec(n_h, n_h, cell.w_h),
        );
        Self::new(steps, w_x, w_h, (cell.b_x, cell.b_h), activation, output)
    }

    /// The activation: one function, or one per neuron.
    pub fn activation(&self) -> &LayerActivation<T> {
        &self.1
    }

    /// `g ← g ⊙ f'(s)` for one state; for `tanh`, from the state `h = tanh(s)` itself as
    /// `1 − h²` (no transcendental function per value: the backward pass's derivative was
    /// as costly as the forward pass's `tanh`).
    fn mul_derivative(&self, s: &[T], h: &[T], g: &mut [T]) -> Result<(), CoreError> {
        use nn_activations::Builtin;
        match &self.1 {
            LayerActivation::Shared(NeuronActivation::Builtin(Builtin::Tanh(_))) => {
                for (g, &h) in g.iter_mut().zip(h) {
                    *g *= (T::one() - h) * (T::one() + h);
                }
                Ok(())
            }
            a => Ok(a.mul_derivative(s, g, 0)?),
        }
    }
}

recurrent_accessors!(Elman, "neurons");

/// Scratch of a batch of `B`: the pre-activations `S` (overwritten by `D` in the backward
/// pass), the states `H`, both `n_h × (T·B)` with column `b·T + t`; then an `n_h × B`
/// buffer for one step's `∂C/∂h_t`.
impl<T: Real> Layer<T> for Elman<T> {
    fn kind(&self) -> &str {
        "elman"
    }

    fn scratch_len(&self, batch: usize) -> usize {
        (2 * self.0.steps + 1) * self.0.n_h * batch
    }

    full_length_passes!();

    /// Guide eq. 4.3.1–4.3.2: `S = W_x·X + (b_x + b_h)·1ᵀ` for all steps at once, then step
    /// by step `S_t += W_h·H_{t−1}`, `H_t = f(S_t)`.
    fn forward_with_lengths(
        &self,
        input: MatrixView<'_, T>,
        mut output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
        lengths: &[usize],
    ) -> Result<(), CoreError> {
        let cell = &self.0;
        let (n_h, steps, batch) = (cell.n_h, cell.steps, input.ncols());
        cell.check_lengths(lengths, batch)?;
        let all = n_h * steps * batch;
        let (s, rest) = scratch.split_at_mut(all);
        let h = &mut rest[..all];
        for col in s.chunks_exact_mut(n_h) {
            for ((v, a), b) in col.iter_mut().zip(&cell.b_x).zip(&cell.b_h) {
                *v = *a + *b;
            }
        }
        cell.add_input_products(contiguous(&input)?, s)?;
        let w_h = DMatrixView::from_slice(&cell.w_h, n_h, n_h);
        for t in 0..steps {
            if t > 0 {
                let h_prev = step_view(h, n_h, steps, t - 1, batch);
                let mut s_t = step_view_mut(s, n_h, steps, t, batch);
                gemm(
                    T::one(),
                    &w_h,
                    Op::NoTrans,
                    &h_prev,
                    Op::NoTrans,
                    T::one(),
                    &mut s_t,
                )?;
            }
            for b in 0..batch {
                let at = (b * steps + t) * n_h;
                self.1.forward(&s[at..at + n_h], &mut h[at..at + n_h], 0)?;
            }
        }
        cell.write_output(h, contiguous_mut(&mut output)?, lengths);
        Ok(())
    }

    /// Backpropagation through time, guide eq. 4.3.3–4.3.5: from `t = T` down,
    /// `D_t = (Δ_t + W_hᵀ·D_{t+1}) ⊙ f'(S_t)`; then for all steps at once
    /// `∇W_h += scale·Σ_t D_t·H_{t−1}ᵀ`, `∇W_x += scale·D·Xᵀ`, `∇b += scale·D·1` and
    /// `∂C/∂X = W_xᵀ·D`.
    fn backward_with_lengths(
        &self,
        saved: Saved<'_, T>,
        mut d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        mut d_input: Option<MatrixViewMut<'_, T>>,
        lengths: &[usize],
    ) -> Result<(), CoreError> {
        let cell = &self.0;
        let (n_h, steps, batch) = (cell.n_h, cell.steps, d_output.ncols());
        let all = n_h * steps * batch;
        let [g_wx, g_wh, g_bx, g_bh, ..] = grads else {
            return Err(CoreError::GradientMismatch {
                op: "elman backward",
                detail: "the gradient lacks one of the layer's four tensors".into(),
            });
        };
        let (s, rest) = saved.scratch.split_at_mut(all);
        let (h, rest) = rest.split_at_mut(all);
        let g = &mut rest[..n_h * batch];
        let w_h = DMatrixView::from_slice(&cell.w_h, n_h, n_h);
        let delta: &[T] = contiguous_mut(&mut d_output)?;
        for t in (0..steps).rev() {
            // g = Δ_t (from the layer's output), + W_hᵀ·D_{t+1}.
            g.fill(T::zero());
            cell.add_step_delta(delta, t, g, lengths);
            if t + 1 < steps && carries(steps, cell.truncate, t + 1) {
                let d_next = step_view(s, n_h, steps, t + 1, batch);
                let mut gm = DMatrixViewMut::from_slice(g, n_h, batch);
                gemm(
                    T::one(),
                    &w_h,
                    Op::Trans,
                    &d_next,
                    Op::NoTrans,
                    T::one(),
                    &mut gm,
                )?;
            }
            // D_t = g ⊙ f'(S_t), stored over S_t.
            for (b, gb) in g.chunks_exact_mut(n_h).enumerate() {
                let at = (b * steps + t) * n_h;
                self.mul_derivative(&s[at..at + n_h], &h[at..at + n_h], gb)?;
                s[at..at + n_h].copy_from_slice(gb);
            }
        }
        // Eq. 4.3.4 for all steps at once: column `b·T + t` of `D` against column
        // `b·T + t − 1` of `H`, one product over `T·B − 1` columns (rather than one per
        // step), with each example's `D_1` set aside (in `g`) and zeroed meanwhile, so that
        // no pair straddles two examples.
        if steps > 1 {
            for (b, gb) in g.chunks_exact_mut(n_h).enumerate() {
                let at = b * steps * n_h;
                gb.copy_from_slice(&s[at..at + n_h]);
                s[at..at + n_h].fill(T::zero());
            }
            let cols = steps * batch - 1;
            let d = DMatrixView::from_slice(&s[n_h..], n_h, cols);
            let h_prev = DMatrixView::from_slice(&h[..n_h * cols], n_h, cols);
            gemm(scale, &d, Op::NoTrans, &h_prev, Op::Trans, T::one(), g_wh)?;
            for (b, gb) in g.chunks_exact(n_h).enumerate() {
                let at = b * steps * n_h;
                s[at..at + n_h].copy_from_slice(gb);
            }
        }
        // The two biases enter the same sum: the same gradient.
        add_column_sums(s, scale, g_bh.as_mut_slice());
        let d_in = match d_input.as_mut() {
            Some(d) => Some(contiguous_mut(d)?),
            None => None,
        };
        cell.input_gradients(s, contiguous(&saved.input)?, scale, (g_wx, g_bx), d_in)
    }

    /// `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0` (PyTorch's names).
    fn visit_params(&self, f: &mut dyn FnMut(ParamSpec, &[T])) {
        self.0.visit(f);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T])) {
        self.0.visit_mut(f);
    }

    /// Steps, inputs per step, the output, the truncation and the activation.
    fn settings(&self) -> Result<serde_json::Value, CoreError> {
        let mut s = activation_settings(&self.1)?;
        if let (Some(s), serde_json::Value::Object(cell)) = (s.as_object_mut(), self.0.settings()) {
            s.extend(cell);
        }
        Ok(s)
    }
}
