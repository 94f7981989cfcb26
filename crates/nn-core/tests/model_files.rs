//! Model files: bit-exact round trips, and clear errors (never panics) for truncated,
//! foreign, corrupt or unsupported files, including random and mutated bytes.

use std::collections::HashMap;

use nn_activations::{Relu, from_fn};
use nn_core::{CoreError, Dense, ModelFileError, Network, NeuronActivation};
use nn_math::{Matrix, Vector};
use proptest::prelude::*;
use safetensors::tensor::{Dtype, TensorView};

use crate::common::network;

fn sample_bytes() -> Vec<u8> {
    let w = Matrix::from_row_slice(2, 3, &[1.0, -2.0, 3.5, 0.25, 5.0, -6.0]);
    let layer = Dense::new(w, Vector::from_vec(vec![0.5, -0.5]), Relu).unwrap();
    Network::<f32>::from_layers(3, vec![layer])
        .unwrap()
        .to_safetensors()
        .unwrap()
}

/// A safetensors file with the given metadata and one tensor, as another program would
/// write it.
fn safetensors_with(metadata: &[(&str, &str)]) -> Vec<u8> {
    let data = [0u8; 8];
    let view = TensorView::new(Dtype::F32, vec![2], &data).unwrap();
    let meta: HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    safetensors::serialize([("x", view)], Some(meta)).unwrap()
}

proptest! {
    #[test]
    fn round_trip_is_bit_exact_f64(net in network()) {
        let back = Network::<f64>::from_safetensors(&net.to_safetensors().unwrap()).unwrap();
        prop_assert_eq!(&back, &net);
        for (a, b) in back.dense_layers().unwrap().iter().zip(net.dense_layers().unwrap()) {
            for (x, y) in a.weight().iter().chain(a.bias().iter()).zip(b.weight().iter().chain(b.bias().iter())) {
                prop_assert_eq!(x.to_bits(), y.to_bits());
            }
        }
    }

    #[test]
    fn round_trip_is_bit_exact_f32(net in network()) {
        let layers: Vec<Dense<f32>> = net.dense_layers().unwrap().iter().map(|l| {
            let act = nn_core::LayerActivation::<f32>::Shared(Relu.into());
            Dense::new(l.weight().map(|x| x as f32), l.bias().map(|x| x as f32), act).unwrap()
        }).collect();
        let net32 = Network::from_layers(net.n_inputs(), layers).unwrap();
        let back = Network::<f32>::from_safetensors(&net32.to_safetensors().unwrap()).unwrap();
        prop_assert_eq!(back, net32);
    }

    #[test]
    fn random_bytes_are_an_error_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        prop_assert!(Network::<f32>::from_safetensors(&bytes).is_err());
    }

    #[test]
    fn mutated_files_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let mut bytes = sample_bytes();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        // Whatever the edits did, loading returns (Ok or Err) and never panics.
        let _outcome = Network::<f32>::from_safetensors(&bytes);
        let truncated = &bytes[..cut.index(bytes.len())];
        prop_assert!(Network::<f32>::from_safetensors(truncated).is_err());
    }
}

#[test]
fn truncated_file_is_malformed() {
    let bytes = sample_bytes();
    for cut in [0, 4, 8, 20, bytes.len() - 1] {
        let err = Network::<f32>::from_safetensors(&bytes[..cut]).unwrap_err();
        assert!(
            matches!(err, CoreError::ModelFile(ModelFileError::Malformed(_))),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn foreign_and_unsupported_files_are_named_as_such() {
    let err = Network::<f32>::from_safetensors(&safetensors_with(&[])).unwrap_err();
    assert!(
        matches!(err, CoreError::ModelFile(ModelFileError::Foreign(_))),
        "{err}"
    );
    let err = Network::<f32>::from_safetensors(&safetensors_with(&[("format", "pt")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "model file: not an nn model file: format is \"pt\", not \"nn\""
    );
    let err = Network::<f32>::from_safetensors(&safetensors_with(&[
        ("format", "nn"),
        ("format_version", "99"),
    ]))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "model file: format version 99 is not supported (this library reads versions 1 to 2)"
    );
    let err = Network::<f64>::from_safetensors(&sample_bytes()).unwrap_err();
    assert!(
        matches!(err, CoreError::ModelFile(ModelFileError::DType { .. })),
        "{err}"
    );
}

#[test]
fn corrupt_architecture_and_unknown_activations_are_errors() {
    let base = [
        ("format", "nn"),
        ("format_version", "1"),
        ("scalar", "F32"),
        ("n_inputs", "2"),
    ];
    let with_layers = |layers: &str| {
        let mut m = base.to_vec();
        m.push(("layers", layers));
        safetensors_with(&m)
    };
    let err = Network::<f32>::from_safetensors(&with_layers("not json")).unwrap_err();
    assert!(
        err.to_string().contains("layers is missing or not JSON"),
        "{err}"
    );
    let err = Network::<f32>::from_safetensors(&with_layers(
        r#"[{"width": 2, "activation": {"name": "gelu"}}]"#,
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("layer 0: unknown activation \"gelu\""),
        "{err}"
    );
    let err = Network::<f32>::from_safetensors(&with_layers(
        r#"[{"width": 2, "activation": {"name": "elu", "params": {"beta": -1}}}]"#,
    ))
    .unwrap_err();
    assert!(
        matches!(err, CoreError::ModelFile(ModelFileError::Corrupt(_))),
        "{err}"
    );
    assert!(err.to_string().contains("layer 0: elu: beta = -1"), "{err}");
    let err = Network::<f32>::from_safetensors(&with_layers(
        r#"[{"width": 2, "activation": {"name": "relu"}}]"#,
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("tensor layers.0.weight is missing"),
        "{err}"
    );
}

#[test]
fn custom_activations_load_through_a_resolver() {
    let cube =
        || NeuronActivation::custom(from_fn("cube", |x: f64| x * x * x, |x: f64| 3.0 * x * x));
    let layer = Dense::new(Matrix::from_element(1, 2, 0.5), Vector::zeros(1), cube()).unwrap();
    let net = Network::from_layers(2, vec![layer]).unwrap();
    let bytes = net.to_safetensors().unwrap();
    assert!(Network::<f64>::from_safetensors(&bytes).is_err());
    let back =
        Network::from_safetensors_with(&bytes, &|name, _| (name == "cube").then(cube)).unwrap();
    assert_eq!(back, net);

    // A custom activation may not take a built-in's name: the file would lie.
    let fake_relu = NeuronActivation::custom(from_fn("relu", |x: f64| x, |_| 1.0));
    let layer = Dense::new(Matrix::from_element(1, 2, 0.5), Vector::zeros(1), fake_relu).unwrap();
    assert!(
        Network::from_layers(2, vec![layer])
            .unwrap()
            .to_safetensors()
            .is_err()
    );
}

#[test]
fn save_and_load_through_the_file_system() {
    let dir = std::env::temp_dir().join(format!("nn-core-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    let net = Network::<f32>::from_safetensors(&sample_bytes()).unwrap();
    net.save(&path).unwrap();
    assert_eq!(Network::<f32>::load(&path).unwrap(), net);
    let err = Network::<f32>::load(dir.join("missing.safetensors")).unwrap_err();
    assert!(err.to_string().contains("missing.safetensors"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
