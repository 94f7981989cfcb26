//! `cargo xtask fuzz [--cases N]`: the hostile-input suite of `nn-train/tests/fuzz` with
//! many cases (default 100,000 per property) in a release build with overflow checks.
//!
//! The suite's allocator measures each load's peak memory against a budget of a few
//! times the input's size and refuses any single allocation over 1 GiB, so that an
//! out-of-memory abort fails the run as it would on a machine without the memory.
//! (cargo-fuzz needs a nightly toolchain, which this project does not use.)

use std::process::ExitCode;

use crate::run::{cargo, step, summarize};

/// Cases per property in the long run.
const DEFAULT_CASES: u64 = 100_000;

pub fn run(args: &[String]) -> ExitCode {
    let cases = match args {
        [] => DEFAULT_CASES,
        [flag, n] if flag == "--cases" => match n.parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("xtask fuzz: --cases takes a positive number (got {n:?})");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("xtask fuzz: usage: cargo xtask fuzz [--cases N]");
            return ExitCode::from(2);
        }
    };
    let mut fuzz = cargo();
    // Overflow checks stay on in the release build, so that an arithmetic overflow on
    // hostile sizes fails the run here as it does in the debug build of `cargo xtask test`.
    fuzz.env("NN_FUZZ_CASES", cases.to_string())
        .env("CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS", "true")
        .args([
            "test",
            "--release",
            "--package",
            "nn-train",
            "--test",
            "fuzz",
        ]);
    let outcome = step("hostile input, every loader", fuzz);
    if summarize(
        &format!("xtask fuzz ({cases} cases per property)"),
        &[outcome],
    ) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
