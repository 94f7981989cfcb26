//! The multi-threaded engine against the reference procedures (`nn_core::reference`) on
//! random dense networks, batch sizes, thread counts, layer splits and dropout: the same
//! outputs, losses and gradients to 1e-12 relative in f64, and bit for bit on one
//! thread (where the engine adds in the reference's order).

use nn_core::{
    Dropout, Gradient, HalfSquaredError, Network, SoftmaxCrossEntropy, SplitRule, Workspace,
    reference,
};
use nn_math::Matrix;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::{inputs, network, real_targets};

/// Equal to 1e-12 relative.
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

/// Every value of a gradient, in order.
pub fn values(g: &Gradient<f64>) -> Vec<f64> {
    g.layers()
        .iter()
        .flat_map(|l| l.tensors())
        .flat_map(|t| t.iter().copied())
        .collect()
}

/// Output, loss and gradient of one step of `net` on the engine (`threads`, `split`) or
/// on the reference (`threads = 0`).
pub fn step(
    net: &Network<f64>,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    threads: usize,
    split: u64,
    dropout: Option<(&Dropout, u64)>,
) -> (Matrix<f64>, f64, Vec<f64>) {
    let mut grad = net.gradient();
    if threads == 0 {
        let mut ws = Workspace::new();
        let out = match dropout {
            Some((d, seed)) => reference::evaluate_with_dropout(
                net,
                x,
                &mut ws,
                d,
                &mut StdRng::seed_from_u64(seed),
            ),
            None => reference::evaluate(net, x, &mut ws),
        }
        .unwrap()
        .clone_owned();
        let loss =
            reference::adjust_gradient(net, &mut ws, y, &HalfSquaredError, &mut grad).unwrap();
        return (out, loss, values(&grad));
    }
    let mut ws = Workspace::with_threads(threads).unwrap();
    if threads > 1 {
        ws.set_split_rule(SplitRule::ByInputs(split));
    }
    let out = match dropout {
        Some((d, seed)) => {
            net.evaluate_with_dropout(x, &mut ws, d, &mut StdRng::seed_from_u64(seed))
        }
        None => net.evaluate_with(x, &mut ws),
    }
    .unwrap()
    .clone_owned();
    let loss = net
        .adjust_gradient(&mut ws, y, &HalfSquaredError, &mut grad)
        .unwrap();
    (out, loss, values(&grad))
}

/// Output, loss and gradient of the engine (`threads`, `split`, dropout at `rate` drawn
/// from `seed`) against the reference: to 1e-12 relative, bit for bit on one thread
/// without dropout.
pub fn engine_matches_reference(
    net: &Network<f64>,
    (x, y): (&Matrix<f64>, &Matrix<f64>),
    threads: usize,
    split: u64,
    rate: Option<f64>,
    seed: u64,
) -> Result<(), TestCaseError> {
    let dropout = rate.map(|r| Dropout::new(vec![r; net.n_layers()]).unwrap());
    let d = dropout.as_ref().map(|d| (d, seed));
    let (out_r, loss_r, grad_r) = step(net, x, y, 0, 0, d);
    let (out_e, loss_e, grad_e) = step(net, x, y, threads, split, d);
    prop_assert!(close(loss_r, loss_e), "loss {loss_r} vs {loss_e}");
    for (a, b) in out_r.iter().zip(out_e.iter()) {
        prop_assert!(close(*a, *b), "output {a} vs {b}");
    }
    prop_assert_eq!(grad_r.len(), grad_e.len());
    for (a, b) in grad_r.iter().zip(&grad_e) {
        prop_assert!(close(*a, *b), "gradient {a} vs {b}");
    }
    if threads == 1 && rate.is_none() {
        prop_assert_eq!(loss_r.to_bits(), loss_e.to_bits());
        prop_assert!(
            out_r
                .iter()
                .zip(out_e.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        prop_assert!(
            grad_r
                .iter()
                .zip(&grad_e)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn the_engine_computes_what_the_reference_computes(
        (net, x, y) in (network(), 1usize..10).prop_flat_map(|(net, b)| {
            let (n0, n) = (net.n_inputs(), net.n_outputs());
            (Just(net), inputs(n0, b), real_targets(n, b))
        }),
        threads in 1usize..=3,
        split in any::<u64>(),
        rate in prop::option::of(0.0..0.6_f64),
        seed in any::<u64>(),
    ) {
        engine_matches_reference(&net, (&x, &y), threads, split, rate, seed)?;
    }

    #[test]
    fn a_reference_step_equals_the_engines_descent(
        (net, x, y) in (network(), 1usize..6).prop_flat_map(|(net, b)| {
            let (n0, n) = (net.n_inputs(), net.n_outputs());
            (Just(net), inputs(n0, b), real_targets(n, b))
        }),
    ) {
        // Reference: clear, evaluate, adjust, apply (Algorithms 4, 6, 8, 10).
        let mut by_reference = net.clone();
        let (mut ws, mut grad) = (Workspace::new(), net.gradient());
        reference::clear_gradient(&mut grad);
        reference::evaluate(&by_reference, &x, &mut ws).unwrap();
        reference::adjust_gradient(&by_reference, &mut ws, &y, &HalfSquaredError, &mut grad).unwrap();
        reference::apply_gradient(&mut by_reference, &grad, 0.1).unwrap();
        // Engine: the fused descent.
        let mut by_engine = net.clone();
        let mut ws = Workspace::new();
        by_engine.evaluate_with(&x, &mut ws).unwrap();
        by_engine.descend(&mut ws, &y, &HalfSquaredError, 0.1).unwrap();
        let mut pairs = Vec::new();
        by_reference.visit_params(|_, a| pairs.extend_from_slice(a));
        let mut k = 0;
        by_engine.visit_params(|_, b| {
            for v in b {
                pairs[k] -= v;
                k += 1;
            }
        });
        prop_assert!(pairs.iter().all(|d| d.abs() <= 1e-12), "{pairs:?}");
    }
}

#[test]
fn the_reference_rejects_what_the_engine_rejects() {
    let net = Network::<f64>::builder(3)
        .layer(2, nn_activations::Identity)
        .build(&mut StdRng::seed_from_u64(0))
        .unwrap();
    let mut ws = Workspace::new();
    let mut grad = net.gradient();
    assert!(reference::evaluate(&net, &Matrix::zeros(4, 2), &mut ws).is_err());
    assert!(matches!(
        reference::adjust_gradient(
            &net,
            &mut ws,
            &Matrix::zeros(2, 2),
            &SoftmaxCrossEntropy,
            &mut grad
        ),
        Err(nn_core::CoreError::NoForwardPass)
    ));
    reference::evaluate(&net, &Matrix::zeros(3, 2), &mut ws).unwrap();
    assert!(
        reference::adjust_gradient(
            &net,
            &mut ws,
            &Matrix::zeros(2, 3),
            &SoftmaxCrossEntropy,
            &mut grad
        )
        .is_err()
    );
    let other = Network::<f64>::builder(3)
        .layer(5, nn_activations::Identity)
        .build(&mut StdRng::seed_from_u64(0))
        .unwrap();
    assert!(
        reference::adjust_gradient(
            &net,
            &mut ws,
            &Matrix::zeros(2, 2),
            &SoftmaxCrossEntropy,
            &mut other.gradient()
        )
        .is_err()
    );
    let mut net = net;
    assert!(reference::apply_gradient(&mut net, &grad, -1.0).is_err());
    assert!(reference::apply_gradient(&mut net, &other.gradient(), 0.1).is_err());
}
