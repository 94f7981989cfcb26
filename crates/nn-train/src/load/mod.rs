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
    gunzip_if_needed(&path.display().to_string(), read_file(path)?)
}

/// The bytes of a file as they are on disk.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, TrainError> {
    std::fs::read(path).map_err(|e| TrainError::Load {
        file: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Decompresses gzip data; returns other bytes unchanged. Every gzip member is read
/// (bytes after the first stream that are not another stream are an error, as trailing
/// bytes of a raw file are).
pub(crate) fn gunzip_if_needed(file: &str, bytes: Vec<u8>) -> Result<Vec<u8>, TrainError> {
    gunzip_bounded(file, bytes, 0, |_| None)
}

/// As [`gunzip_if_needed`], but stops inflating once the data is longer than the file's
/// own header says it is: the first `header` decompressed bytes go to `needed`, which
/// returns the total length the header announces (`None` if it cannot say: a short
/// header, sizes that overflow), and at most one byte more is inflated. A 3 MB file
/// announcing one image thus never becomes gigabytes in memory; the parser then reports
/// the length mismatch. With `header` 0 there is no header and everything is inflated.
pub(crate) fn gunzip_bounded(
    file: &str,
    bytes: Vec<u8>,
    header: usize,
    needed: impl Fn(&[u8]) -> Option<usize>,
) -> Result<Vec<u8>, TrainError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let err = |reason: String| TrainError::Load {
        file: file.to_owned(),
        reason,
    };
    let mut reader = flate2::read::MultiGzDecoder::new(bytes.as_slice());
    let mut out = Vec::new();
    inflate(&mut reader, header as u64, &mut out).map_err(&err)?;
    let more = match needed(&out) {
        _ if header == 0 => u64::MAX,
        // A header that cannot say how long the data is fails to parse whatever
        // follows: one more byte is enough to show that there is more.
        None => 1,
        Some(total) => {
            // Deflate turns one byte into at most 1032: a header announcing more than the
            // stream could hold is refused before anything is inflated.
            if total.saturating_sub(header) / MAX_RATIO > bytes.len() {
                return Err(err(format!(
                    "the header announces {total} bytes, more than {} compressed bytes can hold",
                    bytes.len()
                )));
            }
            total.saturating_sub(out.len()).saturating_add(1) as u64
        }
    };
    inflate(&mut reader, more, &mut out).map_err(&err)?;
    Ok(out)
}

/// Deflate's largest expansion: 1032 bytes out per byte in.
const MAX_RATIO: usize = 1032;

/// Appends at most `limit` inflated bytes to `out`, in chunks whose memory is reserved
/// first, so that data too large for memory is an error, not an abort.
fn inflate(reader: &mut impl Read, limit: u64, out: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 1 << 16];
    let mut left = limit;
    while left > 0 {
        let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = match reader.read(&mut chunk[..want]) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("gzip: {e}")),
        };
        out.try_reserve(n).map_err(|_| {
            format!(
                "gzip: {} inflated bytes do not fit in memory",
                out.len() + n
            )
        })?;
        out.extend_from_slice(&chunk[..n]);
        left -= n as u64;
    }
    Ok(())
}
