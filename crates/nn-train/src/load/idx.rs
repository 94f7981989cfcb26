//! IDX files, the format MNIST and Fashion-MNIST ship in: a big-endian magic number
//! (2051 for images, 2049 for labels), the dimensions as big-endian `u32`s, then the
//! unsigned bytes.

use std::path::Path;

use nn_math::{Matrix, Real};

use super::{gunzip_bounded, read_file};

/// The total length an IDX header announces: the header (`4·(1 + dims)` bytes) and one
/// byte per element, the product of the `dims` sizes; `None` for a short header or a
/// product that overflows.
fn announced(bytes: &[u8], dims: usize) -> Option<usize> {
    let header = 4 * (1 + dims);
    let mut elements: usize = 1;
    for c in bytes.get(4..header)?.chunks_exact(4) {
        elements = elements.checked_mul(u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)?;
    }
    elements.checked_add(header)
}
use crate::{Dataset, TrainError};

/// Images of an IDX image file: `count` images of `rows × cols` bytes, image after image,
/// row by row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Pixel rows per image.
    pub rows: usize,
    /// Pixel columns per image.
    pub cols: usize,
    /// `count · rows · cols` pixel values, 0–255.
    pub pixels: Vec<u8>,
}

const IMAGES_MAGIC: u32 = 2051;
const LABELS_MAGIC: u32 = 2049;

fn err(file: &str, reason: impl Into<String>) -> TrainError {
    TrainError::Load {
        file: file.to_owned(),
        reason: reason.into(),
    }
}

/// The `i`-th big-endian `u32` of the header, or an error naming what is missing.
fn header_u32(file: &str, bytes: &[u8], i: usize, what: &str) -> Result<u32, TrainError> {
    bytes
        .get(4 * i..4 * i + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| {
            err(
                file,
                format!("truncated header: no {what} ({} bytes)", bytes.len()),
            )
        })
}

fn check_magic(file: &str, bytes: &[u8], expected: u32, kind: &str) -> Result<(), TrainError> {
    let magic = header_u32(file, bytes, 0, "magic number")?;
    if magic == expected {
        Ok(())
    } else {
        Err(err(
            file,
            format!("magic number {magic}, expected {expected} for an IDX {kind} file"),
        ))
    }
}

/// Parses the bytes of an IDX image file (gzip-compressed or raw); `file` names them in
/// errors.
///
/// # Errors
/// [`TrainError::Load`] for a wrong magic number, a truncated header or body, or
/// trailing bytes.
pub fn parse_idx_images(file: &str, bytes: Vec<u8>) -> Result<IdxImages, TrainError> {
    let bytes = gunzip_bounded(file, bytes, 16, |h| announced(h, 3))?;
    check_magic(file, &bytes, IMAGES_MAGIC, "image")?;
    let count = header_u32(file, &bytes, 1, "image count")? as usize;
    let rows = header_u32(file, &bytes, 2, "row count")? as usize;
    let cols = header_u32(file, &bytes, 3, "column count")? as usize;
    let expected = count
        .checked_mul(rows)
        .and_then(|x| x.checked_mul(cols))
        .ok_or_else(|| err(file, "dimensions overflow"))?;
    let body = &bytes[16..];
    if body.len() != expected {
        return Err(err(
            file,
            format!(
                "{count} images of {rows}×{cols} need {expected} bytes after the header, the file has {}",
                body.len()
            ),
        ));
    }
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels: body.to_vec(),
    })
}

/// Parses the bytes of an IDX label file (gzip-compressed or raw).
///
/// # Errors
/// As [`parse_idx_images`].
pub fn parse_idx_labels(file: &str, bytes: Vec<u8>) -> Result<Vec<u8>, TrainError> {
    let bytes = gunzip_bounded(file, bytes, 8, |h| announced(h, 1))?;
    check_magic(file, &bytes, LABELS_MAGIC, "label")?;
    let count = header_u32(file, &bytes, 1, "label count")? as usize;
    let body = &bytes[8..];
    if body.len() != count {
        return Err(err(
            file,
            format!(
                "{count} labels announced, the file has {} after the header",
                body.len()
            ),
        ));
    }
    Ok(body.to_vec())
}

/// Reads an IDX image file (e.g. `train-images-idx3-ubyte.gz`).
///
/// # Errors
/// [`TrainError::Load`] naming the file: unreadable, or as [`parse_idx_images`].
pub fn read_idx_images(path: impl AsRef<Path>) -> Result<IdxImages, TrainError> {
    let path = path.as_ref();
    parse_idx_images(&path.display().to_string(), read_file(path)?)
}

/// Reads an IDX label file (e.g. `train-labels-idx1-ubyte.gz`).
///
/// # Errors
/// [`TrainError::Load`] naming the file: unreadable, or as [`parse_idx_labels`].
pub fn read_idx_labels(path: impl AsRef<Path>) -> Result<Vec<u8>, TrainError> {
    let path = path.as_ref();
    parse_idx_labels(&path.display().to_string(), read_file(path)?)
}

/// Which half of an MNIST-style directory to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MnistSplit {
    /// `train-images-idx3-ubyte[.gz]` and `train-labels-idx1-ubyte[.gz]`.
    Train,
    /// `t10k-images-idx3-ubyte[.gz]` and `t10k-labels-idx1-ubyte[.gz]`.
    Test,
}

/// Loads MNIST or Fashion-MNIST from a directory holding the four IDX files (gzip or
/// raw): inputs are the pixels scaled to `[0, 1]` (`n₀ = rows·cols`, one image per
/// column), targets one-hot over the 10 classes.
///
/// # Errors
/// [`TrainError::Load`] if a file is missing or malformed, or the image and label
/// counts differ; labels above 9 are an error too.
pub fn load_mnist<T: Real>(
    dir: impl AsRef<Path>,
    split: MnistSplit,
) -> Result<Dataset<T>, TrainError> {
    let prefix = match split {
        MnistSplit::Train => "train",
        MnistSplit::Test => "t10k",
    };
    let find = |name: String| {
        let gz = dir.as_ref().join(format!("{name}.gz"));
        if gz.exists() {
            gz
        } else {
            dir.as_ref().join(name)
        }
    };
    let images_path = find(format!("{prefix}-images-idx3-ubyte"));
    let labels_path = find(format!("{prefix}-labels-idx1-ubyte"));
    let images = read_idx_images(&images_path)?;
    let labels = read_idx_labels(&labels_path)?;
    if images.count != labels.len() {
        return Err(err(
            &labels_path.display().to_string(),
            format!(
                "{} labels for {} images in {}",
                labels.len(),
                images.count,
                images_path.display()
            ),
        ));
    }
    if let Some(pos) = labels.iter().position(|&l| l > 9) {
        return Err(err(
            &labels_path.display().to_string(),
            format!(
                "label {} of example {pos} is not a digit class",
                labels[pos]
            ),
        ));
    }
    let n0 = images.rows * images.cols;
    // p/255 in f64, rounded once to T.
    let x = Matrix::from_iterator(
        n0,
        images.count,
        images.pixels.iter().map(|&p| T::lit(f64::from(p) / 255.0)),
    );
    let mut y = Matrix::zeros(10, images.count);
    for (j, &l) in labels.iter().enumerate() {
        y[(usize::from(l), j)] = T::one();
    }
    Dataset::new(x, y)
}
