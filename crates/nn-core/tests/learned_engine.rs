//! Learned activation parameters on the multi-threaded engine, held to the reference
//! procedures (`nn_core::reference`) over random networks mixing fixed, shared and
//! per-neuron learned β and γ (hidden and output layers), thread counts, layer splits
//! and dropout: the same outputs, losses and gradients to 1e-12 relative, bit for bit on
//! one thread; the fused descent as the reference's step; and no allocation per step.

use nn_activations::{Identity, PRelu, Silu};
use nn_core::{
    HalfSquaredError, Network, Sharing, SoftmaxCrossEntropy, SplitRule, Workspace, reference,
};
use nn_math::Matrix;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::counting_allocator::allocations_during;
use crate::learned::network_and_batch_of;
use crate::reference::{close, engine_matches_reference};

fn params(net: &Network<f64>) -> Vec<f64> {
    let mut all = Vec::new();
    net.visit_params(|_, p| all.extend_from_slice(p));
    all
}

proptest! {
    #[test]
    fn the_engine_learns_what_the_reference_learns(
        (net, x, y) in network_and_batch_of(1..10),
        threads in 1usize..=3,
        split in any::<u64>(),
        rate in prop::option::of(0.0..0.5_f64),
        seed in any::<u64>(),
    ) {
        prop_assert!(net.dense_layers().is_some(), "on the engine");
        engine_matches_reference(&net, (&x, &y), threads, split, rate, seed)?;
    }

    #[test]
    fn the_engines_fused_descent_is_the_reference_step(
        (net, x, y) in network_and_batch_of(1..10),
        threads in 1usize..=2,
        split in any::<u64>(),
    ) {
        // Reference: clear, evaluate, adjust, apply (Algorithms 4, 6, 8, 10), projected.
        let mut by_reference = net.clone();
        let (mut ws, mut grad) = (Workspace::new(), net.gradient());
        reference::clear_gradient(&mut grad);
        reference::evaluate(&by_reference, &x, &mut ws).unwrap();
        reference::adjust_gradient(&by_reference, &mut ws, &y, &HalfSquaredError, &mut grad)
            .unwrap();
        reference::apply_gradient(&mut by_reference, &grad, 0.5).unwrap();
        // Engine: the fused descent, learned values updated and projected after the pass.
        let mut by_engine = net.clone();
        let mut ws = Workspace::with_threads(threads).unwrap();
        ws.set_split_rule(SplitRule::ByInputs(split));
        by_engine.evaluate_with(&x, &mut ws).unwrap();
        by_engine.descend(&mut ws, &y, &HalfSquaredError, 0.5).unwrap();
        prop_assert!(ws.last_update_finite());
        let (r, e) = (params(&by_reference), params(&by_engine));
        prop_assert_eq!(r.len(), e.len());
        for (a, b) in r.iter().zip(&e) {
            prop_assert!(close(*a, *b), "parameter {a} vs {b}");
        }
        prop_assert_ne!(params(&net), e, "the step changed nothing");
    }
}

/// W1's shape, narrower: PReLU slopes per neuron, SiLU's β and γ shared, both learned.
fn learning_network() -> Network<f32> {
    Network::<f32>::builder(20)
        .layer(16, PRelu::default())
        .learn(&["beta"], Sharing::PerNeuron)
        .layer(8, Silu::default())
        .learn(&["beta", "gamma"], Sharing::Shared)
        .layer(3, Identity)
        .build(&mut StdRng::seed_from_u64(3))
        .unwrap()
}

/// The values of every learned activation parameter.
fn learned_values(net: &Network<f32>) -> Vec<f32> {
    let mut all = Vec::new();
    net.visit_params(|id, p| {
        if id.path().contains("activation.") {
            all.extend_from_slice(p);
        }
    });
    all
}

#[test]
fn a_learning_step_on_the_engine_allocates_nothing_after_the_first_batch() {
    let x = Matrix::<f32>::from_fn(20, 8, |i, j| ((i * 8 + j) as f32 * 0.37).sin());
    let y = Matrix::<f32>::from_fn(3, 8, |i, j| f32::from(u8::from(i == j % 3)));
    for threads in [1, 2] {
        for rule in [
            SplitRule::Auto,
            SplitRule::ByInputs(0b01),
            SplitRule::ByInputs(0),
        ] {
            let mut net = learning_network();
            let mut ws = Workspace::with_threads(threads).unwrap();
            ws.set_split_rule(rule);
            let mut grad = net.gradient();
            let mut step = |net: &mut Network<f32>, b: usize| {
                let (x, y) = (x.columns(0, b), y.columns(0, b));
                net.evaluate_with(&x, &mut ws).unwrap();
                net.descend(&mut ws, &y, &SoftmaxCrossEntropy, 0.1).unwrap();
                net.evaluate_with(&x, &mut ws).unwrap();
                net.adjust_gradient(&mut ws, &y, &SoftmaxCrossEntropy, &mut grad)
                    .unwrap();
            };
            step(&mut net, 8);
            let before = learned_values(&net);
            assert_eq!(
                allocations_during(|| step(&mut net, 8)),
                0,
                "{threads} {rule:?}"
            );
            assert_eq!(
                allocations_during(|| step(&mut net, 5)),
                0,
                "{threads} {rule:?}"
            );
            assert_eq!(before.len(), 16 + 2);
            assert_ne!(
                before,
                learned_values(&net),
                "the learned values did not move"
            );
        }
    }
}
