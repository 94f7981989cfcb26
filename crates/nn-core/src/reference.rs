//! The notes' procedures as they are written, one layer at a time on the calling thread,
//! over the [`Layer`](crate::Layer) trait: a reference to read beside the notes, and what runs a
//! network that holds any layer other than [`crate::Dense`] (with a threaded workspace,
//! each thread runs them on its share of the batch's examples; `docs/ARCHITECTURE.md`).
//!
//! | notes | here |
//! |---|---|
//! | Algorithm 3/4 ClearGradient | [`clear_gradient`] |
//! | Algorithm 5/6 Evaluate | [`evaluate`] |
//! | Algorithm 16/17 EvaluateWithDropout (errata 4) | [`evaluate_with_dropout`] |
//! | Algorithm 7/8 AdjustGradient, 18/19 with dropout (errata 2, 5) | [`adjust_gradient`] |
//! | Algorithm 9/10 ApplyGradient | [`apply_gradient`] |
//!
//! A network of dense layers only runs on the multi-threaded engine instead (the
//! [`Network`] methods of the same names), which computes the same values: the two agree
//! to rounding (a property test holds them to 1e-12 relative in f64), and bit for bit
//! where the engine adds in the same order (one thread, no layer split).
//!
//! Batched, one example per column: `A⁽ᵏ⁾` is `n_k × B`. The values a pass keeps for
//! backpropagation live in the [`Workspace`]: `A⁽⁰⁾` (dropout applied), each layer's
//! output `A⁽ᵏ⁾`, its scratch (a dense layer's `S⁽ᵏ⁾`), the dropped-out copy
//! `r⁽ᵏ⁾ ⊙ A⁽ᵏ⁾` of a hidden layer that drops, and each layer's `Δ⁽ᵏ⁾ = ∂C/∂A⁽ᵏ⁾`.
//!
//! ```
//! use nn_core::{Network, SoftmaxCrossEntropy, reference};
//! use nn_activations::{Identity, Tanh};
//! use nn_math::Matrix;
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! let mut net = Network::<f64>::builder(3).layer(5, Tanh).layer(2, Identity)
//!     .build(&mut StdRng::seed_from_u64(1))?;
//! let x = Matrix::from_fn(3, 4, |i, j| (i + j) as f64 / 6.0);
//! let y = Matrix::from_fn(2, 4, |i, j| if i == j % 2 { 1.0 } else { 0.0 });
//! let (mut ws, mut grad) = (net.workspace(), net.gradient());
//!
//! reference::clear_gradient(&mut grad);                                        // Algorithm 4
//! let out = reference::evaluate(&net, &x, &mut ws)?.clone_owned();             // Algorithm 6
//! assert!((&out - net.evaluate(&x)?).amax() < 1e-12);  // the engine computes the same
//! let before = reference::adjust_gradient(&net, &mut ws, &y, &SoftmaxCrossEntropy, &mut grad)?; // 8
//! reference::apply_gradient(&mut net, &grad, 0.1)?;                            // Algorithm 10
//!
//! reference::evaluate(&net, &x, &mut ws)?;
//! let after = reference::adjust_gradient(&net, &mut ws, &y, &SoftmaxCrossEntropy, &mut grad)?;
//! assert!(after < before);
//! # Ok::<(), nn_core::CoreError>(())
//! ```

use nn_math::nalgebra::{Dyn, RawStorage};
use nn_math::{MatrixView, MatrixViewMut, Real};
use rand::Rng;

use crate::engine::source::{Source, copy_columns};
use crate::{CoreError, Dropout, Gradient, Loss, Network, Saved, Workspace};

/// Algorithm 5/6, Evaluate: `A⁽⁰⁾ = X`, then `A⁽ᵏ⁾ = layer_k(A⁽ᵏ⁻¹⁾)` for `k = 1..L`
/// (for a dense layer eq. 2: `S⁽ᵏ⁾ = W⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾·1ᵀ`, `A⁽ᵏ⁾ = f⁽ᵏ⁾(S⁽ᵏ⁾)`).
/// Keeps every layer's values in `ws` for [`adjust_gradient`] and returns `A⁽ᴸ⁾`.
///
/// # Errors
/// [`CoreError::Shape`] if `input` does not have `n₀` rows; a layer's error.
pub fn evaluate<'w, T: Real, S: RawStorage<T, Dyn, Dyn>>(
    net: &Network<T>,
    input: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
    ws: &'w mut Workspace<T>,
) -> Result<MatrixView<'w, T>, CoreError> {
    net.check_input("reference::evaluate", input.nrows())?;
    ws.prepare(net, input.ncols());
    forward(net, Source::Matrix(input), ws)?;
    Ok(ws.output())
}

/// Algorithm 16/17, EvaluateWithDropout (errata 4): as [`evaluate`], with
/// `A⁽⁰⁾ = r⁽⁰⁾ ⊙ X` and each hidden layer's output multiplied by its mask `r⁽ᵏ⁾`
/// before the next layer reads it; each `r_j` is 0 with probability `δ` and `1/(1 − δ)`
/// otherwise, drawn from `rng` in the same order as the engine draws them (so both drop
/// the same neurons for the same seed).
///
/// # Errors
/// As [`evaluate`], and [`CoreError::Architecture`] for a `dropout` without one rate per
/// non-output layer.
pub fn evaluate_with_dropout<'w, T, S, R>(
    net: &Network<T>,
    input: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
    ws: &'w mut Workspace<T>,
    dropout: &Dropout,
    rng: &mut R,
) -> Result<MatrixView<'w, T>, CoreError>
where
    T: Real,
    S: RawStorage<T, Dyn, Dyn>,
    R: Rng + ?Sized,
{
    net.check_input("reference::evaluate_with_dropout", input.nrows())?;
    net.draw_masks(ws, input.ncols(), dropout, rng)?;
    forward(net, Source::Matrix(input), ws)?;
    Ok(ws.output())
}

/// The forward pass on a workspace prepared for the batch (masks drawn, if any).
pub(crate) fn forward<T: Real, S: RawStorage<T, Dyn, Dyn>>(
    net: &Network<T>,
    source: Source<'_, T, S>,
    ws: &mut Workspace<T>,
) -> Result<(), CoreError> {
    let batch = source.batch();
    let n_layers = net.n_layers();
    crate::scored::batch_lengths(&ws.lengths, batch)?;
    fill_input(net, source, ws);
    let Workspace {
        input,
        pre: scratch,
        act,
        partial: dropped,
        masks,
        masked,
        lengths,
        ..
    } = ws;
    let a0 = &input[..net.n_inputs() * batch];
    for (k, layer) in net.layers().enumerate() {
        let (n_in, n) = (layer.n_inputs(), layer.n_outputs());
        grow(&mut scratch[k], layer.scratch_len(batch));
        let (before, rest) = act.split_at_mut(k);
        let a_prev = layer_input(k, n_in * batch, a0, before, dropped, masked);
        let out = &mut rest[0][..n * batch];
        let s = &mut scratch[k][..layer.scratch_len(batch)];
        layer.forward_with_lengths(
            MatrixView::from_slice(a_prev, n_in, batch),
            MatrixViewMut::from_slice(out, n, batch),
            s,
            lengths,
        )?;
        // Algorithm 16: a hidden layer that drops passes r⁽ᵏ⁾ ⊙ a⁽ᵏ⁾ on.
        if k + 1 < n_layers && masked[k + 1] {
            grow(&mut dropped[k], n * batch);
            let d = &mut dropped[k][..n * batch];
            d.copy_from_slice(out);
            hadamard_in_place(d, &masks[k + 1]);
        }
    }
    ws.batch = batch;
    ws.parts = 1;
    Ok(())
}

/// `A⁽⁰⁾ = r⁽⁰⁾ ⊙ X`: the batch's input copied (or gathered) into the workspace, dropped
/// out if the input layer drops.
pub(crate) fn fill_input<T: Real, S: RawStorage<T, Dyn, Dyn>>(
    net: &Network<T>,
    source: Source<'_, T, S>,
    ws: &mut Workspace<T>,
) {
    let (n0, batch) = (net.n_inputs(), source.batch());
    let a0 = &mut ws.input[..n0 * batch];
    match source {
        Source::Matrix(x) => copy_columns(x, a0),
        Source::Columns(data, columns, _) => {
            for (dst, &c) in a0.chunks_exact_mut(n0).zip(columns) {
                dst.copy_from_slice(&data.as_slice()[c * n0..(c + 1) * n0]);
            }
        }
    }
    if ws.masked[0] {
        hadamard_in_place(a0, &ws.masks[0]);
    }
}

/// Algorithm 7/8, AdjustGradient (with errata 2's sign and errata 5's batch mean), and
/// 18/19 when the pass dropped out: backpropagates the batch the last forward pass left
/// in `ws` and **adds** its mean gradient to `grad`. Returns the batch's mean loss.
///
/// 1. `Δ⁽ᴸ⁾ = ∂C/∂A⁽ᴸ⁾`, column by column from the loss (for eq. 5, `a⁽ᴸ⁾ − y`:
///    errata 2).
/// 2. For `k = L..1`: layer `k` adds `(1/B)·∂C/∂θ` to each of its tensors' gradients
///    (a dense layer: with `D⁽ᵏ⁾ = Δ⁽ᵏ⁾ ⊙ f'(S⁽ᵏ⁾)`, `∇W⁽ᵏ⁾ += (1/B)·D⁽ᵏ⁾·A⁽ᵏ⁻¹⁾ᵀ` and
///    `∇b⁽ᵏ⁾ += (1/B)·D⁽ᵏ⁾·1`) and writes `Δ⁽ᵏ⁻¹⁾ = ∂C/∂A⁽ᵏ⁻¹⁾` (a dense layer:
///    `W⁽ᵏ⁾ᵀ·D⁽ᵏ⁾`), which a dropped layer multiplies by its mask:
///    `Δ⁽ᵏ⁻¹⁾ ← r⁽ᵏ⁻¹⁾ ⊙ Δ⁽ᵏ⁻¹⁾` (Algorithm 18).
///
/// # Errors
/// [`CoreError::NoForwardPass`], [`CoreError::Shape`] for a wrong target,
/// [`CoreError::GradientMismatch`] for a gradient of another network; a layer's error.
pub fn adjust_gradient<T, S, L>(
    net: &Network<T>,
    ws: &mut Workspace<T>,
    target: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
    loss: &L,
    grad: &mut Gradient<T>,
) -> Result<T, CoreError>
where
    T: Real,
    S: RawStorage<T, Dyn, Dyn>,
    L: Loss<T> + ?Sized,
{
    if ws.parts > 1 {
        // The forward pass was split between threads (`Network::evaluate_with` on a
        // threaded workspace), and each thread's layers keep their scratch apart: the
        // backward pass must be split the same way.
        return crate::engine::examples::adjust_gradient(net, ws, target, loss, grad);
    }
    grad.check("adjust_gradient", net)?;
    net.take_target("adjust_gradient", ws, target)?;
    let batch = ws.batch;
    let n_layers = net.n_layers();
    let Workspace {
        input,
        pre: scratch,
        act,
        partial: dropped,
        delta,
        target,
        example_loss,
        masks,
        masked,
        lengths,
        ..
    } = ws;
    let lengths = crate::scored::batch_lengths(lengths, batch)?;
    // 1. The output layer's Δ⁽ᴸ⁾ and each example's loss (of its valid steps only, for
    //    sequences with lengths).
    let n_out = net.n_outputs();
    let out = &act[n_layers - 1][..n_out * batch];
    let d_last = &mut delta[n_layers - 1][..n_out * batch];
    for (j, l) in example_loss[..batch].iter_mut().enumerate() {
        let col = j * n_out..(j + 1) * n_out;
        let parts = (&out[col.clone()], &target[col.clone()], &mut d_last[col]);
        *l = crate::scored::example_loss_and_gradient(net, parts, lengths.get(j).copied(), loss);
    }
    // 2. Layer by layer, from the last.
    let scale = T::one() / T::lit(batch as f64);
    for (k, g) in grad.layers_mut().iter_mut().enumerate().rev() {
        let Some(layer) = net.layer(k) else {
            break;
        };
        let (n_in, n) = (layer.n_inputs(), layer.n_outputs());
        let a_prev = layer_input(k, n_in * batch, input, act, dropped, masked);
        let saved = Saved {
            input: MatrixView::from_slice(a_prev, n_in, batch),
            output: MatrixView::from_slice(&act[k][..n * batch], n, batch),
            scratch: &mut scratch[k][..layer.scratch_len(batch)],
        };
        let (below, here) = delta.split_at_mut(k);
        let d_out = MatrixViewMut::from_slice(&mut here[0][..n * batch], n, batch);
        let d_in = below
            .last_mut()
            .map(|d| MatrixViewMut::from_slice(&mut d[..n_in * batch], n_in, batch));
        layer.backward_with_lengths(saved, d_out, scale, g.tensors_mut(), d_in, lengths)?;
        if k > 0 && masked[k] {
            hadamard_in_place(&mut below[k - 1][..n_in * batch], &masks[k]);
        }
    }
    let total = example_loss[..batch].iter().fold(T::zero(), |s, &l| s + l);
    ws.update_finite = grad.is_finite();
    Ok(total * scale)
}

/// Algorithm 3/4, ClearGradient: `∇C ← 0`.
pub fn clear_gradient<T: Real>(grad: &mut Gradient<T>) {
    grad.clear();
}

/// Algorithm 9/10, ApplyGradient: `θ ← θ − α·∇C_θ` for every parameter tensor `θ` (a
/// dense layer's `W⁽ᵏ⁾` and `b⁽ᵏ⁾`), with learning rate `α > 0`; then learned
/// activation parameters that left their domain are moved back to its nearest point
/// ([`Network::constrain_params`]).
///
/// # Errors
/// [`CoreError::InvalidHyperParameter`] if `learning_rate` is not positive and finite,
/// [`CoreError::GradientMismatch`] for a gradient of another network. The network is
/// unchanged on error.
pub fn apply_gradient<T: Real>(
    net: &mut Network<T>,
    grad: &Gradient<T>,
    learning_rate: T,
) -> Result<(), CoreError> {
    crate::error::check_learning_rate("apply_gradient", learning_rate)?;
    net.visit_params_mut(grad, |_, param, g| {
        for (x, dx) in param.iter_mut().zip(g) {
            *x -= learning_rate * *dx;
        }
    })?;
    net.constrain_params();
    Ok(())
}

/// AdjustGradient then ApplyGradient, through a gradient the workspace keeps: what
/// [`Network::descend`] does for a network that is not all dense.
pub(crate) fn descend<T, S, L>(
    net: &mut Network<T>,
    ws: &mut Workspace<T>,
    target: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
    loss: &L,
    learning_rate: T,
) -> Result<T, CoreError>
where
    T: Real,
    S: RawStorage<T, Dyn, Dyn>,
    L: Loss<T> + ?Sized,
{
    crate::error::check_learning_rate("descend", learning_rate)?;
    let mut grad = match ws.descent_gradient.take() {
        Some(g) if g.check_shapes(net).is_ok() => g,
        _ => net.gradient(),
    };
    grad.clear();
    let result = adjust_gradient(net, ws, target, loss, &mut grad)
        .map_err(|e| e.in_op("adjust_gradient", "descend"))
        .and_then(|loss| {
            apply_gradient(net, &grad, learning_rate)?;
            ws.update_finite = net.params_finite();
            Ok(loss)
        });
    ws.descent_gradient = Some(grad);
    result
}

/// `A⁽ᵏ⁻¹⁾` as layer `k` (from 0) reads it, its first `len` values: the input `A⁽⁰⁾`
/// for the first layer, else the layer below's output, or its dropped-out copy
/// `r ⊙ A⁽ᵏ⁻¹⁾` if that layer drops (Algorithm 16).
pub(crate) fn layer_input<'a, T>(
    k: usize,
    len: usize,
    input: &'a [T],
    act: &'a [Vec<T>],
    dropped: &'a [Vec<T>],
    masked: &[bool],
) -> &'a [T] {
    match k {
        0 => &input[..len],
        _ if masked[k] => &dropped[k - 1][..len],
        _ => &act[k - 1][..len],
    }
}

/// `x ← x ⊙ r` over `x`'s length.
pub(crate) fn hadamard_in_place<T: Real>(x: &mut [T], r: &[T]) {
    for (x, r) in x.iter_mut().zip(r) {
        *x *= *r;
    }
}

/// Grows `buf` to at least `len` values.
pub(crate) fn grow<T: Real>(buf: &mut Vec<T>, len: usize) {
    if buf.len() < len {
        buf.resize(len, T::zero());
    }
}
