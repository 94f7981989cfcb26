//! The norm axioms of A.29 for the L1 and L2 norms, and their defining formulas.

use nn_math::{L1, L2, Norm, squared_l2_norm};
use proptest::prelude::*;

use crate::strategies::vec_upto;

fn pair() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (0usize..40).prop_flat_map(|n| {
        (
            prop::collection::vec(-1e3..1e3, n),
            prop::collection::vec(-1e3..1e3, n),
        )
    })
}

/// Checks the four axioms of A.29 for one norm on one sample.
fn check_axioms(
    norm: &dyn Norm<f64>,
    x: &[f64],
    y: &[f64],
    alpha: f64,
) -> Result<(), TestCaseError> {
    let nx = norm.norm(x);
    let tol = 1e-12 * (1.0 + nx + norm.norm(y)) * (1.0 + alpha.abs());
    // Non-negativity.
    prop_assert!(nx >= 0.0);
    // Definiteness: zero exactly for the zero vector.
    let is_zero = x.iter().all(|&v| v == 0.0);
    prop_assert_eq!(nx == 0.0, is_zero);
    prop_assert_eq!(norm.norm(&vec![0.0; x.len()]), 0.0);
    // Absolute homogeneity.
    let scaled: Vec<f64> = x.iter().map(|v| alpha * v).collect();
    prop_assert!((norm.norm(&scaled) - alpha.abs() * nx).abs() <= tol);
    // Triangle inequality.
    let sum: Vec<f64> = x.iter().zip(y).map(|(a, b)| a + b).collect();
    prop_assert!(norm.norm(&sum) <= nx + norm.norm(y) + tol);
    Ok(())
}

proptest! {
    #[test]
    fn l1_satisfies_norm_axioms((x, y) in pair(), alpha in -1e3..1e3_f64) {
        check_axioms(&L1, &x, &y, alpha)?;
    }

    #[test]
    fn l2_satisfies_norm_axioms((x, y) in pair(), alpha in -1e3..1e3_f64) {
        check_axioms(&L2, &x, &y, alpha)?;
    }

    #[test]
    fn l1_is_sum_of_magnitudes(x in vec_upto(50)) {
        let want: f64 = x.iter().map(|v| v.abs()).sum();
        prop_assert!((L1.norm(&x) - want).abs() <= 1e-12 * (1.0 + want));
    }

    #[test]
    fn l2_is_root_of_sum_of_squares(x in vec_upto(50)) {
        let want = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        prop_assert!((L2.norm(&x) - want).abs() <= 1e-12 * (1.0 + want));
        prop_assert!((squared_l2_norm(&x) - want * want).abs() <= 1e-10 * (1.0 + want * want));
    }

    #[test]
    fn l2_does_not_overflow_or_underflow(exp in -300i32..300, n in 1usize..20) {
        let v = 10f64.powi(exp);
        let x = vec![v; n];
        let want = v * (n as f64).sqrt();
        prop_assert!((L2.norm(&x) - want).abs() <= 1e-12 * want);
    }
}

#[test]
fn empty_vector_has_norm_zero() {
    assert_eq!(L1.norm(&[] as &[f32]), 0.0);
    assert_eq!(L2.norm(&[] as &[f32]), 0.0);
    assert_eq!(squared_l2_norm(&[] as &[f32]), 0.0);
}
