//! Mini-batch SGD: the same seeded row order on every backend gives the same iterates; a
//! seed reproduces its weights and another changes them; bad batch settings are refused;
//! `compare` puts several optimizers' curves side by side.

use crate::common;
use common::{fresh_seed, max_rel_diff, nan_min, one_error_line, write_file};
use descent::cpu::{Fused, Naive, NdarrayGd};
use descent::data::{synthetic, Synthetic};
use descent::model::{Loss, Model, Optimizer, OptimizerKind, Penalty, PenaltyKind};
use descent::{Dataset, GdConfig, Solver};

fn problem(seed: u64) -> Dataset {
    synthetic(&Synthetic {
        n: 301,
        p: 5,
        true_weights: None,
        sigma: 0.3,
        seed,
    })
    .unwrap()
    .0
}

fn cfg(batch: usize, shuffle_seed: u64, optimizer: OptimizerKind, model: Model) -> GdConfig {
    GdConfig {
        model,
        optimizer: Optimizer::new(optimizer, None, None, None, None).unwrap(),
        mu: if optimizer == OptimizerKind::Adam {
            0.01
        } else {
            0.02
        },
        epochs: 8,
        batch_size: Some(batch),
        shuffle_seed,
        record_loss: true,
        ..GdConfig::default()
    }
}

#[test]
fn cpu_paths_give_the_same_iterates_for_every_batch_size() {
    let seed = fresh_seed("minibatch cpu");
    let ds = problem(seed);
    let models = [
        Model::LEAST_SQUARES,
        Model {
            loss: Loss::Squared,
            penalty: Penalty::new(PenaltyKind::ElasticNet, Some(0.05), None).unwrap(),
        },
    ];
    for batch in [1, 32, ds.n().div_ceil(3)] {
        for model in models {
            for kind in OptimizerKind::ALL {
                let c = cfg(batch, seed, kind, model);
                let a = Fused.fit(&ds, &c).unwrap();
                for other in [Naive.fit(&ds, &c).unwrap(), NdarrayGd.fit(&ds, &c).unwrap()] {
                    let d = max_rel_diff(&other.weights, &a.weights);
                    assert!(d < 1e-12, "B={batch} {kind} {}: {d:e}", other.backend);
                    let dl = max_rel_diff(
                        other.loss_history.as_ref().unwrap(),
                        a.loss_history.as_ref().unwrap(),
                    );
                    assert!(dl < 1e-12, "B={batch} {kind}: loss {dl:e}");
                }
            }
        }
    }
}

#[test]
fn a_seed_reproduces_its_weights_and_another_seed_changes_them() {
    let ds = problem(fresh_seed("minibatch seeds"));
    let c = cfg(16, 7, OptimizerKind::Gd, Model::LEAST_SQUARES);
    let a = Fused.fit(&ds, &c).unwrap();
    let b = Fused.fit(&ds, &c).unwrap();
    assert_eq!(a.weights, b.weights);
    let other = Fused
        .fit(
            &ds,
            &GdConfig {
                shuffle_seed: 8,
                ..c.clone()
            },
        )
        .unwrap();
    assert_ne!(a.weights, other.weights);
    // Full batch (B = N) ignores the seed: it is today's gradient descent, bit for bit.
    let full = |s| GdConfig {
        batch_size: Some(ds.n()),
        shuffle_seed: s,
        ..c.clone()
    };
    let plain = Fused
        .fit(
            &ds,
            &GdConfig {
                batch_size: None,
                ..c.clone()
            },
        )
        .unwrap();
    assert_eq!(Fused.fit(&ds, &full(1)).unwrap().weights, plain.weights);
    assert_eq!(Fused.fit(&ds, &full(2)).unwrap().weights, plain.weights);
}

#[test]
fn n_iter_no_change_stops_on_the_epoch_loss() {
    let ds = problem(fresh_seed("no change"));
    let c = GdConfig {
        epochs: 100_000,
        n_iter_no_change: Some(3),
        loss_tol: 1e-3,
        ..cfg(32, 1, OptimizerKind::Gd, Model::LEAST_SQUARES)
    };
    let fit = Fused.fit(&ds, &c).unwrap();
    assert!(
        fit.stalled && fit.epochs_run < 100_000,
        "{}",
        fit.epochs_run
    );
    let loss = fit.loss_history.unwrap();
    // Each of the last three epochs failed to beat the best before it by 1e-3.
    let k = loss.len();
    for i in k - 3..k {
        let best = loss[..i].iter().cloned().fold(f64::INFINITY, nan_min);
        assert!(
            loss[i] > best - 1e-3,
            "epoch {}: {} vs best {best}",
            i + 1,
            loss[i]
        );
    }
}

fn descent(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn bad_batch_settings_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_file(dir.path(), "t.csv", "x,y\n1,2\n2,3\n3,5\n4,4\n");
    let cases: &[(&[&str], &str)] = &[
        (&["--batch-size", "0"], "batch size must be at least 1"),
        (
            &["--batch-size", "5"],
            "batch size 5 is larger than the table's 4 rows",
        ),
        (
            &["--batch-size", "2", "--tol", "1e-3"],
            "use --n-iter-no-change",
        ),
        (
            &["--n-iter-no-change", "0"],
            "n_iter_no_change must be at least 1",
        ),
        (&["--lr-schedule", "cosine"], "unknown lr schedule 'cosine'"),
        (
            &["--power-t", "0.5"],
            "power_t applies to the invscaling schedule",
        ),
        (
            &["--lr-schedule", "invscaling", "--power-t", "-1"],
            "power_t must be a finite number ≥ 0",
        ),
        (
            &["--loss-tol", "-1"],
            "loss_tol must be a finite number ≥ 0",
        ),
    ];
    for (args, needle) in cases {
        let o = descent(
            &[
                &[
                    "fit",
                    "--data",
                    &data,
                    "--target",
                    "y",
                    "--backend",
                    "fused",
                ][..],
                args,
            ]
            .concat(),
        );
        one_error_line(&o, &format!("{args:?}"), needle);
    }
}

#[test]
fn compare_puts_every_optimizer_on_one_plot_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let (ds, _) = synthetic(&Synthetic {
        n: 200,
        p: 3,
        true_weights: None,
        sigma: 0.1,
        seed: 3,
    })
    .unwrap();
    let mut csv = String::from("a,b,c,y\n");
    for (row, y) in ds
        .features
        .to_f64()
        .rows()
        .into_iter()
        .zip(ds.targets.iter())
    {
        csv.push_str(&format!("{},{},{},{y}\n", row[0], row[1], row[2]));
    }
    let data = write_file(dir.path(), "t.csv", csv);
    let plot = dir.path().join("cmp.svg");
    let curves = dir.path().join("cmp.csv");
    let o = descent(&[
        "compare",
        "--data",
        &data,
        "--target",
        "y",
        "--backend",
        "fused",
        "--optimizers",
        "gd,nesterov,adam",
        "--epochs",
        "300",
        "--plot",
        plot.to_str().unwrap(),
        "--loss-csv",
        curves.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let runs = v["runs"].as_array().unwrap();
    let names: Vec<&str> = runs
        .iter()
        .map(|r| r["optimizer"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gd", "nesterov", "adam"]);
    let text = std::fs::read_to_string(&curves).unwrap();
    assert_eq!(text.lines().next(), Some("epoch,gd,nesterov,adam"));
    assert_eq!(text.lines().count(), 301);
    let svg = std::fs::read_to_string(&plot).unwrap();
    for name in ["gd", "nesterov", "adam"] {
        assert!(
            svg.contains(&format!(">\n{name}\n</text>")),
            "legend lacks {name}"
        );
    }
    // Nesterov is ahead of plain gd at the end on this problem.
    let last: Vec<f64> = text
        .lines()
        .last()
        .unwrap()
        .split(',')
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(last[1] <= last[0], "{last:?}");
}

#[test]
fn compare_refuses_one_optimizers_settings_and_honours_strict() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_file(dir.path(), "t.csv", "x,y\n1,2\n2,3\n3,5\n4,4\n5,7\n");
    for extra in [
        &["--optimizer", "adam"][..],
        &["--momentum", "0.5"],
        &["--beta1", "0.8"],
    ] {
        let o = descent(
            &[
                &[
                    "compare",
                    "--data",
                    &data,
                    "--target",
                    "y",
                    "--backend",
                    "fused",
                ][..],
                extra,
            ]
            .concat(),
        );
        one_error_line(&o, &format!("{extra:?}"), "apply to fit");
    }
    // Two epochs are far from OLS: a warning per optimizer, so --strict writes nothing.
    let plot = dir.path().join("cmp.svg");
    let o = descent(&[
        "compare",
        "--data",
        &data,
        "--target",
        "y",
        "--backend",
        "fused",
        "--epochs",
        "2",
        "--mu",
        "0.001",
        "--strict",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!plot.exists());
}
