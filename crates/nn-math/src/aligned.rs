//! A fixed-length buffer that starts on a cache line.

use core::ops::{Deref, DerefMut};

/// The alignment of an [`AlignedVec`]'s first element, in bytes: one cache line, and the
/// width of an AVX-512 register.
pub const ALIGN: usize = 64;

/// A fixed-length buffer of `T` whose first element (if any) sits on a 64-byte boundary
/// ([`ALIGN`]), so that vector loads of it never straddle two cache lines.
///
/// A `Vec<T>` is aligned only as `T` requires (4 bytes for `f32`); where its storage
/// starts depends on the allocator, and a product that streams a `Vec`'s elements with
/// 64-byte loads runs up to a third slower when they straddle cache lines
/// (`docs/dev-log.md`). An `AlignedVec` over-allocates a `Vec` by up to one line and
/// starts at the first aligned element; a clone is aligned again.
///
/// ```
/// use nn_math::AlignedVec;
///
/// let mut v = AlignedVec::from_slice(&[1.0_f32, 2.0, 3.0]);
/// assert_eq!(v.as_ptr() as usize % nn_math::ALIGN, 0);
/// v[1] = 5.0;
/// assert_eq!(&*v, &[1.0, 5.0, 3.0]);
/// assert_eq!(v.clone(), v);
/// ```
pub struct AlignedVec<T> {
    buf: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Clone> AlignedVec<T> {
    /// A copy of `values`, aligned.
    pub fn from_slice(values: &[T]) -> Self {
        let Some(first) = values.first() else {
            return Self::default();
        };
        let size = core::mem::size_of::<T>().max(1);
        let pad = ALIGN.div_ceil(size);
        let mut buf: Vec<T> = Vec::with_capacity(values.len() + pad);
        // Elements to skip to reach a boundary; a type whose size does not divide the
        // alignment may never reach one, and then starts where the `Vec` does. The
        // capacity covers the skipped elements and the values, so `buf` never moves.
        let start = Some(buf.as_ptr().align_offset(ALIGN))
            .filter(|&s| s <= pad)
            .unwrap_or(0);
        buf.extend(core::iter::repeat_n(first.clone(), start));
        buf.extend_from_slice(values);
        Self {
            buf,
            start,
            len: values.len(),
        }
    }
}

impl<T: Clone + Default> AlignedVec<T> {
    /// `len` default values (zeros for numbers), aligned.
    pub fn zeroed(len: usize) -> Self {
        Self::from_slice(&vec![T::default(); len])
    }
}

impl<T> AlignedVec<T> {
    /// The elements.
    pub fn as_slice(&self) -> &[T] {
        &self.buf[self.start..self.start + self.len]
    }

    /// The elements, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

impl<T> Default for AlignedVec<T> {
    /// An empty buffer.
    fn default() -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            len: 0,
        }
    }
}

impl<T> Deref for AlignedVec<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> DerefMut for AlignedVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T: Clone> Clone for AlignedVec<T> {
    fn clone(&self) -> Self {
        Self::from_slice(self.as_slice())
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for AlignedVec<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl<T: PartialEq> PartialEq for AlignedVec<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_starts_aligned_and_keeps_its_values() {
        // (An empty buffer has no first element to align.)
        for len in 0..100 {
            let aligned = |p: *const u8| len == 0 || (p as usize).is_multiple_of(ALIGN);
            let values: Vec<f64> = (0..len).map(|i| i as f64).collect();
            let v = AlignedVec::from_slice(&values);
            assert!(aligned(v.as_ptr().cast()));
            assert_eq!(&*v, &values[..]);
            let c = v.clone();
            assert!(aligned(c.as_ptr().cast()));
            assert_eq!(c, v);
            let z = AlignedVec::<f32>::zeroed(len);
            assert!(aligned(z.as_ptr().cast()) && z.len() == len);
            assert!(z.iter().all(|&x| x == 0.0));
        }
        assert!(AlignedVec::<f32>::default().is_empty());
    }
}
