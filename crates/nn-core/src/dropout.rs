//! Dropout rates (§3.3.2.2): which share of each layer's neurons a training pass drops.

use crate::CoreError;

/// Dropout rates `δ` for the input layer and every hidden layer of a network with `L`
/// layers: `rates[0]` for the inputs `a⁽⁰⁾`, `rates[k]` for hidden layer `k` (`1 ≤ k < L`).
/// The output layer is never dropped, so there are exactly `L` rates.
///
/// A pass with dropout ([`crate::Network::evaluate_with_dropout`], Algorithm 16 as
/// corrected by errata 4) keeps each activation with probability `1 − δ` and scales it
/// by `1/(1 − δ)` ("inverted dropout"), so that plain evaluation needs no rescaling.
/// Dropout is used only when training asks for it: [`crate::Network::evaluate`] never
/// drops anything.
///
/// ```
/// use nn_core::Dropout;
/// let d = Dropout::new(vec![0.2, 0.5])?; // a 2-layer network: inputs 20 %, hidden 50 %
/// assert_eq!(d.rates(), &[0.2, 0.5]);
/// assert!(Dropout::new(vec![1.0]).is_err()); // δ must be in [0, 1)
/// # Ok::<(), nn_core::CoreError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dropout {
    rates: Vec<f64>,
}

impl Dropout {
    /// Dropout with the given rates, one per non-output layer (input first).
    ///
    /// # Errors
    /// [`CoreError::InvalidHyperParameter`] if a rate is outside `[0, 1)` or not finite.
    pub fn new(rates: Vec<f64>) -> Result<Self, CoreError> {
        for (k, &r) in rates.iter().enumerate() {
            if !(0.0..1.0).contains(&r) {
                return Err(CoreError::InvalidHyperParameter {
                    op: "dropout",
                    name: format!("rate of layer {k}"),
                    value: r,
                    requirement: "must be in [0, 1)",
                });
            }
        }
        Ok(Self { rates })
    }

    /// The rates, input layer first.
    pub fn rates(&self) -> &[f64] {
        &self.rates
    }
}
