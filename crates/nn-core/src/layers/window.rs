//! A sliding window over an image (a convolution's kernel, a pooling window), and the
//! "image to columns" lowering of a convolution to a matrix product (guide §12).

use nn_math::Real;

use super::image::{ImageShape, slide};
use super::vectorized::vectorized;
use crate::CoreError;

/// The values [`Window::im2col`] copies at a time with a horizontal stride of 1.
const BLOCK: usize = 8;

vectorized!(
    /// [`Window::im2col_padded`], vectorized.
    fn im2col_padded<T>(&Window, x: &[T], buf: &mut [T]) => im2col_padded
);

/// A `kh × kw` window moved over an image by `stride` rows and columns, the image padded
/// with `padding` zeros on every side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    /// The input image.
    pub input: ImageShape,
    /// Window rows and columns `(kh, kw)`.
    pub kernel: (usize, usize),
    /// Steps `(sh, sw)` between windows.
    pub stride: (usize, usize),
    /// Zeros `(ph, pw)` added above and below, left and right.
    pub padding: (usize, usize),
    /// Output rows and columns `(Ho, Wo)`: `⌊(H + 2ph − kh)/sh⌋ + 1` and likewise.
    pub out: (usize, usize),
}

impl Window {
    /// The window's geometry, or an error naming `what` and the sizes if it does not fit.
    pub fn new(
        what: &str,
        input: ImageShape,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Self, CoreError> {
        if stride.0 == 0 || stride.1 == 0 {
            return Err(CoreError::Architecture(format!(
                "{what}: stride {}×{} must be at least 1×1",
                stride.0, stride.1
            )));
        }
        let ho = slide(input.height, kernel.0, stride.0, padding.0);
        let wo = slide(input.width, kernel.1, stride.1, padding.1);
        let (Some(ho), Some(wo)) = (ho, wo) else {
            return Err(CoreError::Architecture(format!(
                "{what}: a {}×{} window does not fit a {}×{} input padded by {}×{}",
                kernel.0, kernel.1, input.height, input.width, padding.0, padding.1
            )));
        };
        Ok(Self {
            input,
            kernel,
            stride,
            padding,
            out: (ho, wo),
        })
    }

    /// Output positions `Ho·Wo` of one plane.
    pub fn positions(&self) -> usize {
        self.out.0 * self.out.1
    }

    /// Window values per input channel, `kh·kw`.
    pub fn area(&self) -> usize {
        self.kernel.0 * self.kernel.1
    }

    /// For kernel column `kj`: the output columns `lo..hi` whose input column
    /// `ox·sw + kj − pw` lies inside the image, and the input column of `lo` (the same for
    /// every row, so computed once per kernel column).
    #[inline]
    fn col_span(&self, kj: usize) -> (usize, usize, usize) {
        let (w, sw, pw) = (self.input.width, self.stride.1, self.padding.1);
        // First ox with ox·sw + kj ≥ pw, and one past the last with ox·sw + kj − pw < w.
        let lo = pw.saturating_sub(kj).div_ceil(sw).min(self.out.1);
        let hi = (w + pw)
            .saturating_sub(kj)
            .div_ceil(sw)
            .min(self.out.1)
            .max(lo);
        (lo, hi, (lo * sw + kj).saturating_sub(pw))
    }

    /// The input row under kernel row `ki` for output row `oy`, if inside the image.
    #[inline]
    fn input_row(&self, ki: usize, oy: usize) -> Option<usize> {
        (oy * self.stride.0 + ki)
            .checked_sub(self.padding.0)
            .filter(|&iy| iy < self.input.height)
    }

    /// How long the buffer of [`im2col`](Window::im2col) must be: `X̂` (`P·K` values),
    /// and for a horizontal stride of 1 room for the zero-padded image and for one block
    /// written past `X̂`'s end.
    pub fn im2col_len(&self) -> usize {
        match self.stride.1 {
            1 => self.x_hat_len() + BLOCK + self.padded_len(),
            _ => self.x_hat_len(),
        }
    }

    /// The values of `X̂`, `P·K` (`K = C·kh·kw`).
    fn x_hat_len(&self) -> usize {
        self.positions() * self.area() * self.input.channels
    }

    /// The row length of the padded image: padding on both sides, and a block's room
    /// past the last window.
    fn padded_width(&self) -> usize {
        self.input.width + 2 * self.padding.1 + BLOCK
    }

    /// The values of the padded image: every channel with its padding rows above and
    /// below, rows of [`padded_width`](Window::padded_width).
    fn padded_len(&self) -> usize {
        self.input.channels * (self.input.height + 2 * self.padding.0) * self.padded_width()
    }

    /// im2col: writes the `P × K` matrix `X̂` (column-major, `P = Ho·Wo` positions,
    /// `K = C·kh·kw`) of one example's image `x` into the first `P·K` values of `buf`
    /// ([`im2col_len`](Window::im2col_len) long; the rest is scratch):
    /// `X̂[p, (c·kh + ki)·kw + kj]` is the input value under kernel offset `(ki, kj)` of
    /// channel `c` when the window is at output position `p = oy·Wo + ox`, or 0 in the
    /// padding (guide eq. 4.2.3).
    ///
    /// With a horizontal stride of 1 (the common case), the image is first copied into a
    /// zero-padded buffer, so that every row of `X̂` is one contiguous run of it, copied
    /// in blocks of a fixed size (the last block running past the row, into values
    /// written next): rows are a few dozen values, and a copy of unknown length costs a
    /// call to `memcpy` per row, more than the copy itself (`docs/dev-log.md`, eleventh
    /// session).
    pub fn im2col<T: Real>(&self, x: &[T], buf: &mut [T]) {
        if self.stride.1 == 1 {
            im2col_padded(self, x, buf);
        } else {
            self.im2col_strided(x, buf);
        }
    }

    /// [`im2col`](Window::im2col) through the padded image (horizontal stride 1).
    #[inline(always)]
    fn im2col_padded<T: Real>(&self, x: &[T], buf: &mut [T]) {
        let (c_in, (kh, kw), p) = (self.input.channels, self.kernel, self.positions());
        let (h, w, (ph, pw)) = (self.input.height, self.input.width, self.padding);
        let ((ho, wo), sh) = (self.out, self.stride.0);
        let (cols, padded) = buf.split_at_mut(self.x_hat_len() + BLOCK);
        let (pwid, prows) = (self.padded_width(), h + 2 * ph);
        let padded = &mut padded[..c_in * prows * pwid];
        padded.fill(T::zero());
        for (plane, pad) in x
            .chunks_exact(h * w)
            .zip(padded.chunks_exact_mut(prows * pwid))
        {
            for (row, pad_row) in plane
                .chunks_exact(w)
                .zip(pad[ph * pwid..].chunks_exact_mut(pwid))
            {
                pad_row[pw..pw + w].copy_from_slice(row);
            }
        }
        let blocks = wo.div_ceil(BLOCK);
        for c in 0..c_in {
            let pad = &padded[c * prows * pwid..(c + 1) * prows * pwid];
            for ki in 0..kh {
                for kj in 0..kw {
                    let k = (c * kh + ki) * kw + kj;
                    for oy in 0..ho {
                        let src = &pad[(oy * sh + ki) * pwid + kj..][..blocks * BLOCK];
                        let at = k * p + oy * wo;
                        let dst = &mut cols[at..at + blocks * BLOCK];
                        for (d, s) in dst.chunks_exact_mut(BLOCK).zip(src.chunks_exact(BLOCK)) {
                            let s: &[T; BLOCK] = s.try_into().expect("a block");
                            d.copy_from_slice(s);
                        }
                    }
                }
            }
        }
    }

    /// [`im2col`](Window::im2col) straight from the image (any stride).
    fn im2col_strided<T: Real>(&self, x: &[T], cols: &mut [T]) {
        let (c_in, (kh, kw), p) = (self.input.channels, self.kernel, self.positions());
        let (wo, sw, w) = (self.out.1, self.stride.1, self.input.width);
        for c in 0..c_in {
            let plane = &x[c * self.input.plane()..(c + 1) * self.input.plane()];
            for ki in 0..kh {
                for kj in 0..kw {
                    let (lo, hi, ix) = self.col_span(kj);
                    let k = (c * kh + ki) * kw + kj;
                    let dst = &mut cols[k * p..(k + 1) * p];
                    for (oy, row) in dst.chunks_exact_mut(wo).enumerate() {
                        let Some(iy) = self.input_row(ki, oy) else {
                            row.fill(T::zero());
                            continue;
                        };
                        let src = &plane[iy * w..(iy + 1) * w];
                        row[..lo].fill(T::zero());
                        row[hi..].fill(T::zero());
                        if sw == 1 {
                            // A loop, not `copy_from_slice`: rows are short (a few dozen
                            // values), and a call to `memcpy` per row costs more than it.
                            for (o, v) in row[lo..hi].iter_mut().zip(&src[ix..]) {
                                *o = *v;
                            }
                        } else {
                            for (t, o) in row[lo..hi].iter_mut().enumerate() {
                                *o = src[ix + t * sw];
                            }
                        }
                    }
                }
            }
        }
    }

    /// col2im, the adjoint of [`im2col`](Window::im2col): `dx ← Σ` of every entry of
    /// `∂C/∂X̂` added to the input value it was copied from (guide eq. 4.2.6); padding
    /// entries are dropped.
    pub fn col2im<T: Real>(&self, dcols: &[T], dx: &mut [T]) {
        dx.fill(T::zero());
        let (c_in, (kh, kw), p) = (self.input.channels, self.kernel, self.positions());
        let (wo, sw, w) = (self.out.1, self.stride.1, self.input.width);
        let plane_len = self.input.plane();
        for c in 0..c_in {
            let plane = &mut dx[c * plane_len..(c + 1) * plane_len];
            for ki in 0..kh {
                for kj in 0..kw {
                    let (lo, hi, ix) = self.col_span(kj);
                    let k = (c * kh + ki) * kw + kj;
                    let src = &dcols[k * p..(k + 1) * p];
                    for (oy, row) in src.chunks_exact(wo).enumerate() {
                        let Some(iy) = self.input_row(ki, oy) else {
                            continue;
                        };
                        let dst = &mut plane[iy * w..(iy + 1) * w];
                        if sw == 1 {
                            for (d, v) in dst[ix..ix + hi - lo].iter_mut().zip(&row[lo..hi]) {
                                *d += *v;
                            }
                        } else {
                            for (t, v) in row[lo..hi].iter().enumerate() {
                                dst[ix + t * sw] += *v;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// im2col against its definition, entry by entry, over strides and paddings.
    #[test]
    fn im2col_is_its_definition_and_col2im_its_adjoint() {
        for (stride, padding) in [
            ((1, 1), (0, 0)),
            ((2, 1), (1, 2)),
            ((3, 2), (2, 0)),
            ((1, 1), (2, 1)),
        ] {
            let input = ImageShape::new(2, 5, 6).unwrap();
            let g = Window::new("test", input, (3, 2), stride, padding).unwrap();
            let x: Vec<f64> = (0..input.len()).map(|i| i as f64 + 1.0).collect();
            let (p, k) = (g.positions(), 2 * g.area());
            let mut cols = vec![f64::NAN; g.im2col_len()];
            g.im2col(&x, &mut cols);
            cols.truncate(p * k);
            for c in 0..2 {
                for (ki, kj) in (0..3).flat_map(|a| (0..2).map(move |b| (a, b))) {
                    for (oy, ox) in (0..g.out.0).flat_map(|a| (0..g.out.1).map(move |b| (a, b))) {
                        let iy = (oy * stride.0 + ki) as isize - padding.0 as isize;
                        let ix = (ox * stride.1 + kj) as isize - padding.1 as isize;
                        let inside = (0..5).contains(&iy) && (0..6).contains(&ix);
                        let want = if inside {
                            x[input.index(c, iy as usize, ix as usize)]
                        } else {
                            0.0
                        };
                        let kk = (c * 3 + ki) * 2 + kj;
                        assert_eq!(cols[kk * p + oy * g.out.1 + ox], want);
                    }
                }
            }
            // ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ for any y.
            let y: Vec<f64> = (0..p * k).map(|i| ((i * 7 % 11) as f64) - 5.0).collect();
            let mut back = vec![f64::NAN; input.len()];
            g.col2im(&y, &mut back);
            let lhs: f64 = cols.iter().zip(&y).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
            assert_eq!(lhs, rhs);
        }
    }

    #[test]
    fn a_window_that_does_not_fit_or_a_zero_stride_is_an_error() {
        let input = ImageShape::new(1, 4, 4).unwrap();
        let e = Window::new("conv", input, (5, 5), (1, 1), (0, 0)).unwrap_err();
        assert!(
            e.to_string().contains("5×5 window does not fit a 4×4"),
            "{e}"
        );
        let e = Window::new("conv", input, (2, 2), (0, 1), (0, 0)).unwrap_err();
        assert!(e.to_string().contains("stride 0×1"), "{e}");
        assert!(Window::new("conv", input, (5, 5), (1, 1), (1, 1)).is_ok());
    }
}
