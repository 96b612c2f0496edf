//! Trustworthy fits from the command line: no silent bad answer, no lost work, no memory
//! that grows with what is asked rather than with the data. Each test is a user report.

use crate::common;
use serde_json::Value;
use std::process::{Command, Output, Stdio};

const HOUSES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/houses.csv");

fn descent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("descent runs")
}

/// `descent fit --data data --target target` plus `extra`.
fn fit_file(data: &str, target: &str, extra: &[&str]) -> Output {
    descent(&[&["fit", "--data", data, "--target", target][..], extra].concat())
}

/// `descent fit` on the houses fixture with the target `price`, plus `extra`.
fn houses(extra: &[&str]) -> Output {
    fit_file(HOUSES, "price", extra)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("stdout is JSON")
}

/// One clear error line (see [`common::one_error_line`]) and the given exit code.
fn refused(o: &Output, code: i32, needle: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", stderr(o));
    common::one_error_line(o, "descent", needle);
}

use common::write_file as write;

// ---------------------------------------------------------------- silent bad fits

#[test]
fn an_unconverged_fit_far_from_ols_is_warned_about_and_strict_fails() {
    // Unstandardized houses at default settings: plain GD crawls (R² 0.957 vs OLS 0.980).
    let base = [
        "fit",
        "--data",
        HOUSES,
        "--target",
        "price",
        "--backend",
        "fused",
    ];
    let o = descent(&[&base[..], &["--json"]].concat());
    let v = json(&o);
    assert_eq!(v["warnings"][0]["kind"], "far_from_reference", "{v}");
    let msg = v["warnings"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("--standardize") && msg.contains("epochs"),
        "{msg}"
    );
    assert!(v["ols_r2"].as_f64().unwrap() > v["r2"].as_f64().unwrap() + 1e-3);
    let err = stderr(&o);
    assert_eq!(err.matches("descent: warning:").count(), 1, "{err}");
    // The summary says so too.
    let o = descent(&base);
    assert!(String::from_utf8_lossy(&o.stdout).contains("warning: the fit stopped"));
    // --strict: the result is shown, no file is written, exit code 2.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fit.json");
    let o = descent(&[&base[..], &["--strict", "--out", out.to_str().unwrap()]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!o.stdout.is_empty());
    assert!(stderr(&o).contains("--strict"));
    assert!(!out.exists());
    // A converged standardized fit has no warning, and --strict passes.
    let o = descent(&[&base[..], &["--standardize", "--strict", "--json"]].concat());
    assert_eq!(json(&o)["warnings"], serde_json::json!([]));
}

#[test]
fn a_step_a_little_above_two_over_l_is_reported_as_divergence_early() {
    // auto picks 1/L; 2.2/L is just unstable. Before, this ran every epoch to weights ~1e8.
    let auto = json(&houses(&[
        "--standardize",
        "--backend",
        "fused",
        "--epochs",
        "1",
        "--json",
    ]));
    let mu = (auto["mu"].as_f64().unwrap() * 2.2).to_string();
    for backend in ["fused", "ndarray", "naive", "gpu"] {
        let o = houses(&[
            "--standardize",
            "--backend",
            backend,
            "--mu",
            &mu,
            "--epochs",
            "100000",
        ]);
        refused(&o, 1, "diverged at epoch");
        let epoch: usize = stderr(&o)
            .split("diverged at epoch ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .expect("epoch number");
        assert!(epoch < 1_000, "{backend}: caught only at epoch {epoch}");
    }
}

#[test]
fn an_unreachable_tol_is_warned_once() {
    let o = houses(&[
        "--standardize",
        "--backend",
        "fused",
        "--precision",
        "f32",
        "--tol",
        "1e-10",
        "--epochs",
        "500",
        "--json",
    ]);
    let v = json(&o);
    let kinds: Vec<_> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].clone())
        .collect();
    assert!(kinds.contains(&"tol_unreachable".into()), "{v}");
    assert_eq!(stderr(&o).matches("below what f32 can resolve").count(), 1);
    // A reachable tol in f64 raises nothing.
    let v = json(&houses(&[
        "--standardize",
        "--backend",
        "fused",
        "--tol",
        "1e-6",
        "--json",
    ]));
    assert!(v["converged"].as_bool().unwrap());
    assert_eq!(v["warnings"], serde_json::json!([]));
}

// ---------------------------------------------------------------- work lost or damaged

#[test]
fn output_paths_are_checked_before_the_fit() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/fit.json");
    for flag in ["--out", "--loss-csv", "--plot"] {
        let o = houses(&[
            "--backend",
            "fused",
            "--mu",
            "1e-20",
            "--epochs",
            "4000000000",
            flag,
            missing.to_str().unwrap(),
        ]);
        // Refused at once: a 4e9-epoch fit would never finish within the test.
        refused(&o, 1, flag);
        assert!(stderr(&o).contains("no/such/dir"), "{}", stderr(&o));
        let rest = stderr(&o).replace(dir.path().to_str().unwrap(), "");
        assert!(!rest.contains(".tmp"), "names a temp file: {}", stderr(&o));
    }
    for (path, needle) in [("/dev/full", "not a regular file"), ("/tmp", "directory")] {
        let o = houses(&["--out", path]);
        refused(&o, 1, needle);
    }
    let fifo = dir.path().join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let o = houses(&["--plot", fifo.to_str().unwrap()]);
    refused(&o, 1, "FIFO");
    let same = dir.path().join("x");
    let s = same.to_str().unwrap();
    let o = houses(&["--out", s, "--plot", s]);
    refused(&o, 1, "both write to");
}

#[test]
fn writes_go_through_symlinks_keep_modes_and_dash_is_stdout() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.json");
    symlink(&real, &link).unwrap();
    let csv = dir.path().join("loss.csv");
    let o = houses(&[
        "--standardize",
        "--backend",
        "fused",
        "--out",
        link.to_str().unwrap(),
        "--loss-csv",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert!(written["weights"].is_array());
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let new_mode = std::fs::metadata(&csv).unwrap().permissions().mode() & 0o777;
    assert_ne!(new_mode, 0o600, "a new file gets the umask's mode");
    // --out - prints the JSON on stdout, and the summary moves to stderr.
    let o = houses(&["--standardize", "--backend", "fused", "--out", "-"]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("stdout is the JSON");
    assert!(v["weights"].is_array());
    assert!(stderr(&o).contains("(intercept)"));
    // A read-only file is refused, not replaced.
    let ro = dir.path().join("ro.json");
    std::fs::write(&ro, "keep").unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    let o = houses(&["--out", ro.to_str().unwrap()]);
    refused(&o, 1, "read-only");
    assert_eq!(std::fs::read_to_string(&ro).unwrap(), "keep");
}

#[test]
fn plotting_an_all_zero_loss_history_is_instant_and_small() {
    // A zero target is fitted exactly from the first epoch: every loss is 0.
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::from("x,y\n");
    for i in 0..50 {
        rows.push_str(&format!("{},0\n", i as f64 / 7.0));
    }
    let data = write(dir.path(), "zero.csv", &rows);
    let svg = dir.path().join("loss.svg");
    let o = fit_file(
        &data,
        "y",
        &[
            "--standardize",
            "--backend",
            "fused",
            "--epochs",
            "20000",
            "--plot",
            svg.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let len = std::fs::metadata(&svg).unwrap().len();
    assert!(len > 100 && len < 1 << 20, "{len} bytes");
}

// ---------------------------------------------------------------- memory follows the work

#[test]
fn huge_epoch_counts_cost_only_the_epochs_run() {
    // 2³² − 1 epochs with a loss history: the fit converges within a few hundred epochs, and
    // neither the GPU's encoding nor the history may be sized by --epochs.
    let dir = tempfile::tempdir().unwrap();
    for backend in ["fused", "gpu"] {
        let csv = dir.path().join(format!("{backend}.csv"));
        let v = json(&houses(&[
            "--standardize",
            "--backend",
            backend,
            "--epochs",
            "4294967295",
            "--tol",
            "1e-3",
            "--check-every",
            "4",
            "--json",
            "--loss-csv",
            csv.to_str().unwrap(),
        ]));
        let epochs = v["epochs_run"].as_u64().unwrap();
        assert!(
            v["converged"].as_bool().unwrap() && epochs < 10_000,
            "{backend}: {v}"
        );
        let lines = std::fs::read_to_string(&csv).unwrap().lines().count() as u64;
        assert_eq!(lines, epochs + 1, "{backend}");
    }
}

// ---------------------------------------------------------------- input real tables bring

#[test]
fn an_offset_column_fits_when_standardized() {
    // Timestamps 1.7e9 ± 100: raw [1 X] is numerically rank-deficient, z-scores are not.
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::from("t,y\n");
    for i in 0..200 {
        let t = 1.7e9 + (i as f64 - 100.0);
        rows.push_str(&format!(
            "{t},{}\n",
            0.5 * (t - 1.7e9) + 3.0 + ((i * 7919) % 13) as f64 * 0.01
        ));
    }
    let data = write(dir.path(), "ts.csv", &rows);
    let v = json(&fit_file(
        &data,
        "y",
        &["--standardize", "--backend", "fused", "--json"],
    ));
    let w: Vec<f64> = v["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!((w[1] - 0.5).abs() < 1e-3, "{v}");
    assert_eq!(v["warnings"], serde_json::json!([]));
    // Values whose spread overflows f64 are called what they are.
    let data = write(
        dir.path(),
        "huge.csv",
        "a,y\n1.7e308,1\n-1.7e308,2\n1.7e308,3\n1.7e308,4\n",
    );
    let o = fit_file(&data, "y", &["--standardize", "--backend", "fused"]);
    refused(&o, 1, "overflows f64");
    // A constant column is refused even when its mean rounds (ten 0.1s average to
    // 0.09999999999999999, a spread of 1e-17 that z-scoring would divide by).
    let mut rows = String::from("a,c,y\n");
    for i in 0..10 {
        rows.push_str(&format!("{i},0.1,{}\n", 2 * i + 1));
    }
    let data = write(dir.path(), "constant.csv", &rows);
    let o = fit_file(&data, "y", &["--standardize", "--backend", "fused"]);
    refused(&o, 1, "column 'c' is constant and cannot be standardized");
}

#[test]
fn shape_and_width_limits_are_stated_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // p ≥ n: refused before any eigenvalue work (which took 14 s at this size).
    let (n, p) = (300, 1_500);
    let mut text: String = (1..=p).map(|j| format!("x{j},")).collect::<String>() + "y\n";
    for i in 0..n {
        for j in 0..=p {
            text.push_str(&format!(
                "{}{}",
                ((i * 31 + j * 17) % 97) as f64,
                if j == p { "\n" } else { "," }
            ));
        }
    }
    let data = write(dir.path(), "wide.csv", &text);
    let t = std::time::Instant::now();
    let o = fit_file(&data, "y", &["--backend", "fused"]);
    refused(&o, 1, "fewer rows (300) than columns (1501");
    assert!(t.elapsed().as_secs() < 10, "the shape check is not first");
    // The GPU's width limit is a number and a suggestion, not an internal message.
    let mut text: String = (1..=1000).map(|j| format!("x{j},")).collect::<String>() + "y\n";
    for i in 0..1200 {
        for j in 0..=1000 {
            let v = if j == i % 1000 || j == 1000 {
                1.0
            } else {
                ((i * 13 + j * 7) % 5) as f64
            };
            text.push_str(&format!("{v}{}", if j == 1000 { "\n" } else { "," }));
        }
    }
    let data = write(dir.path(), "p1000.csv", &text);
    let o = fit_file(&data, "y", &["--backend", "gpu", "--allow-rank-deficient"]);
    refused(&o, 1, "runs at most");
    assert!(
        stderr(&o).contains("--backend fused")
            && !stderr(&o).contains("loop passes per invocation than")
    );
}

#[test]
fn the_summary_aligns_long_names_and_prints_round_trip_digits() {
    let dir = tempfile::tempdir().unwrap();
    let long = "a_feature_name_longer_than_twenty_four_characters";
    let mut rows = format!("{long},b,y\n");
    for i in 0..40 {
        let (a, b) = (i as f64, ((i * 7) % 11) as f64);
        rows.push_str(&format!(
            "{a},{b},{}\n",
            1.0 + 0.5 * a - 2.0 * b + ((i * 3) % 5) as f64 * 0.1
        ));
    }
    let data = write(dir.path(), "long.csv", &rows);
    let o = fit_file(&data, "y", &["--standardize", "--backend", "fused"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("term"))
        .take(4)
        .collect();
    let widths: Vec<usize> = table.iter().map(|l| l.chars().count()).collect();
    assert!(
        widths.iter().all(|w| *w == widths[0]),
        "misaligned:\n{}",
        table.join("\n")
    );
    // Every weight printed reads back as exactly the JSON's f64.
    let v = json(&fit_file(
        &data,
        "y",
        &["--standardize", "--backend", "fused", "--json"],
    ));
    for (i, w) in v["weights"].as_array().unwrap().iter().enumerate() {
        let printed: f64 = table[i + 1]
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(printed.to_bits(), w.as_f64().unwrap().to_bits());
    }
}

#[test]
fn reproduce_says_exactly_which_paths_are_bit_exact() {
    let o = descent(&["reproduce", "--backends", "naive,fused"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let naive = text.lines().find(|l| l.starts_with("naive")).unwrap();
    assert!(
        naive.contains("2.959859852416156") && naive.contains("2.0329649630002757"),
        "{naive}"
    );
    assert!(naive.contains("bit-exact"), "{naive}");
    let fused = text.lines().find(|l| l.starts_with("fused")).unwrap();
    assert!(
        fused.contains("bit-exact") || fused.contains("ulp"),
        "{fused}"
    );
    // An overridden workload is another experiment: labelled custom, no article comparison.
    let o = descent(&["reproduce", "--backends", "naive", "--epochs", "10"]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.starts_with("workload custom") && !text.contains("vs article"),
        "{text}"
    );
}
