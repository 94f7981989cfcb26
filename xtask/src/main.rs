//! Project automation, in the cargo-xtask style: `cargo xtask <command>`.
//!
//! `.cargo/config.toml` aliases `cargo xtask` to `cargo run --package xtask --`. This
//! crate only orchestrates: it runs `cargo` (through `$CARGO`, the cargo that invoked it)
//! with the right arguments and reports what happened. It has no dependencies.
//!
//! Commands:
//! - `test`: everything CI runs (format check, clippy with warnings denied, all unit,
//!   integration and doc tests, rustdoc with warnings denied, then the derivative
//!   property tests with 2,000 cases each), with a one-line summary per step.
//! - `bench [ARGS…]`: the criterion benchmarks of every crate (ARGS go to criterion),
//!   then the end-to-end MLP benchmark; `bench mlp [--quick]` runs only the latter, and
//!   `bench cnn [--runs N] [--threads 1,2]` the end-to-end CNN benchmark (W5), `bench rnn
//!   …` the RNN benchmark (W6).
//! - `fuzz [--cases N]`: the hostile-input suite of every loader with N cases per
//!   property (default 100,000), release build.
//! - `plots`: draws every activation function and its derivative into `docs/figures/`.

mod bench;
mod fuzz;
mod plots;
mod run;
mod test;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test          format check, clippy (-D warnings), all tests, and the derivative
                property tests with a raised case count; fails if any step fails
  bench [ARGS]  run the criterion benchmarks (ARGS are passed to criterion, e.g. a filter),
                then the end-to-end MLP benchmark
  bench mlp [--quick]
                only the end-to-end MLP benchmark (W1, W2 at 1 and 2 threads,
                and each through a hand-written loop)
  bench cnn [--runs N] [--threads 1,2]
                only the end-to-end CNN benchmark (W5 of ../shared/anchors, median of
                N runs, default 3, at each thread count)
  bench rnn [--runs N] [--threads 1,2]
                only the end-to-end RNN benchmark (W6, likewise)
  fuzz [--cases N]
                the hostile-input suite of every loader (IDX, CSV, model files,
                checkpoints, PyTorch state dicts) with N cases per property, default
                100,000, under an allocator that fails the run on an oversized allocation
  plots         draw the activation functions and their derivatives into docs/figures/
  help          show this message";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("plots") => plots::run(),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => {
            if let Some(cmd) = other {
                eprintln!("xtask: unknown command {cmd:?}\n");
            }
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
