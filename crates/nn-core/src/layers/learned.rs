//! Activation parameters learned along with the weights and biases (§2.1.1: β and γ
//! "may be a constant or a parameter that is learned"), one value for the layer or one
//! per neuron.
//!
//! For neuron `j` with function `f(x; θ)` and `Δ = ∂C/∂A⁽ᵏ⁾`, backpropagation adds
//! `∂C/∂θ_j = Σ_examples Δ_j·∂f/∂θ(s_j; θ_j)` (times `1/B`, errata 5), summed over the
//! neurons for a shared `θ`; `∂f/∂θ` is `Activation::dparams` (guide §2.1). After each
//! update, a value that left the notes' domain is moved to its nearest point
//! (`Activation::project_param`; for the built-ins `Builtin::project`: β ≥ 0 for ELU and
//! squareplus, β > 0 for softplus and mish, γ ≠ 0 for the sigmoid family) — projected
//! gradient descent. A user's function is learnable if it implements
//! `Activation::with_params` and `dparams`, with at most two parameters named `"beta"`
//! and `"gamma"`.
//!
//! The sums run in both the reference procedures (a column at a time) and the engine (a
//! block of rows at a time, each thread into its own sums, added in thread order after
//! the pass): `learned_passes.rs`. A built-in function's neurons are kept as a list of
//! its own type (`typed_fns.rs`), so those passes call it without dispatch.

use nn_activations::{Activation, SharedActivation};
use nn_math::{Matrix, MatrixViewMut, Real};
use serde_json::{Value, json};

use super::learned_passes::{self as passes, Sums};
use super::typed_fns::{Typed, with_typed};
use crate::{CoreError, NeuronActivation, ParamKind, ParamSpec};

/// Whether a learned activation parameter has one value for the whole layer or one per
/// neuron (as PyTorch's `PReLU(num_parameters=n)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sharing {
    /// One value for every neuron of the layer.
    Shared,
    /// One value per neuron.
    PerNeuron,
}

/// Each neuron's function with its learned values (one if shared): built-ins by value in
/// a list of their own type, so that the passes call them without dispatch; a user's
/// through `with_params`.
#[derive(Clone)]
enum Fns<T: Real> {
    Builtin(Typed<T>),
    Custom(Vec<SharedActivation<T>>),
}

/// The learned parameters of a dense layer's one function (built in, or the user's own
/// if it implements `Activation::with_params`).
#[derive(Clone)]
pub(crate) struct Learned<T: Real> {
    /// The layer's function; its own values of the parameters not learned are used.
    base: NeuronActivation<T>,
    /// Per parameter of `base`, in `params()` order: its values if learned (1, or one
    /// per neuron).
    slots: Vec<Option<Vec<T>>>,
    /// `base`'s own parameter values and names (at most two), kept so that a pass
    /// allocates nothing.
    own: [T; 2],
    names: [&'static str; 2],
    sharing: Sharing,
    /// Each neuron's function with its learned values (one if shared), rebuilt whenever
    /// the values change (a built-in without allocating); `stale` if a value was outside
    /// the domain then.
    fns: Fns<T>,
    stale: bool,
}

impl<T: Real> PartialEq for Learned<T> {
    /// The function and the values (the neurons' functions follow from them).
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base
            && self.slots == other.slots
            && self.own == other.own
            && self.sharing == other.sharing
    }
}

impl<T: Real> std::fmt::Debug for Learned<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Learned")
            .field("base", &self.base)
            .field("slots", &self.slots)
            .field("sharing", &self.sharing)
            .finish()
    }
}

/// The tensor name of a learned parameter.
fn tensor_name(param: &str) -> &'static str {
    if param == "gamma" {
        "activation.gamma"
    } else {
        "activation.beta"
    }
}

impl<T: Real> Learned<T> {
    /// Learns `names` of `activation` for a layer of `n` neurons, starting from the
    /// function's own values.
    pub(crate) fn new(
        activation: &NeuronActivation<T>,
        names: &[&str],
        sharing: Sharing,
        n: usize,
    ) -> Result<Self, CoreError> {
        let base = activation;
        let params = base.params();
        if params.len() > 2 {
            return Err(CoreError::Architecture(format!(
                "{:?} has {} parameters; a layer learns those of functions with at most two \
                 (the notes' β and γ)",
                base.name(),
                params.len()
            )));
        }
        let values: Vec<T> = params.iter().map(|p| p.1).collect();
        if base.with_params(&values).is_none() {
            return Err(CoreError::Architecture(format!(
                "{:?} cannot set its parameters (Activation::with_params), so none can be learned",
                base.name()
            )));
        }
        if names.is_empty() {
            return Err(CoreError::Architecture(
                "learn: name at least one parameter".into(),
            ));
        }
        for (i, name) in names.iter().enumerate() {
            if !matches!(*name, "beta" | "gamma") {
                return Err(CoreError::Architecture(format!(
                    "learn: {name:?} is not a learnable name; a layer learns parameters \
                     named \"beta\" and \"gamma\" (the notes' β and γ)"
                )));
            }
            if !params.iter().any(|(p, _)| p == name) {
                let has: Vec<&str> = params.iter().map(|p| p.0).collect();
                return Err(CoreError::Architecture(format!(
                    "{} has no parameter {name:?} to learn (it has {has:?})",
                    base.name()
                )));
            }
            if names[..i].contains(name) {
                return Err(CoreError::Architecture(format!(
                    "learn: {name:?} named twice"
                )));
            }
        }
        let len = match sharing {
            Sharing::Shared => 1,
            Sharing::PerNeuron => n,
        };
        let slots = params
            .iter()
            .map(|(p, v)| names.contains(p).then(|| vec![*v; len]))
            .collect();
        let (mut own, mut own_names) = ([T::zero(); 2], [""; 2]);
        for (i, (p, v)) in params.iter().enumerate().take(2) {
            own[i] = *v;
            own_names[i] = p;
        }
        let mut learned = Self {
            base: base.clone(),
            slots,
            own,
            names: own_names,
            sharing,
            fns: match base {
                NeuronActivation::Builtin(b) => Fns::Builtin(Typed::of(b, len)),
                NeuronActivation::Custom(c) => Fns::Custom(vec![c.clone(); len]),
            },
            stale: false,
        };
        learned.refresh();
        Ok(learned)
    }

    /// How the values are shared.
    pub(crate) fn sharing(&self) -> Sharing {
        self.sharing
    }

    /// Rebuilds each neuron's function from the values (a built-in without allocating).
    fn refresh(&mut self) {
        self.stale = false;
        let n = match &self.fns {
            Fns::Builtin(v) => v.len(),
            Fns::Custom(v) => v.len(),
        };
        for j in 0..n {
            let values = self.values(j);
            let values = &values[..self.slots.len()];
            let ok = match (&self.base, &mut self.fns) {
                (NeuronActivation::Builtin(b), Fns::Builtin(v)) => {
                    b.with_param_values(values).is_ok_and(|f| v.set(j, f))
                }
                (NeuronActivation::Custom(c), Fns::Custom(v)) => match c.with_params(values) {
                    Some(Ok(f)) => {
                        v[j] = f;
                        true
                    }
                    _ => false,
                },
                _ => false,
            };
            self.stale |= !ok;
        }
    }

    /// The error of a pass while a value is outside its domain.
    fn check_fresh(&self) -> Result<(), CoreError> {
        if self.stale {
            return Err(CoreError::Architecture(
                "a learned activation parameter is outside its domain".into(),
            ));
        }
        Ok(())
    }

    /// The parameter values of neuron `j` (the learned ones and the function's own).
    fn values(&self, j: usize) -> [T; 2] {
        let mut values = self.own;
        for (i, slot) in self.slots.iter().enumerate().take(2) {
            if let Some(v) = slot {
                values[i] = v[if v.len() == 1 { 0 } else { j }];
            }
        }
        values
    }

    /// Checks that neuron `j`'s values make a function.
    fn check(&self, j: usize) -> Result<(), CoreError> {
        let values = self.values(j);
        let values = &values[..self.slots.len()];
        match &self.base {
            NeuronActivation::Builtin(b) => b.with_param_values(values).map(drop)?,
            NeuronActivation::Custom(c) => match c.with_params(values) {
                Some(f) => f.map(drop)?,
                None => {
                    return Err(CoreError::Architecture(format!(
                        "{:?} cannot set its parameters",
                        c.name()
                    )));
                }
            },
        }
        Ok(())
    }

    /// `A = f(S)` for a batch (`S` column-major, `n × B`), example by example.
    pub(crate) fn forward(&self, s: &[T], a: &mut MatrixViewMut<'_, T>) -> Result<(), CoreError> {
        self.check_fresh()?;
        for (c, mut col) in a.column_iter_mut().enumerate() {
            let n = col.len();
            self.forward_rows(&s[c * n..(c + 1) * n], col.as_mut_slice(), 0)?;
        }
        Ok(())
    }

    /// Adds `scale·Σ_examples Δ·∂f/∂θ(S)` to the learned tensors' gradients (`grads`, in
    /// slot order), then `Δ ← Δ ⊙ f'(S)`.
    pub(crate) fn backward(
        &self,
        s: &[T],
        delta: &mut MatrixViewMut<'_, T>,
        scale: T,
        grads: &mut [Matrix<T>],
    ) -> Result<(), CoreError> {
        self.check_fresh()?;
        let (first, second) = match grads {
            [a] => (a.as_mut_slice(), None),
            [a, b, ..] => (a.as_mut_slice(), Some(b.as_mut_slice())),
            [] => return Ok(()),
        };
        let mut sums = Sums { first, second };
        for (c, mut col) in delta.column_iter_mut().enumerate() {
            let n = col.len();
            let d = col.as_mut_slice();
            self.backward_into(&s[c * n..(c + 1) * n], d, 0, scale, &mut sums);
        }
        Ok(())
    }

    /// `a = f(s)` for rows `first..first + s.len()` of one column (the engine's forward
    /// pass, a block of a column at a time).
    pub(crate) fn forward_rows(&self, s: &[T], a: &mut [T], first: usize) -> Result<(), CoreError> {
        self.check_fresh()?;
        match &self.fns {
            Fns::Builtin(typed) => with_typed!(typed, fns => passes::forward(fns, s, a, first))?,
            Fns::Custom(fns) => passes::forward(fns, s, a, first)?,
        }
        Ok(())
    }

    /// The engine's backward step for rows `first..first + s.len()` of one column:
    /// `partial += scale·Δ ⊙ ∂f/∂θ(s)` (per learned tensor, [`Learned::partial_len`]
    /// values: the first tensor's, then the second's), then `Δ ← Δ ⊙ f'(s)`.
    pub(crate) fn backward_rows(
        &self,
        s: &[T],
        d: &mut [T],
        first: usize,
        scale: T,
        partial: &mut [T],
    ) -> Result<(), CoreError> {
        self.check_fresh()?;
        let (a, b) = partial.split_at_mut(self.slot_len());
        let second = (self.learned_indices().1 == 2).then_some(b);
        self.backward_into(s, d, first, scale, &mut Sums { first: a, second });
        Ok(())
    }

    /// The backward step of both passes for rows `first..` of one column, into `sums`
    /// (guide §2.1: `∂C/∂θ_j += scale·Δ_j·∂f/∂θ(s_j; θ_j)`, then `Δ_j ← Δ_j·f'(s_j)`).
    fn backward_into(&self, s: &[T], d: &mut [T], first: usize, scale: T, sums: &mut Sums<'_, T>) {
        let (learned, _) = self.learned_indices();
        match &self.fns {
            Fns::Builtin(typed) => {
                with_typed!(typed, fns => passes::backward(fns, learned, s, d, first, scale, sums))
            }
            Fns::Custom(fns) => passes::backward(fns, learned, s, d, first, scale, sums),
        }
    }

    /// The indices of the learned parameters among the function's, and how many there
    /// are (1 or 2).
    fn learned_indices(&self) -> ([usize; 2], usize) {
        let (mut learned, mut count) = ([0usize; 2], 0);
        for (i, slot) in self.slots.iter().enumerate() {
            if slot.is_some() && count < 2 {
                learned[count] = i;
                count += 1;
            }
        }
        (learned, count)
    }

    /// The values of one learned tensor: 1 if shared, else one per neuron.
    fn slot_len(&self) -> usize {
        self.slots.iter().flatten().next().map_or(0, Vec::len)
    }

    /// How many learned values the layer has (every learned tensor's, in visiting
    /// order): the length of the engine's partial sums.
    pub(crate) fn partial_len(&self) -> usize {
        self.slots.iter().flatten().map(Vec::len).sum()
    }

    /// How many learned tensors the layer has (1 or 2).
    pub(crate) fn tensors(&self) -> usize {
        self.learned_indices().1
    }

    /// Adds `sums` (as [`Learned::backward_rows`] lays them out) to the values, then
    /// projects them into the domain: the fused descent's update. Whether every value
    /// is finite afterwards.
    pub(crate) fn add_and_project(&mut self, sums: &[T]) -> bool {
        let mut at = 0;
        let mut finite = true;
        for slot in self.slots.iter_mut().flatten() {
            for (v, s) in slot.iter_mut().zip(&sums[at..]) {
                *v += *s;
                finite &= v.is_finite();
            }
            at += slot.len();
        }
        self.project();
        finite
    }

    fn spec(&self, i: usize) -> ParamSpec {
        let name = self.names[i];
        let len = self.slots[i].as_ref().map_or(0, Vec::len);
        ParamSpec::vector(tensor_name(name), len, ParamKind::Other)
    }

    /// Visits the learned tensors, `activation.beta` then `activation.gamma`.
    pub(crate) fn visit(&self, f: &mut dyn FnMut(ParamSpec, &[T])) {
        for (i, slot) in self.slots.iter().enumerate() {
            if let Some(v) = slot {
                f(self.spec(i), v);
            }
        }
    }

    /// Visits the learned tensors, mutably.
    pub(crate) fn visit_mut(&mut self, f: &mut dyn FnMut(ParamSpec, &mut [T])) {
        for i in 0..self.slots.len() {
            let spec = self.spec(i);
            if let Some(v) = &mut self.slots[i] {
                f(spec, v);
            }
        }
        self.refresh();
    }

    /// Moves every value that left its domain to the nearest point of it.
    pub(crate) fn project(&mut self) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            for v in slot.iter_mut().flatten() {
                *v = self.base.project_param(i, *v);
            }
        }
        self.refresh();
    }

    /// Checks that every neuron's values are finite and in the function's domain.
    pub(crate) fn validate(&self, n: usize) -> Result<(), CoreError> {
        let neurons = if self.sharing == Sharing::Shared {
            1
        } else {
            n
        };
        for j in 0..neurons {
            self.check(j).map_err(|e| {
                CoreError::Architecture(format!("learned activation parameter of neuron {j}: {e}"))
            })?;
        }
        Ok(())
    }

    /// `{"params": ["beta", …], "sharing": "shared" | "per_neuron"}` for model files.
    pub(crate) fn settings(&self) -> Value {
        let names: Vec<&str> = self
            .slots
            .iter()
            .zip(self.names)
            .filter(|(s, _)| s.is_some())
            .map(|(_, p)| p)
            .collect();
        let sharing = match self.sharing {
            Sharing::Shared => "shared",
            Sharing::PerNeuron => "per_neuron",
        };
        json!({ "params": names, "sharing": sharing })
    }
}
