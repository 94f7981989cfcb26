//! One optimizer step over the parameters of the MNIST example's 784-256-128-10 network
//! (235,146 values, in f32), for each optimizer: the element-wise work that follows each
//! batch's backward pass when the optimizer is not plain SGD.
//!
//! Throughput is in parameters, so criterion's `elem/s` reads as parameters per second.
//! Run with `cargo xtask bench optimizers` (or `cargo bench -p nn-train --bench optimizers`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nn_core::{ParamId, ParamKind};
use nn_train::{Adam, Momentum, Optimizer, ParamState, RmsProp, Sgd, StepContext};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// 784·256 + 256 + 256·128 + 128 + 128·10 + 10.
const PARAMS: usize = 235_146;

fn optimizers(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let grad: Vec<f32> = (0..PARAMS).map(|_| rng.random::<f32>() - 0.5).collect();
    let mut group = c.benchmark_group("optimizer step, 235,146 f32 parameters");
    group.throughput(Throughput::Elements(PARAMS as u64));
    let opts: [(&str, &dyn Optimizer<f32>); 4] = [
        ("sgd", &Sgd),
        ("momentum", &Momentum::default()),
        ("rmsprop", &RmsProp::default()),
        ("adam", &Adam::default()),
    ];
    for (name, opt) in opts {
        let mut param: Vec<f32> = (0..PARAMS).map(|_| rng.random::<f32>() - 0.5).collect();
        let mut state = ParamState::default();
        let mut step = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                step += 1;
                let ctx = StepContext {
                    id: ParamId {
                        layer: 0,
                        position: 0,
                        name: "weight",
                        kind: ParamKind::Weight,
                    },
                    learning_rate: 1e-3,
                    step,
                };
                opt.update(&ctx, &mut param, &grad, &mut state);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, optimizers);
criterion_main!(benches);
