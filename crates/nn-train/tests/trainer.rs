//! The training loop: reproducibility, dropout only in training, early stopping,
//! save and resume, divergence, stopping rules, batching policy, diagnosis.

use nn_activations::{Identity, Relu};
use nn_core::{Dropout, HalfSquaredError, Network, SoftmaxCrossEntropy};
use nn_train::{
    Adam, Control, Diagnosis, EarlyStopping, EpochRecord, History, L2, LastBatch, Momentum, Sgd,
    StopReason, TrainError, Trainer, TrainerConfig, evaluate,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::common::{blobs, classifier, regressor, sine};

fn adam_config(epochs: usize) -> TrainerConfig<f64> {
    TrainerConfig {
        epochs,
        batch_size: 8,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer: Box::new(Adam::default()),
        schedule: Box::new(0.01),
        dropout: Some(Dropout::new(vec![0.1, 0.3]).unwrap()),
        regularizer: Some(Box::new(L2::new(1e-3))),
        seed: 77,
        ..TrainerConfig::default()
    }
}

/// Records without their wall times, which are the only thing allowed to differ.
fn timeless(h: &History) -> Vec<EpochRecord> {
    h.epochs
        .iter()
        .map(|r| EpochRecord {
            seconds: 0.0,
            ..r.clone()
        })
        .collect()
}

#[test]
fn the_same_seed_gives_bit_identical_weights_and_history() {
    let (train, valid) = blobs(20, 1)
        .split(0.25, &mut StdRng::seed_from_u64(0))
        .unwrap();
    let run = |seed: u64| {
        let mut net = classifier(5);
        let mut config = adam_config(4);
        config.seed = seed;
        let history = Trainer::new(config)
            .unwrap()
            .fit(&mut net, &train, Some(&valid))
            .unwrap();
        (net, timeless(&history))
    };
    let (a, ha) = run(77);
    let (b, hb) = run(77);
    assert_eq!(a, b);
    assert_eq!(ha, hb);
    let (c, _) = run(78);
    assert_ne!(a, c, "another seed shuffles and drops differently");
}

#[test]
fn dropout_is_used_in_training_only() {
    let (train, valid) = blobs(20, 2)
        .split(0.25, &mut StdRng::seed_from_u64(1))
        .unwrap();
    let mut net = classifier(3);
    let history = Trainer::new(adam_config(3))
        .unwrap()
        .fit(&mut net, &train, Some(&valid))
        .unwrap();
    // E_v was computed without dropout: it equals a plain evaluation of the final weights.
    let (e_v, acc) = evaluate(&net, &valid, &SoftmaxCrossEntropy).unwrap();
    let last = history.epochs.last().unwrap();
    assert!((last.validation_loss.unwrap() - e_v).abs() < 1e-12);
    assert_eq!(last.validation_accuracy, acc);
    // Evaluating is deterministic and unaffected by an earlier dropout pass.
    let x = valid.inputs();
    let plain = net.evaluate(x).unwrap();
    let mut ws = net.workspace();
    net.evaluate_with_dropout(
        x,
        &mut ws,
        &Dropout::new(vec![0.5, 0.5]).unwrap(),
        &mut StdRng::seed_from_u64(4),
    )
    .unwrap();
    assert_eq!(net.evaluate_with(x, &mut ws).unwrap().clone_owned(), plain);
}

#[test]
fn early_stopping_restores_exactly_the_best_epochs_weights() {
    let (train, valid) = blobs(20, 3)
        .split(0.25, &mut StdRng::seed_from_u64(2))
        .unwrap();
    // With min_delta = 10, no epoch after the first counts as an improvement: training
    // stops after 1 + patience epochs and must hand back epoch 1's weights.
    let mut config = adam_config(10);
    config.early_stopping = Some(EarlyStopping {
        patience: 2,
        min_delta: 10.0,
    });
    let mut stopped = classifier(4);
    let history = Trainer::new(config)
        .unwrap()
        .fit(&mut stopped, &train, Some(&valid))
        .unwrap();
    assert_eq!(history.stop, StopReason::EarlyStopping);
    assert_eq!(history.epochs.len(), 3);
    assert_eq!(history.best_epoch, Some(1));

    let mut one_epoch = classifier(4);
    Trainer::new(adam_config(1))
        .unwrap()
        .fit(&mut one_epoch, &train, Some(&valid))
        .unwrap();
    assert_eq!(stopped, one_epoch);
}

#[test]
fn resuming_from_a_checkpoint_equals_never_stopping() {
    let (train, valid) = blobs(20, 5)
        .split(0.25, &mut StdRng::seed_from_u64(3))
        .unwrap();
    let mut straight = classifier(6);
    let full = Trainer::new(adam_config(5))
        .unwrap()
        .fit(&mut straight, &train, Some(&valid))
        .unwrap();

    let mut net = classifier(6);
    let mut first = Trainer::new(adam_config(3)).unwrap();
    first.fit(&mut net, &train, Some(&valid)).unwrap();
    let bytes = first.checkpoint_bytes(&net).unwrap();
    drop((first, net));

    // The resumed run is configured as the whole run (5 epochs) and trains the 2 left.
    let mut second = Trainer::new(adam_config(5)).unwrap();
    let mut resumed = second.resume_from_bytes(&bytes).unwrap();
    assert_eq!(second.epochs_done(), 3);
    let rest = second.fit(&mut resumed, &train, Some(&valid)).unwrap();
    assert_eq!(resumed, straight);
    assert_eq!(timeless(&rest), timeless(&full)[3..].to_vec());
    // A run that has its length trains nothing more, until it is made longer.
    let more = second.fit(&mut resumed, &train, Some(&valid)).unwrap();
    assert!(more.epochs.is_empty());
    second.set_epochs(6).unwrap();
    assert_eq!(
        second.fit(&mut resumed, &train, None).unwrap().epochs.len(),
        1
    );
    assert_eq!(second.epochs_done(), 6);

    // Settings that decide the bits must match, or be allowed to change on purpose.
    for (changed, name) in [
        (
            TrainerConfig {
                batch_size: 7,
                ..adam_config(5)
            },
            "batch_size was \"8\", is \"7\"",
        ),
        (
            TrainerConfig {
                optimizer: Box::new(Adam {
                    beta2: 0.99,
                    ..Adam::default()
                }),
                ..adam_config(5)
            },
            "optimizer was",
        ),
        (
            TrainerConfig {
                threads: 2,
                schedule: Box::new(0.5),
                ..adam_config(5)
            },
            "schedule was",
        ),
    ] {
        let mut other = Trainer::new(changed).unwrap();
        let err = other.resume_from_bytes(&bytes).unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
        assert_eq!(other.epochs_done(), 0, "a refused resume changes nothing");
    }
    let mut moved = Trainer::new(TrainerConfig {
        threads: 2,
        ..adam_config(5)
    })
    .unwrap();
    let err = moved.resume_from_bytes(&bytes).unwrap_err();
    assert!(
        err.to_string().contains("threads was \"1\", is \"2\""),
        "{err}"
    );
    moved.allow_changes(&["threads"]).unwrap();
    let mut on_two = moved.resume_from_bytes(&bytes).unwrap();
    moved.fit(&mut on_two, &train, Some(&valid)).unwrap();
    assert_eq!(moved.epochs_done(), 5);

    // A checkpoint is a model file too, and another optimizer's state is refused.
    assert!(Network::<f64>::from_safetensors(&bytes).is_ok());
    let mut other = Trainer::new(TrainerConfig::<f64> {
        optimizer: Box::new(Momentum::default()),
        ..adam_config(1)
    })
    .unwrap();
    assert!(matches!(
        other.resume_from_bytes(&bytes),
        Err(TrainError::Checkpoint(_))
    ));
}

#[test]
fn divergence_stops_with_the_epoch_and_batch_and_keeps_finite_weights() {
    let data = sine(32);
    let mut net = regressor(1);
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: 50,
        batch_size: 8,
        optimizer: Box::new(Sgd),
        schedule: Box::new(1e6),
        ..TrainerConfig::default()
    })
    .unwrap();
    let err = trainer.fit(&mut net, &data, None).unwrap_err();
    let TrainError::NonFinite { epoch, batch, .. } = err else {
        panic!("expected NonFinite, got {err}")
    };
    assert!(epoch >= 1 && (1..=4).contains(&batch));
    assert!(err.to_string().starts_with(&format!(
        "training diverged in epoch {epoch}, batch {batch}"
    )));
    let mut finite = true;
    net.visit_params(|_, p| finite &= p.iter().all(|v| v.is_finite()));
    assert!(finite);
}

#[test]
fn observer_and_target_error_stop_training() {
    let data = sine(16);
    let mut net = regressor(2);
    let mut seen = Vec::new();
    let history = Trainer::new(TrainerConfig::<f64> {
        epochs: 10,
        ..TrainerConfig::default()
    })
    .unwrap()
    .fit_with(&mut net, &data, None, |r| {
        seen.push(r.epoch);
        if r.epoch == 2 {
            Control::Stop
        } else {
            Control::Continue
        }
    })
    .unwrap();
    assert_eq!(seen, vec![1, 2]);
    assert_eq!(history.stop, StopReason::Observer);

    let history = Trainer::new(TrainerConfig::<f64> {
        epochs: 10,
        target_error: Some(1e9),
        ..TrainerConfig::default()
    })
    .unwrap()
    .fit(&mut regressor(2), &data, None)
    .unwrap();
    assert_eq!(
        (history.stop, history.epochs.len()),
        (StopReason::TargetError, 1)
    );
}

#[test]
fn the_last_partial_batch_is_kept_or_dropped_as_configured() {
    let data = sine(10); // batches of 4: 4 + 4 + 2
    for (policy, steps) in [(LastBatch::Keep, 3), (LastBatch::Drop, 2)] {
        let mut trainer = Trainer::new(TrainerConfig::<f64> {
            epochs: 2,
            batch_size: 4,
            last_batch: policy,
            ..TrainerConfig::default()
        })
        .unwrap();
        trainer.fit(&mut regressor(3), &data, None).unwrap();
        assert_eq!(
            trainer.optimizer_state().params[0].step,
            2 * steps,
            "{policy:?}"
        );
    }
}

#[test]
fn the_history_reports_the_regularized_cost_separately() {
    let data = sine(16);
    let config = TrainerConfig::<f64> {
        epochs: 2,
        regularizer: Some(Box::new(L2::new(0.1))),
        ..TrainerConfig::default()
    };
    let mut net = regressor(4);
    let history = Trainer::new(config)
        .unwrap()
        .fit(&mut net, &data, None)
        .unwrap();
    let mut penalty = 0.0;
    net.visit_params(|_, p| penalty += 0.5 * 0.1 * p.iter().map(|w| w * w).sum::<f64>());
    let last = history.epochs.last().unwrap();
    assert!((last.train_cost - (last.train_loss + penalty)).abs() < 1e-12);
}

#[test]
fn invalid_configurations_and_data_are_rejected() {
    assert!(
        Trainer::<f64>::new(TrainerConfig {
            batch_size: 0,
            ..TrainerConfig::default()
        })
        .is_err()
    );
    assert!(
        Trainer::<f64>::new(TrainerConfig {
            schedule: Box::new(-0.1),
            ..TrainerConfig::default()
        })
        .is_err()
    );
    assert!(
        Trainer::<f64>::new(TrainerConfig {
            target_error: Some(f64::NAN),
            ..TrainerConfig::default()
        })
        .is_err()
    );
    let es = Some(EarlyStopping {
        patience: 0,
        min_delta: 0.0,
    });
    assert!(
        Trainer::<f64>::new(TrainerConfig {
            early_stopping: es,
            ..TrainerConfig::default()
        })
        .is_err()
    );
    let err = Trainer::<f64>::new(TrainerConfig::default())
        .unwrap()
        .fit(&mut classifier(1), &sine(8), None)
        .unwrap_err();
    assert!(err.to_string().contains("the training set has 1 inputs and 1 targets per example, the network takes 2 and gives 3"), "{err}");
    let mut wrong_dropout = TrainerConfig::<f64> {
        dropout: Some(Dropout::new(vec![0.1]).unwrap()),
        ..TrainerConfig::default()
    };
    wrong_dropout.loss = Box::new(HalfSquaredError);
    assert!(
        Trainer::new(wrong_dropout)
            .unwrap()
            .fit(&mut regressor(1), &sine(8), None)
            .is_err()
    );
}

fn history(pairs: &[(f64, f64)]) -> History {
    let epochs = pairs
        .iter()
        .enumerate()
        .map(|(i, &(t, v))| EpochRecord {
            epoch: i + 1,
            train_loss: t,
            train_cost: t,
            validation_loss: Some(v),
            train_accuracy: None,
            validation_accuracy: None,
            learning_rate: 0.1,
            seconds: 0.0,
        })
        .collect();
    History {
        epochs,
        stop: StopReason::Epochs,
        best_epoch: None,
    }
}

#[test]
fn diagnose_names_under_and_overfitting_with_the_figures() {
    let over = history(&[(1.0, 1.0), (0.5, 0.6), (0.2, 0.7), (0.05, 0.9)]).diagnose();
    assert!(
        matches!(over, Diagnosis::Overfitting { best_validation: (v, 2), .. } if v == 0.6),
        "{over:?}"
    );
    assert!(
        over.to_string()
            .starts_with("overfitting: E_t is 0.0500 but E_v is 0.9000 (best 0.6000 in epoch 2)")
    );
    let under = history(&[(1.0, 1.1), (0.98, 1.05), (0.97, 1.02)]).diagnose();
    assert!(matches!(under, Diagnosis::Underfitting { .. }), "{under:?}");
    let good = history(&[(1.0, 1.0), (0.4, 0.45), (0.1, 0.12)]).diagnose();
    assert!(matches!(good, Diagnosis::GoodFit { .. }), "{good:?}");
    assert_eq!(history(&[(1.0, 1.0)]).diagnose(), Diagnosis::NotEnoughData);
}

#[test]
fn multithreaded_training_is_deterministic_and_agrees_with_one_thread() {
    let (train, valid) = blobs(100, 6)
        .split(0.2, &mut StdRng::seed_from_u64(5))
        .unwrap();
    let run = |threads: usize, dropout: bool, fused: bool| {
        let mut config = adam_config(3);
        config.batch_size = 64;
        config.threads = threads;
        config.dropout = dropout.then(|| Dropout::new(vec![0.1, 0.3, 0.3]).unwrap());
        if fused {
            // Plain SGD without a regularizer: the fused update, split by rows.
            config.optimizer = Box::new(nn_train::Sgd);
            config.regularizer = None;
        }
        // The 64×256 layer (16,384 weights) is split between the threads, the two small
        // ones run on the calling thread (nn-core splits only layers that gain).
        let mut net = Network::builder(2)
            .layer(256, Relu)
            .layer(64, Relu)
            .layer(3, Identity)
            .build(&mut StdRng::seed_from_u64(8))
            .unwrap();
        let history = Trainer::new(config)
            .unwrap()
            .fit(&mut net, &train, Some(&valid))
            .unwrap();
        (net, timeless(&history))
    };
    for fused in [false, true] {
        // With a fixed thread count, the same result every run (dropout included).
        assert_eq!(run(3, true, fused), run(3, true, fused));
        assert_eq!(run(2, true, fused), run(2, true, fused));
        // Each neuron's arithmetic does not depend on the thread that owns it, so the
        // split agrees with one thread up to the rounding of a different blocking.
        let (one, h1) = run(1, true, fused);
        let (two, h2) = run(2, true, fused);
        for (a, b) in one
            .dense_layers()
            .unwrap()
            .iter()
            .zip(two.dense_layers().unwrap())
        {
            for (x, y) in a.weight().iter().zip(b.weight().iter()) {
                assert!((x - y).abs() < 1e-9, "{x} vs {y}");
            }
        }
        assert!((h1.last().unwrap().train_loss - h2.last().unwrap().train_loss).abs() < 1e-9);
    }
    assert!(
        Trainer::<f64>::new(TrainerConfig {
            threads: 0,
            ..TrainerConfig::default()
        })
        .is_err()
    );
}

/// Plain SGD that does not announce itself as such: the trainer takes the general path.
struct UnfusedSgd;

impl nn_train::Optimizer<f64> for UnfusedSgd {
    fn update(
        &self,
        ctx: &nn_train::StepContext<f64>,
        param: &mut [f64],
        grad: &[f64],
        _: &mut nn_train::ParamState<f64>,
    ) {
        for (p, g) in param.iter_mut().zip(grad) {
            *p -= ctx.learning_rate * g;
        }
    }
}

#[test]
fn fused_plain_sgd_trains_like_the_general_path() {
    let (train, valid) = blobs(20, 7)
        .split(0.25, &mut StdRng::seed_from_u64(6))
        .unwrap();
    let run = |optimizer: Box<dyn nn_train::Optimizer<f64>>| {
        let mut config = adam_config(3);
        config.optimizer = optimizer;
        config.regularizer = None;
        let mut net = classifier(9);
        let history = Trainer::new(config)
            .unwrap()
            .fit(&mut net, &train, Some(&valid))
            .unwrap();
        (net, history)
    };
    let (fused, hf) = run(Box::new(Sgd));
    let (general, hg) = run(Box::new(UnfusedSgd));
    for (a, b) in fused
        .dense_layers()
        .unwrap()
        .iter()
        .zip(general.dense_layers().unwrap())
    {
        for (x, y) in a.weight().iter().zip(b.weight().iter()) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }
    assert!((hf.epochs[2].train_loss - hg.epochs[2].train_loss).abs() < 1e-12);
}
