//! Training steps over one data set's columns, with the next batch gathered ahead by the
//! threads that would otherwise wait.
//!
//! In a threaded step, a small layer runs on the calling thread alone
//! ([`SplitRule::Auto`](crate::SplitRule::Auto)) and the other threads wait for it, and
//! in every fork the threads that finish their part first wait for the last; the next
//! batch's inputs, meanwhile, are gathered from the data set at the start of the next
//! step, by every thread, on the step's critical path. A [`Feed`] knows the next batch
//! and lets the waiting threads copy its columns into a second input buffer, one column
//! at a time, until the fork is over; the next step gathers only the rest. Copying is all
//! they do, so the results are those of the plain calls, bit for bit.
//!
//! At batch sizes below four, a feed's `descend` also computes the next step's
//! first-layer product while it updates that layer (`crate::next_product`), with the
//! same additions in the same order as the forward pass would make.

use nn_math::nalgebra::{Dyn, RawStorage};
use nn_math::{Matrix, MatrixView, Real};
use rand::Rng;

use super::ahead::Ahead;
use super::source::Source;
use super::split::Split;
use crate::{CoreError, Dropout, Gradient, Loss, Network, Workspace};

/// A workspace and the data set whose columns its training steps take, borrowed together
/// for a run of steps (an epoch, say), made by [`Workspace::feed`].
///
/// Each step names its batch's columns and the next batch's. With a
/// [`Workspace::with_threads`], threads that would wait (for the calling thread while it
/// runs a small layer alone, or for the last thread of a fork) copy the next batch's
/// columns meanwhile, so that the next step starts with them in place. At batch sizes
/// below four (online learning, one example at a time), [`descend`](Feed::descend) also
/// computes the next example's first-layer product with the weights it has just updated,
/// while they are in the cache, and the next [`evaluate`](Feed::evaluate) uses it if the
/// network has not changed since (W2 of `docs/dev-log.md`, item 28: about 4 %
/// faster). The results are the same as [`Network::evaluate_columns`] followed by
/// [`Network::descend`] (or [`Network::adjust_gradient`]), bit for bit, on any number of
/// threads.
///
/// ```
/// use nn_core::{Network, SoftmaxCrossEntropy, Workspace};
/// use nn_activations::{Identity, Relu};
/// use nn_math::Matrix;
/// use rand::{SeedableRng, rngs::StdRng};
///
/// let mut net = Network::<f32>::builder(4).layer(8, Relu).layer(3, Identity)
///     .build(&mut StdRng::seed_from_u64(1))?;
/// let x = Matrix::from_fn(4, 6, |i, j| ((i + j) % 5) as f32 / 5.0);
/// let y = Matrix::from_fn(3, 6, |i, j| if i == j % 3 { 1.0 } else { 0.0 });
/// let batches: [&[usize]; 3] = [&[0, 1], &[2, 3], &[4, 5]];
/// let mut ws = Workspace::with_threads(2)?;
/// let mut feed = ws.feed(&x);
/// for (b, cols) in batches.iter().enumerate() {
///     let next = batches.get(b + 1).copied().unwrap_or(&[]);
///     feed.evaluate(&net, cols, next)?;
///     let target = Matrix::from_columns(&[y.column(cols[0]), y.column(cols[1])]);
///     feed.descend(&mut net, &target, &SoftmaxCrossEntropy, 0.1)?;
/// }
/// // A column past the data set's last is an error, as for `evaluate_columns`.
/// assert!(feed.evaluate(&net, &[0], &[6]).is_err());
/// # Ok::<(), nn_core::CoreError>(())
/// ```
pub struct Feed<'d, 'w, T: Real> {
    data: &'d Matrix<T>,
    ws: &'w mut Workspace<T>,
}

impl<T: Real> std::fmt::Debug for Feed<'_, '_, T> {
    /// The data set's shape and the workspace's thread count (not the data).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("data_shape", &self.data.shape())
            .field("threads", &self.ws.threads())
            .field("next", &self.ws.ahead.columns)
            .finish()
    }
}

impl<T: Real> Workspace<T> {
    /// Borrows this workspace and `data` (one example per column) for a run of steps
    /// over batches of `data`'s columns; see [`Feed`]. Nothing gathered ahead by an
    /// earlier feed is used.
    pub fn feed<'d, 'w>(&'w mut self, data: &'d Matrix<T>) -> Feed<'d, 'w, T> {
        self.ahead.forget();
        self.next_product.forget();
        Feed { data, ws: self }
    }
}

impl<'d, T: Real> Feed<'d, '_, T> {
    /// The data set.
    pub fn data(&self) -> &'d Matrix<T> {
        self.data
    }

    /// The workspace, for the calls that do not take a feed (its stored pass is the last
    /// step's; what was gathered ahead stays valid).
    pub fn workspace(&mut self) -> &mut Workspace<T> {
        self.ws
    }

    /// [`Network::evaluate_columns`] on the examples `columns` of the data set, while
    /// waiting threads gather the examples `next` (the next step's `columns`; empty if
    /// there is no next step).
    ///
    /// # Errors
    /// As [`Network::evaluate_columns`], also for an index in `next` past the data set's
    /// last column.
    pub fn evaluate(
        &mut self,
        net: &Network<T>,
        columns: &[usize],
        next: &[usize],
    ) -> Result<MatrixView<'_, T>, CoreError> {
        let (ready, done) = self.start("Feed::evaluate", net, columns, next)?;
        self.ws.prepare(net, columns.len());
        self.forward(net, columns, ready, done)
    }

    /// [`Network::evaluate_columns_with_dropout`], gathering `next` as
    /// [`evaluate`](Feed::evaluate) does.
    ///
    /// # Errors
    /// As [`Network::evaluate_columns_with_dropout`] and [`evaluate`](Feed::evaluate).
    pub fn evaluate_with_dropout<R: Rng + ?Sized>(
        &mut self,
        net: &Network<T>,
        columns: &[usize],
        next: &[usize],
        dropout: &Dropout,
        rng: &mut R,
    ) -> Result<MatrixView<'_, T>, CoreError> {
        // Every check comes before `start` changes the workspace, so that an error leaves
        // the stored pass (and its input) as it was.
        net.check_dropout(dropout)?;
        let (ready, done) = self.start("Feed::evaluate_with_dropout", net, columns, next)?;
        net.draw_masks(self.ws, columns.len(), dropout, rng)?;
        self.forward(net, columns, ready, done)
    }

    /// [`Network::descend`] on the last evaluated batch, while waiting threads go on
    /// gathering the next.
    ///
    /// If this batch and the next (the `next` of the last [`evaluate`](Feed::evaluate))
    /// both have fewer than four examples, the update of the first layer also computes
    /// the next batch's product with the new weights. The next `evaluate` uses it only
    /// for those columns, without input dropout, and only if `net` is still in the state
    /// this call left it in: any mutable borrow of its layers
    /// ([`Network::layer_mut`], [`Network::dense_mut`]), and any other network, even a clone, makes it compute
    /// the product afresh. Either way the results are the same.
    ///
    /// # Errors
    /// As [`Network::descend`].
    pub fn descend<S, L>(
        &mut self,
        net: &mut Network<T>,
        target: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
        loss: &L,
        learning_rate: T,
    ) -> Result<T, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
        L: Loss<T> + ?Sized,
    {
        // With a batch of fewer than four examples now and next, the update of the first
        // layer also computes the next step's product with it (`crate::next_product`).
        let data = self.data;
        let parts = self.first_layer_parts(net);
        let mut next = std::mem::take(&mut self.ws.next_product);
        let job = match parts {
            Some(p) if next.wanted(self.ws.batch) => {
                let n = net.engine_layers()[0].n_outputs();
                Some(next.job(data.as_slice(), data.nrows(), n, p))
            }
            _ => None,
        };
        let computed = job.is_some();
        let result = self.with_ahead(|ws, ahead| {
            net.descend_ahead(ws, target, loss, learning_rate, ahead, job.as_ref())
        });
        if computed && result.is_ok() {
            next.version = Some(net.version());
        }
        self.ws.next_product = next;
        result
    }

    /// Into how many blocks of its inputs the first layer's update splits at the stored
    /// pass's batch size: every thread's (split by inputs) or one (on the calling thread
    /// alone); `None` if split by examples, whose forward product is not made of the
    /// update's blocks.
    fn first_layer_parts(&self, net: &Network<T>) -> Option<usize> {
        let first = net.engine_layers().first()?;
        let split = self
            .ws
            .splitter()
            .of(0, first.n_outputs(), first.n_inputs(), self.ws.batch);
        match split {
            Split::Inputs => Some(self.ws.threads()),
            Split::Alone => Some(1),
            Split::Examples => None,
        }
    }

    /// [`Network::adjust_gradient`] on the last evaluated batch, while waiting threads go
    /// on gathering the next.
    ///
    /// # Errors
    /// As [`Network::adjust_gradient`].
    pub fn adjust_gradient<S, L>(
        &mut self,
        net: &Network<T>,
        target: &nn_math::nalgebra::Matrix<T, Dyn, Dyn, S>,
        loss: &L,
        grad: &mut Gradient<T>,
    ) -> Result<T, CoreError>
    where
        S: RawStorage<T, Dyn, Dyn>,
        L: Loss<T> + ?Sized,
    {
        self.with_ahead(|ws, ahead| net.adjust_gradient_ahead(ws, target, loss, grad, ahead))
    }

    /// Checks a step's columns, puts what was gathered ahead for them in place (returning
    /// how many of them that is, and whether the last `descend` computed their
    /// first-layer product with `net` as it is) and sets `next` as the columns to gather
    /// ahead. It changes the workspace only once the checks have passed.
    fn start(
        &mut self,
        op: &'static str,
        net: &Network<T>,
        columns: &[usize],
        next: &[usize],
    ) -> Result<(usize, bool), CoreError> {
        net.check_columns(op, self.data, columns)?;
        if let Some(&index) = next.iter().find(|&&c| c >= self.data.ncols()) {
            return Err(CoreError::ColumnIndex {
                op,
                index,
                columns: self.data.ncols(),
            });
        }
        let ws = &mut *self.ws;
        let ready = ws.ahead.take(columns, &mut ws.input);
        let done = ws.next_product.take(net.version(), columns);
        ws.next_product.upcoming.clear();
        ws.next_product.upcoming.extend_from_slice(next);
        let n0 = self.data.nrows();
        // Nothing is gathered ahead without a second thread to do it.
        let next = if ws.threads() > 1 { next } else { &[] };
        ws.ahead.expect(next, n0);
        Ok((ready, done))
    }

    /// The forward pass of a started step (`done`: its first-layer product is in
    /// `next_product`).
    fn forward(
        &mut self,
        net: &Network<T>,
        columns: &[usize],
        ready: usize,
        done: bool,
    ) -> Result<MatrixView<'_, T>, CoreError> {
        let data = self.data;
        self.with_ahead(|ws, ahead| {
            net.forward(Source::columns(data, columns, ready), ws, ahead, done)
        })?;
        Ok(self.ws.output())
    }

    /// Runs `pass` with the buffer of the next batch taken out of the workspace (so that
    /// both can be borrowed), then puts it back with the number of columns gathered.
    fn with_ahead<R>(
        &mut self,
        pass: impl FnOnce(&mut Workspace<T>, Option<&Ahead<'_, T>>) -> Result<R, CoreError>,
    ) -> Result<R, CoreError> {
        let mut buf = std::mem::take(&mut self.ws.ahead);
        let ahead = Ahead::new(self.data, &mut buf);
        let result = pass(self.ws, ahead.as_ref());
        if let Some(done) = ahead.map(|a| a.done()) {
            buf.done = done;
        }
        self.ws.ahead = buf;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SplitRule;
    use crate::engine::ahead::AheadBuffer;
    use nn_activations::{Identity, Tanh};
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use std::sync::atomic::AtomicUsize;

    /// Leaves the first `done` of the columns a feed expects next gathered, as idle
    /// threads might have (they may have gathered some already).
    fn gather_ahead(ws: &mut Workspace<f64>, data: &Matrix<f64>, done: usize) {
        let mut buf = std::mem::take(&mut ws.ahead);
        if let Some(ahead) = Ahead::new(data, &mut buf) {
            ahead.help(&AtomicUsize::new(0), 1);
            assert!(!ahead.pending());
        }
        buf.done = done;
        ws.ahead = buf;
    }

    #[test]
    fn columns_gathered_ahead_are_used_with_their_mask() {
        let net = Network::<f64>::builder(20)
            .layer(6, Tanh)
            .layer(2, Identity)
            .build(&mut StdRng::seed_from_u64(2))
            .unwrap();
        let data = Matrix::from_fn(20, 9, |i, j| ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0);
        let dropout = Dropout::new(vec![0.4, 0.2]).unwrap();
        let (first, next) = ([0usize, 1, 2], [8usize, 3, 5, 3, 0, 7, 7, 1, 6]);
        // With the first layer split by inputs, a batch of 8 columns or more on two threads
        // is gathered in a fork of its own; otherwise, in the first layer's fork.
        let rules = [SplitRule::Auto, SplitRule::ByInputs(1)];
        for (threads, rule) in [1, 2].into_iter().flat_map(|t| rules.map(|r| (t, r))) {
            for done in 0..=next.len() {
                for masked in [false, true] {
                    let mut ws = Workspace::with_threads(threads).unwrap();
                    ws.set_split_rule(rule);
                    let mut feed = ws.feed(&data);
                    feed.evaluate(&net, &first, &next).unwrap();
                    let expected = feed.ws.ahead.columns.clone();
                    assert_eq!(expected, if threads > 1 { &next[..] } else { &[] });
                    if threads > 1 {
                        gather_ahead(feed.ws, &data, done);
                    }
                    let rng = || StdRng::seed_from_u64(9);
                    let got = match masked {
                        true => feed.evaluate_with_dropout(&net, &next, &[], &dropout, &mut rng()),
                        false => feed.evaluate(&net, &next, &[]),
                    }
                    .unwrap()
                    .clone_owned();
                    let mut plain = Workspace::with_threads(threads).unwrap();
                    plain.set_split_rule(rule);
                    let want = match masked {
                        true => net.evaluate_columns_with_dropout(
                            &data,
                            &next,
                            &mut plain,
                            &dropout,
                            &mut rng(),
                        ),
                        false => net.evaluate_columns(&data, &next, &mut plain),
                    }
                    .unwrap();
                    let case = format!("{threads} threads, {rule:?}, {done} ready, mask {masked}");
                    assert_eq!(got, want, "{case}");
                    assert_eq!(ws.input[..20 * 9], plain.input[..20 * 9], "{case}");
                }
            }
        }
    }

    #[test]
    fn a_failed_call_leaves_the_stored_pass_and_its_input() {
        let mut net = Network::<f64>::builder(3)
            .layer(4, Tanh)
            .layer(2, Identity)
            .build(&mut StdRng::seed_from_u64(4))
            .unwrap();
        let data = Matrix::from_fn(3, 6, |i, j| ((i * 5 + j * 3) % 7) as f64 / 3.0 - 1.0);
        let y = Matrix::from_fn(2, 2, |i, j| (i + j) as f64 / 2.0);
        let mut plain = net.clone();
        let mut pws = Workspace::with_threads(2).unwrap();
        plain.evaluate_columns(&data, &[0, 1], &mut pws).unwrap();
        plain
            .descend(&mut pws, &y, &crate::HalfSquaredError, 0.1)
            .unwrap();

        let mut ws = Workspace::with_threads(2).unwrap();
        let mut feed = ws.feed(&data);
        feed.evaluate(&net, &[0, 1], &[4, 5]).unwrap();
        gather_ahead(feed.ws, &data, 2);
        let wrong = Dropout::new(vec![0.1]).unwrap(); // the network needs two rates
        let mut rng = StdRng::seed_from_u64(1);
        assert!(
            feed.evaluate_with_dropout(&net, &[4, 5], &[], &wrong, &mut rng)
                .is_err()
        );
        assert!(feed.evaluate(&net, &[4, 5], &[6]).is_err());
        assert!(feed.evaluate(&net, &[4, 6], &[]).is_err());
        assert_eq!(feed.ws.ahead.done, 2);
        feed.descend(&mut net, &y, &crate::HalfSquaredError, 0.1)
            .unwrap();
        assert_eq!(net, plain);
    }

    #[test]
    fn debug_shows_the_shape_not_the_data() {
        let data = Matrix::<f32>::zeros(3, 1000);
        let mut ws = Workspace::new();
        let text = format!("{:?}", ws.feed(&data));
        assert_eq!(text, "Feed { data_shape: (3, 1000), threads: 1, next: [] }");
    }

    #[test]
    fn a_helper_stops_when_told_and_claims_each_column_once() {
        let data = Matrix::from_fn(3, 5, |i, j| (10 * j + i) as f32);
        let mut buf = AheadBuffer::default();
        buf.expect(&[4, 0, 2], 3);
        let ahead = Ahead::new(&data, &mut buf).unwrap();
        ahead.help(&AtomicUsize::new(1), 1);
        assert_eq!(ahead.done(), 0);
        assert!(ahead.pending());
        ahead.help(&AtomicUsize::new(0), 1);
        assert_eq!(ahead.done(), 3);
        assert!(!ahead.pending());
        buf.done = 3;
        assert_eq!(
            buf.input,
            [40.0, 41.0, 42.0, 0.0, 1.0, 2.0, 20.0, 21.0, 22.0]
        );
        assert!(Ahead::new(&data, &mut buf).is_none());
        // Other columns than those gathered: nothing is taken.
        let mut input = vec![0.0; 9];
        assert_eq!(buf.take(&[4, 0], &mut input), 0);
        assert_eq!(buf.take(&[4, 0, 2], &mut input), 3);
        assert_eq!(input[..3], [40.0, 41.0, 42.0]);
        buf.forget();
        assert_eq!(buf.take(&[], &mut input), 0);
    }
}
