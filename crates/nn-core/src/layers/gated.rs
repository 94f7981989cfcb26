//! The parameters of a gated recurrent layer (LSTM: 4 gates per cell, GRU: 3), as
//! PyTorch's `nn.LSTM` and `nn.GRU` hold them: input and recurrent weights and two biases,
//! the gates' rows one block after another.

use nn_math::{Matrix, Real};
use serde_json::json;

use super::elman::Steps;
use crate::{CoreError, ParamKind, ParamSpec};

/// A gated layer's sizes and tensors: `W_x` (`G·n_h × n_x`), `W_h` (`G·n_h × n_h`), `b_x`,
/// `b_h` (`G·n_h`), column-major, for `G` gates per cell.
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
            return arch(format!(
                "{} and {} biases for {n_h} cells ({gates} each)",
                biases.0.len(),
                biases.1.len()
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

    /// Weights and biases drawn by `init` (as for a sigmoid layer: Xavier under
    /// [`crate::Init::Auto`]; fan-in `n_x` and `n_h`) from `rng`.
    pub fn init<R: rand::Rng + ?Sized>(
        (kind, gates): (&'static str, usize),
        (steps, n_x, n_h): (usize, usize, usize),
        output: Steps,
        init: crate::Init,
        rng: &mut R,
    ) -> Result<Self, CoreError> {
        if steps == 0 || n_x == 0 || n_h == 0 {
            return Err(CoreError::Architecture(format!(
                "{kind}: {steps} steps of {n_x} inputs into {n_h} cells"
            )));
        }
        init.validate()?;
        let sigmoid: super::activation::LayerActivation<T> =
            nn_activations::Sigmoid::default().into();
        let err = |e| CoreError::Architecture(format!("{kind}: {e}"));
        let (w_x, b_x) = init.draw(n_x, gates * n_h, &sigmoid, rng).map_err(err)?;
        let (w_h, b_h) = init.draw(n_h, gates * n_h, &sigmoid, rng).map_err(err)?;
        let biases = (b_x.as_slice().to_vec(), b_h.as_slice().to_vec());
        Self::new((kind, gates), steps, w_x, w_h, biases, output)
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

    /// Copies the states `h` (`n_h × T·B`) into the layer's output: all of them, or each
    /// example's last.
    pub fn write_output(&self, h: &[T], out: &mut [T]) {
        let (n_h, steps) = (self.n_h, self.steps);
        match self.output {
            Steps::All => out.copy_from_slice(h),
            Steps::Last => {
                for (b, o) in out.chunks_exact_mut(n_h).enumerate() {
                    let at = (b * steps + steps - 1) * n_h;
                    o.copy_from_slice(&h[at..at + n_h]);
                }
            }
        }
    }

    /// `∂C/∂h_t` of every example from the layer's output gradient `delta`, into `dh`
    /// (`n_h × B`): its columns for step `t`, or the last step's only.
    pub fn step_delta(&self, delta: &[T], t: usize, dh: &mut [T]) {
        let (n_h, steps) = (self.n_h, self.steps);
        for (b, d) in dh.chunks_exact_mut(n_h).enumerate() {
            match self.output {
                Steps::All => {
                    let at = (b * steps + t) * n_h;
                    d.copy_from_slice(&delta[at..at + n_h]);
                }
                Steps::Last if t == steps - 1 => d.copy_from_slice(&delta[b * n_h..(b + 1) * n_h]),
                Steps::Last => d.fill(T::zero()),
            }
        }
    }
}
