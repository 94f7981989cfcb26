//! Loops of the layers' own (not products) compiled for the CPU's vector instructions:
//! the library is built for baseline x86-64, so without this a loop such as im2col's
//! uses 16-byte SSE moves, whatever the CPU has. (Pooling's backward pass measured the
//! same either way, so it stays plain.)

/// Defines `$name`, which runs the `#[inline(always)]` method `$method` of `$ty` compiled
/// for AVX2 and FMA when the CPU has them (as `nn_math::simd` reports, so that
/// `NN_SIMD=portable` tests the plain build), else as it is.
macro_rules! vectorized {
    ($(#[$doc:meta])* fn $name:ident<T>(&$ty:ty, $($arg:ident: $at:ty),*) => $method:ident) => {
        $(#[$doc])*
        fn $name<T: nn_math::Real>(this: &$ty, $($arg: $at),*) {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2<T: nn_math::Real>(this: &$ty, $($arg: $at),*) {
                this.$method($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if nn_math::simd() != nn_math::Simd::Portable {
                // SAFETY: the CPU has AVX2 and FMA (`simd` never reports what it lacks,
                // and AVX-512 machines have both).
                return unsafe { avx2(this, $($arg),*) };
            }
            this.$method($($arg),*)
        }
    };
}
pub(crate) use vectorized;
