//! The fast products equal the naive triple loop of A.23, for every transposition and
//! for shapes on both sides of nalgebra's small-matrix threshold.

use nn_math::{
    AlignedVec, MathError, Matrix, MatrixView, Op, Shape, gemm, mul_nt_to, mul_tn_to, mul_to,
};
use proptest::prelude::*;

use crate::strategies::matrix;

/// `op(X)` by copying: the reference the fast path is compared with.
fn apply(x: &Matrix<f64>, op: Op) -> Matrix<f64> {
    match op {
        Op::NoTrans => x.clone(),
        Op::Trans => x.transpose(),
    }
}

/// The textbook triple loop of A.23: `(AB)_ij = Σ_k a_ik · b_kj`.
fn naive(a: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
    let mut c = Matrix::zeros(a.nrows(), b.ncols());
    for i in 0..a.nrows() {
        for j in 0..b.ncols() {
            let mut s = 0.0;
            for k in 0..a.ncols() {
                s += a[(i, k)] * b[(k, j)];
            }
            c[(i, j)] = s;
        }
    }
    c
}

fn assert_close(got: &Matrix<f64>, want: &Matrix<f64>) {
    assert_eq!(got.shape(), want.shape());
    for (g, w) in got.iter().zip(want.iter()) {
        // Sums of products of bounded entries (at most 600 terms below 100²): 1e-9 relative is far
        // above rounding and far below any real mistake.
        assert!((g - w).abs() <= 1e-9 * (1.0 + w.abs()), "got {g}, want {w}");
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![Just(Op::NoTrans), Just(Op::Trans)]
}

/// Stored operands of the right shapes for `op_a(A)` of `n × k` and `op_b(B)` of `k × m`.
fn operands() -> impl Strategy<Value = (Op, Matrix<f64>, Op, Matrix<f64>, Matrix<f64>, f64, f64)> {
    (0usize..20, 0usize..20, 0usize..20, op(), op()).prop_flat_map(|(n, k, m, oa, ob)| {
        let (ar, ac) = if oa == Op::NoTrans { (n, k) } else { (k, n) };
        let (br, bc) = if ob == Op::NoTrans { (k, m) } else { (m, k) };
        (
            Just(oa),
            matrix(ar, ac),
            Just(ob),
            matrix(br, bc),
            matrix(n, m),
            -2.0..2.0,
            -2.0..2.0,
        )
    })
}

proptest! {
    #[test]
    fn gemm_equals_triple_loop((oa, a, ob, b, c0, alpha, beta) in operands()) {
        let mut c = c0.clone();
        gemm(alpha, &a, oa, &b, ob, beta, &mut c).unwrap();
        let want = naive(&apply(&a, oa), &apply(&b, ob)) * alpha + &c0 * beta;
        assert_close(&c, &want);
    }

    #[test]
    fn named_products_equal_triple_loop((n, k, m) in (1usize..16, 1usize..16, 1usize..16), seed in any::<u64>()) {
        let cell = |i: usize, j: usize, s: u64| ((i * 31 + j * 17) as u64 ^ s) as f64 % 7.0 - 3.0;
        let w = Matrix::from_fn(n, k, |i, j| cell(i, j, seed));
        let a = Matrix::from_fn(k, m, |i, j| cell(i, j, seed >> 7));
        let d = Matrix::from_fn(n, m, |i, j| cell(i, j, seed >> 13));

        let mut s = Matrix::from_element(n, m, f64::NAN);
        mul_to(&w, &a, &mut s).unwrap();
        assert_close(&s, &naive(&w, &a));

        let mut back = Matrix::from_element(k, m, f64::NAN);
        mul_tn_to(&w, &d, &mut back).unwrap();
        assert_close(&back, &naive(&w.transpose(), &d));

        let mut grad = Matrix::from_element(n, k, f64::NAN);
        mul_nt_to(&d, &a, &mut grad).unwrap();
        assert_close(&grad, &naive(&d, &a.transpose()));
    }

    #[test]
    fn transpose_of_product_is_reversed_product((n, k, m) in (0usize..12, 0usize..12, 0usize..12), seed in any::<u32>()) {
        // (AB)ᵀ = BᵀAᵀ (A.20, A.23), both sides through the fast path.
        let a = Matrix::from_fn(n, k, |i, j| ((i * 7 + j * 3) as u32 ^ seed) as f64 % 11.0 - 5.0);
        let b = Matrix::from_fn(k, m, |i, j| ((i * 5 + j * 13) as u32 ^ seed) as f64 % 13.0 - 6.0);
        let mut ab = Matrix::zeros(n, m);
        mul_to(&a, &b, &mut ab).unwrap();
        let mut bt_at = Matrix::zeros(m, n);
        gemm(1.0, &b, Op::Trans, &a, Op::Trans, 0.0, &mut bt_at).unwrap();
        assert_close(&ab.transpose(), &bt_at);
    }

    #[test]
    fn f32_fast_path_matches_f64((n, k, m) in (1usize..40, 1usize..40, 1usize..40)) {
        // From 1: sides below 4 take the unpacked (thin) path, in f32 as in f64; both the
        // product with B transposed and the plain one (the forward pass's shape).
        let a = Matrix::from_fn(n, k, |i, j| ((i + 2 * j) % 9) as f64 / 9.0 - 0.5);
        let b = Matrix::from_fn(m, k, |i, j| ((3 * i + j) % 7) as f64 / 7.0 - 0.5);
        let (a32, b32) = (a.map(|x| x as f32), b.map(|x| x as f32));
        let mut c64 = Matrix::zeros(n, m);
        mul_nt_to(&a, &b, &mut c64).unwrap();
        let mut c32 = Matrix::<f32>::zeros(n, m);
        mul_nt_to(&a32, &b32, &mut c32).unwrap();
        let mut d64 = Matrix::zeros(n, m);
        mul_to(&a, &b.transpose(), &mut d64).unwrap();
        let mut d32 = Matrix::<f32>::zeros(n, m);
        mul_to(&a32, &b32.transpose(), &mut d32).unwrap();
        for (x, y) in c32.iter().zip(c64.iter()).chain(d32.iter().zip(d64.iter())) {
            prop_assert!((f64::from(*x) - y).abs() < 1e-5 * (1.0 + y.abs()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The f32 path packs operands at their strides and reads a cache-aligned
    /// column-major `A` in place: views into larger matrices (column stride ≠ rows),
    /// either operand transposed, several depth blocks (k past 256), ragged last panels,
    /// and `β ≠ 0`.
    #[test]
    fn f32_products_of_views_match_f64(
        (m, k, n) in (4usize..50, 4usize..560, 4usize..40),
        (pad_a, pad_b) in (0usize..20, 0usize..20),
        (oa, ob) in (op(), op()),
        aligned in any::<bool>(),
        beta in prop_oneof![Just(0.0f32), Just(0.5f32)],
    ) {
        // op(A) is m × k; stored in a parent with `pad_a` more rows (an aligned parent with
        // 16-row multiples when `aligned`, so that A in place is possible).
        let (ar, ac) = if oa == Op::NoTrans { (m, k) } else { (k, m) };
        let (br, bc) = if ob == Op::NoTrans { (k, n) } else { (n, k) };
        let lda = if aligned { (ar + pad_a).div_ceil(16) * 16 } else { ar + pad_a };
        let a_parent: Vec<f32> =
            (0..lda * ac).map(|i| ((i * 7 + 3) % 23) as f32 / 23.0 - 0.5).collect();
        let a_store = AlignedVec::from_slice(&a_parent);
        let a_full = MatrixView::from_slice(&a_store, lda, ac);
        let a = a_full.rows(0, ar);
        let ldb = br + pad_b;
        let b_parent = Matrix::from_fn(ldb, bc, |i, j| ((3 * i + 5 * j) % 17) as f32 / 17.0 - 0.5);
        let b = b_parent.rows(pad_b, br);
        let c0 = Matrix::from_fn(m, n, |i, j| ((i + 2 * j) % 5) as f32 - 2.0);
        let mut c = c0.clone();
        gemm(1.5f32, &a, oa, &b, ob, beta, &mut c).unwrap();
        let a64 = apply(&a.clone_owned().map(f64::from), oa);
        let b64 = apply(&b.clone_owned().map(f64::from), ob);
        let want = naive(&a64, &b64);
        for i in 0..m {
            for j in 0..n {
                let w = 1.5 * want[(i, j)] + f64::from(beta) * f64::from(c0[(i, j)]);
                let g = f64::from(c[(i, j)]);
                prop_assert!(
                    (g - w).abs() <= 1e-5 * (1.0 + k as f64),
                    "C({}, {}) = {}, want {}", i, j, g, w
                );
            }
        }
    }
}

#[test]
fn column_range_views_are_accepted() {
    // A batch is a range of a data set's columns: no copy needed.
    let w = Matrix::from_fn(7, 8, |i, j| (i as f64) - (j as f64));
    let data = Matrix::from_fn(8, 30, |i, j| ((i * j) % 5) as f64);
    let batch = data.columns(10, 9);
    let mut s = Matrix::zeros(7, 9);
    mul_to(&w, &batch, &mut s).unwrap();
    assert_close(&s, &naive(&w, &batch.clone_owned()));
}

#[test]
fn mismatched_inner_dimensions_are_an_error() {
    let a = Matrix::<f64>::zeros(3, 4);
    let b = Matrix::<f64>::zeros(5, 2);
    let mut out = Matrix::from_element(3, 2, 7.0);
    let err = mul_to(&a, &b, &mut out).unwrap_err();
    assert_eq!(
        err,
        MathError::Multiply {
            op: "mul_to",
            left: Shape::new(3, 4),
            right: Shape::new(5, 2)
        }
    );
    assert_eq!(err.to_string(), "mul_to: cannot multiply 3×4 by 5×2");
    assert!(
        out.iter().all(|&x| x == 7.0),
        "output must be untouched on error"
    );
}

#[test]
fn wrong_output_shape_is_an_error() {
    let w = Matrix::<f32>::zeros(3, 4);
    let d = Matrix::<f32>::zeros(3, 2);
    let mut out = Matrix::zeros(3, 2);
    let err = mul_tn_to(&w, &d, &mut out).unwrap_err();
    assert_eq!(
        err.to_string(),
        "mul_tn_to: output buffer is 3×2, the result is 4×2"
    );
}

#[test]
fn beta_zero_ignores_garbage_in_output() {
    let a = Matrix::from_element(8, 8, 1.0_f32);
    let mut c = Matrix::from_element(8, 8, f32::NAN);
    mul_nt_to(&a, &a, &mut c).unwrap();
    assert!(c.iter().all(|&x| x == 8.0));
}

#[test]
fn large_products_cross_every_blocking_boundary() {
    // m, k and n beyond the kernel's block sizes (MC = 128 rows, KC = 256 deep) and not
    // multiples of the micro-tile, with β ≠ 0 so that the first depth block must scale C
    // and the later ones accumulate. Both precisions, every transposition.
    // m = 272 is a multiple of the f32 kernel's 16 rows (column-major A on a cache line
    // is then read without packing, when the allocator happens to align it); m = 300 is
    // not.
    for (m, k, n) in [(300, 600, 70), (272, 600, 70)] {
        check_large(m, k, n);
    }
}

#[test]
fn column_major_a_on_cache_lines_is_read_in_place() {
    // A layer's weights (`Dense` stores them from a 64-byte boundary) with a multiple of
    // 16 rows are read without packing; other shapes and strides are packed. Every case
    // against an f64 triple loop, β ≠ 0, B plain and transposed, ragged B panels.
    for (rows, m, k, n) in [
        (16, 16, 1, 1),
        (16, 16, 5, 7),
        (32, 32, 300, 13),
        (272, 272, 600, 70),
        (128, 128, 784, 64),
        (64, 64, 128, 32),
        (20, 16, 40, 9), // rows 0..16 of a 20-row matrix: a stride off the lines, packed
        (10, 10, 64, 64), // not whole panels of 16 rows, packed
    ] {
        let full = Matrix::from_fn(rows, k, |i, j| ((i * 7 + j * 3) % 17) as f64 / 17.0 - 0.5);
        let a = full.rows(0, m).clone_owned();
        let b = Matrix::from_fn(k, n, |i, j| ((i * 5 + j * 11) % 13) as f64 / 13.0 - 0.5);
        let c0 = Matrix::from_fn(m, n, |i, j| ((i + j) % 3) as f64);
        let want = naive(&a, &b) * 0.5 + &c0 * 2.0;
        let stored = AlignedVec::from_slice(full.map(|x| x as f32).as_slice());
        let a32 = MatrixView::from_slice(&stored, rows, k);
        let a32 = a32.rows(0, m);
        for ob in [Op::NoTrans, Op::Trans] {
            let b32 = apply(&b, ob).map(|x| x as f32);
            let mut c32 = c0.map(|x| x as f32);
            gemm(0.5_f32, &a32, Op::NoTrans, &b32, ob, 2.0, &mut c32).unwrap();
            for (x, y) in c32.iter().zip(want.iter()) {
                assert!(
                    (f64::from(*x) - y).abs() < 1e-4 * (1.0 + y.abs()),
                    "{m}×{k}×{n} ({rows} rows stored): {x} vs {y}"
                );
            }
        }
    }
}

fn check_large(m: usize, k: usize, n: usize) {
    let a = Matrix::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 17) as f64 / 17.0 - 0.5);
    let b = Matrix::from_fn(k, n, |i, j| ((i * 5 + j * 11) % 13) as f64 / 13.0 - 0.5);
    let c0 = Matrix::from_fn(m, n, |i, j| ((i + j) % 3) as f64);
    let want = naive(&a, &b) * 0.5 + &c0 * 2.0;
    for (oa, ob) in [
        (Op::NoTrans, Op::NoTrans),
        (Op::Trans, Op::NoTrans),
        (Op::NoTrans, Op::Trans),
        (Op::Trans, Op::Trans),
    ] {
        let a_stored = apply(&a, oa);
        let b_stored = apply(&b, ob);
        let mut c = c0.clone();
        gemm(0.5, &a_stored, oa, &b_stored, ob, 2.0, &mut c).unwrap();
        assert_close(&c, &want);

        let mut c32 = c0.map(|x| x as f32);
        gemm(
            0.5_f32,
            &a_stored.map(|x| x as f32),
            oa,
            &b_stored.map(|x| x as f32),
            ob,
            2.0,
            &mut c32,
        )
        .unwrap();
        for (x, y) in c32.iter().zip(want.iter()) {
            assert!(
                (f64::from(*x) - y).abs() < 1e-4 * (1.0 + y.abs()),
                "f32 {x} vs {y}"
            );
        }
    }
}
