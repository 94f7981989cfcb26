//! Reading a network from a model file (format versions 1 and 2).

use std::path::Path;

use nn_math::{Matrix, Real, Vector};
use safetensors::tensor::{Dtype, SafeTensors};
use serde_json::Value;

use super::save::stored_shape;
use super::{
    ActivationResolver, FORMAT_NAME, FORMAT_VERSION, LayerRecord, LayerResolver, corrupt, dtype_of,
    read_tensor,
};
use crate::layers::describe::read_layer_activation;
use crate::layers::describe::read_learn;
use crate::{CoreError, Dense, Layer, ModelFileError, Network};

impl<T: Real> Network<T> {
    /// Reads a network from the bytes of a model file written by
    /// [`to_safetensors`](Network::to_safetensors) (format version 2, or 1 of earlier
    /// releases). The round trip is bit-exact.
    ///
    /// # Errors
    /// A [`ModelFileError`]: [`Malformed`](ModelFileError::Malformed) for bytes that are
    /// not safetensors (truncated, corrupt header), [`Foreign`](ModelFileError::Foreign)
    /// for another program's file, [`UnsupportedVersion`](ModelFileError::UnsupportedVersion),
    /// [`DType`](ModelFileError::DType) for the other scalar type,
    /// [`UnknownLayer`](ModelFileError::UnknownLayer) for a layer kind that is not built
    /// in (see [`from_safetensors_resolving`](Network::from_safetensors_resolving)),
    /// [`Corrupt`](ModelFileError::Corrupt) for inconsistent contents, an unknown
    /// activation name or an invalid parameter (each naming the layer).
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self, CoreError> {
        Self::from_safetensors_resolving(bytes, &|_, _| None, &|_| None)
    }

    /// As [`from_safetensors`](Network::from_safetensors), with `resolve` consulted for
    /// activation names that are not built in (the user's own activations).
    ///
    /// # Errors
    /// As [`from_safetensors`](Network::from_safetensors).
    pub fn from_safetensors_with(
        bytes: &[u8],
        resolve: ActivationResolver<'_, T>,
    ) -> Result<Self, CoreError> {
        Self::from_safetensors_resolving(bytes, resolve, &|_| None)
    }

    /// As [`from_safetensors`](Network::from_safetensors), with `activations` consulted
    /// for activation names and `layers` for layer kinds that are not built in (the
    /// user's own). A resolved layer's sizes must be the file's; its parameters are then
    /// read from the file by name and checked with [`Layer::validate_params`].
    ///
    /// # Errors
    /// As [`from_safetensors`](Network::from_safetensors); a resolver's error is
    /// returned as it is.
    pub fn from_safetensors_resolving(
        bytes: &[u8],
        activations: ActivationResolver<'_, T>,
        layers: LayerResolver<'_, T>,
    ) -> Result<Self, CoreError> {
        let file = SafeTensors::deserialize(bytes)
            .map_err(|e| ModelFileError::Malformed(e.to_string()))?;
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| ModelFileError::Malformed(e.to_string()))?;
        let meta = header
            .metadata()
            .as_ref()
            .ok_or_else(|| ModelFileError::Foreign("the header has no metadata".into()))?;
        let get = |key: &str| meta.get(key).map(String::as_str);
        match get("format") {
            Some(FORMAT_NAME) => {}
            Some(other) => {
                return Err(ModelFileError::Foreign(format!(
                    "format is {other:?}, not {FORMAT_NAME:?}"
                ))
                .into());
            }
            None => {
                return Err(
                    ModelFileError::Foreign("the metadata has no \"format\" entry".into()).into(),
                );
            }
        }
        let version = get("format_version").unwrap_or("(missing)");
        let v1 = match version {
            "1" => true,
            "2" => false,
            _ => {
                return Err(ModelFileError::UnsupportedVersion {
                    found: version.to_owned(),
                    supported: FORMAT_VERSION,
                }
                .into());
            }
        };
        let (dtype, dtype_name) = dtype_of::<T>()?;
        let scalar = get("scalar").unwrap_or("(missing)");
        if scalar != dtype_name {
            return Err(ModelFileError::DType {
                found: scalar.to_owned(),
                expected: dtype_name,
            }
            .into());
        }
        let n_inputs: usize = get("n_inputs")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| corrupt("n_inputs is missing or not a number"))?;
        let entries: Value = get("layers")
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| corrupt("layers is missing or not JSON"))?;
        let entries = entries
            .as_array()
            .ok_or_else(|| corrupt("layers is not a list"))?;

        let reader = Reader {
            file: &file,
            dtype,
            activations,
        };
        let mut out: Vec<Box<dyn Layer<T>>> = Vec::with_capacity(entries.len().min(1024));
        let mut n_prev = n_inputs;
        for (k, entry) in entries.iter().enumerate() {
            let size = |key: &str| {
                entry
                    .get(key)
                    .and_then(Value::as_u64)
                    .and_then(|w| usize::try_from(w).ok())
            };
            let width = size("width").ok_or_else(|| corrupt(format!("layer {k} has no width")))?;
            let (kind, settings) = if v1 {
                ("dense", entry)
            } else {
                let kind = entry
                    .get("kind")
                    .and_then(Value::as_str)
                    .ok_or_else(|| corrupt(format!("layer {k} has no kind")))?;
                if size("n_inputs") != Some(n_prev) {
                    return Err(corrupt(format!(
                        "layer {k} says it takes {:?} inputs, the layer before it has {n_prev} outputs",
                        entry.get("n_inputs")
                    )));
                }
                let settings = entry
                    .get("settings")
                    .ok_or_else(|| corrupt(format!("layer {k} has no settings")))?;
                (kind, settings)
            };
            let record = LayerRecord {
                index: k,
                kind,
                n_inputs: n_prev,
                n_outputs: width,
                settings,
            };
            let layer = match kind {
                "dense" => Box::new(reader.dense(&record)?) as Box<dyn Layer<T>>,
                "conv2d" | "max_pool2d" | "avg_pool2d" => reader.image_layer(&record)?,
                "elman" | "lstm" | "gru" => reader.recurrent(&record)?,
                "dense_per_step" => reader.per_step(&record)?,
                _ => reader.resolved(&record, layers)?,
            };
            reader.check_names(k, &*layer)?;
            out.push(layer);
            n_prev = width;
        }
        Network::from_any_layers(n_inputs, out).map_err(|e| corrupt(e.to_string()))
    }

    /// Reads a network from a model file (see [`from_safetensors`](Network::from_safetensors)).
    ///
    /// # Errors
    /// As [`from_safetensors`](Network::from_safetensors), or [`ModelFileError::Io`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CoreError> {
        Self::load_resolving(path, &|_, _| None, &|_| None)
    }

    /// Reads a network from a model file with resolvers for the user's own activations
    /// and layers (see
    /// [`from_safetensors_resolving`](Network::from_safetensors_resolving)).
    ///
    /// # Errors
    /// As [`from_safetensors_resolving`](Network::from_safetensors_resolving), or
    /// [`ModelFileError::Io`].
    pub fn load_resolving(
        path: impl AsRef<Path>,
        activations: ActivationResolver<'_, T>,
        layers: LayerResolver<'_, T>,
    ) -> Result<Self, CoreError> {
        let bytes = std::fs::read(path.as_ref()).map_err(|source| ModelFileError::Io {
            path: path.as_ref().display().to_string(),
            source,
        })?;
        Self::from_safetensors_resolving(&bytes, activations, layers)
    }
}

/// Reads the layers' tensors from a file.
pub(super) struct Reader<'a, 'r, T: Real> {
    pub(super) file: &'a SafeTensors<'a>,
    pub(super) dtype: Dtype,
    pub(super) activations: ActivationResolver<'r, T>,
}

impl<T: Real> Reader<'_, '_, T> {
    /// A dense layer: its activations from the settings, `weight` and `bias` by name.
    fn dense(&self, r: &LayerRecord<'_>) -> Result<Dense<T>, CoreError> {
        let (k, width, n_prev) = (r.index, r.n_outputs, r.n_inputs);
        let activation = read_layer_activation(k, r.settings, self.activations)?;
        let weight = read_tensor::<T>(
            self.file,
            &format!("layers.{k}.weight"),
            &[width, n_prev],
            self.dtype,
        )?;
        let bias = read_tensor::<T>(self.file, &format!("layers.{k}.bias"), &[width], self.dtype)?;
        let weight = Matrix::from_row_slice(width, n_prev, &weight);
        let dense = Dense::new(weight, Vector::from_vec(bias), activation)
            .map_err(|e| corrupt(format!("layer {k}: {e}")))?;
        let Some(learn) = r.settings.get("learn") else {
            return Ok(dense);
        };
        // Learned activation parameters: their own tensors, read by name.
        let (names, sharing) = read_learn(learn)?;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut dense = dense
            .learn(&names, sharing)
            .map_err(|e| corrupt(format!("layer {k}: {e}")))?;
        self.fill(k, &mut dense)?;
        Ok(dense)
    }

    /// A user's layer from `resolve`, its parameters read by name.
    fn resolved(
        &self,
        r: &LayerRecord<'_>,
        resolve: LayerResolver<'_, T>,
    ) -> Result<Box<dyn Layer<T>>, CoreError> {
        let k = r.index;
        let mut layer = resolve(r).ok_or_else(|| ModelFileError::UnknownLayer {
            index: k,
            kind: r.kind.to_owned(),
        })??;
        if (layer.n_inputs(), layer.n_outputs()) != (r.n_inputs, r.n_outputs) {
            return Err(corrupt(format!(
                "layer {k} ({}): the file says {} inputs and {} outputs, the resolved layer has {} and {}",
                r.kind,
                r.n_inputs,
                r.n_outputs,
                layer.n_inputs(),
                layer.n_outputs()
            )));
        }
        self.fill(k, &mut *layer)?;
        Ok(layer)
    }

    /// Reads every parameter tensor of layer `k` from the file by name
    /// (`layers.{k}.{name}`, row-major), checking each shape, then the values.
    fn fill(&self, k: usize, layer: &mut dyn Layer<T>) -> Result<(), CoreError> {
        let mut failed = None;
        layer.visit_params_mut(&mut |spec, values| {
            if failed.is_some() {
                return;
            }
            let name = format!("layers.{k}.{}", spec.name);
            let shape = stored_shape(&spec);
            match read_tensor::<T>(self.file, &name, &shape, self.dtype) {
                // Row-major in the file: entry (i, j) at i·cols + j.
                Ok(v) if v.len() == values.len() => {
                    for (at, x) in v.into_iter().enumerate() {
                        values[(at % spec.cols) * spec.rows + at / spec.cols] = x;
                    }
                }
                Ok(_) => failed = Some(corrupt(format!("tensor {name} has the wrong length"))),
                Err(e) => failed = Some(e),
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        layer
            .validate_params()
            .map_err(|e| corrupt(format!("layer {k}: {e}")))
    }

    /// Checks that the file holds no tensor of layer `k` that the layer does not have.
    fn check_names(&self, k: usize, layer: &dyn Layer<T>) -> Result<(), CoreError> {
        let prefix = format!("layers.{k}.");
        let mut expected = Vec::new();
        layer.visit_params(&mut |spec, _| expected.push(spec.name));
        for name in self.file.names() {
            if let Some(rest) = name.strip_prefix(&prefix)
                && !expected.contains(&rest)
            {
                return Err(corrupt(format!(
                    "tensor {name} is not a parameter of layer {k} ({}), which has {expected:?}",
                    layer.kind()
                )));
            }
        }
        Ok(())
    }
}
