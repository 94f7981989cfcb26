//! The matrix products of one training step of a 784-128-… network at batch 64: this
//! crate's fast path against nalgebra's own `tr_mul_to` and transpose-then-multiply.
//!
//! Throughput is declared in floating-point operations (2·m·k·n per product), so
//! criterion's `elem/s` reads as FLOP/s (`Gelem/s` = GFLOP/s).
//!
//! Run with `cargo xtask bench products` (or `cargo bench -p nn-math`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nn_math::{AlignedVec, Matrix, MatrixView, mul_nt_to, mul_tn_to, mul_to};

const INPUTS: usize = 784;
const HIDDEN: usize = 128;
const BATCH: usize = 64;

/// Deterministic, non-trivial entries (no RNG needed for a benchmark's operands).
fn filled(rows: usize, cols: usize, seed: usize) -> Matrix<f32> {
    Matrix::from_fn(rows, cols, |i, j| {
        ((i * 31 + j * 17 + seed * 7) % 101) as f32 / 101.0 - 0.5
    })
}

fn flops(m: usize, k: usize, n: usize) -> Throughput {
    Throughput::Elements((2 * m * k * n) as u64)
}

/// `Wᵀ·D` with W 128×784 and D 128×64: the backward product.
fn transposed_left(c: &mut Criterion) {
    let w = filled(HIDDEN, INPUTS, 1);
    let d = filled(HIDDEN, BATCH, 2);
    let mut out = Matrix::zeros(INPUTS, BATCH);
    let mut g = c.benchmark_group("Wt·D 784x128·128x64 f32");
    g.throughput(flops(INPUTS, HIDDEN, BATCH));
    g.bench_function(BenchmarkId::new("nn_math::mul_tn_to", "fast"), |b| {
        b.iter(|| mul_tn_to(&w, &d, &mut out).unwrap());
    });
    g.bench_function(BenchmarkId::new("nalgebra::tr_mul_to", "dot loop"), |b| {
        b.iter(|| w.tr_mul_to(&d, &mut out));
    });
    g.finish();
}

/// `D·Aᵀ` with D 128×64 and A 784×64: the weight gradient.
fn transposed_right(c: &mut Criterion) {
    let d = filled(HIDDEN, BATCH, 3);
    let a = filled(INPUTS, BATCH, 4);
    let mut out = Matrix::zeros(HIDDEN, INPUTS);
    let mut g = c.benchmark_group("D·At 128x64·64x784 f32");
    g.throughput(flops(HIDDEN, BATCH, INPUTS));
    g.bench_function(BenchmarkId::new("nn_math::mul_nt_to", "fast"), |b| {
        b.iter(|| mul_nt_to(&d, &a, &mut out).unwrap());
    });
    g.bench_function(BenchmarkId::new("nalgebra::tr_mul_to", "dot loop"), |b| {
        // D·Aᵀ = (Dᵀ)ᵀ·(Aᵀ): nalgebra's transpose-aware product, given both operands
        // stored transposed (copies made once, outside the timing).
        let (dt, at) = (d.transpose(), a.transpose());
        b.iter(|| dt.tr_mul_to(&at, &mut out));
    });
    g.bench_function(
        BenchmarkId::new("nalgebra::mul_to", "copy transpose, then gemm"),
        |b| {
            b.iter(|| d.mul_to(&a.transpose(), &mut out));
        },
    );
    g.finish();
}

/// `W·A` with W 128×784 and A 784×64: the forward product, with `W` wherever the
/// allocator put it (packed, unless it happens to start on a cache line) and with `W`
/// stored as a layer stores it, from a cache line (read in place).
fn plain(c: &mut Criterion) {
    let w = filled(HIDDEN, INPUTS, 5);
    let a = filled(INPUTS, BATCH, 6);
    let mut out = Matrix::zeros(HIDDEN, BATCH);
    let aligned = AlignedVec::from_slice(w.as_slice());
    let w_aligned = MatrixView::from_slice(&aligned, HIDDEN, INPUTS);
    // The same weights 4 values past a line: always packed.
    let mut shifted = AlignedVec::from_slice(&vec![0.0; HIDDEN * INPUTS + 4]);
    shifted[4..].copy_from_slice(w.as_slice());
    let w_shifted = MatrixView::from_slice(&shifted[4..], HIDDEN, INPUTS);
    let mut g = c.benchmark_group("W·A 128x784·784x64 f32");
    g.throughput(flops(HIDDEN, INPUTS, BATCH));
    g.bench_function(BenchmarkId::new("nn_math::mul_to", "W packed"), |b| {
        b.iter(|| mul_to(&w_shifted, &a, &mut out).unwrap());
    });
    g.bench_function(BenchmarkId::new("nn_math::mul_to", "W in place"), |b| {
        b.iter(|| mul_to(&w_aligned, &a, &mut out).unwrap());
    });
    g.bench_function(BenchmarkId::new("nalgebra::mul_to", "gemm"), |b| {
        b.iter(|| w.mul_to(&a, &mut out));
    });
    g.finish();
}

criterion_group! {
    name = products;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2));
    targets = transposed_left, transposed_right, plain
}
criterion_main!(products);
