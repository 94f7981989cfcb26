//! Checkpoints (a network with a trainer's state) and PyTorch state dicts.

use nn_activations::{Identity, Relu};
use nn_core::{Network, Precision, SoftmaxCrossEntropy, TorchNames};
use nn_math::Matrix;
use nn_train::{Adam, Dataset, Trainer, TrainerConfig, one_hot};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::model_files::{every_hostile_header, networks, with_non_finite, with_number};
use crate::{HOSTILE_NUMBERS, config, mutated, within_budget};

fn trainer() -> Trainer<f32> {
    Trainer::new(TrainerConfig {
        epochs: 1,
        batch_size: 4,
        loss: Box::new(SoftmaxCrossEntropy),
        optimizer: Box::new(Adam::default()),
        ..TrainerConfig::default()
    })
    .unwrap()
}

fn checkpoint() -> Vec<u8> {
    let mut net = Network::<f32>::builder(3)
        .layer(4, Relu)
        .layer(2, Identity)
        .build(&mut StdRng::seed_from_u64(2))
        .unwrap();
    let x = Matrix::from_fn(3, 8, |i, j| ((i + j) % 3) as f32);
    let labels: Vec<usize> = (0..8).map(|j| j % 2).collect();
    let data = Dataset::new(x, one_hot(&labels, 2).unwrap()).unwrap();
    let mut t = trainer();
    t.fit(&mut net, &data, None).unwrap();
    t.checkpoint_bytes(&net).unwrap()
}

/// Resumes from `bytes`: an error, or finite weights and optimizer state.
fn check_checkpoint(bytes: &[u8]) {
    within_budget("Trainer::resume_from_bytes", bytes, || {
        let mut t = trainer();
        if let Ok(net) = t.resume_from_bytes(bytes) {
            assert!(net.params_finite());
            assert!(t.epochs_done() <= u32::MAX as usize);
            let state = t.optimizer_state();
            assert!(
                state
                    .params
                    .iter()
                    .all(|p| p.buffers.iter().flatten().all(|v| v.is_finite()))
            );
        }
    });
}

fn state_dicts() -> Vec<Vec<u8>> {
    let names = TorchNames::Prefixes(vec!["fc".into(), "head".into()]);
    let mut all = vec![
        networks::<f32>()[0]
            .to_torch_state_dict(&TorchNames::Prefixes(vec!["0".into(), "1".into()]))
            .unwrap(),
    ];
    all.push(
        networks::<f32>()[1]
            .to_torch_state_dict(&TorchNames::Sequential)
            .unwrap(),
    );
    let plain = Network::<f32>::builder(3)
        .layer(4, Relu)
        .layer(2, Identity)
        .build(&mut StdRng::seed_from_u64(3))
        .unwrap();
    all.push(plain.to_torch_state_dict(&names).unwrap());
    all
}

/// Loads `bytes` into each seed's architecture under every naming: an error (leaving
/// the network as it was), or finite parameters.
fn check_state_dict(bytes: &[u8]) {
    within_budget("load_torch_state_dict", bytes, || {
        for (k, mut net) in networks::<f32>().into_iter().enumerate() {
            let before = net.clone();
            let names = match k {
                0 => TorchNames::Prefixes(vec!["0".into(), "1".into()]),
                _ => TorchNames::Sequential,
            };
            for precision in [Precision::Exact, Precision::Convert] {
                match net.load_torch_state_dict(bytes, &names, precision) {
                    Ok(()) => assert!(net.params_finite()),
                    Err(_) => assert_eq!(net, before, "a failed load changed the network"),
                }
            }
        }
    });
}

#[test]
fn every_truncation_of_a_checkpoint_or_state_dict_is_an_error() {
    let seed = checkpoint();
    for len in 0..seed.len() {
        check_checkpoint(&seed[..len]);
        assert!(trainer().resume_from_bytes(&seed[..len]).is_err());
    }
    for seed in state_dicts() {
        for len in 0..seed.len() {
            check_state_dict(&seed[..len]);
        }
    }
}

#[test]
fn every_header_number_of_a_checkpoint_or_state_dict_made_hostile_is_handled() {
    for bytes in every_hostile_header(&checkpoint()) {
        check_checkpoint(&bytes);
    }
    for seed in state_dicts() {
        for bytes in every_hostile_header(&seed) {
            check_state_dict(&bytes);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_checkpoints_are_errors_or_finite(bytes in mutated(checkpoint())) {
        check_checkpoint(&bytes);
    }

    #[test]
    fn non_finite_values_in_a_checkpoint_are_refused(
        which in any::<u8>(),
        at in any::<prop::sample::Index>(),
    ) {
        check_checkpoint(&with_non_finite(&checkpoint(), at, which, 4));
    }

    #[test]
    fn mutated_state_dicts_are_errors_or_finite(
        bytes in prop::sample::select(state_dicts()).prop_flat_map(mutated),
        pick in any::<prop::sample::Index>(),
        number in prop::sample::select(HOSTILE_NUMBERS.to_vec()),
        which in any::<u8>(),
    ) {
        check_state_dict(&bytes);
        let seed = &state_dicts()[pick.index(3)];
        check_state_dict(&with_number(seed, pick, number));
        check_state_dict(&with_non_finite(seed, pick, which, 4));
    }
}
