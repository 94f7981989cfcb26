//! Integration tests of `nn-activations`: derivatives against finite differences,
//! numerical robustness, the notes' identities, the errata, and parameter validation.
//!
//! `cargo xtask test` runs the `derivatives` module again with a raised case count.

mod common;
mod derivatives;
mod errata;
mod identities;
mod parameters;
mod robustness;
