//! The gradient of the cost with respect to every weight and bias (§3.1.1).

use nn_math::{Matrix, Real, Vector};

use crate::{CoreError, Network};

/// `∂C/∂W⁽ᵏ⁾` and `∂C/∂b⁽ᵏ⁾` of one layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerGradient<T> {
    weight: Matrix<T>,
    bias: Vector<T>,
}

impl<T: Real> LayerGradient<T> {
    /// `∂C/∂W⁽ᵏ⁾`, shaped like the weights (`n_k × n_{k−1}`).
    pub fn weight(&self) -> &Matrix<T> {
        &self.weight
    }

    /// `∂C/∂b⁽ᵏ⁾`, shaped like the biases (`n_k`).
    pub fn bias(&self) -> &Vector<T> {
        &self.bias
    }

    /// `∂C/∂W⁽ᵏ⁾` as a mutable column-major slice (for regularizers, which add to it).
    pub fn weight_mut(&mut self) -> &mut [T] {
        self.weight.as_mut_slice()
    }

    /// `∂C/∂b⁽ᵏ⁾` as a mutable slice.
    pub fn bias_mut(&mut self) -> &mut [T] {
        self.bias.as_mut_slice()
    }

    pub(crate) fn parts_mut(&mut self) -> (&mut Matrix<T>, &mut Vector<T>) {
        (&mut self.weight, &mut self.bias)
    }
}

/// The gradient `∇C` of a network: one [`LayerGradient`] per layer, filled by
/// [`Network::adjust_gradient`] and consumed by [`Network::apply_gradient`] or an
/// optimizer.
///
/// It accumulates: each `adjust_gradient` call adds its batch's **mean** gradient
/// (errata 5), until [`Gradient::clear`] (Algorithm 3/4) zeroes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient<T> {
    layers: Vec<LayerGradient<T>>,
}

impl<T: Real> Gradient<T> {
    /// A zero gradient with `net`'s shapes.
    pub fn zeros_like(net: &Network<T>) -> Self {
        let layers = net
            .layers()
            .iter()
            .map(|l| LayerGradient {
                weight: Matrix::zeros(l.n_outputs(), l.n_inputs()),
                bias: Vector::zeros(l.n_outputs()),
            })
            .collect();
        Self { layers }
    }

    /// `∇C⁽ᵏ⁾ ← 0` for every layer: the notes' ClearGradient (Algorithm 3/4).
    pub fn clear(&mut self) {
        for l in &mut self.layers {
            // Slices, not nalgebra's element iterators: this runs every batch.
            l.weight.as_mut_slice().fill(T::zero());
            l.bias.as_mut_slice().fill(T::zero());
        }
    }

    /// The per-layer gradients, layer 1 first.
    pub fn layers(&self) -> &[LayerGradient<T>] {
        &self.layers
    }

    /// The per-layer gradients, mutably.
    pub fn layers_mut(&mut self) -> &mut [LayerGradient<T>] {
        &mut self.layers
    }

    /// Multiplies every entry by `factor`.
    pub fn scale(&mut self, factor: T) {
        for l in &mut self.layers {
            l.weight
                .as_mut_slice()
                .iter_mut()
                .chain(l.bias.as_mut_slice())
                .for_each(|x| *x *= factor);
        }
    }

    /// Whether every entry is finite.
    pub fn is_finite(&self) -> bool {
        self.layers
            .iter()
            .all(|l| l.weight.iter().chain(l.bias.iter()).all(|v| v.is_finite()))
    }

    /// Checks that the gradient has `net`'s shapes.
    pub(crate) fn check(&self, op: &'static str, net: &Network<T>) -> Result<(), CoreError> {
        if self.layers.len() != net.layers().len() {
            return Err(CoreError::GradientMismatch {
                op,
                detail: format!(
                    "{} layers, the network has {}",
                    self.layers.len(),
                    net.layers().len()
                ),
            });
        }
        for (k, (g, l)) in self.layers.iter().zip(net.layers()).enumerate() {
            if g.weight.shape() != l.weight().shape() {
                let (r, c) = g.weight.shape();
                return Err(CoreError::GradientMismatch {
                    op,
                    detail: format!(
                        "layer {k} is {r}×{c}, the network's is {}×{}",
                        l.n_outputs(),
                        l.n_inputs()
                    ),
                });
            }
        }
        Ok(())
    }
}

impl<T: Real> Network<T> {
    /// The notes' ClearGradient (Algorithm 3/4): zeroes `grad` before a new batch.
    ///
    /// # Errors
    /// [`CoreError::GradientMismatch`] if `grad` was made for another architecture.
    pub fn clear_gradient(&self, grad: &mut Gradient<T>) -> Result<(), CoreError> {
        grad.check("clear_gradient", self)?;
        grad.clear();
        Ok(())
    }
}
