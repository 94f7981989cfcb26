//! After the first batch, a training step allocates nothing of its own.

use nn_activations::{Identity, Relu, Sigmoid, Tanh};
use nn_core::{Dropout, Network, NeuronActivation, SoftmaxCrossEntropy, SplitRule, Workspace};
use nn_math::Matrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::counting_allocator::allocations_during;

#[test]
fn a_training_step_allocates_nothing_after_the_first_batch() {
    let mut rng = StdRng::seed_from_u64(5);
    let mixed: Vec<NeuronActivation<f32>> = (0..4)
        .map(|j| {
            if j % 2 == 0 {
                Tanh.into()
            } else {
                Sigmoid::default().into()
            }
        })
        .collect();
    let mut net = Network::<f32>::builder(5)
        .layer(8, Relu)
        .layer(4, mixed)
        .layer(3, Identity)
        .build(&mut rng)
        .unwrap();
    let dropout = Dropout::new(vec![0.1, 0.3, 0.2]).unwrap();
    let x = Matrix::from_fn(5, 4, |i, j| (i * 3 + j) as f32 / 10.0);
    let y = Matrix::from_fn(3, 4, |i, j| if i == j % 3 { 1.0 } else { 0.0 });
    let (mut ws, mut grad) = (net.workspace(), net.gradient());

    let mut step = |net: &mut Network<f32>, cols: usize| {
        net.clear_gradient(&mut grad).unwrap();
        net.evaluate_with_dropout(&x.columns(0, cols), &mut ws, &dropout, &mut rng)
            .unwrap();
        net.adjust_gradient(
            &mut ws,
            &y.columns(0, cols),
            &SoftmaxCrossEntropy,
            &mut grad,
        )
        .unwrap();
        net.apply_gradient(&grad, 0.01).unwrap();
    };
    step(&mut net, 4); // The first batch sizes the workspace.
    assert_eq!(allocations_during(|| step(&mut net, 4)), 0);
    // A smaller (last, partial) batch reuses the same buffers.
    assert_eq!(allocations_during(|| step(&mut net, 3)), 0);

    // The fused descent allocates nothing either.
    let x2 = x.clone();
    let y2 = y.clone();
    let mut ws2 = net.workspace();
    net.evaluate_with(&x2, &mut ws2).unwrap();
    net.descend(&mut ws2, &y2, &SoftmaxCrossEntropy, 0.01)
        .unwrap();
    assert_eq!(
        allocations_during(|| {
            net.evaluate_with(&x2, &mut ws2).unwrap();
            net.descend(&mut ws2, &y2, &SoftmaxCrossEntropy, 0.01)
                .unwrap();
        }),
        0
    );

    // Nor does a step split between two threads (counted on the calling thread).
    let mut ws3 = Workspace::with_threads(2).unwrap();
    ws3.set_split_rule(SplitRule::ByInputs(u64::MAX));
    let mut threaded = |net: &mut Network<f32>| {
        net.evaluate_with(&x2, &mut ws3).unwrap();
        net.descend(&mut ws3, &y2, &SoftmaxCrossEntropy, 0.01)
            .unwrap();
    };
    threaded(&mut net);
    assert_eq!(allocations_during(|| threaded(&mut net)), 0);

    // Nor do a feed's steps, whose idle threads gather the next batch.
    let mut ws4 = Workspace::with_threads(2).unwrap();
    let mut feed = ws4.feed(&x2);
    let picks = [[0, 1, 2, 3], [3, 1, 0, 2]];
    let mut fed = |net: &mut Network<f32>, i: usize| {
        feed.evaluate(net, &picks[i % 2], &picks[(i + 1) % 2])
            .unwrap();
        feed.descend(net, &y2, &SoftmaxCrossEntropy, 0.01).unwrap();
    };
    fed(&mut net, 0);
    fed(&mut net, 1);
    assert_eq!(allocations_during(|| fed(&mut net, 0)), 0);

    // Nor do steps of one example, on one thread or two, whose update of the first layer
    // also computes the next step's product with it.
    for threads in [1, 2] {
        let mut ws5 = Workspace::with_threads(threads).unwrap();
        let mut feed = ws5.feed(&x2);
        let y1 = y2.columns(0, 1).clone_owned();
        let mut single = |net: &mut Network<f32>, i: usize| {
            feed.evaluate(net, &[i % 4], &[(i + 1) % 4]).unwrap();
            feed.descend(net, &y1, &SoftmaxCrossEntropy, 0.01).unwrap();
        };
        single(&mut net, 0);
        single(&mut net, 1);
        assert_eq!(allocations_during(|| single(&mut net, 2)), 0);
    }
}

/// Runs `step` on a batch of 6 once, then checks that another batch of 6 and one of
/// `smaller` examples allocate nothing.
fn warm_steps_allocate_nothing(threads: usize, smaller: usize, mut step: impl FnMut(usize)) {
    step(6);
    assert_eq!(allocations_during(|| step(6)), 0, "{threads} threads");
    assert_eq!(allocations_during(|| step(smaller)), 0, "{threads} threads");
}

/// A convolutional network's step allocates nothing after the first batch either, on one
/// thread or split by examples between two (counted on the calling thread).
#[test]
fn a_convolutional_step_allocates_nothing_after_the_first_batch() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut net = Network::<f32>::builder(2 * 8 * 8)
        .image(2, 8, 8)
        .conv(nn_core::Conv::new(3, 3).padding(1), Relu)
        .max_pool(2)
        .conv(nn_core::Conv::new(4, 2).stride(2), Tanh)
        .avg_pool(2)
        .layer(3, Identity)
        .build(&mut rng)
        .unwrap();
    let dropout = Dropout::new(vec![0.1, 0.2, 0.0, 0.2, 0.1]).unwrap();
    let x = Matrix::from_fn(128, 6, |i, j| ((i * 7 + j) as f32 * 0.1).sin());
    let y = Matrix::from_fn(3, 6, |i, j| if i == j % 3 { 1.0 } else { 0.0 });
    for threads in [1, 2] {
        let (mut ws, mut grad) = (Workspace::with_threads(threads).unwrap(), net.gradient());
        let mut step = |net: &mut Network<f32>, cols: usize| {
            net.clear_gradient(&mut grad).unwrap();
            net.evaluate_with_dropout(&x.columns(0, cols), &mut ws, &dropout, &mut rng)
                .unwrap();
            net.adjust_gradient(
                &mut ws,
                &y.columns(0, cols),
                &SoftmaxCrossEntropy,
                &mut grad,
            )
            .unwrap();
            net.apply_gradient(&grad, 0.01).unwrap();
        };
        warm_steps_allocate_nothing(threads, 5, |cols| step(&mut net, cols));
    }
}

/// A recurrent network's step (Elman, LSTM and GRU layers, a per-step output, batches of
/// sequences of different lengths) allocates nothing after the first batch either.
#[test]
fn a_recurrent_step_with_lengths_allocates_nothing_after_the_first_batch() {
    use nn_core::Steps;
    let mut rng = StdRng::seed_from_u64(3);
    let mut net = Network::<f32>::builder(5 * 3)
        .sequence(5, 3)
        .lstm(4, Steps::All)
        .gru(3, Steps::All)
        .elman(4, Tanh, Steps::All)
        .layer_per_step(2, Identity)
        .build(&mut rng)
        .unwrap();
    let x = Matrix::from_fn(15, 6, |i, j| ((i * 5 + j) as f32 * 0.3).cos());
    let y = Matrix::from_fn(10, 6, |i, j| ((i + j) as f32 * 0.2).sin());
    let all_lengths = [5, 2, 4, 1, 3, 5];
    let examples: Vec<usize> = (0..6).collect();
    for threads in [1, 2] {
        let (mut ws, mut grad) = (Workspace::with_threads(threads).unwrap(), net.gradient());
        let mut step = |net: &mut Network<f32>, cols: usize| {
            ws.set_lengths_of(&all_lengths, &examples[..cols]).unwrap();
            net.clear_gradient(&mut grad).unwrap();
            net.evaluate_with(&x.columns(0, cols), &mut ws).unwrap();
            net.adjust_gradient(
                &mut ws,
                &y.columns(0, cols),
                &nn_core::HalfSquaredError,
                &mut grad,
            )
            .unwrap();
            net.apply_gradient(&grad, 0.01).unwrap();
        };
        warm_steps_allocate_nothing(threads, 4, |cols| step(&mut net, cols));
    }
}
