//! `cargo xtask plots`: draws the activation functions into `docs/figures/`.

use std::process::ExitCode;

use crate::run::{cargo, step, summarize, workspace_root};

pub fn run() -> ExitCode {
    let dir = workspace_root().join("docs/figures");
    let mut plots = cargo();
    plots
        .args([
            "run",
            "--quiet",
            "--package",
            "nn-activations",
            "--example",
            "plot_activations",
            "--",
        ])
        .arg(&dir);
    let outcome = step("activation figures", plots);
    if summarize("xtask plots", &[outcome]) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
