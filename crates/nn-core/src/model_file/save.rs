//! Writing a network to a model file (format version 2).

use std::collections::HashMap;
use std::path::Path;

use nn_math::Real;
use serde_json::{Value, json};

use super::{
    Extras, FORMAT_NAME, FORMAT_VERSION, RESERVED_KEYS, dtype_of, serialize, stored_tensor,
    to_le_bytes,
};
use crate::{CoreError, ModelFileError, Network, ParamSpec};

/// A tensor's stored shape: `[rows]` for a vector, `[out, in, kh, kw]` for a
/// convolution kernel, `[rows, cols]` for a matrix.
pub(crate) fn stored_shape(spec: &ParamSpec) -> Vec<usize> {
    if let Some(dims) = spec.kernel {
        dims.to_vec()
    } else if spec.vector {
        vec![spec.rows]
    } else {
        vec![spec.rows, spec.cols]
    }
}

impl<T: Real> Network<T> {
    /// The network as the bytes of a safetensors model file (see the module docs and
    /// `docs/model-files.md` for the layout).
    ///
    /// # Errors
    /// [`ModelFileError::Unsavable`] if a custom activation is named like a built-in one,
    /// a user's layer calls itself `"dense"`, or `T` is neither `f32` nor `f64`.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, CoreError> {
        self.to_safetensors_with(&Extras::default())
    }

    /// As [`to_safetensors`](Network::to_safetensors), with extra tensors and metadata
    /// beside the network; [`from_safetensors`](Network::from_safetensors) ignores them
    /// and [`super::read_extras`] reads them back.
    ///
    /// # Errors
    /// As [`to_safetensors`](Network::to_safetensors), and
    /// [`ModelFileError::Unsavable`] for an extra name or key that clashes with the model's.
    pub fn to_safetensors_with(&self, extras: &Extras<T>) -> Result<Vec<u8>, CoreError> {
        let (dtype, dtype_name) = dtype_of::<T>()?;
        let mut layers_json = Vec::new();
        let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (k, layer) in self.layers().enumerate() {
            if layer.kind() == "dense" && layer.as_dense().is_none() {
                return Err(ModelFileError::Unsavable(format!(
                    "layer {k} is a user's layer of kind \"dense\", the built-in layer's name; \
                     give it another"
                ))
                .into());
            }
            layers_json.push(json!({
                "kind": layer.kind(),
                "n_inputs": layer.n_inputs(),
                "width": layer.n_outputs(),
                "settings": layer.settings()?,
            }));
            layer.visit_params(&mut |spec, values| {
                let name = format!("layers.{k}.{}", spec.name);
                buffers.push(stored_tensor(name, &spec, values, dtype));
            });
        }
        for (name, values) in &extras.tensors {
            if name.starts_with("layers.") {
                return Err(ModelFileError::Unsavable(format!(
                    "extra tensor {name:?} clashes with the layers"
                ))
                .into());
            }
            let mut bytes = Vec::new();
            to_le_bytes(values.iter().copied(), dtype, &mut bytes);
            buffers.push((name.clone(), vec![values.len()], bytes));
        }
        let mut metadata = HashMap::from([
            ("format".to_owned(), FORMAT_NAME.to_owned()),
            ("format_version".to_owned(), FORMAT_VERSION.to_string()),
            ("scalar".to_owned(), dtype_name.to_owned()),
            ("n_inputs".to_owned(), self.n_inputs().to_string()),
            ("layers".to_owned(), Value::Array(layers_json).to_string()),
        ]);
        for (key, value) in &extras.metadata {
            if RESERVED_KEYS.contains(&key.as_str()) {
                return Err(ModelFileError::Unsavable(format!(
                    "extra metadata key {key:?} is the model's own"
                ))
                .into());
            }
            metadata.insert(key.clone(), value.clone());
        }
        serialize(&buffers, dtype, metadata)
    }

    /// Writes the network to a model file (see [`to_safetensors`](Network::to_safetensors)).
    ///
    /// # Errors
    /// As [`to_safetensors`](Network::to_safetensors), or [`ModelFileError::Io`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CoreError> {
        let bytes = self.to_safetensors()?;
        std::fs::write(path.as_ref(), bytes).map_err(|source| {
            ModelFileError::Io {
                path: path.as_ref().display().to_string(),
                source,
            }
            .into()
        })
    }
}
