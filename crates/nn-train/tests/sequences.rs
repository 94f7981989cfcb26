//! Data sets of sequences of different lengths: their lengths follow subsets and
//! splits, and training leaves the padding out (guide §13).

use nn_activations::{Identity, Tanh};
use nn_core::{Network, Steps};
use nn_math::Matrix;
use nn_train::{Adam, Dataset, Trainer, TrainerConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const STEPS: usize = 6;

/// Sequences of 1 to 6 steps of one value, padded with large noise; the target is the
/// last valid value, which only a network that knows the lengths can find.
fn last_value_task(n: usize, seed: u64) -> (Matrix<f64>, Matrix<f64>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let lengths: Vec<usize> = (0..n).map(|_| rng.random_range(1..=STEPS)).collect();
    let mut x = Matrix::zeros(STEPS, n);
    let mut y = Matrix::zeros(1, n);
    for (j, &len) in lengths.iter().enumerate() {
        for t in 0..STEPS {
            x[(t, j)] = if t < len {
                rng.random_range(-1.0..1.0)
            } else {
                rng.random_range(-5.0..5.0)
            };
        }
        y[(0, j)] = x[(len - 1, j)];
    }
    (x, y, lengths)
}

fn fit(data: &Dataset<f64>, threads: usize) -> (Network<f64>, f64) {
    let mut net = Network::<f64>::builder(STEPS)
        .sequence(STEPS, 1)
        .elman(8, Tanh, Steps::Last)
        .layer(1, Identity)
        .build(&mut StdRng::seed_from_u64(1))
        .unwrap();
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: 60,
        batch_size: 16,
        optimizer: Box::new(Adam::default()),
        schedule: Box::new(0.01),
        threads,
        ..TrainerConfig::default()
    })
    .unwrap();
    let history = trainer.fit(&mut net, data, None).unwrap();
    let last = history.epochs.last().unwrap().train_loss;
    (net, last)
}

#[test]
fn training_with_lengths_learns_what_padding_hides() {
    let (x, y, lengths) = last_value_task(96, 3);
    let padded = Dataset::new(x, y).unwrap();
    let data = padded.clone().with_lengths(lengths.clone()).unwrap();
    let (net, with) = fit(&data, 1);
    let (_, without) = fit(&padded, 1);
    assert!(with < 0.01, "with lengths: E_t = {with}");
    assert!(
        without > 4.0 * with,
        "without lengths: E_t = {without}, with {with}"
    );
    // The evaluation reads the lengths too: the same loss as by hand.
    let (loss, _) = nn_train::evaluate(&net, &data, &nn_core::HalfSquaredError).unwrap();
    let mut ws = net.workspace();
    ws.set_lengths(&lengths).unwrap();
    let out = net.evaluate_with(data.inputs(), &mut ws).unwrap();
    let by_hand = (0..96)
        .map(|j| 0.5 * (out[(0, j)] - data.targets()[(0, j)]).powi(2))
        .sum::<f64>()
        / 96.0;
    assert!((loss - by_hand).abs() < 1e-12);
    // Two threads agree with one to rounding.
    let (_, two) = fit(&data, 2);
    assert!((two - with).abs() < 1e-9, "{two} vs {with}");
}

#[test]
fn lengths_follow_subsets_and_splits() {
    let (x, y, lengths) = last_value_task(20, 5);
    let data = Dataset::new(x, y)
        .unwrap()
        .with_lengths(lengths.clone())
        .unwrap();
    let sub = data.subset(&[3, 0, 7]).unwrap();
    assert_eq!(
        sub.lengths(),
        Some(&[lengths[3], lengths[0], lengths[7]][..])
    );
    let (train, valid) = data.split(0.25, &mut StdRng::seed_from_u64(2)).unwrap();
    let (ti, vi) = data
        .split_indices(0.25, &mut StdRng::seed_from_u64(2))
        .unwrap();
    let pick = |ix: &[usize]| ix.iter().map(|&i| lengths[i]).collect::<Vec<_>>();
    assert_eq!(train.lengths().unwrap(), pick(&ti).as_slice());
    assert_eq!(valid.lengths().unwrap(), pick(&vi).as_slice());
    assert!(data.clone().with_lengths(vec![1; 19]).is_err());
    let mut zero = lengths;
    zero[4] = 0;
    let err = data.with_lengths(zero).unwrap_err();
    assert!(err.to_string().contains("example 4 has length 0"), "{err}");
}

#[test]
fn a_model_predicts_sequences_of_different_lengths() {
    let (x, y, lengths) = last_value_task(12, 9);
    let data = Dataset::new(x.clone(), y).unwrap();
    let (network, _) = fit(&data.with_lengths(lengths.clone()).unwrap(), 1);
    let model = nn_train::Model {
        network,
        scaling: None,
    };
    let out = model.predict_sequences(&x, &lengths).unwrap();
    assert_eq!(out, model.network.evaluate_sequences(&x, &lengths).unwrap());
    assert_ne!(
        out,
        model.predict(&x).unwrap(),
        "the padding is read without lengths"
    );
    assert!(model.predict_sequences(&x, &lengths[..3]).is_err());
}
