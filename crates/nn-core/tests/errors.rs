//! Bad input is a clear error that names the operation and the shapes, never a panic.

use nn_activations::{Identity, Relu, Sigmoid, Tanh};
use nn_core::{CoreError, Dropout, HalfSquaredError, Init, Network, NeuronActivation};
use nn_math::Matrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn small() -> Network<f64> {
    Network::builder(4)
        .layer(3, Tanh)
        .layer(2, Identity)
        .build(&mut StdRng::seed_from_u64(0))
        .unwrap()
}

#[test]
fn wrong_input_rows_name_the_operation_and_the_shapes() {
    let err = small().evaluate(&Matrix::zeros(3, 5)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "evaluate_with: input has 3 rows, the network expects 4"
    );
}

#[test]
fn adjust_gradient_needs_a_forward_pass_and_a_matching_target() {
    let net = small();
    let mut ws = net.workspace();
    let mut grad = net.gradient();
    let y = Matrix::zeros(2, 5);
    assert!(matches!(
        net.adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut grad),
        Err(CoreError::NoForwardPass)
    ));

    net.evaluate_with(&Matrix::zeros(4, 5), &mut ws).unwrap();
    let err = net
        .adjust_gradient(&mut ws, &Matrix::zeros(3, 5), &HalfSquaredError, &mut grad)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "adjust_gradient: target has 3 rows, the network expects 2"
    );
    let err = net
        .adjust_gradient(&mut ws, &Matrix::zeros(2, 4), &HalfSquaredError, &mut grad)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("adjust_gradient: target has 4 columns")
    );

    // A workspace filled by another architecture is not a forward pass of this one.
    let other = Network::builder(4)
        .layer(5, Tanh)
        .layer(2, Identity)
        .build(&mut StdRng::seed_from_u64(1))
        .unwrap();
    other.evaluate_with(&Matrix::zeros(4, 5), &mut ws).unwrap();
    assert!(matches!(
        net.adjust_gradient(&mut ws, &y, &HalfSquaredError, &mut grad),
        Err(CoreError::NoForwardPass)
    ));
}

#[test]
fn a_gradient_of_another_network_is_rejected_and_changes_nothing() {
    let mut net = small();
    let before = net.clone();
    let other = Network::<f64>::builder(4)
        .layer(5, Tanh)
        .layer(2, Identity)
        .build(&mut StdRng::seed_from_u64(1))
        .unwrap();
    let mut foreign = other.gradient();
    assert!(matches!(
        net.apply_gradient(&foreign, 0.1),
        Err(CoreError::GradientMismatch { .. })
    ));
    assert!(matches!(
        net.clear_gradient(&mut foreign),
        Err(CoreError::GradientMismatch { .. })
    ));
    assert_eq!(net, before);
}

#[test]
fn invalid_learning_rates_are_rejected() {
    let mut net = small();
    let grad = net.gradient();
    for lr in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        let err = net.apply_gradient(&grad, lr).unwrap_err();
        assert!(
            err.to_string().starts_with("apply_gradient: learning_rate"),
            "{err}"
        );
    }
}

#[test]
fn bad_architectures_are_rejected() {
    let mut rng = StdRng::seed_from_u64(0);
    let cases: Vec<(&str, Result<Network<f64>, CoreError>)> = vec![
        (
            "no inputs",
            Network::builder(0).layer(2, Relu).build(&mut rng),
        ),
        ("no layers", Network::builder(3).build(&mut rng)),
        (
            "zero width",
            Network::builder(3)
                .layer(2, Relu)
                .layer(0, Relu)
                .build(&mut rng),
        ),
        (
            "per-neuron list too short",
            Network::builder(3)
                .layer(
                    3,
                    vec![NeuronActivation::from(Relu), Sigmoid::default().into()],
                )
                .build(&mut rng),
        ),
        (
            "bad uniform range",
            Network::builder(3)
                .layer(2, Relu)
                .init(Init::Uniform {
                    low: 1.0,
                    high: -1.0,
                })
                .build(&mut rng),
        ),
    ];
    for (what, result) in cases {
        assert!(result.is_err(), "{what} was accepted");
    }
    let err = Network::<f64>::builder(3)
        .layer(
            3,
            vec![NeuronActivation::from(Relu), Sigmoid::default().into()],
        )
        .build(&mut rng)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid architecture: layer 0 has 3 neurons but 2 per-neuron activations"
    );
}

#[test]
fn dropout_rates_are_validated() {
    for rate in [1.0, 1.5, -0.1, f64::NAN] {
        assert!(Dropout::new(vec![rate]).is_err(), "rate {rate} accepted");
    }
    let net = small();
    let mut ws = net.workspace();
    let wrong_len = Dropout::new(vec![0.1]).unwrap();
    let err = net
        .evaluate_with_dropout(
            &Matrix::zeros(4, 2),
            &mut ws,
            &wrong_len,
            &mut StdRng::seed_from_u64(0),
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("dropout has 1 rates, the network needs 2"),
        "{err}"
    );
}

#[test]
fn the_workspace_reports_a_non_finite_update() {
    use nn_core::{SplitRule, Workspace};
    for threads in [1, 2] {
        let mut net = Network::<f32>::builder(3)
            .layer(4, Relu)
            .layer(2, Identity)
            .build(&mut StdRng::seed_from_u64(4))
            .unwrap();
        let mut ws = Workspace::with_threads(threads).unwrap();
        ws.set_split_rule(SplitRule::ByInputs(u64::MAX));
        assert!(!ws.last_update_finite(), "no update yet");
        let x = Matrix::from_element(3, 2, 1.0f32);
        let y = Matrix::from_element(2, 2, 0.5f32);
        net.evaluate_with(&x, &mut ws).unwrap();
        net.descend(&mut ws, &y, &HalfSquaredError, 0.01).unwrap();
        assert!(ws.last_update_finite() && net.params_finite());
        // Inputs near f32::MAX make the update term overflow to infinity.
        let huge = Matrix::from_element(3, 2, 3e38f32);
        net.evaluate_with(&huge, &mut ws).unwrap();
        net.descend(&mut ws, &y, &HalfSquaredError, 1e30).unwrap();
        assert!(!ws.last_update_finite(), "{threads} threads");
        assert!(!net.params_finite());
    }
}

#[test]
fn layers_whose_sizes_do_not_chain_are_rejected_by_name() {
    use crate::layer_gradients::Shift;
    use nn_core::Layer;
    let dense = nn_core::Dense::new(Matrix::zeros(3, 2), nn_math::Vector::zeros(3), Relu).unwrap();
    let layers: Vec<Box<dyn Layer<f64>>> = vec![
        Box::new(dense),
        Box::new(Shift {
            beta: vec![0.0; 4],
            wrong: false,
        }),
    ];
    let err = Network::from_any_layers(2, layers).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid architecture: layer 1 takes 4 inputs, but the layer before it has 3 outputs"
    );
    assert!(Network::<f64>::from_any_layers(2, Vec::new()).is_err());
    // Dense layers only, given as any layers, make the engine's network.
    let dense = nn_core::Dense::new(Matrix::zeros(3, 2), nn_math::Vector::zeros(3), Relu).unwrap();
    let net = Network::from_any_layers(2, vec![Box::new(dense) as Box<dyn Layer<f64>>]).unwrap();
    assert!(net.dense_layers().is_some());
}

#[test]
fn sizes_and_ranges_that_cannot_be_had_are_errors_not_aborts() {
    let mut rng = StdRng::seed_from_u64(0);
    // 4·2⁶² weights overflow usize; 2⁴²·4 bytes (16 TiB) cannot be allocated.
    let err = Network::<f32>::builder(1 << 62)
        .layer(4, Identity)
        .build(&mut rng)
        .unwrap_err();
    assert!(err.to_string().contains("cannot allocate"), "{err}");
    let err = Network::<f32>::builder(4)
        .layer(1 << 40, Relu)
        .build(&mut rng)
        .unwrap_err();
    assert!(err.to_string().contains("layer 0"), "{err}");
    // A uniform range whose width overflows f64.
    let wide = Init::Uniform {
        low: -1e308,
        high: 1e308,
    };
    assert!(matches!(
        Network::<f64>::builder(2)
            .layer(1, Identity)
            .init(wide)
            .build(&mut rng),
        Err(CoreError::InvalidHyperParameter { .. })
    ));
}

#[test]
fn messages_say_which_value_and_which_operation() {
    use nn_activations::{Identity, Relu};
    use nn_core::{Conv, Dense};
    use nn_math::{Matrix, Vector};
    use rand::SeedableRng;
    // The non-finite value is named with its place.
    let mut w = Matrix::<f64>::zeros(2, 3);
    w[(1, 2)] = f64::NAN;
    let err = Dense::new(w, Vector::zeros(2), Relu).unwrap_err();
    assert!(err.to_string().contains("weight (1, 2) = NaN"), "{err}");
    let mut b = Vector::<f64>::zeros(2);
    b[1] = f64::INFINITY;
    let err = Dense::new(Matrix::zeros(2, 3), b, Relu).unwrap_err();
    assert!(err.to_string().contains("bias 1 = inf"), "{err}");
    // A fused step of a network that is not all dense names `descend`, not the pass
    // it runs through.
    let mut net = Network::<f64>::builder(16)
        .image(1, 4, 4)
        .conv(Conv::new(2, 3), Relu)
        .layer(2, Identity)
        .build(&mut rand::rngs::StdRng::seed_from_u64(1))
        .unwrap();
    let mut ws = net.workspace();
    net.evaluate_with(&Matrix::zeros(16, 3), &mut ws).unwrap();
    let err = net
        .descend(
            &mut ws,
            &Matrix::zeros(2, 4),
            &nn_core::HalfSquaredError,
            0.1,
        )
        .unwrap_err();
    assert!(err.to_string().starts_with("descend: target"), "{err}");
}
