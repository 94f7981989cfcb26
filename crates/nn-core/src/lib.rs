//! Dense layers, feed-forward networks and backpropagation: §2.2 and §3–3.2 of
//! *Artificial Neural Networks — Getting Up To Speed With The Math From Scratch* (the
//! "notes"), with the corrections of its errata.
//!
//! The notes' procedures are the API, batched with one example per column:
//!
//! | notes | here |
//! |---|---|
//! | Algorithm 2 Initialize | [`Network::builder`] … [`NetworkBuilder::build`] with an [`Init`] |
//! | Algorithm 3/4 ClearGradient | [`Network::clear_gradient`], [`Gradient::clear`] |
//! | Algorithm 5/6 Evaluate | [`Network::evaluate`], [`Network::evaluate_with`] |
//! | Algorithm 7/8 AdjustGradient (errata 2, 5) | [`Network::adjust_gradient`] |
//! | Algorithm 9/10 ApplyGradient | [`Network::apply_gradient`] |
//! | Algorithm 16–19 dropout (errata 4) | [`Network::evaluate_with_dropout`], [`Dropout`] |
//! | eq. 5 error function | [`HalfSquaredError`]; also [`SoftmaxCrossEntropy`] |
//! | saving and loading | [`Network::save`], [`Network::load`] (safetensors) |
//!
//! A training step allocates nothing once its [`Workspace`] has seen the batch size:
//!
//! ```
//! use nn_core::{Network, SoftmaxCrossEntropy};
//! use nn_activations::{Identity, Relu};
//! use nn_math::Matrix;
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let mut net = Network::<f32>::builder(4).layer(8, Relu).layer(3, Identity).build(&mut rng)?;
//! let (mut ws, mut grad) = (net.workspace(), net.gradient());
//! let x = Matrix::from_fn(4, 16, |i, j| ((i + j) % 5) as f32 / 5.0);
//! let y = Matrix::from_fn(3, 16, |i, j| if i == j % 3 { 1.0 } else { 0.0 }); // one-hot
//! for _ in 0..10 {
//!     net.clear_gradient(&mut grad)?;
//!     net.evaluate_with(&x, &mut ws)?;
//!     net.adjust_gradient(&mut ws, &y, &SoftmaxCrossEntropy, &mut grad)?;
//!     net.apply_gradient(&grad, 0.1)?;
//! }
//! # Ok::<(), nn_core::CoreError>(())
//! ```

mod builder;
mod dropout;
mod engine;
mod error;
pub mod gradcheck;
mod gradient;
mod init;
mod layers;
mod loss;
mod model_file;
mod network;
mod params;
mod perceptron;
mod predict;
pub mod reference;
mod scored;

pub use builder::NetworkBuilder;
pub use dropout::Dropout;
pub use engine::feed::Feed;
pub use engine::split::SplitRule;
pub use engine::workspace::Workspace;
pub use error::{CoreError, ModelFileError};
pub use gradient::{Gradient, LayerGradient, all_finite};
pub use init::Init;
pub use layers::activation::{LayerActivation, NeuronActivation};
pub use layers::{
    Conv, Conv2d, Dense, Elman, Gru, ImageShape, Layer, LayerClone, Lstm, ParamSpec, PerStep,
    Pool2d, Pooling, Saved, Sharing, Steps,
};
pub use loss::{HalfSquaredError, Loss, SoftmaxCrossEntropy, softmax};
pub use model_file::{
    ActivationResolver, Extras, FORMAT_NAME, FORMAT_VERSION, LayerRecord, LayerResolver, Precision,
    TorchNames, read_extras,
};
pub use network::{Layers, Network};
pub use params::{ParamId, ParamKind};
pub use perceptron::train_perceptron;
pub use predict::{argmax_columns, predicted_classes, softmax_columns};
/// The JSON crate of [`Layer::settings`], re-exported so that a layer of your own needs
/// no dependency of its own for it.
pub use serde_json;
