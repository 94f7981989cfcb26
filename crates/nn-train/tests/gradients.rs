//! Regularizer gradients against central finite differences of the regularized cost
//! (eq. 24): `∂(C + penalty)/∂w` from backprop plus `add_gradient` must match.
//!
//! `cargo xtask test` reruns this module with 2,000 cases per property.

use nn_core::{HalfSquaredError, Init, Network};
use nn_math::Matrix;
use nn_train::{ElasticNet, L1, L2, Regularizer};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use nn_activations::{Identity, Tanh};

fn cost(net: &Network<f64>, reg: &dyn Regularizer<f64>, x: &Matrix<f64>, y: &Matrix<f64>) -> f64 {
    let mut ws = net.workspace();
    let mut g = net.gradient();
    net.evaluate_with(x, &mut ws).unwrap();
    net.adjust_gradient(&mut ws, y, &HalfSquaredError, &mut g)
        .unwrap()
        + reg.network_penalty(net)
}

/// One of the three regularizers with random λ, with or without biases.
#[derive(Clone, Debug)]
enum AnyRegularizer {
    L1(L1),
    L2(L2),
    ElasticNet(ElasticNet),
}

impl AnyRegularizer {
    fn get(&self) -> &dyn Regularizer<f64> {
        match self {
            AnyRegularizer::L1(r) => r,
            AnyRegularizer::L2(r) => r,
            AnyRegularizer::ElasticNet(r) => r,
        }
    }
}

fn regularizer() -> impl Strategy<Value = AnyRegularizer> {
    (0.0..2.0_f64, 0.0..2.0_f64, any::<bool>(), 0..3).prop_map(
        |(a, b, biases, which)| match which {
            0 => AnyRegularizer::L1(L1 {
                lambda: a,
                include_biases: biases,
            }),
            1 => AnyRegularizer::L2(L2 {
                lambda: a,
                include_biases: biases,
            }),
            _ => AnyRegularizer::ElasticNet(ElasticNet {
                l1: a,
                l2: b,
                include_biases: biases,
            }),
        },
    )
}

proptest! {
    #[test]
    fn regularized_gradient_matches_finite_differences(any_reg in regularizer(), seed in any::<u64>(), b in 1usize..6) {
        let reg = any_reg.get();
        // Uniform initialization draws non-zero biases too (Xavier/He would zero them).
        let net = Network::<f64>::builder(3).layer(4, Tanh).layer(2, Identity)
            .init(Init::Uniform { low: -1.0, high: 1.0 })
            .build(&mut StdRng::seed_from_u64(seed)).unwrap();
        let x = Matrix::from_fn(3, b, |i, j| ((i * 7 + j * 3 + seed as usize) % 11) as f64 / 5.0 - 1.0);
        let y = Matrix::from_fn(2, b, |i, j| ((i + j * 5) % 3) as f64 - 1.0);
        let mut ws = net.workspace();
        let mut grad = net.gradient();
        net.evaluate_with(&x, &mut ws).unwrap();
        net.adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut grad).unwrap();
        reg.regularize(&net, &mut grad);

        let h = 1e-5;
        for (k, g) in grad.layers().iter().enumerate() {
            let (rows, cols) = g.weight().unwrap().shape();
            for i in 0..rows {
                for j in 0..=cols {
                    let at = |delta: f64| {
                        let mut moved = net.clone();
                        if j < cols { moved.dense_mut(k).unwrap().weight_mut()[(i, j)] += delta; } else { moved.dense_mut(k).unwrap().bias_mut()[i] += delta; }
                        cost(&moved, reg, &x, &y)
                    };
                    let w = if j < cols { net.dense(k).unwrap().weight()[(i, j)] } else { net.dense(k).unwrap().bias()[i] };
                    if w.abs() <= 2.0 * h {
                        // |w| has a kink at 0: the stencil must stay on one side of it.
                        continue;
                    }
                    let numeric = (-at(2.0 * h) + 8.0 * at(h) - 8.0 * at(-h) + at(-2.0 * h)) / (12.0 * h);
                    let analytic = if j < cols { g.weight().unwrap()[(i, j)] } else { g.bias().unwrap()[i] };
                    prop_assert!((analytic - numeric).abs() <= (1e-6 * analytic.abs().max(numeric.abs())).max(1e-9),
                        "layer {k} ({i}, {j}): {analytic} vs {numeric}");
                }
            }
        }
    }
}

#[test]
fn l1_subgradient_at_zero_is_zero_and_biases_can_be_excluded() {
    use nn_core::{ParamId, ParamKind};
    let w = ParamId {
        layer: 0,
        position: 0,
        name: "weight",
        kind: ParamKind::Weight,
    };
    let b = ParamId {
        layer: 0,
        position: 1,
        name: "bias",
        kind: ParamKind::Bias,
    };
    let mut g = [0.0; 3];
    Regularizer::<f64>::add_gradient(&L1::new(0.5), w, &[0.0, 2.0, -3.0], &mut g);
    assert_eq!(g, [0.0, 0.5, -0.5]); // Algorithm 13, |0|' = 0
    let excl = L2 {
        lambda: 1.0,
        include_biases: false,
    };
    let mut g = [0.0; 2];
    Regularizer::<f64>::add_gradient(&excl, b, &[1.0, 2.0], &mut g);
    assert_eq!(g, [0.0, 0.0]);
    assert_eq!(Regularizer::<f64>::penalty(&excl, b, &[1.0, 2.0]), 0.0);
    assert_eq!(
        Regularizer::<f64>::penalty(&L2::new(2.0), b, &[1.0, 2.0]),
        0.5 * 2.0 * 5.0
    );
}
