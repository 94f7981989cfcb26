//! One mini-batch of the training loop: its forward pass and how many of its examples
//! the network classified right.

use nn_core::{Dropout, Feed, Network};
use nn_math::Real;
use rand::rngs::StdRng;

use crate::TrainError;
use crate::evaluation::argmax;

/// One batch: its examples' indices in the data set, the next batch's (empty if none),
/// and the data set's classes (for accuracy) if the targets are one-hot.
pub(crate) struct Batch<'a> {
    pub indices: &'a [usize],
    pub next: &'a [usize],
    pub classes: Option<&'a [usize]>,
    /// The data set's sequence lengths, if it has them.
    pub lengths: Option<&'a [usize]>,
}

impl Batch<'_> {
    /// The forward pass (with dropout, if any) through `feed`, stored in its workspace for
    /// the backward pass, while idle threads gather the next batch;
    /// returns how many examples were classified right (0 without classes).
    pub(crate) fn forward<T: Real>(
        &self,
        net: &Network<T>,
        dropout: Option<&Dropout>,
        rng: &mut StdRng,
        feed: &mut Feed<'_, '_, T>,
    ) -> Result<usize, TrainError> {
        let (cols, next) = (self.indices, self.next);
        match self.lengths {
            Some(all) => feed.workspace().set_lengths_of(all, cols)?,
            None => feed.workspace().set_lengths(&[])?,
        }
        let out = match dropout {
            Some(d) => feed.evaluate_with_dropout(net, cols, next, d, rng)?,
            None => feed.evaluate(net, cols, next)?,
        };
        Ok(self.classes.map_or(0, |classes| {
            self.indices
                .iter()
                .enumerate()
                .filter(|&(c, &i)| argmax(out.column(c).as_slice()) == classes[i])
                .count()
        }))
    }
}
