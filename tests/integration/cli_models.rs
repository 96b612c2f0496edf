//! Losses and penalties from the command line: every backend reaches the model's own f64
//! reference (Newton for logistic, closed-form ridge, KKT conditions with an L1 part) on
//! fresh seeded problems, and bad model settings are refused with one clear line.

use crate::common;
use common::{fresh_seed, one_error_line, write_file};
use rand::{RngExt, SeedableRng};
use serde_json::Value;
use std::process::{Command, Output, Stdio};

fn descent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("descent runs")
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("stdout is JSON")
}

/// A table with columns f1..fp and `label`/`y`: features of mixed scale and offset (so
/// --standardize matters), labels drawn from a logistic model (overlapping classes) or
/// targets from a linear one where only the first `informative` features matter.
fn table(seed: u64, n: usize, p: usize, informative: usize, logistic: bool) -> String {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out: Vec<String> = vec![(1..=p)
        .map(|j| format!("f{j}"))
        .chain(std::iter::once("y".to_string()))
        .collect::<Vec<_>>()
        .join(",")];
    for _ in 0..n {
        let x: Vec<f64> = (0..p)
            .map(|j| (j as f64 + 1.0) * (rng.random::<f64>() * 2.0 - 1.0) + j as f64)
            .collect();
        let z: f64 = 0.3
            + x.iter()
                .take(informative)
                .enumerate()
                .map(|(j, v)| {
                    (v - j as f64) / (j as f64 + 1.0) * if j % 2 == 0 { 1.5 } else { -1.0 }
                })
                .sum::<f64>();
        let y = if logistic {
            (rng.random::<f64>() < 1.0 / (1.0 + (-z).exp())) as u8 as f64
        } else {
            z + 0.3 * (rng.random::<f64>() - 0.5)
        };
        out.push(
            x.iter()
                .chain(std::iter::once(&y))
                .map(|v| format!("{v}"))
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    out.join("\n") + "\n"
}

fn fit(data: &str, extra: &[&str]) -> Value {
    json(&descent(
        &[
            &["fit", "--data", data, "--target", "y", "--json"][..],
            extra,
        ]
        .concat(),
    ))
}

const BACKENDS: [&str; 4] = ["naive", "ndarray", "fused", "gpu"];

#[test]
fn logistic_l2_reaches_the_newton_reference_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let seed = fresh_seed("logistic newton");
    let data = write_file(dir.path(), "t.csv", table(seed, 400, 4, 3, true));
    for backend in BACKENDS {
        for (precision, tol, within) in [("f64", "1e-10", 1e-6), ("f32", "1e-4", 1e-3)] {
            let v = fit(
                &data,
                &[
                    "--loss",
                    "logistic",
                    "--penalty",
                    "l2",
                    "--alpha",
                    "0.01",
                    "--standardize",
                    "--backend",
                    backend,
                    "--precision",
                    precision,
                    "--tol",
                    tol,
                    "--epochs",
                    "50000",
                ],
            );
            let what = format!("{backend} {precision}: {v}");
            assert_eq!(v["reference"], "newton", "{what}");
            assert_eq!(v["loss"], "logistic", "{what}");
            assert_eq!(v["penalty"], "l2", "{what}");
            assert_eq!(v["alpha"], 0.01, "{what}");
            let d = v["distance_to_reference"].as_f64().unwrap();
            assert!(d <= within, "{what}");
            let acc = v["accuracy"].as_f64().unwrap();
            assert!((0.5..=1.0).contains(&acc), "{what}");
            assert!(v["log_loss"].as_f64().unwrap() > 0.0, "{what}");
            assert!(v.get("mse").is_none() && v.get("max_abs_diff_vs_ols").is_none());
        }
    }
}

#[test]
fn squared_l2_reaches_closed_form_ridge_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let seed = fresh_seed("ridge");
    let data = write_file(dir.path(), "t.csv", table(seed, 300, 5, 5, false));
    for backend in BACKENDS {
        let v = fit(
            &data,
            &[
                "--penalty",
                "l2",
                "--alpha",
                "0.2",
                "--standardize",
                "--backend",
                backend,
                "--tol",
                "1e-11",
                "--epochs",
                "50000",
            ],
        );
        assert_eq!(v["reference"], "ridge", "{backend}: {v}");
        let d = v["distance_to_reference"].as_f64().unwrap();
        assert!(d <= 1e-6, "{backend}: {v}");
        assert!(v["mse"].as_f64().is_some() && v["r2"].as_f64().is_some());
        // Shrinkage: the ridge fit explains less than least squares would.
        assert!(v["objective"].as_f64().unwrap() > v["mse"].as_f64().unwrap());
    }
}

#[test]
fn l1_and_elasticnet_reach_kkt_with_exact_zeros_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let seed = fresh_seed("lasso");
    // 2 informative features of 6: the other 4 must come out exactly zero.
    let data = write_file(dir.path(), "t.csv", table(seed, 400, 6, 2, false));
    for (penalty, extra) in [("l1", None), ("elasticnet", Some("0.7"))] {
        let mut zero_sets = Vec::new();
        for backend in BACKENDS {
            let mut args = vec![
                "--penalty",
                penalty,
                "--alpha",
                "0.1",
                "--standardize",
                "--backend",
                backend,
                "--tol",
                "1e-10",
                "--epochs",
                "50000",
            ];
            if let Some(r) = extra {
                args.extend(["--l1-ratio", r]);
            }
            let v = fit(&data, &args);
            let what = format!("{penalty} {backend}: {v}");
            assert_eq!(v["reference"], "kkt", "{what}");
            assert!(v["distance_to_reference"].is_null(), "{what}");
            assert!(v["kkt_residual"].as_f64().unwrap() <= 1e-6, "{what}");
            let w: Vec<f64> = serde_json::from_value(v["weights"].clone()).unwrap();
            let zeros: Vec<usize> = (1..w.len()).filter(|&j| w[j] == 0.0).collect();
            assert_eq!(zeros, vec![3, 4, 5, 6], "{what}");
            zero_sets.push(zeros);
        }
        assert!(zero_sets.windows(2).all(|p| p[0] == p[1]));
    }
}

#[test]
fn separable_classes_without_a_penalty_are_refused_and_l2_fits_them() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..40)
        .map(|i| format!("{},{}\n", i as f64 / 10.0, (i >= 20) as u8))
        .collect();
    let data = write_file(dir.path(), "sep.csv", format!("x,y\n{rows}"));
    let o = descent(&[
        "fit",
        "--data",
        &data,
        "--target",
        "y",
        "--loss",
        "logistic",
        "--backend",
        "fused",
    ]);
    one_error_line(&o, "separable", "separable");
    let v = fit(
        &data,
        &[
            "--loss",
            "logistic",
            "--penalty",
            "l2",
            "--alpha",
            "0.01",
            "--backend",
            "fused",
            "--tol",
            "1e-10",
            "--epochs",
            "200000",
        ],
    );
    assert!(v["distance_to_reference"].as_f64().unwrap() < 1e-6, "{v}");
    assert_eq!(v["accuracy"], 1.0);
}

#[test]
fn bad_model_settings_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_file(
        dir.path(),
        "t.csv",
        "x,y,c\n0.5,1,0\n1.5,0,2.5\n2,1,1\n3,0,1\n",
    );
    let cases: &[(&[&str], &str)] = &[
        (
            &["--loss", "logistic", "--target", "c"],
            "row 2 of the target is 2.5",
        ),
        (
            &["--target", "y", "--loss", "hinge"],
            "unknown loss 'hinge'",
        ),
        (
            &["--target", "y", "--penalty", "l3", "--alpha", "1"],
            "unknown penalty 'l3'",
        ),
        (
            &["--target", "y", "--penalty", "l2", "--alpha", "-1"],
            "alpha must be a finite number ≥ 0, got -1",
        ),
        (
            &["--target", "y", "--penalty", "l2", "--alpha", "inf"],
            "alpha must be a finite number ≥ 0, got inf",
        ),
        (
            &["--target", "y", "--penalty", "l2", "--alpha", "NaN"],
            "alpha must be a finite number ≥ 0, got NaN",
        ),
        (
            &[
                "--target",
                "y",
                "--penalty",
                "elasticnet",
                "--alpha",
                "1",
                "--l1-ratio",
                "1.5",
            ],
            "l1_ratio must be between 0 and 1, got 1.5",
        ),
        (
            &[
                "--target",
                "y",
                "--penalty",
                "elasticnet",
                "--alpha",
                "1",
                "--l1-ratio",
                "-0.1",
            ],
            "l1_ratio must be between 0 and 1",
        ),
        (
            &["--target", "y", "--penalty", "l1", "--alpha", "0"],
            "alpha = 0 has no L1 part",
        ),
        (
            &["--target", "y", "--penalty", "elasticnet", "--alpha", "0"],
            "alpha = 0 has no L1 part",
        ),
        (
            &["--target", "y", "--penalty", "l2"],
            "penalty l2 needs alpha",
        ),
        (
            &["--target", "y", "--alpha", "0.5"],
            "alpha (0.5) needs a penalty",
        ),
        (
            &[
                "--target",
                "y",
                "--penalty",
                "l1",
                "--alpha",
                "1",
                "--l1-ratio",
                "0.5",
            ],
            "applies to the elasticnet penalty only",
        ),
    ];
    for (args, needle) in cases {
        for backend in ["fused", "gpu"] {
            let o = descent(&[&["fit", "--data", &data, "--backend", backend][..], args].concat());
            one_error_line(&o, &format!("{args:?} on {backend}"), needle);
        }
    }
}

#[test]
fn loss_history_is_the_objective_for_other_models() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_file(dir.path(), "t.csv", table(7, 100, 2, 2, true));
    let csv = dir.path().join("loss.csv");
    let o = descent(&[
        "fit",
        "--data",
        &data,
        "--target",
        "y",
        "--loss",
        "logistic",
        "--penalty",
        "l2",
        "--alpha",
        "0.1",
        "--backend",
        "fused",
        "--epochs",
        "50",
        "--loss-csv",
        csv.to_str().unwrap(),
        "--json",
    ]);
    let v = json(&o);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("epoch,objective"));
    let values: Vec<f64> = lines
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(values.len(), 50);
    // Epoch 1 is J at w = 0: log 2 for the logistic loss, whatever the labels.
    assert!(
        (values[0] - std::f64::consts::LN_2).abs() < 1e-12,
        "{}",
        values[0]
    );
    assert!(values.windows(2).all(|w| w[1] <= w[0] + 1e-15));
    // The last recorded J is the one before the last update: above the final objective.
    assert!(values[49] >= v["objective"].as_f64().unwrap());
}
