//! The comparison helpers fail on NaN and on a length mismatch. A fold with `f64::max` drops
//! NaNs (it returns the other operand), so a NaN loss history or weight would pass as a
//! perfect GPU–CPU match; every helper here must turn either into a failed `diff < tol`.

use crate::common::{assert_runs_agree, max_abs, max_rel_diff, nan_max, nan_min};
use descent::cpu::Fused;
use descent::{GdConfig, Solver};

const A: [f64; 3] = [1.0, -2.0, 3.0];

/// `v` with a NaN at `i`.
fn nan_at(mut v: [f64; 3], i: usize) -> [f64; 3] {
    v[i] = f64::NAN;
    v
}

#[test]
fn max_rel_diff_is_nan_for_a_nan_or_a_length_mismatch() {
    assert_eq!(max_rel_diff(&A, &A), 0.0);
    for i in 0..A.len() {
        assert!(max_rel_diff(&nan_at(A, i), &A).is_nan(), "NaN at {i}, left");
        assert!(
            max_rel_diff(&A, &nan_at(A, i)).is_nan(),
            "NaN at {i}, right"
        );
    }
    assert!(max_rel_diff(&A, &A[..2]).is_nan());
    assert!(max_rel_diff(&A[..2], &A).is_nan());
    assert!(max_rel_diff(&[], &A).is_nan());
}

#[test]
fn max_abs_is_nan_for_a_nan() {
    assert_eq!(max_abs(&A), 3.0);
    assert_eq!(max_abs(&[]), 0.0);
    for i in 0..A.len() {
        assert!(max_abs(&nan_at(A, i)).is_nan(), "NaN at {i}");
    }
}

#[test]
fn nan_max_and_nan_min_keep_a_nan() {
    assert_eq!((nan_max(1.0, 2.0), nan_min(1.0, 2.0)), (2.0, 1.0));
    for (x, y) in [(f64::NAN, 1.0), (1.0, f64::NAN), (f64::NAN, f64::NAN)] {
        assert!(nan_max(x, y).is_nan(), "nan_max({x}, {y})");
        assert!(nan_min(x, y).is_nan(), "nan_min({x}, {y})");
    }
    // As folds, from either end of the values.
    assert!([f64::NAN, 1.0, 2.0].into_iter().fold(0.0, nan_max).is_nan());
    assert!([1.0, 2.0, f64::NAN].into_iter().fold(0.0, nan_max).is_nan());
    assert!([f64::NAN, 1.0]
        .into_iter()
        .fold(f64::INFINITY, nan_min)
        .is_nan());
}

/// descent's own absolute difference (src/lib.rs), which the parity and reference tests use.
#[test]
fn descents_max_abs_diff_is_nan_for_a_nan_or_a_length_mismatch() {
    assert_eq!(descent::max_abs_diff(&A, &A), 0.0);
    for i in 0..A.len() {
        assert!(
            descent::max_abs_diff(&nan_at(A, i), &A).is_nan(),
            "NaN at {i}, left"
        );
        assert!(
            descent::max_abs_diff(&A, &nan_at(A, i)).is_nan(),
            "NaN at {i}, right"
        );
    }
    assert!(descent::max_abs_diff(&A, &A[..2]).is_nan());
    assert!(descent::max_abs_diff(&[], &A).is_nan());
}

/// The GPU-vs-CPU assertion itself fails when the "GPU" run's history or weights hold a NaN,
/// or its history is short, with everything else equal to the CPU run it is compared with.
#[test]
fn assert_runs_agree_fails_on_a_nan_history_or_weight() {
    let ds = descent::data::article(200, 444, 0.1).unwrap();
    let cfg = GdConfig {
        epochs: 20,
        record_loss: true,
        ..GdConfig::default()
    };
    let cpu = Fused.fit(&ds, &cfg).unwrap();
    assert_runs_agree(&cpu, &cpu, &cfg, 1e-12, "the same run");
    let mut cases = Vec::new();
    for i in [0, 10, 19] {
        let mut nan_loss = cpu.clone();
        nan_loss.loss_history.as_mut().unwrap()[i] = f64::NAN;
        cases.push((format!("NaN loss at epoch {i}"), nan_loss));
    }
    for j in 0..cpu.weights.len() {
        let mut nan_weight = cpu.clone();
        nan_weight.weights.as_mut_slice()[j] = f64::NAN;
        cases.push((format!("NaN weight {j}"), nan_weight));
    }
    let mut short = cpu.clone();
    short.loss_history.as_mut().unwrap().pop();
    cases.push(("a history one epoch short".into(), short));
    for (what, gpu) in cases {
        // The panic's message goes to stderr: it is the assertion this test wants to see fail.
        let failed = std::panic::catch_unwind(|| assert_runs_agree(&gpu, &cpu, &cfg, 1e-12, &what));
        assert!(failed.is_err(), "{what}: assert_runs_agree passed");
    }
}
