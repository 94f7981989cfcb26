//! The parameters of a recurrent layer (Elman: 1 block of rows per cell, LSTM: 4 gates,
//! GRU: 3), as PyTorch's `nn.RNN`, `nn.LSTM` and `nn.GRU` hold them: input and recurrent
//! weights and two biases, the gates' rows one block after another; and what the three
//! layers share besides their passes.

use nn_math::nalgebra::{DMatrixView, DMatrixViewMut};
use nn_math::{Matrix, Op, Real, gemm};
use serde_json::json;

use super::activation::LayerActivation;
use super::elman::Steps;
use super::sequence::check_truncation;
use crate::{CoreError, ParamKind, ParamSpec};

/// The logistic sigmoid for every unit: how a gated layer's weights are drawn (Xavier
/// under [`crate::Init::Auto`]).
pub(crate) fn sigmoid_gates<T: Real>() -> LayerActivation<T> {
    nn_activations::Sigmoid::default().into()
}

/// Elman layers have neurons, gated ones cells.
fn unit(gates: usize) -> &'static str {
    if gates == 1 { "neurons" } else { "cells" }
}

/// A recurrent layer's sizes and tensors: `W_x` (`G·n_h × n_x`), `W_h` (`G·n_h × n_h`),
/// `b_x`, `b_h` (`G·n_h`), column-major, for `G` gates per cell (1 for Elman), and its
/// truncation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Gated<T: Real> {
    pub kind: &'static str,
    pub gates: usize,
    pub steps: usize,
    pub n_x: usize,
    pub n_h: usize,
    pub output: Steps,
    pub w_x: Vec<T>,
    pub w_h: Vec<T>,
    pub b_x: Vec<T>,
    pub b_h: Vec<T>,
    /// Truncated backpropagation through time: the chunk length `k`, if any.
    pub truncate: Option<usize>,
}

impl<T: Real> Gated<T> {
    /// Checks the shapes: `G·n_h` rows of `W_x` give the cells.
    pub fn new(
        (kind, gates): (&'static str, usize),
        steps: usize,
        w_x: Matrix<T>,
        w_h: Matrix<T>,
        biases: (Vec<T>, Vec<T>),
        output: Steps,
    ) -> Result<Self, CoreError> {
        let (rows, n_x) = w_x.shape();
        let n_h = rows / gates;
        let arch = |m: String| Err(CoreError::Architecture(format!("{kind}: {m}")));
        if gates == 1 && (steps == 0 || n_x == 0 || n_h == 0) {
            return arch(format!("{steps} steps of {n_x} inputs into {n_h} neurons"));
        }
        if steps == 0 || n_x == 0 || n_h == 0 || rows % gates != 0 {
            return arch(format!(
                "{steps} steps of {n_x} inputs with input weights of {rows} rows ({gates} per cell)"
            ));
        }
        if steps.checked_mul(n_x.max(gates * n_h)).is_none() {
            return arch(format!("{steps} steps of {n_x} inputs is too large"));
        }
        if w_h.shape() != (gates * n_h, n_h) {
            return arch(format!(
                "the recurrent weights are {}×{}, the layer needs {}×{n_h}",
                w_h.nrows(),
                w_h.ncols(),
                gates * n_h
            ));
        }
        if biases.0.len() != gates * n_h || biases.1.len() != gates * n_h {
            let each = if gates > 1 {
                format!(" ({gates} each)")
            } else {
                String::new()
            };
            return arch(format!(
                "{} and {} biases for {n_h} {}{each}",
                biases.0.len(),
                biases.1.len(),
                unit(gates)
            ));
        }
        Ok(Self {
            kind,
            gates,
            steps,
            n_x,
            n_h,
            output,
            w_x: w_x.as_slice().to_vec(),
            w_h: w_h.as_slice().to_vec(),
            b_x: biases.0,
            b_h: biases.1,
            truncate: None,
        })
    }

    /// Weights and biases drawn by `init` from `rng` as for a layer of `activation`
    /// (fan-in `n_x` for `W_x` and `b_x`, `n_h` for `W_h` and `b_h`; under
    /// [`crate::Init::PyTorch`], `n_h` for all four, as PyTorch's recurrent layers).
    pub fn init<R: rand::Rng + ?Sized>(
        (kind, gates): (&'static str, usize),
        (steps, n_x, n_h): (usize, usize, usize),
        (output, activation): (Steps, &LayerActivation<T>),
        init: crate::Init,
        rng: &mut R,
    ) -> Result<Self, CoreError> {
        if steps == 0 || n_x == 0 || n_h == 0 {
            return Err(CoreError::Architecture(format!(
                "{kind}: {steps} steps of {n_x} inputs into {n_h} {}",
                unit(gates)
            )));
        }
        init.validate()?;
        let err = |e| CoreError::Architecture(format!("{kind}: {e}"));
        let init = match init {
            crate::Init::PyTorch => {
                let limit = 1.0 / (n_h as f64).sqrt();
                crate::Init::Uniform {
                    low: -limit,
                    high: limit,
                }
            }
            other => other,
        };
        let (w_x, b_x) = init.draw(n_x, gates * n_h, activation, rng).map_err(err)?;
        let (w_h, b_h) = init.draw(n_h, gates * n_h, activation, rng).map_err(err)?;
        let biases = (b_x.as_slice().to_vec(), b_h.as_slice().to_vec());
        Self::new((kind, gates), steps, w_x, w_h, biases, output)
    }

    /// Truncates backpropagation through time to `k` steps (see `Elman::truncated`).
    pub fn truncate(&mut self, k: usize) -> Result<(), CoreError> {
        check_truncation(self.kind, k)?;
        self.truncate = Some(k);
        Ok(())
    }

    /// Inputs per example, `T·n_x`.
    pub fn n_inputs(&self) -> usize {
        self.steps * self.n_x
    }

    /// Outputs per example: `n_h`, or `T·n_h` for every step.
    pub fn n_outputs(&self) -> usize {
        match self.output {
            Steps::Last => self.n_h,
            Steps::All => self.steps * self.n_h,
        }
    }

    fn specs(&self) -> [ParamSpec; 4] {
        let (g, n_x, n_h) = (self.gates * self.n_h, self.n_x, self.n_h);
        [
            ParamSpec::matrix("weight_ih_l0", g, n_x, ParamKind::Weight),
            ParamSpec::matrix("weight_hh_l0", g, n_h, ParamKind::Weight),
            ParamSpec::vector("bias_ih_l0", g, ParamKind::Bias),
            ParamSpec::vector("bias_hh_l0", g, ParamKind::Bias),
        ]
    }

    /// `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0` (PyTorch's names).
    pub fn visit(&self, f: &mut dyn FnMut(ParamSpec, &[T])) {
        let [wx, wh, bx, bh] = self.specs();
        f(wx, &self.w_x);
        f(wh, &self.w_h);
        f(bx, &self.b_x);
        f(bh, &self.b_h);
    }

    /// As [`visit`](Gated::visit), mutably.
    pub fn visit_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T])) {
        let [wx, wh, bx, bh] = self.specs();
        f(wx, &mut self.w_x);
        f(wh, &mut self.w_h);
        f(bx, &mut self.b_x);
        f(bh, &mut self.b_h);
    }

    /// Steps, inputs per step, cells and the output.
    pub fn settings(&self) -> serde_json::Value {
        let mut s = json!({
            "steps": [self.steps],
            "step_inputs": [self.n_x],
            "hidden": [self.n_h],
            "output": match self.output { Steps::Last => "last", Steps::All => "all" },
        });
        if let Some(k) = self.truncate {
            s["truncate"] = json!([k]);
        }
        s
    }

    /// Writes the layer's output from the states `h` (`n_h × T·B`, column `b·T + t`):
    /// every step's (padded steps, `t ≥ lengths[b]`, as zeros) or the last valid step's
    /// (`t = lengths[b] − 1`, `T − 1` without lengths).
    pub fn write_output(&self, h: &[T], out: &mut [T], lengths: &[usize]) {
        let (n_h, steps) = (self.n_h, self.steps);
        match self.output {
            Steps::All => {
                out.copy_from_slice(h);
                for (b, &len) in lengths.iter().enumerate() {
                    out[(b * steps + len) * n_h..(b + 1) * steps * n_h].fill(T::zero());
                }
            }
            Steps::Last => {
                for (b, o) in out.chunks_exact_mut(n_h).enumerate() {
                    let last = lengths.get(b).map_or(steps, |&l| l) - 1;
                    let at = (b * steps + last) * n_h;
                    o.copy_from_slice(&h[at..at + n_h]);
                }
            }
        }
    }

    /// Adds `∂C/∂h_t` of every example from the layer's output gradient `delta` to `dh`
    /// (`n_h × B`): its columns for step `t`, or the last valid step's only; nothing for
    /// a padded step (whose output is the constant 0).
    pub fn add_step_delta(&self, delta: &[T], t: usize, dh: &mut [T], lengths: &[usize]) {
        let (n_h, steps) = (self.n_h, self.steps);
        for (b, d) in dh.chunks_exact_mut(n_h).enumerate() {
            let len = lengths.get(b).map_or(steps, |&l| l);
            let at = match self.output {
                Steps::All if t < len => (b * steps + t) * n_h,
                Steps::Last if t + 1 == len => b * n_h,
                _ => continue,
            };
            d.iter_mut()
                .zip(&delta[at..at + n_h])
                .for_each(|(x, y)| *x += *y);
        }
    }

    /// Checks a batch's lengths (none, or one per example, each `1..=T`).
    pub fn check_lengths(&self, lengths: &[usize], batch: usize) -> Result<(), CoreError> {
        if !lengths.is_empty() && lengths.len() != batch {
            return Err(CoreError::Architecture(format!(
                "{}: {} lengths for a batch of {batch}",
                self.kind,
                lengths.len()
            )));
        }
        match lengths.iter().position(|&l| l == 0 || l > self.steps) {
            Some(b) => Err(CoreError::Architecture(format!(
                "{}: example {b} has {} steps, the layer takes 1 to {}",
                self.kind, lengths[b], self.steps
            ))),
            None => Ok(()),
        }
    }

    /// `Some(T)` if every step's state is the output.
    pub fn output_steps(&self) -> Option<usize> {
        (self.output == Steps::All).then_some(self.steps)
    }

    /// `S += W_x·X` for every step and example at once (`S`: `G·n_h × T·B`, column
    /// `b·T + t`; `x`: the batch, `T·n_x × B`, read as `n_x × T·B`).
    pub fn add_input_products(&self, x: &[T], s: &mut [T]) -> Result<(), CoreError> {
        let (rows, cols) = (self.gates * self.n_h, s.len() / (self.gates * self.n_h));
        let x = DMatrixView::from_slice(x, self.n_x, cols);
        let w_x = DMatrixView::from_slice(&self.w_x, rows, self.n_x);
        let mut s = DMatrixViewMut::from_slice(s, rows, cols);
        Ok(gemm(
            T::one(),
            &w_x,
            Op::NoTrans,
            &x,
            Op::NoTrans,
            T::one(),
            &mut s,
        )?)
    }

    /// What every step's `D = ∂C/∂(W_x·x_t + b_x)` (`G·n_h × T·B`) gives at once:
    /// `∇W_x += scale·D·Xᵀ`, `∇b_x += scale·D·1`, and `∂C/∂X = W_xᵀ·D` if asked.
    pub fn input_gradients(
        &self,
        d: &[T],
        x: &[T],
        scale: T,
        (g_wx, g_bx): (&mut Matrix<T>, &mut Matrix<T>),
        d_input: Option<&mut [T]>,
    ) -> Result<(), CoreError> {
        let (rows, cols) = (self.gates * self.n_h, d.len() / (self.gates * self.n_h));
        let dm = DMatrixView::from_slice(d, rows, cols);
        let xm = DMatrixView::from_slice(x, self.n_x, cols);
        gemm(scale, &dm, Op::NoTrans, &xm, Op::Trans, T::one(), g_wx)?;
        add_column_sums(d, scale, g_bx.as_mut_slice());
        if let Some(d_in) = d_input {
            let mut dx = DMatrixViewMut::from_slice(d_in, self.n_x, cols);
            let w_x = DMatrixView::from_slice(&self.w_x, rows, self.n_x);
            gemm(
                T::one(),
                &w_x,
                Op::Trans,
                &dm,
                Op::NoTrans,
                T::zero(),
                &mut dx,
            )?;
        }
        Ok(())
    }
}

/// `g += scale·Σ_j d[:, j]` for the columns of `d`, each as long as `g`.
pub(crate) fn add_column_sums<T: Real>(d: &[T], scale: T, g: &mut [T]) {
    for col in d.chunks_exact(g.len()) {
        for (g, v) in g.iter_mut().zip(col) {
            *g += scale * *v;
        }
    }
}

/// A recurrent layer whose backpropagation through time may be truncated.
pub(crate) trait Truncate: Sized {
    /// The layer truncated to `k` steps, or unchanged for `None`.
    fn truncate_to(self, k: Option<usize>) -> Result<Self, CoreError>;
}
