//! Every built-in activation and its derivative over a slice of 4,096 pre-activations
//! (the size of a 64-wide layer at batch 64), f32 and f64.
//!
//! Throughput is declared in elements, so criterion's `elem/s` reads as values per second.
//! Run with `cargo xtask bench activations`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nn_activations::{Activation, Builtin};
use nn_math::Real;

const N: usize = 4096;

fn bench_type<T: Real>(c: &mut Criterion, type_name: &str) {
    let xs: Vec<T> = (0..N)
        .map(|i| T::lit(-8.0 + 16.0 * i as f64 / N as f64))
        .collect();
    let mut out = vec![T::zero(); N];
    let mut group = c.benchmark_group(format!("activations {type_name}"));
    group.throughput(Throughput::Elements(N as u64));
    for name in Builtin::<T>::NAMES {
        let f = Builtin::<T>::from_parts(name, &[]).expect("defaults are valid");
        group.bench_function(BenchmarkId::new("f", name), |b| {
            b.iter(|| f.f_slice(&xs, &mut out).unwrap())
        });
        group.bench_function(BenchmarkId::new("df", name), |b| {
            b.iter(|| f.df_slice(&xs, &mut out).unwrap())
        });
    }
    group.finish();
}

fn activations(c: &mut Criterion) {
    bench_type::<f32>(c, "f32");
    bench_type::<f64>(c, "f64");
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_millis(500)).warm_up_time(std::time::Duration::from_millis(200));
    targets = activations
}
criterion_main!(benches);
