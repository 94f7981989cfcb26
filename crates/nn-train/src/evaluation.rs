//! Evaluating a network on a data set: the mean loss and, for one-hot targets, the
//! accuracy (Algorithm 11's Validate), in chunks through a reused workspace.

use nn_core::{Loss, Network, Workspace};
use nn_math::Real;

use crate::{Dataset, TrainError};

/// The index of the largest entry (the predicted class).
pub(crate) fn argmax<T: Real>(xs: &[T]) -> usize {
    xs.iter()
        .enumerate()
        .fold((0, None::<T>), |(bi, bv), (i, &v)| match bv {
            Some(b) if b >= v => (bi, bv),
            _ => (i, Some(v)),
        })
        .0
}

/// `(mean loss, accuracy)` over a data set, evaluated `chunk` examples at a time through
/// `ws` (no dropout, no allocation per chunk).
pub(crate) fn evaluate_in_chunks<T: Real>(
    net: &Network<T>,
    data: &Dataset<T>,
    loss: &dyn Loss<T>,
    ws: &mut Workspace<T>,
    chunk: usize,
) -> Result<(f64, Option<f64>), TrainError> {
    let classes = data.classes();
    let chunk = chunk.clamp(1, data.len());
    let (mut loss_sum, mut correct) = (0.0, 0usize);
    for start in (0..data.len()).step_by(chunk) {
        let len = chunk.min(data.len() - start);
        let lengths = data.lengths().map(|l| &l[start..start + len]);
        ws.set_lengths(lengths.unwrap_or(&[]))?;
        let out = net.evaluate_with(&data.inputs().columns(start, len), ws)?;
        for c in 0..len {
            let (o, y) = (out.column(c), data.targets().column(start + c));
            let length = lengths.map(|l| l[c]);
            let l = net.example_loss(o.as_slice(), y.as_slice(), length, loss);
            loss_sum += l.as_f64();
            if let Some(cl) = &classes {
                correct += usize::from(argmax(o.as_slice()) == cl[start + c]);
            }
        }
    }
    let n = data.len() as f64;
    Ok((loss_sum / n, classes.map(|_| correct as f64 / n)))
}

/// Evaluates a network on a data set: the mean loss per example and, for one-hot
/// targets, the accuracy (the share of examples whose largest output is the target
/// class). Never uses dropout.
///
/// # Errors
/// [`TrainError::Data`] if the data set does not fit the network.
pub fn evaluate<T: Real>(
    net: &Network<T>,
    data: &Dataset<T>,
    loss: &dyn Loss<T>,
) -> Result<(f64, Option<f64>), TrainError> {
    if data.inputs().nrows() != net.n_inputs() || data.targets().nrows() != net.n_outputs() {
        return Err(TrainError::Data(
            "the data set does not fit the network".into(),
        ));
    }
    evaluate_in_chunks(net, data, loss, &mut net.workspace(), 256)
}
