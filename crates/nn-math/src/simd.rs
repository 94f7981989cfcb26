//! Which build of the products' kernels runs: the widest the CPU has (AVX-512, else
//! AVX2 + FMA, else portable code), or a narrower one asked for through the environment
//! variable `NN_SIMD` (`portable`, `avx2` or `avx512`), read once per process. A request
//! never enables what the CPU lacks. This is how one machine tests every kernel path:
//! `cargo xtask test` runs the product tests again with `NN_SIMD=avx2` and
//! `NN_SIMD=portable`.

use std::sync::atomic::{AtomicU8, Ordering};

/// A build of the kernels, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Simd {
    /// Plain Rust, whatever vectorization the compiler finds for the target.
    Portable,
    /// AVX2 with FMA (x86-64).
    Avx2,
    /// AVX-512F (x86-64).
    Avx512,
}

impl Simd {
    /// The value of `NN_SIMD` that names this build.
    pub fn name(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        }
    }

    /// The build `name` names (`portable`, `avx2`, `avx512`), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Portable, Self::Avx2, Self::Avx512]
            .into_iter()
            .find(|s| s.name() == name.trim())
    }
}

/// The widest build this CPU runs.
pub fn detected() -> Simd {
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        if avx2 && std::is_x86_feature_detected!("avx512f") {
            return Simd::Avx512;
        }
        if avx2 {
            return Simd::Avx2;
        }
    }
    Simd::Portable
}

/// The build that runs: [`detected`], narrowed to `NN_SIMD`'s if that names a narrower
/// one (an unknown value is ignored). Decided on the first call, then fixed; after that
/// one relaxed atomic load.
#[inline]
pub fn simd() -> Simd {
    const UNSET: u8 = u8::MAX;
    static LEVEL: AtomicU8 = AtomicU8::new(UNSET);
    let level = match LEVEL.load(Ordering::Relaxed) {
        UNSET => {
            let asked = std::env::var("NN_SIMD")
                .ok()
                .and_then(|v| Simd::from_name(&v));
            let level = asked.map_or(detected(), |a| a.min(detected()));
            LEVEL.store(level as u8, Ordering::Relaxed);
            level as u8
        }
        l => l,
    };
    match level {
        2 => Simd::Avx512,
        1 => Simd::Avx2,
        _ => Simd::Portable,
    }
}

/// Whether the AVX-512 build runs.
#[inline]
pub(crate) fn avx512() -> bool {
    simd() == Simd::Avx512
}

/// Whether the AVX2 + FMA build (or a wider one) runs.
#[inline]
pub(crate) fn avx2() -> bool {
    simd() >= Simd::Avx2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_asked_for_is_the_one_that_runs() {
        let asked = std::env::var("NN_SIMD")
            .ok()
            .and_then(|v| Simd::from_name(&v));
        let want = asked.map_or(detected(), |a| a.min(detected()));
        assert_eq!(simd(), want, "NN_SIMD={asked:?}, detected {:?}", detected());
        for s in [Simd::Portable, Simd::Avx2, Simd::Avx512] {
            assert_eq!(Simd::from_name(s.name()), Some(s));
        }
        assert_eq!(Simd::from_name("sse9"), None);
    }
}
