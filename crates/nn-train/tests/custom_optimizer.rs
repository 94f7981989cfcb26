//! Extension from outside: an optimizer defined here, in a crate that only uses
//! nn-train's public API, by implementing the one required method, trains a network.

use nn_core::{Network, SoftmaxCrossEntropy};
use nn_math::Real;
use nn_train::{Optimizer, ParamState, StepContext, TrainError, Trainer, TrainerConfig};

use crate::common::{blobs, classifier};

/// Adagrad (Duchi, Hazan & Singer, 2011): `s ← s + g²`, `p ← p − α·g / (√s + ε)`.
struct Adagrad {
    eps: f64,
}

impl<T: Real> Optimizer<T> for Adagrad {
    fn update(&self, ctx: &StepContext<T>, param: &mut [T], grad: &[T], state: &mut ParamState<T>) {
        let eps = T::lit(self.eps);
        let sum = state.buffer(0, param.len());
        for ((p, &g), s) in param.iter_mut().zip(grad).zip(sum) {
            *s += g * g;
            *p -= ctx.learning_rate * g / (s.sqrt() + eps);
        }
    }

    fn name(&self) -> &str {
        "adagrad"
    }

    fn validate(&self) -> Result<(), TrainError> {
        if self.eps > 0.0 {
            Ok(())
        } else {
            Err(TrainError::HyperParameter {
                owner: "Adagrad".into(),
                name: "eps",
                value: self.eps,
                requirement: "must be positive",
            })
        }
    }
}

#[test]
fn a_user_defined_optimizer_trains_a_classifier() {
    let data = blobs(30, 4);
    let mut net: Network<f64> = classifier(2);
    let mut trainer = Trainer::new(TrainerConfig {
        epochs: 30,
        batch_size: 10,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer: Box::new(Adagrad { eps: 1e-10 }),
        schedule: Box::new(0.1),
        ..TrainerConfig::default()
    })
    .unwrap();
    let history = trainer.fit(&mut net, &data, None).unwrap();
    let last = history.epochs.last().unwrap();
    assert!(last.train_loss < 0.5 * history.epochs[0].train_loss);
    assert!(
        last.train_accuracy.unwrap() > 0.95,
        "accuracy {:?}",
        last.train_accuracy
    );
    // Its state is checkpointed like a built-in optimizer's.
    assert_eq!(trainer.optimizer_state().params.len(), 4);
    assert!(
        Trainer::<f64>::new(TrainerConfig {
            optimizer: Box::new(Adagrad { eps: 0.0 }),
            ..TrainerConfig::default()
        })
        .is_err()
    );
}
