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
//! elsewhere a portable build of the same generic kernel runs. Products with a side
//! below 4 (a batch of one, a single example's weight gradient) skip packing altogether
//! (`thin.rs`). The f32 kernels also read their operands in place: every `B` (only a
//! ragged last panel, which needs zero padding, is packed), and a column-major `A` that
//! starts on a cache line, with whole 16-row panels and a column stride of whole lines (a
//! layer's weights in `W·A`).

mod micro;
mod pack;
mod thin;
#[cfg(target_arch = "x86_64")]
mod x86;

use core::cell::RefCell;

pub(crate) use micro::KernelScalar;
use micro::{BSteps, Tile};
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
        m, k, n, a, b, c, ..
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
    // Full tiles of a C with unit row stride go straight from the registers into C.
    let c_direct = c.rs == 1;
    if let Some((tile, into)) = T::kernels_strided() {
        let place = InPlace {
            // A column-major A whose columns start on cache lines, in whole panels of MR
            // rows (a layer's weights, `W·A`), is read in place: each step's MR values are
            // then one line, and packing it would copy every weight once per product.
            a: a.rs == 1
                && m.is_multiple_of(T::MR)
                && (a.ptr as usize).is_multiple_of(crate::ALIGN)
                && (a.cs as usize * core::mem::size_of::<T>()).is_multiple_of(crate::ALIGN),
            // B is read in place whenever its strides run forward (every product here):
            // a column-major B (the batch in `W·A`) as NR unit-stride streams, a
            // transposed one (the batch in `D·Aᵀ`) as NR neighbours per step. Packing it
            // took 18 % of a one-thread W1 step; without it the products of the step are
            // 12–27 % faster and the step 12 % (`docs/performance.md`, item 32).
            b: b.rs >= 0 && b.cs >= 0,
        };
        let into = |kc, a: &[T], a_step, b: &[T], b_at, at, ldc, alpha, beta| {
            // SAFETY: `blocks` passes a full tile of C (caller's guarantee of `gemm`).
            unsafe { into(kc, a, a_step, b, b_at, at, ldc, alpha, beta) }
        };
        // SAFETY: forwarded from the caller.
        unsafe { blocks(prod, pa, pb, place, tile, c_direct.then_some(into)) };
    } else {
        let kernel = micro::select::<T>();
        let tile = |kc, a: &[T], _: usize, b: &[T], _: BSteps| kernel(kc, a, b);
        let into = micro::select_into::<T>().filter(|_| c_direct).map(|into| {
            move |kc, a: &[T], _: usize, b: &[T], _: BSteps, at, ldc, alpha, beta| {
                // SAFETY: `blocks` passes a full tile of C (caller's guarantee of `gemm`).
                unsafe { into(kc, a, b, at, ldc, alpha, beta) }
            }
        });
        let place = InPlace { a: false, b: false };
        // SAFETY: forwarded from the caller.
        unsafe { blocks(prod, pa, pb, place, tile, into) };
    }
}

/// Which operands [`blocks`] reads in place rather than packs.
#[derive(Clone, Copy)]
struct InPlace {
    a: bool,
    b: bool,
}

/// The loops of Goto's algorithm: depth blocks of `B` (packed, or read in place), blocks
/// of `A` (packed, or read in place), and the micro-kernel over every pair of panels.
/// `tile(kc, a, a_step, b, b_at)` computes a tile; `into` (with `C`'s block, its column
/// stride, `α`, `β`) writes a full one straight into a `C` of unit row stride.
///
/// # Safety
/// As [`gemm`], and a packed operand is read only with the steps of a packed panel.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn blocks<T: KernelScalar, K, I>(
    prod: Product<T>,
    pa: &mut Vec<T>,
    pb: &mut Vec<T>,
    place: InPlace,
    tile: K,
    into: Option<I>,
) where
    K: Fn(usize, &[T], usize, &[T], BSteps) -> T::Tile,
    I: Fn(usize, &[T], usize, &[T], BSteps, *mut T, usize, T, T),
{
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
    let (mr, nr) = (T::MR, T::NR);
    let packed = BSteps::packed(nr);
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        // B's panels in this block: whole ones read in place, or all packed; with B in
        // place, a ragged last panel is packed alone (it needs zero padding).
        let whole = if place.b { nc / nr } else { 0 };
        // Depth blocks of equal size (at most KC): 784 = 4 × 196, not 3 × 256 + 16, so that
        // no block is too thin to pay for its tile write-backs.
        let kc_even = k.div_ceil(k.div_ceil(KC));
        for pc in (0..k).step_by(kc_even) {
            let kc = kc_even.min(k - pc);
            // The first depth block applies β; the others accumulate.
            let beta_here = if pc == 0 { beta } else { T::ONE };
            if whole * nr < nc {
                // SAFETY: the block lies inside B (rows pc..pc+kc, columns jc+whole·nr..jc+nc).
                unsafe { pack::pack_b(pb, b, pc, kc, jc + whole * nr, nc - whole * nr, nr) };
            }
            let pb: &[T] = pb;
            let b_panel = |jp: usize| -> (&[T], BSteps) {
                if jp < whole {
                    let at = BSteps {
                        step: b.rs as usize,
                        col: b.cs as usize,
                    };
                    // SAFETY: columns jc+jp·nr..+nr, rows pc..pc+kc lie inside B (the panel
                    // is whole), and the strides are not negative.
                    let panel = unsafe {
                        core::slice::from_raw_parts(
                            b.ptr
                                .offset(pc as isize * b.rs + (jc + jp * nr) as isize * b.cs),
                            at.len(kc, nr),
                        )
                    };
                    (panel, at)
                } else {
                    let q = jp - whole;
                    (&pb[q * kc * nr..(q + 1) * kc * nr], packed)
                }
            };
            // Rows of A per block: all of them when read in place.
            let block = if place.a { m } else { MC };
            for ic in (0..m).step_by(block) {
                let mc = block.min(m - ic);
                if !place.a {
                    // SAFETY: the block lies inside A (rows ic..ic+mc, columns pc..pc+kc).
                    unsafe { pack::pack_a(pa, a, ic, mc, pc, kc, mr) };
                }
                let a_panel = |ip: usize| -> (&[T], usize) {
                    if place.a {
                        let i0 = ic + ip * mr;
                        // SAFETY: rows i0..i0+MR of columns pc..pc+kc lie inside A (m is a
                        // multiple of MR), the last of them (kc−1)·cs + MR − 1 past the
                        // first.
                        let panel = unsafe {
                            core::slice::from_raw_parts(
                                a.ptr.offset(i0 as isize + pc as isize * a.cs),
                                (kc - 1) * a.cs as usize + mr,
                            )
                        };
                        (panel, a.cs as usize)
                    } else {
                        (&pa[ip * kc * mr..(ip + 1) * kc * mr], mr)
                    }
                };
                let tile_at = |ip: usize, jp: usize| {
                    let (i0, j0) = (ic + ip * mr, jc + jp * nr);
                    let (rows, cols) = (mr.min(m - i0), nr.min(n - j0));
                    let (a_panel, a_step) = a_panel(ip);
                    let (b_panel, b_at) = b_panel(jp);
                    match &into {
                        Some(into) if rows == mr && cols == nr => {
                            // SAFETY: the full tile at (i0, j0) lies inside C, whose row
                            // stride is 1; C aliases neither A nor B.
                            let at = unsafe { c.ptr.offset(i0 as isize + j0 as isize * c.cs) };
                            let ldc = c.cs as usize;
                            into(
                                kc, a_panel, a_step, b_panel, b_at, at, ldc, alpha, beta_here,
                            );
                        }
                        _ => {
                            let t = tile(kc, a_panel, a_step, b_panel, b_at);
                            // SAFETY: rows i0..i0+rows and columns j0..j0+cols lie inside C.
                            unsafe { write_tile(&t, c, i0, rows, j0, cols, alpha, beta_here) };
                        }
                    }
                };
                let (a_panels, b_panels) = (mc.div_ceil(mr), nc.div_ceil(nr));
                // The A micro-panel (MR × kc) is read by every B micro-panel of the block in
                // turn. (The other order, each B panel against every A panel of the block,
                // measured no faster in a W1 step.)
                for ip in 0..a_panels {
                    for jp in 0..b_panels {
                        tile_at(ip, jp);
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
