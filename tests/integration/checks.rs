//! The check after a fit is a choice (`--check reference|kkt|none|auto`), and what the KKT
//! check claims to prove holds: its bounds on J − J* and on the distance to the optimum are
//! compared with an independent ridge solve (QR) on fresh seeded problems.

use crate::common;
use descent::data::{synthetic, Synthetic};
use descent::fitting::{fit_dataset, Check, FitOutcome, AUTO_REFERENCE_MAX_WORK};
use descent::gpu::AdapterChoice;
use descent::model::{Model, Penalty, PenaltyKind};
use descent::requests::FitSettings;
use descent::Dataset;
use std::process::{Command, Stdio};

/// Features offset by 5 (so the intercept and the feature weights are coupled) and a large
/// true intercept: a fit stopped early is far from the optimum in both.
fn problem(seed: u64) -> Dataset {
    let (ds, _) = synthetic(&Synthetic {
        n: 2_000,
        p: 4,
        true_weights: Some(vec![10.0, 1.0, -2.0, 0.5, 3.0]),
        sigma: 0.3,
        seed,
    })
    .unwrap();
    let x = ds.features.to_f64().mapv(|v| v + 5.0);
    Dataset::new(x, ds.targets).unwrap()
}

fn fit(ds: &Dataset, check: &str, epochs: usize, penalty: &str, alpha: f64) -> FitOutcome {
    fit_with(ds, check, epochs, penalty, alpha, "gd")
}

fn fit_with(
    ds: &Dataset,
    check: &str,
    epochs: usize,
    penalty: &str,
    alpha: f64,
    optimizer: &str,
) -> FitOutcome {
    let settings = FitSettings {
        optimizer: optimizer.into(),
        backend: "fused".into(),
        penalty: penalty.into(),
        alpha: Some(alpha),
        l1_ratio: (penalty == "elasticnet").then_some(0.3),
        epochs,
        check: check.into(),
        ..FitSettings::default()
    };
    fit_dataset(ds, &settings.request(AdapterChoice::Auto).unwrap()).unwrap()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[test]
fn the_kkt_bounds_hold_against_an_independent_ridge_solve() {
    let seed = common::fresh_seed("kkt_bounds");
    let ds = problem(seed);
    let alpha = 0.05;
    let model = Model {
        loss: descent::Loss::Squared,
        penalty: Penalty::new(PenaltyKind::L2, Some(alpha), None).unwrap(),
    };
    let w_star = descent::reference::ridge(&ds, alpha).unwrap();
    let j_star = model.objective(&ds, &w_star);
    let mut last_bound = f64::INFINITY;
    let runs = [
        (3, "gd"),
        (30, "gd"),
        (300, "gd"),
        (3_000, "gd"),
        (5_000, "nesterov"),
    ];
    for (epochs, optimizer) in runs {
        let o = fit_with(&ds, "kkt", epochs, "l2", alpha, optimizer);
        assert_eq!(o.check, Check::Kkt);
        assert!(o.reference.is_none() && o.distance_to_reference.is_none());
        let gap = o.objective - j_star;
        let bound = o
            .objective_gap_bound
            .expect("squared loss with L2: a bound");
        let dist = norm(
            &o.fit
                .weights
                .iter()
                .zip(&w_star)
                .map(|(a, b)| a - b)
                .collect::<Vec<_>>(),
        );
        let dist_bound = o.distance_bound.unwrap();
        // Rounding of J itself (a mean of n squares) is the only slack allowed.
        let slack = 1e-12 * o.objective.abs().max(1.0);
        assert!(
            gap <= bound + slack,
            "{epochs} epochs: J − J* = {gap:e} > bound {bound:e}"
        );
        assert!(
            dist <= dist_bound * (1.0 + 1e-9) + 1e-12,
            "{epochs}: {dist:e} > {dist_bound:e}"
        );
        // The bound is no formality: it shrinks as the fit converges.
        assert!(bound < last_bound, "{epochs}: {bound:e} !< {last_bound:e}");
        last_bound = bound;
    }
    assert!(last_bound < 1e-9, "{last_bound:e}");
}

#[test]
fn the_kkt_check_gives_no_bound_it_cannot_prove() {
    let ds = problem(3);
    // No L2 part: the squared loss alone is not strongly convex in the weights for sure.
    let o = fit(&ds, "kkt", 50, "none", 0.0);
    assert_eq!(o.check, Check::Kkt);
    assert!(o.kkt_residual.is_finite() && o.objective_gap_bound.is_none());
    // Elastic net keeps an L2 part: bounded, with the L1 part's subgradient.
    let o = fit(&ds, "kkt", 50, "elasticnet", 0.05);
    assert!(o.objective_gap_bound.is_some());
}

#[test]
fn check_none_proves_nothing_and_warns_of_nothing() {
    let ds = problem(5);
    let o = fit(&ds, "none", 3, "l2", 0.05);
    assert_eq!(o.check, Check::None);
    assert!(o.kkt_residual.is_nan() && o.reference.is_none());
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    // The same early stop with the reference check is called far.
    let checked = fit(&ds, "reference", 3, "l2", 0.05);
    assert_eq!(checked.warnings[0].kind, "far_from_reference");
}

#[test]
fn auto_means_reference_on_small_tables_and_kkt_beyond() {
    assert_eq!(Check::Auto.resolve(10_000, 1), Check::Reference);
    let p = 31;
    let n = (AUTO_REFERENCE_MAX_WORK / ((p + 1) * (p + 1)) as f64) as usize;
    assert_eq!(Check::Auto.resolve(n, p), Check::Reference);
    assert_eq!(Check::Auto.resolve(n + 1, p), Check::Kkt);
    assert_eq!(Check::Kkt.resolve(10, 1), Check::Kkt);
    let o = fit(&problem(7), "auto", 10, "l2", 0.05);
    assert_eq!(o.check, Check::Reference);
    assert!(o.reference.is_some());
}

#[test]
fn every_stage_is_timed() {
    let o = fit(&problem(9), "reference", 200, "l2", 0.05);
    let s = o.stages;
    for (name, t) in [
        ("prepare", s.prepare),
        ("reference", s.reference),
        ("step", s.step),
        ("descend", s.descend),
        ("assess", s.assess),
    ] {
        assert!(t > 0.0 && t < 60.0, "{name}: {t}");
    }
    // The descent stage holds the backend's own timings.
    assert!(s.descend >= o.fit.timings.total().as_secs_f64());
    let o = fit(&problem(9), "kkt", 200, "l2", 0.05);
    assert!(o.stages.reference < 1e-3, "{}", o.stages.reference);
}

#[test]
fn the_cli_takes_check_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    let ds = problem(11);
    let mut text = String::from("a,b,c,d,y\n");
    for i in 0..ds.n() {
        let row: Vec<String> = (0..4).map(|j| ds.features.get(i, j).to_string()).collect();
        text.push_str(&format!("{},{}\n", row.join(","), ds.targets[i]));
    }
    std::fs::write(&csv, text).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "fit",
            "--data",
            csv.to_str().unwrap(),
            "--target",
            "y",
            "--backend",
            "fused",
            "--json",
        ];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_descent"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = run(&["--check", "kkt", "--penalty", "l2", "--alpha", "0.05"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["check"], "kkt");
    assert!(v["objective_gap_bound"].as_f64().unwrap() >= 0.0);
    assert!(v["reference_weights"].is_null());
    assert!(v["stages"]["descend"].as_f64().unwrap() > 0.0);
    let o = run(&["--check", "sometimes"]);
    assert_eq!(o.status.code(), Some(1));
    common::one_error_line(
        &o,
        "descent",
        "unknown check 'sometimes' (expected auto, reference, kkt or none)",
    );
}

#[test]
fn the_kkt_bound_is_exact_for_an_intercept_off_the_optimum() {
    // At w* with only the intercept moved by δ, J − J* = δ² exactly (J is quadratic in w0
    // with curvature 2), the feature weights are optimal for that intercept's best value,
    // and the bound must be δ² too: both of its terms are needed, neither may be loose.
    let ds = problem(common::fresh_seed("kkt_exact_intercept"));
    let alpha = 0.05;
    let model = Model {
        loss: descent::Loss::Squared,
        penalty: Penalty::new(PenaltyKind::L2, Some(alpha), None).unwrap(),
    };
    let w_star = descent::reference::ridge(&ds, alpha).unwrap();
    let j_star = model.objective(&ds, &w_star);
    for delta in [1e-3, 0.1, 3.0] {
        let mut w = w_star.clone();
        w.intercepts_mut()[0] += delta;
        let gap = model.objective(&ds, &w) - j_star;
        let c = descent::reference::kkt_check(&model, &ds, &w);
        let bound = c.objective_gap_bound.unwrap();
        let tol = 1e-9 * delta * delta + 1e-12;
        assert!(
            (gap - delta * delta).abs() < tol,
            "δ = {delta}: gap {gap:e}"
        );
        assert!(
            (bound - delta * delta).abs() < tol,
            "δ = {delta}: bound {bound:e} vs δ² {:e}",
            delta * delta
        );
    }
}
