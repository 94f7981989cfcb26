//! A dense (fully connected) layer: `a⁽ᵏ⁾ = f⁽ᵏ⁾(W⁽ᵏ⁾·a⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾)` (eq. 2).

use nn_math::nalgebra::DVectorViewMut;
use nn_math::{
    AlignedVec, Matrix, MatrixView, MatrixViewMut, Op, Real, Vector, gemm, mul_tn_to, mul_to,
};

use super::learned::{Learned, Sharing};
use super::learned_passes::LayerFns;
use crate::{CoreError, Layer, LayerActivation, ParamKind, ParamSpec, Saved};

/// A fully connected layer `k`: weights `W⁽ᵏ⁾` (`n_k × n_{k−1}`), biases `b⁽ᵏ⁾` (`n_k`), and
/// the activation functions of its neurons.
///
/// # Separate biases are the notes' simplified notation unfolded
/// §2.2.1 folds the bias into the weights: with `a₀ = 1` and `w_{j,0} = b_j`,
/// `W·a + b` becomes `W̃·ã` for the `n_k × (n_{k−1} + 1)` matrix `W̃ = [b | W]` and
/// `ã = [1; a]` (eq. 3). Keeping `b` apart computes the same thing without copying a
/// row of ones into every batch:
///
/// ```
/// use nn_core::Dense;
/// use nn_activations::Identity;
/// use nn_math::{Matrix, Vector};
///
/// let w = Matrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let b = Vector::from_vec(vec![0.5, -1.0]);
/// let layer = Dense::new(w.clone(), b.clone(), Identity)?;
///
/// // The simplified notation: W̃ = [b | W], ã = [1; a].
/// let w_tilde = Matrix::from_fn(2, 4, |j, i| if i == 0 { b[j] } else { w[(j, i - 1)] });
/// let a = Vector::from_vec(vec![1.0, -1.0, 2.0]);
/// let a_tilde = Vector::from_fn(4, |i, _| if i == 0 { 1.0 } else { a[i - 1] });
/// assert_eq!(&w * &a + &b, &w_tilde * &a_tilde);
/// assert_eq!(layer.weight(), w);
/// # Ok::<(), nn_core::CoreError>(())
/// ```
///
/// The weights are stored column by column from a 64-byte boundary ([`AlignedVec`]), so
/// that the products' vector loads of them never straddle cache lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<T: Real> {
    /// `W⁽ᵏ⁾`, column-major, `n_k × n_{k−1}`.
    weight: AlignedVec<T>,
    /// `(n_k, n_{k−1})`.
    shape: (usize, usize),
    bias: Vector<T>,
    activation: LayerActivation<T>,
    /// The activation's parameters learned along with the weights, if any.
    learned: Option<Learned<T>>,
}

impl<T: Real> Dense<T> {
    /// A layer from its weights, biases and activation.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] if `weight` has no rows or no columns, `bias` is not as
    /// long as `weight` has rows, a per-neuron activation list has another length, or a
    /// weight or bias is not finite.
    pub fn new(
        weight: Matrix<T>,
        bias: Vector<T>,
        activation: impl Into<LayerActivation<T>>,
    ) -> Result<Self, CoreError> {
        let activation = activation.into();
        let (rows, cols) = weight.shape();
        if rows == 0 || cols == 0 {
            return Err(CoreError::Architecture(format!(
                "a layer's weight matrix is {rows}×{cols}; both sides must be at least 1"
            )));
        }
        if bias.len() != rows {
            return Err(CoreError::Architecture(format!(
                "bias has {} entries, the layer has {rows} neurons",
                bias.len()
            )));
        }
        if let Some(len) = activation.per_neuron_len()
            && len != rows
        {
            return Err(CoreError::Architecture(format!(
                "per-neuron activation list has {len} entries, the layer has {rows} neurons"
            )));
        }
        if let Some(what) = first_non_finite(weight.as_slice(), rows, bias.as_slice()) {
            return Err(CoreError::Architecture(format!("{what} is not finite")));
        }
        Ok(Self {
            weight: AlignedVec::from_slice(weight.as_slice()),
            shape: (rows, cols),
            bias,
            activation,
            learned: None,
        })
    }

    /// This layer with parameters `params` of its activation (`"beta"`, `"gamma"`)
    /// learned along with the weights (§2.1.1), one value for the layer or one per
    /// neuron, starting from the function's own values. The values appear in the
    /// parameter visitor as `activation.beta` and `activation.gamma`
    /// ([`ParamKind::Other`], so regularizers leave them alone unless asked), and every
    /// update keeps them in the notes' domain (see `Builtin::project`). A function of
    /// your own is learnable too if it implements `Activation::with_params` (and
    /// `dparams`, and `project_param` if its domain is not all of ℝ), with at most two
    /// parameters, named `"beta"` and `"gamma"`. A network of dense layers runs on the
    /// multi-threaded engine whether they learn or not.
    ///
    /// ```
    /// use nn_core::{Dense, Sharing};
    /// use nn_activations::{Relu, Silu};
    /// use nn_math::{Matrix, Vector};
    ///
    /// let layer = Dense::new(Matrix::from_element(3, 2, 0.5), Vector::zeros(3), Silu::default())?
    ///     .learn(&["beta"], Sharing::PerNeuron)?;
    /// assert_eq!(layer.learns(), Some(Sharing::PerNeuron));
    /// // ReLU has nothing to learn.
    /// assert!(Dense::<f64>::new(Matrix::zeros(3, 2), Vector::zeros(3), Relu)?.learn(&["beta"], Sharing::Shared).is_err());
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    ///
    /// # Errors
    /// [`CoreError::Architecture`] if the layer has one function per neuron, or a custom
    /// one without `with_params` or with more than two parameters, or the function has no
    /// such parameter.
    pub fn learn(mut self, params: &[&str], sharing: Sharing) -> Result<Self, CoreError> {
        let LayerActivation::Shared(f) = &self.activation else {
            return Err(CoreError::Architecture(
                "learnable activation parameters need one function for the whole layer".into(),
            ));
        };
        self.learned = Some(Learned::new(f, params, sharing, self.shape.0)?);
        Ok(self)
    }

    /// How the layer's learned activation parameters are shared, if it learns any.
    pub fn learns(&self) -> Option<Sharing> {
        self.learned.as_ref().map(Learned::sharing)
    }

    /// Number of inputs, `n_{k−1}`.
    pub fn n_inputs(&self) -> usize {
        self.shape.1
    }

    /// Number of neurons (outputs), `n_k`.
    pub fn n_outputs(&self) -> usize {
        self.shape.0
    }

    /// The weights `W⁽ᵏ⁾` (`n_k × n_{k−1}`); `w_{j,i}` connects input `i` to neuron `j`.
    pub fn weight(&self) -> MatrixView<'_, T> {
        let (r, c) = self.shape;
        MatrixView::from_slice(&self.weight, r, c)
    }

    /// The weights column by column (`W⁽ᵏ⁾[:, 0]`, then `W⁽ᵏ⁾[:, 1]`, …): the storage of
    /// [`weight`](Dense::weight).
    pub fn weight_slice(&self) -> &[T] {
        &self.weight
    }

    /// The biases `b⁽ᵏ⁾` (`n_k`).
    pub fn bias(&self) -> &Vector<T> {
        &self.bias
    }

    /// The weights, mutably, as a view (its shape cannot change).
    pub fn weight_mut(&mut self) -> MatrixViewMut<'_, T> {
        let (r, c) = self.shape;
        MatrixViewMut::from_slice(&mut self.weight, r, c)
    }

    /// The biases, mutably, as a view (its length cannot change).
    pub fn bias_mut(&mut self) -> DVectorViewMut<'_, T> {
        let n = self.bias.len();
        self.bias.rows_mut(0, n)
    }

    /// The layer's activation functions.
    pub fn activation(&self) -> &LayerActivation<T> {
        &self.activation
    }

    /// The functions the engine's passes apply: the activation, or the function with
    /// its learned values.
    pub(crate) fn fns(&self) -> LayerFns<'_, T> {
        LayerFns::of(&self.activation, self.learned.as_ref())
    }

    /// The learned activation parameters, mutably, for the fused descent.
    pub(crate) fn learned_mut(&mut self) -> Option<&mut Learned<T>> {
        self.learned.as_mut()
    }

    /// How many learned values the layer has (0 if none): the engine's partial sums.
    pub(crate) fn learned_len(&self) -> usize {
        self.learned.as_ref().map_or(0, Learned::partial_len)
    }

    /// How many parameter tensors the layer has: weight, bias and the learned ones.
    pub(crate) fn n_tensors(&self) -> usize {
        2 + self.learned.as_ref().map_or(0, Learned::tensors)
    }

    /// The weights (column-major) and biases, mutably, and the functions, for the fused
    /// descent.
    pub(crate) fn update_parts(&mut self) -> (&mut [T], &mut [T], LayerFns<'_, T>) {
        let fns = LayerFns::of(&self.activation, self.learned.as_ref());
        (&mut self.weight, self.bias.as_mut_slice(), fns)
    }
}

impl<T: Real> Dense<T> {
    fn specs(&self) -> [ParamSpec; 2] {
        let (n, m) = self.shape;
        [
            ParamSpec::matrix("weight", n, m, ParamKind::Weight),
            ParamSpec::vector("bias", n, ParamKind::Bias),
        ]
    }
}

/// The error of a gradient without a dense layer's tensor `i`.
fn missing(i: usize) -> CoreError {
    CoreError::GradientMismatch {
        op: "dense backward",
        detail: format!("the gradient lacks tensor {i} of the layer"),
    }
}

/// The dense layer as a [`Layer`]: what the reference procedures ([`crate::reference`])
/// run, one layer at a time on the calling thread. (A network of dense layers only runs
/// on the multi-threaded engine instead, which computes the same values.)
impl<T: Real> Layer<T> for Dense<T> {
    fn kind(&self) -> &str {
        "dense"
    }

    fn n_inputs(&self) -> usize {
        self.shape.1
    }

    fn n_outputs(&self) -> usize {
        self.shape.0
    }

    /// The pre-activations `S⁽ᵏ⁾` (`n_k × B`).
    fn scratch_len(&self, batch: usize) -> usize {
        self.shape.0 * batch
    }

    /// Eq. 2 for a batch: `S = W·A⁽ᵏ⁻¹⁾ + b·1ᵀ` (kept in `scratch`), `A⁽ᵏ⁾ = f(S)`.
    fn forward(
        &self,
        input: MatrixView<'_, T>,
        mut output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
    ) -> Result<(), CoreError> {
        let (n, batch) = (self.shape.0, input.ncols());
        let mut s = MatrixViewMut::from_slice(&mut scratch[..n * batch], n, batch);
        mul_to(&self.weight(), &input, &mut s)?;
        for (j, mut col) in s.column_iter_mut().enumerate() {
            let col = col.as_mut_slice();
            for (x, b) in col.iter_mut().zip(self.bias.iter()) {
                *x += *b;
            }
            if self.learned.is_none() {
                let mut out = output.column_mut(j);
                self.activation.forward(col, out.as_mut_slice(), 0)?;
            }
        }
        if let Some(learned) = &self.learned {
            learned.forward(&scratch[..n * batch], &mut output)?;
        }
        Ok(())
    }

    /// One layer of Algorithm 8 (errata 2): `D = Δ ⊙ f'(S)`, `∇W += scale·D·Aᵀ`,
    /// `∇b += scale·D·1`, and `∂C/∂A⁽ᵏ⁻¹⁾ = Wᵀ·D`.
    fn backward(
        &self,
        saved: Saved<'_, T>,
        mut d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        d_input: Option<MatrixViewMut<'_, T>>,
    ) -> Result<(), CoreError> {
        let (n, batch) = (self.shape.0, d_output.ncols());
        let (gw, rest) = grads.split_first_mut().ok_or_else(|| missing(0))?;
        let (gb, learned) = rest.split_first_mut().ok_or_else(|| missing(1))?;
        match &self.learned {
            Some(l) => l.backward(&saved.scratch[..n * batch], &mut d_output, scale, learned)?,
            None => {
                for j in 0..batch {
                    let s = &saved.scratch[j * n..(j + 1) * n];
                    let mut d = d_output.column_mut(j);
                    self.activation.mul_derivative(s, d.as_mut_slice(), 0)?;
                }
            }
        }
        gemm(
            scale,
            &d_output,
            Op::NoTrans,
            &saved.input,
            Op::Trans,
            T::one(),
            gw,
        )?;
        for col in d_output.column_iter() {
            for (g, x) in gb.as_mut_slice().iter_mut().zip(col.iter()) {
                *g += scale * *x;
            }
        }
        if let Some(mut d_in) = d_input {
            mul_tn_to(&self.weight(), &d_output, &mut d_in)?;
        }
        Ok(())
    }

    /// `weight`, `bias`, then the learned activation parameters, if any.
    fn visit_params(&self, f: &mut dyn FnMut(ParamSpec, &[T])) {
        let [w, b] = self.specs();
        f(w, &self.weight);
        f(b, self.bias.as_slice());
        if let Some(l) = &self.learned {
            l.visit(f);
        }
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T])) {
        let [w, b] = self.specs();
        f(w, &mut self.weight);
        f(b, self.bias.as_mut_slice());
        if let Some(l) = &mut self.learned {
            l.visit_mut(f);
        }
    }

    /// `{"activation": {…}}`, or `{"activations": [{…}, …]}` for one per neuron, with
    /// `"learn": {"params": […], "sharing": …}` if the layer learns any.
    fn settings(&self) -> Result<serde_json::Value, CoreError> {
        let mut settings = crate::layers::describe::activation_settings(&self.activation)?;
        if let (Some(l), Some(map)) = (&self.learned, settings.as_object_mut()) {
            map.insert("learn".into(), l.settings());
        }
        Ok(settings)
    }

    /// Every value finite, and learned activation parameters inside their domains.
    fn validate_params(&self) -> Result<(), CoreError> {
        if !(crate::all_finite(&self.weight) && crate::all_finite(self.bias.as_slice()))
            && let Some(what) = first_non_finite(&self.weight, self.shape.0, self.bias.as_slice())
        {
            return Err(CoreError::Architecture(format!(
                "dense layer: {what} is not finite"
            )));
        }
        match &self.learned {
            Some(l) => l.validate(self.shape.0),
            None => Ok(()),
        }
    }

    /// Moves learned activation parameters that left their domain back to its nearest
    /// point.
    fn constrain_params(&mut self) {
        if let Some(l) = &mut self.learned {
            l.project();
        }
    }

    fn as_dense(&self) -> Option<&Dense<T>> {
        Some(self)
    }

    fn as_dense_mut(&mut self) -> Option<&mut Dense<T>> {
        Some(self)
    }
}

/// The first weight (column-major, `rows` per column) or bias that is not finite, named
/// with its position and value, e.g. `weight (2, 0) = NaN`.
fn first_non_finite<T: Real>(weight: &[T], rows: usize, bias: &[T]) -> Option<String> {
    if let Some(at) = weight.iter().position(|v| !v.is_finite()) {
        let (i, j) = (at % rows.max(1), at / rows.max(1));
        return Some(format!("weight ({i}, {j}) = {}", weight[at].as_f64()));
    }
    let i = bias.iter().position(|v| !v.is_finite())?;
    Some(format!("bias {i} = {}", bias[i].as_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nn_activations::Relu;

    #[test]
    fn weights_start_on_a_cache_line_after_new_and_clone() {
        for (r, c) in [(1, 1), (3, 5), (128, 784), (10, 64)] {
            let w = Matrix::<f32>::from_fn(r, c, |i, j| (i * c + j) as f32);
            let layer = Dense::new(w.clone(), Vector::zeros(r), Relu).unwrap();
            for l in [&layer, &layer.clone()] {
                assert_eq!(l.weight_slice().as_ptr() as usize % nn_math::ALIGN, 0);
                assert_eq!(l.weight(), w);
                assert_eq!(l.weight_slice(), w.as_slice());
            }
        }
    }
}
