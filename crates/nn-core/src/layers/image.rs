//! The shape of an image-shaped layer input or output, and how one example's column holds
//! it.

use std::fmt;

use crate::CoreError;

/// The shape `C × H × W` of one example's image: `channels` planes of `height` rows of
/// `width` values.
///
/// A batch keeps one example per column, as everywhere in this library; an example's
/// column holds its channels one plane after another and each plane row by row
/// (PyTorch's `C×H×W` order, so that an `N×C×H×W` PyTorch tensor is the same memory as
/// a `(C·H·W) × N` batch here). Value `(c, y, x)` is row `(c·H + y)·W + x` of the column.
///
/// ```
/// use nn_core::ImageShape;
///
/// let mnist = ImageShape::new(1, 28, 28)?;
/// assert_eq!(mnist.len(), 784);
/// assert_eq!(mnist.index(0, 1, 2), 30);
/// assert!(ImageShape::new(3, 0, 8).is_err());
/// # Ok::<(), nn_core::CoreError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageShape {
    /// Channels `C` (planes).
    pub channels: usize,
    /// Rows `H` of each plane.
    pub height: usize,
    /// Columns `W` of each plane.
    pub width: usize,
}

impl ImageShape {
    /// The shape `channels × height × width`.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] if a side is 0 or the number of values overflows.
    pub fn new(channels: usize, height: usize, width: usize) -> Result<Self, CoreError> {
        let shape = Self {
            channels,
            height,
            width,
        };
        if channels == 0 || height == 0 || width == 0 {
            return Err(CoreError::Architecture(format!(
                "an image of {shape} has no values"
            )));
        }
        channels
            .checked_mul(height)
            .and_then(|n| n.checked_mul(width))
            .ok_or_else(|| CoreError::Architecture(format!("an image of {shape} is too large")))?;
        Ok(shape)
    }

    /// The number of values `C·H·W` of one example.
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Whether the image holds no value (never, for a shape made by [`ImageShape::new`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values `H·W` of one plane.
    pub fn plane(&self) -> usize {
        self.height * self.width
    }

    /// The row of value `(c, y, x)` in an example's column.
    pub fn index(&self, c: usize, y: usize, x: usize) -> usize {
        (c * self.height + y) * self.width + x
    }
}

impl fmt::Display for ImageShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}×{}×{}", self.channels, self.height, self.width)
    }
}

/// Output length along one side of a sliding window: `⌊(n + 2·pad − k)/stride⌋ + 1`, or
/// `None` if the window does not fit into the padded side (or the stride is 0).
pub(crate) fn slide(n: usize, k: usize, stride: usize, pad: usize) -> Option<usize> {
    let padded = n.checked_add(pad.checked_mul(2)?)?;
    if stride == 0 || k == 0 || k > padded {
        return None;
    }
    Some((padded - k) / stride + 1)
}

/// Reads a list of `N` non-negative integers, a setting of layer `layer` in a model file.
pub(crate) fn setting<const N: usize>(
    settings: &serde_json::Value,
    layer: usize,
    key: &str,
) -> Result<[usize; N], CoreError> {
    let bad = || {
        CoreError::from(crate::ModelFileError::Corrupt(format!(
            "layer {layer}: setting {key:?} is missing or not a list of {N} non-negative integers"
        )))
    };
    let list = settings
        .get(key)
        .and_then(serde_json::Value::as_array)
        .ok_or_else(bad)?;
    if list.len() != N {
        return Err(bad());
    }
    let mut out = [0; N];
    for (o, v) in out.iter_mut().zip(list) {
        *o = v
            .as_u64()
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(bad)?;
    }
    Ok(out)
}

/// The input image of a layer in a model file (its `"input"` setting).
pub(crate) fn input_setting(
    settings: &serde_json::Value,
    layer: usize,
) -> Result<ImageShape, CoreError> {
    let [c, h, w] = setting(settings, layer, "input")?;
    ImageShape::new(c, h, w)
        .map_err(|e| crate::ModelFileError::Corrupt(format!("layer {layer}: {e}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slide_matches_the_formula_and_refuses_what_does_not_fit() {
        assert_eq!(slide(28, 5, 1, 2), Some(28));
        assert_eq!(slide(28, 2, 2, 0), Some(14));
        assert_eq!(slide(5, 2, 2, 0), Some(2));
        assert_eq!(slide(3, 5, 1, 0), None);
        assert_eq!(slide(3, 5, 1, 1), Some(1));
        assert_eq!(slide(3, 1, 0, 0), None);
        assert_eq!(slide(usize::MAX, 1, 1, 1), None);
    }
}
