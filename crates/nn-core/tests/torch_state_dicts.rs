//! PyTorch state dicts, written by PyTorch itself (`data/torch_state_dict.py`, bytes
//! checked in), loaded with no hand-written metadata, and written back for PyTorch.

use nn_activations::{Identity, Relu, Tanh};
use nn_core::{Conv, CoreError, ModelFileError, Network, Precision, TorchNames};
use nn_math::{Matrix, Real};
use rand::SeedableRng;
use rand::rngs::StdRng;
use safetensors::SafeTensors;

const MLP: &[u8] = include_bytes!("data/torch_mlp_state_dict.safetensors");
const CNN: &[u8] = include_bytes!("data/torch_cnn_state_dict.safetensors");
const IO: &[u8] = include_bytes!("data/torch_state_dict_io.safetensors");

/// The architecture of the PyTorch MLP, built in Rust (dropout is not a layer here).
fn mlp<T: Real>(seed: u64) -> Network<T> {
    Network::builder(6)
        .layer(8, Relu)
        .layer(5, Tanh)
        .layer(3, Identity)
        .build(&mut StdRng::seed_from_u64(seed))
        .unwrap()
}

fn cnn(seed: u64) -> Network<f32> {
    Network::builder(36)
        .image(1, 6, 6)
        .conv(Conv::new(2, 3).padding(1), Relu)
        .max_pool(2)
        .layer(4, Identity)
        .build(&mut StdRng::seed_from_u64(seed))
        .unwrap()
}

/// A tensor of the io file as an `n × batch` matrix (PyTorch's rows are examples).
fn io(name: &str, n: usize) -> Matrix<f32> {
    let file = SafeTensors::deserialize(IO).unwrap();
    let t = file.tensor(name).unwrap();
    let values: Vec<f32> = t
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Matrix::from_vec(n, values.len() / n, values)
}

/// Each tensor of a safetensors file: name, shape, bytes.
fn tensors(bytes: &[u8]) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    let file = SafeTensors::deserialize(bytes).unwrap();
    let mut out: Vec<_> = file
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, t.shape().to_vec(), t.data().to_vec()))
        .collect();
    out.sort();
    out
}

#[test]
fn a_pytorch_sequential_loads_and_gives_pytorch_outputs_and_goes_back_bit_for_bit() {
    let mut net = mlp::<f32>(1);
    net.load_torch_state_dict(MLP, &TorchNames::Sequential, Precision::Exact)
        .unwrap();
    let (x, y) = (io("mlp.x", 6), io("mlp.y", 3));
    let out = net.evaluate(&x).unwrap();
    assert!((&out - &y).amax() < 1e-6, "ours {out} PyTorch {y}");

    // Back: the plain Sequential's indices (0, 2, 4: no Dropout module), the same bytes.
    let back = net.to_torch_state_dict(&TorchNames::Sequential).unwrap();
    let renamed: Vec<_> = tensors(MLP)
        .into_iter()
        .map(|(n, s, b)| (n.replace("3.", "2.").replace("5.", "4."), s, b))
        .collect();
    let mut renamed = renamed;
    renamed.sort();
    assert_eq!(tensors(&back), renamed);
    // Under the original module names, the very tensors PyTorch wrote.
    let same = ["0", "3", "5"].map(String::from).to_vec();
    let back = net
        .to_torch_state_dict(&TorchNames::Prefixes(same))
        .unwrap();
    assert_eq!(tensors(&back), tensors(MLP));
    let cnn_back = {
        let mut c = cnn(2);
        c.load_torch_state_dict(CNN, &TorchNames::Sequential, Precision::Exact)
            .unwrap();
        c.to_torch_state_dict(&TorchNames::Sequential).unwrap()
    };
    assert_eq!(tensors(&cnn_back), tensors(CNN));
    // For `python torch_state_dict.py MLP CNN` to check in PyTorch.
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    if target.is_dir() {
        let plain = net.to_torch_state_dict(&TorchNames::Sequential).unwrap();
        std::fs::write(target.join("torch-mlp-back.safetensors"), plain).unwrap();
        std::fs::write(target.join("torch-cnn-back.safetensors"), cnn_back).unwrap();
    }
}

#[test]
fn a_pytorch_convolutional_sequential_loads_across_its_flatten_and_pooling() {
    let mut net = cnn(3);
    net.load_torch_state_dict(CNN, &TorchNames::Sequential, Precision::Exact)
        .unwrap();
    let (x, y) = (io("cnn.x", 36), io("cnn.y", 4));
    let out = net.evaluate(&x).unwrap();
    assert!((&out - &y).amax() < 1e-6, "ours {out} PyTorch {y}");
}

#[test]
fn f32_tensors_load_into_f64_only_when_asked() {
    let mut net = mlp::<f64>(1);
    let err = net
        .load_torch_state_dict(MLP, &TorchNames::Sequential, Precision::Exact)
        .unwrap_err();
    assert!(
        matches!(err, CoreError::ModelFile(ModelFileError::DType { .. })),
        "{err}"
    );
    net.load_torch_state_dict(MLP, &TorchNames::Sequential, Precision::Convert)
        .unwrap();
    let out = net.evaluate(&io("mlp.x", 6).map(f64::from)).unwrap();
    let y = io("mlp.y", 3).map(f64::from);
    assert!((&out - &y).amax() < 1e-6);
    // And back to f32 exactly: every value came from an f32.
    let back = net.to_torch_state_dict(&TorchNames::Sequential).unwrap();
    let mut net32 = mlp::<f32>(9);
    net32
        .load_torch_state_dict(&back, &TorchNames::Sequential, Precision::Convert)
        .unwrap();
    let mut direct = mlp::<f32>(9);
    direct
        .load_torch_state_dict(MLP, &TorchNames::Sequential, Precision::Exact)
        .unwrap();
    assert_eq!(net32, direct);
}

/// `MLP` with its tensors changed by `edit` (name, shape, f32 values).
fn edited(edit: impl Fn(&mut Vec<(String, Vec<usize>, Vec<f32>)>)) -> Vec<u8> {
    let mut ts: Vec<(String, Vec<usize>, Vec<f32>)> = tensors(MLP)
        .into_iter()
        .map(|(n, s, b)| {
            let v = b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (n, s, v)
        })
        .collect();
    edit(&mut ts);
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = ts
        .into_iter()
        .map(|(n, s, v)| (n, s, v.iter().flat_map(|x| x.to_le_bytes()).collect()))
        .collect();
    let views: Vec<_> = bytes
        .iter()
        .map(|(n, s, b)| {
            let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b);
            (n.clone(), view.unwrap())
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

#[test]
fn a_missing_extra_or_misshapen_tensor_is_named_and_the_network_is_unchanged() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            edited(|ts| ts.retain(|(n, _, _)| n != "3.bias")),
            "missing [\"3.bias\"]",
        ),
        (
            edited(|ts| ts.push(("3.running_mean".into(), vec![5], vec![0.0; 5]))),
            "unexpected [\"3.running_mean\"]",
        ),
        (
            edited(|ts| ts.push(("7.weight".into(), vec![1, 3], vec![0.0; 3]))),
            "the names give 4 modules",
        ),
        (
            edited(|ts| {
                let w = ts.iter_mut().find(|(n, _, _)| n == "3.weight").unwrap();
                w.1 = vec![4, 10];
            }),
            "tensor 3.weight has shape [4, 10], layer 1 needs [5, 8]",
        ),
        (
            edited(|ts| ts.iter_mut().find(|(n, _, _)| n == "5.bias").unwrap().2[1] = f32::NAN),
            "tensor 5.bias: value 1 is not finite",
        ),
        (
            edited(|ts| ts.push(("head.weight".into(), vec![1], vec![0.0]))),
            "\"head.weight\" is not under a module index",
        ),
    ];
    for (bytes, what) in cases {
        let mut net = mlp::<f32>(4);
        let before = net.clone();
        let err = net
            .load_torch_state_dict(&bytes, &TorchNames::Sequential, Precision::Exact)
            .unwrap_err();
        assert!(err.to_string().contains(what), "{what}: {err}");
        assert_eq!(net, before, "{what}: the network changed");
    }
    // The expected and found names are listed.
    let err = mlp::<f32>(4)
        .load_torch_state_dict(
            &edited(|ts| ts.retain(|(n, _, _)| n != "0.weight")),
            &TorchNames::Prefixes(["0", "3", "5"].map(String::from).to_vec()),
            Precision::Exact,
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("the network expects [\"0.weight\", \"0.bias\""),
        "{msg}"
    );
    assert!(
        msg.contains("the file holds [\"0.bias\", \"3.bias\""),
        "{msg}"
    );
    // Bytes that are not safetensors at all.
    assert!(matches!(
        mlp::<f32>(4).load_torch_state_dict(&MLP[..100], &TorchNames::Sequential, Precision::Exact),
        Err(CoreError::ModelFile(ModelFileError::Malformed(_)))
    ));
}

#[test]
fn layers_a_sequential_cannot_hold_need_prefixes() {
    use nn_core::Steps;
    let rnn = Network::<f32>::builder(12)
        .sequence(4, 3)
        .elman(5, Tanh, Steps::Last)
        .layer(2, Identity)
        .build(&mut StdRng::seed_from_u64(1))
        .unwrap();
    let err = rnn
        .to_torch_state_dict(&TorchNames::Sequential)
        .unwrap_err();
    assert!(err.to_string().contains("layer 0 (elman)"), "{err}");
    let names = TorchNames::Prefixes(vec!["rnn".into(), "head".into()]);
    let bytes = rnn.to_torch_state_dict(&names).unwrap();
    let found: Vec<String> = tensors(&bytes).into_iter().map(|t| t.0).collect();
    assert_eq!(
        found,
        [
            "head.bias",
            "head.weight",
            "rnn.bias_hh_l0",
            "rnn.bias_ih_l0",
            "rnn.weight_hh_l0",
            "rnn.weight_ih_l0"
        ]
    );
    let mut copy = Network::<f32>::builder(12)
        .sequence(4, 3)
        .elman(5, Tanh, Steps::Last)
        .layer(2, Identity)
        .build(&mut StdRng::seed_from_u64(2))
        .unwrap();
    copy.load_torch_state_dict(&bytes, &names, Precision::Exact)
        .unwrap();
    assert_eq!(copy, rnn);
}
