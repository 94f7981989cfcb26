//! How a dense layer's activations are described in model files (JSON), and read back.

use nn_activations::{Activation, Builtin};
use nn_math::Real;
use serde_json::{Map, Value, json};

use crate::{ActivationResolver, CoreError, LayerActivation, ModelFileError, NeuronActivation};

fn corrupt(msg: impl Into<String>) -> CoreError {
    ModelFileError::Corrupt(msg.into()).into()
}

/// A dense layer's settings: `{"activation": {…}}` for one shared function, or
/// `{"activations": [{…}, …]}` for one per neuron, each `{"name": …, "params": {…}}`.
pub(crate) fn activation_settings<T: Real>(a: &LayerActivation<T>) -> Result<Value, CoreError> {
    Ok(match a {
        LayerActivation::Shared(a) => json!({ "activation": activation_json(a)? }),
        LayerActivation::PerNeuron(v) => {
            let list = v
                .iter()
                .map(activation_json)
                .collect::<Result<Vec<_>, _>>()?;
            json!({ "activations": list })
        }
    })
}

pub(crate) fn activation_json<T: Real>(a: &NeuronActivation<T>) -> Result<Value, CoreError> {
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
        return Builtin::from_parts(name, &params)
            .map(NeuronActivation::Builtin)
            .map_err(|e| corrupt(format!("layer {k}: {e}")));
    }
    resolve(name, &params).ok_or_else(|| {
        corrupt(format!(
            "layer {k}: {}",
            nn_activations::ActivationError::UnknownName {
                name: name.to_owned(),
            }
        ))
    })
}

pub(crate) fn read_layer_activation<T: Real>(
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

/// Reads the `learn` entry of a dense layer's settings: the names and the sharing.
pub(crate) fn read_learn(v: &Value) -> Result<(Vec<String>, crate::Sharing), CoreError> {
    let bad = |m: &str| CoreError::from(crate::ModelFileError::Corrupt(format!("learn: {m}")));
    let names = v
        .get("params")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no list of params"))?
        .iter()
        .map(|p| {
            p.as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad("a param is not a name"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sharing = match v.get("sharing").and_then(Value::as_str) {
        Some("shared") => crate::Sharing::Shared,
        Some("per_neuron") => crate::Sharing::PerNeuron,
        _ => return Err(bad("sharing is neither \"shared\" nor \"per_neuron\"")),
    };
    Ok((names, sharing))
}
