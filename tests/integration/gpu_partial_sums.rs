//! The GPU's partial sums (the fit's own error + reduction pass, run once at given weights,
//! its per-workgroup sums merged on the host) against the CPU's `partial_sums`, within a
//! rounding bound computed here from first principles; the bound is tight enough to see one
//! workgroup's rows go missing; and stepping the engine from GPU sums is the ordinary fit.
//! f64 parts are skipped, with a SKIPPED line, on an adapter without SHADER_F64.

use crate::common;
use common::{fresh_seed, gpu, has_f64};
use descent::cpu::{partial_sums, Fused};
use descent::engine::{stepper, PartialSums, StepOutcome};
use descent::gpu::kernels::WG;
use descent::model::{Loss, Model, Optimizer, OptimizerKind, Penalty, PenaltyKind};
use descent::{Backend, Coefficients, Dataset, Error, GdConfig, Precision, Solver};
use std::ops::Range;

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

/// The precisions the shared adapter runs: f64 where it has SHADER_F64, and f32.
fn precisions(test: &str) -> Vec<Precision> {
    let mut out = vec![Precision::F32];
    if has_f64(test) {
        out.insert(0, Precision::F64);
    }
    out
}

/// Weights away from the fit (so the errors are large and the sums well away from zero),
/// varied by the seed.
fn weights(p: usize, seed: u64) -> Coefficients {
    let w = (0..=p).map(|j| ((seed >> (4 * j)) % 17) as f64 / 8.0 - 1.0);
    Coefficients::single(w.collect()).unwrap()
}

/// How far two evaluations of the sums in precision ε (the GPU's: per-invocation running
/// sums, a workgroup reduction, an f64 merge of the groups; the CPU's: its own order) may
/// lie apart, per sum. Each evaluation's error against exact arithmetic on the same inputs
/// is at most
///   - summation: n·ε·Σ_i |t_i| for terms t_i (any order of n additions);
///   - the terms themselves: ŷ_i = w0 + Σ_j w_j·x_ij is off by (p + 1)·ε·m_i, m_i = |w0| +
///     Σ_j |w_j·x_ij|, so err_i by (p + 2)·ε·(|d_i| + m_i) (squared) or that over 4 plus
///     the exponential's few ulps (logistic: err = y − σ(ŷ), σ' ≤ 1/4; Vulkan allows
///     3 + 2|x| ulps for exp); err_i·x_ij adds ε·|err_i·x_ij|; ℓ_i moves by at most
///     (2|err_i| + 2)·|δŷ_i| plus a few ulps of its own (log is allowed an absolute 2⁻²¹
///     near 1 in f32, ~4ε).
///
/// With r_i = 1 + |d_i| + m_i + |ŷ_i| bounding every per-row term, the bound on |GPU − CPU|
/// is twice one evaluation's: for sum j (x_i0 = 1)
///   2ε·(n·Σ_i |err_i·x_ij| + (p + 8)·Σ_i |x_ij|·r_i),
/// and for Σℓ
///   2ε·(n·Σ_i |ℓ_i| + (p + 8)·Σ_i (2 + 2|err_i|)·r_i).
struct Bound {
    grad: Vec<f64>,
    loss: f64,
}

fn bound(ds: &Dataset, loss: Loss, w: &[f64], rows: Range<usize>, eps: f64) -> Bound {
    let p = ds.p();
    let n = rows.len() as f64;
    let slack = (p + 8) as f64;
    let (mut grad, mut loss_sum) = (vec![0.0; p + 1], 0.0);
    for i in rows {
        let x: Vec<f64> = std::iter::once(1.0)
            .chain((0..p).map(|j| ds.features.get(i, j)))
            .collect();
        let yhat: f64 = x.iter().zip(w).map(|(a, b)| a * b).sum();
        let m: f64 = x.iter().zip(w).map(|(a, b)| (a * b).abs()).sum();
        let d = ds.targets[i];
        let r = 1.0 + d.abs() + m + yhat.abs();
        let (e, l) = match loss {
            Loss::Squared => (d - yhat, (d - yhat) * (d - yhat)),
            Loss::Logistic => (
                d - 1.0 / (1.0 + (-yhat).exp()),
                yhat.max(0.0) + (-yhat.abs()).exp().ln_1p() - d * yhat,
            ),
        };
        for (g, xj) in grad.iter_mut().zip(&x) {
            *g += n * (e * xj).abs() + slack * xj.abs() * r;
        }
        loss_sum += n * l.abs() + slack * (2.0 + 2.0 * e.abs()) * r;
    }
    Bound {
        grad: grad.iter().map(|g| 2.0 * eps * g).collect(),
        loss: 2.0 * eps * loss_sum,
    }
}

/// `got` within `bound` of `want`, sum by sum, with the same rows; else what is off.
fn within(got: &PartialSums, want: &PartialSums, bound: &Bound) -> Result<(), String> {
    for (j, ((g, w), b)) in got.grad.iter().zip(&want.grad).zip(&bound.grad).enumerate() {
        let d = (g - w).abs();
        if d.is_nan() || d > *b {
            return Err(format!(
                "sum {j}: {g} vs {w} (|Δ| {:e} > {b:e})",
                (g - w).abs()
            ));
        }
    }
    let d = (got.loss - want.loss).abs();
    if d.is_nan() || d > bound.loss {
        return Err(format!(
            "Σℓ: {} vs {} (|Δ| {d:e} > {:e})",
            got.loss, want.loss, bound.loss
        ));
    }
    if (got.rows, got.weight) != (want.rows, want.weight) {
        return Err(format!("rows {} vs {}", got.rows, want.rows));
    }
    Ok(())
}

/// Splits of 0..n: whole; blocks of 2 048 rows; uneven cuts; a one-row and an empty block
/// among large ones.
fn splits(n: usize, seed: u64) -> Vec<Vec<Range<usize>>> {
    let cut = |points: Vec<usize>| {
        let mut pts = vec![0];
        pts.extend(points.into_iter().filter(|&c| c <= n));
        pts.push(n);
        pts.windows(2).map(|w| w[0]..w[1]).collect::<Vec<_>>()
    };
    let r = (seed % 997) as usize;
    vec![
        vec![0..n],
        cut((1..n / 2_048 + 1).map(|k| k * 2_048).collect()),
        cut(vec![n / 3 + r, 2 * n / 3 + r % 13]),
        cut(vec![1, 2, 2, 1_000 + r, n - 1]),
    ]
}

/// The GPU's sums over each block, merged in order.
fn gpu_sums(
    ds: &Dataset,
    cfg: &GdConfig,
    w: &Coefficients,
    blocks: &[Range<usize>],
) -> PartialSums {
    let mut total = PartialSums::zeros(ds.p());
    for rows in blocks {
        let part = gpu()
            .partial_sums(ds, rows.clone(), cfg, w)
            .unwrap_or_else(|e| panic!("rows {rows:?}: {e}"));
        assert_eq!(part.rows, rows.len() as u64);
        total.merge(&part).unwrap();
    }
    total
}

#[test]
fn gpu_partial_sums_match_the_cpus_within_rounding() {
    let seed = fresh_seed("gpu_partial_sums_match_the_cpus");
    let n = 9_000 + (seed % 1_000) as usize;
    for loss in [Loss::Squared, Loss::Logistic] {
        let ds = common::problem(loss, n, 3, seed);
        let w = weights(3, seed);
        for precision in precisions("gpu_partial_sums_match_the_cpus_within_rounding") {
            let cfg = cfg(loss, precision);
            let want = partial_sums(Backend::Fused, &ds, 0..n, &cfg, &w).unwrap();
            let b = bound(&ds, loss, &w, 0..n, precision.epsilon());
            for (k, blocks) in splits(n, seed).iter().enumerate() {
                let got = gpu_sums(&ds, &cfg, &w, blocks);
                within(&got, &want, &b)
                    .unwrap_or_else(|e| panic!("{loss:?} {precision} split {k}: {e}"));
            }
            // The same rows at the same weights: the same bits (a fixed merge order).
            let rows = gpu().upload_rows(&ds, 0..n, &cfg).unwrap();
            assert_eq!(rows.sums(&w).unwrap(), rows.sums(&w).unwrap());
        }
    }
}

/// The bound is no formality: the sums without one workgroup's rows (the pass's first 256)
/// fall outside it, in f32 (the loosest precision) as in f64.
#[test]
fn a_missing_workgroup_is_caught_by_the_bound() {
    let seed = fresh_seed("a_missing_workgroup_is_caught");
    let n = 9_000 + (seed % 1_000) as usize;
    let wg = WG as usize;
    for loss in [Loss::Squared, Loss::Logistic] {
        let ds = common::problem(loss, n, 3, seed);
        let w = weights(3, seed);
        for precision in precisions("a_missing_workgroup_is_caught_by_the_bound") {
            let cfg = cfg(loss, precision);
            let want = partial_sums(Backend::Fused, &ds, 0..n, &cfg, &w).unwrap();
            let b = bound(&ds, loss, &w, 0..n, precision.epsilon());
            let mut short = gpu_sums(&ds, &cfg, &w, std::slice::from_ref(&(wg..n)));
            short.rows = n as u64;
            short.weight = n as f64;
            let caught = within(&short, &want, &b);
            assert!(
                caught.is_err(),
                "{loss:?} {precision}: a missing workgroup passes"
            );
            eprintln!(
                "{loss:?} {precision}: without rows 0..{wg}: {}",
                caught.unwrap_err()
            );
        }
    }
}

#[test]
fn stepping_from_gpu_sums_is_the_ordinary_fit() {
    if !has_f64("stepping_from_gpu_sums_is_the_ordinary_fit") {
        return;
    }
    let seed = fresh_seed("stepping_from_gpu_sums");
    let n = 3_000 + (seed % 500) as usize;
    for (loss, kind, optimizer) in [
        (Loss::Squared, PenaltyKind::ElasticNet, OptimizerKind::Gd),
        (Loss::Logistic, PenaltyKind::L2, OptimizerKind::Nesterov),
        (Loss::Squared, PenaltyKind::None, OptimizerKind::Adam),
    ] {
        let ds = common::problem(loss, n, 3, seed);
        let penalty = match kind {
            PenaltyKind::None => Penalty::NONE,
            _ => Penalty::new(kind, Some(0.01), None).unwrap(),
        };
        let model = Model { loss, penalty };
        let cfg = GdConfig {
            model,
            optimizer: Optimizer::new(optimizer, None, None, None, None).unwrap(),
            mu: match optimizer {
                OptimizerKind::Adam => 0.01,
                _ => 1.0 / model.smoothness(&ds).unwrap(),
            },
            epochs: 40,
            record_loss: true,
            precision: Precision::F64,
            ..GdConfig::default()
        };
        let whole = Fused.fit(&ds, &cfg).unwrap();
        // Two blocks on the device, uploaded once, summed at each epoch's point.
        let cut = n / 3 + (seed % 100) as usize;
        let blocks = [0..cut, cut..n].map(|r| gpu().upload_rows(&ds, r, &cfg).unwrap());
        let mut s = stepper(&cfg, n, ds.p()).unwrap();
        loop {
            let w = s.point();
            let mut sums = PartialSums::zeros(ds.p());
            for b in &blocks {
                sums.merge(&b.sums(&w).unwrap()).unwrap();
            }
            if let StepOutcome::Stop(_) = s.step(&sums) {
                break;
            }
        }
        let stepped = s.finish();
        let what = format!("{loss:?} {kind:?} {optimizer}");
        assert_eq!(stepped.epochs_run, whole.epochs_run, "{what}");
        let d = descent::max_abs_diff(&stepped.weights, &whole.weights);
        assert!(d < 1e-10, "{what}: weights {d:e}");
        let history = whole.loss_history.unwrap();
        let dl = descent::max_abs_diff(&stepped.loss.unwrap(), &history);
        assert!(dl < 1e-10, "{what}: loss {dl:e}");
    }
}

#[test]
fn bad_blocks_and_weights_are_refused() {
    let ds = common::problem(Loss::Squared, 10, 2, 1);
    let cfg = cfg(Loss::Squared, Precision::F32);
    let e = gpu()
        .partial_sums(&ds, 5..11, &cfg, &Coefficients::zeros(1, 2))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid data: rows 5..11 are not within the table's 10 rows"
    );
    let e = gpu()
        .partial_sums(&ds, 0..10, &cfg, &Coefficients::zeros(1, 1))
        .unwrap_err();
    assert!(
        e.to_string().contains("2 weights given for 2 features"),
        "{e}"
    );
    let empty = gpu()
        .partial_sums(&ds, 3..3, &cfg, &Coefficients::zeros(1, 2))
        .unwrap();
    assert_eq!(empty, PartialSums::zeros(2));
    // One row: the sums are that row's terms.
    // Two outputs are not something the GPU's kernels sum: refused, not misread.
    let two = gpu().partial_sums(&ds, 0..10, &cfg, &Coefficients::zeros(2, 2));
    assert!(matches!(two, Err(Error::Unsupported(_))), "{two:?}");
    let one = gpu()
        .partial_sums(&ds, 4..5, &cfg, &Coefficients::zeros(1, 2))
        .unwrap();
    let d = ds.targets[4] as f32 as f64;
    assert_eq!(one.grad[0], d);
    assert_eq!(one.rows, 1);
}
