//! Backpropagation against finite differences: every entry of the gradient of every
//! weight and bias, for random architectures, activations (per layer and per neuron),
//! both losses, random batches and targets, with and without a fixed dropout mask, and
//! on 1 to 3 threads (`Workspace::with_threads`) with each layer split by inputs or by
//! examples at random (`SplitRule::ByInputs`).
//!
//! `cargo xtask test` reruns this module with 2,000 cases per property.

use nn_core::{
    Dropout, HalfSquaredError, Loss, Network, SoftmaxCrossEntropy, SplitRule, Workspace,
};
use nn_math::Matrix;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::{
    batch_loss, central_difference, classifier, close, distributions, inputs, network, real_targets,
};

/// Compares the backpropagated gradient of `net` on `(x, y)` with the central difference
/// of the batch loss, entry by entry. `dropout` fixes the masks through a seeded RNG, so
/// that every perturbed evaluation sees the same mask. The backpropagation runs on
/// `threads` threads, splitting layer `k` by inputs if bit `k` of `split` is set and by
/// examples otherwise (some blocks empty when a layer is narrower, or the batch smaller,
/// than the team).
fn check_gradient(
    net: &Network<f64>,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    loss: &dyn Loss<f64>,
    dropout: Option<(&Dropout, u64)>,
    (threads, split): (usize, u64),
) -> Result<(), TestCaseError> {
    let outputs = |n: &Network<f64>| -> Matrix<f64> {
        let mut ws = n.workspace();
        match dropout {
            None => n.evaluate_with(x, &mut ws).unwrap().clone_owned(),
            Some((d, seed)) => n
                .evaluate_with_dropout(x, &mut ws, d, &mut StdRng::seed_from_u64(seed))
                .unwrap()
                .clone_owned(),
        }
    };
    let mut ws = Workspace::with_threads(threads).unwrap();
    ws.set_split_rule(SplitRule::ByInputs(split));
    let mut grad = net.gradient();
    match dropout {
        None => {
            net.evaluate_with(x, &mut ws).unwrap();
        }
        Some((d, seed)) => {
            net.evaluate_with_dropout(x, &mut ws, d, &mut StdRng::seed_from_u64(seed))
                .unwrap();
        }
    }
    let reported = net.adjust_gradient(&mut ws, y, loss, &mut grad).unwrap();
    prop_assert!(
        (reported - batch_loss(loss, &outputs(net), y)).abs() <= 1e-12 * (1.0 + reported.abs())
    );

    for (k, g) in grad.layers().iter().enumerate() {
        let (rows, cols) = g.weight().unwrap().shape();
        for i in 0..rows {
            for j in 0..=cols {
                // Column `cols` stands for the bias, the notes' w_{i,0}.
                let numeric = central_difference(|delta| {
                    let mut moved = net.clone();
                    if j < cols {
                        moved.dense_mut(k).unwrap().weight_mut()[(i, j)] += delta;
                    } else {
                        moved.dense_mut(k).unwrap().bias_mut()[i] += delta;
                    }
                    batch_loss(loss, &outputs(&moved), y)
                });
                let analytic = if j < cols {
                    g.weight().unwrap()[(i, j)]
                } else {
                    g.bias().unwrap()[i]
                };
                prop_assert!(
                    close(analytic, numeric),
                    "layer {k}, {} ({i}, {j}): backprop {analytic}, finite difference {numeric}",
                    if j < cols { "weight" } else { "bias" }
                );
            }
        }
    }
    Ok(())
}

fn net_and_batch<S: Strategy<Value = Matrix<f64>>>(
    nets: impl Strategy<Value = Network<f64>>,
    targets: fn(usize, usize) -> S,
) -> impl Strategy<Value = (Network<f64>, Matrix<f64>, Matrix<f64>)> {
    (nets, 1usize..=8).prop_flat_map(move |(net, b)| {
        let (n_in, n_out) = (net.n_inputs(), net.n_outputs());
        (Just(net), inputs(n_in, b), targets(n_out, b))
    })
}

proptest! {
    #[test]
    fn half_squared_error_gradient_matches_finite_differences(
        (net, x, y) in net_and_batch(network(), real_targets),
        threads in 1usize..=3,
        split in any::<u64>(),
    ) {
        check_gradient(&net, &x, &y, &HalfSquaredError, None, (threads, split))?;
    }

    #[test]
    fn softmax_cross_entropy_gradient_matches_finite_differences(
        (net, x, y) in net_and_batch(classifier(), distributions),
        threads in 1usize..=3,
        split in any::<u64>(),
    ) {
        check_gradient(&net, &x, &y, &SoftmaxCrossEntropy, None, (threads, split))?;
    }

    #[test]
    fn gradient_with_fixed_dropout_mask_matches_finite_differences(
        (net, x, y) in net_and_batch(network(), real_targets),
        rates in prop::collection::vec(0.0..0.5_f64, 4),
        seed in any::<u64>(),
        threads in 1usize..=3,
        split in any::<u64>(),
    ) {
        let dropout = Dropout::new(rates[..net.n_layers()].to_vec()).unwrap();
        check_gradient(&net, &x, &y, &HalfSquaredError, Some((&dropout, seed)), (threads, split))?;
    }

    #[test]
    fn batch_gradient_is_the_mean_of_example_gradients(
        (net, x, y) in net_and_batch(network(), real_targets)
    ) {
        // One call on the whole batch against Algorithm 7 looped over its examples.
        let b = x.ncols();
        let mut ws = net.workspace();
        let mut batch = net.gradient();
        net.evaluate_with(&x, &mut ws).unwrap();
        net.adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut batch).unwrap();

        let mut looped = net.gradient();
        for j in 0..b {
            net.evaluate_with(&x.columns(j, 1), &mut ws).unwrap();
            net.adjust_gradient(&mut ws, &y.columns(j, 1), &HalfSquaredError, &mut looped).unwrap();
        }
        looped.scale(1.0 / b as f64);
        for (gb, gl) in batch.layers().iter().zip(looped.layers()) {
            for (p, q) in gb.tensors().iter().flat_map(|t| t.iter()).zip(gl.tensors().iter().flat_map(|t| t.iter())) {
                prop_assert!((p - q).abs() <= 1e-12 * (1.0 + q.abs()), "batch {p}, mean of examples {q}");
            }
        }
    }
}

proptest! {
    #[test]
    fn descend_equals_adjust_then_apply(
        (net, x, y) in net_and_batch(network(), real_targets),
        rate in 0.01..1.0_f64,
        seed in any::<u64>(),
        threads in 1usize..=3,
        split in any::<u64>(),
    ) {
        // Algorithm 7 + 9 fused: the same update as clear, adjust and apply (the fused
        // one split between `threads` threads, each updating its own columns of W).
        let dropout = Dropout::new(vec![0.2; net.n_layers()]).unwrap();
        let mut separate = net.clone();
        let mut ws = net.workspace();
        let mut grad = net.gradient();
        separate.evaluate_with_dropout(&x, &mut ws, &dropout, &mut StdRng::seed_from_u64(seed)).unwrap();
        let l1 = separate.adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut grad).unwrap();
        separate.apply_gradient(&grad, rate).unwrap();

        let mut fused = net.clone();
        let mut ws = Workspace::with_threads(threads).unwrap();
        ws.set_split_rule(SplitRule::ByInputs(split));
        fused.evaluate_with_dropout(&x, &mut ws, &dropout, &mut StdRng::seed_from_u64(seed)).unwrap();
        let l2 = fused.descend(&mut ws, &y, &HalfSquaredError, rate).unwrap();
        prop_assert!((l1 - l2).abs() <= 1e-12 * (1.0 + l1.abs()), "{l1} vs {l2}");
        for (a, b) in separate.dense_layers().unwrap().iter().zip(fused.dense_layers().unwrap()) {
            for (p, q) in a.weight().iter().chain(a.bias().iter()).zip(b.weight().iter().chain(b.bias().iter())) {
                prop_assert!((p - q).abs() <= 1e-12 * (1.0 + p.abs()), "{p} vs {q}");
            }
        }
    }
}

/// With `SplitRule::Auto`, a network whose layers take all three ways (the first split by
/// inputs, the second by examples, the output layer alone on the calling thread, which
/// updates it in its own phase): the fused, threaded step equals adjust and apply on one
/// thread, and a `Feed`'s step (with the next batch gathered ahead) equals it bit for bit.
#[test]
fn auto_split_descend_equals_adjust_then_apply() {
    let mut rng = StdRng::seed_from_u64(11);
    let net = Network::<f64>::builder(300)
        .layer(100, nn_activations::Relu)
        .layer(64, nn_activations::Tanh)
        .layer(10, nn_activations::Identity)
        .build(&mut rng)
        .unwrap();
    let data = Matrix::from_fn(300, 130, |i, j| ((i * 13 + j * 7) % 17) as f64 / 8.0 - 1.0);
    let y = Matrix::from_fn(10, 64, |i, j| if i == j % 10 { 1.0 } else { 0.0 });
    let (first, next): (Vec<usize>, Vec<usize>) = ((0..64).collect(), (64..128).collect());
    let x = data.columns(0, 64).clone_owned();

    let mut separate = net.clone();
    let (mut ws, mut grad) = (net.workspace(), net.gradient());
    separate.evaluate_with(&x, &mut ws).unwrap();
    let l1 = separate
        .adjust_gradient(&mut ws, &y, &SoftmaxCrossEntropy, &mut grad)
        .unwrap();
    separate.apply_gradient(&grad, 0.05).unwrap();

    for threads in 2..=3 {
        let mut fused = net.clone();
        let mut ws = Workspace::with_threads(threads).unwrap();
        fused.evaluate_with(&x, &mut ws).unwrap();
        let l2 = fused
            .descend(&mut ws, &y, &SoftmaxCrossEntropy, 0.05)
            .unwrap();
        assert!((l1 - l2).abs() <= 1e-12 * (1.0 + l1.abs()), "{l1} vs {l2}");
        for (a, b) in separate
            .dense_layers()
            .unwrap()
            .iter()
            .zip(fused.dense_layers().unwrap())
        {
            assert!((a.weight() - b.weight()).amax() <= 1e-12 * (1.0 + a.weight().amax()));
            assert!((a.bias() - b.bias()).amax() <= 1e-12 * (1.0 + a.bias().amax()));
        }

        let mut fed = net.clone();
        let mut ws = Workspace::with_threads(threads).unwrap();
        let mut feed = ws.feed(&data);
        feed.evaluate(&fed, &first, &next).unwrap();
        let l3 = feed
            .descend(&mut fed, &y, &SoftmaxCrossEntropy, 0.05)
            .unwrap();
        assert_eq!(l2.to_bits(), l3.to_bits());
        assert_eq!(fused, fed);
    }
}
