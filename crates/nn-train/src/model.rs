//! A trained network together with the input scaling it was trained behind, saved and
//! loaded as one model file, so that predictions on raw inputs work after loading.

use std::path::Path;

use nn_core::{Extras, Network, read_extras};
use nn_math::{Matrix, Real};

use crate::{Scaling, TrainError};

/// A network and the [`Scaling`] of its inputs (if any).
///
/// ```
/// use nn_train::{Model, Scaling};
/// use nn_core::Network;
/// use nn_activations::Identity;
/// use nn_math::Matrix;
/// use rand::SeedableRng;
///
/// let raw = Matrix::from_row_slice(1, 3, &[10.0, 20.0, 30.0]);
/// let scaling = Scaling::standardize(&raw)?;
/// let net = Network::<f64>::builder(1).layer(1, Identity).build(&mut rand::rngs::StdRng::seed_from_u64(0))?;
/// let model = Model { network: net, scaling: Some(scaling) };
/// let back = Model::from_bytes(&model.to_bytes()?)?;
/// assert_eq!(back.predict(&raw)?, model.predict(&raw)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Model<T: Real> {
    /// The trained network.
    pub network: Network<T>,
    /// The scaling applied to raw inputs before the network, if any.
    pub scaling: Option<Scaling<T>>,
}

impl<T: Real> Model<T> {
    /// The network's outputs for raw inputs (`n₀ × N`): scaled first, if the model has a
    /// scaling.
    ///
    /// # Errors
    /// [`TrainError::Data`] or [`TrainError::Core`] for inputs of the wrong shape.
    pub fn predict(&self, raw: &Matrix<T>) -> Result<Matrix<T>, TrainError> {
        match &self.scaling {
            Some(s) => {
                let mut x = raw.clone();
                s.apply(&mut x)?;
                Ok(self.network.evaluate(&x)?)
            }
            None => Ok(self.network.evaluate(raw)?),
        }
    }

    /// The network's outputs for raw sequences of different lengths (`lengths[b]` valid
    /// steps of example `b`, padded at the end): scaled first, then
    /// `Network::evaluate_sequences`.
    ///
    /// # Errors
    /// As [`predict`](Model::predict); a length of 0 or beyond a recurrent layer's steps,
    /// or a count that is not the number of examples.
    pub fn predict_sequences(
        &self,
        raw: &Matrix<T>,
        lengths: &[usize],
    ) -> Result<Matrix<T>, TrainError> {
        match &self.scaling {
            Some(s) => {
                let mut x = raw.clone();
                s.apply(&mut x)?;
                Ok(self.network.evaluate_sequences(&x, lengths)?)
            }
            None => Ok(self.network.evaluate_sequences(raw, lengths)?),
        }
    }

    /// The class probabilities of raw inputs (`n₀ × N`), scaled first if the model has
    /// a scaling: the softmax of each column of [`predict`](Model::predict)'s logits
    /// (see `Network::probabilities`), for a classifier trained with
    /// `SoftmaxCrossEntropy`.
    ///
    /// ```
    /// use nn_train::{Model, Scaling};
    /// use nn_core::Network;
    /// use nn_activations::{Identity, Relu};
    /// use nn_math::Matrix;
    /// use rand::SeedableRng;
    ///
    /// let raw = Matrix::from_fn(2, 6, |i, j| (10 * i + j) as f64);
    /// let net = Network::<f64>::builder(2).layer(8, Relu).layer(3, Identity)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(3))?;
    /// let model = Model { network: net, scaling: Some(Scaling::standardize(&raw)?) };
    /// let p = model.probabilities(&raw)?;
    /// assert!(p.column_iter().all(|c| (c.sum() - 1.0).abs() < 1e-12));
    /// let classes = model.predict_classes(&raw)?;
    /// assert!(classes.iter().all(|&c| c < 3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`predict`](Model::predict); [`TrainError::Core`] naming the example if an
    /// output is not finite.
    pub fn probabilities(&self, raw: &Matrix<T>) -> Result<Matrix<T>, TrainError> {
        let mut logits = self.predict(raw)?;
        nn_core::softmax_columns(&mut logits)?;
        Ok(logits)
    }

    /// The predicted class of each raw input: the index of its largest output (the
    /// first, on ties), its most probable class.
    ///
    /// # Errors
    /// As [`probabilities`](Model::probabilities).
    pub fn predict_classes(&self, raw: &Matrix<T>) -> Result<Vec<usize>, TrainError> {
        Ok(nn_core::predicted_classes(&self.predict(raw)?)?)
    }

    /// The model as the bytes of a model file: the network (readable by
    /// `Network::from_safetensors` and any safetensors reader) plus tensors `scaling.a`,
    /// `scaling.b` and metadata `scaling.kind`.
    ///
    /// # Errors
    /// A [`TrainError::Core`] if the network cannot be saved.
    pub fn to_bytes(&self) -> Result<Vec<u8>, TrainError> {
        let mut extras = Extras::default();
        if let Some(s) = &self.scaling {
            s.to_extras(&mut extras);
        }
        Ok(self.network.to_safetensors_with(&extras)?)
    }

    /// Reads a model from model-file bytes (a plain network file gives `scaling: None`).
    ///
    /// # Errors
    /// A [`TrainError::Core`] for an unreadable network, [`TrainError::Checkpoint`] for a
    /// corrupt scaling or one that does not fit the network's inputs.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TrainError> {
        let network = Network::from_safetensors(bytes)?;
        let scaling = Scaling::from_extras(&read_extras::<T>(bytes, "scaling.")?)?;
        if let Some(s) = &scaling
            && s.n_features() != network.n_inputs()
        {
            return Err(TrainError::Checkpoint(format!(
                "the scaling has {} features, the network {} inputs",
                s.n_features(),
                network.n_inputs()
            )));
        }
        Ok(Self { network, scaling })
    }

    /// Writes the model file.
    ///
    /// # Errors
    /// As [`to_bytes`](Model::to_bytes), or an I/O error (as [`TrainError::Load`]).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), TrainError> {
        let bytes = self.to_bytes()?;
        std::fs::write(path.as_ref(), bytes).map_err(|e| TrainError::Load {
            file: path.as_ref().display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Reads a model file.
    ///
    /// # Errors
    /// As [`from_bytes`](Model::from_bytes), or an I/O error.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, TrainError> {
        let bytes = std::fs::read(path.as_ref()).map_err(|e| TrainError::Load {
            file: path.as_ref().display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_bytes(&bytes)
    }
}
