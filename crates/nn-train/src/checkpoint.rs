//! Checkpoints: the network and the trainer's state (optimizer buffers, epochs done) in
//! one safetensors model file, so that training resumes exactly where it stopped.

use std::path::Path;

use nn_core::{ActivationResolver, Extras, LayerResolver, Network, read_extras};
use nn_math::Real;

use crate::{ParamState, TrainError, Trainer};

const PREFIX_META: &str = "trainer.";
const PREFIX_TENSOR: &str = "optimizer.";
/// The prefix, after `trainer.`, of the run's settings (`crate::RUN_SETTINGS`).
const SETTING: &str = "setting.";

/// The full names of `net`'s parameter tensors, in visiting order.
fn param_paths<T: Real>(net: &Network<T>) -> Vec<String> {
    net.param_specs().iter().map(|(id, _)| id.path()).collect()
}

fn bad(msg: impl Into<String>) -> TrainError {
    TrainError::Checkpoint(msg.into())
}

impl<T: Real> Trainer<T> {
    /// The network and this trainer's state as the bytes of one model file: the network
    /// as `Network::to_safetensors` writes it (any model reader can load it), plus
    /// tensors `optimizer.{tensor}.{buffer}` and `trainer.*` metadata (optimizer name,
    /// epochs done, update counts).
    ///
    /// # Errors
    /// A [`TrainError::Core`] if the network cannot be saved.
    pub fn checkpoint_bytes(&self, net: &Network<T>) -> Result<Vec<u8>, TrainError> {
        let mut extras = Extras::default();
        for (p, state) in self.state.params.iter().enumerate() {
            for (b, buf) in state.buffers.iter().enumerate() {
                extras
                    .tensors
                    .push((format!("{PREFIX_TENSOR}{p:04}.{b:02}"), buf.clone()));
            }
        }
        let steps: Vec<String> = self
            .state
            .params
            .iter()
            .map(|s| s.step.to_string())
            .collect();
        let buffers: Vec<String> = self
            .state
            .params
            .iter()
            .map(|s| s.buffers.len().to_string())
            .collect();
        extras.metadata = vec![
            (
                format!("{PREFIX_META}optimizer"),
                self.config().optimizer.name().to_owned(),
            ),
            (
                format!("{PREFIX_META}epochs_done"),
                self.epochs_done.to_string(),
            ),
            (format!("{PREFIX_META}steps"), steps.join(",")),
            (format!("{PREFIX_META}buffers"), buffers.join(",")),
            (format!("{PREFIX_META}params"), param_paths(net).join(",")),
        ];
        for (name, value) in self.config().run_settings() {
            extras
                .metadata
                .push((format!("{PREFIX_META}{SETTING}{name}"), value));
        }
        Ok(net.to_safetensors_with(&extras)?)
    }

    /// Writes [`checkpoint_bytes`](Trainer::checkpoint_bytes) to a file.
    ///
    /// # Errors
    /// As [`checkpoint_bytes`](Trainer::checkpoint_bytes), or an I/O error (as
    /// [`TrainError::Checkpoint`]).
    pub fn save_checkpoint(
        &self,
        net: &Network<T>,
        path: impl AsRef<Path>,
    ) -> Result<(), TrainError> {
        let bytes = self.checkpoint_bytes(net)?;
        std::fs::write(path.as_ref(), bytes)
            .map_err(|e| bad(format!("{}: {e}", path.as_ref().display())))
    }

    /// Restores the trainer's state from checkpoint bytes and returns the network in it.
    /// Training with this trainer then continues exactly as if it had never stopped, up
    /// to the run's configured length (`TrainerConfig::epochs`, counted from the run's
    /// start). The checkpoint records the settings that decide the bits
    /// ([`TrainerConfig::run_settings`](crate::TrainerConfig::run_settings)); resuming
    /// with different ones is an error naming each, unless the trainer was told the
    /// change is on purpose ([`Trainer::allow_changes`]). Early stopping starts counting
    /// afresh.
    ///
    /// ```
    /// use nn_train::{Dataset, Trainer, TrainerConfig};
    /// use nn_core::Network;
    /// use nn_activations::{Identity, Tanh};
    /// use nn_math::Matrix;
    /// use rand::SeedableRng;
    ///
    /// let data = Dataset::new(Matrix::from_fn(1, 16, |_, j| j as f64 / 16.0),
    ///                         Matrix::from_fn(1, 16, |_, j| (j as f64 / 5.0).sin()))?;
    /// let config = || TrainerConfig::<f64> { epochs: 6, batch_size: 4, ..TrainerConfig::default() };
    /// let fresh = || Network::builder(1).layer(8, Tanh).layer(1, Identity)
    ///     .build(&mut rand::rngs::StdRng::seed_from_u64(1));
    ///
    /// let mut straight = fresh()?;
    /// Trainer::new(config())?.fit(&mut straight, &data, None)?; // 6 epochs
    ///
    /// let mut net = fresh()?;
    /// let mut first = Trainer::new(config())?;
    /// first.fit_with(&mut net, &data, None, |r| {
    ///     if r.epoch == 2 { nn_train::Control::Stop } else { nn_train::Control::Continue }
    /// })?; // interrupted after 2
    /// let bytes = first.checkpoint_bytes(&net)?;
    ///
    /// let mut second = Trainer::new(config())?;
    /// let mut resumed = second.resume_from_bytes(&bytes)?;
    /// let rest = second.fit(&mut resumed, &data, None)?; // the 4 epochs left
    /// assert_eq!(rest.epochs.len(), 4);
    /// assert_eq!(resumed, straight);
    ///
    /// // Another seed would give other bits: refused, naming it.
    /// let mut other = Trainer::new(TrainerConfig { seed: 7, ..config() })?;
    /// let err = other.resume_from_bytes(&bytes).unwrap_err();
    /// assert!(err.to_string().contains("seed was \"0\", is \"7\""), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A [`TrainError::Core`] for an unreadable network, [`TrainError::Checkpoint`] if the
    /// file holds no trainer state, another optimizer's state, inconsistent state, or
    /// settings that differ from this trainer's.
    pub fn resume_from_bytes(&mut self, bytes: &[u8]) -> Result<Network<T>, TrainError> {
        self.resume_from_bytes_resolving(bytes, &|_, _| None, &|_| None)
    }

    /// As [`resume_from_bytes`](Trainer::resume_from_bytes), for a network with the
    /// user's own activations or layers, which the resolvers rebuild (see
    /// `Network::from_safetensors_resolving`).
    ///
    /// # Errors
    /// As [`resume_from_bytes`](Trainer::resume_from_bytes).
    pub fn resume_from_bytes_resolving(
        &mut self,
        bytes: &[u8],
        activations: ActivationResolver<'_, T>,
        layers: LayerResolver<'_, T>,
    ) -> Result<Network<T>, TrainError> {
        let net = Network::from_safetensors_resolving(bytes, activations, layers)?;
        let extras = read_extras::<T>(bytes, "")?;
        let meta = |key: &str| {
            extras
                .metadata
                .iter()
                .find(|(k, _)| k == &format!("{PREFIX_META}{key}"))
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| bad(format!("no trainer state ({PREFIX_META}{key} is missing)")))
        };
        let name = meta("optimizer")?;
        if name != self.config().optimizer.name() {
            return Err(bad(format!(
                "the checkpoint holds {name:?} state, this trainer's optimizer is {:?}",
                self.config().optimizer.name()
            )));
        }
        // The settings that decide the bits (checkpoints of earlier releases have none).
        let prefix = format!("{PREFIX_META}{SETTING}");
        let stored: Vec<(&str, &str)> = extras
            .metadata
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?, v.as_str())))
            .collect();
        crate::settings::compare(&stored, self.config(), &self.allowed_changes)?;
        let epochs_done: usize = meta("epochs_done")?
            .parse()
            .map_err(|_| bad("epochs_done is not a number"))?;
        // Counters are not trusted: beyond these bounds they could only wrap later (no
        // run of this library has done 2³² epochs or updates).
        let limit = u32::MAX as usize;
        if epochs_done > limit {
            return Err(bad(format!(
                "epochs_done = {epochs_done} is beyond {limit}"
            )));
        }
        let parse_list = |s: &str| -> Result<Vec<usize>, TrainError> {
            if s.is_empty() {
                return Ok(Vec::new());
            }
            s.split(',')
                .map(|x| x.parse().map_err(|_| bad(format!("{x:?} is not a number"))))
                .collect()
        };
        // The parameters the state belongs to, by name (checkpoints of earlier releases
        // have no list; their state is matched by count below).
        if let Ok(stored) = meta("params") {
            let expected = param_paths(&net).join(",");
            if stored != expected {
                return Err(bad(format!(
                    "the optimizer state is for the parameters [{stored}], the network has [{expected}]"
                )));
            }
        }
        let steps = parse_list(meta("steps")?)?;
        let counts = parse_list(meta("buffers")?)?;
        if let Some(&s) = steps.iter().find(|&&s| s > limit) {
            return Err(bad(format!("an update count of {s} is beyond {limit}")));
        }
        if let Some(&c) = counts.iter().find(|&&c| c > 16) {
            return Err(bad(format!(
                "{c} buffers for one tensor (an optimizer keeps a few)"
            )));
        }
        if steps.len() != counts.len()
            || (!steps.is_empty() && steps.len() != net.n_param_tensors())
        {
            return Err(bad("the optimizer state does not match the network"));
        }
        let lengths: Vec<usize> = net.param_specs().iter().map(|(_, s)| s.len()).collect();
        let mut params = Vec::with_capacity(steps.len());
        for (p, (&step, &count)) in steps.iter().zip(&counts).enumerate() {
            // Only buffers the file holds are pushed: `count` is not trusted to allocate.
            let mut buffers = Vec::new();
            for b in 0..count {
                let name = format!("{PREFIX_TENSOR}{p:04}.{b:02}");
                let t = extras
                    .tensors
                    .iter()
                    .find(|(n, _)| *n == name)
                    .ok_or_else(|| bad(format!("tensor {name} is missing")))?;
                if !t.1.iter().all(|v| v.is_finite()) {
                    return Err(bad(format!(
                        "tensor {name} holds a value that is not finite"
                    )));
                }
                if t.1.len() != lengths[p] {
                    return Err(bad(format!(
                        "tensor {name} holds {} values, its parameter tensor {}",
                        t.1.len(),
                        lengths[p]
                    )));
                }
                buffers.push(t.1.clone());
            }
            params.push(ParamState {
                step: step as u64,
                buffers,
            });
        }
        self.state.params = params;
        self.epochs_done = epochs_done;
        Ok(net)
    }

    /// Reads a checkpoint file (see [`resume_from_bytes`](Trainer::resume_from_bytes)).
    ///
    /// # Errors
    /// As [`resume_from_bytes`](Trainer::resume_from_bytes), or an I/O error.
    pub fn resume(&mut self, path: impl AsRef<Path>) -> Result<Network<T>, TrainError> {
        let bytes = std::fs::read(path.as_ref())
            .map_err(|e| bad(format!("{}: {e}", path.as_ref().display())))?;
        self.resume_from_bytes(&bytes)
    }
}
