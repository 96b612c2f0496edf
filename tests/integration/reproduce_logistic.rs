//! The `logistic` benchmark workload (BENCHMARKS.md): numpy-identical data, every CPU backend
//! agreeing with the others, and the runs checked against the Newton reference; and the
//! `minibatch` workload (the same data and model by mini-batch SGD), whose row order the
//! peers reproduce.

use crate::common;
use descent::model::batches::{seed_key, Permutation};
use descent::reference::ReferenceKind;
use descent::reproduce::{
    logistic_checksum, logistic_data, logistic_true_weights, reproduce, Checksum, ReproduceOptions,
    ReproduceReport, Workload, WorkloadKind, LOGISTIC_ALPHA, LOGISTIC_MU, MINIBATCH_BATCH_SIZE,
    MINIBATCH_MU, MINIBATCH_SHUFFLE_SEED,
};
use descent::{Backend, Loss, Model, PenaltyKind, Precision};
use std::process::Command;

/// `workloads.checksum(*workloads.logistic_data(n, p))` printed by numpy 2.4.6
/// (benches/peers/workloads.py), for (n, p) = (3, 2), (1000, 32) and the full (10⁶, 32).
const NUMPY_3X2: (u64, u64) = (18273726431324414280, 18428729675200069632);
const NUMPY_1000X32: (u64, u64) = (1554967196344161668, 1950058638651424768);
const NUMPY_FULL: (u64, u64) = (1718975414280190529, 10227674753758396416);

fn bits(c: &Checksum) -> (u64, u64) {
    (c.features_bits, c.targets_bits)
}

fn run(n: usize, backends: &[Backend], precision: Precision) -> ReproduceReport {
    run_kind(WorkloadKind::Logistic, n, backends, precision)
}

fn run_kind(
    kind: WorkloadKind,
    n: usize,
    backends: &[Backend],
    precision: Precision,
) -> ReproduceReport {
    let mut workload = Workload::named(kind);
    workload.n = n;
    workload.name = "custom".into();
    reproduce(
        &ReproduceOptions {
            workload,
            backends: Some(backends.to_vec()),
            precision,
            adapter: Default::default(),
        },
        |_| {},
    )
    .unwrap()
}

#[test]
fn the_workload_is_named_and_states_its_model() {
    let w = Workload::named("logistic".parse().unwrap());
    assert_eq!(
        (w.name.as_str(), w.n, w.features, w.epochs),
        ("logistic", 1_000_000, 32, 100)
    );
    assert_eq!((w.mu, w.seed), (LOGISTIC_MU, 444));
    assert_eq!(w.model.loss, Loss::Logistic);
    assert_eq!(w.model.penalty.kind, PenaltyKind::L2);
    assert_eq!(w.model.penalty.alpha, LOGISTIC_ALPHA);
    // The other workloads keep the article's model.
    for k in [WorkloadKind::Seed, WorkloadKind::Big, WorkloadKind::Wide] {
        let w = Workload::named(k);
        assert_eq!((w.model, w.sigma), (Model::LEAST_SQUARES, 0.1));
    }
    assert_eq!(logistic_true_weights(3), vec![0.5, 0.5, -0.5, 0.5]);
    for k in [WorkloadKind::Seed, WorkloadKind::Logistic] {
        assert_eq!(Workload::named(k).batch_size, None);
    }
}

#[test]
fn the_minibatch_workload_is_the_logistic_data_by_sgd() {
    let w = Workload::named("minibatch".parse().unwrap());
    let l = Workload::named(WorkloadKind::Logistic);
    assert_eq!(
        (w.name.as_str(), w.n, w.features, w.epochs, w.mu),
        ("minibatch", 1_000_000, 32, 10, MINIBATCH_MU)
    );
    assert_eq!(
        (w.batch_size, w.shuffle_seed),
        (Some(MINIBATCH_BATCH_SIZE), MINIBATCH_SHUFFLE_SEED)
    );
    assert_eq!(MINIBATCH_BATCH_SIZE, 256);
    // The logistic workload's model, data generator and seed: the peers share the data.
    assert_eq!((w.model, w.seed, w.sigma), (l.model, l.seed, l.sigma));
    let (mut small_w, mut small_l) = (w.clone(), l.clone());
    small_w.n = 1000;
    small_l.n = 1000;
    assert_eq!(
        bits(&logistic_checksum(&small_w.dataset().unwrap())),
        NUMPY_1000X32
    );
    assert_eq!(small_w.dataset().unwrap(), small_l.dataset().unwrap());
    let err = "nope".parse::<WorkloadKind>().unwrap_err().to_string();
    assert!(err.contains("minibatch"), "{err}");
}

/// The row order descent's mini-batches visit is the one benches/peers/workloads.py
/// `batch_order(n, seed, epoch)` computes (values printed by numpy 2.4.6), so the NumPy and
/// PyTorch peers take the very same steps.
#[test]
fn the_batch_order_is_the_peers() {
    let order = |n: u32, seed: u64, epoch: u32, k: u32| -> Vec<u32> {
        let p = Permutation::new(n, seed_key(seed), epoch);
        (0..k).map(|i| p.apply(i)).collect()
    };
    assert_eq!(order(5, 42, 0, 5), [2, 0, 4, 3, 1]);
    assert_eq!(
        order(17, 42, 1, 17),
        [12, 5, 13, 2, 0, 9, 1, 3, 8, 10, 6, 16, 14, 11, 7, 4, 15]
    );
    assert_eq!(
        order(1_000_000, MINIBATCH_SHUFFLE_SEED, 0, 8),
        [113933, 29010, 910361, 181309, 954110, 459201, 355022, 220959]
    );
}

#[test]
fn every_cpu_backend_takes_the_same_minibatch_steps() {
    let cpu = [Backend::Naive, Backend::Ndarray, Backend::Fused];
    let r = run_kind(WorkloadKind::Minibatch, 3_000, &cpu, Precision::F64);
    assert_eq!(r.workload.batch_size, Some(256));
    assert_eq!(r.reference, ReferenceKind::Newton);
    assert_eq!(r.runs.len(), 3);
    let between = r.max_abs_diff_between_backends.unwrap();
    assert!(between < 1e-12, "backends differ by {between:e}");
    let j_star = r.reference_objective.unwrap();
    for (fit, check) in r.runs.iter().zip(&r.checks) {
        assert_eq!(fit.epochs_run, 10);
        // 120 steps of SGD: on the way (J above J*), and well below J(0) = ln 2 = 0.693.
        assert!(check.objective >= j_star, "{}", fit.backend);
        assert!(
            check.objective < 0.6,
            "{}: {}",
            fit.backend,
            check.objective
        );
    }
    // Full batches (the logistic workload) take other steps.
    let full = run(3_000, &[Backend::Fused], Precision::F64);
    assert!(descent::max_abs_diff(&full.runs[0].weights, &r.runs[2].weights) > 1e-3);
}

#[test]
fn the_data_is_numpys_bit_for_bit() {
    let ds = logistic_data(3, 2, 444).unwrap();
    // np.random.RandomState(444).randn(3, 2), and the labels numpy draws.
    assert_eq!(
        ds.features.iter().collect::<Vec<_>>(),
        [
            0.3574399244179942,
            0.37753840032641567,
            1.3823378936833266,
            1.1755488260166416,
            -0.9392756987164714,
            -1.143150147501205
        ]
    );
    assert_eq!(ds.targets.to_vec(), [1.0, 1.0, 0.0]);
    assert_eq!(bits(&logistic_checksum(&ds)), NUMPY_3X2);
    let c = logistic_checksum(&logistic_data(1000, 32, 444).unwrap());
    eprintln!("descent checksum (1000 x 32): {c:?}");
    assert_eq!(bits(&c), NUMPY_1000X32);
    assert_eq!(c.targets_sum, 553.0);
}

/// The full workload's 3.2·10⁷ draws (seconds in release): run with `--ignored`.
#[test]
#[ignore]
fn the_full_workload_matches_numpys_checksum() {
    let w = Workload::named(WorkloadKind::Logistic);
    let c = logistic_checksum(&w.dataset().unwrap());
    println!("descent checksum (logistic workload): {c:?}");
    assert_eq!(bits(&c), NUMPY_FULL);
}

#[test]
fn every_cpu_backend_gives_the_same_weights_and_the_reference_is_newton() {
    let cpu = [Backend::Naive, Backend::Ndarray, Backend::Fused];
    let r = run(4_000, &cpu, Precision::F64);
    assert_eq!(r.reference, ReferenceKind::Newton);
    assert_eq!(r.runs.len(), 3);
    assert_eq!(r.checks.len(), 3);
    let between = r.max_abs_diff_between_backends.unwrap();
    assert!(between < 1e-10, "backends differ by {between:e}");
    let newton = r.reference_weights.as_ref().unwrap();
    assert_eq!(newton.len(), 33);
    let j_star = r.reference_objective.unwrap();
    for (fit, check) in r.runs.iter().zip(&r.checks) {
        assert_eq!(fit.epochs_run, 100);
        assert_eq!(check.backend, fit.backend);
        // No OLS check for a logistic model; the Newton check instead.
        assert_eq!(fit.max_abs_diff_vs_ols, None);
        let d = check.max_abs_diff_vs_reference.unwrap();
        assert!(d < 1e-3, "{}: {d:e} from Newton", fit.backend);
        // GD from w = 0 has not reached the optimum, but is close to it and never below.
        assert!(check.objective >= j_star - 1e-12, "{}", fit.backend);
        assert!(check.objective - j_star < 1e-6, "{}", fit.backend);
    }
    // `ols` keeps its meaning (plain OLS, here of the 0/1 labels) and its length.
    assert_eq!(r.ols.len(), 33);

    // f32: the same to f32 rounding.
    let r32 = run(4_000, &cpu, Precision::F32);
    let between = r32.max_abs_diff_between_backends.unwrap();
    assert!(between < 1e-4, "f32 backends differ by {between:e}");
    let f64_fused = &r.runs[2].weights;
    let gap = descent::max_abs_diff(&r32.runs[2].weights, f64_fused);
    assert!(gap < 1e-4, "fused f32 vs f64: {gap:e}");
}

#[test]
fn the_seed_workload_is_still_checked_against_ols() {
    let mut w = Workload::named(WorkloadKind::Seed);
    w.epochs = 10;
    let r = reproduce(
        &ReproduceOptions {
            workload: w,
            backends: Some(vec![Backend::Fused]),
            precision: Precision::F64,
            adapter: Default::default(),
        },
        |_| {},
    )
    .unwrap();
    assert_eq!(r.reference, ReferenceKind::Ols);
    assert_eq!(r.reference_weights.as_ref(), Some(&r.ols));
    assert_eq!(
        r.runs[0].max_abs_diff_vs_ols,
        r.checks[0].max_abs_diff_vs_reference
    );
    assert_eq!(r.max_abs_diff_between_backends, None);
}

#[test]
fn the_cli_runs_the_logistic_workload() {
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args([
            "reproduce",
            "--workload",
            "logistic",
            "--n",
            "2000",
            "--epochs",
            "20",
            "--backends",
            "naive,fused",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["workload"]["features"], 32);
    assert_eq!(v["workload"]["mu"], LOGISTIC_MU);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let w = |i: usize| -> Vec<f64> {
        runs[i]["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    assert!(descent::max_abs_diff(&w(0), &w(1)) < 1e-10);
}

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_cli_runs_the_minibatch_workload_on_every_backend() {
    let out = cli(&[
        "reproduce",
        "--workload",
        "minibatch",
        "--n",
        "2000",
        "--backends",
        "fused",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = &v["workload"];
    assert_eq!(
        (w["name"].as_str(), w["n"].as_u64()),
        (Some("custom"), Some(2000))
    );
    assert_eq!(w["batch_size"], 256);
    assert_eq!(w["shuffle_seed"], MINIBATCH_SHUFFLE_SEED);
    assert_eq!(w["mu"], MINIBATCH_MU);
    assert_eq!(v["runs"][0]["epochs_run"], 10);
    assert!(
        v["runs"][0]["objective"].as_f64().unwrap() >= v["reference_objective"].as_f64().unwrap()
    );
    // The table says the batch size too; --batch-size overrides it.
    let out = cli(&[
        "reproduce",
        "--workload",
        "minibatch",
        "--n",
        "2000",
        "--batch-size",
        "500",
        "--backends",
        "naive",
    ]);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("batch size = 500, shuffle seed = 444"),
        "{table}"
    );
    // The GPU runs the mini-batches itself, in the CPU's row order (f32 where the adapter,
    // e.g. GL, has no SHADER_F64).
    let precision = if common::has_f64("the_cli_runs_the_minibatch_workload_on_every_backend") {
        "f64"
    } else {
        "f32"
    };
    let out = cli(&[
        "reproduce",
        "--workload",
        "minibatch",
        "--n",
        "2000",
        "--backends",
        "fused,gpu",
        "--precision",
        precision,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let weights = |i: usize| -> Vec<f64> {
        v["runs"][i]["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_f64().unwrap())
            .collect()
    };
    assert_eq!(v["runs"][1]["backend"], "gpu", "{v}");
    let d = common::max_rel_diff(&weights(1), &weights(0));
    let tol = if v["runs"][1]["precision"] == "f64" {
        1e-12
    } else {
        1e-4
    };
    assert!(d < tol, "gpu vs fused: {d:e}");
    // By default every backend is tried and a GPU that cannot run is skipped with a reason.
    let out = cli(&[
        "reproduce",
        "--workload",
        "minibatch",
        "--n",
        "2000",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ran = v["runs"].as_array().unwrap().len();
    let skipped = v["skipped"].as_array().unwrap().len();
    assert_eq!(ran + skipped, 4, "{v}");
    assert!(ran >= 3);
}
