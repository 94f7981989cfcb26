//! Errata 2, 3 and 4: tests that would fail on the notes' printed versions.

use nn_activations::{Identity, Sigmoid, Threshold};
use nn_core::{Dense, Dropout, HalfSquaredError, Network};
use nn_math::{Matrix, Vector};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn loss_of(net: &Network<f64>, x: &Matrix<f64>, y: &Matrix<f64>) -> f64 {
    let mut ws = net.workspace();
    let mut g = net.gradient();
    net.evaluate_with(x, &mut ws).unwrap();
    net.adjust_gradient(&mut ws, y, &HalfSquaredError, &mut g)
        .unwrap()
}

#[test]
fn errata_2_a_gradient_step_lowers_the_loss_and_the_notes_sign_raises_it() {
    // A fixed 2-3-1 sigmoid network and four examples.
    let w1 = Matrix::from_row_slice(3, 2, &[0.5, -0.4, 0.3, 0.8, -0.6, 0.2]);
    let w2 = Matrix::from_row_slice(1, 3, &[0.7, -0.5, 0.4]);
    let net = Network::from_layers(
        2,
        vec![
            Dense::new(
                w1,
                Vector::from_vec(vec![0.1, -0.2, 0.05]),
                Sigmoid::default(),
            )
            .unwrap(),
            Dense::new(w2, Vector::from_vec(vec![0.0]), Sigmoid::default()).unwrap(),
        ],
    )
    .unwrap();
    let x = Matrix::from_column_slice(2, 4, &[0., 0., 0., 1., 1., 0., 1., 1.]);
    let y = Matrix::from_column_slice(1, 4, &[0., 1., 1., 0.]);

    let mut ws = net.workspace();
    let mut grad = net.gradient();
    net.evaluate_with(&x, &mut ws).unwrap();
    let before = net
        .adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut grad)
        .unwrap();

    // The corrected sign: d = (a − y) ⊙ f'(s), W ← W − α·∇C descends.
    let mut descended = net.clone();
    descended.apply_gradient(&grad, 0.5).unwrap();
    assert!(loss_of(&descended, &x, &y) < before);

    // The notes' d = (y − a) ⊙ f'(s) is the negated gradient; W ← W − α·(−∇C) climbs.
    let mut notes = grad.clone();
    notes.scale(-1.0);
    let mut climbed = net.clone();
    climbed.apply_gradient(&notes, 0.5).unwrap();
    assert!(loss_of(&climbed, &x, &y) > before);
}

/// The majority-function perceptron of §2.2.2.3.1 with weights 1 and bias `b`.
fn majority(n: usize, bias: f64) -> Network<f64> {
    let layer = Dense::new(
        Matrix::from_element(1, n, 1.0),
        Vector::from_element(1, bias),
        Threshold,
    )
    .unwrap();
    Network::from_layers(n, vec![layer]).unwrap()
}

/// All 2ⁿ binary inputs, one per column.
fn all_binary_inputs(n: usize) -> Matrix<f64> {
    Matrix::from_fn(n, 1 << n, |i, j| ((j >> i) & 1) as f64)
}

#[test]
fn errata_3_majority_perceptron_with_corrected_bias_is_right_on_every_input() {
    for n in 1..=10 {
        let x = all_binary_inputs(n);
        let out = majority(n, -(n as f64) / 2.0).evaluate(&x).unwrap();
        for (j, col) in x.column_iter().enumerate() {
            let ones = col.sum();
            let expected = if ones > n as f64 / 2.0 { 1.0 } else { 0.0 };
            assert_eq!(out[(0, j)], expected, "n = {n}, input {j:b}: {ones} ones");
        }
        // The notes' b = +n/2 answers 1 for every input, including all zeros.
        let notes = majority(n, n as f64 / 2.0).evaluate(&x).unwrap();
        assert!(notes.iter().all(|&a| a == 1.0));
    }
}

#[test]
fn errata_4_dropout_scales_the_activation_once_not_the_pre_activation() {
    // One hidden identity layer of 6 neurons, s = W·x = [1, 2, …, 6] for x = 1, and an
    // output that sums them. With δ = 0.5 a kept neuron contributes r·f(s) = 2·s
    // (Algorithm 16). The notes' Algorithm 17 would give r·f(r·s) = 4·s.
    let hidden = Dense::new(
        Matrix::from_fn(6, 1, |i, _| (i + 1) as f64),
        Vector::zeros(6),
        Identity,
    )
    .unwrap();
    let output = Dense::new(Matrix::from_element(1, 6, 1.0), Vector::zeros(1), Identity).unwrap();
    let net = Network::from_layers(1, vec![hidden, output]).unwrap();
    let dropout = Dropout::new(vec![0.0, 0.5]).unwrap();
    let x = Matrix::from_element(1, 1, 1.0);
    let mut ws = net.workspace();
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..20 {
        let out = net
            .evaluate_with_dropout(&x, &mut ws, &dropout, &mut rng)
            .unwrap()[(0, 0)];
        // out = 2·(sum of a subset of {1..6}): an even number at most 42.
        assert!(
            (0.0..=42.0).contains(&out) && out % 2.0 == 0.0,
            "output {out}"
        );
    }
    // And plain evaluation is never dropped or rescaled: 1 + 2 + … + 6.
    assert_eq!(net.evaluate(&x).unwrap()[(0, 0)], 21.0);
}
