//! The gradient of the cost with respect to every weight and bias (§3.1.1).

use nn_math::{Matrix, Real, Vector};

use crate::{CoreError, Network};

/// Whether every value is finite, in one pass that the compiler can vectorize: `0·v`
/// is 0 for finite `v` and NaN for ±∞ and NaN, and the sums over 32 lanes (several
/// registers, so that no addition waits for the previous one) keep the NaN (no early
/// exit, which would prevent vectorization). Compiled for AVX2 as well, and run so if
/// the CPU has it.
pub fn all_finite<T: Real>(values: &[T]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { all_finite_avx2(values) };
    }
    finite_lanes(values)
}

/// [`finite_lanes`] compiled for AVX2.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn all_finite_avx2<T: Real>(values: &[T]) -> bool {
    finite_lanes(values)
}

/// The loop of [`all_finite`], inlined into each of its builds.
#[inline(always)]
fn finite_lanes<T: Real>(values: &[T]) -> bool {
    let mut lanes = [T::zero(); 32];
    let chunks = values.chunks_exact(32);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..32 {
            lanes[i] += c[i] * T::zero();
        }
    }
    let tail = rest.iter().fold(T::zero(), |s, &v| s + v * T::zero());
    lanes.iter().fold(tail, |s, &v| s + v).is_finite()
}

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

    /// `self ← self + factor·other`, entry by entry (e.g. to combine the gradients of a
    /// batch's parts computed on several threads).
    ///
    /// # Errors
    /// [`CoreError::GradientMismatch`] if the shapes differ.
    pub fn add_scaled(&mut self, other: &Gradient<T>, factor: T) -> Result<(), CoreError> {
        if self.layers.len() != other.layers.len()
            || self
                .layers
                .iter()
                .zip(&other.layers)
                .any(|(a, b)| a.weight.shape() != b.weight.shape())
        {
            return Err(CoreError::GradientMismatch {
                op: "add_scaled",
                detail: "the two gradients differ in shape".into(),
            });
        }
        for (a, b) in self.layers.iter_mut().zip(&other.layers) {
            for (x, y) in a.weight.as_mut_slice().iter_mut().zip(b.weight.as_slice()) {
                *x += factor * *y;
            }
            for (x, y) in a.bias.as_mut_slice().iter_mut().zip(b.bias.as_slice()) {
                *x += factor * *y;
            }
        }
        Ok(())
    }

    /// Whether every entry is finite.
    pub fn is_finite(&self) -> bool {
        self.layers
            .iter()
            .all(|l| all_finite(l.weight.as_slice()) && all_finite(l.bias.as_slice()))
    }

    /// Checks that the gradient has `net`'s shapes.
    ///
    /// # Errors
    /// [`CoreError::GradientMismatch`] naming the first difference.
    pub fn check_shapes(&self, net: &Network<T>) -> Result<(), CoreError> {
        self.check("check_shapes", net)
    }

    /// Checks that the gradient has `net`'s shapes, naming `op` in the error.
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

#[cfg(test)]
mod tests {
    use super::all_finite;

    #[test]
    fn all_finite_finds_any_non_finite_value_in_lanes_and_tail() {
        let mut v = vec![1.5_f32; 21];
        assert!(all_finite(&v));
        assert!(all_finite::<f64>(&[]));
        for bad in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
            for at in [0, 7, 15, 16, 20] {
                v[at] = bad;
                assert!(!all_finite(&v), "{bad} at {at}");
                v[at] = 1.5;
            }
        }
        assert!(all_finite(&[f32::MAX, -f32::MAX, f32::MIN_POSITIVE]));
    }
}
