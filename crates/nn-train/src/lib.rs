//! Training for the `nn` workspace: §3.2–3.4 of *Artificial Neural Networks — Getting Up
//! To Speed With The Math From Scratch* (the "notes"): mini-batches, validation,
//! regularization, optimizers, schedules and the training loop (Algorithm 11).
//!
//! # Your own optimizer in a few lines
//!
//! An optimizer is one method: update one parameter tensor from its gradient, keeping
//! whatever state it needs in the [`ParamState`] it is handed. Here is Lion (Chen et
//! al., 2023) from outside this crate, training a network:
//!
//! ```
//! use nn_train::{Dataset, Optimizer, ParamState, StepContext, Trainer, TrainerConfig};
//! use nn_core::{HalfSquaredError, Network};
//! use nn_activations::{Identity, Tanh};
//! use nn_math::{Matrix, Real};
//! use rand::SeedableRng;
//!
//! /// Lion: m ← β₂·m + (1 − β₂)·g after stepping p ← p − α·sign(β₁·m + (1 − β₁)·g).
//! struct Lion { beta1: f64, beta2: f64 }
//!
//! impl<T: Real> Optimizer<T> for Lion {
//!     fn update(&self, ctx: &StepContext<T>, param: &mut [T], grad: &[T], state: &mut ParamState<T>) {
//!         let (b1, b2) = (T::lit(self.beta1), T::lit(self.beta2));
//!         let m = state.buffer(0, param.len());
//!         for ((p, &g), m) in param.iter_mut().zip(grad).zip(m) {
//!             let c = b1 * *m + (T::one() - b1) * g;
//!             let sign = if c > T::zero() { T::one() } else if c < T::zero() { -T::one() } else { T::zero() };
//!             *p -= ctx.learning_rate * sign;
//!             *m = b2 * *m + (T::one() - b2) * g;
//!         }
//!     }
//! }
//!
//! // y = sin(x) on [−2, 2], learned by a 1-16-1 network.
//! let x = Matrix::from_fn(1, 64, |_, j| -2.0 + 4.0 * j as f64 / 63.0);
//! let y = x.map(f64::sin);
//! let data = Dataset::new(x, y)?;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(3);
//! let mut net = Network::<f64>::builder(1).layer(16, Tanh).layer(1, Identity).build(&mut rng)?;
//! let mut trainer = Trainer::new(TrainerConfig {
//!     epochs: 200,
//!     batch_size: 16,
//!     optimizer: Box::new(Lion { beta1: 0.9, beta2: 0.99 }),
//!     schedule: Box::new(3e-3),
//!     ..TrainerConfig::default()
//! })?;
//! let history = trainer.fit(&mut net, &data, None)?;
//! let (first, last) = (history.epochs[0].train_loss, history.epochs.last().unwrap().train_loss);
//! assert!(last < first / 10.0, "loss fell from {first} to {last}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is here
//!
//! | notes | here |
//! |---|---|
//! | Algorithm 1, 11 Learn, CalculateGradient, Validate | [`Trainer`], [`TrainerConfig`], [`History`] |
//! | Algorithm 11's trainers / validators | [`Dataset::split`] (stratified for one-hot targets) |
//! | Algorithm 9/10 ApplyGradient | [`Sgd`] |
//! | Algorithm 20/21 momentum | [`NotesMomentum`]; PyTorch-style [`Momentum`] (and Nesterov) |
//! | §3.4.2 RMSProp, §3.4.3 Adam (TODO in the notes) | [`RmsProp`], [`Adam`], [`AdamW`] |
//! | eq. 24–29, Algorithm 12–14 | [`Regularizer`]: [`L1`], [`L2`], [`ElasticNet`] |
//! | Algorithm 15–19 dropout | [`TrainerConfig::dropout`] |
//! | §3.2 "the learning rate may vary over time" | [`Schedule`]: a number, [`StepDecay`], [`Exponential`], [`InverseTime`], [`Cosine`] |
//! | §3.3.1–3.3.2 under- and overfitting | [`History::diagnose`] |
//! | §4.1 preprocessing (TODO in the notes) | [`Scaling`], [`one_hot`], [`argmax_columns`], [`Model`] |
//! | data files | [`load_mnist`], [`read_idx_images`], [`read_csv`] |
//! | metrics | [`accuracy`], [`ConfusionMatrix`] |
//!
//! The library never prints; [`Trainer::fit_with`] hands each epoch's record to a closure.

mod batch;
mod checkpoint;
mod clip;
mod config;
mod dataset;
pub mod embedded;
mod error;
mod evaluation;
mod history;
mod load;
mod metrics;
mod model;
mod optimizer;
mod preprocess;
mod regularizer;
mod schedule;
mod settings;
mod trainer;

pub use clip::clip_by_global_norm;
pub use config::{Control, EarlyStopping, LastBatch, TrainerConfig};
pub use dataset::Dataset;
pub use error::TrainError;
pub use evaluation::evaluate;
pub use history::{Diagnosis, EpochRecord, History, StopReason};
pub use load::{
    CsvOptions, Header, IdxImages, MnistSplit, load_mnist, parse_csv, parse_idx_images,
    parse_idx_labels, read_csv, read_idx_images, read_idx_labels,
};
pub use metrics::{ConfusionMatrix, accuracy};
pub use model::Model;
pub use nn_core::argmax_columns;
pub use optimizer::{
    Adam, AdamW, Momentum, NotesMomentum, Optimizer, OptimizerState, ParamState, RmsProp, Sgd,
    StepContext,
};
pub use preprocess::{ConstantFeatures, Scaling, ScalingKind, one_hot, pad_sequences};
pub use regularizer::{ElasticNet, L1, L2, Regularizer};
pub use schedule::{Cosine, Exponential, InverseTime, Schedule, StepDecay};
pub use settings::RUN_SETTINGS;
pub use trainer::Trainer;

/// The guide's code blocks (`docs/guide.md`), compiled and run as doc tests so that they
/// stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide.md")]
struct GuideDoctests;

/// The README's code blocks, compiled and run as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
