//! A blocked GEMM (`C ← α·A·B + β·C`) with packing buffers that are reused across calls.
//!
//! The structure is the classic one of BLIS and `matrixmultiply` (Goto's algorithm):
//! blocks of `B` (`KC × NC`) and `A` (`MC × KC`) are copied ("packed") into contiguous
//! panels `NR` columns and `MR` rows wide, and a small register-blocked micro-kernel
//! ([`micro`]) multiplies one `A` panel by one `B` panel into an `MR × NR` tile of `C`.
//!
//! Why not `matrixmultiply` itself: it allocates a fresh packing buffer on every call,
//! so every training step would allocate. Here the buffers live in a thread-local that
//! grows to the largest product a thread has computed and is then reused: after the
//! first step, a training step allocates nothing.
//!
//! On x86-64 CPUs with AVX2 and FMA (detected at run time, so no build flags are needed)
//! f32 products use the hand-written 16×6 kernels of `x86.rs` (AVX-512 where the CPU has
//! it) and f64 products an auto-vectorized 8×4 kernel compiled for those instructions;
//! elsewhere a portable build of the same generic kernel runs. Products with a side below 4 (a batch of one, a
//! single example's weight gradient) skip packing altogether (`thin.rs`), and an f32
//! column-major `A` that starts on a cache line, with whole 16-row panels and a column
//! stride of whole lines (a layer's weights in `W·A`), is read in place instead of packed.

mod micro;
mod pack;
mod thin;
#[cfg(target_arch = "x86_64")]
mod x86;

use core::cell::RefCell;

pub(crate) use micro::KernelScalar;
use micro::Tile;
pub(crate) use thin::{add_columns, add_mul_columns};

/// Columns of `B` packed per outer block.
const NC: usize = 2048;
/// Depth (shared dimension) of one packed block.
const KC: usize = 256;
/// Rows of `A` packed per block.
const MC: usize = 128;

thread_local! {
    static PACK_F32: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    static PACK_F64: RefCell<(Vec<f64>, Vec<f64>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// A matrix operand: a pointer to element (0, 0) and the row and column strides, in
/// elements.
#[derive(Clone, Copy)]
pub(crate) struct Strided<P> {
    pub ptr: P,
    pub rs: isize,
    pub cs: isize,
}

/// The thread's reused packing buffers (for `A` and `B`) of one scalar type.
pub(crate) trait PackBuffers: KernelScalar {
    /// Runs `f` with this thread's buffers.
    fn with_buffers<R>(f: impl FnOnce(&mut Vec<Self>, &mut Vec<Self>) -> R) -> R;
}

macro_rules! pack_buffers {
    ($t:ty, $tls:ident) => {
        impl PackBuffers for $t {
            fn with_buffers<R>(f: impl FnOnce(&mut Vec<Self>, &mut Vec<Self>) -> R) -> R {
                $tls.with(|bufs| {
                    let mut bufs = bufs.borrow_mut();
                    let (pa, pb) = &mut *bufs;
                    f(pa, pb)
                })
            }
        }
    };
}

pack_buffers!(f32, PACK_F32);
pack_buffers!(f64, PACK_F64);

/// One product `C ← α·A·B + β·C` for `A` of `m × k`, `B` of `k × n`, `C` of `m × n`, as
/// raw operands (`C` is not read when `β = 0`).
#[derive(Clone, Copy)]
pub(crate) struct Product<T> {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub alpha: T,
    pub a: Strided<*const T>,
    pub b: Strided<*const T>,
    pub beta: T,
    pub c: Strided<*mut T>,
}

/// Computes `prod` with this thread's reused packing buffers.
///
/// # Safety
/// For every `i < m`, `j < n`, `p < k`: `a.ptr + i·a.rs + p·a.cs` and
/// `b.ptr + p·b.rs + j·b.cs` must be valid for reads, `c.ptr + i·c.rs + j·c.cs` valid
/// for reads and writes, and `C` must not overlap `A` or `B`.
pub(crate) unsafe fn gemm<T: PackBuffers>(prod: Product<T>) {
    // SAFETY: forwarded from the caller.
    T::with_buffers(|pa, pb| unsafe { gemm_blocked(prod, pa, pb) });
}

/// The blocked loops around the micro-kernel.
///
/// # Safety
/// As [`gemm`].
unsafe fn gemm_blocked<T: KernelScalar>(prod: Product<T>, pa: &mut Vec<T>, pb: &mut Vec<T>) {
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
    if m == 0 || n == 0 || k == 0 {
        // Callers handle an empty product (C ← β·C) themselves.
        return;
    }
    if m < thin::THIN || n < thin::THIN || k < thin::THIN {
        // SAFETY: forwarded from the caller.
        unsafe { thin::gemm_thin(prod) };
        return;
    }
    let (mr, nr) = (T::MR, T::NR);
    let kernel = micro::select::<T>();
    // Full tiles of a C with unit row stride go straight from the registers into C.
    let into = micro::select_into::<T>().filter(|_| c.rs == 1);
    // A column-major A whose columns start on cache lines, in whole panels of MR rows
    // (a layer's weights, `W·A`), is read in place: each step's MR values are then one
    // line, and packing it would copy every weight once per product.
    let in_place = T::kernels_strided().filter(|_| {
        a.rs == 1
            && c.rs == 1
            && m.is_multiple_of(mr)
            && (a.ptr as usize).is_multiple_of(crate::ALIGN)
            && (a.cs as usize * core::mem::size_of::<T>()).is_multiple_of(crate::ALIGN)
    });
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        // Depth blocks of equal size (at most KC): 784 = 4 × 196, not 3 × 256 + 16, so that
        // no block is too thin to pay for its tile write-backs.
        let kc_even = k.div_ceil(k.div_ceil(KC));
        for pc in (0..k).step_by(kc_even) {
            let kc = kc_even.min(k - pc);
            // The first depth block applies β; the others accumulate.
            let beta_here = if pc == 0 { beta } else { T::ONE };
            // SAFETY: the block lies inside B (rows pc..pc+kc, columns jc..jc+nc).
            unsafe { pack::pack_b(pb, b, pc, kc, jc, nc, nr) };
            if let Some((tile_in_place, into_in_place)) = in_place {
                for i0 in (0..m).step_by(mr) {
                    // SAFETY: rows i0..i0+MR of columns pc..pc+kc lie inside A (m is a
                    // multiple of MR), the last of them (kc−1)·cs + MR − 1 past the first.
                    let a_panel = unsafe {
                        core::slice::from_raw_parts(
                            a.ptr.offset(i0 as isize + pc as isize * a.cs),
                            (kc - 1) * a.cs as usize + mr,
                        )
                    };
                    let step = a.cs as usize;
                    for (jp, b_panel) in pb.chunks_exact(kc * nr).take(nc.div_ceil(nr)).enumerate()
                    {
                        let j0 = jc + jp * nr;
                        let cols = nr.min(n - j0);
                        if cols == nr {
                            // SAFETY: as for the packed path below.
                            unsafe {
                                let at = c.ptr.offset(i0 as isize + j0 as isize * c.cs);
                                let ldc = c.cs as usize;
                                into_in_place(
                                    kc, a_panel, step, b_panel, at, ldc, alpha, beta_here,
                                );
                            }
                        } else {
                            let tile = tile_in_place(kc, a_panel, step, b_panel);
                            // SAFETY: rows i0..i0+MR and columns j0..j0+cols lie inside C.
                            unsafe { write_tile(&tile, c, i0, mr, j0, cols, alpha, beta_here) };
                        }
                    }
                }
                continue;
            }
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                // SAFETY: the block lies inside A (rows ic..ic+mc, columns pc..pc+kc).
                unsafe { pack::pack_a(pa, a, ic, mc, pc, kc, mr) };
                // The A micro-panel (MR × kc) stays in L1 while the narrower B
                // micro-panels stream past it from the packed block in L2.
                for (ip, a_panel) in pa.chunks_exact(kc * mr).take(mc.div_ceil(mr)).enumerate() {
                    let i0 = ic + ip * mr;
                    let rows = mr.min(m - i0);
                    for (jp, b_panel) in pb.chunks_exact(kc * nr).take(nc.div_ceil(nr)).enumerate()
                    {
                        let j0 = jc + jp * nr;
                        let cols = nr.min(n - j0);
                        match into {
                            Some(into) if rows == mr && cols == nr => {
                                // SAFETY: the full tile at (i0, j0) lies inside C, whose
                                // row stride is 1; C aliases neither packed panel.
                                unsafe {
                                    let at = c.ptr.offset(i0 as isize + j0 as isize * c.cs);
                                    into(kc, a_panel, b_panel, at, c.cs as usize, alpha, beta_here);
                                }
                            }
                            _ => {
                                let tile = kernel(kc, a_panel, b_panel);
                                // SAFETY: rows i0..i0+rows and columns j0..j0+cols lie
                                // inside C.
                                unsafe {
                                    write_tile(&tile, c, i0, rows, j0, cols, alpha, beta_here)
                                };
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `C[i0.., j0..] ← α·tile + β·C[i0.., j0..]` for the valid `rows × cols` part of a tile;
/// `C` is not read when `β = 0`.
///
/// # Safety
/// The `rows × cols` block at `(i0, j0)` must lie inside `C`.
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn write_tile<T: KernelScalar>(
    tile: &T::Tile,
    c: Strided<*mut T>,
    i0: usize,
    rows: usize,
    j0: usize,
    cols: usize,
    alpha: T,
    beta: T,
) {
    for j in 0..cols {
        let col = &tile.column(j)[..rows];
        // SAFETY: (i0, j0 + j) is inside C by the caller's guarantee.
        let base = unsafe {
            c.ptr
                .offset((i0 as isize) * c.rs + ((j0 + j) as isize) * c.cs)
        };
        if c.rs == 1 {
            // SAFETY: rows i0..i0+rows of this column are inside C, contiguous, and
            // aliased by nothing else while we hold C.
            let dst = unsafe { core::slice::from_raw_parts_mut(base, rows) };
            if beta == T::ZERO {
                dst.iter_mut().zip(col).for_each(|(d, &v)| *d = alpha * v);
            } else {
                dst.iter_mut()
                    .zip(col)
                    .for_each(|(d, &v)| *d = alpha * v + beta * *d);
            }
            continue;
        }
        for (i, &v) in col.iter().enumerate() {
            // SAFETY: row i0 + i < i0 + rows is inside C, valid for reads and writes.
            unsafe {
                let p = base.offset(i as isize * c.rs);
                *p = if beta == T::ZERO {
                    alpha * v
                } else {
                    alpha * v + beta * *p
                };
            }
        }
    }
}
