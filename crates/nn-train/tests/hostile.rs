//! Inputs a hostile or careless caller could give (issue "Hostile input"): sizes that
//! cannot be had, values that overflow the scalar type, counters beyond any real run.
//! Each is an error that says what is wrong; none panics or aborts.

use nn_core::{Network, SoftmaxCrossEntropy};
use nn_train::{
    ConfusionMatrix, CsvOptions, TrainError, Trainer, TrainerConfig, one_hot, parse_csv,
};

use crate::common::{blobs, classifier};

#[test]
fn sizes_that_cannot_be_had_are_errors() {
    // 2⁴⁰ classes × 1 label in f32: 4 TiB.
    assert!(matches!(
        one_hot::<f32>(&[0], 1 << 40),
        Err(TrainError::Data(_))
    ));
    // (2³²)² counts overflow usize.
    let err = ConfusionMatrix::new(&[0], &[0], 1 << 32).unwrap_err();
    assert!(err.to_string().contains("overflows"), "{err}");
}

#[test]
fn a_csv_value_beyond_the_scalar_type_is_refused() {
    let text = "1e39,0.5,1\n2.0,0.25,0\n";
    let opts = CsvOptions::default();
    assert!(parse_csv::<f64>("t.csv", text, &opts).is_ok());
    let err = parse_csv::<f32>("t.csv", text, &opts).unwrap_err();
    assert!(err.to_string().contains("line 1, column 1"), "{err}");
    assert!(err.to_string().contains("out of range for f32"), "{err}");
    // A label column far past the rows is named as given, counted from 1.
    let opts = CsvOptions {
        label_column: Some(usize::MAX),
        ..CsvOptions::default()
    };
    let err = parse_csv::<f64>("t.csv", "1,2\n", &opts).unwrap_err();
    assert!(err.to_string().contains(&usize::MAX.to_string()), "{err}");
}

#[test]
fn checkpoint_counters_beyond_any_run_are_refused() {
    let mut net: Network<f64> = classifier(1);
    let config = || TrainerConfig::<f64> {
        epochs: 1,
        batch_size: 8,
        loss: Box::new(SoftmaxCrossEntropy),
        ..TrainerConfig::default()
    };
    let mut trainer = Trainer::new(config()).unwrap();
    trainer.fit(&mut net, &blobs(8, 1), None).unwrap();
    let bytes = trainer.checkpoint_bytes(&net).unwrap();
    let with = |key: &str, value: &str| {
        let mut extras = nn_core::read_extras::<f64>(&bytes, "").unwrap();
        extras.tensors.retain(|(n, _)| !n.starts_with("layers."));
        extras.metadata.retain(|(k, _)| k.starts_with("trainer."));
        for (k, v) in &mut extras.metadata {
            if k == key {
                *v = value.to_owned();
            }
        }
        net.to_safetensors_with(&extras).unwrap()
    };
    let huge = u64::MAX.to_string();
    for (key, value) in [
        ("trainer.epochs_done", huge.clone()),
        ("trainer.steps", format!("{huge},1,1,1")),
        ("trainer.buffers", "1000000,0,0,0".to_owned()),
    ] {
        let err = Trainer::new(config())
            .unwrap()
            .resume_from_bytes(&with(key, &value))
            .unwrap_err();
        assert!(matches!(err, TrainError::Checkpoint(_)), "{key}: {err}");
    }
    // Unchanged, it resumes.
    assert!(
        Trainer::new(config())
            .unwrap()
            .resume_from_bytes(&with("none", ""))
            .is_ok()
    );
}

/// `bytes` gzip-compressed.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn a_gzip_file_is_inflated_no_further_than_its_header_allows() {
    // One 28×28 image announced, 64 MiB of zeros behind it: compressed, about 64 KB.
    let mut raw = vec![0u8, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28];
    raw.resize(16 + (64 << 20), 0);
    let bytes = gzip(&raw);
    drop(raw);
    assert!(bytes.len() < 1 << 20, "{} bytes", bytes.len());
    let err = nn_train::parse_idx_images("bomb.gz", bytes).unwrap_err();
    // The length check fails on the announced size plus one byte, not on 64 MiB.
    assert!(err.to_string().contains("785"), "{err}");

    // Bytes after a gzip stream are an error, as after a raw file.
    let mut labels = gzip(&[0, 0, 8, 1, 0, 0, 0, 2, 3, 4]);
    assert_eq!(
        nn_train::parse_idx_labels("l.gz", labels.clone()).unwrap(),
        [3, 4]
    );
    labels.extend_from_slice(b"trailing");
    assert!(nn_train::parse_idx_labels("l.gz", labels).is_err());
}

#[test]
fn optimizer_settings_are_checked_in_the_precision_they_are_used_in() {
    use nn_train::{Adam, Optimizer, RmsProp};
    let tiny_eps = Adam {
        eps: 1e-50,
        ..Adam::default()
    };
    assert!(Optimizer::<f64>::validate(&tiny_eps).is_ok());
    let err = Optimizer::<f32>::validate(&tiny_eps).unwrap_err();
    assert!(err.to_string().contains("eps"), "{err}");
    let close_beta = Adam {
        beta2: 0.999_999_999,
        ..Adam::default()
    };
    assert!(Optimizer::<f64>::validate(&close_beta).is_ok());
    assert!(Optimizer::<f32>::validate(&close_beta).is_err());
    let rms = RmsProp {
        eps: 1e-60,
        ..RmsProp::default()
    };
    assert!(Optimizer::<f32>::validate(&rms).is_err());
}

/// A loss whose value is finite but whose gradient is NaN after `after` calls: what a
/// gradient overflow looks like to the trainer.
struct NanGradientAfter {
    after: usize,
    calls: std::sync::atomic::AtomicUsize,
}

impl nn_core::Loss<f64> for NanGradientAfter {
    fn loss(&self, output: &[f64], target: &[f64]) -> f64 {
        nn_core::HalfSquaredError.loss(output, target)
    }
    fn gradient(&self, output: &[f64], target: &[f64], grad: &mut [f64]) {
        nn_core::HalfSquaredError.gradient(output, target, grad);
        let n = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n >= self.after {
            grad.fill(f64::NAN);
        }
    }
}

#[test]
fn after_divergence_under_adam_the_optimizer_state_is_finite_and_training_can_go_on() {
    use nn_train::Adam;
    let data = crate::common::sine(32);
    let mut net = crate::common::regressor(1);
    // 32 examples a batch-epoch of 4 batches: the gradient turns NaN in epoch 2.
    let mut trainer = Trainer::new(TrainerConfig::<f64> {
        epochs: 5,
        batch_size: 8,
        optimizer: Box::new(Adam::default()),
        schedule: Box::new(1e-3),
        loss: Box::new(NanGradientAfter {
            after: 40,
            calls: Default::default(),
        }),
        ..TrainerConfig::default()
    })
    .unwrap();
    let err = trainer.fit(&mut net, &data, None).unwrap_err();
    assert!(
        matches!(err, TrainError::NonFinite { epoch: 2, .. }),
        "{err}"
    );
    let state = nn_core::read_extras::<f64>(&trainer.checkpoint_bytes(&net).unwrap(), "optimizer.")
        .unwrap();
    assert!(!state.tensors.is_empty());
    assert!(
        state
            .tensors
            .iter()
            .all(|(_, v)| v.iter().all(|x| x.is_finite())),
        "NaN left in Adam's state"
    );
    let mut finite = true;
    net.visit_params(|_, p| finite &= p.iter().all(|v| v.is_finite()));
    assert!(finite);
}

#[test]
fn non_finite_values_in_a_model_or_checkpoint_file_are_refused() {
    use nn_train::{Adam, Model, Scaling};
    let data = crate::common::sine(16);
    let mut net = crate::common::regressor(2);
    let mut trainer = Trainer::new(TrainerConfig::<f64> {
        epochs: 1,
        batch_size: 8,
        optimizer: Box::new(Adam::default()),
        ..TrainerConfig::default()
    })
    .unwrap();
    trainer.fit(&mut net, &data, None).unwrap();
    // A checkpoint whose Adam state holds a NaN.
    let bytes = trainer.checkpoint_bytes(&net).unwrap();
    let mut extras = nn_core::read_extras::<f64>(&bytes, "").unwrap();
    extras.tensors.retain(|(n, _)| !n.starts_with("layers."));
    extras.metadata.retain(|(k, _)| k.starts_with("trainer."));
    let first = extras
        .tensors
        .iter_mut()
        .find(|(n, _)| n.starts_with("optimizer."))
        .unwrap();
    first.1[0] = f64::NAN;
    let poisoned = net.to_safetensors_with(&extras).unwrap();
    let err = Trainer::new(TrainerConfig::<f64> {
        batch_size: 8,
        optimizer: Box::new(Adam::default()),
        ..TrainerConfig::default()
    })
    .unwrap()
    .resume_from_bytes(&poisoned)
    .unwrap_err();
    assert!(err.to_string().contains("not finite"), "{err}");
    // A model whose input scaling holds a NaN.
    let model = Model {
        network: net,
        scaling: Some(Scaling::standardize(data.inputs()).unwrap()),
    };
    let bytes = model.to_bytes().unwrap();
    let mut extras = nn_core::read_extras::<f64>(&bytes, "scaling.").unwrap();
    let scale = extras
        .tensors
        .iter_mut()
        .find(|(n, _)| n == "scaling.a")
        .unwrap();
    scale.1[0] = f64::NAN;
    let poisoned = model.network.to_safetensors_with(&extras).unwrap();
    assert!(Model::<f64>::from_bytes(&poisoned).is_err());
    assert!(Model::<f64>::from_bytes(&bytes).is_ok());
}

#[test]
fn a_schedule_that_reaches_zero_within_the_run_is_refused_at_once() {
    use nn_train::Cosine;
    let config = |epochs| TrainerConfig::<f64> {
        epochs,
        schedule: Box::new(Cosine {
            initial: 0.1,
            min: 0.0,
            period: 3,
        }),
        ..TrainerConfig::default()
    };
    assert!(Trainer::new(config(3)).is_ok());
    // Epoch 4 would have a rate of 0: refused before any training.
    let Err(err) = Trainer::new(config(4)) else {
        panic!("a schedule reaching 0 in epoch 4 was accepted");
    };
    assert!(err.to_string().contains("every configured epoch"), "{err}");
}
