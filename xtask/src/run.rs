//! Running cargo and reporting steps.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The cargo that invoked xtask (or `cargo` from `PATH`), run from the workspace root.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root());
    cmd
}

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// What one step did.
pub struct Outcome {
    /// The step's name, as printed in the summary.
    pub name: &'static str,
    /// Whether the command exited successfully.
    pub ok: bool,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Tests passed and failed, summed over the `test result:` lines it printed.
    pub passed: u64,
    /// See `passed`.
    pub failed: u64,
}

/// Runs `cmd` as the step `name`, echoing its output while counting test results.
pub fn step(name: &'static str, mut cmd: Command) -> Outcome {
    eprintln!("\n==> {name}: {}", describe(&cmd));
    let start = Instant::now();
    cmd.stdout(Stdio::piped());
    let (mut passed, mut failed) = (0, 0);
    let ok = match cmd.spawn() {
        Ok(mut child) => {
            if let Some(out) = child.stdout.take() {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    println!("{line}");
                    if let Some((p, f)) = parse_test_result(&line) {
                        passed += p;
                        failed += f;
                    }
                }
            }
            child.wait().map(|s| s.success()).unwrap_or(false)
        }
        Err(e) => {
            eprintln!("xtask: could not start {name}: {e}");
            false
        }
    };
    Outcome {
        name,
        ok,
        seconds: start.elapsed().as_secs_f64(),
        passed,
        failed,
    }
}

/// `test result: ok. 40 passed; 0 failed; …` → `(40, 0)`.
fn parse_test_result(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let count = |word: &str| -> Option<u64> {
        rest.split(';').find_map(|part| {
            let part = part
                .trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ");
            part.strip_suffix(word)?.trim().parse().ok()
        })
    };
    Some((count(" passed")?, count(" failed")?))
}

fn describe(cmd: &Command) -> String {
    let envs: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, v?.to_str()?)))
        .collect();
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut parts = envs;
    parts.push("cargo".into());
    parts.extend(args);
    parts.join(" ")
}

/// Prints one line per step and the closing count; returns whether all steps passed.
pub fn summarize(title: &str, outcomes: &[Outcome]) -> bool {
    println!("\n{title} summary:");
    for o in outcomes {
        let status = if o.ok { "ok  " } else { "FAIL" };
        let tests = if o.passed + o.failed > 0 {
            format!(" ({} passed, {} failed)", o.passed, o.failed)
        } else {
            String::new()
        };
        println!("  {status} {:<32} {:>7.1} s{tests}", o.name, o.seconds);
    }
    let passed: u64 = outcomes.iter().map(|o| o.passed).sum();
    let failed: u64 = outcomes.iter().map(|o| o.failed).sum();
    let all_ok = outcomes.iter().all(|o| o.ok);
    let failed_steps = outcomes.iter().filter(|o| !o.ok).count();
    if !all_ok {
        println!("  {failed_steps} step(s) failed");
    }
    if passed + failed > 0 {
        println!("summary: {passed} passed, {failed} failed");
    } else {
        println!("{title}: {}", if all_ok { "ok" } else { "failed" });
    }
    all_ok
}

#[cfg(test)]
mod tests {
    use super::parse_test_result;

    #[test]
    fn parses_libtest_summaries() {
        let ok = "test result: ok. 40 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.02s";
        assert_eq!(parse_test_result(ok), Some((40, 0)));
        let bad =
            "test result: FAILED. 12 passed; 1 failed; 0 ignored; 0 measured; 27 filtered out";
        assert_eq!(parse_test_result(bad), Some((12, 1)));
        assert_eq!(parse_test_result("running 40 tests"), None);
    }
}
