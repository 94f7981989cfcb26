//! Setting a built-in activation's parameters by value, and keeping them inside the notes'
//! domains: what learning β and γ along with the weights (§2.1.1) needs.

use nn_math::Real;

use crate::{ActivationError, Builtin, Elu, Mish, PRelu, Sigmoid, Silu, Softplus, Squareplus};

/// How close to the edge of an open domain (β > 0 for softplus and mish, γ ≠ 0 for the
/// sigmoid family) [`Builtin::project`] puts a value that left it.
pub const DOMAIN_MARGIN: f64 = 1e-6;

impl<T: Real> Builtin<T> {
    /// The same function with its parameters set to `values`, in the order of
    /// [`params`](crate::Activation::params) (β, then γ), checked as the constructor
    /// checks them. Allocates nothing.
    ///
    /// ```
    /// use nn_activations::{Activation, Builtin, Sigmoid};
    /// let s: Builtin<f64> = Sigmoid::default().into();
    /// assert_eq!(s.with_param_values(&[2.0, 3.0])?, Sigmoid::new(2.0, 3.0)?.into());
    /// assert!(s.with_param_values(&[2.0, 0.0]).is_err()); // γ = 0
    /// assert!(s.with_param_values(&[2.0]).is_err());      // γ missing
    /// # Ok::<(), nn_activations::ActivationError>(())
    /// ```
    ///
    /// # Errors
    /// [`ActivationError::InvalidParameter`] for a value outside the function's domain,
    /// [`ActivationError::ParameterCount`] for a list of another length.
    pub fn with_param_values(&self, values: &[T]) -> Result<Self, ActivationError> {
        let count = |n: usize| {
            if values.len() == n {
                Ok(())
            } else {
                Err(ActivationError::ParameterCount {
                    activation: self.static_name(),
                    expected: n,
                    got: values.len(),
                })
            }
        };
        Ok(match self {
            Self::Sigmoid(_) => count(2)
                .and_then(|_| Sigmoid::new(values[0], values[1]))?
                .into(),
            Self::Silu(_) => count(2)
                .and_then(|_| Silu::new(values[0], values[1]))?
                .into(),
            Self::Softplus(_) => count(2)
                .and_then(|_| Softplus::new(values[0], values[1]))?
                .into(),
            Self::PRelu(_) => count(1).and_then(|_| PRelu::new(values[0]))?.into(),
            Self::Elu(_) => count(1).and_then(|_| Elu::new(values[0]))?.into(),
            Self::Mish(_) => count(1).and_then(|_| Mish::new(values[0]))?.into(),
            Self::Squareplus(_) => count(1).and_then(|_| Squareplus::new(values[0]))?.into(),
            _ => {
                count(0)?;
                *self
            }
        })
    }

    /// Moves parameter `index` (in the order of `params`) of this function to the
    /// nearest value of its domain, if it left it: β ≥ 0 for ELU and squareplus (to 0);
    /// β > 0 for softplus and mish (to [`DOMAIN_MARGIN`]); γ ≠ 0 for the sigmoid, SiLU
    /// and softplus (a |γ| below [`DOMAIN_MARGIN`] to ±`DOMAIN_MARGIN`, keeping its sign,
    /// 0 to `+DOMAIN_MARGIN`). Values inside the domain, non-finite values (which
    /// training reports as divergence) and other parameters are returned unchanged.
    ///
    /// ```
    /// use nn_activations::{Builtin, Elu, Sigmoid};
    /// let elu: Builtin<f64> = Elu::default().into();
    /// assert_eq!(elu.project(0, -0.25), 0.0);
    /// let sig: Builtin<f64> = Sigmoid::default().into();
    /// assert_eq!(sig.project(1, -1e-9), -1e-6);   // |γ| too small: kept on its side
    /// assert_eq!(sig.project(0, -7.0), -7.0);     // β is free
    /// ```
    pub fn project(&self, index: usize, value: T) -> T {
        let margin = T::lit(DOMAIN_MARGIN);
        let gamma = |v: T| {
            if v.abs() >= margin || !v.is_finite() {
                v
            } else if v < T::zero() {
                -margin
            } else {
                margin
            }
        };
        match (self, index) {
            (Self::Elu(_) | Self::Squareplus(_), 0) if value < T::zero() => T::zero(),
            (Self::Softplus(_) | Self::Mish(_), 0) if value < margin => margin,
            (Self::Sigmoid(_) | Self::Silu(_) | Self::Softplus(_), 1) => gamma(value),
            _ => value,
        }
    }

    /// The name as a `'static` string (for errors).
    pub(crate) fn static_name(&self) -> &'static str {
        match self {
            Self::Identity(_) => "identity",
            Self::Threshold(_) => "threshold",
            Self::Sign(_) => "sign",
            Self::Sigmoid(_) => "sigmoid",
            Self::Tanh(_) => "tanh",
            Self::Relu(_) => "relu",
            Self::PRelu(_) => "prelu",
            Self::Silu(_) => "silu",
            Self::Elu(_) => "elu",
            Self::Softplus(_) => "softplus",
            Self::Mish(_) => "mish",
            Self::Squareplus(_) => "squareplus",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation;

    #[test]
    fn every_builtin_takes_back_its_own_parameters_and_projection_lands_in_the_domain() {
        for name in Builtin::<f64>::NAMES {
            let b = Builtin::<f64>::from_parts(name, &[]).unwrap();
            let values: Vec<f64> = b.params().iter().map(|p| p.1).collect();
            assert_eq!(b.with_param_values(&values).unwrap(), b, "{name}");
            assert!(b.with_param_values(&[0.5; 3]).is_err(), "{name}");
            for (i, _) in values.iter().enumerate() {
                for bad in [-3.0, -1e-9, 0.0, 1e-9] {
                    let mut moved = values.clone();
                    moved[i] = b.project(i, bad);
                    assert!(b.with_param_values(&moved).is_ok(), "{name} {i} {bad}");
                }
            }
        }
    }
}
