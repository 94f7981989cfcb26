//! PyTorch `state_dict`s in and out with no hand-written metadata: the tensors of a
//! `torch.nn.Sequential` (`0.weight`, `2.bias`, …) or of named modules (`fc1.weight`, …)
//! mapped onto a network whose architecture is given in Rust.

use std::collections::{BTreeMap, HashMap};

use nn_math::Real;
use safetensors::tensor::{Dtype, SafeTensors};

use super::save::stored_shape;
use super::{dtype_of, from_le_bytes, serialize, stored_tensor};
use crate::{CoreError, Layer, ModelFileError, Network, ParamSpec};

/// How a PyTorch `state_dict`'s tensor names map to a network's layers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TorchNames {
    /// A `torch.nn.Sequential`, whose tensors are named `{index}.{name}` (possibly under
    /// a common prefix, e.g. `model.0.weight`). Loading, the modules that hold tensors,
    /// in index order, are the network's layers with parameters, in order: activation,
    /// pooling, `Flatten` and `Dropout` modules hold none and may sit anywhere. Saving,
    /// the indices are those of the plain `Sequential` of the same architecture: each
    /// dense or convolution layer one module, plus one for its activation unless it is
    /// the identity; each pooling layer one; an `nn.Flatten` before the first dense
    /// layer after an image-shaped one.
    Sequential,
    /// The prefix of each layer with parameters, in order, e.g. `["fc1", "fc2"]` for a
    /// module with attributes `fc1` and `fc2`; a layer's tensors are `{prefix}.{name}`
    /// (`fc1.weight`, `rnn.weight_ih_l0`, …).
    Prefixes(Vec<String>),
}

/// Whether loading may convert between the file's and the network's scalar types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// The file's tensors must be of the network's type (F32 for `Network<f32>`, F64 for
    /// `Network<f64>`); the default.
    #[default]
    Exact,
    /// F32 and F64 tensors both load: f32 → f64 is exact, f64 → f32 rounds to nearest.
    Convert,
}

/// The layers that hold parameters, with their tensors' specifications.
fn param_layers<T: Real>(net: &Network<T>) -> Vec<(usize, Vec<ParamSpec>)> {
    let mut out = Vec::new();
    for (k, layer) in net.layers().enumerate() {
        let mut specs = Vec::new();
        layer.visit_params(&mut |spec, _| specs.push(spec));
        if !specs.is_empty() {
            out.push((k, specs));
        }
    }
    out
}

fn mismatch(msg: String) -> CoreError {
    ModelFileError::StateDict(msg).into()
}

/// The module prefixes of a `Sequential`'s tensor names, in index order: each name's
/// components up to its first numeric one (`model.3` of `model.3.weight`).
fn sequential_prefixes<'a>(names: impl Iterator<Item = &'a str>) -> Result<Vec<String>, CoreError> {
    let mut modules: BTreeMap<u64, String> = BTreeMap::new();
    let mut parent: Option<String> = None;
    for name in names {
        let parts: Vec<&str> = name.split('.').collect();
        let at = parts[..parts.len() - 1]
            .iter()
            .position(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        let Some(at) = at else {
            return Err(mismatch(format!(
                "tensor {name:?} is not under a module index as in a torch.nn.Sequential \
                 (give the layers' prefixes with TorchNames::Prefixes)"
            )));
        };
        let above = parts[..at].join(".");
        if parent.get_or_insert_with(|| above.clone()) != &above {
            return Err(mismatch(format!(
                "tensor {name:?} is not under {:?} as the others are",
                parent.unwrap_or_default()
            )));
        }
        let index = parts[at]
            .parse::<u64>()
            .map_err(|_| mismatch(format!("tensor {name:?} has a module index beyond 2⁶⁴")))?;
        modules.insert(index, parts[..=at].join("."));
    }
    Ok(modules.into_values().collect())
}

/// The settings' activation name of a dense or convolution layer (`None` for a list of
/// per-neuron or per-channel functions, which no PyTorch module computes).
fn activation_name<T: Real>(layer: &dyn Layer<T>) -> Result<Option<String>, CoreError> {
    let settings = layer.settings()?;
    Ok(settings
        .get("activation")
        .and_then(|a| a.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned))
}

/// The module index of each layer with parameters in the plain `Sequential` of `net`'s
/// architecture (see [`TorchNames::Sequential`]).
fn canonical_prefixes<T: Real>(net: &Network<T>) -> Result<Vec<String>, CoreError> {
    let (mut index, mut image, mut out) = (0usize, false, Vec::new());
    for (k, layer) in net.layers().enumerate() {
        let kind = layer.kind();
        match kind {
            "max_pool2d" | "avg_pool2d" => index += 1,
            "dense" | "conv2d" => {
                if kind == "dense" && image {
                    index += 1; // nn.Flatten
                }
                let activation = activation_name(layer)?.ok_or_else(|| {
                    mismatch(format!(
                        "layer {k} has one activation per neuron, which no module of a \
                         torch.nn.Sequential computes"
                    ))
                })?;
                let learns = layer.as_dense().is_some_and(|d| d.learns().is_some());
                if learns {
                    return Err(mismatch(format!(
                        "layer {k} learns its activation's parameters: give the layers' \
                         prefixes with TorchNames::Prefixes"
                    )));
                }
                out.push(index.to_string());
                index += if activation == "identity" { 1 } else { 2 };
            }
            other => {
                return Err(mismatch(format!(
                    "layer {k} ({other}) has no place in a torch.nn.Sequential: give the \
                     layers' prefixes with TorchNames::Prefixes"
                )));
            }
        }
        image = matches!(kind, "conv2d" | "max_pool2d" | "avg_pool2d");
    }
    Ok(out)
}

/// `expected` against `found`, listing both if they differ.
fn check_names(expected: &[String], found: &[&str]) -> Result<(), CoreError> {
    let missing: Vec<&String> = expected
        .iter()
        .filter(|e| !found.contains(&e.as_str()))
        .collect();
    let extra: Vec<&&str> = found
        .iter()
        .filter(|f| !expected.iter().any(|e| e == **f))
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    Err(mismatch(format!(
        "missing {missing:?}, unexpected {extra:?}; the network expects {expected:?}, the \
         file holds {found:?}"
    )))
}

impl<T: Real> Network<T> {
    /// Loads a PyTorch `state_dict` into this network's parameters, the architecture
    /// being the network's (built in Rust): the bytes of a safetensors file as
    /// `safetensors.torch.save_file(model.state_dict(), path)` writes them, the names
    /// mapped to layers as `names` says. Weights keep PyTorch's layouts, which are this
    /// library's (`nn.Linear`, `nn.Conv2d`, `nn.RNN`/`LSTM`/`GRU`; `docs/model-files.md`).
    /// Every name, shape and value is checked before anything is written: on an error
    /// the network is unchanged.
    ///
    /// ```
    /// use nn_core::{Network, Precision, TorchNames};
    /// use nn_activations::{Identity, Relu, Tanh};
    /// use rand::SeedableRng;
    ///
    /// // Saved by PyTorch (tests/data/torch_state_dict.py) from
    /// // nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.1),
    /// //               nn.Linear(8, 5), nn.Tanh(), nn.Linear(5, 3)):
    /// // tensors 0.weight, 0.bias, 3.weight, 3.bias, 5.weight, 5.bias.
    /// let bytes = std::fs::read("tests/data/torch_mlp_state_dict.safetensors").unwrap();
    /// let mut net = Network::<f64>::builder(6).layer(8, Relu).layer(5, Tanh).layer(3, Identity)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(0))?;
    /// // F32 tensors into a Network<f64>: asked for, so converted.
    /// net.load_torch_state_dict(&bytes, &TorchNames::Sequential, Precision::Convert)?;
    /// // A network of another architecture is refused, naming the tensor.
    /// let mut wider = Network::<f64>::builder(6).layer(9, Relu).layer(5, Tanh).layer(3, Identity)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(0))?;
    /// let err = wider.load_torch_state_dict(&bytes, &TorchNames::Sequential, Precision::Convert);
    /// assert!(err.unwrap_err().to_string().contains("tensor 0.weight has shape [8, 6]"));
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    ///
    /// # Errors
    /// [`ModelFileError::Malformed`] for bytes that are not safetensors;
    /// [`ModelFileError::StateDict`] for tensors missing, unexpected or of another shape
    /// (listing the names expected and found), or a module count that is not the
    /// network's layers with parameters; [`ModelFileError::DType`] for another scalar
    /// type without [`Precision::Convert`], or one that is neither F32 nor F64;
    /// [`ModelFileError::Corrupt`] for a value that is not finite in `T`, or parameters
    /// the layer refuses ([`Layer::validate_params`]).
    pub fn load_torch_state_dict(
        &mut self,
        bytes: &[u8],
        names: &TorchNames,
        precision: Precision,
    ) -> Result<(), CoreError> {
        let file = SafeTensors::deserialize(bytes)
            .map_err(|e| ModelFileError::Malformed(e.to_string()))?;
        let mut found: Vec<&str> = file.names();
        found.sort_unstable();
        let layers = param_layers(self);
        let prefixes = match names {
            TorchNames::Sequential => sequential_prefixes(found.iter().copied())?,
            TorchNames::Prefixes(p) => p.clone(),
        };
        if prefixes.len() != layers.len() {
            let ours: Vec<usize> = layers.iter().map(|(k, _)| *k).collect();
            return Err(mismatch(format!(
                "the network has {} layers with parameters ({ours:?}), the names give {} \
                 modules {prefixes:?}",
                layers.len(),
                prefixes.len()
            )));
        }
        let expected: Vec<String> = layers
            .iter()
            .zip(&prefixes)
            .flat_map(|((_, specs), p)| specs.iter().map(move |s| format!("{p}.{}", s.name)))
            .collect();
        check_names(&expected, &found)?;
        let (ours, ours_name) = dtype_of::<T>()?;
        // Every tensor read and checked first, then written into a copy.
        let mut values: HashMap<String, Vec<T>> = HashMap::new();
        for ((k, specs), prefix) in layers.iter().zip(&prefixes) {
            for spec in specs {
                let name = format!("{prefix}.{}", spec.name);
                let t = file
                    .tensor(&name)
                    .map_err(|e| ModelFileError::Malformed(e.to_string()))?;
                let dtype = t.dtype();
                if !matches!(dtype, Dtype::F32 | Dtype::F64)
                    || (dtype != ours && precision == Precision::Exact)
                {
                    return Err(ModelFileError::DType {
                        found: format!("{dtype:?} (tensor {name})"),
                        expected: ours_name,
                    }
                    .into());
                }
                let shape = stored_shape(spec);
                if t.shape() != shape.as_slice() {
                    return Err(mismatch(format!(
                        "tensor {name} has shape {:?}, layer {k} needs {shape:?}",
                        t.shape()
                    )));
                }
                let v: Vec<T> = from_le_bytes(t.data(), dtype);
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    return Err(super::corrupt(format!(
                        "tensor {name}: value {i} is not finite as {ours_name}"
                    )));
                }
                values.insert(name, v);
            }
        }
        let mut staged = self.clone();
        for ((k, _), prefix) in layers.iter().zip(&prefixes) {
            let Some(layer) = staged.layer_mut(*k) else {
                continue;
            };
            layer.visit_params_mut(&mut |spec, dst| {
                if let Some(src) = values.get(&format!("{prefix}.{}", spec.name)) {
                    // Row-major in the file: entry (i, j) at i·cols + j.
                    for (at, &x) in src.iter().enumerate() {
                        dst[(at % spec.cols) * spec.rows + at / spec.cols] = x;
                    }
                }
            });
            layer
                .validate_params()
                .map_err(|e| super::corrupt(format!("layer {k}: {e}")))?;
        }
        *self = staged;
        Ok(())
    }

    /// The network's parameters as a PyTorch `state_dict` in safetensors bytes, named as
    /// `names` says, which `model.load_state_dict(safetensors.torch.load_file(path))`
    /// reads into the PyTorch model of the same architecture. It holds tensors only
    /// (metadata `{"format": "pt"}`); [`to_safetensors`](Network::to_safetensors)
    /// writes the architecture as well.
    ///
    /// ```
    /// use nn_core::{Network, Precision, TorchNames};
    /// use nn_activations::{Identity, Relu};
    /// use rand::SeedableRng;
    ///
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let net = Network::<f32>::builder(4).layer(8, Relu).layer(3, Identity).build(&mut rng)?;
    /// // torch.nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)): "0.weight", "2.bias", …
    /// let bytes = net.to_torch_state_dict(&TorchNames::Sequential)?;
    /// let mut copy = Network::<f32>::builder(4).layer(8, Relu).layer(3, Identity).build(&mut rng)?;
    /// copy.load_torch_state_dict(&bytes, &TorchNames::Sequential, Precision::Exact)?;
    /// assert_eq!(copy, net);
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    ///
    /// # Errors
    /// [`ModelFileError::StateDict`] for a layer a `Sequential` cannot hold under
    /// [`TorchNames::Sequential`] (recurrent layers, per-neuron activations, learned
    /// activation parameters, a user's layer: give [`TorchNames::Prefixes`]) or a prefix
    /// count that is not the network's layers with parameters;
    /// [`ModelFileError::Unsavable`] if serialization fails.
    pub fn to_torch_state_dict(&self, names: &TorchNames) -> Result<Vec<u8>, CoreError> {
        let layers = param_layers(self);
        let prefixes = match names {
            TorchNames::Sequential => canonical_prefixes(self)?,
            TorchNames::Prefixes(p) => p.clone(),
        };
        if prefixes.len() != layers.len() {
            return Err(mismatch(format!(
                "{} prefixes for {} layers with parameters",
                prefixes.len(),
                layers.len()
            )));
        }
        let (dtype, _) = dtype_of::<T>()?;
        let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for ((k, _), prefix) in layers.iter().zip(&prefixes) {
            let Some(layer) = self.layer(*k) else {
                continue;
            };
            layer.visit_params(&mut |spec, values| {
                let name = format!("{prefix}.{}", spec.name);
                buffers.push(stored_tensor(name, &spec, values, dtype));
            });
        }
        let metadata = HashMap::from([("format".to_owned(), "pt".to_owned())]);
        serialize(&buffers, dtype, metadata)
    }
}
