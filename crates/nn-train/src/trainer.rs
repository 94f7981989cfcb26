//! The training loop: Algorithm 11 (Learn, CalculateGradient, Validate) with
//! mini-batches, an optimizer, regularization, dropout, a schedule and stopping rules.

use std::time::Instant;

use nn_core::{Gradient, Network, Workspace};
use nn_math::Real;
use nn_math::nalgebra::DMatrixView;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::batch::Batch;
use crate::config::{Control, LastBatch, TrainerConfig};
use crate::history::{EpochRecord, History, StopReason};
use crate::{Dataset, OptimizerState, TrainError};

/// Runs Algorithm 11 on a network: for each epoch, shuffled mini-batches of the training
/// set (ClearGradient, Evaluate, AdjustGradient, regularization, the optimizer's step),
/// then validation, recording `E_t` and `E_v` in a [`History`].
///
/// The trainer keeps the optimizer's state and the number of epochs done between `fit`
/// calls, so training can continue (or resume from a checkpoint, [`Trainer::resume`]) exactly
/// where it stopped. The library never prints: observe progress with
/// [`fit_with`](Trainer::fit_with).
pub struct Trainer<T: Real> {
    config: TrainerConfig<T>,
    pub(crate) state: OptimizerState<T>,
    pub(crate) epochs_done: usize,
    /// Settings a resumed run may change ([`Trainer::allow_changes`]).
    pub(crate) allowed_changes: Vec<String>,
    /// The forward and backward passes' buffers, and the threads that share each step.
    workspace: Workspace<T>,
    batch_y: Vec<T>,
    order: Vec<usize>,
}

/// A per-epoch seed: the same `(seed, epoch)` always gives the same shuffle and masks,
/// so a resumed run draws what an uninterrupted one would (SplitMix64 finalizer).
fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    let mut z = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<T: Real> Trainer<T> {
    /// A trainer, with every hyper-parameter validated once.
    ///
    /// # Errors
    /// [`TrainError::HyperParameter`] for a batch size of 0, an invalid optimizer,
    /// regularizer, schedule, target error or early-stopping setting.
    pub fn new(config: TrainerConfig<T>) -> Result<Self, TrainError> {
        config.validate()?;
        Ok(Self {
            config,
            state: OptimizerState::default(),
            epochs_done: 0,
            allowed_changes: Vec::new(),
            workspace: Workspace::new(),
            batch_y: Vec::new(),
            order: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TrainerConfig<T> {
        &self.config
    }

    /// Epochs completed by this trainer so far (over all `fit` calls, and those of a
    /// resumed checkpoint).
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// Sets the run's length to `epochs` in all (the configuration's `epochs`), e.g. to
    /// train further after a run has reached its length: the next `fit` trains the
    /// epochs from [`epochs_done`](Trainer::epochs_done) up to it.
    ///
    /// ```
    /// # use nn_train::{Trainer, TrainerConfig};
    /// let mut trainer = Trainer::new(TrainerConfig::<f64> { epochs: 5, ..TrainerConfig::default() })?;
    /// trainer.set_epochs(8)?; // three more after the first five
    /// assert_eq!(trainer.config().epochs, 8);
    /// # Ok::<(), nn_train::TrainError>(())
    /// ```
    ///
    /// # Errors
    /// [`TrainError::HyperParameter`] if the schedule's learning rate is not positive and
    /// finite (in `T`) in one of the epochs added.
    pub fn set_epochs(&mut self, epochs: usize) -> Result<(), TrainError> {
        for epoch in self.config.epochs..epochs.min(self.config.epochs + (1 << 20)) {
            crate::config::check_rate::<T>(self.config.schedule.rate(epoch))?;
        }
        self.config.epochs = epochs;
        Ok(())
    }

    /// The optimizer's state (one entry per parameter tensor once training started).
    pub fn optimizer_state(&self) -> &OptimizerState<T> {
        &self.state
    }

    /// Trains `net` on `train` until the run has its configured length (`epochs` in
    /// all, counting the epochs of earlier `fit` calls and of a resumed checkpoint; none
    /// if it has) or a stopping rule fires, validating on `validation` after every
    /// epoch. A run resumed from a checkpoint thus ends where the uninterrupted run
    /// would, with no arithmetic; [`set_epochs`](Trainer::set_epochs) makes it longer.
    ///
    /// # Errors
    /// [`TrainError::Data`] if a data set does not fit the network,
    /// [`TrainError::NonFinite`] if the loss, the gradient or a weight becomes
    /// non-finite, naming the epoch and batch. A non-finite loss (with any optimizer but
    /// plain SGD) is not applied, so the network and the optimizer's state stay as they
    /// were after the last finite batch; if the gradient or an update makes a weight
    /// non-finite (or, with plain SGD's fused update, the loss is non-finite), the network
    /// and the optimizer's state go back to where they were at the start of that epoch.
    /// Otherwise a [`TrainError::Core`].
    pub fn fit(
        &mut self,
        net: &mut Network<T>,
        train: &Dataset<T>,
        validation: Option<&Dataset<T>>,
    ) -> Result<History, TrainError> {
        self.fit_with(net, train, validation, |_| Control::Continue)
    }

    /// As [`fit`](Trainer::fit), calling `observer` with each epoch's record; it returns
    /// [`Control::Stop`] to end training after that epoch.
    ///
    /// # Errors
    /// As [`fit`](Trainer::fit).
    pub fn fit_with<F>(
        &mut self,
        net: &mut Network<T>,
        train: &Dataset<T>,
        validation: Option<&Dataset<T>>,
        mut observer: F,
    ) -> Result<History, TrainError>
    where
        F: FnMut(&EpochRecord) -> Control,
    {
        for (what, d) in [("training", Some(train)), ("validation", validation)] {
            let Some(d) = d else { continue };
            if d.inputs().nrows() != net.n_inputs() || d.targets().nrows() != net.n_outputs() {
                return Err(TrainError::Data(format!(
                    "the {what} set has {} inputs and {} targets per example, the network takes {} and gives {}",
                    d.inputs().nrows(),
                    d.targets().nrows(),
                    net.n_inputs(),
                    net.n_outputs()
                )));
            }
        }
        if let Some(d) = &self.config.dropout
            && d.rates().len() != net.n_layers()
        {
            return Err(TrainError::Core(nn_core::CoreError::Architecture(format!(
                "dropout has {} rates, the network needs {}",
                d.rates().len(),
                net.n_layers()
            ))));
        }
        if self.workspace.threads() != self.config.threads {
            self.workspace = Workspace::with_threads(self.config.threads)?;
        }
        let mut grad = net.gradient();
        let train_classes = train.classes();
        let mut records = Vec::new();
        let mut stop = StopReason::Epochs;
        let mut best: Option<(f64, usize, Network<T>)> = None;
        let mut since_best = 0;

        for _ in self.epochs_done..self.config.epochs {
            let epoch = self.epochs_done + 1;
            let lr = self.config.schedule.rate(self.epochs_done);
            crate::config::check_rate::<T>(lr)?;
            let start = Instant::now();
            let mut rng = StdRng::seed_from_u64(epoch_seed(self.config.seed, self.epochs_done));
            let (train_loss, train_accuracy) = self.train_epoch(
                net,
                train,
                train_classes.as_deref(),
                &mut grad,
                T::lit(lr),
                &mut rng,
                epoch,
            )?;
            let penalty = self
                .config
                .regularizer
                .as_ref()
                .map_or(0.0, |r| r.network_penalty(net).as_f64());
            let (validation_loss, validation_accuracy) = match validation {
                Some(v) => {
                    let (l, a) = self.evaluate(net, v);
                    (Some(l), a)
                }
                None => (None, None),
            };
            self.epochs_done += 1;
            let record = EpochRecord {
                epoch,
                train_loss,
                train_cost: train_loss + penalty,
                validation_loss,
                train_accuracy,
                validation_accuracy,
                learning_rate: lr,
                seconds: start.elapsed().as_secs_f64(),
            };
            let monitored = validation_loss.unwrap_or(train_loss);
            let wants_stop = observer(&record) == Control::Stop;
            records.push(record);
            if let Some(es) = self.config.early_stopping {
                if best
                    .as_ref()
                    .is_none_or(|(b, _, _)| monitored < *b - es.min_delta)
                {
                    best = Some((monitored, epoch, net.clone()));
                    since_best = 0;
                } else {
                    since_best += 1;
                }
                if since_best >= es.patience {
                    stop = StopReason::EarlyStopping;
                    break;
                }
            }
            if wants_stop {
                stop = StopReason::Observer;
                break;
            }
            if self.config.target_error.is_some_and(|t| monitored <= t) {
                stop = StopReason::TargetError;
                break;
            }
        }
        let best_epoch = best.map(|(_, epoch, weights)| {
            *net = weights;
            epoch
        });
        Ok(History {
            epochs: records,
            stop,
            best_epoch,
        })
    }

    /// One pass over the shuffled training set; returns `(E_t, accuracy)`.
    #[allow(clippy::too_many_arguments)]
    fn train_epoch(
        &mut self,
        net: &mut Network<T>,
        train: &Dataset<T>,
        classes: Option<&[usize]>,
        grad: &mut Gradient<T>,
        lr: T,
        rng: &mut StdRng,
        epoch: usize,
    ) -> Result<(f64, Option<f64>), TrainError> {
        let n = train.len();
        let bs = self.config.batch_size.min(n);
        let n_out = net.n_outputs();
        self.order.clear();
        self.order.extend(0..n);
        if self.config.shuffle {
            self.order.shuffle(rng);
        }
        self.batch_y.resize(n_out * bs, T::zero());
        let snapshot = net.clone();
        // The optimizer's state at the start of the epoch, given back with the weights if
        // the epoch fails (so that a later `fit` starts from finite state).
        let state_snapshot = self.state.clone();
        let (mut loss_sum, mut seen, mut correct) = (0.0, 0usize, 0usize);
        // A batch is skipped if it is a short last batch to drop.
        let drop_short = self.config.last_batch == LastBatch::Drop;
        let skipped = |b: usize, len: usize| len < bs && b > 0 && drop_short;
        let mut feed = self.workspace.feed(train.inputs());
        let mut batches = self.order.chunks(bs).enumerate().peekable();
        while let Some((b, chunk)) = batches.next() {
            let len = chunk.len();
            if skipped(b, len) {
                continue;
            }
            // The next step's examples, which idle threads may gather meanwhile.
            let next = match batches.peek() {
                Some(&(b, c)) if !skipped(b, c.len()) => c,
                _ => &[],
            };
            // Gather the batch's targets into the reused buffer (the forward pass
            // gathers the inputs itself, each thread its own block of them).
            let ys = train.targets().as_slice();
            for (c, &i) in chunk.iter().enumerate() {
                self.batch_y[c * n_out..(c + 1) * n_out]
                    .copy_from_slice(&ys[i * n_out..(i + 1) * n_out]);
            }
            let y = DMatrixView::from_slice(&self.batch_y[..n_out * len], n_out, len);

            // Plain SGD without regularization: backpropagation and the update in one
            // pass (Algorithms 7 + 9 fused), the gradient never stored.
            let fused_path = self.config.optimizer.is_plain_descent()
                && self.config.regularizer.is_none()
                && self.config.clip_norm.is_none();
            let batch = Batch {
                indices: chunk,
                next,
                classes,
                lengths: train.lengths(),
            };
            let dropout = self.config.dropout.as_ref();
            let right = batch.forward(net, dropout, rng, &mut feed)?;
            let loss = if fused_path {
                feed.descend(net, &y, &*self.config.loss, lr)?
            } else {
                grad.clear();
                feed.adjust_gradient(net, &y, &*self.config.loss, grad)?
            };
            correct += right;
            if !loss.is_finite() {
                if fused_path {
                    // `descend` has already applied this batch's update.
                    *net = snapshot;
                    self.state = state_snapshot;
                }
                return Err(TrainError::NonFinite {
                    epoch,
                    batch: b + 1,
                    what: "the loss",
                });
            }
            if fused_path {
                // The step happened inside `descend`; count it like the optimizer's.
                self.state.count_steps(net);
            } else {
                if let Some(c) = self.config.clip_norm {
                    crate::clip_by_global_norm(grad, c);
                }
                if let Some(r) = &self.config.regularizer {
                    r.regularize(net, grad);
                }
                self.config.optimizer.step(net, grad, &mut self.state, lr)?;
            }
            // A non-finite gradient shows up in the weights after the step, so one scan of
            // the weights catches both; the fused step scanned what it wrote as it went.
            let finite = if fused_path {
                feed.workspace().last_update_finite()
            } else {
                net.params_finite()
            };
            if !finite {
                *net = snapshot;
                self.state = state_snapshot;
                return Err(TrainError::NonFinite {
                    epoch,
                    batch: b + 1,
                    what: "the gradient or a weight",
                });
            }
            loss_sum += loss.as_f64() * len as f64;
            seen += len;
        }
        let accuracy = classes.map(|_| correct as f64 / seen as f64);
        Ok((loss_sum / seen as f64, accuracy))
    }

    /// `(E_v, accuracy)` on a data set, without dropout (Algorithm 11's Validate), in
    /// chunks of the batch size through the trainer's workspace.
    pub(crate) fn evaluate(&mut self, net: &Network<T>, data: &Dataset<T>) -> (f64, Option<f64>) {
        let chunk = self.config.batch_size;
        // Shapes were checked at the start of `fit`, so this cannot fail.
        crate::evaluation::evaluate_in_chunks(
            net,
            data,
            &*self.config.loss,
            &mut self.workspace,
            chunk,
        )
        .unwrap_or((f64::NAN, None))
    }
}
