//! Parity with scikit-learn: descent's fits of the objective
//!
//! J(w0, w) = (1/N)·Σ ℓ(y_i, w0 + x_i·w) + α·[ρ·‖w‖₁ + (1−ρ)/2·‖w‖₂²]
//!
//! land on the weights scikit-learn finds for LinearRegression, Ridge, Lasso, ElasticNet
//! and LogisticRegression under the documented mapping of their parameters to (α, ρ)
//! (tests/fixtures/sklearn/README.md). The fixtures — data, scikit-learn's call, its
//! weights and a numpy self-check — come from tests/fixtures/sklearn/generate.py.
//!
//! * `mapping_*`: the mapped parameters in fixtures.json follow the table (so a fixture
//!   generated with a wrong mapping fails here, not as a mysterious parity miss);
//! * `sklearn_weights_are_optimal_for_descents_objective`: descent's own loss and penalty
//!   code, evaluated at scikit-learn's weights, finds them optimal (KKT residual ~0);
//! * one test per case: a `fused` f64 fit from w = 0 (step 1/L, `tol` on the gradient
//!   mapping) is within 1e-6·max(1, max|w_sklearn|) of scikit-learn's weights, and every
//!   coefficient scikit-learn sets exactly to zero is exactly 0.0 in descent's fit.

use crate::common::{max_abs, nan_max};
use descent::data::{load, Dataset, InputSpec};
use descent::fitting::{fit_dataset, FitRequest, Step};
use descent::gpu::AdapterChoice;
use descent::model::{Loss, Model, Penalty, PenaltyKind};
use descent::{Backend, GdConfig, Precision};
use serde_json::Value;
use std::path::PathBuf;
use std::str::FromStr;

/// max|w − w_sklearn| allowed, relative to max(1, max|w_sklearn|).
const PARITY: f64 = 1e-6;
/// Epoch cap: far more than any case needs at step 1/L (they converge linearly; the
/// slowest, logistic with C = 1, takes a few ten thousand), so a miss means a wrong answer,
/// not too short a run.
const EPOCHS: usize = 1_000_000;
/// Stopping tolerance on the gradient-mapping norm ‖(w_new − w_old)/mu‖₂.
const TOL: f64 = 1e-10;
/// Largest KKT residual of J at scikit-learn's weights, relative to its value at w = 0,
/// accepted as "scikit-learn's weights minimise descent's J" (the generator finds ≤ 1e-12).
const MAX_RELATIVE_KKT: f64 = 1e-9;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sklearn")
}

/// One entry of fixtures.json.
struct Case {
    name: String,
    data: String,
    target: String,
    n: usize,
    p: usize,
    call: String,
    estimator: String,
    params: Value,
    loss: Loss,
    kind: PenaltyKind,
    alpha: f64,
    l1_ratio: Option<f64>,
    intercept: f64,
    coef: Vec<f64>,
    weights: Vec<f64>,
    zeros: Vec<usize>,
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn cases() -> Vec<Case> {
    let path = dir().join("fixtures.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).expect("fixtures.json is valid JSON");
    let s = |c: &Value, k: &str| {
        c[k].as_str()
            .unwrap_or_else(|| panic!("'{k}' is not a string in {c}"))
            .to_string()
    };
    let list = doc["cases"].as_array().expect("a 'cases' array");
    assert!(!list.is_empty(), "fixtures.json lists no cases");
    list.iter()
        .map(|c| {
            let d = &c["descent"];
            Case {
                name: s(c, "case"),
                data: s(c, "data"),
                target: s(c, "target"),
                n: c["n"].as_u64().expect("n") as usize,
                p: c["p"].as_u64().expect("p") as usize,
                call: s(c, "sklearn_call"),
                estimator: s(c, "sklearn_estimator"),
                params: c["sklearn_params"].clone(),
                loss: Loss::from_str(&s(d, "loss")).expect("a known loss"),
                kind: PenaltyKind::from_str(&s(d, "penalty")).expect("a known penalty"),
                alpha: d["alpha"].as_f64().expect("alpha"),
                l1_ratio: d["l1_ratio"].as_f64(),
                intercept: c["intercept"].as_f64().expect("intercept"),
                coef: floats(&c["coef"]),
                weights: floats(&c["weights"]),
                zeros: c["zero_coefficients"]
                    .as_array()
                    .expect("zero_coefficients")
                    .iter()
                    .map(|j| j.as_u64().expect("an index") as usize)
                    .collect(),
            }
        })
        .collect()
}

fn case(name: &str) -> Case {
    cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case '{name}' in fixtures.json"))
}

impl Case {
    /// descent's model for this case (α is given only to penalties that take one).
    fn model(&self) -> Model {
        let alpha = (self.kind != PenaltyKind::None).then_some(self.alpha);
        let penalty = Penalty::new(self.kind, alpha, self.l1_ratio)
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        Model {
            loss: self.loss,
            penalty,
        }
    }

    /// The CSV through descent's own loader.
    fn dataset(&self) -> Dataset {
        let spec = InputSpec {
            data: dir().join(&self.data).to_string_lossy().into_owned(),
            target: Some(self.target.clone()),
            ..InputSpec::default()
        };
        let loaded = load(&spec).unwrap_or_else(|e| panic!("{}: {e}", self.name));
        let ds = loaded.dataset;
        assert_eq!(
            (ds.n(), ds.p()),
            (self.n, self.p),
            "{}: {} has the wrong shape",
            self.name,
            self.data
        );
        ds
    }

    fn param(&self, key: &str) -> f64 {
        self.params[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{}: sklearn_params has no number '{key}'", self.name))
    }

    /// (loss, penalty, α, ρ) from scikit-learn's estimator and parameters, by the table in
    /// tests/fixtures/sklearn/README.md.
    fn expected_mapping(&self) -> (Loss, PenaltyKind, f64, Option<f64>) {
        let n = self.n as f64;
        match self.estimator.as_str() {
            "LinearRegression" => (Loss::Squared, PenaltyKind::None, 0.0, None),
            // ‖y − ŷ‖² + a‖w‖² = N·[(1/N)‖y − ŷ‖² + (2a/N)/2·‖w‖²].
            "Ridge" => (
                Loss::Squared,
                PenaltyKind::L2,
                2.0 * self.param("alpha") / n,
                None,
            ),
            // (1/2N)‖y − ŷ‖² + a‖w‖₁ = ½·[(1/N)‖y − ŷ‖² + 2a‖w‖₁].
            "Lasso" => (
                Loss::Squared,
                PenaltyKind::L1,
                2.0 * self.param("alpha"),
                None,
            ),
            // (1/2N)‖y − ŷ‖² + a·r‖w‖₁ + a(1−r)/2·‖w‖² = ½·J with α = 2a, ρ = r.
            "ElasticNet" => (
                Loss::Squared,
                PenaltyKind::ElasticNet,
                2.0 * self.param("alpha"),
                Some(self.param("l1_ratio")),
            ),
            // C·Σℓ + ½‖w‖² = CN·[(1/N)Σℓ + (1/(CN))/2·‖w‖²].
            "LogisticRegression" => (
                Loss::Logistic,
                PenaltyKind::L2,
                1.0 / (self.param("C") * n),
                None,
            ),
            other => panic!("{}: no mapping for estimator {other}", self.name),
        }
    }
}

/// The largest violation of J's optimality conditions at `w`, from descent's own
/// `Model::smooth_gradient`: |g_j| for the intercept and smooth penalties; with an L1 part
/// |g_j + αρ·sign(w_j)| where w_j ≠ 0 and max(0, |g_j| − αρ) where w_j = 0.
fn kkt_residual(model: &Model, ds: &Dataset, w: &[f64]) -> f64 {
    let g = model.smooth_gradient(ds, w);
    let l1 = model.penalty.l1_strength();
    g.iter()
        .zip(w)
        .enumerate()
        .map(|(j, (&gj, &wj))| {
            if j == 0 || l1 == 0.0 {
                gj.abs()
            } else if wj != 0.0 {
                (gj + l1 * wj.signum()).abs()
            } else {
                (gj.abs() - l1).max(0.0)
            }
        })
        .fold(0.0, nan_max)
}

#[test]
fn mapping_parameters_follow_the_documented_table() {
    let all = cases();
    let mut estimators: Vec<&str> = all.iter().map(|c| c.estimator.as_str()).collect();
    estimators.sort_unstable();
    estimators.dedup();
    assert_eq!(
        estimators,
        [
            "ElasticNet",
            "Lasso",
            "LinearRegression",
            "LogisticRegression",
            "Ridge"
        ],
        "every documented mapping has a fixture"
    );
    for c in &all {
        let (loss, kind, alpha, l1_ratio) = c.expected_mapping();
        assert_eq!((c.loss, c.kind), (loss, kind), "{}: loss/penalty", c.name);
        assert!(
            (c.alpha - alpha).abs() <= 1e-15 * alpha.abs(),
            "{}: fixture α = {} but {} maps to α = {alpha}",
            c.name,
            c.alpha,
            c.call
        );
        assert_eq!(c.l1_ratio, l1_ratio, "{}: fixture ρ", c.name);
        // The model is one descent accepts.
        let _ = c.model();
        // The recorded call is the estimator with the recorded parameters.
        assert!(
            c.call.starts_with(&format!("{}(", c.estimator)) && c.call.ends_with(".fit(X, y)"),
            "{}: call {} is not {}(...).fit(X, y)",
            c.name,
            c.call,
            c.estimator
        );
        for key in c
            .params
            .as_object()
            .expect("sklearn_params is an object")
            .keys()
        {
            assert!(
                c.call.contains(&format!("{key}=")),
                "{}: call {} does not set {key}",
                c.name,
                c.call
            );
        }
        // Weights, intercept, coefficients and zeros agree with each other.
        assert_eq!(c.coef.len(), c.p, "{}: coef length", c.name);
        let mut w = vec![c.intercept];
        w.extend(&c.coef);
        assert_eq!(c.weights, w, "{}: weights ≠ [intercept, *coef]", c.name);
        let zeros: Vec<usize> = (0..c.p).filter(|&j| c.coef[j] == 0.0).collect();
        assert_eq!(c.zeros, zeros, "{}: zero_coefficients", c.name);
        if kind == PenaltyKind::L1 || kind == PenaltyKind::ElasticNet {
            assert!(
                !zeros.is_empty(),
                "{}: an L1 case should have exact zeros to check",
                c.name
            );
        }
    }
}

/// The mapping check on descent's side: scikit-learn's weights satisfy the optimality
/// conditions of the J that descent itself evaluates, with the mapped (α, ρ).
#[test]
fn sklearn_weights_are_optimal_for_descents_objective() {
    for c in cases() {
        let ds = c.dataset();
        let model = c.model();
        let at_sklearn = kkt_residual(&model, &ds, &c.weights);
        let at_zero = kkt_residual(&model, &ds, &vec![0.0; c.p + 1]);
        let relative = at_sklearn / at_zero;
        eprintln!(
            "{:30} KKT residual of descent's J at sklearn's weights {at_sklearn:.3e} \
             (relative {relative:.3e})",
            c.name
        );
        assert!(
            relative <= MAX_RELATIVE_KKT,
            "{}: {} is not optimal for descent's J with {:?} (KKT residual {at_sklearn:e}, \
             {relative:e} of its value at w = 0): the mapping or the loss/penalty code is wrong",
            c.name,
            c.call,
            model
        );
    }
}

/// The KKT check cannot pass on NaN: a NaN weight makes every gradient entry NaN, and the
/// residual is NaN (a fold with `f64::max` would skip them all and report 0, optimal).
#[test]
fn kkt_residual_is_nan_for_a_nan_weight() {
    for c in cases() {
        let ds = c.dataset();
        let model = c.model();
        for j in 0..c.weights.len() {
            let mut w = c.weights.clone();
            w[j] = f64::NAN;
            let r = kkt_residual(&model, &ds, &w);
            assert!(r.is_nan(), "{}: NaN weight {j} gives residual {r}", c.name);
        }
    }
}

/// Fit `name` with the `fused` backend in f64 and compare with scikit-learn.
fn parity(name: &str) {
    let c = case(name);
    let ds = c.dataset();
    let req = FitRequest {
        backend: Backend::Fused,
        adapter: AdapterChoice::default(),
        step: Step::Auto,
        standardize: false,
        check: descent::fitting::Check::Auto,
        allow_rank_deficient: false,
        strict: false,
        config: GdConfig {
            model: c.model(),
            epochs: EPOCHS,
            tol: Some(TOL),
            precision: Precision::F64,
            check_every: 64,
            ..GdConfig::default()
        },
    };
    let started = std::time::Instant::now();
    let out = fit_dataset(&ds, &req).unwrap_or_else(|e| panic!("{name}: fit failed: {e}"));
    let w = &out.fit.weights;
    let diff = descent::max_abs_diff(w, &c.weights);
    let bound = PARITY * max_abs(&c.weights).max(1.0);
    eprintln!(
        "{name:30} max|w − w_sklearn| = {diff:.3e} (allowed {bound:.1e}); {} epochs, \
         converged {}, mu {:.4e}, {:.2?}",
        out.fit.epochs_run,
        out.fit.converged,
        out.mu,
        started.elapsed()
    );
    for warning in &out.warnings {
        eprintln!("{name}: warning {}: {}", warning.kind, warning.message);
    }
    assert!(
        diff <= bound,
        "{name}: descent {w:?}\n  vs {}: {:?}\n  max|Δ| {diff:e} > {bound:e} ({} epochs, \
         converged {})",
        c.call,
        c.weights,
        out.fit.epochs_run,
        out.fit.converged
    );
    let not_zero: Vec<(usize, f64)> = c
        .zeros
        .iter()
        .map(|&j| (j, w[j + 1]))
        .filter(|&(_, v)| v != 0.0)
        .collect();
    assert!(
        not_zero.is_empty(),
        "{name}: scikit-learn sets coefficients {:?} exactly to zero, descent has \
         (index, value) {not_zero:?}",
        c.zeros
    );
}

/// Every case in fixtures.json has its test below.
#[test]
fn every_fixture_case_has_a_parity_test() {
    let tested = [
        "diabetes_linear_regression",
        "diabetes_ridge",
        "diabetes_lasso",
        "diabetes_elasticnet",
        "breast_cancer_logistic_c0_1",
        "breast_cancer_logistic_c1",
    ];
    let mut listed: Vec<String> = cases().into_iter().map(|c| c.name).collect();
    listed.sort();
    let mut tested: Vec<String> = tested.iter().map(|s| s.to_string()).collect();
    tested.sort();
    assert_eq!(listed, tested, "fixtures.json cases vs parity tests");
}

#[test]
fn diabetes_linear_regression() {
    parity("diabetes_linear_regression");
}

#[test]
fn diabetes_ridge() {
    parity("diabetes_ridge");
}

#[test]
fn diabetes_lasso() {
    parity("diabetes_lasso");
}

#[test]
fn diabetes_elasticnet() {
    parity("diabetes_elasticnet");
}

#[test]
fn breast_cancer_logistic_c0_1() {
    parity("breast_cancer_logistic_c0_1");
}

#[test]
fn breast_cancer_logistic_c1() {
    parity("breast_cancer_logistic_c1");
}
