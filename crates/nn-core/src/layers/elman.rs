//! The Elman recurrent layer (guide §13): `h_t = f(W_x·x_t + W_h·h_{t−1} + b)` over a
//! sequence, backpropagated through time.

use nn_math::nalgebra::{DMatrixView, DMatrixViewMut};
use nn_math::{Matrix, MatrixView, MatrixViewMut, Op, Real, gemm};
use serde_json::json;

use super::activation::{LayerActivation, NeuronActivation};
use super::describe::activation_settings;
use super::sequence::{
    carries, check_truncation, contiguous, contiguous_mut, step_view, step_view_mut,
};
use crate::{CoreError, Layer, ParamKind, ParamSpec, Saved};

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
pub struct Elman<T: Real> {
    steps: usize,
    n_x: usize,
    n_h: usize,
    output: Steps,
    /// `W_x` (`n_h × n_x`) and `W_h` (`n_h × n_h`), column-major.
    w_x: Vec<T>,
    w_h: Vec<T>,
    b_x: Vec<T>,
    b_h: Vec<T>,
    activation: LayerActivation<T>,
    /// Truncated backpropagation through time: the chunk length `k`, if any.
    truncate: Option<usize>,
}

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
        let (n_h, n_x) = w_x.shape();
        let arch = |m: String| Err(CoreError::Architecture(format!("elman: {m}")));
        if steps == 0 || n_x == 0 || n_h == 0 {
            return arch(format!("{steps} steps of {n_x} inputs into {n_h} neurons"));
        }
        if steps.checked_mul(n_x.max(n_h)).is_none() {
            return arch(format!("{steps} steps of {n_x} inputs is too large"));
        }
        if w_h.shape() != (n_h, n_h) {
            return arch(format!(
                "the recurrent weights are {}×{}, the layer needs {n_h}×{n_h}",
                w_h.nrows(),
                w_h.ncols()
            ));
        }
        if biases.0.len() != n_h || biases.1.len() != n_h {
            return arch(format!(
                "{} and {} biases for {n_h} neurons",
                biases.0.len(),
                biases.1.len()
            ));
        }
        let activation = activation.into();
        if let Some(len) = activation.per_neuron_len()
            && len != n_h
        {
            return arch(format!("{len} per-neuron activations for {n_h} neurons"));
        }
        Ok(Self {
            steps,
            n_x,
            n_h,
            output,
            w_x: w_x.as_slice().to_vec(),
            w_h: w_h.as_slice().to_vec(),
            b_x: biases.0,
            b_h: biases.1,
            activation,
            truncate: None,
        })
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
        if steps == 0 || n_x == 0 || n_h == 0 {
            return Err(CoreError::Architecture(format!(
                "elman: {steps} steps of {n_x} inputs into {n_h} neurons"
            )));
        }
        init.validate()?;
        let err = |e| CoreError::Architecture(format!("elman: {e}"));
        let (w_x, b_x) = init.draw(n_x, n_h, &activation, rng).map_err(err)?;
        let (w_h, b_h) = init.draw(n_h, n_h, &activation, rng).map_err(err)?;
        let biases = (b_x.as_slice().to_vec(), b_h.as_slice().to_vec());
        Self::new(steps, w_x, w_h, biases, activation, output)
    }

    /// Steps `T` per sequence.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Inputs `n_x` per step.
    pub fn step_inputs(&self) -> usize {
        self.n_x
    }

    /// Neurons `n_h` (the state's size).
    pub fn hidden(&self) -> usize {
        self.n_h
    }

    /// Whether the layer outputs its last state or every state.
    pub fn output(&self) -> Steps {
        self.output
    }

    /// The activation: one function, or one per neuron.
    pub fn activation(&self) -> &LayerActivation<T> {
        &self.activation
    }

    /// This layer with backpropagation through time truncated to `k` steps: the gradient
    /// is not carried back across the boundaries of `k`-step chunks counted back from
    /// the last step, as if the state were detached there (guide §13). `k ≥ T` is full
    /// backpropagation.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] for `k = 0`.
    pub fn truncated(mut self, k: usize) -> Result<Self, CoreError> {
        check_truncation("elman", k)?;
        self.truncate = Some(k);
        Ok(self)
    }

    /// The truncation length, if backpropagation is truncated.
    pub fn truncation(&self) -> Option<usize> {
        self.truncate
    }

    fn specs(&self) -> [ParamSpec; 4] {
        let (n_h, n_x) = (self.n_h, self.n_x);
        [
            ParamSpec::matrix("weight_ih_l0", n_h, n_x, ParamKind::Weight),
            ParamSpec::matrix("weight_hh_l0", n_h, n_h, ParamKind::Weight),
            ParamSpec::vector("bias_ih_l0", n_h, ParamKind::Bias),
            ParamSpec::vector("bias_hh_l0", n_h, ParamKind::Bias),
        ]
    }
}

impl<T: Real> Elman<T> {
    /// `g ← g ⊙ f'(s)` for one state; for `tanh`, from the state `h = tanh(s)` itself as
    /// `1 − h²` (no transcendental function per value: the backward pass's derivative was
    /// as costly as the forward pass's `tanh`).
    fn mul_derivative(&self, s: &[T], h: &[T], g: &mut [T]) -> Result<(), CoreError> {
        use nn_activations::Builtin;
        match &self.activation {
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

/// Scratch of a batch of `B`: the pre-activations `S` (overwritten by `D` in the backward
/// pass), the states `H`, both `n_h × (T·B)` with column `b·T + t`; then an `n_h × B`
/// buffer for one step's `∂C/∂h_t`.
impl<T: Real> Layer<T> for Elman<T> {
    fn kind(&self) -> &str {
        "elman"
    }

    fn n_inputs(&self) -> usize {
        self.steps * self.n_x
    }

    fn n_outputs(&self) -> usize {
        match self.output {
            Steps::Last => self.n_h,
            Steps::All => self.steps * self.n_h,
        }
    }

    fn scratch_len(&self, batch: usize) -> usize {
        (2 * self.steps + 1) * self.n_h * batch
    }

    /// Guide eq. 4.3.1–4.3.2: `S = W_x·X + (b_x + b_h)·1ᵀ` for all steps at once, then step
    /// by step `S_t += W_h·H_{t−1}`, `H_t = f(S_t)`.
    fn forward(
        &self,
        input: MatrixView<'_, T>,
        mut output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
    ) -> Result<(), CoreError> {
        let (n_h, steps, batch) = (self.n_h, self.steps, input.ncols());
        let all = n_h * steps * batch;
        let (s, rest) = scratch.split_at_mut(all);
        let h = &mut rest[..all];
        let x = DMatrixView::from_slice(contiguous(&input)?, self.n_x, steps * batch);
        let w_x = DMatrixView::from_slice(&self.w_x, n_h, self.n_x);
        let w_h = DMatrixView::from_slice(&self.w_h, n_h, n_h);
        for col in s.chunks_exact_mut(n_h) {
            for ((v, a), b) in col.iter_mut().zip(&self.b_x).zip(&self.b_h) {
                *v = *a + *b;
            }
        }
        let mut s_all = DMatrixViewMut::from_slice(s, n_h, steps * batch);
        gemm(
            T::one(),
            &w_x,
            Op::NoTrans,
            &x,
            Op::NoTrans,
            T::one(),
            &mut s_all,
        )?;
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
                self.activation
                    .forward(&s[at..at + n_h], &mut h[at..at + n_h], 0)?;
            }
        }
        let out = contiguous_mut(&mut output)?;
        match self.output {
            Steps::All => out.copy_from_slice(h),
            Steps::Last => {
                for (b, o) in out.chunks_exact_mut(n_h).enumerate() {
                    let at = (b * steps + steps - 1) * n_h;
                    o.copy_from_slice(&h[at..at + n_h]);
                }
            }
        }
        Ok(())
    }

    /// Backpropagation through time, guide eq. 4.3.3–4.3.5: from `t = T` down,
    /// `D_t = (Δ_t + W_hᵀ·D_{t+1}) ⊙ f'(S_t)` and `∇W_h += scale·D_t·H_{t−1}ᵀ`; then for
    /// all steps at once `∇W_x += scale·D·Xᵀ`, `∇b += scale·D·1` and `∂C/∂X = W_xᵀ·D`.
    fn backward(
        &self,
        saved: Saved<'_, T>,
        mut d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        d_input: Option<MatrixViewMut<'_, T>>,
    ) -> Result<(), CoreError> {
        let (n_h, steps, batch) = (self.n_h, self.steps, d_output.ncols());
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
        let w_h = DMatrixView::from_slice(&self.w_h, n_h, n_h);
        let delta: &[T] = contiguous_mut(&mut d_output)?;
        for t in (0..steps).rev() {
            // g = Δ_t (from the layer's output), + W_hᵀ·D_{t+1}.
            for (b, gb) in g.chunks_exact_mut(n_h).enumerate() {
                match self.output {
                    Steps::All => {
                        let at = (b * steps + t) * n_h;
                        gb.copy_from_slice(&delta[at..at + n_h]);
                    }
                    Steps::Last if t == steps - 1 => {
                        gb.copy_from_slice(&delta[b * n_h..(b + 1) * n_h])
                    }
                    Steps::Last => gb.fill(T::zero()),
                }
            }
            let mut gm = DMatrixViewMut::from_slice(g, n_h, batch);
            if t + 1 < steps && carries(steps, self.truncate, t + 1) {
                let d_next = step_view(s, n_h, steps, t + 1, batch);
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
            if t > 0 {
                let d_t = step_view(s, n_h, steps, t, batch);
                let h_prev = step_view(h, n_h, steps, t - 1, batch);
                gemm(scale, &d_t, Op::NoTrans, &h_prev, Op::Trans, T::one(), g_wh)?;
            }
        }
        let d = DMatrixView::from_slice(s, n_h, steps * batch);
        let x = DMatrixView::from_slice(contiguous(&saved.input)?, self.n_x, steps * batch);
        gemm(scale, &d, Op::NoTrans, &x, Op::Trans, T::one(), g_wx)?;
        for col in s.chunks_exact(n_h) {
            for ((gx, gh), v) in g_bx.iter_mut().zip(g_bh.iter_mut()).zip(col) {
                *gx += scale * *v;
                *gh += scale * *v;
            }
        }
        if let Some(mut d_in) = d_input {
            let out = contiguous_mut(&mut d_in)?;
            let mut dx = DMatrixViewMut::from_slice(out, self.n_x, steps * batch);
            let w_x = DMatrixView::from_slice(&self.w_x, n_h, self.n_x);
            gemm(
                T::one(),
                &w_x,
                Op::Trans,
                &d,
                Op::NoTrans,
                T::zero(),
                &mut dx,
            )?;
        }
        Ok(())
    }

    /// `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0` (PyTorch's names).
    fn visit_params(&self, f: &mut dyn FnMut(ParamSpec, &[T])) {
        let [wx, wh, bx, bh] = self.specs();
        f(wx, &self.w_x);
        f(wh, &self.w_h);
        f(bx, &self.b_x);
        f(bh, &self.b_h);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T])) {
        let [wx, wh, bx, bh] = self.specs();
        f(wx, &mut self.w_x);
        f(wh, &mut self.w_h);
        f(bx, &mut self.b_x);
        f(bh, &mut self.b_h);
    }

    /// Steps, inputs per step, the output and the activation.
    fn settings(&self) -> Result<serde_json::Value, CoreError> {
        let mut s = activation_settings(&self.activation)?;
        s["steps"] = json!([self.steps]);
        s["step_inputs"] = json!([self.n_x]);
        s["hidden"] = json!([self.n_h]);
        s["output"] = json!(match self.output {
            Steps::Last => "last",
            Steps::All => "all",
        });
        if let Some(k) = self.truncate {
            s["truncate"] = json!([k]);
        }
        Ok(s)
    }
}
