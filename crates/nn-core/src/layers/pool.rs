//! Max and average pooling (guide §12): each channel's windows reduced to one value.

use nn_math::{Matrix, MatrixView, MatrixViewMut, Real};
use serde_json::json;

use super::image::ImageShape;
use super::window::Window;
use crate::{CoreError, Layer, ParamSpec, Saved};

/// How a pooling window is reduced to one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pooling {
    /// The largest value of the window (PyTorch's `nn.MaxPool2d`).
    Max,
    /// The mean of the window (PyTorch's `nn.AvgPool2d`).
    Average,
}

/// A pooling layer without parameters: each channel of the input image is covered by
/// `kh × kw` windows moved by `stride`, and each window gives one output value, its
/// maximum or mean (guide eqs. 4.2.8–4.2.9). No padding; windows that would overhang
/// the bottom or right edge are left out, as PyTorch does by default.
///
/// ```
/// use nn_core::{ImageShape, Layer, Pool2d, Pooling};
/// use nn_math::Matrix;
///
/// let pool = Pool2d::new(ImageShape::new(1, 4, 4)?, Pooling::Max, 2, 2)?;
/// assert_eq!(pool.output(), ImageShape::new(1, 2, 2)?);
/// let x = Matrix::from_column_slice(16, 1, &[
///     1.0, 2.0, 0.0, 0.0,
///     3.0, 4.0, 0.0, 9.0,
///     0.0, 0.0, 5.0, 0.0,
///     0.0, 7.0, 0.0, 6.0f64,
/// ]);
/// let mut out = Matrix::zeros(4, 1);
/// pool.forward(x.as_view(), out.as_view_mut(), &mut [])?;
/// assert_eq!(out.as_slice(), &[4.0, 9.0, 7.0, 6.0]);
/// # Ok::<(), nn_core::CoreError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool2d {
    window: Window,
    pooling: Pooling,
}

impl Pool2d {
    /// Square `size × size` windows moved by `stride` over images of shape `input`.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] naming the sizes if the window is larger than the
    /// input, or the window or stride is 0.
    pub fn new(
        input: ImageShape,
        pooling: Pooling,
        size: usize,
        stride: usize,
    ) -> Result<Self, CoreError> {
        Self::rect(input, pooling, (size, size), (stride, stride))
    }

    /// Windows of `kernel = (kh, kw)` moved by `stride = (sh, sw)`.
    ///
    /// # Errors
    /// As [`Pool2d::new`].
    pub fn rect(
        input: ImageShape,
        pooling: Pooling,
        kernel: (usize, usize),
        stride: (usize, usize),
    ) -> Result<Self, CoreError> {
        let what = match pooling {
            Pooling::Max => "max_pool2d",
            Pooling::Average => "avg_pool2d",
        };
        let window = Window::new(what, input, kernel, stride, (0, 0))?;
        Ok(Self { window, pooling })
    }

    /// The input image shape.
    pub fn input(&self) -> ImageShape {
        self.window.input
    }

    /// The output image shape `C × Ho × Wo`.
    pub fn output(&self) -> ImageShape {
        ImageShape {
            channels: self.window.input.channels,
            height: self.window.out.0,
            width: self.window.out.1,
        }
    }

    /// Max or average.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// Window rows and columns.
    pub fn kernel(&self) -> (usize, usize) {
        self.window.kernel
    }

    /// Steps between windows.
    pub fn stride(&self) -> (usize, usize) {
        self.window.stride
    }

    /// Calls `f(o, top_left)` for each output value of one example: its row `o` in the
    /// output column and the input row of its window's top-left value.
    #[inline]
    fn each_window(&self, mut f: impl FnMut(usize, usize)) {
        let (input, (sh, sw)) = (self.window.input, self.window.stride);
        let (ho, wo) = self.window.out;
        let mut o = 0;
        for c in 0..input.channels {
            for oy in 0..ho {
                let row = input.index(c, oy * sh, 0);
                for ox in 0..wo {
                    f(o, row + ox * sw);
                    o += 1;
                }
            }
        }
    }

    /// The row of the first largest value of the window whose top-left value is at row
    /// `top_left` of `x` (ties go to the first, as in PyTorch). NaN is never larger, so
    /// a NaN in the window only wins when first. Selects without branches: on data, a
    /// branch per comparison is mispredicted half the time.
    #[inline]
    fn argmax<T: Real>(&self, x: &[T], top_left: usize) -> usize {
        let ((kh, kw), w) = (self.window.kernel, self.window.input.width);
        let (mut best, mut max) = (top_left, x[top_left]);
        for i in 0..kh {
            let start = top_left + i * w;
            for (j, &v) in x[start..start + kw].iter().enumerate() {
                let larger = v > max;
                best = if larger { start + j } else { best };
                max = if larger { v } else { max };
            }
        }
        best
    }

    /// The largest value of the window whose top-left value is at row `top_left` of `x`:
    /// the value at [`argmax`](Pool2d::argmax).
    #[inline]
    fn window_max<T: Real>(&self, x: &[T], top_left: usize) -> T {
        let ((kh, kw), w) = (self.window.kernel, self.window.input.width);
        (0..kh).fold(x[top_left], |m, i| {
            let start = top_left + i * w;
            x[start..start + kw]
                .iter()
                .fold(m, |m, &v| if v > m { v } else { m })
        })
    }

    /// Whether the windows are 2×2 and do not overlap (stride 2): the common case,
    /// which [`max_2x2`](Pool2d::max_2x2) runs row by row.
    fn is_max_2x2(&self) -> bool {
        self.window.kernel == (2, 2) && self.window.stride == (2, 2)
    }

    /// Calls `f(rows, out)` for each output row of one example: the two input rows under
    /// it (each `2·Wo` values) and the output row.
    #[inline]
    fn rows_2x2<'x, T: Real>(
        &self,
        x: &'x [T],
        out: &mut [T],
        mut f: impl FnMut(&'x [T], &'x [T], &mut [T]),
    ) {
        let (input, (ho, wo)) = (self.window.input, self.window.out);
        for (o, out_row) in out.chunks_exact_mut(wo).enumerate() {
            let (c, oy) = (o / ho, o % ho);
            let top = input.index(c, 2 * oy, 0);
            let w = input.width;
            f(
                &x[top..top + 2 * wo],
                &x[top + w..top + w + 2 * wo],
                out_row,
            );
        }
    }

    /// Eq. 4.2.8 for 2×2 windows of stride 2, the same comparisons in the same order as
    /// [`argmax`](Pool2d::argmax), without branches.
    fn max_2x2<T: Real>(&self, x: &[T], out: &mut [T]) {
        self.rows_2x2(x, out, |r0, r1, out| {
            for ((o, a), b) in out
                .iter_mut()
                .zip(r0.chunks_exact(2))
                .zip(r1.chunks_exact(2))
            {
                let m = if a[1] > a[0] { a[1] } else { a[0] };
                let m = if b[0] > m { b[0] } else { m };
                *o = if b[1] > m { b[1] } else { m };
            }
        });
    }

    /// The backward pass of [`max_2x2`](Pool2d::max_2x2): each window's `Δ` goes to its
    /// first value equal to the window's maximum `m` (the forward pass's output, so the
    /// same comparisons as [`argmax`](Pool2d::argmax)), zeros to the others (and to rows
    /// or columns no window covers). Factors of 0 and 1, not branches, which would be
    /// mispredicted half the time.
    fn max_2x2_backward<T: Real>(&self, x: &[T], m: &[T], d: &[T], dx: &mut [T]) {
        let (input, (ho, wo)) = (self.window.input, self.window.out);
        let w = input.width;
        if input.height != 2 * ho || w != 2 * wo {
            dx.fill(T::zero());
        }
        let (zero, one) = (T::zero(), T::one());
        for (o, (d_row, m_row)) in d.chunks_exact(wo).zip(m.chunks_exact(wo)).enumerate() {
            let (c, oy) = (o / ho, o % ho);
            let top = input.index(c, 2 * oy, 0);
            let (x0, x1) = (&x[top..top + 2 * wo], &x[top + w..top + w + 2 * wo]);
            let (dx0, dx1) = dx[top..top + w + 2 * wo].split_at_mut(w);
            let windows = x0.chunks_exact(2).zip(x1.chunks_exact(2));
            let grads = dx0[..2 * wo]
                .chunks_exact_mut(2)
                .zip(dx1.chunks_exact_mut(2));
            for (((a, b), (ga, gb)), (&g, &m)) in windows.zip(grads).zip(d_row.iter().zip(m_row)) {
                // 0/1 factors of the first value equal to m (exact in floating point);
                // m is NaN only if the first value is (NaN is never larger).
                let is = |v: T| if v == m { one } else { zero };
                #[allow(clippy::eq_op)]
                let f0 = if a[0] == m || m != m { one } else { zero };
                let f1 = is(a[1]) * (one - f0);
                let f2 = is(b[0]) * (one - f0 - f1);
                let f3 = one - f0 - f1 - f2;
                ga[0] = g * f0;
                ga[1] = g * f1;
                gb[0] = g * f2;
                gb[1] = g * f3;
            }
        }
    }

    /// The sum of the window whose top-left value is at row `top_left` of `x`.
    #[inline]
    fn window_sum<T: Real>(&self, x: &[T], top_left: usize) -> T {
        let ((kh, kw), w) = (self.window.kernel, self.window.input.width);
        (0..kh).fold(T::zero(), |s, i| {
            let start = top_left + i * w;
            x[start..start + kw].iter().fold(s, |s, &v| s + v)
        })
    }
}

impl<T: Real> Layer<T> for Pool2d {
    fn kind(&self) -> &str {
        match self.pooling {
            Pooling::Max => "max_pool2d",
            Pooling::Average => "avg_pool2d",
        }
    }

    fn n_inputs(&self) -> usize {
        self.window.input.len()
    }

    fn n_outputs(&self) -> usize {
        self.output().len()
    }

    /// Eq. 4.2.8 (max) or 4.2.9 (mean) for every window.
    fn forward(
        &self,
        input: MatrixView<'_, T>,
        mut output: MatrixViewMut<'_, T>,
        _: &mut [T],
    ) -> Result<(), CoreError> {
        let inv_area = T::one() / T::lit(self.window.area() as f64);
        for j in 0..input.ncols() {
            let x = input.column(j);
            let x = x.as_slice();
            let mut out = output.column_mut(j);
            let out = out.as_mut_slice();
            match self.pooling {
                Pooling::Max if self.is_max_2x2() => self.max_2x2(x, out),
                Pooling::Max => self.each_window(|o, at| out[o] = self.window_max(x, at)),
                Pooling::Average => {
                    self.each_window(|o, at| out[o] = self.window_sum(x, at) * inv_area)
                }
            }
        }
        Ok(())
    }

    /// No parameters; `∂C/∂x` gets each output's `Δ` at its window's largest input
    /// (max; 2×2 windows of stride 2 find it by the saved output) or `Δ/(kh·kw)` at every
    /// input of its window (mean), added where windows overlap.
    fn backward(
        &self,
        saved: Saved<'_, T>,
        d_output: MatrixViewMut<'_, T>,
        _scale: T,
        _grads: &mut [Matrix<T>],
        d_input: Option<MatrixViewMut<'_, T>>,
    ) -> Result<(), CoreError> {
        let Some(mut d_input) = d_input else {
            return Ok(());
        };
        let inv_area = T::one() / T::lit(self.window.area() as f64);
        for j in 0..d_output.ncols() {
            let x = saved.input.column(j);
            let x = x.as_slice();
            let m = saved.output.column(j);
            let m = m.as_slice();
            let d = d_output.column(j);
            let d = d.as_slice();
            let mut dx = d_input.column_mut(j);
            let dx = dx.as_mut_slice();
            if !(self.pooling == Pooling::Max && self.is_max_2x2()) {
                dx.fill(T::zero());
            }
            match self.pooling {
                Pooling::Max if self.is_max_2x2() => self.max_2x2_backward(x, m, d, dx),
                Pooling::Max => self.each_window(|o, at| dx[self.argmax(x, at)] += d[o]),
                Pooling::Average => {
                    let ((kh, kw), w) = (self.window.kernel, self.window.input.width);
                    self.each_window(|o, at| {
                        let share = d[o] * inv_area;
                        for i in 0..kh {
                            for v in &mut dx[at + i * w..at + i * w + kw] {
                                *v += share;
                            }
                        }
                    })
                }
            }
        }
        Ok(())
    }

    fn visit_params(&self, _: &mut dyn FnMut(ParamSpec, &[T])) {}

    fn visit_params_mut(&mut self, _: &mut dyn FnMut(ParamSpec, &mut [T])) {}

    /// The input shape, window and stride.
    fn settings(&self) -> Result<serde_json::Value, CoreError> {
        let i = self.window.input;
        Ok(json!({
            "input": [i.channels, i.height, i.width],
            "kernel": [self.window.kernel.0, self.window.kernel.1],
            "stride": [self.window.stride.0, self.window.stride.1],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2x2_backward_sends_each_gradient_to_the_first_maximum_as_argmax_does() {
        // Values from {0, 1, 2} (and NaN): most windows tie, as after a ReLU.
        for (h, w) in [(4, 4), (5, 7), (6, 2)] {
            let input = ImageShape::new(2, h, w).unwrap();
            let pool = Pool2d::new(input, Pooling::Max, 2, 2).unwrap();
            let n = input.len();
            for seed in 0..20u64 {
                let x: Vec<f64> = (0..n as u64)
                    .map(|i| match (i * 7 + seed * 13 + i * i * seed) % 7 {
                        6 if seed % 5 == 0 => f64::NAN,
                        v => (v % 3) as f64,
                    })
                    .collect();
                let m_len = pool.output().len();
                let mut m = vec![0.0; m_len];
                pool.max_2x2(&x, &mut m);
                let d: Vec<f64> = (0..m_len).map(|o| o as f64 + 1.0).collect();
                let mut fast = vec![f64::NAN; n];
                pool.max_2x2_backward(&x, &m, &d, &mut fast);
                let mut general = vec![0.0; n];
                pool.each_window(|o, at| general[pool.argmax(&x, at)] += d[o]);
                assert_eq!(fast, general, "{h}×{w}, seed {seed}");
            }
        }
    }
}
