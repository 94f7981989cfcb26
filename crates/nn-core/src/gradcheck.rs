//! Gradient checking, as PyTorch's `torch.autograd.gradcheck`: a layer's or a network's
//! analytic gradient against central finite differences in f64,
//! `∂C/∂θ ≈ (C(θ + h) − C(θ − h)) / 2h`, value by value.
//!
//! The error of one value is `|analytic − numeric| / max(1, |analytic|, |numeric|)`:
//! relative for gradients above 1, absolute below. The central difference's own error
//! is about `h²·|C'''|/6 + ε·|C|/h` (truncation and rounding); with `h = 1e-6` in f64
//! that is near 1e-10 for smooth functions of moderate size, so a correct gradient
//! gives errors below 1e-7, and a wrong one (a dropped factor, a sign) errors near 1.
//! A kink (ReLU at 0) within `h` of a value can give a large error there: check with
//! smooth activations, or inputs away from the kinks.

use std::fmt;

use nn_math::{Matrix, MatrixView};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::{CoreError, Dropout, Layer, Loss, Network, Saved, Workspace};

/// The result of a gradient check: the largest error over every value checked, and
/// where it was.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheckReport {
    /// The largest `|analytic − numeric| / max(1, |analytic|, |numeric|)`.
    pub max_error: f64,
    /// Where the largest error is: a parameter's path and index, e.g.
    /// `layers.0.weight[5]`, or `input[3]` (column-major index). Empty if nothing was
    /// checked.
    pub worst: String,
    /// The analytic derivative there.
    pub analytic: f64,
    /// The finite-difference estimate there.
    pub numeric: f64,
    /// How many values were checked.
    pub checked: usize,
}

impl GradCheckReport {
    fn new() -> Self {
        Self {
            max_error: 0.0,
            worst: String::new(),
            analytic: 0.0,
            numeric: 0.0,
            checked: 0,
        }
    }

    fn record(&mut self, what: impl FnOnce() -> String, analytic: f64, numeric: f64) {
        let error = (analytic - numeric).abs() / 1f64.max(analytic.abs()).max(numeric.abs());
        self.checked += 1;
        // A NaN error is the largest of all, not skipped.
        let larger = error.is_nan() || error > self.max_error;
        if larger || self.worst.is_empty() {
            self.max_error = if error.is_nan() { f64::INFINITY } else { error };
            self.worst = what();
            self.analytic = analytic;
            self.numeric = numeric;
        }
    }
}

impl fmt::Display for GradCheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "largest error {:.3e} at {} (analytic {:e}, numeric {:e}) over {} values",
            self.max_error, self.worst, self.analytic, self.numeric, self.checked
        )
    }
}

/// Checks a layer's [`backward`](Layer::backward) against central differences of its
/// [`forward`](Layer::forward), over every parameter value and every input value, for
/// the scalar `C = Σᵢⱼ cᵢⱼ·A⁽ᵏ⁾ᵢⱼ` with fixed weights `cᵢⱼ` in `[−1, 1]` (so that every
/// output matters, each differently). `step` is `h`.
///
/// # Errors
/// [`CoreError::Shape`] if `input` does not have the layer's input rows or has no
/// columns, [`CoreError::InvalidHyperParameter`] for a `step` that is not positive and
/// finite; the layer's own errors.
pub fn check_layer(
    layer: &dyn Layer<f64>,
    input: &Matrix<f64>,
    step: f64,
) -> Result<GradCheckReport, CoreError> {
    check_step(step)?;
    let (n_in, n_out, batch) = (layer.n_inputs(), layer.n_outputs(), input.ncols());
    if input.nrows() != n_in || batch == 0 {
        return Err(crate::error::shape_err(
            "check_layer",
            "input",
            if batch == 0 { "columns" } else { "rows" },
            if batch == 0 { 1 } else { n_in },
            if batch == 0 { 0 } else { input.nrows() },
        ));
    }
    let c = Matrix::from_fn(n_out, batch, |i, j| ((1 + 7 * i + 13 * j) as f64).sin());
    let mut scratch = vec![0.0; layer.scratch_len(batch)];
    let objective = |l: &dyn Layer<f64>, x: &Matrix<f64>, s: &mut [f64]| {
        let mut out = Matrix::zeros(n_out, batch);
        l.forward(x.as_view(), out.as_view_mut(), s)?;
        Ok::<_, CoreError>(out.dot(&c))
    };
    // Analytic: one backward pass with ∂C/∂A = c and scale 1.
    let mut out = Matrix::zeros(n_out, batch);
    layer.forward(input.as_view(), out.as_view_mut(), &mut scratch)?;
    let mut grads = Vec::new();
    layer.visit_params(&mut |spec, _| grads.push(Matrix::zeros(spec.rows, spec.cols)));
    let mut d_in = Matrix::zeros(n_in, batch);
    let mut d_out = c.clone();
    let saved = Saved {
        input: input.as_view(),
        output: out.as_view(),
        scratch: &mut scratch,
    };
    layer.backward(
        saved,
        d_out.as_view_mut(),
        1.0,
        &mut grads,
        Some(d_in.as_view_mut()),
    )?;

    let mut report = GradCheckReport::new();
    // Parameters, one value at a time, in a copy of the layer.
    let mut probe = layer.clone_box();
    let mut specs = Vec::new();
    layer.visit_params(&mut |spec, _| specs.push(spec));
    for (t, spec) in specs.iter().enumerate() {
        for i in 0..spec.len() {
            let old = set(&mut *probe, t, i, 0.0);
            let ((up, h1), (down, h2)) = (moved(old, step), moved(old, -step));
            set(&mut *probe, t, i, up);
            let plus = objective(&*probe, input, &mut scratch);
            set(&mut *probe, t, i, down);
            let minus = objective(&*probe, input, &mut scratch);
            set(&mut *probe, t, i, old);
            let numeric = (plus? - minus?) / (h1 - h2);
            let analytic = grads[t].as_slice()[i];
            report.record(|| format!("{}[{i}]", spec.name), analytic, numeric);
        }
    }
    // Inputs.
    let mut x = input.clone();
    for i in 0..x.len() {
        let v = x.as_slice()[i];
        let ((up, h1), (down, h2)) = (moved(v, step), moved(v, -step));
        x.as_mut_slice()[i] = up;
        let plus = objective(layer, &x, &mut scratch)?;
        x.as_mut_slice()[i] = down;
        let minus = objective(layer, &x, &mut scratch)?;
        x.as_mut_slice()[i] = v;
        let numeric = (plus - minus) / (h1 - h2);
        report.record(|| format!("input[{i}]"), d_in.as_slice()[i], numeric);
    }
    Ok(report)
}

/// Options of [`check_network`].
#[derive(Clone, Debug)]
pub struct NetworkCheck {
    /// The finite-difference step `h` (default `1e-6`).
    pub step: f64,
    /// Threads of the workspace the analytic gradient is computed in (default 1).
    pub threads: usize,
    /// Dropout with the seed of its masks (the same masks in every pass), if any.
    pub dropout: Option<(Dropout, u64)>,
    /// The valid steps of each example, for sequences of different lengths
    /// ([`Workspace::set_lengths`]); empty (the default) for none.
    pub lengths: Vec<usize>,
}

impl Default for NetworkCheck {
    fn default() -> Self {
        Self {
            step: 1e-6,
            threads: 1,
            dropout: None,
            lengths: Vec::new(),
        }
    }
}

/// Checks a network's gradient, as [`Network::adjust_gradient`] computes it, against
/// central differences of the batch's mean loss, over every value of every parameter
/// tensor ([`Network::visit_params`]), whatever the layers' kinds.
///
/// ```
/// use nn_core::{HalfSquaredError, Network, gradcheck};
/// use nn_activations::{Identity, Tanh};
/// use nn_math::Matrix;
/// use rand::{SeedableRng, rngs::StdRng};
///
/// let net = Network::<f64>::builder(3).layer(4, Tanh).layer(2, Identity)
///     .build(&mut StdRng::seed_from_u64(5))?;
/// let x = Matrix::from_fn(3, 6, |i, j| (i as f64 - j as f64) / 4.0);
/// let y = Matrix::from_fn(2, 6, |i, j| (i + j) as f64 / 10.0);
/// let report = gradcheck::check_network(&net, &x, &y, &HalfSquaredError, &Default::default())?;
/// assert!(report.max_error < 1e-7, "{report}");
/// assert_eq!(report.checked, net.n_params());
/// # Ok::<(), nn_core::CoreError>(())
/// ```
///
/// # Errors
/// As [`Network::evaluate_with`] and [`Network::adjust_gradient`]; a step that is not
/// positive and finite.
pub fn check_network<L: Loss<f64> + ?Sized>(
    net: &Network<f64>,
    input: &Matrix<f64>,
    target: &Matrix<f64>,
    loss: &L,
    options: &NetworkCheck,
) -> Result<GradCheckReport, CoreError> {
    let step = options.step;
    check_step(step)?;
    let mut ws = Workspace::with_threads(options.threads.max(1))?;
    ws.set_lengths(&options.lengths)?;
    let forward = |net: &Network<f64>, ws: &mut Workspace<f64>| -> Result<(), CoreError> {
        match &options.dropout {
            Some((d, seed)) => {
                net.evaluate_with_dropout(input, ws, d, &mut StdRng::seed_from_u64(*seed))?
            }
            None => net.evaluate_with(input, ws)?,
        };
        Ok(())
    };
    forward(net, &mut ws)?;
    let mut grad = net.gradient();
    net.adjust_gradient(&mut ws, target, loss, &mut grad)?;
    let mut plain = Workspace::new();
    plain.set_lengths(&options.lengths)?;
    let mut objective = |net: &Network<f64>| -> Result<f64, CoreError> {
        forward(net, &mut plain)?;
        let out: MatrixView<'_, f64> = plain.output();
        let length = |j: usize| options.lengths.get(j).copied();
        let total: f64 = (0..out.ncols())
            .map(|j| {
                let (o, y) = (out.column(j), target.column(j));
                net.example_loss(o.as_slice(), y.as_slice(), length(j), loss)
            })
            .sum();
        Ok(total / out.ncols() as f64)
    };
    let mut report = GradCheckReport::new();
    let mut probe = net.clone();
    // The gradient holds each layer's tensors in the layer's visiting order.
    for (k, g) in grad.layers().iter().enumerate() {
        for (t, (analytic, name)) in g.tensors().iter().zip(g.names()).enumerate() {
            for i in 0..analytic.len() {
                let mut at = |value: f64| {
                    let old = probe.layer_mut(k).map(|l| set(l, t, i, value));
                    let cost = objective(&probe);
                    if let (Some(l), Some(old)) = (probe.layer_mut(k), old) {
                        set(l, t, i, old);
                    }
                    cost
                };
                let old = net.layer(k).map_or(0.0, |l| value_of(l, t, i));
                let ((up, h1), (down, h2)) = (moved(old, step), moved(old, -step));
                let numeric = (at(up)? - at(down)?) / (h1 - h2);
                report.record(
                    || format!("layers.{k}.{name}[{i}]"),
                    analytic.as_slice()[i],
                    numeric,
                );
            }
        }
    }
    Ok(report)
}

/// Value `i` of tensor `t` of `layer`.
fn value_of(layer: &dyn Layer<f64>, t: usize, i: usize) -> f64 {
    let (mut at, mut v) = (0, 0.0);
    layer.visit_params(&mut |_, values| {
        if at == t {
            v = values[i];
        }
        at += 1;
    });
    v
}

/// Sets value `i` of tensor `t` of `layer` to `value` and returns the value it had.
fn set(layer: &mut dyn Layer<f64>, t: usize, i: usize, value: f64) -> f64 {
    let (mut at, mut old) = (0, 0.0);
    layer.visit_params_mut(&mut |_, values| {
        if at == t {
            old = std::mem::replace(&mut values[i], value);
        }
        at += 1;
    });
    old
}

/// The value `old ± step` a central difference evaluates at, and the step actually
/// taken (`(old + step) − old`, exact in floating point).
fn moved(old: f64, step: f64) -> (f64, f64) {
    let x = old + step;
    (x, x - old)
}

fn check_step(step: f64) -> Result<(), CoreError> {
    if step.is_finite() && step > 0.0 {
        return Ok(());
    }
    Err(CoreError::InvalidHyperParameter {
        op: "gradcheck",
        name: "step".into(),
        value: step,
        requirement: "must be positive and finite",
    })
}
