//! Model files with Elman layers: saved and loaded back exactly under PyTorch's `nn.RNN`
//! names, PyTorch's own weights giving PyTorch's outputs, and bad files refused.

use nn_activations::{Identity, Tanh};
use nn_core::{Network, Steps};
use nn_math::Matrix;
use rand::{SeedableRng, rngs::StdRng};
use safetensors::SafeTensors;

#[test]
fn a_recurrent_network_round_trips_under_pytorch_names() {
    let net = Network::<f32>::builder(12)
        .sequence(4, 3)
        .elman(5, Tanh, Steps::All)
        .elman(2, Tanh, Steps::Last)
        .layer(3, Identity)
        .build(&mut StdRng::seed_from_u64(2))
        .unwrap();
    let bytes = net.to_safetensors().unwrap();
    let back = Network::<f32>::from_safetensors(&bytes).unwrap();
    assert_eq!(back, net);
    let file = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(
        file.tensor("layers.0.weight_ih_l0").unwrap().shape(),
        &[5, 3]
    );
    assert_eq!(
        file.tensor("layers.0.weight_hh_l0").unwrap().shape(),
        &[5, 5]
    );
    assert_eq!(
        file.tensor("layers.1.weight_ih_l0").unwrap().shape(),
        &[2, 5]
    );
    assert_eq!(file.tensor("layers.1.bias_hh_l0").unwrap().shape(), &[2]);

    // A file whose recurrent tensor has the wrong shape, or whose settings do not chain.
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let md0 = header.metadata().clone().unwrap();
    let with_layers = |layers: &str| {
        let mut md = md0.clone();
        md.insert("layers".into(), layers.into());
        let views: Vec<_> = file.tensors().into_iter().collect();
        let bytes = safetensors::serialize(views, Some(md)).unwrap();
        Network::<f32>::from_safetensors(&bytes)
            .unwrap_err()
            .to_string()
    };
    let layers = md0["layers"].clone();
    let e = with_layers(&layers.replacen("\"hidden\":[5]", "\"hidden\":[6]", 1));
    assert!(
        e.contains("layers.0.weight_ih_l0 has shape [5, 3], the architecture says [6, 3]"),
        "{e}"
    );
    let e = with_layers(&layers.replacen("\"steps\":[4]", "\"steps\":[2]", 1));
    assert!(
        e.contains("layer 0 (elman)") && e.contains("6 inputs"),
        "{e}"
    );
    let e = with_layers(&layers.replacen("\"output\":\"all\"", "\"output\":\"every\"", 1));
    assert!(e.contains("layer 0 (elman): output is neither"), "{e}");
}

/// Weights written by PyTorch (`tests/data/torch_rnn.py`: `nn.RNN` with tanh, or
/// `nn.LSTM`, and a `Linear` layer on the last state) give PyTorch's outputs; this
/// library's file of the same network is written to `target/torch-{cell}-check.safetensors`
/// for the script to check in PyTorch (done when the data was made: differences below
/// 1e-7).
fn pytorch_weights_give_pytorch_outputs(cell: &str, bytes: &[u8]) {
    // N×T×F row-major is one T·F column per example, steps one after another.
    crate::common::gives_pytorch_outputs(bytes, &format!("torch-{cell}-check.safetensors"));
}

#[test]
fn pytorch_rnn_weights_give_pytorch_outputs() {
    pytorch_weights_give_pytorch_outputs("rnn", include_bytes!("data/torch_rnn.safetensors"));
}

#[test]
fn pytorch_gru_weights_give_pytorch_outputs() {
    pytorch_weights_give_pytorch_outputs("gru", include_bytes!("data/torch_gru.safetensors"));
}

#[test]
fn pytorch_lstm_weights_give_pytorch_outputs() {
    pytorch_weights_give_pytorch_outputs("lstm", include_bytes!("data/torch_lstm.safetensors"));
}

#[test]
fn a_many_to_many_network_round_trips() {
    let net = Network::<f64>::builder(12)
        .sequence(4, 3)
        .elman(5, Tanh, Steps::All)
        .layer_per_step(2, Identity)
        .build(&mut StdRng::seed_from_u64(3))
        .unwrap();
    let bytes = net.to_safetensors().unwrap();
    let back = Network::<f64>::from_safetensors(&bytes).unwrap();
    assert_eq!(back, net);
    let x = Matrix::from_fn(12, 2, |i, j| (i as f64 - j as f64) / 5.0);
    assert_eq!(back.evaluate(&x).unwrap(), net.evaluate(&x).unwrap());
}
