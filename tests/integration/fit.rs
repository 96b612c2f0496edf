//! `descent fit` on real tables: the fixture reaches OLS on every backend; stdin, .npy and
//! the output files work.

use crate::common;
use common::max_rel_diff;
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

const HOUSES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/houses.csv");

fn fit_json(args: &[&str], stdin: Option<&[u8]>) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_descent"))
        .arg("fit")
        .args(args)
        .arg("--json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn standardized_auto_step_reaches_ols_on_every_backend() {
    for (backend, precision, tol) in [
        ("naive", "f64", 1e-6),
        ("ndarray", "f64", 1e-6),
        ("fused", "f64", 1e-6),
        ("gpu", "f64", 1e-6),
        ("gpu", "f32", 1e-3),
    ] {
        let v = fit_json(
            &[
                "--data",
                HOUSES,
                "--target",
                "price",
                "--standardize",
                "--mu",
                "auto",
                "--backend",
                backend,
                "--precision",
                precision,
            ],
            None,
        );
        let (w, ols) = (floats(&v["weights"]), floats(&v["ols"]));
        assert_eq!(w.len(), 6);
        let d = max_rel_diff(&w, &ols);
        assert!(d < tol, "{backend} {precision}: {d}");
        assert_eq!(v["backend"], backend);
        assert_eq!(v["feature_names"][0], "sqft");
        assert!(v["mu"].as_f64().unwrap() > 0.0);
        assert!(v["r2"].as_f64().unwrap() > 0.95);
        for key in [
            "epochs_run",
            "mse",
            "max_abs_diff_vs_ols",
            "seconds",
            "precision",
            "device",
        ] {
            assert!(!v[key].is_null(), "{key}");
        }
    }
}

#[test]
fn stdin_csv_and_feature_selection() {
    let csv = std::fs::read(HOUSES).unwrap();
    let v = fit_json(
        &[
            "--data",
            "-",
            "--target",
            "price",
            "--features",
            "sqft,age_years",
            "--standardize",
            "--backend",
            "fused",
        ],
        Some(&csv),
    );
    assert_eq!(v["feature_names"], serde_json::json!(["sqft", "age_years"]));
    assert!(max_rel_diff(&floats(&v["weights"]), &floats(&v["ols"])) < 1e-6);
}

#[test]
fn npy_input_matches_csv_input() {
    let dir = tempfile::tempdir().unwrap();
    let ds = descent::data::load(&descent::data::InputSpec {
        data: HOUSES.into(),
        target: Some("price".into()),
        ..Default::default()
    })
    .unwrap()
    .dataset;
    let (x, y) = (dir.path().join("X.npy"), dir.path().join("y.npy"));
    ndarray_npy::write_npy(&x, &ds.features.to_f64()).unwrap();
    ndarray_npy::write_npy(&y, &ds.targets.mapv(|v| v as f32)).unwrap(); // f32 is accepted too
    let v = fit_json(
        &[
            "--data",
            x.to_str().unwrap(),
            "--target-file",
            y.to_str().unwrap(),
            "--standardize",
            "--backend",
            "fused",
        ],
        None,
    );
    assert_eq!(v["feature_names"][4], "x5");
    assert!(max_rel_diff(&floats(&v["weights"]), &floats(&v["ols"])) < 1e-6);
}

#[test]
fn output_files_and_tolerance_on_the_gpu() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (out, loss, plot) = (p("fit.json"), p("loss.csv"), p("loss.svg"));
    let v = fit_json(
        &[
            "--data",
            HOUSES,
            "--target",
            "price",
            "--standardize",
            "--backend",
            "gpu",
            "--tol",
            "1e-3",
            "--check-every",
            "16",
            "--epochs",
            "100000",
            "--out",
            &out,
            "--loss-csv",
            &loss,
            "--plot",
            &plot,
        ],
        None,
    );
    let epochs = v["epochs_run"].as_u64().unwrap();
    assert!(v["converged"].as_bool().unwrap() && epochs < 100_000 && epochs.is_multiple_of(16));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["weights"], v["weights"]);
    let csv = std::fs::read_to_string(&loss).unwrap();
    assert_eq!(csv.lines().count() as u64, epochs + 1);
    assert!(csv.starts_with("epoch,mse\n1,"));
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("<svg") && svg.contains("epoch"));
}
