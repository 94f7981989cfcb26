//! Scratch buffers that start on a cache line.

use std::ops::{Deref, DerefMut};

/// The size of a cache line on the machines this library targets (x86-64, most ARM).
pub(crate) const LINE: usize = 64;

/// A growable buffer of zeros whose slice starts at a chosen offset from a [`LINE`]-byte
/// boundary (its *phase*). Two matrices of the same height and phase have their cache
/// lines start at the same rows, so [`crate::rows::Rows::part`] splits them alike: a
/// layer's `S`, `A` and `D` take the phase of its weights, and the row blocks a thread
/// writes share no line with another thread's, in all four.
pub(crate) struct Aligned<T> {
    buf: Vec<T>,
    start: usize,
    len: usize,
    phase: usize,
}

impl<T> Default for Aligned<T> {
    fn default() -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            len: 0,
            phase: 0,
        }
    }
}

impl<T: Clone> Aligned<T> {
    /// `len` copies of `fill`, starting `phase` bytes after a line boundary (if `phase`
    /// is a multiple of the element size; else anywhere).
    fn filled(len: usize, fill: T, phase: usize) -> Self {
        let size = size_of::<T>().max(1);
        let pad = (LINE / size).max(1);
        let buf = vec![fill; len + 2 * pad];
        let start = buf.as_ptr().align_offset(LINE);
        let start = if start < pad && phase % size == 0 {
            start + phase % LINE / size
        } else {
            0
        };
        Self {
            start,
            buf,
            len,
            phase,
        }
    }
}

impl<T: Clone + Default> Aligned<T> {
    /// Makes the buffer at least `len` long, at `phase` (see the type); on reallocation
    /// every element is `T::default()`, zero for numbers (callers overwrite what they
    /// read).
    pub(crate) fn grow(&mut self, len: usize, phase: usize) {
        if self.len < len || self.phase != phase {
            *self = Self::filled(len.max(self.len), T::default(), phase);
        }
    }
}

impl<T> Deref for Aligned<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.buf[self.start..self.start + self.len]
    }
}

impl<T> DerefMut for Aligned<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

impl<T: Clone> Clone for Aligned<T> {
    fn clone(&self) -> Self {
        let Some(first) = self.first() else {
            return Self::default();
        };
        let mut copy = Self::filled(self.len, first.clone(), self.phase);
        copy.clone_from_slice(self);
        copy
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Aligned<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_its_phase_and_keeps_its_length() {
        let mut a = Aligned::<f32>::default();
        for (len, phase) in [(1, 0), (7, 4), (100, 16), (1000, 60), (1000, 0)] {
            a.grow(len, phase);
            assert_eq!(a.len(), len);
            assert_eq!(a.as_ptr() as usize % LINE, phase);
            let b = a.clone();
            assert_eq!(b.as_ptr() as usize % LINE, phase);
            assert_eq!(&*a, &*b);
        }
        a.grow(10, 0);
        assert_eq!(a.len(), 1000, "never shrinks");
    }
}
