//! Building a network layer by layer, validated once.

use rand::Rng;

mod plan;

use crate::{
    Conv, CoreError, ImageShape, Init, Layer, LayerActivation, Network, Pooling, Sharing, Steps,
};
use nn_math::Real;
use plan::{Plan, Shape};

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
    image: Option<(usize, usize, usize)>,
    sequence: Option<(usize, usize)>,
    layers: Vec<Plan<T>>,
    /// `(layer, k)`: backpropagation through time truncated to `k` steps in that layer.
    truncations: Vec<(usize, usize)>,
    init: Init,
    /// `(layer, init)`: that layer's own initialization.
    inits: Vec<(usize, Init)>,
}

impl<T: Real> NetworkBuilder<T> {
    pub(crate) fn new(n_inputs: usize) -> Self {
        Self {
            n_inputs,
            image: None,
            sequence: None,
            layers: Vec::new(),
            truncations: Vec::new(),
            init: Init::default(),
            inits: Vec::new(),
        }
    }

    /// Appends a dense layer of `width` neurons with the given activation: one function
    /// for all neurons (`Relu`, `Sigmoid::default()`, …) or a `Vec` with one per neuron.
    pub fn layer(mut self, width: usize, activation: impl Into<LayerActivation<T>>) -> Self {
        self.layers
            .push(Plan::Dense(width, activation.into(), None));
        self
    }

    /// Declares the network's input an image of `channels × height × width` values per
    /// example (one example per column, channel planes one after another, rows within a
    /// plane: PyTorch's `C×H×W` order), which convolution and pooling layers need.
    /// [`build`](NetworkBuilder::build) checks that it holds `n_inputs` values.
    ///
    /// ```
    /// use nn_core::{Conv, Network};
    /// use nn_activations::{Identity, Relu};
    /// use rand::SeedableRng;
    ///
    /// // W5 of the benchmarks: two convolutions with pooling, then two dense layers.
    /// let net = Network::<f32>::builder(784)
    ///     .image(1, 28, 28)
    ///     .conv(Conv::new(16, 5).padding(2), Relu)
    ///     .max_pool(2)
    ///     .conv(Conv::new(32, 5).padding(2), Relu)
    ///     .max_pool(2)
    ///     .layer(128, Relu) // reads the 32×7×7 = 1,568 values, flattened as they lie
    ///     .layer(10, Identity)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(1))?;
    /// assert_eq!(net.widths(), vec![784, 16 * 784, 16 * 196, 32 * 196, 32 * 49, 128, 10]);
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    pub fn image(mut self, channels: usize, height: usize, width: usize) -> Self {
        self.image = Some((channels, height, width));
        self
    }

    /// Declares the network's input a sequence of `steps` steps of `features` values per
    /// example (one example per column, the steps one after another: PyTorch's
    /// `batch_first` `N×T×F` order), which recurrent layers need.
    /// [`build`](NetworkBuilder::build) checks that it holds `n_inputs` values.
    ///
    /// ```
    /// use nn_core::{Network, Steps};
    /// use nn_activations::{Identity, Tanh};
    /// use rand::SeedableRng;
    ///
    /// // W6 of the benchmarks: an MNIST image as 28 rows of 28 pixels.
    /// let net = Network::<f32>::builder(784)
    ///     .sequence(28, 28)
    ///     .elman(128, Tanh, Steps::Last)
    ///     .layer(10, Identity)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(1))?;
    /// assert_eq!(net.widths(), vec![784, 128, 10]);
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    pub fn sequence(mut self, steps: usize, features: usize) -> Self {
        self.sequence = Some((steps, features));
        self
    }

    /// Appends an Elman layer ([`Elman`](crate::Elman)) of `hidden` neurons over the sequence the
    /// layer before produces (or the [`sequence`](NetworkBuilder::sequence) input),
    /// handing on its last state or every state ([`Steps`]).
    pub fn elman(
        mut self,
        hidden: usize,
        activation: impl Into<LayerActivation<T>>,
        output: Steps,
    ) -> Self {
        self.layers
            .push(Plan::Elman(hidden, activation.into(), output));
        self
    }

    /// Appends an LSTM layer ([`Lstm`](crate::Lstm), PyTorch's `nn.LSTM` cell) of `hidden` cells over
    /// the sequence the layer before produces (or the
    /// [`sequence`](NetworkBuilder::sequence) input), handing on its last state or every
    /// state.
    pub fn lstm(mut self, hidden: usize, output: Steps) -> Self {
        self.layers.push(Plan::Lstm(hidden, output));
        self
    }

    /// Truncates backpropagation through time in the last (recurrent) layer to `k` steps
    /// ([`Elman::truncated`](crate::Elman::truncated); checked by [`build`](NetworkBuilder::build)).
    ///
    /// ```
    /// use nn_core::{Network, Steps};
    /// use nn_activations::{Identity, Tanh};
    /// use rand::SeedableRng;
    ///
    /// let net = Network::<f32>::builder(100 * 3).sequence(100, 3)
    ///     .elman(32, Tanh, Steps::Last).truncate(20)
    ///     .layer(2, Identity)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(1))?;
    /// assert_eq!(net.n_outputs(), 2);
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    pub fn truncate(mut self, k: usize) -> Self {
        self.truncations
            .push((self.layers.len().saturating_sub(1), k));
        self
    }

    /// Appends a GRU layer ([`Gru`](crate::Gru), PyTorch's `nn.GRU` cell) of `hidden` cells over the
    /// sequence the layer before produces, handing on its last state or every state.
    pub fn gru(mut self, hidden: usize, output: Steps) -> Self {
        self.layers.push(Plan::Gru(hidden, output));
        self
    }

    /// Appends a dense layer of `width` neurons applied to every step of the sequence the
    /// layer before hands on ([`PerStep`](crate::PerStep); e.g. an Elman layer with [`Steps::All`]): a
    /// many-to-many network's output layer.
    pub fn layer_per_step(
        mut self,
        width: usize,
        activation: impl Into<LayerActivation<T>>,
    ) -> Self {
        self.layers.push(Plan::PerStep(width, activation.into()));
        self
    }

    /// Appends a 2-D convolution ([`Conv2d`](crate::Conv2d)) over the image the layer before produces
    /// (or the [`image`](NetworkBuilder::image) input), with one activation for the layer
    /// or a `Vec` with one per output channel.
    pub fn conv(mut self, spec: Conv, activation: impl Into<LayerActivation<T>>) -> Self {
        self.layers.push(Plan::Conv(spec, activation.into(), None));
        self
    }

    /// Appends max pooling over `size × size` windows moved by `size` (PyTorch's
    /// `nn.MaxPool2d(size)`).
    pub fn max_pool(self, size: usize) -> Self {
        self.pool(Pooling::Max, (size, size), (size, size))
    }

    /// Appends average pooling over `size × size` windows moved by `size`.
    pub fn avg_pool(self, size: usize) -> Self {
        self.pool(Pooling::Average, (size, size), (size, size))
    }

    /// Appends pooling over `kernel` windows moved by `stride` ([`Pool2d`](crate::Pool2d)).
    pub fn pool(
        mut self,
        pooling: Pooling,
        kernel: (usize, usize),
        stride: (usize, usize),
    ) -> Self {
        self.layers.push(Plan::Pool(pooling, kernel, stride));
        self
    }

    /// Learns parameters `params` (`"beta"`, `"gamma"`) of the last layer's activation
    /// along with the weights, one value for the layer or one per neuron (see
    /// [`Dense::learn`](crate::Dense::learn); checked by [`build`](NetworkBuilder::build)).
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
        let learn = Some((params.iter().map(|p| (*p).to_owned()).collect(), sharing));
        if let Some(Plan::Dense(_, _, l) | Plan::Conv(_, _, l)) = self.layers.last_mut() {
            *l = learn;
        }
        self
    }

    /// Sets the initialization of every layer (default [`Init::Auto`]); a layer's own
    /// [`layer_init`](NetworkBuilder::layer_init) takes precedence.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Sets the initialization of the last layer only (checked by
    /// [`build`](NetworkBuilder::build): the layer must have weights).
    ///
    /// ```
    /// use nn_core::{Init, Network};
    /// use nn_activations::{Identity, Relu};
    /// use rand::SeedableRng;
    ///
    /// // PyTorch's `nn.Linear` default everywhere, but a zero-centred narrow output layer.
    /// let net = Network::<f64>::builder(4)
    ///     .layer(16, Relu)
    ///     .layer(3, Identity).layer_init(Init::Uniform { low: -1e-3, high: 1e-3 })
    ///     .init(Init::PyTorch)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(7))?;
    /// let limit = 1.0 / 4f64.sqrt(); // ±1/√fan_in for the first layer's weights and biases
    /// let first = net.dense(0).unwrap();
    /// assert!(first.weight().iter().chain(first.bias().iter()).all(|w| w.abs() <= limit));
    /// assert!(net.dense(1).unwrap().weight().iter().all(|w| w.abs() <= 1e-3));
    /// # Ok::<(), nn_core::CoreError>(())
    /// ```
    pub fn layer_init(mut self, init: Init) -> Self {
        self.inits.push((self.layers.len().saturating_sub(1), init));
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
        for &(i, init) in &self.inits {
            init.validate()?;
            if matches!(self.layers.get(i), None | Some(Plan::Pool(..))) {
                return Err(CoreError::Architecture(format!(
                    "layer {i}: an initialization is for a layer with weights"
                )));
            }
        }
        let layer_init = |k: usize| {
            self.inits
                .iter()
                .rev()
                .find(|(i, _)| *i == k)
                .map_or(self.init, |&(_, init)| init)
        };
        let image = match self.image {
            None => None,
            Some((c, h, w)) => {
                let shape = ImageShape::new(c, h, w)?;
                if shape.len() != self.n_inputs {
                    return Err(CoreError::Architecture(format!(
                        "the input image {shape} holds {} values, the network has {} inputs",
                        shape.len(),
                        self.n_inputs
                    )));
                }
                Some(shape)
            }
        };
        let sequence = match self.sequence {
            Some((steps, features)) if steps.checked_mul(features) != Some(self.n_inputs) => {
                return Err(CoreError::Architecture(format!(
                    "the input sequence of {steps} steps of {features} values does not hold the \
                     network's {} inputs",
                    self.n_inputs
                )));
            }
            other => other,
        };
        for &(i, k) in &self.truncations {
            if !matches!(
                self.layers.get(i),
                Some(Plan::Elman(..) | Plan::Lstm(..) | Plan::Gru(..))
            ) {
                return Err(CoreError::Architecture(format!(
                    "layer {i}: truncated backpropagation through time is for recurrent layers"
                )));
            }
            if k == 0 {
                return Err(CoreError::Architecture(format!(
                    "layer {i}: a truncation length of 0 steps carries no gradient; use at least 1"
                )));
            }
        }
        let truncation = |k: usize| {
            self.truncations
                .iter()
                .rev()
                .find(|(i, _)| *i == k)
                .map(|&(_, t)| t)
        };
        // Sizes first, so that nothing is drawn (or allocated) for a network that fails.
        for (k, plan) in self.layers.iter().enumerate() {
            if let Plan::Dense(width, activation, _) = plan {
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
        }
        let mut shape = Shape {
            n: self.n_inputs,
            image,
            sequence,
        };
        let mut layers: Vec<Box<dyn Layer<T>>> = Vec::with_capacity(self.layers.len());
        for (k, plan) in self.layers.into_iter().enumerate() {
            layers.push(plan.layer(k, &mut shape, layer_init(k), truncation(k), rng)?);
        }
        Network::from_any_layers(self.n_inputs, layers)
    }
}
