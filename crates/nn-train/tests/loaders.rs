//! Loaders: IDX and CSV parse what they should, reject what they should with the file
//! and the fault named, never panic on random or mutated bytes, and read the real MNIST
//! files (checked against their published SHA-256 sums).

use std::io::{Read, Write};
use std::path::PathBuf;

use nn_train::{
    CsvOptions, Header, MnistSplit, TrainError, load_mnist, parse_csv, parse_idx_images,
    parse_idx_labels,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn idx_images(count: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [2051, count, rows, cols] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v.extend((0..count * rows * cols).map(|i| (i % 256) as u8));
    v
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&2049u32.to_be_bytes());
    v.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    v.extend_from_slice(labels);
    v
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn idx_files_parse_raw_and_gzipped() {
    let raw = idx_images(3, 2, 4);
    for bytes in [raw.clone(), gzip(&raw)] {
        let imgs = parse_idx_images("imgs", bytes).unwrap();
        assert_eq!((imgs.count, imgs.rows, imgs.cols), (3, 2, 4));
        assert_eq!(imgs.pixels, (0..24).collect::<Vec<u8>>());
    }
    assert_eq!(
        parse_idx_labels("labels", gzip(&idx_labels(&[7, 1]))).unwrap(),
        vec![7, 1]
    );
}

#[test]
fn malformed_idx_files_name_the_file_and_the_fault() {
    let msg =
        |r: Result<_, TrainError>| r.map(|_: nn_train::IdxImages| ()).unwrap_err().to_string();
    assert_eq!(
        msg(parse_idx_images("f", idx_labels(&[1]))),
        "f: magic number 2049, expected 2051 for an IDX image file"
    );
    assert_eq!(
        msg(parse_idx_images("f", vec![0, 0, 8, 3, 0, 0])),
        "f: truncated header: no image count (6 bytes)"
    );
    let mut short = idx_images(2, 2, 2);
    short.pop();
    assert_eq!(
        msg(parse_idx_images("f", short)),
        "f: 2 images of 2×2 need 8 bytes after the header, the file has 7"
    );
    let mut broken_gz = gzip(&idx_images(2, 2, 2));
    broken_gz.truncate(broken_gz.len() / 2);
    assert!(msg(parse_idx_images("f", broken_gz)).starts_with("f: gzip:"));
    let err = parse_idx_labels("l", idx_labels(&[1, 2])[..9].to_vec()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "l: 2 labels announced, the file has 1 after the header"
    );
}

#[test]
fn mnist_directories_with_mismatched_counts_are_rejected() {
    let dir = std::env::temp_dir().join(format!("nn-train-idx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("t10k-images-idx3-ubyte.gz"),
        gzip(&idx_images(3, 2, 2)),
    )
    .unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx_labels(&[1, 2])).unwrap();
    let err = load_mnist::<f32>(&dir, MnistSplit::Test).unwrap_err();
    assert!(err.to_string().contains("2 labels for 3 images"), "{err}");
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx_labels(&[1, 2, 5])).unwrap();
    let data = load_mnist::<f32>(&dir, MnistSplit::Test).unwrap();
    assert_eq!((data.len(), data.inputs().nrows()), (3, 4));
    assert_eq!(data.classes().unwrap(), vec![1, 2, 5]);
    assert_eq!(data.inputs()[(3, 0)], (3.0_f64 / 255.0) as f32);
    let err = load_mnist::<f32>(dir.join("missing"), MnistSplit::Train).unwrap_err();
    assert!(err.to_string().contains("train-images-idx3-ubyte"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn csv_rows_headers_and_errors() {
    let opts = CsvOptions::default();
    // Iris-style first line: partly numeric, so a header.
    let (x, y) = parse_csv::<f64>(
        "iris",
        "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,2\n",
        &opts,
    )
    .unwrap();
    assert_eq!((x.shape(), y), ((4, 2), vec![0, 2]));
    // Label in the first column, no header, blank lines and spaces tolerated.
    let first = CsvOptions {
        label_column: Some(0),
        header: Header::Absent,
        ..opts
    };
    let (x, y) = parse_csv::<f32>("t", "1, 0.5, 2\n\n0 ,1.5,3\n", &first).unwrap();
    assert_eq!(
        (x.as_slice(), y),
        (&[0.5_f32, 2.0, 1.5, 3.0][..], vec![1, 0])
    );
    let err = |text: &str| {
        parse_csv::<f64>("data.csv", text, &opts)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("1,2,0\n1,2\n"),
        "data.csv: line 2 has 2 fields, the first data line has 3"
    );
    assert_eq!(
        err("1,2,0\n1,2,x\n"),
        "data.csv: line 2, column 3: \"x\" is not a number"
    );
    assert_eq!(
        err("1,2,0\n1,2,1.5\n"),
        "data.csv: line 2, column 3: label \"1.5\" is not a class index"
    );
    assert_eq!(
        err("1,2,0\n1,inf,1\n"),
        "data.csv: line 2, column 2: \"inf\" is not a number"
    );
    assert_eq!(err("a,b,c\n"), "data.csv: no data rows");
    assert_eq!(err(""), "data.csv: no data rows");
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_idx_images("random", bytes.clone());
        let _ = parse_idx_labels("random", bytes.clone());
        let _ = parse_idx_images("random", gzip(&bytes));
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_csv::<f32>("random", &text, &CsvOptions::default());
    }

    #[test]
    fn mutated_files_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
        let mut samples = vec![idx_images(2, 3, 3), gzip(&idx_images(2, 3, 3)), idx_labels(&[1, 2, 3]), b"1,2,0\n3,4,1\n5,6,2\n".to_vec()];
        for s in &mut samples {
            for (at, v) in &edits {
                let i = at.index(s.len());
                s[i] = *v;
            }
            let cut_at = cut.index(s.len() + 1);
            for bytes in [s.clone(), s[..cut_at].to_vec()] {
                let _ = parse_idx_images("mutated", bytes.clone());
                let _ = parse_idx_labels("mutated", bytes.clone());
                let _ = parse_csv::<f64>("mutated", &String::from_utf8_lossy(&bytes), &CsvOptions::default());
            }
        }
    }
}

/// `../shared/data` beside the project: present on developer machines and in CI.
fn shared_data() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        return Some(dir);
    }
    // Skip with a message only outside CI; in CI the folder must be there.
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {} is missing",
        dir.display()
    );
    eprintln!(
        "skipping: {} is absent (set CI to make this a failure)",
        dir.display()
    );
    None
}

fn sha256_of_gunzipped(path: &std::path::Path) -> String {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn real_mnist_test_set_loads_with_the_published_checksums() {
    let Some(dir) = shared_data() else { return };
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    for name in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
        let expected = sums
            .lines()
            .find(|l| l.ends_with(&format!("mnist/{name}")))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        assert_eq!(
            sha256_of_gunzipped(&dir.join("mnist").join(format!("{name}.gz"))),
            expected,
            "{name}"
        );
    }
    let test = load_mnist::<f32>(dir.join("mnist"), MnistSplit::Test).unwrap();
    assert_eq!(
        (test.len(), test.inputs().nrows(), test.targets().nrows()),
        (10_000, 784, 10)
    );
    let classes = test.classes().unwrap();
    // The first test labels of MNIST are 7, 2, 1, 0, 4.
    assert_eq!(&classes[..5], &[7, 2, 1, 0, 4]);
    let max = test
        .inputs()
        .as_slice()
        .iter()
        .fold(0.0_f32, |m, &v| m.max(v));
    assert_eq!(max, 1.0);
}
