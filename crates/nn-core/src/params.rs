//! The one door for optimizers, regularizers, checkpoints and model files: a visitor
//! over every parameter tensor, named `layers.{k}.{name}`.

use nn_math::Real;

use crate::{CoreError, Gradient, Network, ParamSpec};

/// What a parameter tensor is for. Regularizers decide by it whether they apply
/// (weights by default; biases and other parameters when asked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamKind {
    /// Connection weights, e.g. a dense layer's `W⁽ᵏ⁾` (`n_k × n_{k−1}`).
    Weight,
    /// Biases, e.g. a dense layer's `b⁽ᵏ⁾` (`n_k`).
    Bias,
    /// Anything else: a learnable scale or shift, an activation's `β` or `γ`.
    Other,
}

/// Identifies one parameter tensor of a network: its layer, its position in the visiting
/// order, and its name and kind as the layer declares them ([`ParamSpec`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamId {
    /// The layer index, 0-based (the notes' layer `layer + 1`).
    pub layer: usize,
    /// The position in the network's visiting order (0 for the first tensor).
    pub position: usize,
    /// The tensor's name within its layer, e.g. `"weight"`.
    pub name: &'static str,
    /// What the tensor is for.
    pub kind: ParamKind,
}

impl ParamId {
    /// The position in the visiting order: stable for a given architecture, so optimizers
    /// index their state by it. For a network of dense layers, `2·layer` for weights and
    /// `2·layer + 1` for biases.
    pub fn index(&self) -> usize {
        self.position
    }

    /// The tensor's full name, `layers.{layer}.{name}`, as model files and checkpoints
    /// store it (e.g. `layers.0.weight`).
    pub fn path(&self) -> String {
        format!("layers.{}.{}", self.layer, self.name)
    }
}

impl<T: Real> Network<T> {
    /// Calls `f(id, parameters, gradient)` for every parameter tensor, in a stable order:
    /// layer 1's tensors in the order the layer declares them (a dense layer: weights,
    /// then biases), then layer 2's, … Tensors are visited as column-major slices, each
    /// with the gradient slice of the same layout.
    ///
    /// This is how optimizers update a network without knowing its structure.
    ///
    /// # Errors
    /// [`CoreError::GradientMismatch`] if `grad` was made for another architecture.
    ///
    /// ```
    /// use nn_core::{Network, ParamKind};
    /// use nn_activations::Relu;
    /// use rand::SeedableRng;
    ///
    /// let mut net = Network::<f64>::builder(3).layer(2, Relu).layer(1, Relu)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(0))?;
    /// let grad = net.gradient();
    /// let mut seen = Vec::new();
    /// net.visit_params_mut(&grad, |id, w, g| {
    ///     assert_eq!(w.len(), g.len());
    ///     seen.push((id.index(), id.path(), id.kind, w.len()));
    /// })?;
    /// assert_eq!(seen, vec![
    ///     (0, "layers.0.weight".to_string(), ParamKind::Weight, 6),
    ///     (1, "layers.0.bias".to_string(), ParamKind::Bias, 2),
    ///     (2, "layers.1.weight".to_string(), ParamKind::Weight, 2),
    ///     (3, "layers.1.bias".to_string(), ParamKind::Bias, 1),
    /// ]);
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    pub fn visit_params_mut<F>(&mut self, grad: &Gradient<T>, mut f: F) -> Result<(), CoreError>
    where
        F: FnMut(ParamId, &mut [T], &[T]),
    {
        grad.check("visit_params_mut", self)?;
        let mut position = 0;
        for layer in 0..self.n_layers() {
            let g = &grad.layers()[layer];
            let Some(l) = self.layer_mut(layer) else {
                break;
            };
            let mut i = 0;
            l.visit_params_mut(&mut |spec, values| {
                let id = id_of(layer, position, spec);
                f(id, values, g.tensors()[i].as_slice());
                i += 1;
                position += 1;
            });
        }
        Ok(())
    }

    /// Calls `f(id, parameters, gradient)` for every parameter tensor with the gradient
    /// mutable and the parameters read-only (e.g. for a regularizer, which adds to the
    /// gradient), in the order of [`visit_params_mut`](Network::visit_params_mut).
    ///
    /// # Errors
    /// [`CoreError::GradientMismatch`] if `grad` was made for another architecture.
    pub fn visit_grads_mut<F>(&self, grad: &mut Gradient<T>, mut f: F) -> Result<(), CoreError>
    where
        F: FnMut(ParamId, &[T], &mut [T]),
    {
        grad.check("visit_grads_mut", self)?;
        let mut position = 0;
        for (layer, (l, g)) in self.layers().zip(grad.layers_mut()).enumerate() {
            let mut i = 0;
            let tensors = g.tensors_mut();
            l.visit_params(&mut |spec, values| {
                let id = id_of(layer, position, spec);
                f(id, values, tensors[i].as_mut_slice());
                i += 1;
                position += 1;
            });
        }
        Ok(())
    }

    /// Whether every parameter is finite (one vectorized pass per tensor; see
    /// [`crate::all_finite`]).
    pub fn params_finite(&self) -> bool {
        let mut finite = true;
        self.visit_params(|_, p| finite &= crate::all_finite(p));
        finite
    }

    /// Calls `f(id, parameters)` for every parameter tensor, in the order of
    /// [`visit_params_mut`](Network::visit_params_mut) (e.g. to compute a norm of all
    /// weights for regularization, eq. 24).
    pub fn visit_params<F>(&self, mut f: F)
    where
        F: FnMut(ParamId, &[T]),
    {
        let mut position = 0;
        for (layer, l) in self.layers().enumerate() {
            l.visit_params(&mut |spec, values| {
                f(id_of(layer, position, spec), values);
                position += 1;
            });
        }
    }

    /// The ids of every parameter tensor with its shape, in visiting order.
    pub fn param_specs(&self) -> Vec<(ParamId, ParamSpec)> {
        let mut out = Vec::new();
        for (layer, l) in self.layers().enumerate() {
            l.visit_params(&mut |spec, _| {
                let position = out.len();
                out.push((id_of(layer, position, spec), spec));
            });
        }
        out
    }
}

fn id_of(layer: usize, position: usize, spec: ParamSpec) -> ParamId {
    ParamId {
        layer,
        position,
        name: spec.name,
        kind: spec.kind,
    }
}
