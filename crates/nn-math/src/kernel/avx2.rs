//! The hand-written f32 micro-kernel for x86-64 CPUs with AVX2 and FMA.
//!
//! A 16×6 tile: each step loads 16 values of the `A` panel into two registers and
//! broadcasts the 6 values of the `B` panel one at a time, for 12 fused multiply-adds
//! into 12 accumulator registers (16 of the 16 AVX registers in use: enough independent
//! accumulators to hide the FMA latency, 8 loads per 12 FMAs). The auto-vectorized 16×4
//! form of [`super::micro`] reaches about 78 GFLOP/s on this project's machines, this one
//! about 90.

use core::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_mul_ps,
    _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps,
};

/// Rows of the tile.
pub(super) const MR: usize = 16;
/// Columns of the tile.
pub(super) const NR: usize = 6;

/// `Σ_p a_p ⊗ b_p` over `kc` packed steps (`a`: `kc` groups of 16, `b`: `kc` groups of 6).
///
/// # Panics
/// If a panel is shorter than `kc` steps (the packing code never makes one).
#[target_feature(enable = "avx2,fma")]
pub(super) fn kernel_16x6(kc: usize, a: &[f32], b: &[f32]) -> [[f32; MR]; NR] {
    let c = accumulate(kc, a, b);
    let mut out = [[0.0f32; MR]; NR];
    for (j, col) in out.iter_mut().enumerate() {
        // SAFETY: each column holds 16 values: two stores of 8.
        unsafe {
            _mm256_storeu_ps(col.as_mut_ptr(), c[2 * j]);
            _mm256_storeu_ps(col.as_mut_ptr().add(8), c[2 * j + 1]);
        }
    }
    out
}

/// As [`kernel_16x6`], writing the tile straight into a full 16×6 block of a
/// column-major `C` from the registers: `C ← α·tile + β·C` (`C` not read when `β = 0`),
/// with the arithmetic of [`super::write_tile`], so either path gives the same values.
///
/// # Safety
/// `c + i + j·ldc` must be valid for reads and writes for `i < 16`, `j < 6`, and alias
/// neither panel.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn kernel_16x6_into(
    kc: usize,
    a: &[f32],
    b: &[f32],
    c: *mut f32,
    ldc: usize,
    alpha: f32,
    beta: f32,
) {
    let acc = accumulate(kc, a, b);
    let (va, vb) = (_mm256_set1_ps(alpha), _mm256_set1_ps(beta));
    for j in 0..NR {
        for h in 0..2 {
            // SAFETY: rows 8h..8h + 8 of column j lie in the block (caller's guarantee).
            unsafe {
                let p = c.add(j * ldc + 8 * h);
                let scaled = _mm256_mul_ps(va, acc[2 * j + h]);
                let v = if beta == 0.0 {
                    scaled
                } else {
                    _mm256_add_ps(scaled, _mm256_mul_ps(vb, _mm256_loadu_ps(p)))
                };
                _mm256_storeu_ps(p, v);
            }
        }
    }
}

/// The 12 accumulator registers of a 16×6 tile after `kc` steps.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn accumulate(kc: usize, a: &[f32], b: &[f32]) -> [__m256; 12] {
    let (a, b) = (&a[..kc * MR], &b[..kc * NR]);
    let mut c: [__m256; 12] = [_mm256_setzero_ps(); 12];
    let (mut pa, mut pb) = (a.as_ptr(), b.as_ptr());
    for _ in 0..kc {
        // SAFETY: the slices above hold kc steps, and the pointers advance one step
        // (16 and 6 values) per iteration, so every read is inside them.
        unsafe {
            let a0 = _mm256_loadu_ps(pa);
            let a1 = _mm256_loadu_ps(pa.add(8));
            for j in 0..NR {
                let bj = _mm256_broadcast_ss(&*pb.add(j));
                c[2 * j] = _mm256_fmadd_ps(a0, bj, c[2 * j]);
                c[2 * j + 1] = _mm256_fmadd_ps(a1, bj, c[2 * j + 1]);
            }
            pa = pa.add(MR);
            pb = pb.add(NR);
        }
    }
    c
}
