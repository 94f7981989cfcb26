//! `cargo xtask test`: every check CI runs, in order, with a summary.

use std::process::ExitCode;

use crate::run::{Outcome, cargo, step, summarize};

/// Cases per property for the derivative and gradient checks (proptest's default is 256).
const PROPERTY_CASES: &str = "2000";

/// Name filters of the test modules that hold the finite-difference property tests.
const PROPERTY_MODULES: [&str; 2] = ["derivatives::", "gradients::"];

pub fn run(args: &[String]) -> ExitCode {
    if let Some(extra) = args.first() {
        eprintln!("xtask test: takes no arguments (got {extra:?})");
        return ExitCode::from(2);
    }
    let mut outcomes: Vec<Outcome> = Vec::new();

    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    outcomes.push(step("format (cargo fmt --check)", fmt));

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    outcomes.push(step("clippy (-D warnings)", clippy));

    let mut tests = cargo();
    tests.args(["test", "--workspace"]);
    outcomes.push(step("tests (unit, integration, doc)", tests));

    let mut docs = cargo();
    docs.env("RUSTDOCFLAGS", "-D warnings")
        .args(["doc", "--workspace", "--no-deps", "--quiet"]);
    outcomes.push(step("docs (rustdoc -D warnings)", docs));

    let mut props = cargo();
    props
        .env("PROPTEST_CASES", PROPERTY_CASES)
        .args(["test", "--workspace", "--tests", "--"]);
    props.args(PROPERTY_MODULES);
    outcomes.push(step("FD property tests ×2000", props));

    // Every kernel build on this machine: the products' tests (and nn-core's, which run
    // them inside the passes) again with each narrower build forced (`nn_math::simd`).
    let builds = [
        ("avx2", "kernel paths (NN_SIMD=avx2)"),
        ("portable", "kernel paths (NN_SIMD=portable)"),
    ];
    for (build, name) in builds {
        let mut kernels = cargo();
        kernels.env("NN_SIMD", build).args([
            "test",
            "--package",
            "nn-math",
            "--package",
            "nn-core",
            "--tests",
        ]);
        outcomes.push(step(name, kernels));
    }

    // A smoke test of the end-to-end benchmark: one repetition on one thread of W2 and
    // W1, each beside its hand-written loop, after checking that the loop and the library
    // compute the same weights bit for bit (a few seconds); `cargo xtask bench mlp`
    // measures.
    let quick = [
        "--quick".to_owned(),
        "--threads".to_owned(),
        "1".to_owned(),
        "--workloads".to_owned(),
        "W2,W1".to_owned(),
    ];
    outcomes.push(step(
        "MLP benchmark smoke run",
        crate::bench::mlp(quick.iter()),
    ));

    if summarize("xtask test", &outcomes) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
