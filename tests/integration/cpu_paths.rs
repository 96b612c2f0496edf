//! The CPU paths agree with each other and converge to OLS on fresh random problems; bad
//! configurations and data are clear errors, never panics.

use crate::common;
use common::fresh_seed;
use descent::cpu::{Fused, Naive, NdarrayGd};
use descent::data::{synthetic, Dataset, Synthetic};
use descent::ols::ols;
use descent::{max_abs_diff, Error, GdConfig, Precision, Solver};
use ndarray::{Array1, Array2};

fn safe_mu(p: usize) -> f64 {
    // A step below 1/L, L = λmax((2/N)·AᵀA) with A = [1 X], derived without the code under
    // test: for features uniform on [0, 1), (1/N)·AᵀA tends to M = E[a·aᵀ] (1 for the
    // intercept, 1/2 beside it, 1/3 on the feature diagonal, 1/4 elsewhere), and as M is
    // positive semi-definite λmax(M) ≤ trace(M) = 1 + p/3, so L ≈ 2·λmax(M) ≤ 2·(1 + p/3). The
    // extra p²/4 leaves room for the Gram matrix of a few hundred rows straying from M.
    1.0 / (2.0 * (1.0 + p as f64 / 3.0) + 0.5 * p as f64 * p as f64 / 2.0)
}

#[test]
fn all_cpu_paths_agree_and_converge_to_ols() {
    let seed = fresh_seed("cpu agreement");
    for p in 1..=16 {
        let (ds, _) = synthetic(&Synthetic {
            n: 150 + 7 * p,
            p,
            true_weights: None,
            sigma: 0.1,
            seed: seed.wrapping_add(p as u64),
        })
        .unwrap();
        let cfg = GdConfig {
            mu: safe_mu(p),
            epochs: 300,
            ..GdConfig::default()
        };
        let a = Naive.fit(&ds, &cfg).unwrap();
        let b = NdarrayGd.fit(&ds, &cfg).unwrap();
        let c = Fused.fit(&ds, &cfg).unwrap();
        assert!(
            max_abs_diff(&a.weights, &b.weights) < 1e-10,
            "p={p} naive vs ndarray"
        );
        assert!(
            max_abs_diff(&a.weights, &c.weights) < 1e-10,
            "p={p} naive vs fused"
        );

        let reference = ols(&ds).unwrap();
        let long = GdConfig {
            epochs: 200_000,
            tol: Some(1e-11),
            ..cfg.clone()
        };
        let fit = Fused.fit(&ds, &long).unwrap();
        let diff = max_abs_diff(&fit.weights, &reference.weights);
        assert!(
            diff < 1e-6,
            "p={p}: fused ends {diff} from OLS after {} epochs",
            fit.epochs_run
        );
    }
}

#[test]
fn loss_history_and_tolerance_are_the_same_on_every_path() {
    let (ds, _) = synthetic(&Synthetic {
        n: 500,
        p: 3,
        true_weights: None,
        sigma: 0.2,
        seed: fresh_seed("loss history"),
    })
    .unwrap();
    let cfg = GdConfig {
        mu: 0.05,
        epochs: 5_000,
        record_loss: true,
        tol: Some(1e-3),
        check_every: 10,
        ..GdConfig::default()
    };
    let fits: Vec<_> = [&Naive as &dyn Solver, &NdarrayGd, &Fused]
        .iter()
        .map(|s| s.fit(&ds, &cfg).unwrap())
        .collect();
    let base = &fits[0];
    assert!(base.converged && base.epochs_run < cfg.epochs && base.epochs_run % 10 == 0);
    let loss = base.loss_history.as_ref().unwrap();
    assert_eq!(loss.len(), base.epochs_run);
    // MSE before the first update is mean(d²); it must fall monotonically with a safe step.
    let mean_sq = ds.targets.iter().map(|d| d * d).sum::<f64>() / ds.n() as f64;
    assert!((loss[0] - mean_sq).abs() < 1e-12 * mean_sq.max(1.0));
    assert!(loss.windows(2).all(|w| w[1] <= w[0]));
    for f in &fits[1..] {
        assert_eq!(f.epochs_run, base.epochs_run, "{}", f.backend);
        let l = f.loss_history.as_ref().unwrap();
        assert!(max_abs_diff(l, loss) < 1e-10, "{}", f.backend);
    }
}

#[test]
fn f32_paths_track_f64() {
    let (ds, _) = synthetic(&Synthetic {
        n: 1_000,
        p: 4,
        true_weights: None,
        sigma: 0.1,
        seed: fresh_seed("f32"),
    })
    .unwrap();
    let cfg = GdConfig {
        mu: 0.05,
        epochs: 500,
        ..GdConfig::default()
    };
    let f64fit = Fused.fit(&ds, &cfg).unwrap();
    let cfg32 = GdConfig {
        precision: Precision::F32,
        ..cfg
    };
    for s in [&Naive as &dyn Solver, &NdarrayGd, &Fused] {
        let f = s.fit(&ds, &cfg32).unwrap();
        assert_eq!(f.precision, Precision::F32);
        assert!(
            common::max_rel_diff(&f.weights, &f64fit.weights) < 1e-4,
            "{}",
            s.name()
        );
    }
}

#[test]
fn bad_configs_are_errors() {
    let ds = descent::data::article(100, 444, 0.1).unwrap();
    let bad = [
        GdConfig {
            mu: 0.0,
            ..GdConfig::default()
        },
        GdConfig {
            mu: -1.0,
            ..GdConfig::default()
        },
        GdConfig {
            mu: f64::NAN,
            ..GdConfig::default()
        },
        GdConfig {
            mu: f64::INFINITY,
            ..GdConfig::default()
        },
        GdConfig {
            epochs: 0,
            ..GdConfig::default()
        },
        GdConfig {
            tol: Some(-1.0),
            ..GdConfig::default()
        },
        GdConfig {
            check_every: 0,
            ..GdConfig::default()
        },
    ];
    for cfg in bad {
        for s in [&Naive as &dyn Solver, &NdarrayGd, &Fused] {
            match s.fit(&ds, &cfg) {
                Err(Error::Config(msg)) => assert!(!msg.is_empty()),
                other => panic!(
                    "{cfg:?} on {}: expected a config error, got {other:?}",
                    s.name()
                ),
            }
        }
    }
}

#[test]
fn bad_data_is_an_error() {
    assert!(matches!(Dataset::from_xy(&[], &[]), Err(Error::Data(_))));
    assert!(matches!(
        descent::data::article(0, 444, 0.1),
        Err(Error::Data(_))
    ));
    let nan_x = Dataset::from_xy(&[1.0, f64::NAN], &[1.0, 2.0]);
    assert!(matches!(nan_x, Err(Error::Data(m)) if m.contains("row 2")));
    let inf_d = Dataset::from_xy(&[1.0, 2.0], &[1.0, f64::INFINITY]);
    assert!(matches!(inf_d, Err(Error::Data(_))));
    let ragged = Dataset::new(Array2::<f64>::zeros((3, 2)), Array1::zeros(2));
    assert!(matches!(ragged, Err(Error::Data(_))));
}

#[test]
fn divergence_is_reported_with_its_epoch() {
    let ds = descent::data::article(1_000, 444, 0.1).unwrap();
    let cfg = GdConfig {
        mu: 10.0,
        ..GdConfig::default()
    };
    for s in [&Naive as &dyn Solver, &NdarrayGd, &Fused] {
        match s.fit(&ds, &cfg) {
            Err(Error::Diverged { epoch }) => assert!(epoch > 1 && epoch < 1_000, "{epoch}"),
            other => panic!("{}: expected divergence, got {other:?}", s.name()),
        }
    }
}

#[test]
fn rank_deficient_ols_says_why() {
    let x = Array2::from_shape_fn((50, 2), |(i, _)| i as f64);
    let ds = Dataset::new(x, Array1::from_shape_fn(50, |i| i as f64)).unwrap();
    match ols(&ds) {
        Err(Error::RankDeficient {
            reference,
            rank,
            cols,
            hint,
        }) => {
            assert_eq!((reference, rank, cols), ("OLS", 2, 3));
            assert!(hint.contains("identical"), "{hint}");
        }
        other => panic!("expected rank deficiency, got {other:?}"),
    }
    let constant = Dataset::from_xy(&[1.0; 10], &[1.0; 10]).unwrap();
    assert!(
        matches!(ols(&constant), Err(Error::RankDeficient { hint, .. }) if hint.contains("constant"))
    );
    let wide = Dataset::new(
        Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j * j) as f64),
        Array1::zeros(2),
    )
    .unwrap();
    assert!(
        matches!(ols(&wide), Err(Error::RankDeficient { hint, .. }) if hint.contains("fewer rows"))
    );
}

#[test]
fn ols_recovers_true_weights_on_noiseless_data() {
    let (ds, w) = synthetic(&Synthetic {
        n: 100_000,
        p: 5,
        true_weights: None,
        sigma: 0.0,
        seed: fresh_seed("ols exact"),
    })
    .unwrap();
    let o = ols(&ds).unwrap();
    assert!(
        max_abs_diff(&o.weights, &w) < 1e-10,
        "{:?} vs {w:?}",
        o.weights
    );
    assert!(o.rss < 1e-16);
}

#[test]
fn f32_stays_accurate_over_millions_of_rows() {
    // A single f32 running sum over this many rows loses digits; the CPU paths
    // sum in blocks combined in f64 (the GPU reduces hierarchically) and must track f64.
    let ds = descent::data::article(4_000_000, 444, 0.1).unwrap();
    let cfg = GdConfig {
        epochs: 5,
        ..GdConfig::default()
    };
    let truth = Fused.fit(&ds, &cfg).unwrap();
    let cfg32 = GdConfig {
        precision: Precision::F32,
        ..cfg
    };
    for s in [&NdarrayGd as &dyn Solver, &Fused] {
        let f = s.fit(&ds, &cfg32).unwrap();
        let d = common::max_rel_diff(&f.weights, &truth.weights);
        // Measured: 4.3e-9 blocked; 2.1e-7 (ndarray) and 1.7e-8 (fused) with one running sum.
        assert!(d < 1e-8, "{}: f32 is {d} from f64", s.name());
    }
}
