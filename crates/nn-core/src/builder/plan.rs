//! The layers a [`NetworkBuilder`](super::NetworkBuilder) was asked for, each made into a
//! layer once the shape of its input is known.

use nn_math::Real;
use rand::Rng;

use crate::layers::gated::Truncate;
use crate::{
    Conv, Conv2d, CoreError, Dense, Elman, Gru, ImageShape, Init, Layer, LayerActivation, Lstm,
    PerStep, Pool2d, Pooling, Sharing, Steps,
};

/// The activation parameters a layer learns, and how they are shared.
pub(super) type Learn = (Vec<String>, Sharing);

/// A layer as declared, before its input's shape is known.
#[derive(Clone, Debug)]
pub(super) enum Plan<T: Real> {
    Dense(usize, LayerActivation<T>, Option<Learn>),
    Conv(Conv, LayerActivation<T>, Option<Learn>),
    Pool(Pooling, (usize, usize), (usize, usize)),
    Elman(usize, LayerActivation<T>, Steps),
    PerStep(usize, LayerActivation<T>),
    Lstm(usize, Steps),
    Gru(usize, Steps),
}

/// What the layer before hands on: `n` values per example, an image or a sequence.
pub(super) struct Shape {
    pub n: usize,
    pub image: Option<ImageShape>,
    pub sequence: Option<(usize, usize)>,
}

impl Shape {
    /// The image a layer `k` of kind `what` needs as input.
    fn image(&self, k: usize, what: &str) -> Result<ImageShape, CoreError> {
        self.image.ok_or_else(|| {
            CoreError::Architecture(format!(
                "layer {k} ({what}) needs an image-shaped input: declare the input with \
                 .image(channels, height, width), and put it before any dense layer"
            ))
        })
    }

    /// The `(steps, features)` sequence a layer `k` of kind `what` needs as input.
    fn sequence(&self, k: usize, what: &str) -> Result<(usize, usize), CoreError> {
        self.sequence.ok_or_else(|| {
            CoreError::Architecture(format!(
                "layer {k} ({what}) needs a sequence as input: declare the input with \
                 .sequence(steps, features) (or put a recurrent layer with Steps::All \
                 before it), and put it before any dense layer"
            ))
        })
    }
}

impl<T: Real> Plan<T> {
    /// Layer `k`, its weights drawn by `init` from `rng`, for the input `shape`, which it
    /// then updates to its output's.
    pub(super) fn layer<R: Rng + ?Sized>(
        self,
        k: usize,
        shape: &mut Shape,
        init: Init,
        truncation: Option<usize>,
        rng: &mut R,
    ) -> Result<Box<dyn Layer<T>>, CoreError> {
        let at = |e: CoreError| CoreError::Architecture(format!("layer {k}: {e}"));
        let layer: Box<dyn Layer<T>> = match self {
            Plan::Dense(width, activation, learn) => {
                let (weight, bias) = init.draw(shape.n, width, &activation, rng).map_err(at)?;
                let mut dense = Dense::new(weight, bias, activation)?;
                if let Some((params, sharing)) = learn {
                    let params: Vec<&str> = params.iter().map(String::as_str).collect();
                    dense = dense.learn(&params, sharing).map_err(at)?;
                }
                (shape.image, shape.sequence) = (None, None);
                Box::new(dense)
            }
            Plan::Elman(hidden, activation, output) => {
                let (steps, features) = shape.sequence(k, "elman")?;
                let rnn = Elman::init(steps, features, hidden, activation, output, init, rng)
                    .and_then(|l| l.truncate_to(truncation))
                    .map_err(at)?;
                shape.recurrent(steps, hidden, output);
                Box::new(rnn)
            }
            Plan::Lstm(hidden, output) => {
                let (steps, features) = shape.sequence(k, "lstm")?;
                let lstm = Lstm::init(steps, features, hidden, output, init, rng)
                    .and_then(|l| l.truncate_to(truncation))
                    .map_err(at)?;
                shape.recurrent(steps, hidden, output);
                Box::new(lstm)
            }
            Plan::Gru(hidden, output) => {
                let (steps, features) = shape.sequence(k, "gru")?;
                let gru = Gru::init(steps, features, hidden, output, init, rng)
                    .and_then(|l| l.truncate_to(truncation))
                    .map_err(at)?;
                shape.recurrent(steps, hidden, output);
                Box::new(gru)
            }
            Plan::PerStep(width, activation) => {
                let (steps, features) = shape.sequence(k, "dense_per_step")?;
                if width == 0 {
                    return Err(CoreError::Architecture(format!("layer {k} has width 0")));
                }
                let (weight, bias) = init.draw(features, width, &activation, rng).map_err(at)?;
                let dense = Dense::new(weight, bias, activation).map_err(at)?;
                shape.sequence = Some((steps, width));
                Box::new(PerStep::new(steps, dense).map_err(at)?)
            }
            Plan::Conv(spec, activation, learn) => {
                let input = shape.image(k, "conv2d")?;
                if learn.is_some() {
                    return Err(CoreError::Architecture(format!(
                        "layer {k} (conv2d): learning activation parameters is only built \
                         for dense layers"
                    )));
                }
                let conv = Conv2d::init(input, spec, activation, init, rng).map_err(at)?;
                (shape.image, shape.sequence) = (Some(conv.output()), None);
                Box::new(conv)
            }
            Plan::Pool(pooling, kernel, stride) => {
                let pool = Pool2d::rect(shape.image(k, "pooling")?, pooling, kernel, stride)
                    .map_err(at)?;
                (shape.image, shape.sequence) = (Some(pool.output()), None);
                Box::new(pool)
            }
        };
        shape.n = layer.n_outputs();
        Ok(layer)
    }
}

impl Shape {
    /// After a recurrent layer of `hidden` units: a sequence if it hands on every step.
    fn recurrent(&mut self, steps: usize, hidden: usize, output: Steps) {
        self.image = None;
        self.sequence = (output == Steps::All).then_some((steps, hidden));
    }
}
