//! The `descent` binary end to end: reproduce, adapters, adapter selection.

use crate::common;
use common::{pair, reference};
use serde_json::Value;
use std::process::{Command, Output};

pub fn descent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .output()
        .expect("descent runs")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "descent failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON value")
}

#[test]
fn reproduce_gpu_matches_the_article_in_f32_and_f64() {
    let r = reference();
    let printed = pair(&r["article_printed"]["gd_pure_python"]);
    for (precision, tol) in [("f32", 3e-5), ("f64", 1e-9)] {
        let v = json_of(&descent(&[
            "reproduce",
            "--backends",
            "gpu",
            "--precision",
            precision,
            "--json",
        ]));
        let run = &v["runs"][0];
        assert_eq!(run["backend"], "gpu");
        assert_eq!(run["precision"], precision);
        let w = pair(&run["weights"]);
        assert!(
            (w[0] - printed[0]).abs() < tol && (w[1] - printed[1]).abs() < tol,
            "{precision}: {w:?}"
        );
        let diff = run["max_abs_diff_vs_ols"].as_f64().unwrap();
        assert!((diff - 0.0355).abs() < 1e-3, "distance to OLS {diff}");
    }
}

#[test]
fn reproduce_json_has_the_documented_shape_and_every_backend() {
    let v = json_of(&descent(&["reproduce", "--epochs", "100", "--json"]));
    let w = &v["workload"];
    assert_eq!(w["n"], 10_000);
    assert_eq!(w["features"], 1);
    assert_eq!(w["epochs"], 100);
    assert_eq!(w["mu"], 0.001);
    assert_eq!(w["seed"], 444);
    let ols = pair(&v["ols"]);
    let want = pair(&reference()["ols_pinv_f64"]);
    assert!((ols[0] - want[0]).abs() < 1e-10 && (ols[1] - want[1]).abs() < 1e-10);
    let runs = v["runs"].as_array().unwrap();
    let names: Vec<_> = runs
        .iter()
        .map(|r| r["backend"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["naive", "ndarray", "fused", "gpu"],
        "lavapipe must be found in CI"
    );
    let want100 = pair(&reference()["gd_f64"]["100"]);
    for r in runs {
        for key in [
            "backend",
            "precision",
            "device",
            "seconds",
            "weights",
            "max_abs_diff_vs_ols",
        ] {
            assert!(!r[key].is_null(), "{key} missing in {r}");
        }
        let w = pair(&r["weights"]);
        assert!((w[0] - want100[0]).abs() < 1e-9, "{r}");
        assert!(r["seconds"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn reproduce_table_shows_every_row_and_the_article() {
    // The article's own workload (an overridden one is `custom` and is not compared).
    let out = descent(&["reproduce", "--backends", "fused,ndarray"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("fused") && text.contains("ndarray") && text.contains("OLS"));
    assert!(
        text.contains("18.65") && text.contains("2.959859852416156") && text.contains("vs article"),
        "{text}"
    );
}

#[test]
fn adapters_json_is_valid_and_selection_works_by_index_and_name() {
    let v = json_of(&descent(&["adapters", "--json"]));
    let list = v.as_array().unwrap();
    assert!(!list.is_empty(), "CI installs lavapipe");
    for a in list {
        for key in [
            "index",
            "name",
            "backend",
            "device_type",
            "shader_f64",
            "max_storage_buffer_binding_size",
        ] {
            assert!(!a[key].is_null(), "{key}");
        }
    }
    let name = list[0]["name"].as_str().unwrap();
    let needle = name.split_whitespace().next().unwrap().to_uppercase();
    for choice in ["0", needle.as_str()] {
        let v = json_of(&descent(&[
            "--adapter",
            choice,
            "reproduce",
            "--backends",
            "gpu",
            "--epochs",
            "5",
            "--n",
            "100",
            "--json",
        ]));
        assert_eq!(v["runs"][0]["device"], name, "--adapter {choice}");
    }
}

#[test]
fn reproduce_without_any_adapter_skips_the_gpu_row_and_says_why() {
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(["reproduce", "--epochs", "10", "--json"])
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .output()
        .unwrap();
    let v = json_of(&out);
    let names: Vec<_> = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["backend"].clone())
        .collect();
    assert_eq!(names, ["naive", "ndarray", "fused"]);
    assert_eq!(v["skipped"][0]["backend"], "gpu");
    assert!(v["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("mesa-vulkan-drivers"));
    // Asked for explicitly, a missing GPU is an error rather than a skip.
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(["reproduce", "--epochs", "10", "--backends", "gpu"])
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no GPU adapter found"));
}
