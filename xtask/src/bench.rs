//! `cargo xtask bench`: the criterion benchmarks of every crate (nn-train's optimizer
//! steps among them), then the end-to-end MLP benchmark; `cargo xtask bench mlp
//! [--quick]` runs only the latter, `cargo xtask bench cnn` and `rnn` the end-to-end CNN
//! and RNN benchmarks (W5, W6), `cargo xtask bench NAME` the criterion benchmarks whose names contain `NAME`.

use std::process::ExitCode;

use crate::run::{cargo, step, summarize};

pub fn run(args: &[String]) -> ExitCode {
    let mut outcomes = Vec::new();
    if let Some((name, title)) = args.first().and_then(|a| match a.as_str() {
        "cnn" => Some(("cnn", "end-to-end CNN (W5)")),
        "rnn" => Some(("rnn", "end-to-end RNN (W6)")),
        _ => None,
    }) {
        let mut bench = cargo();
        bench
            .args(["bench", "--package", "nn-train", "--bench", name, "--"])
            .args(&args[1..]);
        outcomes.push(step(title, bench));
        return if summarize(&format!("xtask bench {name}"), &outcomes) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let mlp_only = args.first().is_some_and(|a| a == "mlp");
    if !mlp_only {
        let mut bench = cargo();
        bench
            .args([
                "bench",
                "--workspace",
                "--benches",
                "--exclude",
                "nn-train",
                "--",
            ])
            .args(args);
        outcomes.push(step("criterion benchmarks", bench));
        // nn-train's criterion benchmark (its `mlp` bench is the end-to-end run below).
        let mut optimizers = cargo();
        optimizers
            .args([
                "bench",
                "--package",
                "nn-train",
                "--bench",
                "optimizers",
                "--",
            ])
            .args(args);
        outcomes.push(step("criterion benchmarks (optimizers)", optimizers));
    }
    if mlp_only || args.is_empty() {
        outcomes.push(step(
            "end-to-end MLP (W1, W2, and each through a hand-written loop)",
            mlp(args.iter().skip(usize::from(mlp_only))),
        ));
    }
    if summarize("xtask bench", &outcomes) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The end-to-end benchmark (a release build), with the given extra arguments.
pub fn mlp<'a>(extra: impl Iterator<Item = &'a String>) -> std::process::Command {
    let mut cmd = cargo();
    cmd.args(["bench", "--package", "nn-train", "--bench", "mlp", "--"])
        .args(extra);
    cmd
}
