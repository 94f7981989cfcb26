//! Model files with convolution and pooling layers: saved and loaded back exactly, the
//! kernel stored as PyTorch's `out × in × kh × kw`, and bad files refused.

use nn_activations::{Identity, Relu, Tanh};
use nn_core::{Conv, Network};
use nn_math::Matrix;
use rand::{SeedableRng, rngs::StdRng};
use safetensors::SafeTensors;

fn small_cnn() -> Network<f32> {
    Network::<f32>::builder(2 * 6 * 6)
        .image(2, 6, 6)
        .conv(
            Conv::new(3, 3).padding(1),
            vec![Relu.into(), Tanh.into(), Relu.into()],
        )
        .max_pool(2)
        .conv(Conv::rect(4, 2, 1).stride(2), Tanh)
        .avg_pool(1)
        .layer(5, Relu)
        .layer(2, Identity)
        .build(&mut StdRng::seed_from_u64(3))
        .unwrap()
}

#[test]
fn a_convolutional_network_round_trips_with_pytorch_shapes() {
    let net = small_cnn();
    let bytes = net.to_safetensors().unwrap();
    let back = Network::<f32>::from_safetensors(&bytes).unwrap();
    assert_eq!(back, net);
    let x = Matrix::from_fn(72, 3, |i, j| ((i * 3 + j) as f32 * 0.37).sin());
    assert_eq!(back.evaluate(&x).unwrap(), net.evaluate(&x).unwrap());

    // PyTorch's layout: weight out × in × kh × kw, row-major; bias a vector.
    let file = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(
        file.tensor("layers.0.weight").unwrap().shape(),
        &[3, 2, 3, 3]
    );
    assert_eq!(file.tensor("layers.0.bias").unwrap().shape(), &[3]);
    assert_eq!(
        file.tensor("layers.2.weight").unwrap().shape(),
        &[4, 3, 2, 1]
    );
    let stored: Vec<f32> = file
        .tensor("layers.0.weight")
        .unwrap()
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let conv = net.layer(0).unwrap();
    let mut weight = Vec::new();
    conv.visit_params(&mut |spec, v| {
        if spec.name == "weight" {
            weight = v.to_vec()
        }
    });
    // Entry [o, c, i, j] of the file is filter o's value at channel c, offset (i, j):
    // column (c·3 + i)·3 + j of row o of the column-major 3 × 18 matrix.
    let (o, c, i, j) = (2, 1, 0, 2);
    assert_eq!(
        stored[((o * 2 + c) * 3 + i) * 3 + j],
        weight[o + 3 * ((c * 3 + i) * 3 + j)]
    );
}

#[test]
fn bad_convolution_files_are_errors_naming_the_layer() {
    let net = small_cnn();
    let bytes = net.to_safetensors().unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let md0 = header.metadata().clone().unwrap();
    let layers = md0["layers"].clone();
    // Rewrite one setting of the layer list and rebuild the file around the same tensors.
    let with_layers = |layers: &str| {
        let mut md = md0.clone();
        md.insert("layers".into(), layers.into());
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> =
            file.tensors().into_iter().collect();
        let bytes = safetensors::serialize(views, Some(md)).unwrap();
        Network::<f32>::from_safetensors(&bytes)
            .unwrap_err()
            .to_string()
    };
    let e = with_layers(&layers.replacen("\"kernel\":[3,3]", "\"kernel\":[2,3]", 1));
    assert!(
        e.contains("layers.0.weight has shape [3, 2, 3, 3], the architecture says [3, 2, 2, 3]"),
        "{e}"
    );
    let e = with_layers(&layers.replacen("\"stride\":[1,1]", "\"stride\":[0,1]", 1));
    assert!(
        e.contains("layer 0 (conv2d)") && e.contains("stride 0×1"),
        "{e}"
    );
    let e = with_layers(&layers.replacen("\"kernel\":[3,3]", "\"kernel\":[3]", 1));
    assert!(
        e.contains("layer 0: setting \"kernel\" is missing or not a list of 2"),
        "{e}"
    );
    let e = with_layers(&layers.replacen("\"kernel\":[2,2]", "\"kernel\":[9,9]", 1));
    assert!(
        e.contains("layer 1 (max_pool2d)") && e.contains("9×9 window does not fit a 6×6"),
        "{e}"
    );
    let e = with_layers(&layers.replacen("\"input\":[2,6,6]", "\"input\":[2,6,5]", 1));
    assert!(
        e.contains("layer 0 (conv2d)") && e.contains("60 inputs"),
        "{e}"
    );
    let e = with_layers(&layers.replacen("\"input\":[2,6,6]", "\"input\":[2,65536,65536]", 1));
    assert!(
        e.contains("layer 0 (conv2d)") && e.contains("at most 268435456"),
        "{e}"
    );
}

/// Weights written by PyTorch (`tests/data/torch_cnn.py`: a `Sequential` of `Conv2d`,
/// `ReLU`, `MaxPool2d`, `Conv2d`, `Tanh`, `AvgPool2d`, `Flatten` and two `Linear`
/// layers, under this library's names) give PyTorch's outputs, stored beside them. The
/// other way: this library's file of the same network, with its own outputs, is written
/// to `target/torch-check.safetensors` for `python torch_cnn.py FILE` to check in
/// PyTorch (done when the data was made: largest difference below 1e-6).
#[test]
fn pytorch_weights_give_pytorch_outputs() {
    // N×C×H×W row-major is one C×H×W column per example.
    crate::common::gives_pytorch_outputs(
        include_bytes!("data/torch_cnn.safetensors"),
        "torch-check.safetensors",
    );
}
