//! Column-major buffers that the parts of a [`crate::Team`] share, each part reading or
//! writing its own block of rows (neurons).
//!
//! In a column-major `n × B` matrix a block of rows is not contiguous (it is one run per
//! column), so two parts' blocks interleave in memory and cannot be handed out as two
//! `&mut` slices. A [`Rows`] keeps the buffer as a raw pointer instead and hands out views
//! of row blocks; the caller promises that blocks written at the same time do not overlap
//! and that nobody reads a block while another part writes it. The training step keeps
//! that promise by giving part `t` the rows [`Rows::part`]`(t, p)` of every matrix it
//! writes, and by separating a matrix's writes from other parts' reads of it by
//! a join.

use std::marker::PhantomData;
use std::ops::Range;

use nn_math::nalgebra::{DMatrixViewMut, Dyn, U1, ViewStorageMut};

use crate::aligned::LINE;
use crate::team::part_rows;

/// An `rows × cols` column-major buffer, borrowed mutably for `'a`, shared by the parts
/// of a fork.
pub(crate) struct Rows<'a, T> {
    ptr: *mut T,
    rows: usize,
    cols: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

impl<T> Clone for Rows<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Rows<'_, T> {}

// SAFETY: a `Rows` is a `&mut [T]` whose accesses the callers of its unsafe methods keep
// disjoint between threads; sending or sharing it is as safe as sending `&mut [T]`.
unsafe impl<T: Send> Send for Rows<'_, T> {}
// SAFETY: as above; every access goes through an `unsafe` method whose contract excludes
// data races.
unsafe impl<T: Send> Sync for Rows<'_, T> {}

impl<'a, T> Rows<'a, T> {
    /// The first `rows · cols` elements of `buf`, as a `rows × cols` matrix.
    ///
    /// # Panics
    /// If `buf` is shorter (a bug of the caller: buffers are sized first).
    pub(crate) fn new(buf: &'a mut [T], rows: usize, cols: usize) -> Self {
        assert!(buf.len() >= rows * cols, "buffer too short for its shape");
        Self {
            ptr: buf.as_mut_ptr(),
            rows,
            cols,
            _borrow: PhantomData,
        }
    }

    /// Part `t` of `p` of the rows, as one or two ranges (the second often empty), about
    /// `rows/p` rows in all, cut where no cache line is shared between parts.
    ///
    /// When a column is a whole number of 64-byte lines but the buffer does not start on a
    /// line, one line of every column holds the last rows of that column and the first
    /// rows of the next. The parts are therefore counted from the first row that starts
    /// a line, round the column, with cuts on line starts: the last part wraps round to
    /// take the first rows too, and two parts never write the same line (false sharing
    /// would make the line bounce between the cores' caches on every write). Otherwise
    /// the rows [`part_rows`] gives. Depends only on `t`, `p`, the shape and the buffer's
    /// address; the parts cover every row once.
    pub(crate) fn part(&self, t: usize, p: usize) -> [Range<usize>; 2] {
        let (n, size) = (self.rows, size_of::<T>());
        if size == 0 || LINE % size != 0 || (n * size) % LINE != 0 {
            return [part_rows(n, t, p), 0..0];
        }
        let per_line = LINE / size;
        // The first row whose element starts a line (the same row in every column).
        let first = (self.ptr as usize).wrapping_neg() % LINE / size % n;
        // Cuts on multiples of a line, counted from `first`.
        let cut = |i: usize| (i * n / p + per_line / 2) / per_line * per_line;
        let (a, b) = (cut(t), if t + 1 == p { n } else { cut(t + 1) });
        let (a, b) = (a.min(n) + first, b.min(n) + first);
        if b <= n {
            [a..b, 0..0]
        } else if a >= n {
            [a - n..b - n, 0..0]
        } else {
            [a..n, 0..b - n]
        }
    }

    /// Rows `r` of every column, as a mutable view.
    ///
    /// # Safety
    /// While the view lives, no other view or segment of these rows may exist.
    pub(crate) unsafe fn block_mut(&self, r: Range<usize>) -> DMatrixViewMut<'a, T> {
        debug_assert!(r.start <= r.end && r.end <= self.rows);
        // SAFETY: the elements `(i, c)` for `i ∈ r`, `c < cols` lie inside the buffer (at
        // `i + c·rows`); exclusivity is the caller's promise.
        unsafe {
            let storage = ViewStorageMut::from_raw_parts(
                self.ptr.add(r.start),
                (Dyn(r.len()), Dyn(self.cols)),
                (U1, Dyn(self.rows)),
            );
            DMatrixViewMut::from_data(storage)
        }
    }

    /// Rows `r` of column `c`: one contiguous run, mutably.
    ///
    /// # Safety
    /// As [`block_mut`](Rows::block_mut), for these elements.
    pub(crate) unsafe fn segment_mut(&self, c: usize, r: Range<usize>) -> &'a mut [T] {
        debug_assert!(c < self.cols && r.start <= r.end && r.end <= self.rows);
        // SAFETY: `c·rows + r` lies inside the buffer; exclusivity is the caller's promise.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(c * self.rows + r.start), r.len()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_rows_once_and_share_no_line() {
        for offset in 0..16 {
            for rows in [1, 5, 10, 16, 64, 100, 128, 784] {
                let cols = 3;
                let mut buf = vec![0f32; rows * cols + 32];
                let start = buf.as_ptr().align_offset(LINE) + offset;
                let m = Rows::new(&mut buf[start..], rows, cols);
                for p in 1..5 {
                    let mut all: Vec<usize> = (0..p).flat_map(|t| m.part(t, p)).flatten().collect();
                    all.sort_unstable();
                    assert_eq!(all, (0..rows).collect::<Vec<_>>(), "{rows} rows, {p} parts");
                    if rows % 16 == 0 {
                        // The cache line of every element, per part: no line in two parts.
                        let lines = |t: usize| -> std::collections::BTreeSet<usize> {
                            m.part(t, p)
                                .into_iter()
                                .flatten()
                                .flat_map(|r| (0..cols).map(move |c| r + c * rows))
                                .map(|i| (m.ptr as usize + i * 4) / LINE)
                                .collect()
                        };
                        for t in 0..p {
                            for u in t + 1..p {
                                assert!(
                                    lines(t).is_disjoint(&lines(u)),
                                    "{rows} rows, offset {offset}, parts {t} and {u} of {p}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
