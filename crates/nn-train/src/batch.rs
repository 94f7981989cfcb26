//! One mini-batch of the training loop: its forward pass and how many of its examples
//! the network classified right.

use nn_core::{Dropout, Network, Workspace};
use nn_math::{Matrix, Real};
use rand::rngs::StdRng;

use crate::TrainError;
use crate::trainer::argmax;

/// One batch: the data set's inputs (one example per column), the batch's examples'
/// indices in it, and their classes (for accuracy) if the targets are one-hot.
pub(crate) struct Batch<'a, T: Real> {
    pub inputs: &'a Matrix<T>,
    pub indices: &'a [usize],
    pub classes: Option<&'a [usize]>,
}

impl<T: Real> Batch<'_, T> {
    /// The forward pass (with dropout, if any), stored in `ws` for the backward pass;
    /// returns how many examples were classified right (0 without classes).
    pub(crate) fn forward(
        &self,
        net: &Network<T>,
        dropout: Option<&Dropout>,
        rng: &mut StdRng,
        ws: &mut Workspace<T>,
    ) -> Result<usize, TrainError> {
        let out = match dropout {
            Some(d) => net.evaluate_columns_with_dropout(self.inputs, self.indices, ws, d, rng)?,
            None => net.evaluate_columns(self.inputs, self.indices, ws)?,
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
