//! Integration tests of `nn-train`: data sets, optimizers against reference numbers,
//! regularizer gradients against finite differences, and the training loop.
//!
//! `cargo xtask test` reruns the `gradients` module with a raised case count.

mod clipping;
mod common;
mod custom_layer;
mod custom_optimizer;
mod dataset;
mod gradients;
mod hostile;
mod loaders;
mod optimizers;
mod preprocess;
mod sequences;
mod trainer;
