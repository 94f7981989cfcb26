//! Convolution and pooling layers (guide §4.2): their gradients against central
//! differences through the gradient-check API, alone and in networks, over random
//! shapes, strides, paddings, batch sizes and thread counts; and their bad input.

use nn_activations::{Identity, Relu, Tanh};
use nn_core::gradcheck::{NetworkCheck, check_layer, check_network};
use nn_core::{
    Conv, Conv2d, Dropout, HalfSquaredError, ImageShape, Init, Layer, Network, Pool2d, Pooling,
    SoftmaxCrossEntropy,
};
use nn_math::Matrix;
use proptest::prelude::*;
use rand::{SeedableRng, rngs::StdRng};

use crate::common::{distributions, inputs, layer_activation};

/// See `layer_gradients.rs`: a correct gradient stays far below, a wrong one near 1.
const TOLERANCE: f64 = 1e-6;

/// A convolution whose window fits its input: `(input, spec)`.
fn geometry() -> impl Strategy<Value = (ImageShape, Conv)> {
    (
        1usize..=3,
        1usize..=7,
        1usize..=7,
        1usize..=3,
        1usize..=4,
        1usize..=4,
        1usize..=3,
        1usize..=3,
        0usize..=2,
        0usize..=2,
    )
        .prop_filter_map(
            "the window fits",
            |(c, h, w, out, kh, kw, sh, sw, ph, pw)| {
                let input = ImageShape::new(c, h, w).ok()?;
                let spec = Conv {
                    out_channels: out,
                    kernel: (kh, kw),
                    stride: (sh, sw),
                    padding: (ph, pw),
                };
                (h + 2 * ph >= kh && w + 2 * pw >= kw).then_some((input, spec))
            },
        )
}

fn conv_layer() -> impl Strategy<Value = Conv2d<f64>> {
    (geometry(), any::<u64>())
        .prop_flat_map(|((input, spec), seed)| {
            (
                layer_activation(spec.out_channels),
                Just((input, spec, seed)),
            )
        })
        .prop_map(|(act, (input, spec, seed))| {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut conv = Conv2d::init(input, spec, act, Init::XavierUniform, &mut rng).unwrap();
            // Non-zero biases, so that their gradient is tested at a general point.
            conv.visit_params_mut(&mut |spec, v| {
                if spec.name == "bias" {
                    for (i, b) in v.iter_mut().enumerate() {
                        *b = ((seed % 13) as f64 + i as f64).sin() / 2.0;
                    }
                }
            });
            conv
        })
}

fn image_inputs(n: usize, b: usize, seed: u64) -> Matrix<f64> {
    Matrix::from_fn(n, b, |i, j| {
        ((seed % 101) as f64 + 1.7 * (i * b + j) as f64).sin() * 1.5
    })
}

proptest! {
    #[test]
    fn a_convolution_passes_the_check(conv in conv_layer(), b in 1usize..4, seed in any::<u64>()) {
        let x = image_inputs(conv.n_inputs(), b, seed);
        let report = check_layer(&conv, &x, 1e-6).unwrap();
        prop_assert!(report.max_error < TOLERANCE, "{report}");
        let k = conv.input().channels * conv.spec().kernel.0 * conv.spec().kernel.1;
        prop_assert_eq!(report.checked, conv.output().channels * (k + 1) + x.len());
    }

    #[test]
    fn pooling_passes_the_check(
        (c, h, w) in (1usize..=3, 1usize..=6, 1usize..=6),
        (kh, kw, sh, sw) in (1usize..=3, 1usize..=3, 1usize..=3, 1usize..=3),
        max in any::<bool>(), b in 1usize..4, seed in any::<u64>(),
    ) {
        prop_assume!(kh <= h && kw <= w);
        let pooling = if max { Pooling::Max } else { Pooling::Average };
        let pool = Pool2d::rect(ImageShape::new(c, h, w).unwrap(), pooling, (kh, kw), (sh, sw)).unwrap();
        // Distinct values, so that no window's maximum is tied (where max has no derivative).
        let x = image_inputs(Layer::<f64>::n_inputs(&pool), b, seed);
        let report = check_layer(&pool, &x, 1e-6).unwrap();
        prop_assert!(report.max_error < TOLERANCE, "{report}");
        prop_assert_eq!(report.checked, x.len());
    }

    #[test]
    fn convolutional_networks_pass_on_any_thread_count(
        (c, side) in (1usize..=2, 4usize..=7),
        (f1, f2, pad, stride) in (1usize..=3, 1usize..=3, 0usize..=1, 1usize..=2),
        max in any::<bool>(), threads in 1usize..=3, b in 1usize..6,
        rate in prop::option::of(0.0..0.5_f64), seed in any::<u64>(),
    ) {
        let pooling = if max { Pooling::Max } else { Pooling::Average };
        let net = Network::<f64>::builder(c * side * side)
            .image(c, side, side)
            .conv(Conv::new(f1, 3).padding(pad).stride(stride), Tanh)
            .pool(pooling, (2, 2), (1, 1))
            .conv(Conv::new(f2, 2), nn_activations::Silu::default())
            .layer(3, Tanh)
            .layer(2, Identity)
            .build(&mut StdRng::seed_from_u64(seed));
        let Ok(net) = net else { return Ok(()) }; // a window that does not fit: tested below
        let x = image_inputs(net.n_inputs(), b, seed);
        let y = Matrix::from_fn(2, b, |i, j| ((i + 2 * j) as f64).cos());
        // Dropout everywhere but on the maximum pool's input: a dropped value is an exact 0,
        // which ties or nearly ties in a window, where the maximum has no derivative.
        let rates = |r: f64| (0..net.n_layers()).map(|k| if k == 1 && max { 0.0 } else { r }).collect();
        let dropout = rate.map(|r| (Dropout::new(rates(r)).unwrap(), seed));
        let options = NetworkCheck { threads, dropout, ..NetworkCheck::default() };
        let report = check_network(&net, &x, &y, &HalfSquaredError, &options).unwrap();
        prop_assert!(report.max_error < TOLERANCE, "{report}");
        prop_assert_eq!(report.checked, net.n_params());
    }

    #[test]
    fn a_classifier_with_a_convolution_passes(x in inputs(18, 3), y in distributions(3, 3), seed in any::<u64>()) {
        let net = Network::<f64>::builder(18).image(2, 3, 3)
            .conv(Conv::new(2, 2), vec![Tanh.into(), nn_activations::Softplus::default().into()])
            .layer(3, Identity)
            .build(&mut StdRng::seed_from_u64(seed)).unwrap();
        let report = check_network(&net, &x, &y, &SoftmaxCrossEntropy, &NetworkCheck::default()).unwrap();
        prop_assert!(report.max_error < TOLERANCE, "{report}");
    }
}

/// A hand-computed convolution: the notes' sum written out for one 3×3 image.
#[test]
fn a_small_convolution_computes_its_definition() {
    let input = ImageShape::new(1, 3, 3).unwrap();
    // One 2×2 filter [[1, 2], [3, 4]], bias 0.5, padding 1, stride 2: a 2×2 output.
    let w = Matrix::from_row_slice(1, 4, &[1.0, 2.0, 3.0, 4.0]);
    let conv = Conv2d::new(
        input,
        Conv::new(1, 2).padding(1).stride(2),
        w,
        vec![0.5],
        Identity,
    )
    .unwrap();
    let x = Matrix::from_column_slice(9, 1, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    let mut out = Matrix::zeros(4, 1);
    let mut scratch = vec![0.0; conv.scratch_len(1)];
    conv.forward(x.as_view(), out.as_view_mut(), &mut scratch)
        .unwrap();
    // Window at (−1, −1): only x[0,0]=1 under weight 4; at (−1, 1): x[0,1]=2 (w 3), x[0,2]=3 (w 4);
    // at (1, −1): x[1,0]=4 (w 2), x[2,0]=7 (w 4); at (1, 1): 5·1 + 6·2 + 8·3 + 9·4.
    assert_eq!(out.as_slice(), &[4.5, 18.5, 36.5, 77.5]);
}

#[test]
fn bad_convolutions_are_errors_naming_the_sizes() {
    let mut rng = StdRng::seed_from_u64(1);
    let build =
        |b: nn_core::NetworkBuilder<f32>, rng: &mut StdRng| b.build(rng).unwrap_err().to_string();
    let e = build(
        Network::builder(16)
            .image(1, 4, 4)
            .conv(Conv::new(2, 5), Relu)
            .layer(1, Identity),
        &mut rng,
    );
    assert!(
        e.contains("layer 0") && e.contains("5×5 window does not fit a 4×4 input"),
        "{e}"
    );
    let e = build(
        Network::builder(16)
            .image(1, 4, 4)
            .conv(Conv::new(2, 3).stride(0), Relu),
        &mut rng,
    );
    assert!(e.contains("stride 0×0"), "{e}");
    let e = build(
        Network::builder(784)
            .image(1, 28, 27)
            .conv(Conv::new(2, 3), Relu),
        &mut rng,
    );
    assert!(
        e.contains("1×28×27 holds 756 values, the network has 784 inputs"),
        "{e}"
    );
    let e = build(Network::builder(16).conv(Conv::new(2, 3), Relu), &mut rng);
    assert!(
        e.contains("layer 0 (conv2d) needs an image-shaped input"),
        "{e}"
    );
    let e = build(
        Network::builder(16)
            .image(1, 4, 4)
            .layer(8, Relu)
            .max_pool(2),
        &mut rng,
    );
    assert!(
        e.contains("layer 1 (pooling) needs an image-shaped input"),
        "{e}"
    );
    let e = build(
        Network::builder(16)
            .image(1, 4, 4)
            .conv(Conv::new(0, 3), Relu),
        &mut rng,
    );
    assert!(e.contains("0 output channels"), "{e}");
    let e = build(
        Network::builder(16)
            .image(1, 4, 4)
            .conv(Conv::new(2, 3), vec![Relu.into()]),
        &mut rng,
    );
    assert!(
        e.contains("1 per-channel activations for 2 output channels"),
        "{e}"
    );
    let e = build(Network::builder(16).image(1, 4, 4).max_pool(5), &mut rng);
    assert!(
        e.contains("max_pool2d: a 5×5 window does not fit a 4×4"),
        "{e}"
    );

    // Channels that do not chain: a convolution for 3 channels after one that makes 2.
    let input = ImageShape::new(1, 4, 4).unwrap();
    let first = Conv2d::<f32>::init(input, Conv::new(2, 1), Relu, Init::Auto, &mut rng).unwrap();
    let second = Conv2d::<f32>::init(
        ImageShape::new(3, 4, 4).unwrap(),
        Conv::new(1, 1),
        Relu,
        Init::Auto,
        &mut rng,
    )
    .unwrap();
    let e = Network::from_any_layers(16, vec![Box::new(first), Box::new(second)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("48") && e.contains("32"), "{e}");

    // Weights of the wrong shape.
    let e = Conv2d::new(
        input,
        Conv::new(2, 3),
        Matrix::<f32>::zeros(2, 8),
        vec![0.0; 2],
        Relu,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("weights are 2×8, the layer needs 2×9"), "{e}");
}
