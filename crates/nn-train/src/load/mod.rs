//! Loaders for data files: IDX (MNIST, Fashion-MNIST; gzip-compressed or raw) and CSV.
//!
//! Every loader checks what it reads and reports a malformed file as a
//! [`TrainError::Load`] naming the file and what was wrong; none panics on any input
//! (property-tested on random and mutated bytes).

mod csv;
mod idx;

pub use csv::{CsvOptions, Header, parse_csv, read_csv};
pub use idx::{
    IdxImages, MnistSplit, load_mnist, parse_idx_images, parse_idx_labels, read_idx_images,
    read_idx_labels,
};

use std::io::Read;
use std::path::Path;

use crate::TrainError;

/// The bytes of a file, decompressed if they start with the gzip magic `1f 8b`.
pub(crate) fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, TrainError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| TrainError::Load {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    gunzip_if_needed(&file, bytes)
}

/// Decompresses gzip data; returns other bytes unchanged.
pub(crate) fn gunzip_if_needed(file: &str, bytes: Vec<u8>) -> Result<Vec<u8>, TrainError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| TrainError::Load {
                file: file.to_owned(),
                reason: format!("gzip: {e}"),
            })?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}
