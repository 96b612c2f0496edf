//! Bad input: one clear line on stderr, a non-zero exit, nothing on stdout, no panic.

use std::process::Command;

fn fails_cleanly(args: &[&str], needle: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .output()
        .expect("descent runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    assert_ne!(out.status.code(), Some(101), "{args:?} panicked: {err}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    let lines: Vec<_> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() <= 2, "{args:?}: {err}");
    assert!(
        err.to_lowercase().contains(&needle.to_lowercase()),
        "{args:?}: {err}"
    );
}

#[test]
fn bad_step_sizes() {
    fails_cleanly(&["reproduce", "--mu", "0"], "mu must be");
    fails_cleanly(&["reproduce", "--mu", "-0.5"], "mu must be");
    fails_cleanly(&["reproduce", "--mu", "nan"], "mu must be");
    fails_cleanly(&["reproduce", "--mu", "inf"], "mu must be");
    fails_cleanly(&["reproduce", "--mu", "fast"], "invalid value");
}

#[test]
fn bad_sizes_and_names() {
    fails_cleanly(&["reproduce", "--epochs", "0"], "epochs must be");
    fails_cleanly(&["reproduce", "--n", "0"], "--n must be");
    fails_cleanly(&["reproduce", "--features", "0"], "--features must be");
    fails_cleanly(&["reproduce", "--precision", "f16"], "unknown precision");
    fails_cleanly(&["reproduce", "--backends", "cuda"], "unknown backend");
    fails_cleanly(&["reproduce", "--workload", "huge"], "unknown workload");
}

#[test]
fn unknown_adapter_lists_what_exists() {
    fails_cleanly(
        &[
            "--adapter",
            "no-such-gpu-xyz",
            "reproduce",
            "--backends",
            "gpu",
            "--epochs",
            "1",
        ],
        "no adapter matches",
    );
    fails_cleanly(
        &[
            "--adapter",
            "99",
            "reproduce",
            "--backends",
            "gpu",
            "--epochs",
            "1",
        ],
        "no adapter with index 99",
    );
}

#[test]
fn divergence_names_the_epoch() {
    fails_cleanly(
        &["reproduce", "--mu", "50", "--backends", "fused"],
        "diverged at epoch",
    );
    fails_cleanly(
        &["reproduce", "--mu", "50", "--backends", "gpu"],
        "diverged at epoch",
    );
}
