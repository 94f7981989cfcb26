//! `cargo xtask bench`: the criterion benchmarks of every crate.

use std::process::ExitCode;

use crate::run::{cargo, step, summarize};

pub fn run(args: &[String]) -> ExitCode {
    let mut bench = cargo();
    bench
        .args(["bench", "--workspace", "--benches", "--"])
        .args(args);
    let outcome = step("criterion benchmarks", bench);
    if summarize("xtask bench", &[outcome]) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
