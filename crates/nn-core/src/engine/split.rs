//! How each layer's work is split between a workspace's threads, and the fork that runs
//! the parts.

use std::sync::Mutex;

use super::team::Team;
use crate::CoreError;

/// How a threaded workspace splits each layer's work between its threads (see
/// [`Workspace`](crate::Workspace)'s documentation, "Threads").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SplitRule {
    /// By inputs when the layer's weights are large (at least 16,384 entries, 64 KB in
    /// f32, which each thread then keeps in its own cache) or its products are (at least
    /// 2²⁰ multiply-adds per batch); by examples otherwise, except that a layer with
    /// fewer than 2¹⁶ multiply-adds per batch runs on the calling thread alone (its work
    /// is shorter than a fork). Measured in `docs/dev-log.md` (784-128-64-10 at batch
    /// 64: the first layer by inputs, the second by examples, the third alone). This is
    /// for networks of dense layers only: a network with any other layer (convolution,
    /// pooling, recurrent, the user's own) is split by examples as a whole, each thread
    /// taking its block of the batch through every layer, whatever the rule.
    #[default]
    Auto,
    /// Layer `k` (counted from 0) by inputs if bit `k` of the mask is set, by examples
    /// otherwise (layers from 64 on always by examples). `ByInputs(u64::MAX)` splits
    /// every layer by inputs, `ByInputs(0)` every layer by examples.
    ByInputs(u64),
}

/// The way one layer's work is split in a pass (see [`SplitRule`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Split {
    /// Each thread a block of the layer's inputs.
    Inputs,
    /// Each thread a block of the batch's examples.
    Examples,
    /// By examples, in one block on the calling thread: the layer's work (under 2¹⁶
    /// multiply-adds) is too small to share, or there is no team.
    Alone,
}

/// A workspace's [`SplitRule`] and whether it has threads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Splitter {
    pub(crate) rule: SplitRule,
    pub(crate) threaded: bool,
}

impl Splitter {
    /// How layer `k` (`n_in` inputs, `n_out` neurons) is split for a batch of `batch`.
    pub(crate) fn of(self, k: usize, n_out: usize, n_in: usize, batch: usize) -> Split {
        let by_inputs = match self.rule {
            _ if !self.threaded => return Split::Alone,
            SplitRule::Auto => large(n_out, n_in, batch),
            SplitRule::ByInputs(mask) => k < 64 && mask & (1 << k) != 0,
        };
        if by_inputs {
            Split::Inputs
        } else if self.rule == SplitRule::Auto && n_out * n_in * batch < 1 << 16 {
            Split::Alone
        } else {
            Split::Examples
        }
    }
}

/// Whether a layer of `n_in` inputs and `n_out` neurons is large enough to split by
/// inputs at batch size `batch` ([`SplitRule::Auto`]).
fn large(n_out: usize, n_in: usize, batch: usize) -> bool {
    n_out * n_in >= 1 << 14 || n_out * n_in * batch >= 1 << 20
}

/// Runs `job(t, p)` for every part `t` of `p` at once, `p` the team's threads (just
/// `job(0, 1)` without a team), and returns the error of the lowest-numbered part that
/// failed, if any. Part `t` works on block `part_rows(n, t, p)` of a layer's inputs, its
/// examples, or its biases.
pub(crate) fn fork<F>(team: Option<&Team>, job: F) -> Result<(), CoreError>
where
    F: Fn(usize, usize) -> Result<(), CoreError> + Sync,
{
    let Some(team) = team else {
        return job(0, 1);
    };
    let p = team.threads();
    let failed: Mutex<Option<(usize, CoreError)>> = Mutex::new(None);
    team.run(&|t| {
        if let Err(e) = job(t, p) {
            let mut slot = failed.lock().unwrap_or_else(|p| p.into_inner());
            if slot.as_ref().is_none_or(|(u, _)| t < *u) {
                *slot = Some((t, e));
            }
        }
    });
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}
