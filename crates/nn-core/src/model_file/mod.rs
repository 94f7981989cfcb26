//! Model files: a network's architecture, settings and parameters in the safetensors
//! format, readable by NumPy and PyTorch users (see `docs/model-files.md`).
//!
//! Layout (format version 2): one tensor per parameter tensor, named
//! `layers.{k}.{name}` (`k` from 0), F32 or F64 little-endian, row-major: a dense
//! layer's `layers.{k}.weight` (`n_k × n_{k−1}`, like PyTorch's `nn.Linear`) and
//! `layers.{k}.bias` (`n_k`). The header's `__metadata__` holds `format = "nn"`,
//! `format_version = "2"`, `scalar`, `n_inputs`, and `layers`, a JSON list of
//! `{"kind": …, "n_inputs": …, "width": …, "settings": {…}}`, a dense layer's settings
//! being `{"activation": {…}}` or `{"activations": [{…}, …]}`. Version-1 files (dense
//! layers only, the settings inline) still load.

mod builtin;
mod load;
mod save;
mod torch;

pub use torch::{Precision, TorchNames};

use nn_math::Real;
use safetensors::tensor::{Dtype, SafeTensors};
use serde_json::Value;

use crate::{CoreError, Layer, ModelFileError, NeuronActivation};

/// The value of `format` in the metadata of every file this library writes.
pub const FORMAT_NAME: &str = "nn";

/// The model-file format version this library writes (it reads this one and version 1).
pub const FORMAT_VERSION: u32 = 2;

/// A resolver for activations that are not built in: given a stored name and parameters,
/// return the activation, or `None` if the name is unknown.
pub type ActivationResolver<'a, T> = &'a dyn Fn(&str, &[(&str, T)]) -> Option<NeuronActivation<T>>;

/// What a model file says of one layer that is not built in, handed to a
/// [`LayerResolver`].
#[derive(Clone, Copy, Debug)]
pub struct LayerRecord<'a> {
    /// The layer's index, from 0.
    pub index: usize,
    /// Its kind, as [`Layer::kind`] gave it.
    pub kind: &'a str,
    /// Its inputs per example.
    pub n_inputs: usize,
    /// Its outputs per example.
    pub n_outputs: usize,
    /// Its settings, as [`Layer::settings`] gave them.
    pub settings: &'a Value,
}

/// A resolver for layers that are not built in (the user's own): given a
/// [`LayerRecord`], return a layer of that kind, sizes and settings (its parameters are
/// then overwritten with the file's), `Some(Err(…))` for settings it cannot accept, or
/// `None` for a kind it does not know.
pub type LayerResolver<'a, T> =
    &'a dyn Fn(&LayerRecord<'_>) -> Option<Result<Box<dyn Layer<T>>, CoreError>>;

pub(crate) fn corrupt(msg: impl Into<String>) -> CoreError {
    ModelFileError::Corrupt(msg.into()).into()
}

/// The safetensors dtype and name of `T`, for the two scalar types files support.
pub(crate) fn dtype_of<T: Real>() -> Result<(Dtype, &'static str), CoreError> {
    match std::mem::size_of::<T>() {
        4 => Ok((Dtype::F32, "F32")),
        8 => Ok((Dtype::F64, "F64")),
        _ => {
            Err(ModelFileError::Unsavable("model files hold f32 or f64 scalars only".into()).into())
        }
    }
}

pub(crate) fn to_le_bytes<T: Real>(
    values: impl Iterator<Item = T>,
    dtype: Dtype,
    out: &mut Vec<u8>,
) {
    for v in values {
        // Exact: an f32 value converts to f64 and back without change.
        match dtype {
            Dtype::F32 => out.extend_from_slice(&(v.as_f64() as f32).to_le_bytes()),
            _ => out.extend_from_slice(&v.as_f64().to_le_bytes()),
        }
    }
}

/// A parameter tensor as stored: its name, stored shape and little-endian bytes,
/// row-major (as NumPy and PyTorch store tensors: row `i` holds `values[i]`,
/// `values[i + rows]`, … of the column-major slice).
pub(crate) fn stored_tensor<T: Real>(
    name: String,
    spec: &crate::ParamSpec,
    values: &[T],
    dtype: Dtype,
) -> (String, Vec<usize>, Vec<u8>) {
    let (rows, cols) = (spec.rows, spec.cols);
    let row_major = (0..rows * cols).map(|at| values[(at % cols) * rows + at / cols]);
    let mut bytes = Vec::with_capacity(rows * cols * std::mem::size_of::<T>());
    to_le_bytes(row_major, dtype, &mut bytes);
    (name, save::stored_shape(spec), bytes)
}

/// Serializes `(name, shape, bytes)` tensors of `dtype` with `metadata`.
pub(crate) fn serialize(
    buffers: &[(String, Vec<usize>, Vec<u8>)],
    dtype: Dtype,
    metadata: std::collections::HashMap<String, String>,
) -> Result<Vec<u8>, CoreError> {
    let views = buffers
        .iter()
        .map(|(name, shape, data)| {
            safetensors::tensor::TensorView::new(dtype, shape.clone(), data)
                .map(|v| (name.clone(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ModelFileError::Unsavable(e.to_string()))?;
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| ModelFileError::Unsavable(e.to_string()).into())
}

pub(crate) fn from_le_bytes<T: Real>(bytes: &[u8], dtype: Dtype) -> Vec<T> {
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

pub(crate) const RESERVED_KEYS: [&str; 5] =
    ["format", "format_version", "scalar", "n_inputs", "layers"];

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

pub(crate) fn read_tensor<T: Real>(
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
