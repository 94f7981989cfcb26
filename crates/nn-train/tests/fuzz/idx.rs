//! IDX files, raw and gzip-compressed: images and labels.

use std::io::Write;

use nn_train::{parse_idx_images, parse_idx_labels};
use proptest::prelude::*;

use crate::{config, mutated, within_budget};

fn images(count: u32, rows: u32, cols: u32, body: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [2051, count, rows, cols] {
        b.extend_from_slice(&u32::to_be_bytes(v));
    }
    b.extend((0..body).map(|i| (i * 37 % 256) as u8));
    b
}

fn labels(count: u32, body: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [2049, count] {
        b.extend_from_slice(&u32::to_be_bytes(v));
    }
    b.extend((0..body).map(|i| (i % 10) as u8));
    b
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Both parsers on `bytes`: an error or a well-formed result, within the budget.
fn check(bytes: &[u8]) {
    within_budget("parse_idx_images", bytes, || {
        if let Ok(im) = parse_idx_images("fuzz", bytes.to_vec()) {
            assert_eq!(im.pixels.len(), im.count * im.rows * im.cols);
        }
    });
    within_budget("parse_idx_labels", bytes, || {
        let _ = parse_idx_labels("fuzz", bytes.to_vec());
    });
}

fn seeds() -> Vec<Vec<u8>> {
    let raw = [images(3, 4, 5, 60), labels(7, 7)];
    let mut all: Vec<Vec<u8>> = raw.iter().map(|b| gzip(b)).collect();
    all.extend(raw);
    all
}

#[test]
fn every_truncation_of_an_idx_file_is_an_error() {
    for seed in seeds() {
        for len in 0..seed.len() {
            check(&seed[..len]);
            let images = parse_idx_images("cut", seed[..len].to_vec());
            let labels = parse_idx_labels("cut", seed[..len].to_vec());
            assert!(images.is_err() && labels.is_err(), "cut at {len} accepted");
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_idx_files_are_errors_or_well_formed(
        bytes in prop::sample::select(seeds()).prop_flat_map(mutated)
    ) {
        check(&bytes);
    }

    /// Headers announcing any sizes, over bodies of any length, raw or compressed; a
    /// compressed body far longer than the header says is never inflated in full.
    #[test]
    fn idx_headers_claiming_any_size_are_checked_before_allocating(
        dims in prop::collection::vec(
            prop_oneof![any::<u32>(), Just(u32::MAX), Just(1 << 16), 0..4u32], 4),
        body in 0usize..3000,
        compress in any::<bool>(),
        image in any::<bool>(),
    ) {
        let raw = if image {
            images(dims[0], dims[1], dims[2], body)
        } else {
            labels(dims[3], body)
        };
        let bytes = if compress { gzip(&raw) } else { raw };
        check(&bytes);
    }
}

#[test]
fn a_gzip_bomb_is_not_inflated_beyond_its_header() {
    // 64 MiB of zeros compress to about 64 KiB; the header announces 10 labels.
    let mut raw = labels(10, 10);
    raw.resize(64 << 20, 0);
    let bomb = gzip(&raw);
    let err = within_budget("gzip bomb", &bomb, || {
        parse_idx_labels("bomb", bomb.clone())
    });
    assert!(err.is_err());
    // A header announcing more than the stream could hold (deflate's 1:1032 at most) is
    // refused before inflating.
    let mut raw = labels(u32::MAX, 0);
    raw.resize(64 << 20, 0);
    let bomb = gzip(&raw);
    let err = within_budget("gzip bomb", &bomb, || {
        parse_idx_labels("bomb", bomb.clone())
    });
    assert!(
        err.unwrap_err().to_string().contains("more than"),
        "refused up front"
    );
    // A header whose sizes overflow cannot say how much to inflate: nothing more is.
    let mut raw = images(u32::MAX, u32::MAX, u32::MAX, 0);
    raw.resize(64 << 20, 0);
    let bomb = gzip(&raw);
    let err = within_budget("gzip bomb", &bomb, || {
        parse_idx_images("bomb", bomb.clone())
    });
    assert!(err.is_err());
}

#[test]
fn bytes_after_a_gzip_stream_are_an_error_as_after_a_raw_file() {
    let raw = labels(3, 3);
    assert!(parse_idx_labels("ok", gzip(&raw)).is_ok());
    for tail in [&b"x"[..], &[0u8; 10][..], &gzip(&[1, 2])[..]] {
        let mut raw_tail = raw.clone();
        raw_tail.extend_from_slice(tail);
        assert!(parse_idx_labels("raw", raw_tail).is_err());
        let mut gz_tail = gzip(&raw);
        gz_tail.extend_from_slice(tail);
        assert!(
            parse_idx_labels("gz", gz_tail).is_err(),
            "tail {tail:?} ignored"
        );
    }
}
