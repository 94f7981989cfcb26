//! Data sets: validation of inputs, and the seeded, stratified split.

use nn_math::Matrix;
use nn_train::{Dataset, one_hot};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::blobs;

#[test]
fn bad_data_is_rejected_with_a_clear_error() {
    let err = Dataset::new(Matrix::<f64>::zeros(2, 3), Matrix::zeros(1, 4)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "data set: 3 inputs but 4 targets (one example per column)"
    );
    assert!(Dataset::new(Matrix::<f64>::zeros(2, 0), Matrix::zeros(1, 0)).is_err());
    assert!(Dataset::new(Matrix::<f64>::zeros(0, 3), Matrix::zeros(1, 3)).is_err());
    let mut x = Matrix::<f64>::zeros(2, 3);
    x[(1, 2)] = f64::NAN;
    let err = Dataset::new(x, Matrix::zeros(1, 3)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "data set: input of example 2 (row 1) is not finite"
    );
}

#[test]
fn split_is_seeded_disjoint_complete_and_stratified() {
    let data = blobs(20, 1); // 60 examples, 20 per class
    let (t1, v1) = data.split(0.25, &mut StdRng::seed_from_u64(9)).unwrap();
    let (t2, v2) = data.split(0.25, &mut StdRng::seed_from_u64(9)).unwrap();
    assert_eq!((&t1, &v1), (&t2, &v2), "the same seed gives the same split");
    let (t3, _) = data.split(0.25, &mut StdRng::seed_from_u64(10)).unwrap();
    assert_ne!(t1, t3);
    assert_eq!((t1.len(), v1.len()), (45, 15));
    // Stratified: 5 of each class in validation.
    let count =
        |d: &Dataset<f64>, c: usize| d.classes().unwrap().iter().filter(|&&k| k == c).count();
    for c in 0..3 {
        assert_eq!(count(&v1, c), 5);
        assert_eq!(count(&t1, c), 15);
    }
    // Disjoint and complete: every example appears exactly once (inputs are distinct).
    let mut all: Vec<(u64, u64)> = t1
        .inputs()
        .column_iter()
        .chain(v1.inputs().column_iter())
        .map(|c| (c[0].to_bits(), c[1].to_bits()))
        .collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 60);
}

#[test]
fn split_rejects_bad_fractions() {
    let data = blobs(2, 1);
    for f in [0.0, 1.0, -0.5, f64::NAN] {
        assert!(
            data.split(f, &mut StdRng::seed_from_u64(0)).is_err(),
            "fraction {f}"
        );
    }
}

#[test]
fn classes_are_given_only_for_one_hot_targets() {
    let x = Matrix::<f64>::zeros(1, 3);
    let one_hot = Matrix::from_column_slice(3, 3, &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    let data = Dataset::new(x.clone(), one_hot).unwrap();
    assert_eq!(data.classes(), Some(vec![1, 0, 2]));
    // Any one column not one-hot: two ones, no one, a value other than 0 or 1.
    for bad in [
        [1.0, 1.0, 0.0],
        [0.0, 0.0, 0.0],
        [0.0, 1.0, 0.5],
        [0.5, 0.5, 0.0],
    ] {
        let mut y = Matrix::from_column_slice(3, 3, &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        y.column_mut(1).copy_from_slice(&bad);
        let data = Dataset::new(x.clone(), y).unwrap();
        assert_eq!(data.classes(), None, "{bad:?}");
    }
}

#[test]
fn split_indices_are_what_split_uses_and_split_at_reproduces_them() {
    let labels: Vec<usize> = (0..40).map(|i| (i * 7) % 3).collect();
    let x = Matrix::from_fn(2, 40, |r, c| (10 * c + r) as f64);
    let data = Dataset::new(x, one_hot(&labels, 3).unwrap()).unwrap();
    let (train, valid) = data.split(0.3, &mut StdRng::seed_from_u64(4)).unwrap();
    let (ti, vi) = data
        .split_indices(0.3, &mut StdRng::seed_from_u64(4))
        .unwrap();
    assert_eq!(ti.len() + vi.len(), 40);
    assert!(ti.iter().all(|i| !vi.contains(i)));
    assert_eq!(train, data.subset(&ti).unwrap());
    assert_eq!(valid, data.subset(&vi).unwrap());
    let (t2, v2) = data.split_at(&vi).unwrap();
    assert_eq!((t2, v2), (train, valid));
    // Indices that do not make a split are refused, naming the index.
    for (bad, what) in [
        (vec![3, 40], "index 40 is out of range"),
        (vec![5, 5], "index 5 is given twice"),
        (vec![], "leaves a side empty"),
        ((0..40).collect(), "leaves a side empty"),
    ] {
        let err = data.split_at(&bad).unwrap_err();
        assert!(err.to_string().contains(what), "{err}");
    }
}
