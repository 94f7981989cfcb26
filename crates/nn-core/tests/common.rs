//! Shared strategies and helpers: random architectures, finite differences.

use nn_activations::{Builtin, Identity};
use nn_core::{Init, LayerActivation, Loss, Network, NeuronActivation};
use nn_math::Matrix;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A differentiable activation with moderate parameters (no kinks, so that central
/// differences are exact to the tolerance everywhere).
pub fn smooth_activation() -> impl Strategy<Value = NeuronActivation<f64>> {
    let b = |name: &'static str, params: Vec<(&'static str, f64)>| {
        NeuronActivation::Builtin(Builtin::from_parts(name, &params).expect("valid parameters"))
    };
    let p = || 0.5..2.0_f64;
    prop_oneof![
        Just(b("identity", vec![])),
        Just(b("tanh", vec![])),
        (p(), p()).prop_map(move |(be, g)| b("sigmoid", vec![("beta", be), ("gamma", g)])),
        (p(), p()).prop_map(move |(be, g)| b("silu", vec![("beta", be), ("gamma", g)])),
        (p(), p()).prop_map(move |(be, g)| b("softplus", vec![("beta", be), ("gamma", g)])),
        p().prop_map(move |be| b("mish", vec![("beta", be)])),
        p().prop_map(move |be| b("squareplus", vec![("beta", be)])),
    ]
}

/// A layer's activations: shared, or (one time in three) a per-neuron mix.
pub fn layer_activation(width: usize) -> impl Strategy<Value = LayerActivation<f64>> {
    prop_oneof![
        2 => smooth_activation().prop_map(LayerActivation::Shared),
        1 => prop::collection::vec(smooth_activation(), width).prop_map(LayerActivation::PerNeuron),
    ]
}

/// A random network: 1–4 layers of widths 1–8, smooth activations (per layer or per
/// neuron), weights and biases uniform in [−0.5, 0.5) from a random seed: a scale at
/// which activations stay of order 1, as in trained networks, so that the loss is small
/// enough for finite differences to resolve 1e-9 (with weights in [−1, 1), losses of
/// several thousand occurred, and rounding alone exceeded the tolerance).
pub fn network() -> impl Strategy<Value = Network<f64>> {
    (
        1usize..=8,
        prop::collection::vec(1usize..=8, 1..=4),
        any::<u64>(),
    )
        .prop_flat_map(|(n_in, widths, seed)| {
            let acts: Vec<_> = widths.iter().map(|&w| layer_activation(w)).collect();
            (Just(n_in), Just(widths), acts, Just(seed))
        })
        .prop_map(|(n_in, widths, acts, seed)| {
            let mut b = Network::builder(n_in).init(Init::Uniform {
                low: -0.5,
                high: 0.5,
            });
            for (w, a) in widths.into_iter().zip(acts) {
                b = b.layer(w, a);
            }
            b.build(&mut StdRng::seed_from_u64(seed))
                .expect("valid architecture")
        })
}

/// A network with an identity output layer for softmax cross-entropy (the usual setup).
pub fn classifier() -> impl Strategy<Value = Network<f64>> {
    network().prop_map(|net| {
        let (n_in, mut layers) = (net.n_inputs(), net.dense_layers().unwrap().to_vec());
        let last = layers.pop().expect("at least one layer");
        let out = nn_core::Dense::new(last.weight().clone_owned(), last.bias().clone(), Identity)
            .expect("same shapes");
        layers.push(out);
        Network::from_layers(n_in, layers).expect("same architecture")
    })
}

/// A batch of `b` inputs in [−2, 2).
pub fn inputs(n: usize, b: usize) -> impl Strategy<Value = Matrix<f64>> {
    prop::collection::vec(-2.0..2.0_f64, n * b)
        .prop_map(move |v| Matrix::from_column_slice(n, b, &v))
}

/// `b` targets for the half squared error: anything in [−1, 1).
pub fn real_targets(n: usize, b: usize) -> impl Strategy<Value = Matrix<f64>> {
    prop::collection::vec(-1.0..1.0_f64, n * b)
        .prop_map(move |v| Matrix::from_column_slice(n, b, &v))
}

/// `b` targets for cross-entropy: probability vectors (positive, summing to 1).
pub fn distributions(n: usize, b: usize) -> impl Strategy<Value = Matrix<f64>> {
    prop::collection::vec(0.01..1.0_f64, n * b).prop_map(move |v| {
        let mut m = Matrix::from_column_slice(n, b, &v);
        for mut col in m.column_iter_mut() {
            let s = col.sum();
            col /= s;
        }
        m
    })
}

/// The mean loss of a batch: what `adjust_gradient` differentiates.
pub fn batch_loss(loss: &dyn Loss<f64>, outputs: &Matrix<f64>, targets: &Matrix<f64>) -> f64 {
    let b = outputs.ncols();
    (0..b)
        .map(|j| loss.loss(outputs.column(j).as_slice(), targets.column(j).as_slice()))
        .sum::<f64>()
        / b as f64
}

/// Step of the finite-difference stencil.
pub const H: f64 = 5e-4;

/// The fourth-order central difference `(−g(2h) + 8g(h) − 8g(−h) + g(−2h)) / 12h`.
fn stencil(g: &impl Fn(f64) -> f64, h: f64) -> f64 {
    (-g(2.0 * h) + 8.0 * g(h) - 8.0 * g(-h) + g(-2.0 * h)) / (12.0 * h)
}

/// The derivative at 0 of `g(δ)` = the loss with one parameter moved by δ: the
/// fourth-order central difference at `h` and `h/2`, combined by Richardson
/// extrapolation, `(16·D(h/2) − D(h)) / 15`, which cancels the `h⁴` error term.
///
/// Why: deep random networks with dropout scaling have large higher derivatives; the
/// plain stencil's truncation error `h⁴·g⁽⁵⁾/30` then exceeded the tolerance at h = 1e-3
/// and h = 5e-4, while a smaller step lets rounding (`1.5·ε·|g|/h`) through. The
/// extrapolated value converged to backprop in every case of 20,000 probed per property.
pub fn central_difference(g: impl Fn(f64) -> f64) -> f64 {
    (16.0 * stencil(&g, H / 2.0) - stencil(&g, H)) / 15.0
}

/// Relative 1e-6, absolute 1e-9 near zero.
pub fn close(analytic: f64, numeric: f64) -> bool {
    (analytic - numeric).abs() <= (1e-6 * analytic.abs().max(numeric.abs())).max(1e-9)
}

/// A model file written by PyTorch (`tests/data/torch_*.py`): the network under this
/// library's names, a batch of inputs `test.x` (one example per row, which is one column
/// here) and PyTorch's outputs `test.y`. Checks that the network gives PyTorch's outputs
/// (within 1e-6), and writes this library's own file of it, with its outputs, to
/// `target/{check}` for the script to check in PyTorch the other way.
pub fn gives_pytorch_outputs(bytes: &[u8], check: &str) {
    let net = Network::<f32>::from_safetensors(bytes).unwrap();
    let extras = nn_core::read_extras::<f32>(bytes, "test.").unwrap();
    let get = |name: &str| {
        extras
            .tensors
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .clone()
    };
    let (x, y) = (get("test.x"), get("test.y"));
    let (n_in, n_out) = (net.n_inputs(), net.n_outputs());
    let x = nn_math::Matrix::from_vec(n_in, x.len() / n_in, x);
    let y = nn_math::Matrix::from_vec(n_out, y.len() / n_out, y);
    let out = net.evaluate(&x).unwrap();
    assert!((&out - &y).amax() < 1e-6, "{check}: ours {out} PyTorch {y}");
    let extras = nn_core::Extras {
        tensors: vec![
            ("test.x".into(), x.as_slice().to_vec()),
            ("test.y".into(), out.as_slice().to_vec()),
        ],
        metadata: vec![],
    };
    let ours = net.to_safetensors_with(&extras).unwrap();
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    if target.is_dir() {
        std::fs::write(target.join(check), ours).unwrap();
    }
}
