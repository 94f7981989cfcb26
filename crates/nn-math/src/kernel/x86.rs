//! The hand-written f32 micro-kernels for x86-64, picked at run time.
//!
//! AVX2 + FMA: a 16×6 tile; each step loads 16 values of the `A` panel into two registers
//! and broadcasts the 6 values of the `B` panel one at a time, for 12 fused multiply-adds
//! into 12 accumulator registers (enough independent accumulators to hide the FMA
//! latency, 8 loads per 12 FMAs). The auto-vectorized 16×4 form of [`super::micro`]
//! reaches about 78 GFLOP/s on this project's machines, this one about 90.
//!
//! AVX-512 (on CPUs that have it): the same packed 16×6 panels, one 512-bit register per
//! tile column, two steps at a time into two sets of accumulators; about 1.5–1.8× the
//! AVX2 kernel's speed in the products of a W1 step (`docs/dev-log.md`).
//!
//! Each kernel also comes in an `_into` form that writes a full tile from the registers
//! straight into `C`. Each reads the `A` panel with a given step between its `kc` groups
//! of 16: 16 when packed, the column stride when it reads a column-major `A` in place
//! (see `gemm_blocked`).
//!
//! Also here: [`interleave6`], the AVX-512 packing of a `B` panel from six contiguous
//! columns (`pack.rs`).

use core::arch::x86_64::{
    __m256, __m512, __m512i, _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps,
    _mm256_mul_ps, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps, _mm512_add_ps,
    _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_loadu_si512, _mm512_mask_blend_ps, _mm512_mul_ps,
    _mm512_permutex2var_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
};

/// Rows of the tile.
pub(super) const MR: usize = 16;
/// Columns of the tile.
pub(super) const NR: usize = 6;

/// `Σ_p a_p ⊗ b_p` over `kc ≥ 1` steps: `a_p` the 16 values at `a[p·a_step..]`, `b_p` the
/// 6 values at `b[6p..]`.
///
/// # Panics
/// If a panel is shorter than `kc` steps (the packing code never makes one).
#[target_feature(enable = "avx2,fma")]
pub(super) fn kernel_16x6(kc: usize, a: &[f32], a_step: usize, b: &[f32]) -> [[f32; MR]; NR] {
    let c = accumulate(kc, a, a_step, b);
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
// The product's operands and C's block, as the kernel types spell them.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn kernel_16x6_into(
    kc: usize,
    a: &[f32],
    a_step: usize,
    b: &[f32],
    c: *mut f32,
    ldc: usize,
    alpha: f32,
    beta: f32,
) {
    let acc = accumulate(kc, a, a_step, b);
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
fn accumulate(kc: usize, a: &[f32], a_step: usize, b: &[f32]) -> [__m256; 12] {
    let (a, b) = (&a[..(kc - 1) * a_step + MR], &b[..kc * NR]);
    let mut c: [__m256; 12] = [_mm256_setzero_ps(); 12];
    let (mut pa, mut pb) = (a.as_ptr(), b.as_ptr());
    for _ in 0..kc {
        // SAFETY: the slices above hold kc steps, and the pointers advance one step
        // (a_step and 6 values) per iteration, so every read is inside them.
        unsafe {
            let a0 = _mm256_loadu_ps(pa);
            let a1 = _mm256_loadu_ps(pa.add(8));
            for j in 0..NR {
                let bj = _mm256_broadcast_ss(&*pb.add(j));
                c[2 * j] = _mm256_fmadd_ps(a0, bj, c[2 * j]);
                c[2 * j + 1] = _mm256_fmadd_ps(a1, bj, c[2 * j + 1]);
            }
            pa = pa.add(a_step);
            pb = pb.add(NR);
        }
    }
    c
}

/// The AVX-512 form of [`kernel_16x6`], for CPUs that have it (detected at run time):
/// the same packed 16×6 panels, one 512-bit register per tile column, and two sets of
/// six accumulators (even and odd steps, added at the end) so that twelve fused
/// multiply-adds are in flight. Each value of the tile is the sum of the same products
/// as in the AVX2 kernel, grouped differently.
#[target_feature(enable = "avx512f")]
pub(super) fn kernel_16x6_avx512(
    kc: usize,
    a: &[f32],
    a_step: usize,
    b: &[f32],
) -> [[f32; MR]; NR] {
    let c = accumulate_512(kc, a, a_step, b);
    let mut out = [[0.0f32; MR]; NR];
    for (j, col) in out.iter_mut().enumerate() {
        // SAFETY: each column holds 16 values: one store of 16.
        unsafe { _mm512_storeu_ps(col.as_mut_ptr(), c[j]) };
    }
    out
}

/// As [`kernel_16x6_into`], with the arithmetic of [`kernel_16x6_avx512`].
///
/// # Safety
/// As [`kernel_16x6_into`].
// The product's operands and C's block, as the kernel types spell them.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn kernel_16x6_avx512_into(
    kc: usize,
    a: &[f32],
    a_step: usize,
    b: &[f32],
    c: *mut f32,
    ldc: usize,
    alpha: f32,
    beta: f32,
) {
    let acc = accumulate_512(kc, a, a_step, b);
    let (va, vb) = (_mm512_set1_ps(alpha), _mm512_set1_ps(beta));
    for (j, &acc) in acc.iter().enumerate() {
        // SAFETY: the 16 rows of column j lie in the block (caller's guarantee).
        unsafe {
            let p = c.add(j * ldc);
            let scaled = _mm512_mul_ps(va, acc);
            let v = if beta == 0.0 {
                scaled
            } else {
                _mm512_add_ps(scaled, _mm512_mul_ps(vb, _mm512_loadu_ps(p)))
            };
            _mm512_storeu_ps(p, v);
        }
    }
}

/// The six 512-bit columns of a 16×6 tile after `kc` steps (even and odd steps in
/// separate accumulators, summed at the end).
#[target_feature(enable = "avx512f")]
#[inline]
fn accumulate_512(kc: usize, a: &[f32], a_step: usize, b: &[f32]) -> [__m512; NR] {
    let (a, b) = (&a[..(kc - 1) * a_step + MR], &b[..kc * NR]);
    let mut even: [__m512; NR] = [_mm512_setzero_ps(); NR];
    let mut odd: [__m512; NR] = [_mm512_setzero_ps(); NR];
    let (mut pa, mut pb) = (a.as_ptr(), b.as_ptr());
    for _ in 0..kc / 2 {
        // SAFETY: the slices above hold kc steps; each iteration reads two steps and
        // advances past them, kc / 2 times.
        unsafe {
            let a0 = _mm512_loadu_ps(pa);
            let a1 = _mm512_loadu_ps(pa.add(a_step));
            for j in 0..NR {
                even[j] = _mm512_fmadd_ps(a0, _mm512_set1_ps(*pb.add(j)), even[j]);
                odd[j] = _mm512_fmadd_ps(a1, _mm512_set1_ps(*pb.add(NR + j)), odd[j]);
            }
            pa = pa.add(2 * a_step);
            pb = pb.add(2 * NR);
        }
    }
    if kc % 2 == 1 {
        // SAFETY: one step is left, inside the slices.
        unsafe {
            let a0 = _mm512_loadu_ps(pa);
            for (j, e) in even.iter_mut().enumerate() {
                *e = _mm512_fmadd_ps(a0, _mm512_set1_ps(*pb.add(j)), *e);
            }
        }
    }
    for (e, o) in even.iter_mut().zip(odd) {
        *e = _mm512_add_ps(*e, o);
    }
    even
}

/// Interleaves six rows of `depth` values into `out` (`out[6p + j] = rows[j][p]`, a
/// packed `B` panel) for the first multiple of 16 steps, with AVX-512 where the CPU has
/// it, and returns how many steps it wrote (0 without AVX-512). Each 16 steps: six
/// loads, then for each of the six output vectors one index vector picks step and row
/// parity from each pair of rows (three two-source permutes) and two blends pick the
/// pair: by its instruction count about 0.2 cycles per value, where the scalar loop took
/// about two (perf, `docs/dev-log.md` item 32).
///
/// # Safety
/// Each of `rows` must be valid for reads of `depth` values, `out` for writes of
/// `6·depth`.
pub(super) unsafe fn interleave6(rows: &[*const f32; 6], depth: usize, out: *mut f32) -> usize {
    if !crate::simd::avx512() {
        return 0;
    }
    // SAFETY: the CPU has AVX-512F; the rest is the caller's guarantee.
    unsafe { interleave6_avx512(rows, depth, out) }
}

/// [`interleave6`] with AVX-512.
///
/// # Safety
/// As [`interleave6`], on a CPU with AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn interleave6_avx512(rows: &[*const f32; 6], depth: usize, out: *mut f32) -> usize {
    // Output vector q, lane l holds value e = 16q + l of the 96: step p = e / 6 of row
    // j = e % 6. Index: p from the first source or 16 + p from the second (odd rows);
    // the pair (j / 2) is chosen by the blends.
    const INDEX: [[u32; 16]; 6] = {
        let mut idx = [[0u32; 16]; 6];
        let mut e = 0;
        while e < 96 {
            let (p, j) = (e / 6, e % 6);
            idx[e / 16][e % 16] = (p + 16 * (j % 2)) as u32;
            e += 1;
        }
        idx
    };
    const fn pair_mask(pair: usize) -> [u16; 6] {
        let mut m = [0u16; 6];
        let mut e = 0;
        while e < 96 {
            if (e % 6) / 2 == pair {
                m[e / 16] |= 1 << (e % 16);
            }
            e += 1;
        }
        m
    }
    const MID: [u16; 6] = pair_mask(1);
    const HIGH: [u16; 6] = pair_mask(2);
    let steps = depth / 16 * 16;
    let idx: [__m512i; 6] =
        // SAFETY: each index array holds 16 u32 values: one 512-bit load.
        core::array::from_fn(|q| unsafe { _mm512_loadu_si512(INDEX[q].as_ptr().cast()) });
    for p0 in (0..steps).step_by(16) {
        // SAFETY: steps p0..p0 + 16 < depth of each row, slots 6·p0..6·p0 + 96 of out
        // (caller's guarantee).
        unsafe {
            let r: [__m512; 6] = core::array::from_fn(|j| _mm512_loadu_ps(rows[j].add(p0)));
            for q in 0..6 {
                let low = _mm512_permutex2var_ps(r[0], idx[q], r[1]);
                let mid = _mm512_permutex2var_ps(r[2], idx[q], r[3]);
                let high = _mm512_permutex2var_ps(r[4], idx[q], r[5]);
                let v = _mm512_mask_blend_ps(MID[q], low, mid);
                let v = _mm512_mask_blend_ps(HIGH[q], v, high);
                _mm512_storeu_ps(out.add(6 * p0 + 16 * q), v);
            }
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product of the panels (step `p` of `A` at `a[p·a_step..]`), summed in f64.
    fn reference(kc: usize, a: &[f32], a_step: usize, b: &[f32]) -> [[f64; MR]; NR] {
        let mut t = [[0.0; MR]; NR];
        for p in 0..kc {
            for (j, col) in t.iter_mut().enumerate() {
                for (i, x) in col.iter_mut().enumerate() {
                    *x += f64::from(a[p * a_step + i]) * f64::from(b[p * NR + j]);
                }
            }
        }
        t
    }

    #[test]
    fn every_kernel_computes_the_tile_and_writes_it_into_c() {
        let avx2 = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        let avx512 = avx2 && std::is_x86_feature_detected!("avx512f");
        // Packed panels (step 16), and 16 rows of a column-major A of 24 rows read in place.
        for (kc, a_step) in [1, 2, 3, 7, 64, 196, 257]
            .into_iter()
            .flat_map(|kc| [(kc, MR), (kc, 24)])
        {
            let a: Vec<f32> = (0..(kc - 1) * a_step + MR)
                .map(|i| ((i * 7) % 13) as f32 / 13.0 - 0.5)
                .collect();
            let b: Vec<f32> = (0..kc * NR)
                .map(|i| ((i * 5) % 11) as f32 / 11.0 - 0.5)
                .collect();
            let want = reference(kc, &a, a_step, &b);
            let close = |got: f32, want: f64| {
                (f64::from(got) - want).abs() <= 1e-5 * (1.0 + want.abs() * kc as f64)
            };
            let mut kernels: Vec<(&str, Kernel, KernelInto)> = Vec::new();
            if avx2 {
                kernels.push((
                    "avx2",
                    |kc, a, s, b| unsafe { kernel_16x6(kc, a, s, b) },
                    |kc, a, s, b, c, l, x, y| unsafe { kernel_16x6_into(kc, a, s, b, c, l, x, y) },
                ));
            }
            if avx512 {
                kernels.push((
                    "avx512",
                    |kc, a, s, b| unsafe { kernel_16x6_avx512(kc, a, s, b) },
                    |kc, a, s, b, c, l, x, y| unsafe {
                        kernel_16x6_avx512_into(kc, a, s, b, c, l, x, y)
                    },
                ));
            }
            for (name, tile, into) in kernels {
                let name = format!("{name}, kc {kc}, step {a_step}");
                let t = tile(kc, &a, a_step, &b);
                // Into a 20-row C (column stride 20): C ← 2·tile + 0.5·C, rows 16.. untouched.
                let ldc = 20;
                let mut c = vec![1.0f32; ldc * NR];
                unsafe { into(kc, &a, a_step, &b, c.as_mut_ptr(), ldc, 2.0, 0.5) };
                for j in 0..NR {
                    for i in 0..MR {
                        assert!(close(t[j][i], want[j][i]), "{name}: tile ({i}, {j})");
                        assert!(
                            close(c[j * ldc + i], 2.0 * want[j][i] + 0.5),
                            "{name}: C ({i}, {j})"
                        );
                    }
                    assert!(
                        c[j * ldc + MR..(j + 1) * ldc].iter().all(|&v| v == 1.0),
                        "{name}: rows past the tile"
                    );
                }
                // β = 0 never reads C (NaN there must not leak).
                let mut c = vec![f32::NAN; ldc * NR];
                unsafe { into(kc, &a, a_step, &b, c.as_mut_ptr(), ldc, 1.0, 0.0) };
                assert!(
                    (0..NR).all(|j| (0..MR).all(|i| close(c[j * ldc + i], want[j][i]))),
                    "{name}: β = 0"
                );
            }
        }
    }

    #[test]
    fn interleave6_writes_each_step_of_six_rows_in_order() {
        for depth in [0, 1, 15, 16, 17, 31, 32, 48, 196, 200] {
            // Six rows at unrelated offsets of one buffer, as columns of a matrix are.
            let data: Vec<f32> = (0..6 * 211).map(|i| i as f32 * 0.5 - 7.0).collect();
            let rows: [*const f32; 6] =
                core::array::from_fn(|j| data[(5 - j) * 211 + j..].as_ptr());
            let mut out = vec![f32::NAN; 6 * depth];
            let done = unsafe { interleave6(&rows, depth, out.as_mut_ptr()) };
            if crate::simd::avx512() {
                assert_eq!(done, depth / 16 * 16, "depth {depth}");
            } else {
                assert_eq!(done, 0);
            }
            for p in 0..done {
                for j in 0..6 {
                    let want = data[(5 - j) * 211 + j + p];
                    assert_eq!(out[6 * p + j], want, "depth {depth}, step {p}, row {j}");
                }
            }
            // Nothing past the steps it reports.
            assert!(out[6 * done..].iter().all(|v| v.is_nan()), "depth {depth}");
        }
    }

    type Kernel = fn(usize, &[f32], usize, &[f32]) -> [[f32; MR]; NR];
    type KernelInto = unsafe fn(usize, &[f32], usize, &[f32], *mut f32, usize, f32, f32);
}
