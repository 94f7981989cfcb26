//! Numerically stable building blocks shared by the sigmoid family.
//!
//! `1/(1 + e^{−z})` overflows `e^{−z}` for very negative `z`, and `1 − σ` cancels to 0
//! for large positive `z` although its true value is `e^{−z}`; `ln(1 + e^z)` overflows for
//! large `z` and rounds to 0 for very negative `z`. The forms below avoid all four: the
//! exponential is only ever taken of a non-positive number.

use nn_math::Real;

/// The standard logistic function and its complement: `(s, 1 − s)` with
/// `s = 1 / (1 + e^{−z})`, each computed without overflow or cancellation.
#[inline]
pub(crate) fn logistic_pair<T: Real>(z: T) -> (T, T) {
    if z >= T::zero() {
        let e = (-z).exp();
        let d = T::one() + e;
        (T::one() / d, e / d)
    } else {
        let e = z.exp();
        let d = T::one() + e;
        (e / d, T::one() / d)
    }
}

/// `ln(1 + e^{β·x}) / β` for `β > 0`, written as `max(x, 0) + ln(1 + e^{−β·|x|}) / β`
/// (the two agree because `ln(1 + e^z) = max(z, 0) + ln(1 + e^{−|z|})`). Accurate for
/// every `x`: `ln_1p` keeps the tiny values for very negative `β·x`, and nothing
/// overflows for large `β·x`.
#[inline]
pub(crate) fn softplus_unit<T: Real>(x: T, beta: T) -> T {
    x.max(T::zero()) + (-(beta * x).abs()).exp().ln_1p() / beta
}

/// `∂u/∂β` for `u = softplus_unit(x, β) = ln(1 + e^{β·x})/β`, `β > 0`:
/// `(x·s − u)/β` with `s = 1/(1 + e^{−β·x})`. Both terms are near `x` when `β·x` is
/// large, so the difference is taken in the form without cancellation: with `z = β·x`
/// and `l = ln(1 + e^{−|z|})`, `x·s − u = −x·(1 − s) − l/β` for `z ≥ 0` and
/// `x·s − l/β` for `z < 0` (two terms of one sign each time).
#[inline]
pub(crate) fn softplus_dbeta_unit<T: Real>(x: T, beta: T) -> T {
    let z = beta * x;
    let (s, one_minus_s) = logistic_pair(z);
    let l = (-z.abs()).exp().ln_1p() / beta;
    let diff = if z >= T::zero() {
        -x * one_minus_s - l
    } else {
        x * s - l
    };
    diff / beta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_pair_has_no_cancellation_in_the_tails() {
        // At z = 50, 1 − s is e^{−50}/(1 + e^{−50}), not the 0 that 1 − s would give.
        let (s, c) = logistic_pair(50.0_f64);
        assert_eq!(s, 1.0);
        assert!((c / (-50.0_f64).exp() - 1.0).abs() < 1e-15);
        let (s, c) = logistic_pair(-50.0_f64);
        assert!((s / (-50.0_f64).exp() - 1.0).abs() < 1e-15);
        assert_eq!(c, 1.0);
        assert_eq!(logistic_pair(f32::MAX), (1.0, 0.0));
        assert_eq!(logistic_pair(-f32::MAX), (0.0, 1.0));
    }

    #[test]
    fn softplus_unit_is_accurate_in_both_tails() {
        // ln(1 + e^{−40}) = e^{−40} − e^{−80}/2 + … : the naive form rounds it to 0.
        assert!((softplus_unit(-40.0_f64, 1.0) / (-40.0_f64).exp() - 1.0).abs() < 1e-15);
        // For large x it is x + e^{−x}: finite, and x to the last bit.
        assert_eq!(softplus_unit(1e30_f64, 1.0), 1e30);
        assert_eq!(softplus_unit(f32::MAX, 1.0), f32::MAX);
    }
}
