//! Optimizers on ill-conditioned tables: accelerated methods need a fraction of plain
//! gradient descent's epochs, every optimizer reaches the f64 reference, the L1 part stays
//! exact, and bad optimizer settings are refused.

use crate::common;
use common::{fresh_seed, one_error_line};
use descent::data::{load, InputSpec};
use descent::fitting::{fit_dataset, FitOutcome, FitRequest, Step};
use descent::gpu::AdapterChoice;
use descent::model::{Loss, Model, Optimizer, OptimizerKind, Penalty, PenaltyKind};
use descent::{Backend, Dataset, GdConfig};
use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};

const BREAST_CANCER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sklearn/breast_cancer.csv"
);

/// The real 569 × 29 regression table of the issue: breast-cancer features (standardized),
/// mean radius regressed on the other 29; condition number of AᵀA ≈ 10⁹ (perimeter and
/// area move with the radius).
fn breast_cancer_regression() -> Dataset {
    let header = std::fs::read_to_string(BREAST_CANCER).unwrap();
    let names: Vec<&str> = header.lines().next().unwrap().split(',').collect();
    load(&InputSpec {
        data: BREAST_CANCER.into(),
        target: Some("mean_radius".into()),
        target_file: None,
        features: Some(names[1..30].join(",")),
        delimiter: None,
    })
    .unwrap()
    .dataset
}

/// A fresh problem whose AᵀA has condition number ≥ 10⁴: two nearly collinear columns
/// (x2 = x1 + 0.01·z) beside independent ones.
fn ill_conditioned(seed: u64) -> Dataset {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (n, p) = (400, 4);
    let mut normal = || {
        // Box–Muller: the test needs no distribution crate of its own.
        let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    };
    let mut x = Array2::zeros((n, p));
    let mut y = Array1::zeros(n);
    for i in 0..n {
        let a = normal();
        x[(i, 0)] = a;
        x[(i, 1)] = a + 0.01 * normal();
        x[(i, 2)] = normal();
        x[(i, 3)] = 0.5 * normal();
        y[i] = 1.0 + 2.0 * x[(i, 0)] - x[(i, 1)] + 0.5 * x[(i, 2)] + 0.1 * normal();
    }
    let ds = Dataset::new(x, y).unwrap();
    let cond = descent::ols::ols(&ds).unwrap().condition;
    assert!(cond * cond >= 1e4, "κ(AᵀA) = {:e}", cond * cond);
    ds
}

fn request(
    backend: Backend,
    model: Model,
    optimizer: Optimizer,
    epochs: usize,
    tol: f64,
) -> FitRequest {
    FitRequest {
        backend,
        adapter: AdapterChoice::Auto,
        step: Step::Auto,
        standardize: false,
        check: descent::fitting::Check::Auto,
        allow_rank_deficient: false,
        strict: false,
        config: GdConfig {
            model,
            optimizer,
            epochs,
            tol: Some(tol),
            check_every: 16,
            ..GdConfig::default()
        },
    }
}

fn opt(kind: OptimizerKind) -> Optimizer {
    Optimizer::new(kind, None, None, None, None).unwrap()
}

fn fit(ds: &Dataset, req: &FitRequest) -> FitOutcome {
    fit_dataset(ds, req).unwrap()
}

/// The correlated, badly scaled houses fixture (square feet beside acres and a price in the
/// hundreds of thousands), unstandardized: nesterov reaches OLS to 1e-6 within 400 000 epochs,
/// where gd is still ~98 % of the way from it after 4 000 000. Ignored in CI: it runs 4.4
/// million epochs (about 40 s with --release); run it with
/// `cargo test --release --test integration -- --ignored houses`.
#[test]
#[ignore = "4.4 million epochs: run with --release (see the comment)"]
fn houses_nesterov_needs_a_tenth_of_the_epochs_of_plain_gd() {
    let houses = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/houses.csv");
    let ds = load(&InputSpec {
        data: houses.into(),
        target: Some("price".into()),
        target_file: None,
        features: None,
        delimiter: None,
    })
    .unwrap()
    .dataset;
    let budget = 400_000;
    let plain = |kind, epochs| {
        let mut req = request(Backend::Fused, Model::LEAST_SQUARES, opt(kind), epochs, 0.0);
        req.config.tol = None;
        fit(&ds, &req)
    };
    let fast = plain(OptimizerKind::Nesterov, budget);
    let d = fast.distance_to_reference.unwrap();
    assert!(d <= 1e-6, "nesterov: {d:e} after {budget} epochs");
    let slow = plain(OptimizerKind::Gd, 10 * budget);
    let ds_ = slow.distance_to_reference.unwrap();
    assert!(
        ds_ > 1e-6,
        "gd reached {ds_:e} within {} epochs",
        10 * budget
    );
    eprintln!(
        "houses: nesterov {d:e} after {budget} epochs, gd {ds_:e} after {}",
        10 * budget
    );
}

#[test]
fn nesterov_needs_a_tenth_of_the_epochs_of_plain_gd() {
    let seed = fresh_seed("ill-conditioned");
    // Every backend on the generated table; the larger real one on the fastest (lavapipe
    // runs the GPU's tens of thousands of gd epochs slowly).
    for (name, ds, backends) in [
        (
            "generated",
            ill_conditioned(seed),
            &[
                Backend::Fused,
                Backend::Naive,
                Backend::Ndarray,
                Backend::Gpu,
            ][..],
        ),
        (
            "breast cancer",
            breast_cancer_regression(),
            &[Backend::Fused][..],
        ),
    ] {
        for &backend in backends {
            let fast = fit(
                &ds,
                &request(
                    backend,
                    Model::LEAST_SQUARES,
                    opt(OptimizerKind::Nesterov),
                    200_000,
                    1e-12,
                ),
            );
            let d = fast.distance_to_reference.unwrap();
            assert!(
                fast.fit.converged && d <= 1e-6,
                "{name} {backend}: nesterov {d:e} after {} epochs",
                fast.fit.epochs_run
            );
            // Plain gd given ten times nesterov's epochs is still short of 1e-6.
            let budget = 10 * fast.fit.epochs_run;
            let slow = fit(
                &ds,
                &request(backend, Model::LEAST_SQUARES, Optimizer::GD, budget, 1e-12),
            );
            let ds_ = slow.distance_to_reference.unwrap();
            assert!(
                !slow.fit.converged && ds_ > 1e-6,
                "{name} {backend}: gd reached {ds_:e} within {budget} epochs"
            );
        }
    }
}

#[test]
fn momentum_adam_and_fixed_nesterov_reach_the_reference() {
    let ds = breast_cancer_regression();
    let cases = [
        opt(OptimizerKind::Momentum),
        Optimizer::new(OptimizerKind::Nesterov, Some(0.9), None, None, None).unwrap(),
        opt(OptimizerKind::Adam),
    ];
    for o in cases {
        let out = fit(
            &ds,
            &request(Backend::Fused, Model::LEAST_SQUARES, o, 200_000, 1e-9),
        );
        let d = out.distance_to_reference.unwrap();
        assert!(
            out.fit.converged && d <= 1e-6,
            "{o:?}: {d:e} after {}",
            out.fit.epochs_run
        );
    }
    // Logistic + L2 too, against Newton.
    let (x, labels) = {
        let ds = ill_conditioned(fresh_seed("logistic optimizers"));
        let labels = ds.targets.mapv(|t| (t > 1.0) as u8 as f64);
        (ds.features, labels)
    };
    let ds = Dataset::new(x, labels).unwrap();
    let model = Model {
        loss: Loss::Logistic,
        penalty: Penalty::new(PenaltyKind::L2, Some(0.01), None).unwrap(),
    };
    for kind in OptimizerKind::ALL {
        let out = fit(
            &ds,
            &request(Backend::Fused, model, opt(kind), 200_000, 1e-10),
        );
        let d = out.distance_to_reference.unwrap();
        assert!(out.fit.converged && d <= 1e-6, "{kind}: {d:e}");
    }
}

#[test]
fn every_optimizer_keeps_the_l1_part_exact() {
    let ds = breast_cancer_regression();
    let model = Model {
        loss: Loss::Squared,
        penalty: Penalty::new(PenaltyKind::L1, Some(0.01), None).unwrap(),
    };
    let mut zeros = Vec::new();
    for kind in OptimizerKind::ALL {
        let out = fit(
            &ds,
            &request(Backend::Fused, model, opt(kind), 200_000, 1e-9),
        );
        assert!(out.fit.converged, "{kind}");
        assert!(
            out.kkt_residual <= 1e-6,
            "{kind}: KKT {:e}",
            out.kkt_residual
        );
        let z: Vec<usize> = (1..out.fit.weights.len())
            .filter(|&j| out.fit.weights[j] == 0.0)
            .collect();
        assert!(!z.is_empty(), "{kind}: no exact zeros");
        zeros.push(z);
    }
    assert!(zeros.windows(2).all(|w| w[0] == w[1]), "{zeros:?}");
}

#[test]
fn bad_optimizer_settings_are_one_clear_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["--optimizer", "lbfgs"], "unknown optimizer 'lbfgs'"),
        (
            &["--optimizer", "momentum", "--momentum", "1"],
            "momentum must be in [0, 1), got 1",
        ),
        (
            &["--optimizer", "momentum", "--momentum", "-0.5"],
            "momentum must be in [0, 1), got -0.5",
        ),
        (
            &["--optimizer", "nesterov", "--momentum", "NaN"],
            "momentum must be in [0, 1), got NaN",
        ),
        (
            &["--optimizer", "adam", "--beta1", "1.0"],
            "beta1 must be in [0, 1), got 1",
        ),
        (
            &["--optimizer", "adam", "--beta2", "inf"],
            "beta2 must be in [0, 1), got inf",
        ),
        (
            &["--optimizer", "adam", "--eps", "0"],
            "eps must be a finite number > 0, got 0",
        ),
        (
            &["--optimizer", "gd", "--momentum", "0.5"],
            "momentum applies to the momentum and nesterov",
        ),
        (
            &["--optimizer", "adam", "--momentum", "0.5"],
            "momentum applies to the momentum and nesterov",
        ),
        (
            &["--optimizer", "momentum", "--beta1", "0.5"],
            "apply to the adam optimizer",
        ),
    ];
    for (args, needle) in cases {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_descent"))
            .args(
                [
                    &[
                        "fit",
                        "--data",
                        BREAST_CANCER,
                        "--target",
                        "y",
                        "--backend",
                        "fused",
                    ][..],
                    args,
                ]
                .concat(),
            )
            .output()
            .unwrap();
        one_error_line(&o, &format!("{args:?}"), needle);
    }
}
