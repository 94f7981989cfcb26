//! Packing blocks of `A` and `B` into contiguous, zero-padded micro-panels.
//!
//! Both packers read along whichever dimension of the source is contiguous (unit
//! stride) and write with the panel's stride, so that a transposed operand packs as
//! fast as a plain one. Packing is compiled for each panel width the kernels use, so
//! that each step's copy has a fixed length, and an f32 `B` panel whose six columns are
//! each contiguous (the batch in `W·A`) is interleaved with AVX-512 where the CPU has it
//! (`x86::interleave6`): together less than half the time the plain loops took
//! (`docs/dev-log.md`, item 32).

use super::{KernelScalar, Strided};

/// Packs the `rows × depth` block of a matrix whose element `(r, p)` is at
/// `src + r·rs + p·ps` into panels of `w` rows: panel `q` holds, for each `p` in order,
/// the `w` values of rows `q·w .. q·w + w` (0 past the last row).
///
/// # Safety
/// Every element `(r, p)` with `r < rows`, `p < depth` must be valid for reads.
#[inline(always)]
unsafe fn pack<T: KernelScalar>(
    buf: &mut Vec<T>,
    src: *const T,
    rs: isize,
    ps: isize,
    rows: usize,
    depth: usize,
    w: usize,
) {
    let panels = rows.div_ceil(w);
    let len = panels * w * depth;
    if buf.len() < len {
        buf.resize(len, T::ZERO);
    }
    for (q, panel) in buf[..len].chunks_exact_mut(w * depth).enumerate() {
        let r0 = q * w;
        let live = w.min(rows - r0);
        if live < w {
            // The ragged last panel: zero the padding rows once.
            panel.fill(T::ZERO);
        }
        if ps == 1 && rs != 1 && live == w && w <= 16 {
            // Each row is contiguous along p (a transposed A, a column-major B): for each
            // p, gather the w rows' values into the panel's next w slots, so that the
            // panel is written in order (one cache line per step for an f32 A panel)
            // instead of w times with stride w.
            let mut rows = [src; 16];
            for (r, row) in rows.iter_mut().enumerate().take(w) {
                // SAFETY: row r0 + r < rows is inside the block.
                *row = unsafe { src.offset((r0 + r) as isize * rs) };
            }
            // Six rows of f32 (a B panel) go through the AVX-512 transposition first,
            // 16 steps at a time, where the CPU has it; the loop below does the rest.
            let done = interleave_f32(&rows, w, depth, panel);
            for (p, dst) in panel.chunks_exact_mut(w).enumerate().skip(done) {
                for (d, row) in dst.iter_mut().zip(&rows) {
                    // SAFETY: column p < depth of a row inside the block.
                    *d = unsafe { *row.add(p) };
                }
            }
        } else if ps == 1 && rs != 1 {
            // Each row is contiguous along p: read rows, write with stride w.
            let out = panel.as_mut_ptr();
            for r in 0..live {
                // SAFETY: row r0 + r < rows and columns 0..depth are inside the block;
                // `out` has w·depth slots, and p·w + r < w·depth.
                unsafe {
                    let row = src.offset((r0 + r) as isize * rs);
                    for p in 0..depth {
                        *out.add(p * w + r) = *row.add(p);
                    }
                }
            }
        } else if rs == 1 && live == w {
            // Column-major, a whole panel: each column's `w` rows are contiguous; copy
            // them as one run of fixed length (`pack_width` makes `w` a constant).
            let out = panel.as_mut_ptr();
            for p in 0..depth {
                // SAFETY: rows r0..r0+w of column p < depth are inside the block, and
                // slots p·w..p·w + w of the panel are inside it; the two do not overlap.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        src.offset(p as isize * ps).add(r0),
                        out.add(p * w),
                        w,
                    );
                }
            }
        } else if rs == 1 {
            // Column-major: each column's `live` rows are contiguous; copy them whole.
            for (p, dst) in panel.chunks_exact_mut(w).enumerate() {
                // SAFETY: rows r0..r0+live of column p < depth are inside the block.
                let col = unsafe {
                    core::slice::from_raw_parts(src.offset(p as isize * ps).add(r0), live)
                };
                // A plain loop, not `copy_from_slice`: these copies are a few dozen bytes,
                // too short to pay for a call to memcpy.
                for (d, &v) in dst[..live].iter_mut().zip(col) {
                    *d = v;
                }
            }
        } else {
            // General strides.
            for (p, dst) in panel.chunks_exact_mut(w).enumerate() {
                for (r, d) in dst[..live].iter_mut().enumerate() {
                    // SAFETY: row r0 + r < rows and column p < depth are inside the block.
                    *d = unsafe { *src.offset(p as isize * ps + (r0 + r) as isize * rs) };
                }
            }
        }
    }
}

/// How many steps of a `w`-row panel [`x86::interleave6`](super::x86::interleave6) wrote
/// into `panel` from `rows` (0 unless the rows are six rows of f32 on an x86-64 CPU with
/// AVX-512).
#[inline(always)]
fn interleave_f32<T: KernelScalar>(
    rows: &[*const T; 16],
    w: usize,
    depth: usize,
    panel: &mut [T],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if w == 6 && core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>() {
        debug_assert!(panel.len() >= 6 * depth);
        let six: [*const f32; 6] = core::array::from_fn(|r| rows[r].cast::<f32>());
        // SAFETY: T is f32, so the casts are identities; each of the six rows holds
        // `depth` values (the caller's block) and the panel 6·depth.
        return unsafe { super::x86::interleave6(&six, depth, panel.as_mut_ptr().cast()) };
    }
    // Elsewhere (or for other rows) the scalar loop packs every step.
    let _ = (rows, w, depth, panel);
    0
}

/// [`pack`] compiled for each panel width the kernels use (16 and 6 for f32, 8 and 4 for
/// f64), so that the per-step copies have a fixed length and are unrolled.
///
/// # Safety
/// As [`pack`].
unsafe fn pack_width<T: KernelScalar>(
    buf: &mut Vec<T>,
    src: *const T,
    rs: isize,
    ps: isize,
    rows: usize,
    depth: usize,
    w: usize,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match w {
            4 => pack(buf, src, rs, ps, rows, depth, 4),
            6 => pack(buf, src, rs, ps, rows, depth, 6),
            8 => pack(buf, src, rs, ps, rows, depth, 8),
            16 => pack(buf, src, rs, ps, rows, depth, 16),
            _ => pack(buf, src, rs, ps, rows, depth, w),
        }
    }
}

/// Packs rows `i0..i0+mc`, columns `p0..p0+kc` of `A` into panels of `mr` rows.
///
/// # Safety
/// The block must lie inside `A` (see [`super::gemm`]).
pub(super) unsafe fn pack_a<T: KernelScalar>(
    buf: &mut Vec<T>,
    a: Strided<*const T>,
    i0: usize,
    mc: usize,
    p0: usize,
    kc: usize,
    mr: usize,
) {
    // SAFETY: the block's corner is inside A, and so is the whole block (caller).
    unsafe {
        let corner = a.ptr.offset(i0 as isize * a.rs + p0 as isize * a.cs);
        pack_width(buf, corner, a.rs, a.cs, mc, kc, mr);
    }
}

/// Packs rows `p0..p0+kc`, columns `j0..j0+nc` of `B` into panels of `nr` columns: the
/// same as packing `Bᵀ` into panels of `nr` rows.
///
/// # Safety
/// The block must lie inside `B` (see [`super::gemm`]).
pub(super) unsafe fn pack_b<T: KernelScalar>(
    buf: &mut Vec<T>,
    b: Strided<*const T>,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    nr: usize,
) {
    // SAFETY: the block's corner is inside B, and so is the whole block (caller).
    unsafe {
        let corner = b.ptr.offset(p0 as isize * b.rs + j0 as isize * b.cs);
        pack_width(buf, corner, b.cs, b.rs, nc, kc, nr);
    }
}
