//! The one door for optimizers: a visitor over every parameter tensor with its gradient.

use nn_math::Real;

use crate::{CoreError, Gradient, Network};

/// Whether a parameter tensor holds a layer's weights or its biases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamKind {
    /// `W⁽ᵏ⁾`, `n_k × n_{k−1}`, visited as a column-major slice.
    Weight,
    /// `b⁽ᵏ⁾`, `n_k`.
    Bias,
}

/// Identifies one parameter tensor: layer `layer` (0-based, the notes' layer
/// `layer + 1`), weights or biases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamId {
    /// The layer index, 0-based.
    pub layer: usize,
    /// Weights or biases.
    pub kind: ParamKind,
}

impl ParamId {
    /// The position in the visiting order: `2·layer` for weights, `2·layer + 1` for
    /// biases. Stable for a given architecture, so optimizers can index their state by it.
    pub fn index(&self) -> usize {
        2 * self.layer + usize::from(self.kind == ParamKind::Bias)
    }
}

impl<T: Real> Network<T> {
    /// Calls `f(id, parameters, gradient)` for every parameter tensor, in a stable order:
    /// layer 1's weights, layer 1's biases, layer 2's weights, … Weights are visited as
    /// column-major slices, each with the gradient slice of the same layout.
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
    ///     seen.push((id.index(), id.layer, id.kind, w.len()));
    /// })?;
    /// assert_eq!(seen, vec![
    ///     (0, 0, ParamKind::Weight, 6), (1, 0, ParamKind::Bias, 2),
    ///     (2, 1, ParamKind::Weight, 2), (3, 1, ParamKind::Bias, 1),
    /// ]);
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    pub fn visit_params_mut<F>(&mut self, grad: &Gradient<T>, mut f: F) -> Result<(), CoreError>
    where
        F: FnMut(ParamId, &mut [T], &[T]),
    {
        grad.check("visit_params_mut", self)?;
        for (layer, (dense, g)) in self.layers_mut().iter_mut().zip(grad.layers()).enumerate() {
            let (w, b) = dense.params_mut();
            f(
                ParamId {
                    layer,
                    kind: ParamKind::Weight,
                },
                w,
                g.weight().as_slice(),
            );
            f(
                ParamId {
                    layer,
                    kind: ParamKind::Bias,
                },
                b,
                g.bias().as_slice(),
            );
        }
        Ok(())
    }

    /// Whether every weight and bias is finite (one vectorized pass; see
    /// [`crate::all_finite`]).
    pub fn params_finite(&self) -> bool {
        self.layers()
            .iter()
            .all(|l| crate::all_finite(l.weight_slice()) && crate::all_finite(l.bias().as_slice()))
    }

    /// Calls `f(id, parameters)` for every parameter tensor, in the order of
    /// [`visit_params_mut`](Network::visit_params_mut) (e.g. to compute a norm of all
    /// weights for regularization, eq. 24).
    pub fn visit_params<F>(&self, mut f: F)
    where
        F: FnMut(ParamId, &[T]),
    {
        for (layer, dense) in self.layers().iter().enumerate() {
            f(
                ParamId {
                    layer,
                    kind: ParamKind::Weight,
                },
                dense.weight_slice(),
            );
            f(
                ParamId {
                    layer,
                    kind: ParamKind::Bias,
                },
                dense.bias().as_slice(),
            );
        }
    }
}
