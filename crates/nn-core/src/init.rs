//! Random initialization of weights and biases (Algorithm 2), from a caller-seeded RNG.

use nn_math::{Matrix, Real, Vector};
use rand::{Rng, RngExt};

use crate::{CoreError, LayerActivation};

/// How to draw a layer's initial weights and biases (`n_in` inputs, `n_out` neurons).
///
/// Every choice draws from the RNG the caller passes to the builder, so the same seed
/// gives the same network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// The notes' Algorithm 2: every weight **and bias** an independent "random number",
    /// here uniform in `[low, high)`.
    Uniform {
        /// Lower bound (inclusive).
        low: f64,
        /// Upper bound (exclusive); must exceed `low`.
        high: f64,
    },
    /// Glorot & Bengio (2010): weights uniform in `±√(6 / (n_in + n_out))`, biases 0.
    XavierUniform,
    /// Glorot & Bengio (2010): weights normal with variance `2 / (n_in + n_out)`, biases 0.
    XavierNormal,
    /// He et al. (2015): weights uniform in `±√(6 / n_in)`, biases 0.
    HeUniform,
    /// He et al. (2015): weights normal with variance `2 / n_in`, biases 0.
    HeNormal,
    /// PyTorch's default for `nn.Linear` and `nn.Conv2d`: weights **and biases** uniform
    /// in `±1/√n_in` (`n_in` a convolution's `C_in·kh·kw`); for `nn.RNN`, `nn.LSTM` and
    /// `nn.GRU`, every weight and bias uniform in `±1/√n_h` (`n_h` the hidden size). The
    /// distribution, not the values: PyTorch draws from its own generator.
    PyTorch,
    /// The default: [`Init::HeNormal`] for layers whose activations are all of the ReLU
    /// family (ReLU, PReLU, ELU, SiLU, Softplus, Mish, Squareplus), [`Init::XavierUniform`]
    /// otherwise (sigmoid, tanh, identity, step functions, custom functions). These keep
    /// the variance of activations and gradients about constant from layer to layer
    /// (the reason both papers give), where the notes' Algorithm 2 leaves the range to
    /// the reader; [`Init::PyTorch`] reproduces a PyTorch experiment's start instead.
    Auto,
}

impl Default for Init {
    /// [`Init::Auto`].
    fn default() -> Self {
        Init::Auto
    }
}

impl Init {
    /// Checks the parameters of [`Init::Uniform`].
    pub(crate) fn validate(&self) -> Result<(), CoreError> {
        if let Init::Uniform { low, high } = *self
            && !(low.is_finite() && high.is_finite() && low < high && (high - low).is_finite())
        {
            return Err(CoreError::InvalidHyperParameter {
                op: "init",
                name: "uniform range".into(),
                value: high - low,
                requirement: "bounds must be finite with low < high, and high − low finite",
            });
        }
        Ok(())
    }

    /// Draws the weights (`n_out × n_in`, filled column by column) and biases of one layer.
    pub(crate) fn draw<T: Real, R: Rng + ?Sized>(
        &self,
        n_in: usize,
        n_out: usize,
        activation: &LayerActivation<T>,
        rng: &mut R,
    ) -> Result<(Matrix<T>, Vector<T>), CoreError> {
        let fan = (n_in + n_out) as f64;
        let resolved = match self {
            Init::Auto if activation.is_relu_family() => Init::HeNormal,
            Init::Auto => Init::XavierUniform,
            other => *other,
        };
        // Sizes come from the user: refused, not aborted on, when too large.
        let mut weight = nn_math::try_zeros(n_out, n_in)?;
        let mut bias = Vector::from_vec(nn_math::try_zeroed_vec(n_out)?);
        let uniform = |low: f64, high: f64, rng: &mut R| T::lit(rng.random_range(low..high));
        match resolved {
            Init::Uniform { low, high } => {
                weight.iter_mut().for_each(|w| *w = uniform(low, high, rng));
                bias.iter_mut().for_each(|b| *b = uniform(low, high, rng));
            }
            Init::PyTorch => {
                let limit = 1.0 / (n_in as f64).sqrt();
                weight
                    .iter_mut()
                    .for_each(|w| *w = uniform(-limit, limit, rng));
                bias.iter_mut()
                    .for_each(|b| *b = uniform(-limit, limit, rng));
            }
            Init::XavierUniform | Init::HeUniform => {
                let limit = if resolved == Init::XavierUniform {
                    (6.0 / fan).sqrt()
                } else {
                    (6.0 / n_in as f64).sqrt()
                };
                weight
                    .iter_mut()
                    .for_each(|w| *w = uniform(-limit, limit, rng));
            }
            Init::XavierNormal | Init::HeNormal => {
                let var = if resolved == Init::XavierNormal {
                    2.0 / fan
                } else {
                    2.0 / n_in as f64
                };
                let sd = var.sqrt();
                weight
                    .iter_mut()
                    .for_each(|w| *w = T::lit(sd * standard_normal(rng)));
            }
            Init::Auto => unreachable!("Auto was resolved above"),
        }
        Ok((weight, bias))
    }
}

/// A standard normal sample by the Box–Muller transform:
/// `√(−2·ln u₁)·cos(2π·u₂)` for independent uniform `u₁ ∈ (0, 1]`, `u₂ ∈ [0, 1)`.
pub(crate) fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]: ln u₁ is finite
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn box_muller_has_zero_mean_and_unit_variance() {
        let mut rng = StdRng::seed_from_u64(1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        // Standard errors: 1/√n ≈ 0.0022 for the mean, √(2/n) ≈ 0.0032 for the variance.
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.015, "variance {var}");
    }
}
