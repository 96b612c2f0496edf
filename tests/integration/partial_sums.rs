//! The engine's seam: blocks of rows give mergeable partial sums, and stepping from merged
//! sums is the ordinary fit. The whole table's sums are checked against an f64 computation
//! written here (not descent's kernels), and merges against the whole within a stated
//! rounding bound: n·ε·Σ|terms| (recursive summation's first-order bound, which any
//! grouping of the same terms meets).

use crate::common;
use descent::cpu::{partial_sums, Fused};
use descent::engine::{stepper, PartialSums, StepOutcome};
use descent::model::{Loss, Model, Optimizer, OptimizerKind, Penalty, PenaltyKind};
use descent::scalar::BLOCK_ROWS;
use descent::{Backend, Coefficients, Dataset, Error, GdConfig, Precision, Solver};

/// (sums, Σ|terms| per sum) in f64 from first principles: err = d − ŷ for the squared loss,
/// y − σ(ŷ) for the logistic one; ℓ = (d − ŷ)² or log(1 + e^ŷ) − yŷ.
fn by_hand(ds: &Dataset, loss: Loss, w: &[f64]) -> (PartialSums, Vec<f64>, f64) {
    let p = ds.p();
    let mut s = PartialSums::zeros(p);
    let mut abs = vec![0.0; p + 1];
    let mut loss_abs = 0.0;
    for i in 0..ds.n() {
        let x: Vec<f64> = (0..p).map(|j| ds.features.get(i, j)).collect();
        let yhat = w[0] + x.iter().zip(&w[1..]).map(|(a, b)| a * b).sum::<f64>();
        let d = ds.targets[i];
        let (e, l) = match loss {
            Loss::Squared => (d - yhat, (d - yhat) * (d - yhat)),
            Loss::Logistic => (
                d - 1.0 / (1.0 + (-yhat).exp()),
                (1.0 + yhat.exp()).ln() - d * yhat,
            ),
        };
        s.grad[0] += e;
        abs[0] += e.abs();
        for j in 0..p {
            s.grad[j + 1] += e * x[j];
            abs[j + 1] += (e * x[j]).abs();
        }
        s.loss += l;
        loss_abs += l.abs();
    }
    s.rows = ds.n() as u64;
    s.weight = ds.n() as f64;
    (s, abs, loss_abs)
}

fn cfg(loss: Loss, precision: Precision) -> GdConfig {
    GdConfig {
        model: Model {
            loss,
            penalty: Penalty::NONE,
        },
        precision,
        ..GdConfig::default()
    }
}

/// Splits of 0..n into blocks: whole, at multiples of BLOCK_ROWS, uneven cuts, and a few
/// tiny blocks (one row, empty) among large ones.
fn splits(n: usize, seed: u64) -> Vec<Vec<std::ops::Range<usize>>> {
    let cut = |points: Vec<usize>| {
        let mut pts = vec![0];
        pts.extend(points.into_iter().filter(|&c| c > 0 && c < n));
        pts.push(n);
        pts.windows(2).map(|w| w[0]..w[1]).collect::<Vec<_>>()
    };
    let r = (seed % 997) as usize;
    vec![
        vec![0..n],
        cut((1..=n / BLOCK_ROWS).map(|k| k * BLOCK_ROWS).collect()),
        cut(vec![n / 3 + r, n / 3 + r + 1, 2 * n / 3 + r % 13]),
        cut(vec![1, 2, 2, 1_000 + r, n - 1]),
    ]
}

fn sums_of(
    backend: Backend,
    ds: &Dataset,
    cfg: &GdConfig,
    w: &[f64],
    blocks: &[std::ops::Range<usize>],
) -> PartialSums {
    let w = Coefficients::single(w.to_vec()).unwrap();
    let parts: Vec<PartialSums> = blocks
        .iter()
        .map(|r| partial_sums(backend, ds, r.clone(), cfg, &w).unwrap())
        .collect();
    PartialSums::merged(&parts).unwrap().unwrap()
}

fn assert_within(
    got: &PartialSums,
    want: &PartialSums,
    abs: &[f64],
    loss_abs: f64,
    eps: f64,
    n: usize,
    what: &str,
) {
    let bound = |a: f64| 2.0 * n as f64 * eps * a + f64::MIN_POSITIVE;
    for (j, (&g, &w)) in got.grad.iter().zip(&want.grad).enumerate() {
        let d = (g - w).abs();
        assert!(
            d <= bound(abs[j]),
            "{what}: sum {j}: {g} vs {w} (|Δ| {d:e} > {:e})",
            bound(abs[j])
        );
    }
    let d = (got.loss - want.loss).abs();
    assert!(
        d <= bound(loss_abs),
        "{what}: loss {} vs {} (|Δ| {d:e})",
        got.loss,
        want.loss
    );
    assert_eq!((got.rows, got.weight), (want.rows, want.weight), "{what}");
}

#[test]
fn merged_block_sums_are_the_whole_tables_on_every_cpu_backend() {
    let seed = common::fresh_seed("merged_block_sums");
    let n = 2 * BLOCK_ROWS + 1_234;
    for loss in [Loss::Squared, Loss::Logistic] {
        let ds = common::problem(loss, n, 3, seed);
        let w = [0.3, -0.7, 0.25, 1.1];
        let (want, abs, loss_abs) = by_hand(&ds, loss, &w);
        for backend in [Backend::Naive, Backend::Ndarray, Backend::Fused] {
            for precision in [Precision::F64, Precision::F32] {
                let cfg = cfg(loss, precision);
                for (k, blocks) in splits(n, seed).iter().enumerate() {
                    let got = sums_of(backend, &ds, &cfg, &w, blocks);
                    let what = format!("{loss:?} {backend} {precision} split {k}");
                    assert_within(&got, &want, &abs, loss_abs, precision.epsilon(), n, &what);
                }
            }
        }
    }
}

#[test]
fn blocks_merged_in_a_fixed_order_are_bit_identical() {
    let seed = common::fresh_seed("bit_identical_merges");
    let n = 2 * BLOCK_ROWS + 777;
    let ds = common::problem(Loss::Squared, n, 2, seed);
    let cfg = cfg(Loss::Squared, Precision::F64);
    let w = [1.0, 0.5, -0.5];
    // fused sums each BLOCK_ROWS block and combines the blocks in f64, in order: blocks cut
    // on the same boundaries and merged in order are the same operations.
    let whole = sums_of(Backend::Fused, &ds, &cfg, &w, &splits(n, seed)[0]);
    let aligned = &splits(n, seed)[1];
    assert!(aligned.len() > 2);
    let merged = sums_of(Backend::Fused, &ds, &cfg, &w, aligned);
    assert_eq!(merged, whole);
    // The same blocks merged twice in the same order: the same bits.
    let uneven = &splits(n, seed)[2];
    assert_eq!(
        sums_of(Backend::Naive, &ds, &cfg, &w, uneven),
        sums_of(Backend::Naive, &ds, &cfg, &w, uneven)
    );
}

#[test]
fn a_dropped_or_doubled_block_is_caught() {
    // The bound above is tight enough to see one block of 1 000 rows go missing or count
    // twice, in f32 too (the loosest precision).
    let n = 2 * BLOCK_ROWS + 1_234;
    let ds = common::problem(Loss::Squared, n, 3, 7);
    let w = [0.3, -0.7, 0.25, 1.1];
    let (want, abs, loss_abs) = by_hand(&ds, Loss::Squared, &w);
    let cfg = cfg(Loss::Squared, Precision::F32);
    let blocks = vec![0..1_000, 1_000..n];
    let dropped = sums_of(Backend::Fused, &ds, &cfg, &w, &blocks[1..]);
    let doubled = sums_of(
        Backend::Fused,
        &ds,
        &cfg,
        &w,
        &[blocks.clone(), blocks[..1].to_vec()].concat(),
    );
    for bad in [dropped, doubled] {
        let caught = std::panic::catch_unwind(|| {
            let mut bad = bad.clone();
            bad.rows = want.rows;
            bad.weight = want.weight;
            assert_within(
                &bad,
                &want,
                &abs,
                loss_abs,
                Precision::F32.epsilon(),
                n,
                "bad",
            );
        });
        assert!(caught.is_err());
    }
}

/// Drive the public stepper from merged block sums until it stops.
fn fit_by_blocks(
    ds: &Dataset,
    cfg: &GdConfig,
    blocks: &[std::ops::Range<usize>],
) -> descent::engine::Descent {
    let mut s = stepper(cfg, ds.n(), ds.p()).unwrap();
    loop {
        let sums = sums_of(Backend::Fused, ds, cfg, &s.point(), blocks);
        if let StepOutcome::Stop(_) = s.step(&sums) {
            return s.finish();
        }
    }
}

#[test]
fn stepping_from_merged_sums_is_the_ordinary_fit() {
    let seed = common::fresh_seed("stepping_from_merged_sums");
    let n = 2 * BLOCK_ROWS + 321;
    for (loss, kind) in [
        (Loss::Squared, PenaltyKind::ElasticNet),
        (Loss::Logistic, PenaltyKind::L2),
    ] {
        let ds = common::problem(loss, n, 3, seed);
        for optimizer in [
            OptimizerKind::Gd,
            OptimizerKind::Nesterov,
            OptimizerKind::Adam,
        ] {
            let model = Model {
                loss,
                penalty: Penalty::new(kind, Some(0.01), None).unwrap(),
            };
            let cfg = GdConfig {
                model,
                optimizer: Optimizer::new(optimizer, None, None, None, None).unwrap(),
                mu: match optimizer {
                    OptimizerKind::Adam => 0.01,
                    _ => 1.0 / model.smoothness(&ds).unwrap(),
                },
                epochs: 60,
                record_loss: true,
                ..GdConfig::default()
            };
            let whole = Fused.fit(&ds, &cfg).unwrap();
            let what = format!("{loss:?} {kind:?} {optimizer}");
            // Blocks on fused's own boundaries: the same operations, so the same bits.
            let aligned = fit_by_blocks(&ds, &cfg, &splits(n, seed)[1]);
            assert_eq!(aligned.weights, whole.weights, "{what}");
            assert_eq!(aligned.loss, whole.loss_history, "{what}");
            assert_eq!(aligned.epochs_run, whole.epochs_run, "{what}");
            // Other cuts: the same descent to rounding.
            let uneven = fit_by_blocks(&ds, &cfg, &splits(n, seed)[3]);
            let d = descent::max_abs_diff(&uneven.weights, &whole.weights);
            assert!(d < 1e-10, "{what}: {d:e}");
        }
    }
}

#[test]
fn bad_blocks_and_weights_are_refused() {
    let ds = common::problem(Loss::Squared, 10, 2, 1);
    let cfg = cfg(Loss::Squared, Precision::F64);
    let e = partial_sums(Backend::Fused, &ds, 5..11, &cfg, &Coefficients::zeros(1, 2)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid data: rows 5..11 are not within the table's 10 rows"
    );
    let e = partial_sums(Backend::Fused, &ds, 0..10, &cfg, &Coefficients::zeros(1, 1)).unwrap_err();
    assert!(
        e.to_string().contains("2 weights given for 2 features"),
        "{e}"
    );
    let w = Coefficients::zeros(1, 2);
    assert!(partial_sums(Backend::Gpu, &ds, 0..10, &cfg, &w).is_err());
    // Two outputs are not something the CPU kernels sum: refused, not misread.
    let two = partial_sums(Backend::Fused, &ds, 0..10, &cfg, &Coefficients::zeros(2, 2));
    assert!(matches!(two, Err(Error::Unsupported(_))), "{two:?}");
    let empty = partial_sums(Backend::Naive, &ds, 3..3, &cfg, &w).unwrap();
    assert_eq!(empty, PartialSums::zeros(2));
}
