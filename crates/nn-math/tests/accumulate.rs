//! `add_mul_columns` over consecutive blocks of columns, of any lengths, gives `mul_to`'s
//! matrix-vector product bit for bit, in f32 and f64: the promise a training step relies
//! on when it accumulates the next example's product while it updates the weights block
//! by block.

use nn_math::{MathError, Matrix, add_mul_columns, mul_to};
use proptest::prelude::*;

/// `W·X` column by column through `add_mul_columns`, over blocks of `block` columns.
fn blockwise<T: nn_math::Real>(w: &Matrix<T>, x: &Matrix<T>, block: usize) -> Matrix<T> {
    let (m, k) = w.shape();
    let mut out = Matrix::zeros(m, x.ncols());
    for j in 0..x.ncols() {
        let col = x.column(j).clone_owned();
        let mut y = vec![T::zero(); m];
        let mut p = 0;
        while p < k {
            let end = (p + block).min(k);
            let xs = &col.as_slice()[p..end];
            add_mul_columns(&w.as_slice()[p * m..end * m], xs, &mut y).unwrap();
            p = end;
        }
        out.column_mut(j).copy_from_slice(&y);
    }
    out
}

fn case(m: usize, k: usize, n: usize, seed: u64) -> (Matrix<f64>, Matrix<f64>) {
    // Entries of mixed magnitudes, so that any change in the order of additions shows.
    let f = |i: usize, j: usize, s: u64| {
        let h = (i as u64 * 2654435761 + j as u64 * 40503 + s).wrapping_mul(0x9E3779B97F4A7C15);
        ((h >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 10f64.powi((h % 7) as i32 - 3)
    };
    (
        Matrix::from_fn(m, k, |i, j| f(i, j, seed)),
        Matrix::from_fn(k, n, |i, j| f(i, j, seed ^ 0xABCD)),
    )
}

proptest! {
    #[test]
    fn blockwise_accumulation_is_mul_to_bit_for_bit(
        m in 1usize..40, k in 1usize..70, n in 1usize..4, block in 1usize..20, seed in any::<u64>(),
    ) {
        let (w, x) = case(m, k, n, seed);
        let mut want = Matrix::zeros(m, n);
        mul_to(&w, &x, &mut want).unwrap();
        let got = blockwise(&w, &x, block);
        prop_assert!(got.iter().zip(want.iter()).all(|(a, b)| a.to_bits() == b.to_bits()));

        let (w, x) = (w.map(|v| v as f32), x.map(|v| v as f32));
        let mut want = Matrix::zeros(m, n);
        mul_to(&w, &x, &mut want).unwrap();
        let got = blockwise(&w, &x, block);
        prop_assert!(got.iter().zip(want.iter()).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}

#[test]
fn a_short_matrix_is_an_error_and_leaves_y_alone() {
    let mut y = vec![1.0f64, 2.0];
    let err = add_mul_columns(&[1.0; 5], &[1.0, 1.0, 1.0], &mut y).unwrap_err();
    assert!(matches!(
        err,
        MathError::Multiply {
            op: "add_mul_columns",
            ..
        }
    ));
    assert!(err.to_string().contains("add_mul_columns"));
    assert_eq!(y, [1.0, 2.0]);
}
