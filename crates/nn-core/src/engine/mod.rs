//! The fast engine: the notes' passes over networks of dense layers, shared between a
//! workspace's threads (each layer split by inputs or by examples), with the next batch
//! gathered ahead by threads that would wait, the plain-SGD update fused into
//! backpropagation, and (at batch sizes below four) the next example's first-layer
//! product computed while the weights are in the cache. What it computes is what
//! [`crate::reference`] computes; `docs/ARCHITECTURE.md` describes how.
//!
//! Modules, each depending only on those listed before it: `rows` (raw views of
//! disjoint blocks), `team` (the threads), `split` (how a layer's work is divided, and
//! the fork), `source` (a pass's input), `ahead` (gathering the next batch),
//! `next_product`, `workspace` (the buffers), then the passes: `forward`, `sink` (where
//! the backward pass writes), `backprop`,
//! `feed`, and `examples` (a network of any layers, split by examples).

pub(crate) mod adjust;
pub(crate) mod ahead;
pub(crate) mod backprop;
pub(crate) mod evaluate;
pub(crate) mod examples;
pub(crate) mod feed;
pub(crate) mod forward;
pub(crate) mod next_product;
pub(crate) mod rows;
pub(crate) mod sink;
pub(crate) mod source;
pub(crate) mod split;
pub(crate) mod team;
pub(crate) mod workspace;
