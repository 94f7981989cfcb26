//! The notes' small networks (§2.2.2.3): OR and AND as threshold perceptrons, XOR not
//! linearly separable, and XOR learned by a 2-2-1 sigmoid network.

use nn_activations::{Sigmoid, Threshold};
use nn_core::{Dense, HalfSquaredError, Init, Network, train_perceptron};
use nn_math::{Matrix, Vector};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn inputs() -> Matrix<f64> {
    Matrix::from_column_slice(2, 4, &[0., 0., 0., 1., 1., 0., 1., 1.])
}

fn threshold_unit(w: [f64; 2], b: f64) -> Network<f64> {
    let layer = Dense::new(
        Matrix::from_row_slice(1, 2, &w),
        Vector::from_element(1, b),
        Threshold,
    )
    .unwrap();
    Network::from_layers(2, vec![layer]).unwrap()
}

#[test]
fn or_and_and_are_threshold_perceptrons() {
    // Columns: (0,0), (0,1), (1,0), (1,1).
    assert_eq!(
        threshold_unit([1.0, 1.0], -0.5)
            .evaluate(&inputs())
            .unwrap()
            .as_slice(),
        &[0., 1., 1., 1.]
    );
    assert_eq!(
        threshold_unit([1.0, 1.0], -1.5)
            .evaluate(&inputs())
            .unwrap()
            .as_slice(),
        &[0., 0., 0., 1.]
    );
}

#[test]
fn the_perceptron_rule_learns_or_and_and() {
    for truth in [[0., 1., 1., 1.], [0., 0., 0., 1.]] {
        let y = Matrix::from_row_slice(1, 4, &truth);
        let mut layer = Dense::new(Matrix::zeros(1, 2), Vector::zeros(1), Threshold).unwrap();
        assert!(
            train_perceptron(&mut layer, &inputs(), &y, 1.0, 100)
                .unwrap()
                .is_some()
        );
        let net = Network::from_layers(2, vec![layer]).unwrap();
        assert_eq!(net.evaluate(&inputs()).unwrap().as_slice(), &truth);
    }
}

#[test]
fn xor_is_not_linearly_separable_for_the_perceptron_rule() {
    let y = Matrix::from_row_slice(1, 4, &[0., 1., 1., 0.]);
    for eta in [0.1, 0.5, 1.0, 3.0] {
        for (w0, b0) in [([0.0, 0.0], 0.0), ([0.3, -0.2], 0.1), ([-1.0, 1.0], 0.5)] {
            let mut layer = Dense::new(
                Matrix::from_row_slice(1, 2, &w0),
                Vector::from_element(1, b0),
                Threshold,
            )
            .unwrap();
            assert_eq!(
                train_perceptron(&mut layer, &inputs(), &y, eta, 1000).unwrap(),
                None
            );
            let out = Network::from_layers(2, vec![layer])
                .unwrap()
                .evaluate(&inputs())
                .unwrap();
            let right = out.iter().zip(y.iter()).filter(|(a, b)| a == b).count();
            assert!(right < 4, "η = {eta}: all four right");
        }
    }
}

#[test]
fn a_2_2_1_sigmoid_network_learns_xor_by_backpropagation() {
    // The same seed, rate and epochs as the `xor` example.
    let x = inputs();
    let y = Matrix::from_row_slice(1, 4, &[0., 1., 1., 0.]);
    let train = || {
        let mut net = Network::<f64>::builder(2)
            .layer(2, Sigmoid::default())
            .layer(1, Sigmoid::default())
            .init(Init::Uniform {
                low: -1.0,
                high: 1.0,
            })
            .build(&mut StdRng::seed_from_u64(1))
            .unwrap();
        let (mut ws, mut grad) = (net.workspace(), net.gradient());
        for _ in 0..5000 {
            net.clear_gradient(&mut grad).unwrap();
            net.evaluate_with(&x, &mut ws).unwrap();
            net.adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut grad)
                .unwrap();
            net.apply_gradient(&grad, 2.0).unwrap();
        }
        net
    };
    let net = train();
    let out = net.evaluate(&x).unwrap();
    for (a, t) in out.iter().zip(y.iter()) {
        assert!((a - t).abs() < 0.1, "output {a} for target {t}");
    }
    // Deterministic: the same seed gives bit-identical weights.
    assert_eq!(train(), net);
}
