//! The micro-kernel: an `MR × NR` tile of `C` from one packed panel of `A` and one of `B`.

use core::ops::{Add, Mul};

/// A tile of `C`, `NR` columns of `MR` values.
pub(crate) trait Tile<T> {
    /// Column `j` of the tile.
    fn column(&self, j: usize) -> &[T];
}

impl<T, const MR: usize, const NR: usize> Tile<T> for [[T; MR]; NR] {
    #[inline]
    fn column(&self, j: usize) -> &[T] {
        &self[j]
    }
}

/// A micro-kernel: `kc` packed steps of an `A` panel and a `B` panel into a tile.
pub(crate) type Kernel<T> = fn(usize, &[T], &[T]) -> <T as KernelScalar>::Tile;

/// A micro-kernel that writes a full tile straight into `C` (unit row stride, column
/// stride `ldc`): `C ← α·tile + β·C`. Unsafe: the caller guarantees the block.
pub(crate) type KernelInto<T> = unsafe fn(usize, &[T], &[T], *mut T, usize, T, T);

/// The two forms of a micro-kernel that reads `A` in place: step `p`'s `MR` values at
/// `a[p·a_step..]` (arguments: `kc`, `a`, `a_step`, `b`, then as [`KernelInto`]).
pub(crate) type StridedKernels<T> = (
    fn(usize, &[T], usize, &[T]) -> <T as KernelScalar>::Tile,
    unsafe fn(usize, &[T], usize, &[T], *mut T, usize, T, T),
);

/// The two scalar types the kernel is built for.
pub(crate) trait KernelScalar:
    Copy + PartialEq + Add<Output = Self> + Mul<Output = Self> + 'static
{
    /// Rows of a micro-tile: one 256-bit register of values.
    const MR: usize;
    /// Columns of a micro-tile.
    const NR: usize;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// The tile type, `[[Self; MR]; NR]`.
    type Tile: Tile<Self>;
    /// `self·b + c`, fused where the target has FMA.
    fn fma(self, b: Self, c: Self) -> Self;
    /// The portable kernel.
    fn kernel_portable(kc: usize, a: &[Self], b: &[Self]) -> Self::Tile;
    /// The AVX2 + FMA kernel, if this CPU has those instructions.
    fn kernel_fast() -> Option<Kernel<Self>>;
    /// A kernel that writes full tiles straight into `C`, if there is one for this type
    /// and CPU.
    fn kernel_into() -> Option<KernelInto<Self>>;
    /// Kernels that read a column-major `A` in place, if there are for this type and CPU.
    fn kernels_strided() -> Option<StridedKernels<Self>>;
}

/// `Σ_p a_p ⊗ b_p` over `kc` packed steps: `a` holds `kc` groups of `MR`, `b` of `NR`.
/// Written with fixed-size arrays so that the compiler keeps the tile in registers and
/// vectorizes the `MR` loop.
#[inline(always)]
fn tile_product<T: KernelScalar, const MR: usize, const NR: usize, const FUSED: bool>(
    kc: usize,
    a: &[T],
    b: &[T],
) -> [[T; MR]; NR] {
    let mut acc = [[T::ZERO; MR]; NR];
    // Slicing both panels to exactly kc steps lets the zip run on one counter.
    let (a, b) = (&a[..kc * MR], &b[..kc * NR]);
    for (ap, bp) in a.chunks_exact(2 * MR).zip(b.chunks_exact(2 * NR)) {
        // Two steps per iteration halve the loop overhead.
        step::<T, MR, NR, FUSED>(&mut acc, &ap[..MR], &bp[..NR]);
        step::<T, MR, NR, FUSED>(&mut acc, &ap[MR..], &bp[NR..]);
    }
    if kc % 2 == 1 {
        step::<T, MR, NR, FUSED>(&mut acc, &a[(kc - 1) * MR..], &b[(kc - 1) * NR..]);
    }
    acc
}

/// One rank-1 update of the tile: `acc[j][i] += a[i]·b[j]`.
#[inline(always)]
fn step<T: KernelScalar, const MR: usize, const NR: usize, const FUSED: bool>(
    acc: &mut [[T; MR]; NR],
    a: &[T],
    b: &[T],
) {
    let a: &[T; MR] = a.try_into().expect("a packed step holds MR values");
    let b: &[T; NR] = b.try_into().expect("a packed step holds NR values");
    for j in 0..NR {
        let bj = b[j];
        for i in 0..MR {
            acc[j][i] = if FUSED {
                a[i].fma(bj, acc[j][i])
            } else {
                a[i] * bj + acc[j][i]
            };
        }
    }
}

macro_rules! kernel_scalar {
    ($t:ty, $mr:expr, $nr:expr, $fast:path, $into:expr, $wide:expr, $wide_into:expr, $strided:expr, $wide_strided:expr) => {
        impl KernelScalar for $t {
            const MR: usize = $mr;
            const NR: usize = $nr;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            type Tile = [[$t; $mr]; $nr];

            #[inline(always)]
            fn fma(self, b: Self, c: Self) -> Self {
                self.mul_add(b, c)
            }

            fn kernel_portable(kc: usize, a: &[Self], b: &[Self]) -> Self::Tile {
                tile_product::<$t, $mr, $nr, false>(kc, a, b)
            }

            fn kernel_fast() -> Option<Kernel<Self>> {
                #[cfg(target_arch = "x86_64")]
                {
                    if let Some(k) = $wide.filter(|_| crate::simd::avx512()) {
                        return Some(k);
                    }
                    if crate::simd::avx2() {
                        // SAFETY: the CPU has the features the function is compiled for.
                        return Some(|kc, a, b| unsafe { $fast(kc, a, $mr, b) });
                    }
                }
                None
            }

            fn kernel_into() -> Option<KernelInto<Self>> {
                #[cfg(target_arch = "x86_64")]
                {
                    if let Some(k) = $wide_into.filter(|_| crate::simd::avx512()) {
                        return Some(k);
                    }
                    if crate::simd::avx2() {
                        return $into;
                    }
                }
                None
            }

            fn kernels_strided() -> Option<StridedKernels<Self>> {
                #[cfg(target_arch = "x86_64")]
                {
                    if let Some(k) = $wide_strided.filter(|_| crate::simd::avx512()) {
                        return Some(k);
                    }
                    if crate::simd::avx2() {
                        return $strided;
                    }
                }
                None
            }
        }
    };
}

/// The auto-vectorized AVX2 + FMA kernel for f64 (8×4: eight accumulator registers), on
/// packed panels (`a_step` is always 8).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn kernel_avx2_f64(kc: usize, a: &[f64], a_step: usize, b: &[f64]) -> [[f64; 8]; 4] {
    debug_assert_eq!(a_step, 8);
    tile_product::<f64, 8, 4, true>(kc, a, b)
}

// f32: the hand-written 16×6 kernels of `x86.rs` (their MR and NR are 16 and 6).
kernel_scalar!(
    f32,
    16,
    6,
    super::x86::kernel_16x6,
    // SAFETY (of the call the pointer stands for): the CPU has AVX2 and FMA, and the
    // caller of a `KernelInto` guarantees the block of C.
    Some(|kc, a, b, c, ldc, alpha, beta| unsafe {
        super::x86::kernel_16x6_into(kc, a, 16, b, c, ldc, alpha, beta)
    }),
    // AVX-512, where the CPU has it (same safety arguments).
    Some::<Kernel<f32>>(|kc, a, b| unsafe { super::x86::kernel_16x6_avx512(kc, a, 16, b) }),
    Some::<KernelInto<f32>>(|kc, a, b, c, ldc, alpha, beta| unsafe {
        super::x86::kernel_16x6_avx512_into(kc, a, 16, b, c, ldc, alpha, beta)
    }),
    // The same kernels reading A in place (same safety arguments).
    Some::<StridedKernels<f32>>((
        |kc, a, s, b| unsafe { super::x86::kernel_16x6(kc, a, s, b) },
        |kc, a, s, b, c, ldc, alpha, beta| unsafe {
            super::x86::kernel_16x6_into(kc, a, s, b, c, ldc, alpha, beta)
        },
    )),
    Some::<StridedKernels<f32>>((
        |kc, a, s, b| unsafe { super::x86::kernel_16x6_avx512(kc, a, s, b) },
        |kc, a, s, b, c, ldc, alpha, beta| unsafe {
            super::x86::kernel_16x6_avx512_into(kc, a, s, b, c, ldc, alpha, beta)
        },
    ))
);
kernel_scalar!(
    f64,
    8,
    4,
    kernel_avx2_f64,
    None,
    None::<Kernel<f64>>,
    None::<KernelInto<f64>>,
    None::<StridedKernels<f64>>,
    None::<StridedKernels<f64>>
);

/// The direct-write kernel, where there is one.
pub(super) fn select_into<T: KernelScalar>() -> Option<KernelInto<T>> {
    T::kernel_into()
}

/// The best kernel this CPU runs.
pub(super) fn select<T: KernelScalar>() -> Kernel<T> {
    T::kernel_fast().unwrap_or(T::kernel_portable)
}
