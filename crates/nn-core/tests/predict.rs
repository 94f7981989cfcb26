//! Probabilities and predicted classes: the softmax of the logits, stable, batched.

use nn_activations::{Identity, Relu};
use nn_core::{CoreError, Network, predicted_classes, softmax_columns};
use nn_math::Matrix;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The softmax as written, `e^{aⱼ} / Σᵢ e^{aᵢ}`, in f64 (finite for moderate logits).
fn naive(a: &[f64]) -> Vec<f64> {
    let z: f64 = a.iter().map(|x| x.exp()).sum();
    a.iter().map(|x| x.exp() / z).collect()
}

proptest! {
    #[test]
    fn probabilities_are_the_softmax_of_the_outputs_in_f64_and_f32(
        seed in 0u64..1000, batch in 1usize..9, classes in 2usize..6,
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let net = Network::<f64>::builder(3).layer(7, Relu).layer(classes, Identity)
            .build(&mut rng).unwrap();
        let x = Matrix::from_fn(3, batch, |i, j| ((seed as usize + 3 * i + j) % 7) as f64 - 3.0);
        let logits = net.evaluate(&x).unwrap();
        let p = net.probabilities(&x).unwrap();
        let predicted = net.predict_classes(&x).unwrap();
        for j in 0..batch {
            let expected = naive(logits.column(j).as_slice());
            for (i, e) in expected.iter().enumerate() {
                prop_assert!((p[(i, j)] - e).abs() <= 1e-14, "{} vs {}", p[(i, j)], e);
            }
            let best = (0..classes).fold(0, |b, i| if logits[(i, j)] > logits[(b, j)] { i } else { b });
            prop_assert_eq!(predicted[j], best);
        }
        // In f32 the same logits give the same probabilities to f32 rounding.
        let mut logits32 = logits.map(|v| v as f32);
        softmax_columns(&mut logits32).unwrap();
        for (a, b) in logits32.iter().zip(p.iter()) {
            prop_assert!((f64::from(*a) - b).abs() <= 1e-6);
        }
    }
}

#[test]
fn large_logits_neither_overflow_nor_vanish() {
    let mut a = Matrix::from_column_slice(3, 2, &[1000.0_f32, 999.0, -1000.0, -5e3, -5e3, -5e3]);
    softmax_columns(&mut a).unwrap();
    let e = 1.0 / (1.0 + (-1.0f32).exp());
    assert!((a[(0, 0)] - e).abs() < 1e-6 && (a[(1, 0)] - (1.0 - e)).abs() < 1e-6);
    assert_eq!(a[(2, 0)], 0.0);
    assert!(a.column(1).iter().all(|&p| (p - 1.0 / 3.0).abs() < 1e-7));
    assert_eq!(predicted_classes(&a).unwrap(), vec![0, 0]);
}

#[test]
fn a_non_finite_output_is_an_error_naming_the_example() {
    let mut a = Matrix::from_column_slice(2, 3, &[0.0_f64, 1.0, 2.0, 3.0, f64::NAN, 0.0]);
    let err = softmax_columns(&mut a.clone()).unwrap_err();
    assert!(matches!(err, CoreError::NonFinite { .. }));
    assert!(err.to_string().contains("output 0 of example 2"), "{err}");
    a[(0, 2)] = f64::INFINITY;
    assert!(
        predicted_classes(&a)
            .unwrap_err()
            .to_string()
            .contains("example 2")
    );
}
