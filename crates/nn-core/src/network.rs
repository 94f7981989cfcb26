//! The feed-forward network (§2.2, §2.2.2.1): a chain of layers.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{CoreError, Dense, Gradient, Layer, NetworkBuilder, Workspace};
use nn_math::Real;

/// A feed-forward network: `n₀` inputs and `L` layers, layer `k` mapping `n_{k−1}`
/// activations to `n_k` (§2.2): dense layers ([`Dense`]) or any other [`Layer`].
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
    layers: Body<T>,
    /// Which state of which network this is (see [`Version`]).
    version: Version,
}

/// The layers: dense ones only (run by the multi-threaded engine), or any mix of kinds
/// (run by the reference procedures of [`crate::reference`], each batch split by examples
/// between a threaded workspace's threads).
#[derive(Clone)]
enum Body<T: Real> {
    Dense(Vec<Dense<T>>),
    Mixed(Vec<Box<dyn Layer<T>>>),
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
        let mut out = f.debug_struct("Network");
        out.field("n_inputs", &self.n_inputs);
        match &self.layers {
            Body::Dense(layers) => out.field("layers", layers),
            Body::Mixed(layers) => out.field("layers", layers),
        };
        out.finish()
    }
}

impl<T: Real> PartialEq for Network<T> {
    /// Equal shapes, kinds, settings and parameters (for dense layers: weights, biases
    /// and activations).
    fn eq(&self, other: &Self) -> bool {
        self.n_inputs == other.n_inputs
            && self.n_layers() == other.n_layers()
            && self
                .layers()
                .zip(other.layers())
                .all(|(a, b)| match (a.as_dense(), b.as_dense()) {
                    (Some(x), Some(y)) => x == y,
                    (None, None) => crate::layers::same_layer(a, b),
                    _ => false,
                })
    }
}

impl<T: Real> Network<T> {
    /// Starts a [`NetworkBuilder`] for a network with `n_inputs` input neurons (features).
    pub fn builder(n_inputs: usize) -> NetworkBuilder<T> {
        NetworkBuilder::new(n_inputs)
    }

    /// A network from explicit dense layers, e.g. hand-set perceptron weights.
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
        check_chain(
            n_inputs,
            layers.iter().map(|l| (l.n_inputs(), l.n_outputs())),
        )?;
        Ok(Self {
            n_inputs,
            layers: Body::Dense(layers),
            version: Version::fresh(),
        })
    }

    /// Moves every parameter that an update took out of its domain back to its nearest
    /// point ([`Layer::constrain_params`]): the learned activation parameters.
    pub fn constrain_params(&mut self) {
        match &mut self.layers {
            Body::Mixed(layers) => {
                self.version = Version::fresh();
                for l in layers {
                    l.constrain_params();
                }
            }
            Body::Dense(layers) => {
                for l in layers.iter_mut().filter(|l| l.learns().is_some()) {
                    self.version = Version::fresh();
                    l.constrain_params();
                }
            }
        }
    }

    /// A network from layers of any kind, built-in or a user's own ([`Layer`]), in order.
    /// If every layer is a [`Dense`], the network is the same as
    /// [`from_layers`](Network::from_layers) gives (and runs on the multi-threaded
    /// engine); otherwise its passes run the reference procedures of
    /// [`crate::reference`], on the calling thread or, with a workspace of several
    /// threads, on each thread's share of the batch's examples.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] if there are no layers, a layer's input count is not
    /// the previous layer's output count (or `n_inputs` for the first), or a layer has
    /// no outputs.
    pub fn from_any_layers(
        n_inputs: usize,
        layers: Vec<Box<dyn Layer<T>>>,
    ) -> Result<Self, CoreError> {
        check_chain(
            n_inputs,
            layers.iter().map(|l| (l.n_inputs(), l.n_outputs())),
        )?;
        if layers.iter().all(|l| l.as_dense().is_some()) {
            let dense = layers
                .iter()
                .filter_map(|l| l.as_dense().cloned())
                .collect();
            return Self::from_layers(n_inputs, dense);
        }
        Ok(Self {
            n_inputs,
            layers: Body::Mixed(layers),
            version: Version::fresh(),
        })
    }

    /// Number of input neurons, `n₀`.
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// Number of output neurons, `n_L`.
    pub fn n_outputs(&self) -> usize {
        let last = self.n_layers().checked_sub(1);
        last.and_then(|k| self.layer(k))
            .map_or(self.n_inputs, |l| l.n_outputs())
    }

    /// Number of layers, `L`.
    pub fn n_layers(&self) -> usize {
        match &self.layers {
            Body::Dense(v) => v.len(),
            Body::Mixed(v) => v.len(),
        }
    }

    /// Layer `k` (0-based: the notes' layer `k + 1`), if there is one.
    pub fn layer(&self, k: usize) -> Option<&dyn Layer<T>> {
        match &self.layers {
            Body::Dense(v) => v.get(k).map(|l| l as &dyn Layer<T>),
            Body::Mixed(v) => v.get(k).map(|l| &**l),
        }
    }

    /// Layer `k`, mutably (its sizes cannot change through the [`Layer`] trait).
    pub fn layer_mut(&mut self, k: usize) -> Option<&mut (dyn Layer<T> + 'static)> {
        self.version = Version::fresh();
        match &mut self.layers {
            Body::Dense(v) => v.get_mut(k).map(|l| l as &mut dyn Layer<T>),
            Body::Mixed(v) => v.get_mut(k).map(|l| &mut **l),
        }
    }

    /// The layers, `1..=L` in order.
    pub fn layers(&self) -> Layers<'_, T> {
        Layers { net: self, next: 0 }
    }

    /// Layer `k` if it is a [`Dense`] layer.
    pub fn dense(&self, k: usize) -> Option<&Dense<T>> {
        self.layer(k).and_then(|l| l.as_dense())
    }

    /// Layer `k`, mutably, if it is a [`Dense`] layer (its shape cannot change through
    /// [`Dense`]'s API).
    pub fn dense_mut(&mut self, k: usize) -> Option<&mut Dense<T>> {
        self.layer_mut(k).and_then(|l| l.as_dense_mut())
    }

    /// All layers, if every one is [`Dense`] (the networks the multi-threaded engine
    /// runs).
    pub fn dense_layers(&self) -> Option<&[Dense<T>]> {
        match &self.layers {
            Body::Dense(v) => Some(v),
            Body::Mixed(_) => None,
        }
    }

    /// The dense layers for the engine (empty for a mixed network, which never reaches
    /// it: every entry point sends it to [`crate::reference`] first).
    pub(crate) fn engine_layers(&self) -> &[Dense<T>] {
        self.dense_layers().unwrap_or(&[])
    }

    /// The dense layers for the engine, mutably (see
    /// [`engine_layers`](Network::engine_layers)).
    pub(crate) fn engine_layers_mut(&mut self) -> &mut [Dense<T>] {
        self.version = Version::fresh();
        match &mut self.layers {
            Body::Dense(v) => v,
            Body::Mixed(_) => &mut [],
        }
    }

    /// This state's [`Version`]: unchanged as long as nothing borrows the layers mutably.
    pub(crate) fn version(&self) -> Version {
        self.version
    }

    /// The widths `[n₀, n₁, …, n_L]`.
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.n_inputs)
            .chain(self.layers().map(|l| l.n_outputs()))
            .collect()
    }

    /// Total number of parameters (weights, biases and any other tensor's values).
    pub fn n_params(&self) -> usize {
        let mut n = 0;
        self.visit_params(|_, p| n += p.len());
        n
    }

    /// Number of parameter tensors (two per dense layer, and its learned activation
    /// parameters'), the length of an optimizer's per-tensor state.
    pub fn n_param_tensors(&self) -> usize {
        if let Body::Dense(v) = &self.layers {
            // Every step of a trainer asks (no visitor on the engine's path).
            return v.iter().map(Dense::n_tensors).sum();
        }
        let mut n = 0;
        self.visit_params(|_, _| n += 1);
        n
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
        if let Body::Dense(v) = &self.layers {
            // Every pass asks: the engine's layers directly.
            return widths.len() == v.len() + 1
                && widths[0] == self.n_inputs
                && v.iter().zip(&widths[1..]).all(|(l, &w)| l.n_outputs() == w);
        }
        widths.len() == self.n_layers() + 1
            && widths[0] == self.n_inputs
            && (0..self.n_layers()).all(|k| {
                self.layer(k)
                    .is_some_and(|l| l.n_outputs() == widths[k + 1])
            })
    }
}

/// The layers of a network in order ([`Network::layers`]).
#[derive(Clone, Debug)]
pub struct Layers<'a, T: Real> {
    net: &'a Network<T>,
    next: usize,
}

impl<'a, T: Real> Iterator for Layers<'a, T> {
    type Item = &'a dyn Layer<T>;

    fn next(&mut self) -> Option<Self::Item> {
        let layer = self.net.layer(self.next)?;
        self.next += 1;
        Some(layer)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.net.n_layers() - self.next;
        (n, Some(n))
    }
}

impl<T: Real> ExactSizeIterator for Layers<'_, T> {}

/// Checks that layers of `(inputs, outputs)` sizes chain from `n_inputs`.
fn check_chain(
    n_inputs: usize,
    sizes: impl ExactSizeIterator<Item = (usize, usize)>,
) -> Result<(), CoreError> {
    if sizes.len() == 0 {
        return Err(CoreError::Architecture(
            "a network needs at least one layer".into(),
        ));
    }
    let mut width = n_inputs;
    for (k, (n_in, n_out)) in sizes.enumerate() {
        if n_in != width {
            return Err(CoreError::Architecture(format!(
                "layer {k} takes {n_in} inputs, but the layer before it has {width} outputs"
            )));
        }
        if n_out == 0 {
            return Err(CoreError::Architecture(format!("layer {k} has no outputs")));
        }
        width = n_out;
    }
    Ok(())
}
