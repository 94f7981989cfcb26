//! Model files: a network's architecture, activations, weights and biases in the
//! safetensors format, readable by NumPy and PyTorch users (see `docs/model-files.md`).
//!
//! Layout: tensors `layers.{k}.weight` (`n_k × n_{k−1}`, row-major, like PyTorch's
//! `nn.Linear`) and `layers.{k}.bias` (`n_k`), `k` from 0, in F32 or F64 little-endian;
//! the header's `__metadata__` holds `format = "nn"`, `format_version = "1"`,
//! `scalar`, `n_inputs`, and `layers`, a JSON list of `{"width": n, "activation": {…}}`
//! or `{"width": n, "activations": [{…}, …]}` with `{"name": …, "params": {…}}` entries.

use std::collections::HashMap;
use std::path::Path;

use nn_activations::{Activation, Builtin};
use nn_math::{Matrix, Real, Vector};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde_json::{Map, Value, json};

use crate::{CoreError, Dense, LayerActivation, ModelFileError, Network, NeuronActivation};

/// The value of `format` in the metadata of every file this library writes.
pub const FORMAT_NAME: &str = "nn";

/// The model-file format version this library writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// A resolver for activations that are not built in: given a stored name and parameters,
/// return the activation, or `None` if the name is unknown.
pub type ActivationResolver<'a, T> = &'a dyn Fn(&str, &[(&str, T)]) -> Option<NeuronActivation<T>>;

fn corrupt(msg: impl Into<String>) -> CoreError {
    ModelFileError::Corrupt(msg.into()).into()
}

/// The safetensors dtype and name of `T`, for the two scalar types files support.
fn dtype_of<T: Real>() -> Result<(Dtype, &'static str), CoreError> {
    match std::mem::size_of::<T>() {
        4 => Ok((Dtype::F32, "F32")),
        8 => Ok((Dtype::F64, "F64")),
        _ => {
            Err(ModelFileError::Unsavable("model files hold f32 or f64 scalars only".into()).into())
        }
    }
}

fn to_le_bytes<T: Real>(values: impl Iterator<Item = T>, dtype: Dtype, out: &mut Vec<u8>) {
    for v in values {
        // Exact: an f32 value converts to f64 and back without change.
        match dtype {
            Dtype::F32 => out.extend_from_slice(&(v.as_f64() as f32).to_le_bytes()),
            _ => out.extend_from_slice(&v.as_f64().to_le_bytes()),
        }
    }
}

fn from_le_bytes<T: Real>(bytes: &[u8], dtype: Dtype) -> Vec<T> {
    match dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|c| T::lit(f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))))
            .collect(),
        _ => bytes
            .chunks_exact(8)
            .map(|c| {
                T::lit(f64::from_le_bytes([
                    c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                ]))
            })
            .collect(),
    }
}

fn activation_json<T: Real>(a: &NeuronActivation<T>) -> Result<Value, CoreError> {
    if let NeuronActivation::Custom(c) = a
        && Builtin::<T>::NAMES.contains(&c.name())
    {
        return Err(ModelFileError::Unsavable(format!(
            "a custom activation is named {:?}, like a built-in one; give it another name",
            c.name()
        ))
        .into());
    }
    let params: Map<String, Value> = a
        .params()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v.as_f64())))
        .collect();
    Ok(json!({ "name": a.name(), "params": params }))
}

/// Extra one-dimensional tensors and metadata stored in a model file beside the network
/// (e.g. a trainer's optimizer state). Names must not start with `layers.` and metadata
/// keys must not be the model's own (`format`, `format_version`, `scalar`, `n_inputs`,
/// `layers`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extras<T> {
    /// `(name, values)` pairs, stored as 1-D tensors of the network's scalar type.
    pub tensors: Vec<(String, Vec<T>)>,
    /// `(key, value)` pairs added to the header's metadata.
    pub metadata: Vec<(String, String)>,
}

const RESERVED_KEYS: [&str; 5] = ["format", "format_version", "scalar", "n_inputs", "layers"];

/// Reads the extra tensors whose names, and the metadata whose keys, start with
/// `prefix` from a model file's bytes.
///
/// # Errors
/// [`ModelFileError::Malformed`] for bytes that are not safetensors,
/// [`ModelFileError::DType`] for tensors of another scalar type.
pub fn read_extras<T: Real>(bytes: &[u8], prefix: &str) -> Result<Extras<T>, CoreError> {
    let file =
        SafeTensors::deserialize(bytes).map_err(|e| ModelFileError::Malformed(e.to_string()))?;
    let (_, header) =
        SafeTensors::read_metadata(bytes).map_err(|e| ModelFileError::Malformed(e.to_string()))?;
    let (dtype, _) = dtype_of::<T>()?;
    let mut tensors = Vec::new();
    for (name, view) in file.iter().filter(|(n, _)| n.starts_with(prefix)) {
        if view.dtype() != dtype {
            return Err(ModelFileError::DType {
                found: format!("{:?}", view.dtype()),
                expected: dtype_of::<T>()?.1,
            }
            .into());
        }
        tensors.push((name.to_owned(), from_le_bytes(view.data(), dtype)));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut metadata: Vec<(String, String)> = header
        .metadata()
        .iter()
        .flatten()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    metadata.sort();
    Ok(Extras { tensors, metadata })
}

impl<T: Real> Network<T> {
    /// The network as the bytes of a safetensors model file (see the module docs and
    /// `docs/model-files.md` for the layout).
    ///
    /// # Errors
    /// [`ModelFileError::Unsavable`] if a custom activation is named like a built-in one,
    /// or `T` is neither `f32` nor `f64`.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, CoreError> {
        self.to_safetensors_with(&Extras::default())
    }

    /// As [`to_safetensors`](Network::to_safetensors), with extra tensors and metadata
    /// beside the network; [`from_safetensors`](Network::from_safetensors) ignores them
    /// and [`read_extras`] reads them back.
    ///
    /// # Errors
    /// As [`to_safetensors`](Network::to_safetensors), and
    /// [`ModelFileError::Unsavable`] for an extra name or key that clashes with the model's.
    pub fn to_safetensors_with(&self, extras: &Extras<T>) -> Result<Vec<u8>, CoreError> {
        let (dtype, dtype_name) = dtype_of::<T>()?;
        let mut layers_json = Vec::new();
        let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (k, layer) in self.layers().iter().enumerate() {
            let entry = match layer.activation() {
                LayerActivation::Shared(a) => {
                    json!({ "width": layer.n_outputs(), "activation": activation_json(a)? })
                }
                LayerActivation::PerNeuron(v) => {
                    let list = v
                        .iter()
                        .map(activation_json)
                        .collect::<Result<Vec<_>, _>>()?;
                    json!({ "width": layer.n_outputs(), "activations": list })
                }
            };
            layers_json.push(entry);
            let mut w = Vec::new();
            // Row-major: row j is neuron j's weights.
            to_le_bytes(layer.weight().transpose().iter().copied(), dtype, &mut w);
            buffers.push((
                format!("layers.{k}.weight"),
                vec![layer.n_outputs(), layer.n_inputs()],
                w,
            ));
            let mut b = Vec::new();
            to_le_bytes(layer.bias().iter().copied(), dtype, &mut b);
            buffers.push((format!("layers.{k}.bias"), vec![layer.n_outputs()], b));
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
        let views = buffers
            .iter()
            .map(|(name, shape, data)| {
                TensorView::new(dtype, shape.clone(), data).map(|v| (name.clone(), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ModelFileError::Unsavable(e.to_string()))?;
        safetensors::serialize(views, Some(metadata))
            .map_err(|e| ModelFileError::Unsavable(e.to_string()).into())
    }

    /// Reads a network from the bytes of a model file written by
    /// [`to_safetensors`](Network::to_safetensors). The round trip is bit-exact.
    ///
    /// # Errors
    /// A [`ModelFileError`]: [`Malformed`](ModelFileError::Malformed) for bytes that are
    /// not safetensors (truncated, corrupt header), [`Foreign`](ModelFileError::Foreign)
    /// for another program's file, [`UnsupportedVersion`](ModelFileError::UnsupportedVersion),
    /// [`DType`](ModelFileError::DType) for the other scalar type,
    /// [`Corrupt`](ModelFileError::Corrupt) for inconsistent contents; an unknown
    /// activation name or an invalid parameter is a [`CoreError::Activation`].
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self, CoreError> {
        Self::from_safetensors_with(bytes, &|_, _| None)
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
        if version != FORMAT_VERSION.to_string() {
            return Err(ModelFileError::UnsupportedVersion {
                found: version.to_owned(),
                supported: FORMAT_VERSION,
            }
            .into());
        }
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
        let layers: Value = get("layers")
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| corrupt("layers is missing or not JSON"))?;
        let layers = layers
            .as_array()
            .ok_or_else(|| corrupt("layers is not a list"))?;

        let mut dense = Vec::with_capacity(layers.len());
        let mut n_prev = n_inputs;
        for (k, entry) in layers.iter().enumerate() {
            let width = entry
                .get("width")
                .and_then(Value::as_u64)
                .and_then(|w| usize::try_from(w).ok())
                .ok_or_else(|| corrupt(format!("layer {k} has no width")))?;
            let activation = read_layer_activation(k, entry, resolve)?;
            let weight = read_tensor::<T>(
                &file,
                &format!("layers.{k}.weight"),
                &[width, n_prev],
                dtype,
            )?;
            let bias = read_tensor::<T>(&file, &format!("layers.{k}.bias"), &[width], dtype)?;
            let weight = Matrix::from_row_slice(width, n_prev, &weight);
            let layer = Dense::new(weight, Vector::from_vec(bias), activation)
                .map_err(|e| corrupt(format!("layer {k}: {e}")))?;
            dense.push(layer);
            n_prev = width;
        }
        Network::from_layers(n_inputs, dense).map_err(|e| corrupt(e.to_string()))
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

    /// Reads a network from a model file (see [`from_safetensors`](Network::from_safetensors)).
    ///
    /// # Errors
    /// As [`from_safetensors`](Network::from_safetensors), or [`ModelFileError::Io`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CoreError> {
        let bytes = std::fs::read(path.as_ref()).map_err(|source| ModelFileError::Io {
            path: path.as_ref().display().to_string(),
            source,
        })?;
        Self::from_safetensors(&bytes)
    }
}

fn read_neuron_activation<T: Real>(
    k: usize,
    v: &Value,
    resolve: ActivationResolver<'_, T>,
) -> Result<NeuronActivation<T>, CoreError> {
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| corrupt(format!("layer {k}: an activation has no name")))?;
    let params = match v.get("params") {
        None => Vec::new(),
        Some(p) => p
            .as_object()
            .ok_or_else(|| corrupt(format!("layer {k}: params of {name:?} are not an object")))?
            .iter()
            .map(|(key, val)| {
                val.as_f64()
                    .map(|x| (key.as_str(), T::lit(x)))
                    .ok_or_else(|| {
                        corrupt(format!(
                            "layer {k}: parameter {key:?} of {name:?} is not a number"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    if Builtin::<T>::NAMES.contains(&name) {
        return Ok(NeuronActivation::Builtin(Builtin::from_parts(
            name, &params,
        )?));
    }
    resolve(name, &params).ok_or_else(|| {
        nn_activations::ActivationError::UnknownName {
            name: name.to_owned(),
        }
        .into()
    })
}

fn read_layer_activation<T: Real>(
    k: usize,
    entry: &Value,
    resolve: ActivationResolver<'_, T>,
) -> Result<LayerActivation<T>, CoreError> {
    if let Some(a) = entry.get("activation") {
        return Ok(LayerActivation::Shared(read_neuron_activation(
            k, a, resolve,
        )?));
    }
    let list = entry
        .get("activations")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            corrupt(format!(
                "layer {k} has neither \"activation\" nor \"activations\""
            ))
        })?;
    Ok(LayerActivation::PerNeuron(
        list.iter()
            .map(|a| read_neuron_activation(k, a, resolve))
            .collect::<Result<_, _>>()?,
    ))
}

fn read_tensor<T: Real>(
    file: &SafeTensors<'_>,
    name: &str,
    shape: &[usize],
    dtype: Dtype,
) -> Result<Vec<T>, CoreError> {
    let t = file
        .tensor(name)
        .map_err(|_| corrupt(format!("tensor {name} is missing")))?;
    if t.dtype() != dtype {
        return Err(ModelFileError::DType {
            found: format!("{:?}", t.dtype()),
            expected: if dtype == Dtype::F32 { "F32" } else { "F64" },
        }
        .into());
    }
    if t.shape() != shape {
        return Err(corrupt(format!(
            "tensor {name} has shape {:?}, the architecture says {shape:?}",
            t.shape()
        )));
    }
    Ok(from_le_bytes(t.data(), dtype))
}
