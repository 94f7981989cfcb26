//! Layer normalization (Ba, Kiros and Hinton, 2016) as a user's own [`Layer`]: written
//! outside the library's crates, as any user would, with nothing but the public API.
//!
//! For one example `x ∈ ℝⁿ` (a column of the batch):
//!
//! - forward: `μ = (1/n)·Σᵢ xᵢ`, `σ² = (1/n)·Σᵢ (xᵢ − μ)²`, `σ̃ = √(σ² + ε)`,
//!   `x̂ = (x − μ)/σ̃`, `a = γ ⊙ x̂ + β`;
//! - backward, given `g = ∂C/∂a`: `∂C/∂γ = g ⊙ x̂`, `∂C/∂β = g`, and with `ĝ = γ ⊙ g`,
//!   `∂C/∂x = (ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) / σ̃`.
//!
//! The forward pass keeps `x̂` and `1/σ̃` of every example in its scratch buffer for the
//! backward pass.

use nn_core::{CoreError, Layer, LayerRecord, ParamKind, ParamSpec, Saved};
use nn_math::{Matrix, MatrixView, MatrixViewMut, Real};

/// Layer normalization over `n` features with a learnable scale `γ` and shift `β`.
#[derive(Clone, Debug)]
pub struct LayerNorm<T> {
    gamma: Vec<T>,
    beta: Vec<T>,
    eps: T,
}

impl<T: Real> LayerNorm<T> {
    /// Over `n` features, `γ = 1`, `β = 0`, the given `ε`.
    ///
    /// # Errors
    /// For `n = 0` or an `ε` that is not positive and finite.
    pub fn new(n: usize, eps: T) -> Result<Self, CoreError> {
        if n == 0 || !(eps.is_finite() && eps > T::zero()) {
            return Err(CoreError::Architecture(format!(
                "layer_norm: needs n ≥ 1 and ε > 0 (got n = {n}, ε = {eps})"
            )));
        }
        Ok(Self {
            gamma: vec![T::one(); n],
            beta: vec![T::zero(); n],
            eps,
        })
    }

    /// Rebuilds the layer from what a model file recorded (for a `LayerResolver`); its
    /// `γ` and `β` are then read from the file.
    ///
    /// # Errors
    /// As [`LayerNorm::new`], or settings without a numeric `eps`.
    pub fn from_record(record: &LayerRecord<'_>) -> Result<Self, CoreError> {
        let eps = record
            .settings
            .get("eps")
            .and_then(|v| v.as_f64())
            .ok_or_else(|| CoreError::Architecture("layer_norm: settings lack eps".into()))?;
        Self::new(record.n_outputs, T::lit(eps))
    }
}

impl<T: Real> Layer<T> for LayerNorm<T> {
    fn kind(&self) -> &str {
        "layer_norm"
    }

    fn n_inputs(&self) -> usize {
        self.gamma.len()
    }

    fn n_outputs(&self) -> usize {
        self.gamma.len()
    }

    /// `x̂` (`n × B`), then `1/σ̃` of each example (`B`).
    fn scratch_len(&self, batch: usize) -> usize {
        (self.gamma.len() + 1) * batch
    }

    fn forward(
        &self,
        input: MatrixView<'_, T>,
        mut output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
    ) -> Result<(), CoreError> {
        let (n, batch) = input.shape();
        let nt = T::lit(n as f64);
        let (x_hat, inv_sigma) = scratch.split_at_mut(n * batch);
        for j in 0..batch {
            let x = input.column(j);
            let mu = x.iter().fold(T::zero(), |s, &v| s + v) / nt;
            let var = x.iter().fold(T::zero(), |s, &v| s + (v - mu) * (v - mu)) / nt;
            let inv = T::one() / (var + self.eps).sqrt();
            inv_sigma[j] = inv;
            for i in 0..n {
                let h = (x[i] - mu) * inv;
                x_hat[j * n + i] = h;
                output[(i, j)] = self.gamma[i] * h + self.beta[i];
            }
        }
        Ok(())
    }

    fn backward(
        &self,
        saved: Saved<'_, T>,
        d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        d_input: Option<MatrixViewMut<'_, T>>,
    ) -> Result<(), CoreError> {
        let (n, batch) = d_output.shape();
        let nt = T::lit(n as f64);
        let (x_hat, inv_sigma) = saved.scratch.split_at(n * batch);
        let [d_gamma, d_beta] = grads else {
            return Err(CoreError::Architecture(
                "layer_norm: expects 2 gradients".into(),
            ));
        };
        for j in 0..batch {
            for i in 0..n {
                let g = d_output[(i, j)];
                d_gamma[(i, 0)] += scale * g * x_hat[j * n + i];
                d_beta[(i, 0)] += scale * g;
            }
        }
        if let Some(mut d_in) = d_input {
            for j in 0..batch {
                let h = &x_hat[j * n..(j + 1) * n];
                let (mut mean_g, mut mean_gh) = (T::zero(), T::zero());
                for i in 0..n {
                    let g = self.gamma[i] * d_output[(i, j)];
                    mean_g += g;
                    mean_gh += g * h[i];
                }
                mean_g /= nt;
                mean_gh /= nt;
                for i in 0..n {
                    let g = self.gamma[i] * d_output[(i, j)];
                    d_in[(i, j)] = (g - mean_g - h[i] * mean_gh) * inv_sigma[j];
                }
            }
        }
        Ok(())
    }

    fn visit_params(&self, f: &mut dyn FnMut(ParamSpec, &[T])) {
        let n = self.gamma.len();
        f(ParamSpec::vector("gamma", n, ParamKind::Other), &self.gamma);
        f(ParamSpec::vector("beta", n, ParamKind::Bias), &self.beta);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T])) {
        let n = self.gamma.len();
        f(
            ParamSpec::vector("gamma", n, ParamKind::Other),
            &mut self.gamma,
        );
        f(
            ParamSpec::vector("beta", n, ParamKind::Bias),
            &mut self.beta,
        );
    }

    fn settings(&self) -> Result<nn_core::serde_json::Value, CoreError> {
        Ok(nn_core::serde_json::json!({ "eps": self.eps.as_f64() }))
    }
}
