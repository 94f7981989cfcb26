//! Preprocessing, metrics and models that carry their input scaling.

use nn_activations::{Identity, Relu};
use nn_core::Network;
use nn_math::Matrix;
use nn_train::{
    ConfusionMatrix, Dataset, Model, Scaling, ScalingKind, accuracy, argmax_columns, embedded,
    one_hot,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

proptest! {
    #[test]
    fn standardization_uses_training_statistics_only(
        train in prop::collection::vec(-50.0..50.0_f64, 3 * 8),
        other in prop::collection::vec(-500.0..500.0_f64, 3 * 4),
    ) {
        let train = Matrix::from_vec(3, 8, train);
        let s = Scaling::standardize(&train).unwrap();
        let mut t = train.clone();
        s.apply(&mut t).unwrap();
        for row in t.row_iter() {
            let mean = row.sum() / 8.0;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 8.0;
            prop_assert!(mean.abs() < 1e-9);
            prop_assert!((var - 1.0).abs() < 1e-9 || var == 0.0);
        }
        // Other data goes through the training map, whatever its own statistics:
        // x' = (x − μ_train)/σ_train.
        let other = Matrix::from_vec(3, 4, other);
        let mut o = other.clone();
        s.apply(&mut o).unwrap();
        for i in 0..3 {
            let row = train.row(i);
            let mean = row.sum() / 8.0;
            let sd = (row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 8.0).sqrt();
            for j in 0..4 {
                let want = if sd > 0.0 { (other[(i, j)] - mean) / sd } else { 0.0 };
                prop_assert!((o[(i, j)] - want).abs() <= 1e-9 * (1.0 + want.abs()), "{} vs {}", o[(i, j)], want);
            }
        }
    }

    #[test]
    fn min_max_maps_the_training_range_onto_the_target_range(train in prop::collection::vec(-50.0..50.0_f64, 2 * 6)) {
        let train = Matrix::from_vec(2, 6, train);
        let s = Scaling::min_max(&train, -1.0, 1.0).unwrap();
        prop_assert_eq!(s.kind(), ScalingKind::MinMax { low: -1.0, high: 1.0 });
        let mut t = train.clone();
        s.apply(&mut t).unwrap();
        for row in t.row_iter() {
            let (lo, hi) = row.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            prop_assert!((lo + 1.0).abs() < 1e-12 && (hi - 1.0).abs() < 1e-12);
        }
    }
}

#[test]
fn constant_features_give_no_nan() {
    let x: Matrix<f64> = Matrix::from_row_slice(2, 3, &[4.0, 4.0, 4.0, 1.0, 2.0, 3.0]);
    for s in [
        Scaling::standardize(&x).unwrap(),
        Scaling::min_max(&x, 0.0, 1.0).unwrap(),
    ] {
        let mut y: Matrix<f64> = Matrix::from_row_slice(2, 2, &[9.0, -9.0, 2.0, 2.0]);
        s.apply(&mut y).unwrap();
        assert!(y.iter().all(|v| v.is_finite()), "{y}");
    }
    assert!(Scaling::min_max(&x, 1.0, 1.0).is_err());
    assert!(
        Scaling::standardize(&x)
            .unwrap()
            .apply(&mut Matrix::zeros(3, 1))
            .is_err()
    );
}

#[test]
fn one_hot_and_argmax_round_trip() {
    let labels = [3, 0, 2, 2, 1];
    let y = one_hot::<f64>(&labels, 4).unwrap();
    assert_eq!(argmax_columns(&y), labels);
    assert!(one_hot::<f64>(&[4], 4).is_err());
}

#[test]
fn metrics_count_what_they_say() {
    assert_eq!(accuracy(&[1, 1, 0], &[1, 0, 0]), 2.0 / 3.0);
    let cm = ConfusionMatrix::new(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 2], 3).unwrap();
    assert_eq!((cm.count(1, 0), cm.count(1, 1), cm.count(2, 2)), (1, 2, 1));
    assert_eq!(cm.accuracy(), 0.8);
    assert_eq!(
        (cm.precision(0), cm.recall(1)),
        (Some(0.5), Some(2.0 / 3.0))
    );
    let text = cm.to_string();
    assert!(
        text.starts_with("actual\\pred   0   1   2  recall precision"),
        "{text}"
    );
    assert!(ConfusionMatrix::new(&[0], &[0, 1], 2).is_err());
    assert!(ConfusionMatrix::new(&[5], &[0], 2).is_err());
}

#[test]
fn a_saved_model_predicts_from_raw_inputs_after_loading() {
    let iris: Dataset<f64> = embedded::iris().unwrap();
    let scaling = Scaling::standardize(iris.inputs()).unwrap();
    let net = Network::<f64>::builder(4)
        .layer(5, Relu)
        .layer(3, Identity)
        .build(&mut StdRng::seed_from_u64(1))
        .unwrap();
    let model = Model {
        network: net,
        scaling: Some(scaling),
    };
    let dir = std::env::temp_dir().join(format!("nn-train-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("iris.safetensors");
    model.save(&path).unwrap();
    let back = Model::<f64>::load(&path).unwrap();
    assert_eq!(back, model);
    assert_eq!(
        back.predict(iris.inputs()).unwrap(),
        model.predict(iris.inputs()).unwrap()
    );
    // The network alone is still a plain model file.
    assert_eq!(Network::<f64>::load(&path).unwrap(), model.network);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn constant_features_map_to_zero_or_pass_through_as_scikit_learn_does() {
    use nn_train::ConstantFeatures;
    // Feature 0 varies, feature 1 is constant at 3.
    let train = Matrix::from_row_slice(2, 4, &[1.0, 2.0, 3.0, 4.0, 3.0, 3.0, 3.0, 3.0]);
    let new = Matrix::from_row_slice(2, 2, &[2.5, 0.0, 3.0, 10.0]);
    let apply = |s: Scaling<f64>| {
        let mut x = new.clone();
        s.apply(&mut x).unwrap();
        x
    };
    let zero = apply(Scaling::standardize(&train).unwrap());
    let unit = apply(Scaling::standardize_with(&train, ConstantFeatures::UnitScale).unwrap());
    assert_eq!(
        zero.row(0),
        unit.row(0),
        "a varying feature is scaled the same way"
    );
    assert_eq!(zero.row(1).iter().copied().collect::<Vec<_>>(), [0.0, 0.0]);
    assert_eq!(unit.row(1).iter().copied().collect::<Vec<_>>(), [0.0, 7.0]);
    // Min–max onto [−1, 1]: a range of 1 stands in for the missing one (scale 2).
    let mm = apply(Scaling::min_max_with(&train, -1.0, 1.0, ConstantFeatures::UnitScale).unwrap());
    assert_eq!(mm.row(1).iter().copied().collect::<Vec<_>>(), [-1.0, 13.0]);
}

#[test]
fn fitting_on_non_finite_or_overflowing_values_is_an_error() {
    let mut train = Matrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    train[(1, 1)] = f64::NAN;
    let err = Scaling::standardize(&train).unwrap_err();
    assert!(err.to_string().contains("feature 1 of example 1"), "{err}");
    assert!(Scaling::min_max(&train, 0.0, 1.0).is_err());
    // Finite values whose scale overflows f32: a range of 1e-30 stretched onto 1e30.
    let narrow = Matrix::from_row_slice(1, 2, &[0.0_f32, 1e-30]);
    assert!(Scaling::<f64>::min_max(&narrow.map(f64::from), 0.0, 1e30).is_ok());
    let err = Scaling::min_max(&narrow, 0.0, 1e30).unwrap_err();
    assert!(err.to_string().contains("not finite"), "{err}");
}
