//! Building a network layer by layer, validated once.

use rand::Rng;

use crate::{CoreError, Dense, Init, LayerActivation, Network, Sharing};
use nn_math::Real;

/// Declares a network's layers and initialization; [`NetworkBuilder::build`] validates
/// the architecture and draws the initial weights from the caller's RNG.
///
/// ```
/// use nn_core::{Init, Network};
/// use nn_activations::{Identity, Relu};
/// use rand::SeedableRng;
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(42);
/// let net = Network::<f32>::builder(784)
///     .layer(128, Relu)
///     .layer(10, Identity)
///     .init(Init::Auto) // the default: He for ReLU-family layers, Xavier otherwise
///     .build(&mut rng)?;
/// assert_eq!(net.widths(), vec![784, 128, 10]);
///
/// // The same seed gives the same network.
/// let again = Network::<f32>::builder(784).layer(128, Relu).layer(10, Identity)
///     .build(&mut rand::rngs::StdRng::seed_from_u64(42))?;
/// assert_eq!(net, again);
///
/// // A bad architecture is an error, not a panic.
/// assert!(Network::<f32>::builder(4).layer(0, Relu).build(&mut rng).is_err());
/// # Ok::<(), nn_core::CoreError>(())
/// ```
#[derive(Clone, Debug)]
pub struct NetworkBuilder<T: Real> {
    n_inputs: usize,
    layers: Vec<(usize, LayerActivation<T>, Option<Learn>)>,
    init: Init,
}

/// The activation parameters a layer learns, and how they are shared.
type Learn = (Vec<String>, Sharing);

impl<T: Real> NetworkBuilder<T> {
    pub(crate) fn new(n_inputs: usize) -> Self {
        Self {
            n_inputs,
            layers: Vec::new(),
            init: Init::default(),
        }
    }

    /// Appends a dense layer of `width` neurons with the given activation: one function
    /// for all neurons (`Relu`, `Sigmoid::default()`, …) or a `Vec` with one per neuron.
    pub fn layer(mut self, width: usize, activation: impl Into<LayerActivation<T>>) -> Self {
        self.layers.push((width, activation.into(), None));
        self
    }

    /// Learns parameters `params` (`"beta"`, `"gamma"`) of the last layer's activation
    /// along with the weights, one value for the layer or one per neuron (see
    /// [`Dense::learn`]; checked by [`build`](NetworkBuilder::build)).
    ///
    /// ```
    /// use nn_core::{Network, Sharing};
    /// use nn_activations::{Identity, PRelu};
    /// use rand::SeedableRng;
    ///
    /// let net = Network::<f32>::builder(4)
    ///     .layer(8, PRelu::default()).learn(&["beta"], Sharing::PerNeuron)
    ///     .layer(2, Identity)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(1))?;
    /// assert_eq!(net.n_params(), 8 * 4 + 8 + 8 + 2 * 8 + 2); // weights, biases, 8 slopes
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    pub fn learn(mut self, params: &[&str], sharing: Sharing) -> Self {
        if let Some(last) = self.layers.last_mut() {
            last.2 = Some((params.iter().map(|p| (*p).to_owned()).collect(), sharing));
        }
        self
    }

    /// Sets the initialization of every layer (default [`Init::Auto`]).
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Validates the architecture and draws the initial weights and biases, layer by layer
    /// from the first, from `rng`.
    ///
    /// # Errors
    /// [`CoreError::Architecture`] for zero inputs, no layers, a layer of width 0, a
    /// per-neuron activation list whose length is not the layer's width, or a parameter
    /// to learn that the layer's function does not have;
    /// [`CoreError::InvalidHyperParameter`] for an invalid [`Init::Uniform`] range.
    pub fn build<R: Rng + ?Sized>(self, rng: &mut R) -> Result<Network<T>, CoreError> {
        if self.n_inputs == 0 {
            return Err(CoreError::Architecture(
                "a network needs at least one input".into(),
            ));
        }
        if self.layers.is_empty() {
            return Err(CoreError::Architecture(
                "a network needs at least one layer".into(),
            ));
        }
        self.init.validate()?;
        for (k, (width, activation, _)) in self.layers.iter().enumerate() {
            if *width == 0 {
                return Err(CoreError::Architecture(format!("layer {k} has width 0")));
            }
            if let Some(len) = activation.per_neuron_len()
                && len != *width
            {
                return Err(CoreError::Architecture(format!(
                    "layer {k} has {width} neurons but {len} per-neuron activations"
                )));
            }
        }
        let mut n_in = self.n_inputs;
        let mut layers = Vec::with_capacity(self.layers.len());
        for (k, (width, activation, learn)) in self.layers.into_iter().enumerate() {
            let (weight, bias) = self
                .init
                .draw(n_in, width, &activation, rng)
                .map_err(|e| CoreError::Architecture(format!("layer {k}: {e}")))?;
            let mut dense = Dense::new(weight, bias, activation)?;
            if let Some((params, sharing)) = learn {
                let params: Vec<&str> = params.iter().map(String::as_str).collect();
                dense = dense
                    .learn(&params, sharing)
                    .map_err(|e| CoreError::Architecture(format!("layer {k}: {e}")))?;
            }
            layers.push(dense);
            n_in = width;
        }
        Network::from_layers(self.n_inputs, layers)
    }
}
