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

const HOUSES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/houses.csv");

fn with_csv(content: &str, args: &[&str], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.csv");
    std::fs::write(&path, content).unwrap();
    let mut full = vec!["fit", "--data", path.to_str().unwrap()];
    full.extend_from_slice(args);
    fails_cleanly(&full, needle);
}

#[test]
fn fit_file_problems() {
    fails_cleanly(
        &["fit", "--data", "/no/such/file.csv", "--target", "y"],
        "no such file",
    );
    with_csv("", &["--target", "y"], "empty");
    with_csv("x,y\n", &["--target", "y"], "no data rows");
    with_csv("x,y\n1,2\n3\n", &["--target", "y"], "line 3 has 1 fields");
    with_csv(
        "x,y\n1,2\n3,abc\n",
        &["--target", "y"],
        "line 3, column 'y': 'abc' is not a number",
    );
    with_csv(
        "x,y\n1,2\nnan,4\n",
        &["--target", "y"],
        "line 3, column 'x'",
    );
    with_csv("x,y\n1,2\n3,inf\n", &["--target", "y"], "not finite");
    with_csv("x,y\n1,2\n3,-inf\n", &["--target", "y"], "not finite");
    fails_cleanly(
        &["fit", "--data", HOUSES, "--target", "cost"],
        "no column 'cost'",
    );
    fails_cleanly(
        &[
            "fit",
            "--data",
            HOUSES,
            "--target",
            "price",
            "--features",
            "sqft,rooms",
        ],
        "no column 'rooms'",
    );
    fails_cleanly(
        &["fit", "--data", "/no/X.npy", "--target-file", "/no/y.npy"],
        "no such file",
    );
}

#[test]
fn fit_rank_deficient_tables() {
    with_csv(
        "a,b,c,y\n1,2,3,4\n2,3,1,5\n",
        &["--target", "y"],
        "fewer rows (2) than columns (4)",
    );
    with_csv(
        "a,b,y\n1,5,1\n2,5,2\n3,5,4\n4,5,3\n",
        &["--target", "y"],
        "column 'b' is constant",
    );
    with_csv(
        "a,b,y\n1,1,1\n2,2,2\n3,3,4\n4,4,3\n",
        &["--target", "y"],
        "columns 'a' and 'b' are identical",
    );
}

#[test]
fn fit_bad_settings_and_divergence() {
    let base = [
        "fit",
        "--data",
        HOUSES,
        "--target",
        "price",
        "--backend",
        "fused",
    ];
    let with = |extra: &[&str], needle: &str| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        fails_cleanly(&a, needle);
    };
    with(&["--mu", "0"], "mu must be");
    with(&["--mu", "-1"], "mu must be");
    with(&["--mu", "nan"], "mu must be");
    with(&["--mu", "quick"], "mu must be a number or 'auto'");
    with(&["--epochs", "0"], "epochs must be");
    with(&["--tol", "-1"], "tol must be");
    fails_cleanly(
        &[
            "fit",
            "--data",
            HOUSES,
            "--target",
            "price",
            "--backend",
            "tpu",
        ],
        "unknown backend",
    );
    with(&["--mu", "0.001"], "diverged at epoch");
    let mut gpu = base.to_vec();
    gpu[6] = "gpu";
    gpu.extend_from_slice(&["--mu", "0.001"]);
    fails_cleanly(&gpu, "--standardize");
}

#[test]
fn fit_adapter_problems() {
    let base = [
        "fit",
        "--data",
        HOUSES,
        "--target",
        "price",
        "--backend",
        "gpu",
        "--standardize",
    ];
    let mut a = vec!["--adapter", "no-such-gpu-xyz"];
    a.extend_from_slice(&base);
    fails_cleanly(&a, "no adapter matches");
    // No Vulkan driver at all: the error says how to get a software adapter.
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(base)
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(
        err.contains("no GPU adapter found") && err.contains("mesa-vulkan-drivers"),
        "{err}"
    );
}

/// The first adapter's storage-binding limit, when it is a small (software) one.
fn small_binding_limit() -> Option<u64> {
    let list = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(["adapters", "--json"])
        .output()
        .unwrap();
    let adapters: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let limit = adapters[0]["max_storage_buffer_binding_size"]
        .as_u64()
        .unwrap()
        .min(adapters[0]["max_buffer_size"].as_u64().unwrap());
    // A real GPU allows 2 GiB: data over its limit is too large for a test.
    (limit <= 128 << 20).then_some(limit)
}

#[test]
fn fit_data_too_large_for_the_adapter() {
    // One f64 column just over the adapter's storage-binding limit (128 MiB on lavapipe).
    let Some(limit) = small_binding_limit() else {
        eprintln!("SKIPPED: the adapter's binding limit is too large to exceed in a test");
        return;
    };
    let n = (limit / 8 + 1) as usize;
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = (dir.path().join("X.npy"), dir.path().join("y.npy"));
    let xs = ndarray::Array2::from_shape_fn((n, 1), |(i, _)| (i % 1000) as f64);
    ndarray_npy::write_npy(&x, &xs).unwrap();
    ndarray_npy::write_npy(&y, &xs.column(0).to_owned()).unwrap();
    fails_cleanly(
        &[
            "fit",
            "--data",
            x.to_str().unwrap(),
            "--target-file",
            y.to_str().unwrap(),
            "--backend",
            "gpu",
            "--epochs",
            "1",
            "--mu",
            "1e-9",
        ],
        &format!("needs {} bytes but the limit is {limit} bytes", n * 8),
    );
}

#[test]
fn reproduce_refuses_an_oversized_gpu_run_before_any_cpu_row() {
    let Some(limit) = small_binding_limit() else {
        eprintln!("SKIPPED: the adapter's binding limit is too large to exceed in a test");
        return;
    };
    let n = (limit / 8 + 1).to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args([
            "reproduce",
            "--n",
            &n,
            "--epochs",
            "1",
            "--backends",
            "fused,gpu",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(err.contains("data too large"), "{err}");
    assert!(
        !err.contains("fused done"),
        "the CPU row ran before the GPU was checked: {err}"
    );
}

#[test]
fn no_partial_output_file_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fit.json");
    fails_cleanly(
        &[
            "fit",
            "--data",
            HOUSES,
            "--target",
            "price",
            "--backend",
            "fused",
            "--mu",
            "0.001",
            "--out",
            out.to_str().unwrap(),
        ],
        "diverged",
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary left behind"
    );
}

/// The library names the settings its messages suggest neutrally (`mu`, `standardize`);
/// the command line writes them as its own flags, as it always has.
#[test]
fn messages_name_settings_as_the_command_lines_flags() {
    let stderr = |extra: &[&str]| {
        let mut args = vec![
            "fit",
            "--data",
            HOUSES,
            "--target",
            "price",
            "--backend",
            "fused",
        ];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_descent"))
            .args(&args)
            .output()
            .expect("descent runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        String::from_utf8_lossy(&out.stderr).trim_end().to_string()
    };
    let diverged = stderr(&["--mu", "0.001"]);
    assert!(
        diverged.ends_with(
            "the step is too large; use a smaller --mu, `--mu auto`, or `--standardize`"
        ),
        "{diverged}"
    );
    assert_eq!(
        stderr(&["--alpha", "0.5"]),
        "descent: error: invalid configuration: alpha (0.5) needs a penalty: add --penalty l2, \
         l1 or elasticnet"
    );
    assert_eq!(
        stderr(&["--penalty", "l1", "--alpha", "0"]),
        "descent: error: invalid configuration: penalty l1 with alpha = 0 has no L1 part to \
         apply; give alpha > 0 or use --penalty none"
    );
}

/// A logistic model without a penalty on collinear columns has no unique Newton reference:
/// the error names that reference and is the one `--allow-rank-deficient` accepts, as for OLS.
#[test]
fn a_rank_deficient_newton_reference_is_named_and_can_be_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.csv");
    let mut csv = String::from("a,b,y\n");
    for i in 0..40 {
        let x = (i as f64 * 0.37).sin();
        csv.push_str(&format!("{x},{x},{}\n", u8::from((i * 7) % 3 == 0)));
    }
    std::fs::write(&path, csv).unwrap();
    let args = [
        "fit",
        "--data",
        path.to_str().unwrap(),
        "--target",
        "y",
        "--loss",
        "logistic",
        "--backend",
        "fused",
        "--epochs",
        "20",
    ];
    fails_cleanly(
        &args,
        "the Newton reference is rank-deficient: [1 X] has rank 2 but 3 columns (columns 'a' \
         and 'b' are identical: the unpenalized logistic loss has no unique minimum; add an L2 \
         penalty, e.g. --penalty l2 --alpha 1e-4; if columns differ greatly in scale or offset, \
         try --standardize)",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .args(["--allow-rank-deficient", "--json"])
        .output()
        .expect("descent runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["reference"], "newton");
    assert!(json["reference_weights"].is_null());
    let note = json["ols_note"].as_str().unwrap();
    assert!(
        note.starts_with("the Newton reference is rank-deficient"),
        "{note}"
    );
    assert_eq!(json["reference_note"], json["ols_note"]);
}
