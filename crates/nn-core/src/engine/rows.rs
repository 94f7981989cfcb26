//! Column-major buffers that the parts of a fork (`crate::team`) share, each part writing its
//! own block of rows or columns.
//!
//! A training step split between threads gives thread `t` of `p` the block
//! `part_rows(n, t, p)` of each layer's inputs: the columns of `W⁽ᵏ⁾` (contiguous in
//! memory, so each thread keeps its share of the weights to itself) and the rows of
//! `A⁽ᵏ⁻¹⁾`, `S⁽ᵏ⁻¹⁾` and `D⁽ᵏ⁻¹⁾`. A block of rows of a column-major matrix is one run
//! per column, so two threads' blocks interleave and cannot be handed out as two `&mut`
//! slices. A [`Rows`] keeps the buffer as a raw pointer and hands out views of blocks;
//! the caller promises that blocks written at the same time do not overlap and that
//! nobody reads a block while another thread writes it. The training step keeps that
//! promise with the partition above and a join between phases.

use std::marker::PhantomData;
use std::ops::Range;

use nn_math::Matrix;
use nn_math::nalgebra::{DMatrixView, DMatrixViewMut, Dyn, U1, ViewStorage, ViewStorageMut};

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

    /// A matrix, whole.
    pub(crate) fn of(m: &'a mut Matrix<T>) -> Self
    where
        T: nn_math::nalgebra::Scalar,
    {
        let (rows, cols) = m.shape();
        Self::new(m.as_mut_slice(), rows, cols)
    }

    /// The same buffer, for reading only.
    pub(crate) fn read(&self) -> Cols<'a, T> {
        Cols {
            ptr: self.ptr.cast_const(),
            rows: self.rows,
            cols: self.cols,
            _borrow: PhantomData,
        }
    }

    /// Rows `r` of every column, as a mutable view.
    ///
    /// # Safety
    /// While the view lives, nobody else may read or write these elements.
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

    /// Columns `c` (one contiguous run), as a mutable view.
    ///
    /// # Safety
    /// As [`block_mut`](Rows::block_mut), for these elements.
    pub(crate) unsafe fn columns_mut(&self, c: Range<usize>) -> DMatrixViewMut<'a, T> {
        debug_assert!(c.start <= c.end && c.end <= self.cols);
        // SAFETY: columns `c` are the elements `c.start·rows .. c.end·rows` of the buffer;
        // exclusivity is the caller's promise.
        unsafe {
            let storage = ViewStorageMut::from_raw_parts(
                self.ptr.add(c.start * self.rows),
                (Dyn(self.rows), Dyn(c.len())),
                (U1, Dyn(self.rows)),
            );
            DMatrixViewMut::from_data(storage)
        }
    }

    /// Columns `c` as one contiguous run, read-only.
    ///
    /// # Safety
    /// Nobody may write these columns while the slice lives.
    pub(crate) unsafe fn column_run(&self, c: Range<usize>) -> &'a [T] {
        debug_assert!(c.start <= c.end && c.end <= self.cols);
        // SAFETY: columns `c` are the elements `c.start·rows .. c.end·rows`; no writer by
        // the caller's promise.
        unsafe {
            std::slice::from_raw_parts(self.ptr.add(c.start * self.rows), c.len() * self.rows)
        }
    }

    /// Columns `c` as one contiguous run, mutably.
    ///
    /// # Safety
    /// As [`block_mut`](Rows::block_mut), for these elements.
    pub(crate) unsafe fn column_run_mut(&self, c: Range<usize>) -> &'a mut [T] {
        debug_assert!(c.start <= c.end && c.end <= self.cols);
        // SAFETY: columns `c` are the elements `c.start·rows .. c.end·rows`; exclusivity
        // is the caller's promise.
        unsafe {
            std::slice::from_raw_parts_mut(self.ptr.add(c.start * self.rows), c.len() * self.rows)
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

/// A buffer's address and length, taken right before a fork so that its parts can
/// borrow disjoint runs of it (`engine::examples`, which keeps a table of them in the
/// workspace so that a step allocates nothing). Valid until the buffer is next resized:
/// it is taken again for every pass.
#[derive(Debug)]
pub(crate) struct RawRun<T> {
    ptr: *mut T,
    len: usize,
}

impl<T> Clone for RawRun<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for RawRun<T> {}

// SAFETY: as for `Rows`: a `RawRun` stands for a `&mut [T]` whose runs the callers of its
// unsafe methods keep disjoint between threads.
unsafe impl<T: Send> Send for RawRun<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for RawRun<T> {}

impl<T> RawRun<T> {
    /// The whole of `buf`.
    pub(crate) fn of(buf: &mut [T]) -> Self {
        Self {
            ptr: buf.as_mut_ptr(),
            len: buf.len(),
        }
    }

    /// Elements `r`, mutably.
    ///
    /// # Safety
    /// The buffer must not have been moved or resized since [`RawRun::of`], nor be used
    /// otherwise while the slice lives; nobody else may read or write these elements
    /// meanwhile.
    ///
    /// # Panics
    /// If `r` reaches past the buffer (a bug of the caller).
    pub(crate) unsafe fn run_mut<'a>(&self, r: Range<usize>) -> &'a mut [T] {
        assert!(
            r.start <= r.end && r.end <= self.len,
            "run {r:?} outside its buffer of {}",
            self.len
        );
        // SAFETY: inside the buffer (checked); exclusivity is the caller's promise.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(r.start), r.len()) }
    }

    /// Elements `r`, read-only.
    ///
    /// # Safety
    /// As [`run_mut`](RawRun::run_mut), except that others may read these elements too.
    pub(crate) unsafe fn run<'a>(&self, r: Range<usize>) -> &'a [T] {
        assert!(
            r.start <= r.end && r.end <= self.len,
            "run {r:?} outside its buffer of {}",
            self.len
        );
        // SAFETY: as above.
        unsafe { std::slice::from_raw_parts(self.ptr.add(r.start), r.len()) }
    }
}

/// A read-only `rows × cols` column-major matrix shared by the parts of a fork, some of
/// whose columns another part may be updating (its own, never these).
pub(crate) struct Cols<'a, T> {
    ptr: *const T,
    rows: usize,
    cols: usize,
    _borrow: PhantomData<&'a [T]>,
}

impl<T> Clone for Cols<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Cols<'_, T> {}

// SAFETY: as for `Rows`: a shared slice whose readers the callers keep apart from writers.
unsafe impl<T: Sync> Send for Cols<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for Cols<'_, T> {}

impl<'a, T> Cols<'a, T> {
    /// The first `rows · cols` elements of `buf`, which nobody writes while this lives,
    /// as a `rows × cols` matrix.
    ///
    /// # Panics
    /// If `buf` is shorter (a bug of the caller).
    pub(crate) fn new(buf: &'a [T], rows: usize, cols: usize) -> Self {
        assert!(buf.len() >= rows * cols, "buffer too short for its shape");
        Self {
            ptr: buf.as_ptr(),
            rows,
            cols,
            _borrow: PhantomData,
        }
    }
}

impl<'a, T> Cols<'a, T> {
    /// The number of rows.
    pub(crate) fn nrows(&self) -> usize {
        self.rows
    }

    /// The number of columns.
    pub(crate) fn ncols(&self) -> usize {
        self.cols
    }

    /// Rows `r` of every column, read-only.
    ///
    /// # Safety
    /// Nobody may write these elements while the view lives.
    pub(crate) unsafe fn block(&self, r: Range<usize>) -> DMatrixView<'a, T> {
        debug_assert!(r.start <= r.end && r.end <= self.rows);
        // SAFETY: in bounds as in `Rows::block_mut`; no writer by the caller's promise.
        unsafe {
            let storage = ViewStorage::from_raw_parts(
                self.ptr.add(r.start),
                (Dyn(r.len()), Dyn(self.cols)),
                (U1, Dyn(self.rows)),
            );
            DMatrixView::from_data(storage)
        }
    }

    /// Columns `c`, read-only.
    ///
    /// # Safety
    /// Nobody may write these columns while the view lives.
    pub(crate) unsafe fn columns(&self, c: Range<usize>) -> DMatrixView<'a, T> {
        debug_assert!(c.start <= c.end && c.end <= self.cols);
        // SAFETY: in bounds as in `Rows::columns_mut`; no writer by the caller's promise.
        unsafe {
            let storage = ViewStorage::from_raw_parts(
                self.ptr.add(c.start * self.rows),
                (Dyn(self.rows), Dyn(c.len())),
                (U1, Dyn(self.rows)),
            );
            DMatrixView::from_data(storage)
        }
    }
}
