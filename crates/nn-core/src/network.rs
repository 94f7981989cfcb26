//! The feed-forward network (§2.2, §2.2.2.1): a chain of dense layers.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{CoreError, Dense, Gradient, NetworkBuilder, Workspace};
use nn_math::Real;

/// A feed-forward network: `n₀` inputs and `L` dense layers, layer `k` mapping
/// `n_{k−1}` activations to `n_k` (§2.2).
///
/// The notes' procedures are its methods: [`evaluate`](Network::evaluate) /
/// [`evaluate_with`](Network::evaluate_with) (Algorithm 5/6),
/// [`adjust_gradient`](Network::adjust_gradient) (Algorithm 7/8, errata 2),
/// [`clear_gradient`](Network::clear_gradient) (Algorithm 3/4) and
/// [`apply_gradient`](Network::apply_gradient) (Algorithm 9/10). All are batched, one
/// example per column. Evaluating takes `&self`: running a model never changes it; the
/// intermediate values of a pass live in a [`Workspace`].
///
/// # Example: one step of gradient descent
/// ```
/// use nn_core::{HalfSquaredError, Network};
/// use nn_activations::{Sigmoid, Tanh};
/// use nn_math::Matrix;
/// use rand::SeedableRng;
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// let mut net = Network::<f64>::builder(2)
///     .layer(3, Tanh)
///     .layer(1, Sigmoid::default())
///     .build(&mut rng)?;
///
/// let x = Matrix::from_column_slice(2, 4, &[0., 0., 0., 1., 1., 0., 1., 1.]); // 4 examples
/// let y = Matrix::from_column_slice(1, 4, &[0., 1., 1., 0.]);
/// let mut ws = net.workspace();
/// let mut grad = net.gradient();
///
/// net.evaluate_with(&x, &mut ws)?;                                        // Algorithm 6
/// let before = net.adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut grad)?; // Algorithm 8
/// net.apply_gradient(&grad, 0.5)?;                                        // Algorithm 10
/// net.clear_gradient(&mut grad)?;                                         // Algorithm 4
///
/// net.evaluate_with(&x, &mut ws)?;
/// let after = net.adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut grad)?;
/// assert!(after < before);
/// # Ok::<(), nn_core::CoreError>(())
/// ```
pub struct Network<T: Real> {
    n_inputs: usize,
    layers: Vec<Dense<T>>,
    /// Which state of which network this is (see [`Version`]).
    version: Version,
}

/// Identifies one state of one network: drawn from a process-wide counter when the
/// network is made or cloned and each time its layers are borrowed mutably, so two
/// networks (or two states of one) never share a value. A [`crate::Feed`] uses it to know
/// that the weights it computed a product with in one call are still the network's in
/// the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Version(u64);

impl Version {
    fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl<T: Real> Clone for Network<T> {
    /// A copy, which a [`Feed`](crate::Feed) tells apart from the original (see
    /// [`Feed::descend`](crate::Feed::descend)).
    fn clone(&self) -> Self {
        Self {
            n_inputs: self.n_inputs,
            layers: self.layers.clone(),
            version: Version::fresh(),
        }
    }
}

impl<T: Real> std::fmt::Debug for Network<T> {
    /// The shape and the layers (not the internal version stamp).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("n_inputs", &self.n_inputs)
            .field("layers", &self.layers)
            .finish()
    }
}

impl<T: Real> PartialEq for Network<T> {
    /// Equal shapes, weights, biases and activations.
    fn eq(&self, other: &Self) -> bool {
        self.n_inputs == other.n_inputs && self.layers == other.layers
    }
}

impl<T: Real> Network<T> {
    /// Starts a [`NetworkBuilder`] for a network with `n_inputs` input neurons (features).
    pub fn builder(n_inputs: usize) -> NetworkBuilder<T> {
        NetworkBuilder::new(n_inputs)
    }

    /// A network from explicit layers, e.g. hand-set perceptron weights.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] if there are no layers or a layer's input count is not
    /// the previous layer's width (or `n_inputs` for the first).
    ///
    /// ```
    /// use nn_core::{Dense, Network};
    /// use nn_activations::Threshold;
    /// use nn_math::{Matrix, Vector};
    ///
    /// // The OR perceptron: a = Threshold(x₁ + x₂ − 0.5).
    /// let or = Dense::new(Matrix::from_row_slice(1, 2, &[1.0, 1.0]), Vector::from_vec(vec![-0.5]), Threshold)?;
    /// let net = Network::from_layers(2, vec![or])?;
    /// let out = net.evaluate(&Matrix::from_column_slice(2, 4, &[0., 0., 0., 1., 1., 0., 1., 1.]))?;
    /// assert_eq!(out.as_slice(), &[0.0, 1.0, 1.0, 1.0]);
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    pub fn from_layers(n_inputs: usize, layers: Vec<Dense<T>>) -> Result<Self, CoreError> {
        if layers.is_empty() {
            return Err(CoreError::Architecture(
                "a network needs at least one layer".into(),
            ));
        }
        let mut width = n_inputs;
        for (k, layer) in layers.iter().enumerate() {
            if layer.n_inputs() != width {
                return Err(CoreError::Architecture(format!(
                    "layer {k} takes {} inputs, but the layer before it has {width} outputs",
                    layer.n_inputs()
                )));
            }
            width = layer.n_outputs();
        }
        Ok(Self {
            n_inputs,
            layers,
            version: Version::fresh(),
        })
    }

    /// Number of input neurons, `n₀`.
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// Number of output neurons, `n_L`.
    pub fn n_outputs(&self) -> usize {
        self.layers.last().map_or(self.n_inputs, Dense::n_outputs)
    }

    /// The layers, `1..=L` at indices `0..L`.
    pub fn layers(&self) -> &[Dense<T>] {
        &self.layers
    }

    /// The layers, mutably (their shapes cannot change through [`Dense`]'s API).
    pub fn layers_mut(&mut self) -> &mut [Dense<T>] {
        self.version = Version::fresh();
        &mut self.layers
    }

    /// This state's [`Version`]: unchanged as long as nothing borrows the layers mutably.
    pub(crate) fn version(&self) -> Version {
        self.version
    }

    /// The widths `[n₀, n₁, …, n_L]`.
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.n_inputs)
            .chain(self.layers.iter().map(Dense::n_outputs))
            .collect()
    }

    /// Total number of weights and biases.
    pub fn n_params(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.n_outputs() * (l.n_inputs() + 1))
            .sum()
    }

    /// An empty workspace for this network's passes; it grows to the batch size on first
    /// use and is then reused without allocating.
    pub fn workspace(&self) -> Workspace<T> {
        Workspace::new()
    }

    /// A zero gradient with this network's shapes (Algorithm 2's `∇C ← 0`).
    pub fn gradient(&self) -> Gradient<T> {
        Gradient::zeros_like(self)
    }

    /// Whether the widths equal `widths` (without allocating).
    pub(crate) fn has_widths(&self, widths: &[usize]) -> bool {
        widths.len() == self.layers.len() + 1
            && widths[0] == self.n_inputs
            && self
                .layers
                .iter()
                .zip(&widths[1..])
                .all(|(l, &w)| l.n_outputs() == w)
    }
}
