//! probe
use nn_math::nalgebra::{DMatrixView, DMatrixViewMut};
use nn_math::{Matrix, Op, gemm, mul_to};
use std::sync::Barrier;
use std::time::Instant;

struct P(*mut f32);
unsafe impl Sync for P {}
unsafe impl Send for P {}
impl P {
    fn get(&self) -> *mut f32 {
        self.0
    }
}

fn main() {
    let b = 64;
    let x = Matrix::<f32>::from_fn(784, b, |i, j| ((i * j) % 5) as f32 * 1e-3);
    let d = Matrix::<f32>::from_fn(128, b, |i, j| ((i + j) % 3) as f32 * 1e-3);
    let mut w = Matrix::<f32>::from_fn(128, 784, |i, j| ((i + j) % 7) as f32);
    let wp = P(w.as_mut_ptr());
    let n = 2000;
    // One step on columns c of W: forward partial and update.
    let step = |c: std::ops::Range<usize>, out: &mut Matrix<f32>| {
        let wv = unsafe {
            DMatrixView::from_slice(
                std::slice::from_raw_parts(wp.get().add(c.start * 128), c.len() * 128),
                128,
                c.len(),
            )
        };
        mul_to(&wv, &x.rows_range(c.clone()), out).unwrap();
        let mut wm = unsafe {
            DMatrixViewMut::from_slice(
                std::slice::from_raw_parts_mut(wp.get().add(c.start * 128), c.len() * 128),
                128,
                c.len(),
            )
        };
        gemm(
            -1e-3,
            &d,
            Op::NoTrans,
            &x.rows_range(c.clone()),
            Op::Trans,
            1.0,
            &mut wm,
        )
        .unwrap();
    };
    // Row split for comparison.
    let step_rows = |r: std::ops::Range<usize>, out: &mut Matrix<f32>| {
        let wv = unsafe {
            DMatrixView::from_slice_with_strides(
                std::slice::from_raw_parts(wp.get().add(r.start), 128 * 783 + r.len()),
                r.len(),
                784,
                1,
                128,
            )
        };
        mul_to(&wv, &x, out).unwrap();
        let mut wm = unsafe {
            DMatrixViewMut::from_slice_with_strides_mut(
                std::slice::from_raw_parts_mut(wp.get().add(r.start), 128 * 783 + r.len()),
                r.len(),
                784,
                1,
                128,
            )
        };
        gemm(
            -1e-3,
            &d.rows_range(r.clone()),
            Op::NoTrans,
            &x,
            Op::Trans,
            1.0,
            &mut wm,
        )
        .unwrap();
    };
    let mut full = Matrix::<f32>::zeros(128, b);
    let t0 = Instant::now();
    for _ in 0..n {
        step(0..784, &mut full);
    }
    println!(
        "alone full: {:.1} us",
        t0.elapsed().as_secs_f64() / n as f64 * 1e6
    );
    let barrier = Barrier::new(2);
    let run = |t: usize, cols: bool| {
        let mut out = Matrix::<f32>::zeros(128, b);
        let mut outr = Matrix::<f32>::zeros(64, b);
        let mut acc = 0.0;
        for _ in 0..n {
            barrier.wait();
            let t0 = Instant::now();
            if cols {
                step(t * 392..(t + 1) * 392, &mut out);
            } else {
                step_rows(t * 64..(t + 1) * 64, &mut outr);
            }
            acc += t0.elapsed().as_secs_f64();
        }
        acc / n as f64 * 1e6
    };
    for cols in [true, false] {
        let t0 = Instant::now();
        std::thread::scope(|s| {
            let h = s.spawn(|| run(1, cols));
            let a = run(0, cols);
            let wall = t0.elapsed().as_secs_f64() / n as f64 * 1e6;
            println!(
                "{}: concurrent {a:.1} {:.1} us, wall/iter {wall:.1}",
                if cols { "column split" } else { "row split" },
                h.join().unwrap()
            );
        });
    }
}
