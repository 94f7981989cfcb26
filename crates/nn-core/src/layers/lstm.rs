//! The LSTM layer (guide §13): PyTorch's `nn.LSTM` cell over a sequence, backpropagated
//! through time.

use nn_math::nalgebra::{DMatrixView, DMatrixViewMut};
use nn_math::{Matrix, MatrixView, MatrixViewMut, Op, Real, gemm};
use serde_json::json;

use super::elman::Steps;
use super::sequence::{
    contiguous, contiguous_mut, sigmoid_in_place, step_view, step_view_mut, tanh_in_place,
};
use crate::{CoreError, Layer, ParamKind, ParamSpec, Saved};

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
pub struct Lstm<T: Real> {
    steps: usize,
    n_x: usize,
    n_h: usize,
    output: Steps,
    w_x: Vec<T>,
    w_h: Vec<T>,
    b_x: Vec<T>,
    b_h: Vec<T>,
}

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
        let (rows, n_x) = w_x.shape();
        let n_h = rows / 4;
        let arch = |m: String| Err(CoreError::Architecture(format!("lstm: {m}")));
        if steps == 0 || n_x == 0 || n_h == 0 || rows % 4 != 0 {
            return arch(format!(
                "{steps} steps of {n_x} inputs with input weights of {rows} rows (4 per cell)"
            ));
        }
        if steps.checked_mul(n_x.max(4 * n_h)).is_none() {
            return arch(format!("{steps} steps of {n_x} inputs is too large"));
        }
        if w_h.shape() != (4 * n_h, n_h) {
            return arch(format!(
                "the recurrent weights are {}×{}, the layer needs {}×{n_h}",
                w_h.nrows(),
                w_h.ncols(),
                4 * n_h
            ));
        }
        if biases.0.len() != 4 * n_h || biases.1.len() != 4 * n_h {
            return arch(format!(
                "{} and {} biases for {n_h} cells (4 each)",
                biases.0.len(),
                biases.1.len()
            ));
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
        })
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
        if steps == 0 || n_x == 0 || n_h == 0 {
            return Err(CoreError::Architecture(format!(
                "lstm: {steps} steps of {n_x} inputs into {n_h} cells"
            )));
        }
        init.validate()?;
        let gates: super::activation::LayerActivation<T> =
            nn_activations::Sigmoid::default().into();
        let err = |e| CoreError::Architecture(format!("lstm: {e}"));
        let (w_x, b_x) = init.draw(n_x, 4 * n_h, &gates, rng).map_err(err)?;
        let (w_h, b_h) = init.draw(n_h, 4 * n_h, &gates, rng).map_err(err)?;
        let biases = (b_x.as_slice().to_vec(), b_h.as_slice().to_vec());
        Self::new(steps, w_x, w_h, biases, output)
    }

    /// Steps `T` per sequence.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Inputs `n_x` per step.
    pub fn step_inputs(&self) -> usize {
        self.n_x
    }

    /// Cells `n_h` (the state's size).
    pub fn hidden(&self) -> usize {
        self.n_h
    }

    /// Whether the layer outputs its last state or every state.
    pub fn output(&self) -> Steps {
        self.output
    }

    fn specs(&self) -> [ParamSpec; 4] {
        let (g, n_x, n_h) = (4 * self.n_h, self.n_x, self.n_h);
        [
            ParamSpec::matrix("weight_ih_l0", g, n_x, ParamKind::Weight),
            ParamSpec::matrix("weight_hh_l0", g, n_h, ParamKind::Weight),
            ParamSpec::vector("bias_ih_l0", g, ParamKind::Bias),
            ParamSpec::vector("bias_hh_l0", g, ParamKind::Bias),
        ]
    }
}

/// Scratch of a batch of `B`: the gates `A` (`4n_h × T·B`: i, f, g, o after their
/// functions; `∂C/∂z` over them in the backward pass), the cell states `C`, `tanh(C)` and
/// the states `H` (`n_h × T·B` each), then `∂C/∂h` and `∂C/∂c` of one step (`n_h × B`).
impl<T: Real> Layer<T> for Lstm<T> {
    fn kind(&self) -> &str {
        "lstm"
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
        (7 * self.steps + 2) * self.n_h * batch
    }

    /// Guide eq. 4.3.6: the input products of all steps in one product, then step by
    /// step the recurrent product, the gates and the cell.
    fn forward(
        &self,
        input: MatrixView<'_, T>,
        mut output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
    ) -> Result<(), CoreError> {
        let (n_h, steps, batch) = (self.n_h, self.steps, input.ncols());
        let (g4, cols) = (4 * n_h, steps * batch);
        let (a, rest) = scratch.split_at_mut(g4 * cols);
        let (c, rest) = rest.split_at_mut(n_h * cols);
        let (tc, rest) = rest.split_at_mut(n_h * cols);
        let h = &mut rest[..n_h * cols];
        for col in a.chunks_exact_mut(g4) {
            for ((v, x), y) in col.iter_mut().zip(&self.b_x).zip(&self.b_h) {
                *v = *x + *y;
            }
        }
        let x = DMatrixView::from_slice(contiguous(&input)?, self.n_x, cols);
        let w_x = DMatrixView::from_slice(&self.w_x, g4, self.n_x);
        let w_h = DMatrixView::from_slice(&self.w_h, g4, n_h);
        gemm(
            T::one(),
            &w_x,
            Op::NoTrans,
            &x,
            Op::NoTrans,
            T::one(),
            &mut DMatrixViewMut::from_slice(a, g4, cols),
        )?;
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

    /// Backpropagation through time, guide eq. 4.3.7: from the last step down, the
    /// states' and cells' gradients through the gates, `∂C/∂z_t` over the gates, and the
    /// recurrent weights' gradient per step; then the input weights', the biases' and the
    /// inputs' for all steps at once.
    fn backward(
        &self,
        saved: Saved<'_, T>,
        mut d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        d_input: Option<MatrixViewMut<'_, T>>,
    ) -> Result<(), CoreError> {
        let (n_h, steps, batch) = (self.n_h, self.steps, d_output.ncols());
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
        let (dh, rest) = rest.split_at_mut(n_h * batch);
        let dc = &mut rest[..n_h * batch];
        dc.fill(T::zero());
        let delta: &[T] = contiguous_mut(&mut d_output)?;
        let w_h = DMatrixView::from_slice(&self.w_h, g4, n_h);
        let one = T::one();
        for t in (0..steps).rev() {
            // dh = Δ_t + W_hᵀ·dz_{t+1}.
            for (b, d) in dh.chunks_exact_mut(n_h).enumerate() {
                match self.output {
                    Steps::All => {
                        let at = (b * steps + t) * n_h;
                        d.copy_from_slice(&delta[at..at + n_h]);
                    }
                    Steps::Last if t == steps - 1 => {
                        d.copy_from_slice(&delta[b * n_h..(b + 1) * n_h])
                    }
                    Steps::Last => d.fill(T::zero()),
                }
            }
            if t + 1 < steps {
                let dz_next = step_view(a, g4, steps, t + 1, batch);
                let mut dhm = DMatrixViewMut::from_slice(dh, n_h, batch);
                gemm(one, &w_h, Op::Trans, &dz_next, Op::NoTrans, one, &mut dhm)?;
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
            if t > 0 {
                let dz = step_view(a, g4, steps, t, batch);
                let h_prev = step_view(h, n_h, steps, t - 1, batch);
                gemm(scale, &dz, Op::NoTrans, &h_prev, Op::Trans, one, g_wh)?;
            }
        }
        let dz = DMatrixView::from_slice(a, g4, cols);
        let x = DMatrixView::from_slice(contiguous(&saved.input)?, self.n_x, cols);
        gemm(scale, &dz, Op::NoTrans, &x, Op::Trans, one, g_wx)?;
        for col in a.chunks_exact(g4) {
            for ((gx, gh), v) in g_bx.iter_mut().zip(g_bh.iter_mut()).zip(col) {
                *gx += scale * *v;
                *gh += scale * *v;
            }
        }
        if let Some(mut d_in) = d_input {
            let out = contiguous_mut(&mut d_in)?;
            let mut dx = DMatrixViewMut::from_slice(out, self.n_x, cols);
            let w_x = DMatrixView::from_slice(&self.w_x, g4, self.n_x);
            gemm(one, &w_x, Op::Trans, &dz, Op::NoTrans, T::zero(), &mut dx)?;
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

    /// Steps, inputs per step, cells and the output.
    fn settings(&self) -> Result<serde_json::Value, CoreError> {
        Ok(json!({
            "steps": [self.steps],
            "step_inputs": [self.n_x],
            "hidden": [self.n_h],
            "output": match self.output { Steps::Last => "last", Steps::All => "all" },
        }))
    }
}
