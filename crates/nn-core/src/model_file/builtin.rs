//! Reading the built-in layers other than dense ones from a model file: convolution,
//! pooling and recurrent layers, each from its settings and its tensors by name.

use nn_math::{Matrix, Real};

use super::load::Reader;
use super::{LayerRecord, read_tensor};
use crate::layers::describe::read_layer_activation;
use crate::layers::gated::Truncate;
use crate::layers::image::{input_setting, setting};
use crate::{
    Conv, Conv2d, CoreError, Dense, Elman, Gru, Layer, Lstm, ModelFileError, PerStep, Pool2d,
    Pooling, Steps,
};

/// The most values per example an image-shaped layer of a model file may declare (2²⁸,
/// 1 GiB in f32): its sizes, unlike a dense layer's, are not bounded by the tensors the
/// file holds, and a workspace allocates by them.
const MAX_IMAGE: usize = 1 << 28;

fn corrupt(msg: impl Into<String>) -> CoreError {
    ModelFileError::Corrupt(msg.into()).into()
}

impl<T: Real> Reader<'_, '_, T> {
    /// A convolution or pooling layer: its geometry and activation from the settings,
    /// a convolution's `weight` (`out × in × kh × kw`) and `bias` read by name before
    /// anything is allocated by the settings' sizes.
    pub(super) fn image_layer(&self, r: &LayerRecord<'_>) -> Result<Box<dyn Layer<T>>, CoreError> {
        let k = r.index;
        let at = |e: CoreError| corrupt(format!("layer {k} ({}): {e}", r.kind));
        let input = input_setting(r.settings, k)?;
        let [kh, kw] = setting(r.settings, k, "kernel")?;
        let [sh, sw] = setting(r.settings, k, "stride")?;
        let layer: Box<dyn Layer<T>> = match r.kind {
            "conv2d" => {
                let [ph, pw] = setting(r.settings, k, "padding")?;
                let [c_out] = setting(r.settings, k, "out_channels")?;
                let spec = Conv {
                    out_channels: c_out,
                    kernel: (kh, kw),
                    stride: (sh, sw),
                    padding: (ph, pw),
                };
                let activation = read_layer_activation(k, r.settings, self.activations)?;
                let dims = [c_out, input.channels, kh, kw];
                let weight =
                    read_tensor::<T>(self.file, &format!("layers.{k}.weight"), &dims, self.dtype)?;
                let bias =
                    read_tensor::<T>(self.file, &format!("layers.{k}.bias"), &[c_out], self.dtype)?;
                let weight = Matrix::from_row_slice(c_out, weight.len() / c_out.max(1), &weight);
                Box::new(Conv2d::new(input, spec, weight, bias, activation).map_err(at)?)
            }
            kind => {
                let pooling = if kind == "max_pool2d" {
                    Pooling::Max
                } else {
                    Pooling::Average
                };
                Box::new(Pool2d::rect(input, pooling, (kh, kw), (sh, sw)).map_err(at)?)
            }
        };
        let sizes = (layer.n_inputs(), layer.n_outputs());
        if sizes != (r.n_inputs, r.n_outputs) || sizes.0.max(sizes.1) > MAX_IMAGE {
            return Err(corrupt(format!(
                "layer {k} ({}): its settings give {} inputs and {} outputs, the file says {} \
                 and {} (at most {MAX_IMAGE} each)",
                r.kind, sizes.0, sizes.1, r.n_inputs, r.n_outputs
            )));
        }
        layer.validate_params().map_err(at)?;
        Ok(layer)
    }

    /// An Elman layer (`"elman"`, PyTorch's `nn.RNN` tensors) or an LSTM layer (`"lstm"`,
    /// `nn.LSTM`'s, four gates per cell): steps, sizes, output and activation from the
    /// settings, the four tensors by name before anything is allocated by the settings'
    /// sizes.
    pub(super) fn recurrent(&self, r: &LayerRecord<'_>) -> Result<Box<dyn Layer<T>>, CoreError> {
        let k = r.index;
        let kind = r.kind;
        let [steps] = setting(r.settings, k, "steps")?;
        let [n_x] = setting(r.settings, k, "step_inputs")?;
        let [n_h] = setting(r.settings, k, "hidden")?;
        let output = match r.settings.get("output").and_then(|o| o.as_str()) {
            Some("last") => Steps::Last,
            Some("all") => Steps::All,
            _ => {
                return Err(corrupt(format!(
                    "layer {k} ({kind}): output is neither \"last\" nor \"all\""
                )));
            }
        };
        let gates = match kind {
            "lstm" => 4,
            "gru" => 3,
            _ => 1,
        };
        let tensor = |name: &str, shape: &[usize]| {
            read_tensor::<T>(self.file, &format!("layers.{k}.{name}"), shape, self.dtype)
        };
        let rows = n_h.checked_mul(gates).ok_or_else(|| {
            corrupt(format!(
                "layer {k} ({kind}): hidden = {n_h} is too large for {gates} gate(s) per cell"
            ))
        })?;
        let w_x = tensor("weight_ih_l0", &[rows, n_x])?;
        let w_h = tensor("weight_hh_l0", &[rows, n_h])?;
        let biases = (
            tensor("bias_ih_l0", &[rows])?,
            tensor("bias_hh_l0", &[rows])?,
        );
        let (w_x, w_h) = (
            Matrix::from_row_slice(rows, n_x, &w_x),
            Matrix::from_row_slice(rows, n_h, &w_h),
        );
        let at = |e: CoreError| corrupt(format!("layer {k} ({kind}): {e}"));
        let truncate = match r.settings.get("truncate") {
            None => None,
            Some(_) => Some(setting::<1>(r.settings, k, "truncate")?[0]),
        };
        let layer: Box<dyn Layer<T>> = match kind {
            "lstm" => Box::new(
                Lstm::new(steps, w_x, w_h, biases, output)
                    .and_then(|l| l.truncate_to(truncate))
                    .map_err(at)?,
            ),
            "gru" => Box::new(
                Gru::new(steps, w_x, w_h, biases, output)
                    .and_then(|l| l.truncate_to(truncate))
                    .map_err(at)?,
            ),
            _ => {
                let activation = read_layer_activation(k, r.settings, self.activations)?;
                let e = Elman::new(steps, w_x, w_h, biases, activation, output);
                Box::new(e.and_then(|l| l.truncate_to(truncate)).map_err(at)?)
            }
        };
        let sizes = (layer.n_inputs(), layer.n_outputs());
        if sizes != (r.n_inputs, r.n_outputs) || sizes.0.max(sizes.1) > MAX_IMAGE {
            return Err(corrupt(format!(
                "layer {k} ({kind}): its settings give {} inputs and {} outputs, the file says {} \
                 and {} (at most {MAX_IMAGE} each)",
                sizes.0, sizes.1, r.n_inputs, r.n_outputs
            )));
        }
        layer.validate_params().map_err(at)?;
        Ok(layer)
    }

    /// A dense layer applied per step: the steps from the settings, the dense layer's
    /// activation and tensors (`weight` `[n_out, n_in]`, `bias`) by name.
    pub(super) fn per_step(&self, r: &LayerRecord<'_>) -> Result<Box<dyn Layer<T>>, CoreError> {
        let k = r.index;
        let [steps] = setting(r.settings, k, "steps")?;
        if steps == 0 || !r.n_inputs.is_multiple_of(steps) || !r.n_outputs.is_multiple_of(steps) {
            return Err(corrupt(format!(
                "layer {k} (dense_per_step): {steps} steps do not divide {} inputs and {} outputs",
                r.n_inputs, r.n_outputs
            )));
        }
        let (n_in, n_out) = (r.n_inputs / steps, r.n_outputs / steps);
        let activation = read_layer_activation(k, r.settings, self.activations)?;
        let w = read_tensor::<T>(
            self.file,
            &format!("layers.{k}.weight"),
            &[n_out, n_in],
            self.dtype,
        )?;
        let b = read_tensor::<T>(self.file, &format!("layers.{k}.bias"), &[n_out], self.dtype)?;
        let at = |e: CoreError| corrupt(format!("layer {k} (dense_per_step): {e}"));
        let dense = Dense::new(
            Matrix::from_row_slice(n_out, n_in, &w),
            nn_math::Vector::from_vec(b),
            activation,
        )
        .map_err(at)?;
        Ok(Box::new(PerStep::new(steps, dense).map_err(at)?))
    }
}
