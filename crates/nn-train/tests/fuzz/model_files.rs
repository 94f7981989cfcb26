//! Model files (safetensors with the architecture in the metadata) of every built-in
//! layer kind, and `Model` files with their input scaling; also the shared strategies
//! for safetensors bytes.

use nn_activations::{Identity, PRelu, Relu, Tanh};
use nn_core::{Conv, Network, Sharing, Steps};
use nn_math::{Matrix, Real};
use nn_train::{Model, Scaling};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::{HOSTILE_NUMBERS, config, mutated, within_budget};

/// Small valid networks of every built-in kind.
pub fn networks<T: Real>() -> Vec<Network<T>> {
    let rng = &mut StdRng::seed_from_u64(1);
    vec![
        Network::builder(3)
            .layer(4, PRelu::default())
            .learn(&["beta"], Sharing::PerNeuron)
            .layer(2, Identity)
            .build(rng)
            .unwrap(),
        Network::builder(2 * 4 * 4)
            .image(2, 4, 4)
            .conv(Conv::new(2, 3).padding(1), Relu)
            .max_pool(2)
            .avg_pool(2)
            .layer(2, Identity)
            .build(rng)
            .unwrap(),
        Network::builder(3 * 2)
            .sequence(3, 2)
            .lstm(2, Steps::All)
            .gru(2, Steps::All)
            .elman(2, Tanh, Steps::All)
            .layer_per_step(1, Identity)
            .build(rng)
            .unwrap(),
    ]
}

/// The header's length and JSON text of safetensors bytes, if it has them.
fn header(bytes: &[u8]) -> Option<(usize, &str)> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    Some((
        n,
        std::str::from_utf8(bytes.get(8..8usize.checked_add(n)?)?).ok()?,
    ))
}

/// The byte ranges of the runs of digits in the header of safetensors `bytes`: shapes,
/// offsets, sizes in the architecture and counters in the metadata.
fn number_runs(bytes: &[u8]) -> Vec<(usize, usize)> {
    let Some((_, text)) = header(bytes) else {
        return Vec::new();
    };
    let mut runs = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (c.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    runs
}

/// `bytes` with the `run`-th run of digits of its header replaced by `number`, the
/// header length fixed; `bytes` unchanged if there is no such run.
fn with_number_at(bytes: &[u8], run: usize, number: &str) -> Vec<u8> {
    let (Some((n, text)), Some(&(s, e))) = (header(bytes), number_runs(bytes).get(run)) else {
        return bytes.to_vec();
    };
    let text = format!("{}{number}{}", &text[..s], &text[e..]);
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

/// Replaces the `pick`-th run of digits in the header of `bytes` by `number` (see
/// [`number_runs`]).
pub fn with_number(bytes: &[u8], pick: prop::sample::Index, number: &str) -> Vec<u8> {
    let runs = number_runs(bytes).len();
    if runs == 0 {
        return bytes.to_vec();
    }
    with_number_at(bytes, pick.index(runs), number)
}

/// Every number of the header of `seed` replaced, one at a time, by every one of
/// [`HOSTILE_NUMBERS`]: an exhaustive sweep, the same on every run.
pub fn every_hostile_header(seed: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..number_runs(seed).len()).flat_map(move |run| {
        HOSTILE_NUMBERS
            .iter()
            .map(move |number| with_number_at(seed, run, number))
    })
}

/// Writes a non-finite value over the `pick`-th scalar of the data section (all tensors
/// of the seeds have the scalar size `size`).
pub fn with_non_finite(bytes: &[u8], pick: prop::sample::Index, which: u8, size: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let Some((n, _)) = header(bytes) else {
        return out;
    };
    let data = 8 + n;
    let count = (out.len() - data) / size;
    if count == 0 {
        return out;
    }
    let at = data + pick.index(count) * size;
    let value = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300][usize::from(which % 4)];
    if size == 4 {
        out[at..at + 4].copy_from_slice(&(value as f32).to_le_bytes());
    } else {
        out[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }
    out
}

/// Loads `bytes` as a network and as a model of `T`: an error, or finite parameters.
fn check<T: Real>(bytes: &[u8]) {
    within_budget("Network::from_safetensors", bytes, || {
        if let Ok(net) = Network::<T>::from_safetensors(bytes) {
            assert!(net.params_finite(), "a non-finite parameter was accepted");
        }
    });
    within_budget("Model::from_bytes", bytes, || {
        if let Ok(model) = Model::<T>::from_bytes(bytes) {
            assert!(model.network.params_finite());
            if let Some(s) = &model.scaling {
                let mut ones = Matrix::from_element(s.n_features(), 1, T::one());
                s.apply(&mut ones).unwrap();
                assert!(ones.iter().all(|v| v.is_finite()), "a non-finite scaling");
            }
        }
    });
}

fn seeds<T: Real>() -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = networks::<T>()
        .iter()
        .map(|n| n.to_safetensors().unwrap())
        .collect();
    let net = networks::<T>().swap_remove(0);
    let raw = Matrix::from_fn(3, 4, |i, j| T::lit((i * 4 + j) as f64));
    let scaling = Scaling::standardize(&raw).unwrap();
    let model = Model {
        network: net,
        scaling: Some(scaling),
    };
    all.push(model.to_bytes().unwrap());
    all
}

#[test]
fn every_truncation_of_a_model_file_is_an_error() {
    for seed in seeds::<f32>() {
        for len in 0..seed.len() {
            check::<f32>(&seed[..len]);
            assert!(Network::<f32>::from_safetensors(&seed[..len]).is_err());
        }
    }
}

#[test]
fn every_header_number_made_hostile_gives_an_error_or_finite_values() {
    for seed in seeds::<f64>().iter().chain(&seeds::<f32>()) {
        for bytes in every_hostile_header(seed) {
            check::<f64>(&bytes);
            check::<f32>(&bytes);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_model_files_are_errors_or_finite(
        bytes in prop::sample::select(seeds::<f32>()).prop_flat_map(mutated)
    ) {
        check::<f32>(&bytes);
    }

    #[test]
    fn non_finite_values_in_a_model_file_are_refused(
        seed in prop::sample::select(seeds::<f32>()),
        pick in any::<prop::sample::Index>(),
        which in any::<u8>(),
    ) {
        let bytes = with_non_finite(&seed, pick, which, 4);
        check::<f32>(&bytes);
    }
}
