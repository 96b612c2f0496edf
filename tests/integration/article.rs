//! The article's experiment against numpy's own numbers (tests/fixtures/article.json).

use crate::common;
use common::{pair, reference};
use descent::cpu::{Fused, Naive, NdarrayGd};
use descent::data::{article, linspace, NumpyRandomState};
use descent::ols::ols;
use descent::{GdConfig, Precision, Solver};

#[test]
fn numpy_randn_stream_is_bit_exact() {
    let r = reference();
    let mut rng = NumpyRandomState::new(444);
    let first: Vec<f64> = rng.randn_vec(6);
    let want: Vec<f64> = r["numpy_randn_seed444_first6"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(first, want);
}

#[test]
fn article_noise_checksums_match_numpy() {
    let r = reference();
    let mut rng = NumpyRandomState::new(444);
    let noise: Vec<f64> = rng.randn_vec(10_000).into_iter().map(|z| 0.1 * z).collect();
    let sum: f64 = noise.iter().sum();
    let sum_sq: f64 = noise.iter().map(|v| v * v).sum();
    let c = &r["noise_checksums"];
    // Summation order differs from numpy's pairwise sum: allow a few ulps of the total.
    assert!(
        (sum - c["sum"].as_f64().unwrap()).abs() < 1e-11,
        "sum {sum}"
    );
    assert!(
        (sum_sq - c["sum_sq"].as_f64().unwrap()).abs() < 1e-11,
        "sum_sq {sum_sq}"
    );
    assert_eq!(noise[9_999], c["last"].as_f64().unwrap());
}

#[test]
fn linspace_matches_numpy_definition() {
    let x = linspace(0.0, 2.0, 10_000);
    assert_eq!(x[0], 0.0);
    assert_eq!(x[9_999], 2.0);
    assert_eq!(x[1], 2.0 / 9_999.0);
    assert_eq!(x[5_000], 5_000.0 * (2.0 / 9_999.0));
}

#[test]
fn ols_matches_numpy_pinv() {
    let r = reference();
    let ds = article(10_000, 444, 0.1).unwrap();
    let o = ols(&ds).unwrap();
    let want = pair(&r["ols_pinv_f64"]);
    for (a, b) in o.weights.iter().zip(want) {
        assert!((a - b).abs() < 1e-10, "{:?} vs {want:?}", o.weights);
    }
    // and the article's printed digits
    let printed = pair(&r["article_printed"]["pinv"]);
    assert!((o.weights[0] - printed[0]).abs() < 5e-9);
    assert!((o.weights[1] - printed[1]).abs() < 5e-9);
}

fn check_path(solver: &dyn Solver) {
    let r = reference();
    let ds = article(10_000, 444, 0.1).unwrap();
    for epochs in ["1", "10", "100", "1000", "10000"] {
        let cfg = GdConfig {
            epochs: epochs.parse().unwrap(),
            ..GdConfig::default()
        };
        let fit = solver.fit(&ds, &cfg).unwrap();
        let want = pair(&r["gd_f64"][epochs]);
        for (a, b) in fit.weights.iter().zip(want) {
            assert!(
                (a - b).abs() < 1e-9,
                "{} after {epochs} epochs: {:?} vs numpy {want:?}",
                solver.name(),
                fit.weights
            );
        }
        assert_eq!(fit.epochs_run, cfg.epochs);
    }
    // The article's printed GD weights.
    let printed = pair(&r["article_printed"]["gd_pure_python"]);
    let fit = solver.fit(&ds, &GdConfig::default()).unwrap();
    assert!((fit.weights[0] - printed[0]).abs() < 1e-9);
    assert!((fit.weights[1] - printed[1]).abs() < 1e-9);
}

#[test]
fn naive_matches_numpy_at_every_checkpoint() {
    check_path(&Naive);
}

#[test]
fn ndarray_matches_numpy_at_every_checkpoint() {
    check_path(&NdarrayGd);
}

#[test]
fn fused_matches_numpy_at_every_checkpoint() {
    check_path(&Fused);
}

#[test]
fn f32_cpu_paths_land_near_tensorflow_f32() {
    // The article's TensorFlow ran in f32: [2.9598553, 2.032969].
    let r = reference();
    let tf = pair(&r["article_printed"]["gd_tf_f32"]);
    let ds = article(10_000, 444, 0.1).unwrap();
    let cfg = GdConfig {
        precision: Precision::F32,
        ..GdConfig::default()
    };
    for s in [&Fused as &dyn Solver, &NdarrayGd, &Naive] {
        let fit = s.fit(&ds, &cfg).unwrap();
        assert!(
            (fit.weights[0] - tf[0]).abs() < 3e-5,
            "{} {:?}",
            s.name(),
            fit.weights
        );
        assert!(
            (fit.weights[1] - tf[1]).abs() < 3e-5,
            "{} {:?}",
            s.name(),
            fit.weights
        );
    }
}
