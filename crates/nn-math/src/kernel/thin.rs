//! Products with a side too small to pay for packing: matrix-vector (`n` small),
//! rank-k updates with tiny `k` (the weight gradient `d·aᵀ` of a single example), and
//! few-row products. Each column of `C` is computed directly from `A` and `B`.

use super::{KernelScalar, Product};

/// Below this size of `m`, `n` or `k`, [`gemm_thin`] is used instead of packing.
pub(super) const THIN: usize = 4;

/// `Σᵢ xᵢ·yᵢ` with 32 partial sums, so that the compiler can vectorize it (a single
/// running sum fixes the order of the floating-point additions) over several registers
/// (one register's sum would wait on the latency of each addition).
#[inline(always)]
fn dot<T: KernelScalar>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::ZERO; 32];
    let (xc, yc) = (x.chunks_exact(32), y.chunks_exact(32));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for i in 0..32 {
            acc[i] = a[i] * b[i] + acc[i];
        }
    }
    let mut sum = xr.iter().zip(yr).fold(T::ZERO, |s, (&a, &b)| s + a * b);
    for v in acc {
        sum = sum + v;
    }
    sum
}

/// `y ← y + Σₚ coef(p)·a_col(p)` for `p < k`: four columns per pass over `y` (the same
/// additions, in the same order, as one column at a time, with a quarter of the loads
/// and stores of `y`), each group added as `c₃a₃ + (c₂a₂ + (c₁a₁ + (c₀a₀ + y)))`, then the
/// last `k mod 4` columns one at a time: each `yᵢ` gets the terms added in the order of
/// `p` either way. The column-major matrix-vector products of [`gemm_thin`] and
/// [`add_mul_columns`] (and `crate::add_mul_columns` for other scalar types) all run
/// this, so they agree bit for bit.
#[inline(always)]
pub(crate) fn add_columns<'a, T>(
    y: &mut [T],
    k: usize,
    a_col: impl Fn(usize) -> &'a [T],
    coef: impl Fn(usize) -> T,
) where
    T: Copy + core::ops::Add<Output = T> + core::ops::Mul<Output = T> + 'a,
{
    let mut p = 0;
    while p + 4 <= k {
        let (c0, c1, c2, c3) = (coef(p), coef(p + 1), coef(p + 2), coef(p + 3));
        let (a0, a1, a2, a3) = (a_col(p), a_col(p + 1), a_col(p + 2), a_col(p + 3));
        let columns = a0.iter().zip(a1).zip(a2).zip(a3);
        for (x, (((&v0, &v1), &v2), &v3)) in y.iter_mut().zip(columns) {
            *x = c3 * v3 + (c2 * v2 + (c1 * v1 + (c0 * v0 + *x)));
        }
        p += 4;
    }
    for p in p..k {
        let (cp, ap) = (coef(p), a_col(p));
        y.iter_mut().zip(ap).for_each(|(x, &v)| *x = cp * v + *x);
    }
}

/// `y ← y + W·x` for a column-major `w` of `y.len()` rows and `x.len()` columns, in the
/// order of [`gemm_thin`]'s matrix-vector product with `α = 1` ([`add_columns`]),
/// compiled for AVX-512 or AVX2 as the CPU has them (as [`gemm_thin`]).
///
/// # Panics
/// If `w` has fewer than `y.len() · x.len()` elements (a caller's bug).
pub(crate) fn add_mul_columns<T: KernelScalar>(w: &[T], x: &[T], y: &mut [T]) {
    let m = y.len();
    assert!(w.len() >= m * x.len(), "add_mul_columns: W too short");
    #[cfg(target_arch = "x86_64")]
    if crate::simd::avx512() {
        // SAFETY: the CPU has AVX-512F.
        unsafe { add_mul_columns_avx512(w, x, y) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if crate::simd::avx2() {
        // SAFETY: the CPU has AVX2.
        unsafe { add_mul_columns_avx2(w, x, y) };
        return;
    }
    add_columns(y, x.len(), |p| &w[p * m..(p + 1) * m], |p| x[p]);
}

/// [`add_mul_columns`] compiled for AVX-512.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn add_mul_columns_avx512<T: KernelScalar>(w: &[T], x: &[T], y: &mut [T]) {
    let m = y.len();
    add_columns(y, x.len(), |p| &w[p * m..(p + 1) * m], |p| x[p]);
}

/// [`add_mul_columns`] compiled for AVX2.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_mul_columns_avx2<T: KernelScalar>(w: &[T], x: &[T], y: &mut [T]) {
    let m = y.len();
    add_columns(y, x.len(), |p| &w[p * m..(p + 1) * m], |p| x[p]);
}

/// `C ← α·A·B + β·C` column by column, without packing (`C` not read when `β = 0`):
/// compiled for AVX-512 or AVX2 if the CPU has them (four or two times the vector width
/// of the default x86-64 build, and the same element-wise arithmetic, so the same bits),
/// else portably.
///
/// # Safety
/// As [`super::gemm`].
pub(super) unsafe fn gemm_thin<T: KernelScalar>(prod: Product<T>) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::avx512() {
        // SAFETY: the CPU has AVX-512F; the rest is forwarded from the caller.
        unsafe { gemm_thin_avx512(prod) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if crate::simd::avx2() {
        // SAFETY: the CPU has AVX2; the rest is forwarded from the caller.
        unsafe { gemm_thin_avx2(prod) };
        return;
    }
    // SAFETY: forwarded from the caller.
    unsafe { thin_loops(prod) };
}

/// [`thin_loops`] compiled for AVX-512.
///
/// # Safety
/// As [`super::gemm`], on a CPU with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn gemm_thin_avx512<T: KernelScalar>(prod: Product<T>) {
    // SAFETY: forwarded from the caller.
    unsafe { thin_loops(prod) };
}

/// [`thin_loops`] compiled for AVX2.
///
/// # Safety
/// As [`super::gemm`], on a CPU with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gemm_thin_avx2<T: KernelScalar>(prod: Product<T>) {
    // SAFETY: forwarded from the caller.
    unsafe { thin_loops(prod) };
}

/// The loops of [`gemm_thin`], inlined into each of its builds.
///
/// # Safety
/// As [`super::gemm`].
#[inline(always)]
unsafe fn thin_loops<T: KernelScalar>(prod: Product<T>) {
    let Product {
        m,
        k,
        n,
        alpha,
        a,
        b,
        beta,
        c,
    } = prod;
    let at = |i: usize, p: usize| a.ptr.wrapping_offset(i as isize * a.rs + p as isize * a.cs);
    let bt = |p: usize, j: usize| b.ptr.wrapping_offset(p as isize * b.rs + j as isize * b.cs);
    for j in 0..n {
        let c_col = c.ptr.wrapping_offset(j as isize * c.cs);
        // SAFETY (all blocks below): every (i, p, j) visited satisfies i < m, p < k,
        // j < n, so each pointer formed is inside its matrix (caller's guarantee); C is
        // written only through these pointers and aliases neither input.
        if c.rs == 1 && a.rs == 1 {
            // Column-major A and C: C[:, j] = β·C[:, j] + Σₚ (α·B[p, j])·A[:, p].
            let col = unsafe { core::slice::from_raw_parts_mut(c_col, m) };
            if beta == T::ZERO {
                col.fill(T::ZERO);
            } else if beta != T::ONE {
                col.iter_mut().for_each(|x| *x = beta * *x);
            }
            let a_col = |p: usize| unsafe { core::slice::from_raw_parts(at(0, p), m) };
            add_columns(col, k, a_col, |p| alpha * unsafe { *bt(p, j) });
        } else if a.cs == 1 && b.rs == 1 {
            // Rows of A and the column of B are contiguous: dot products.
            let b_col = unsafe { core::slice::from_raw_parts(bt(0, j), k) };
            for i in 0..m {
                let a_row = unsafe { core::slice::from_raw_parts(at(i, 0), k) };
                let v = alpha * dot(a_row, b_col);
                let out = c_col.wrapping_offset(i as isize * c.rs);
                unsafe { *out = if beta == T::ZERO { v } else { v + beta * *out } };
            }
        } else {
            // Any strides: the textbook sum.
            for i in 0..m {
                let mut s = T::ZERO;
                for p in 0..k {
                    s = unsafe { *at(i, p) * *bt(p, j) } + s;
                }
                let out = c_col.wrapping_offset(i as isize * c.rs);
                unsafe {
                    *out = if beta == T::ZERO {
                        alpha * s
                    } else {
                        alpha * s + beta * *out
                    }
                };
            }
        }
    }
}
