//! One training step of a 784-128-64-10 ReLU network with softmax cross-entropy, in f32,
//! at batch 64 (the W1 workload of `../shared/anchors/README.md`), 32 and 1 (W2):
//! `separate` is clear_gradient + evaluate_with + adjust_gradient + apply_gradient on one
//! thread; `descend/1` and `descend/2` are evaluate_with + the fused descend on a
//! workspace of one and two threads.
//!
//! Throughput is in samples, so criterion's `elem/s` reads as samples per second.
//! Run with `cargo xtask bench train_step` (or `cargo bench -p nn-core`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nn_activations::{Identity, Relu};
use nn_core::{Network, SoftmaxCrossEntropy, Workspace};
use nn_math::Matrix;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn train_step(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let mut net = Network::<f32>::builder(784)
        .layer(128, Relu)
        .layer(64, Relu)
        .layer(10, Identity)
        .build(&mut rng)
        .expect("a valid architecture");
    let mut group = c.benchmark_group("train_step 784-128-64-10 f32");
    for batch in [64usize, 32, 1] {
        let x = Matrix::from_fn(784, batch, |_, _| rng.random::<f32>());
        let y = Matrix::from_fn(10, batch, |i, j| if i == (j * 7) % 10 { 1.0 } else { 0.0 });
        let (mut ws, mut grad) = (net.workspace(), net.gradient());
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(BenchmarkId::new("separate/batch", batch), |b| {
            b.iter(|| {
                net.clear_gradient(&mut grad).unwrap();
                net.evaluate_with(&x, &mut ws).unwrap();
                net.adjust_gradient(&mut ws, &y, &SoftmaxCrossEntropy, &mut grad)
                    .unwrap();
                net.apply_gradient(&grad, 0.01).unwrap();
            });
        });
        for threads in [1, 2] {
            let mut ws = Workspace::with_threads(threads).expect("threads start");
            let id = BenchmarkId::new(format!("descend/{threads}/batch"), batch);
            group.bench_function(id, |b| {
                b.iter(|| {
                    net.evaluate_with(&x, &mut ws).unwrap();
                    net.descend(&mut ws, &y, &SoftmaxCrossEntropy, 0.01)
                        .unwrap();
                });
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = train_step
}
criterion_main!(benches);
