//! The comparison helpers fail on NaN and on a length mismatch. A fold with `f64::max` drops
//! NaNs (it returns the other operand), so a NaN loss history or weight would pass as a
//! perfect GPU–CPU match; every helper here must turn either into a failed `diff < tol`.

use crate::common::{
    assert_runs_agree, max_abs, max_rel_diff, nan_max, nan_min, pointwise_rel_diff, runs_agree,
    scaled_diff, Tol,
};
use descent::cpu::Fused;
use descent::{Dataset, Fit, GdConfig, Precision, Solver};

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

/// A "solver" that returns one fit whatever it is asked: a GPU run as a test wants it.
struct Canned(Fit);

impl Solver for Canned {
    fn name(&self) -> &'static str {
        "canned"
    }
    fn device(&self) -> String {
        "none".into()
    }
    fn fit(&self, _: &Dataset, _: &GdConfig) -> descent::Result<Fit> {
        Ok(self.0.clone())
    }
}

/// A solver whose code is wrong in one way: the CPU twin on a changed configuration.
struct Wrong(Box<dyn Fn(&GdConfig) -> GdConfig + Send + Sync>);

impl Solver for Wrong {
    fn name(&self) -> &'static str {
        "wrong"
    }
    fn device(&self) -> String {
        "cpu".into()
    }
    fn fit(&self, ds: &Dataset, cfg: &GdConfig) -> descent::Result<Fit> {
        Fused.fit(ds, &(self.0)(cfg))
    }
}

/// The GPU-vs-CPU comparison itself fails when the "GPU" run's history or weights hold a NaN,
/// or its history is short, with everything else equal to the CPU run it is compared with;
/// in f64 and in f32.
#[test]
fn runs_agree_fails_on_a_nan_history_or_weight() {
    let ds = descent::data::article(200, 444, 0.1).unwrap();
    for precision in [Precision::F64, Precision::F32] {
        let cfg = GdConfig {
            epochs: 20,
            record_loss: true,
            precision,
            ..GdConfig::default()
        };
        let cpu = Fused.fit(&ds, &cfg).unwrap();
        assert_runs_agree(&Canned(cpu.clone()), &ds, &cfg, 1e-12, "the same run");
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
            let what = format!("{what} {precision}");
            let got = runs_agree(&Canned(gpu), &Fused, &ds, &cfg, 1e-12, &what);
            assert!(got.is_err(), "{what}: runs_agree passed");
        }
    }
}

/// The f32 measures, like `max_rel_diff`, are NaN for a NaN or a length mismatch, so every
/// `Tol` check fails on them; and they measure what their doc says.
#[test]
fn f32_measures_are_nan_for_a_nan_or_a_length_mismatch() {
    for f in [scaled_diff, pointwise_rel_diff] {
        assert_eq!(f(&A, &A), 0.0);
        assert_eq!(f(&[0.0; 3], &[0.0; 3]), 0.0);
        for i in 0..A.len() {
            assert!(f(&nan_at(A, i), &A).is_nan(), "NaN at {i}, left");
            assert!(f(&A, &nan_at(A, i)).is_nan(), "NaN at {i}, right");
        }
        assert!(f(&A, &A[..2]).is_nan());
        assert!(f(&[], &A).is_nan());
    }
    // Against the vector's largest value, and each value's own.
    assert_eq!(scaled_diff(&[1.5, -2.0, 3.0], &A), 0.5 / 3.0);
    assert_eq!(pointwise_rel_diff(&[1.5, -2.0, 3.0], &A), 0.5);
    let tol = Tol::f32(1_000, 3, 100);
    for (a, b) in [(nan_at(A, 1), A), (A, nan_at(A, 0))] {
        assert!(tol.weights(&a, &b).is_err() && tol.loss(&a, &b).is_err());
        assert!(Tol::F64(1.0).weights(&a, &b).is_err());
    }
}

/// `runs_agree` on wrong code: a solver that stops at another, clear, stall decision (twice
/// the loss_tol), or steps with a step size off (by 10⁻⁶ in f64, 10⁻² in f32), is refused;
/// the right one passes. Where runs part, it is at a decision that is not borderline, so they are
/// refused for the parting itself, not let through with a prefix compared.
#[test]
fn runs_agree_refuses_wrong_code() {
    let ds = descent::data::article(500, 444, 0.1).unwrap();
    for precision in [Precision::F64, Precision::F32] {
        let cfg = GdConfig {
            mu: 0.05,
            epochs: 2_000,
            n_iter_no_change: Some(3),
            loss_tol: 1e-4,
            record_loss: true,
            precision,
            ..GdConfig::default()
        };
        let cpu = Fused.fit(&ds, &cfg).unwrap();
        assert!(cpu.stalled && cpu.epochs_run < 2_000, "{}", cpu.epochs_run);
        runs_agree(&Fused, &Fused, &ds, &cfg, 1e-12, "right").unwrap();
        let off = match precision {
            Precision::F64 => 1e-6,
            Precision::F32 => 1e-2,
        };
        let stall = Wrong(Box::new(|c| GdConfig {
            loss_tol: 2.0 * c.loss_tol,
            ..c.clone()
        }));
        let step = Wrong(Box::new(move |c| GdConfig {
            mu: c.mu * (1.0 + off),
            ..c.clone()
        }));
        for (what, wrong) in [("stall", stall), ("step", step)] {
            let what = format!("{what} {precision}");
            let got = runs_agree(&wrong, &Fused, &ds, &cfg, 1e-12, &what);
            eprintln!("{what}: {got:?}");
            assert!(got.is_err(), "{what}: wrong code passes");
        }
    }
}
