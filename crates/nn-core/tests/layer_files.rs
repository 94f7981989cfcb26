//! Model files of format version 2 with layers of any kind: a user's layer round-trips
//! through a `LayerResolver`, an unknown kind, a disagreeing resolver, a stolen built-in
//! name and a stray tensor are clear errors, and version-1 files still load.

use std::collections::HashMap;

use nn_activations::Relu;
use nn_core::{CoreError, Dense, Layer, LayerRecord, ModelFileError, Network};
use nn_math::Matrix;
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};

use crate::layer_gradients::Shift;

/// A network with a user's layer between two dense ones.
fn mixed() -> Network<f64> {
    let first = Dense::new(
        Matrix::from_fn(3, 2, |i, j| (i + 3 * j) as f64 / 7.0),
        nn_math::Vector::from_vec(vec![0.1, 0.2, 0.3]),
        Relu,
    )
    .unwrap();
    let last = Dense::new(
        Matrix::from_fn(1, 3, |_, j| j as f64 - 1.0),
        nn_math::Vector::zeros(1),
        nn_activations::Identity,
    )
    .unwrap();
    let layers: Vec<Box<dyn Layer<f64>>> = vec![
        Box::new(first),
        Box::new(Shift {
            beta: vec![0.5, -0.25, 0.125],
            wrong: false,
        }),
        Box::new(last),
    ];
    Network::from_any_layers(2, layers).unwrap()
}

fn shift_resolver(r: &LayerRecord<'_>) -> Option<Result<Box<dyn Layer<f64>>, CoreError>> {
    (r.kind == "shift").then(|| {
        Ok(Box::new(Shift {
            beta: vec![0.0; r.n_outputs],
            wrong: false,
        }) as Box<dyn Layer<f64>>)
    })
}

#[test]
fn a_users_layer_round_trips_with_a_resolver_and_is_named_without_one() {
    let net = mixed();
    let bytes = net.to_safetensors().unwrap();
    let back = Network::from_safetensors_resolving(&bytes, &|_, _| None, &shift_resolver).unwrap();
    assert_eq!(back, net);
    let x = Matrix::from_fn(2, 3, |i, j| (i + j) as f64);
    assert_eq!(back.evaluate(&x).unwrap(), net.evaluate(&x).unwrap());
    // The tensors carry generic names; the dense ones PyTorch's layout.
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<&str> = file.names();
    names.sort();
    assert_eq!(
        names,
        [
            "layers.0.bias",
            "layers.0.weight",
            "layers.1.beta",
            "layers.2.bias",
            "layers.2.weight"
        ]
    );
    assert_eq!(file.tensor("layers.0.weight").unwrap().shape(), &[3, 2]);

    let err = Network::<f64>::from_safetensors(&bytes).unwrap_err();
    assert!(
        matches!(&err, CoreError::ModelFile(ModelFileError::UnknownLayer { index: 1, kind }) if kind == "shift"),
        "{err}"
    );
    assert!(
        err.to_string().contains("layer 1 is of kind \"shift\""),
        "{err}"
    );
}

#[test]
fn a_resolver_that_disagrees_with_the_file_is_an_error() {
    let bytes = mixed().to_safetensors().unwrap();
    let wrong_size = |_: &LayerRecord<'_>| {
        Some(Ok(Box::new(Shift {
            beta: vec![0.0; 5],
            wrong: false,
        }) as Box<dyn Layer<f64>>))
    };
    let err = Network::from_safetensors_resolving(&bytes, &|_, _| None, &wrong_size).unwrap_err();
    assert!(
        err.to_string()
            .contains("the file says 3 inputs and 3 outputs"),
        "{err}"
    );
    let refusing = |_: &LayerRecord<'_>| Some(Err(CoreError::Architecture("no thanks".into())));
    let err =
        Network::<f64>::from_safetensors_resolving(&bytes, &|_, _| None, &refusing).unwrap_err();
    assert!(err.to_string().contains("no thanks"), "{err}");
}

#[test]
fn a_users_layer_may_not_take_the_built_in_name() {
    #[derive(Clone, Debug)]
    struct Impostor(Shift);
    impl Layer<f64> for Impostor {
        fn kind(&self) -> &str {
            "dense"
        }
        fn n_inputs(&self) -> usize {
            self.0.n_inputs()
        }
        fn n_outputs(&self) -> usize {
            self.0.n_outputs()
        }
        fn forward(
            &self,
            x: nn_math::MatrixView<'_, f64>,
            a: nn_math::MatrixViewMut<'_, f64>,
            s: &mut [f64],
        ) -> Result<(), CoreError> {
            self.0.forward(x, a, s)
        }
        fn backward(
            &self,
            saved: nn_core::Saved<'_, f64>,
            d: nn_math::MatrixViewMut<'_, f64>,
            scale: f64,
            g: &mut [Matrix<f64>],
            d_in: Option<nn_math::MatrixViewMut<'_, f64>>,
        ) -> Result<(), CoreError> {
            self.0.backward(saved, d, scale, g, d_in)
        }
        fn visit_params(&self, f: &mut dyn FnMut(nn_core::ParamSpec, &[f64])) {
            self.0.visit_params(f)
        }
        fn visit_params_mut(&mut self, f: &mut dyn FnMut(nn_core::ParamSpec, &mut [f64])) {
            self.0.visit_params_mut(f)
        }
    }
    let layers: Vec<Box<dyn Layer<f64>>> = vec![Box::new(Impostor(Shift {
        beta: vec![0.0; 2],
        wrong: false,
    }))];
    let net = Network::from_any_layers(2, layers).unwrap();
    let err = net.to_safetensors().unwrap_err();
    assert!(
        matches!(err, CoreError::ModelFile(ModelFileError::Unsavable(_))),
        "{err}"
    );
}

#[test]
fn a_tensor_the_layer_does_not_have_is_an_error() {
    let net = mixed();
    let bytes = net.to_safetensors().unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let mut tensors: Vec<(String, TensorView<'_>)> = file.tensors();
    let extra = [0u8; 24];
    tensors.push((
        "layers.1.gamma".into(),
        TensorView::new(Dtype::F64, vec![3], &extra).unwrap(),
    ));
    let bytes = safetensors::serialize(tensors, header.metadata().clone()).unwrap();
    let err =
        Network::from_safetensors_resolving(&bytes, &|_, _| None, &shift_resolver).unwrap_err();
    assert!(
        err.to_string()
            .contains("tensor layers.1.gamma is not a parameter of layer 1 (shift)"),
        "{err}"
    );
}

#[test]
fn version_1_files_still_load() {
    // A file as version 1 wrote it: dense layers, settings inline, no kinds.
    let w: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let b: Vec<u8> = [0.5f32, -0.5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let meta: HashMap<String, String> = [
        ("format", "nn"),
        ("format_version", "1"),
        ("scalar", "F32"),
        ("n_inputs", "3"),
        (
            "layers",
            r#"[{"width": 2, "activation": {"name": "relu", "params": {}}}]"#,
        ),
    ]
    .iter()
    .map(|(k, v)| ((*k).into(), (*v).into()))
    .collect();
    let bytes = safetensors::serialize(
        [
            (
                "layers.0.weight",
                TensorView::new(Dtype::F32, vec![2, 3], &w).unwrap(),
            ),
            (
                "layers.0.bias",
                TensorView::new(Dtype::F32, vec![2], &b).unwrap(),
            ),
        ],
        Some(meta),
    )
    .unwrap();
    let net = Network::<f32>::from_safetensors(&bytes).unwrap();
    let dense = net.dense(0).unwrap();
    assert_eq!(
        dense.weight(),
        Matrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    );
    assert_eq!(dense.bias().as_slice(), &[0.5, -0.5]);
    assert_eq!(
        dense.activation(),
        &nn_core::LayerActivation::Shared(Relu.into())
    );
    // Written again, it is a version-2 file that reads back the same.
    let again = net.to_safetensors().unwrap();
    let (_, header) = SafeTensors::read_metadata(&again).unwrap();
    assert_eq!(header.metadata().as_ref().unwrap()["format_version"], "2");
    assert_eq!(Network::<f32>::from_safetensors(&again).unwrap(), net);
}
