//! The Hadamard product (A.18, A.24): its definition, commutativity, and shape errors.

use nn_math::{MathError, Matrix, Vector, hadamard, hadamard_assign, hadamard_to};
use proptest::prelude::*;

use crate::strategies::matrix;

fn pair() -> impl Strategy<Value = (Matrix<f64>, Matrix<f64>)> {
    (0usize..12, 0usize..12).prop_flat_map(|(r, c)| (matrix(r, c), matrix(r, c)))
}

proptest! {
    #[test]
    fn is_elementwise_product((a, b) in pair()) {
        let c = hadamard(&a, &b).unwrap();
        for i in 0..a.nrows() {
            for j in 0..a.ncols() {
                prop_assert_eq!(c[(i, j)], a[(i, j)] * b[(i, j)]);
            }
        }
    }

    #[test]
    fn is_commutative((a, b) in pair()) {
        prop_assert_eq!(hadamard(&a, &b).unwrap(), hadamard(&b, &a).unwrap());
    }

    #[test]
    fn to_and_assign_agree_with_hadamard((a, b) in pair()) {
        let want = hadamard(&a, &b).unwrap();
        let mut out = Matrix::from_element(a.nrows(), a.ncols(), f64::NAN);
        hadamard_to(&a, &b, &mut out).unwrap();
        prop_assert_eq!(&out, &want);
        let mut x = a.clone();
        hadamard_assign(&mut x, &b).unwrap();
        prop_assert_eq!(&x, &want);
    }
}

#[test]
fn shape_mismatch_is_an_error_and_changes_nothing() {
    let mut a = Vector::from_vec(vec![1.0, 2.0, 3.0]);
    let b = Vector::from_vec(vec![1.0, 2.0]);
    let err = hadamard_assign(&mut a, &b).unwrap_err();
    assert!(matches!(
        err,
        MathError::Mismatch {
            op: "hadamard_assign",
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "hadamard_assign: operands are 3×1 and 2×1, they must have the same shape"
    );
    assert_eq!(a.as_slice(), &[1.0, 2.0, 3.0]);

    let m = Matrix::<f32>::zeros(2, 2);
    let mut out = Matrix::zeros(2, 3);
    assert!(matches!(
        hadamard_to(&m, &m, &mut out),
        Err(MathError::Output { .. })
    ));
}
