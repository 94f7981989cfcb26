//! Layers: the [`Layer`] trait, the one extension point for every kind of layer, and the
//! built-in [`Dense`] layer with its activations.

pub(crate) mod activation;
pub(crate) mod conv;
pub(crate) mod dense;
pub(crate) mod describe;
pub(crate) mod elman;
pub(crate) mod gated;
pub(crate) mod gru;
pub(crate) mod image;
pub(crate) mod learned;
pub(crate) mod learned_passes;
pub(crate) mod lstm;
pub(crate) mod per_step;
pub(crate) mod pool;
pub(crate) mod recurrent_macros;
pub(crate) mod sequence;
pub(crate) mod typed_fns;
pub(crate) mod vectorized;
pub(crate) mod window;

use std::fmt;

use nn_math::{Matrix, MatrixView, MatrixViewMut, Real};

use crate::{CoreError, ParamKind};

pub use conv::{Conv, Conv2d};
pub use dense::Dense;
pub use elman::{Elman, Steps};
pub use gru::Gru;
pub use image::ImageShape;
pub use learned::Sharing;
pub use lstm::Lstm;
pub use per_step::PerStep;
pub use pool::{Pool2d, Pooling};

/// The name and shape of one parameter tensor of a layer, as its
/// [`visit_params`](Layer::visit_params) hands it out.
///
/// A tensor of `rows × cols` values is visited as a column-major slice of `rows·cols`
/// values (a vector is `n × 1`). The full name of the tensor in a network is
/// `layers.{k}.{name}` ([`crate::ParamId::path`]), the name model files and checkpoints
/// use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamSpec {
    /// The tensor's name within its layer, e.g. `"weight"`, `"bias"`,
    /// `"activation.beta"`.
    pub name: &'static str,
    /// Rows of the tensor (its length for a vector).
    pub rows: usize,
    /// Columns of the tensor (1 for a vector).
    pub cols: usize,
    /// What the tensor is for; regularizers decide by it whether they apply.
    pub kind: ParamKind,
    /// Whether the tensor is one-dimensional (`cols` is then 1): model files store it
    /// with the shape `[rows]` instead of `[rows, cols]`.
    pub vector: bool,
    /// The four dimensions model files store a convolution kernel with (PyTorch's
    /// `out × in × kh × kw`), whose row-major order is the `rows × cols` matrix's
    /// (`rows = out`, `cols = in·kh·kw`); `None` for every other tensor.
    pub kernel: Option<[usize; 4]>,
}

impl ParamSpec {
    /// A `rows × cols` matrix of parameters.
    pub fn matrix(name: &'static str, rows: usize, cols: usize, kind: ParamKind) -> Self {
        Self {
            name,
            rows,
            cols,
            kind,
            vector: false,
            kernel: None,
        }
    }

    /// A convolution kernel of `dims = [out, in, kh, kw]`, held as the `out × (in·kh·kw)`
    /// matrix whose row `o` is filter `o` (see [`ParamSpec::kernel`](ParamSpec#structfield.kernel)).
    pub fn kernel(name: &'static str, dims: [usize; 4], kind: ParamKind) -> Self {
        Self {
            name,
            rows: dims[0],
            cols: dims[1] * dims[2] * dims[3],
            kind,
            vector: false,
            kernel: Some(dims),
        }
    }

    /// A vector of `len` parameters.
    pub fn vector(name: &'static str, len: usize, kind: ParamKind) -> Self {
        Self {
            name,
            rows: len,
            cols: 1,
            kind,
            vector: true,
            kernel: None,
        }
    }

    /// The number of values, `rows·cols`.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// Whether the tensor holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the forward pass left for one layer's backward pass: the batch's input and output
/// (one example per column) and the layer's scratch buffer.
#[derive(Debug)]
pub struct Saved<'a, T: Real> {
    /// The layer's input `A⁽ᵏ⁻¹⁾` (`n_inputs × B`), dropout already applied.
    pub input: MatrixView<'a, T>,
    /// The layer's output `A⁽ᵏ⁾` (`n_outputs × B`) as [`Layer::forward`] wrote it (before
    /// any dropout of the layer after).
    pub output: MatrixView<'a, T>,
    /// What [`Layer::forward`] wrote into its scratch buffer
    /// ([`scratch_len`](Layer::scratch_len) values). The backward pass may overwrite it
    /// (e.g. use part of it as working memory): nothing reads it afterwards.
    pub scratch: &'a mut [T],
}

/// A layer of a feed-forward network: a map from `n_inputs` to `n_outputs` values per
/// example, with parameter tensors, that can backpropagate.
///
/// Every pass is batched with one example per column. The network owns the buffers: a
/// layer writes its output into the view it is handed, keeps what its backward pass
/// needs in its scratch buffer (e.g. [`Dense`] keeps the pre-activations `S⁽ᵏ⁾`), and
/// never allocates per step if it can help it.
///
/// Backpropagation (the notes' Algorithm 7/8, one layer of it): given
/// `Δ = ∂C/∂A⁽ᵏ⁾`, a layer **adds** `scale · ∂C/∂θ` to the gradient of each of its
/// parameter tensors `θ` and, when asked, writes `∂C/∂A⁽ᵏ⁻¹⁾`. The network passes
/// `scale = 1/B`, so a batch adds its mean gradient (errata 5).
///
/// Required: sizes, a kind name, forward, backward and the two parameter visitors. A
/// layer without parameters visits nothing. `Clone` is needed for
/// [`Network`](crate::Network)'s `Clone` (derive it); [`LayerClone`] is then implemented
/// by itself.
///
/// # Example: a layer of your own
/// A learnable per-feature scale, `a_j = γ_j·x_j`:
/// ```
/// use nn_core::{CoreError, Layer, ParamKind, ParamSpec, Saved};
/// use nn_math::{Matrix, MatrixView, MatrixViewMut, Real};
///
/// #[derive(Clone, Debug)]
/// struct Scale<T> { gamma: Vec<T> }
///
/// impl<T: Real> Layer<T> for Scale<T> {
///     fn kind(&self) -> &str { "scale" }
///     fn n_inputs(&self) -> usize { self.gamma.len() }
///     fn n_outputs(&self) -> usize { self.gamma.len() }
///     fn forward(&self, x: MatrixView<'_, T>, mut a: MatrixViewMut<'_, T>, _: &mut [T])
///         -> Result<(), CoreError> {
///         for j in 0..x.ncols() {
///             for i in 0..x.nrows() { a[(i, j)] = self.gamma[i] * x[(i, j)]; }
///         }
///         Ok(())
///     }
///     fn backward(&self, saved: Saved<'_, T>, d_out: MatrixViewMut<'_, T>, scale: T,
///         grads: &mut [Matrix<T>], d_in: Option<MatrixViewMut<'_, T>>) -> Result<(), CoreError> {
///         for j in 0..d_out.ncols() {
///             for i in 0..d_out.nrows() {
///                 grads[0][(i, 0)] += scale * d_out[(i, j)] * saved.input[(i, j)]; // ∂C/∂γ_i
///             }
///         }
///         if let Some(mut d_in) = d_in {
///             for j in 0..d_out.ncols() {
///                 for i in 0..d_out.nrows() { d_in[(i, j)] = self.gamma[i] * d_out[(i, j)]; }
///             }
///         }
///         Ok(())
///     }
///     fn visit_params(&self, f: &mut dyn FnMut(ParamSpec, &[T])) {
///         f(ParamSpec::vector("gamma", self.gamma.len(), ParamKind::Other), &self.gamma);
///     }
///     fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T])) {
///         f(ParamSpec::vector("gamma", self.gamma.len(), ParamKind::Other), &mut self.gamma);
///     }
/// }
///
/// // Checked against central differences (see `nn_core::gradcheck`):
/// let layer = Scale { gamma: vec![0.5, -2.0, 1.5] };
/// let x = Matrix::from_fn(3, 4, |i, j| (i as f64 - j as f64) / 3.0);
/// let report = nn_core::gradcheck::check_layer(&layer, &x, 1e-6)?;
/// assert!(report.max_error < 1e-7, "{report}");
/// assert_eq!(report.checked, 3 + 12); // γ and the inputs
/// # Ok::<(), CoreError>(())
/// ```
pub trait Layer<T: Real>: LayerClone<T> + fmt::Debug + Send + Sync {
    /// The kind's name, stored in model files to find the layer again on loading, e.g.
    /// `"dense"`. A user's layer needs a name of its own.
    fn kind(&self) -> &str;

    /// Inputs per example, `n_{k−1}`.
    fn n_inputs(&self) -> usize;

    /// Outputs per example, `n_k`.
    fn n_outputs(&self) -> usize;

    /// Values of scratch space the forward pass of a batch of `batch` examples needs (what
    /// the backward pass reads besides the input and output). Default: none.
    fn scratch_len(&self, batch: usize) -> usize {
        let _ = batch;
        0
    }

    /// The forward pass of a batch: writes the layer's output for `input`
    /// (`n_inputs × B`) into `output` (`n_outputs × B`), and what backward needs into
    /// `scratch` (`scratch_len(B)` values).
    ///
    /// # Errors
    /// Whatever the layer cannot compute (e.g. an activation failure).
    fn forward(
        &self,
        input: MatrixView<'_, T>,
        output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
    ) -> Result<(), CoreError>;

    /// The backward pass of the batch `saved` describes. `d_output` holds
    /// `∂C/∂A⁽ᵏ⁾` (`n_outputs × B`; the layer may overwrite it). Adds
    /// `scale · ∂C/∂θ` to `grads[i]` for the `i`-th tensor of
    /// [`visit_params`](Layer::visit_params) (each shaped `rows × cols`), and writes
    /// `∂C/∂A⁽ᵏ⁻¹⁾` into `d_input` (`n_inputs × B`) if given (it is not for the first
    /// layer).
    ///
    /// # Errors
    /// Whatever the layer cannot compute.
    fn backward(
        &self,
        saved: Saved<'_, T>,
        d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        d_input: Option<MatrixViewMut<'_, T>>,
    ) -> Result<(), CoreError>;

    /// The forward pass of a batch of sequences of which example `b` has `lengths[b]`
    /// valid steps, the rest padding at the end (guide §13, "Sequences of different
    /// lengths"). The recurrent layers leave the padded steps out of their output; every
    /// other layer treats padding as data, which is the default: it calls
    /// [`forward`](Layer::forward).
    ///
    /// # Errors
    /// As [`forward`](Layer::forward); a length of 0 or beyond the layer's steps, or a
    /// count that is not the batch's.
    fn forward_with_lengths(
        &self,
        input: MatrixView<'_, T>,
        output: MatrixViewMut<'_, T>,
        scratch: &mut [T],
        lengths: &[usize],
    ) -> Result<(), CoreError> {
        let _ = lengths;
        self.forward(input, output, scratch)
    }

    /// The backward pass of a batch [`forward_with_lengths`](Layer::forward_with_lengths)
    /// computed, with the same lengths. Default: [`backward`](Layer::backward).
    ///
    /// # Errors
    /// As [`backward`](Layer::backward).
    fn backward_with_lengths(
        &self,
        saved: Saved<'_, T>,
        d_output: MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
        d_input: Option<MatrixViewMut<'_, T>>,
        lengths: &[usize],
    ) -> Result<(), CoreError> {
        let _ = lengths;
        self.backward(saved, d_output, scale, grads, d_input)
    }

    /// `Some(T)` if the layer's output is a sequence of `T` steps, each a block of
    /// `n_outputs / T` values one after another, whose padded steps a network's loss
    /// leaves out when the batch has lengths; `None` (the default) otherwise.
    fn output_steps(&self) -> Option<usize> {
        None
    }

    /// Calls `f(spec, values)` for each parameter tensor, in a fixed order, values
    /// column-major.
    fn visit_params(&self, f: &mut dyn FnMut(ParamSpec, &[T]));

    /// Calls `f(spec, values)` for each parameter tensor, mutably, in the order of
    /// [`visit_params`](Layer::visit_params).
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T]));

    /// The layer's settings besides its parameters and sizes (JSON), stored in model files
    /// and handed back to a [`LayerResolver`](crate::LayerResolver) on loading.
    /// Default: none (`{}`).
    fn settings(&self) -> Result<serde_json::Value, CoreError> {
        Ok(serde_json::Value::Object(serde_json::Map::new()))
    }

    /// Checks values just written into the parameters (by an optimizer or a loaded
    /// file): e.g. that they are finite and inside their domain. Default: all finite.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] naming the tensor.
    fn validate_params(&self) -> Result<(), CoreError> {
        let mut bad = None;
        self.visit_params(&mut |spec, v| {
            if bad.is_none() && !crate::all_finite(v) {
                bad = Some(spec.name);
            }
        });
        match bad {
            Some(name) => Err(CoreError::Architecture(format!(
                "{} layer: a value of {name} is not finite",
                self.kind()
            ))),
            None => Ok(()),
        }
    }

    /// Moves parameters that an update took out of their domain back to its nearest
    /// point (projected gradient descent). Optimizers and `apply_gradient` call it after
    /// every update. Default: nothing (every value allowed).
    fn constrain_params(&mut self) {}

    /// This layer as nn-core's [`Dense`], if it is one: a network made of dense layers
    /// only runs on the multi-threaded engine. Leave the default (`None`).
    fn as_dense(&self) -> Option<&Dense<T>> {
        None
    }

    /// This layer as a mutable [`Dense`], if it is one. Leave the default (`None`).
    fn as_dense_mut(&mut self) -> Option<&mut Dense<T>> {
        None
    }
}

/// Cloning a boxed [`Layer`]: implemented for every layer that is `Clone`.
pub trait LayerClone<T: Real> {
    /// A boxed copy of this layer.
    fn clone_box(&self) -> Box<dyn Layer<T>>;
}

impl<T: Real, L: Layer<T> + Clone + 'static> LayerClone<T> for L {
    fn clone_box(&self) -> Box<dyn Layer<T>> {
        Box::new(self.clone())
    }
}

impl<T: Real> Clone for Box<dyn Layer<T>> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Whether two layers are equal: the same kind, sizes, settings and parameter values.
pub(crate) fn same_layer<T: Real>(a: &dyn Layer<T>, b: &dyn Layer<T>) -> bool {
    let values = |l: &dyn Layer<T>| {
        let mut v = Vec::new();
        l.visit_params(&mut |spec, x| v.push((spec, x.to_vec())));
        v
    };
    a.kind() == b.kind()
        && a.n_inputs() == b.n_inputs()
        && a.n_outputs() == b.n_outputs()
        && a.settings().ok() == b.settings().ok()
        && values(a) == values(b)
}
