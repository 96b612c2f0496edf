//! The f64 references (src/reference) checked against things they do not compute
//! themselves: gradients from `Model::smooth_gradient`, normal equations by Cholesky,
//! limits (λ → 0, λ → ∞), affine invariance, a coordinate-descent solver written here, and
//! the objective itself. Every problem is freshly seeded (DESCENT_TEST_SEED replays one).

use crate::common;

use common::{fresh_seed, max_abs, nan_max};
use descent::data::{synthetic, Dataset, Synthetic};
use descent::model::{Loss, Model, Penalty, PenaltyKind};
use descent::ols::ols;
use descent::reference::{
    kkt_residual, newton_logistic, reference, reference_kind, ridge, ReferenceKind,
};
use descent::{max_abs_diff, Error};
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

fn model(loss: Loss, kind: PenaltyKind, alpha: Option<f64>, ratio: Option<f64>) -> Model {
    Model {
        loss,
        penalty: Penalty::new(kind, alpha, ratio).unwrap(),
    }
}

/// Squared loss with an L2 part of strength `l2` (none when 0).
fn ridge_model(l2: f64) -> Model {
    if l2 == 0.0 {
        model(Loss::Squared, PenaltyKind::None, None, None)
    } else {
        model(Loss::Squared, PenaltyKind::L2, Some(l2), None)
    }
}

fn logistic_model(l2: f64) -> Model {
    if l2 == 0.0 {
        model(Loss::Logistic, PenaltyKind::None, None, None)
    } else {
        model(Loss::Logistic, PenaltyKind::L2, Some(l2), None)
    }
}

/// ‖∇S(w)‖∞ / max(1, ‖∇S(0)‖∞): the gradient at w relative to where descent starts.
fn relative_gradient(model: &Model, data: &Dataset, w: &[f64]) -> f64 {
    let g = model.smooth_gradient(data, w);
    let g0 = model.smooth_gradient(data, &vec![0.0; w.len()]);
    max_abs(&g) / max_abs(&g0).max(1.0)
}

fn regression(n: usize, p: usize, sigma: f64, seed: u64) -> Dataset {
    synthetic(&Synthetic {
        n,
        p,
        true_weights: None,
        sigma,
        seed,
    })
    .unwrap()
    .0
}

/// Standard-normal features (n × p).
fn normal_features(rng: &mut StdRng, n: usize, p: usize) -> Array2<f64> {
    let normal = Normal::new(0.0, 1.0).unwrap();
    Array2::from_shape_fn((n, p), |_| normal.sample(rng))
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Overlapping classes: labels drawn from a logistic model with moderate weights, so the
/// unpenalised loss has a finite minimum (n ≫ p makes separation practically impossible).
fn overlapping(n: usize, p: usize, seed: u64) -> Dataset {
    steep(n, p, 1.0, seed)
}

/// Labels from a logistic model with feature weights of norm `scale` and an intercept in
/// (−1, 1): the larger `scale`, the closer the classes come to separable and the farther
/// the optimum lies from w = 0 (for a large scale about 0.55/scale of the rows still fall
/// on the wrong side, so n ≫ scale keeps the classes overlapping).
fn steep(n: usize, p: usize, scale: f64, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = normal_features(&mut rng, n, p);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let u: Vec<f64> = (0..p).map(|_| normal.sample(&mut rng)).collect();
    let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
    let w: Vec<f64> = std::iter::once(rng.random_range(-1.0..1.0))
        .chain(u.iter().map(|v| scale * v / norm))
        .collect();
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|row| {
            let z = w[0] + row.iter().zip(&w[1..]).map(|(a, b)| a * b).sum::<f64>();
            f64::from(u8::from(rng.random_bool(sigmoid(z))))
        })
        .collect();
    Dataset::new(x, y).unwrap()
}

/// Separable classes with a margin: rows with |x·w| < 0.5 are dropped. The hyperplane
/// passes through the origin of symmetric features, so both classes appear.
fn separable(n: usize, p: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let w: Vec<f64> = (0..p)
        .map(|_| rng.random_range(0.5..1.5) * if rng.random_bool(0.5) { 1.0 } else { -1.0 })
        .collect();
    let normal = Normal::new(0.0, 1.0).unwrap();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    while y.len() < n {
        let row: Vec<f64> = (0..p).map(|_| normal.sample(&mut rng)).collect();
        let z = row.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
        if z.abs() >= 0.5 {
            x.extend(row);
            y.push(if z > 0.0 { 1.0 } else { 0.0 });
        }
    }
    Dataset::new(Array2::from_shape_vec((n, p), x).unwrap(), Array1::from(y)).unwrap()
}

// ---------------------------------------------------------------------------------------
// ridge

#[test]
fn ridge_gradient_vanishes_at_the_solution() {
    let seed = fresh_seed("ridge_gradient");
    // Tall, square-ish and wide (n < p: ridge is still unique).
    for (k, &(n, p)) in [(300, 5), (12, 10), (6, 15)].iter().enumerate() {
        let data = regression(n, p, 0.3, seed.wrapping_add(k as u64));
        for l2 in [1e-3, 0.1, 10.0] {
            let w = ridge(&data, l2).unwrap();
            let rel = relative_gradient(&ridge_model(l2), &data, &w);
            assert!(
                rel <= 1e-10,
                "n {n}, p {p}, λ {l2}: relative gradient {rel:e}"
            );
        }
    }
}

#[test]
fn ridge_matches_the_normal_equations() {
    let seed = fresh_seed("ridge_normal_equations");
    for (k, &(n, p)) in [(400, 6), (8, 12)].iter().enumerate() {
        let data = regression(n, p, 0.5, seed.wrapping_add(k as u64));
        let a = Mat::<f64>::from_fn(n, p + 1, |i, j| {
            if j == 0 {
                1.0
            } else {
                data.features.get(i, j - 1)
            }
        });
        let y = Mat::<f64>::from_fn(n, 1, |i, _| data.targets[i]);
        for l2 in [1e-2, 1.0] {
            // (AᵀA + λN/2·D) w = Aᵀy, by Cholesky.
            let shift = l2 * n as f64 / 2.0;
            let gram = a.transpose() * &a;
            let g = Mat::<f64>::from_fn(p + 1, p + 1, |i, j| {
                gram[(i, j)] + if i == j && i > 0 { shift } else { 0.0 }
            });
            let rhs = a.transpose() * &y;
            let sol = g.llt(Side::Lower).unwrap().solve(&rhs);
            let expected: Vec<f64> = (0..=p).map(|i| sol[(i, 0)]).collect();
            let got = ridge(&data, l2).unwrap();
            let scale = max_abs(&expected).max(1.0);
            let diff = max_abs_diff(&got, &expected);
            assert!(
                diff <= 1e-9 * scale,
                "n {n}, p {p}, λ {l2}: ridge {got:?} vs normal equations {expected:?}"
            );
        }
    }
}

#[test]
fn ridge_tends_to_ols_as_lambda_vanishes() {
    let seed = fresh_seed("ridge_to_ols");
    let data = regression(500, 4, 0.2, seed);
    let exact = ols(&data).unwrap().weights;
    let diffs: Vec<f64> = [1e-2, 1e-4, 1e-6, 1e-8]
        .iter()
        .map(|&l2| max_abs_diff(&ridge(&data, l2).unwrap(), &exact))
        .collect();
    // The bias is O(λ): each 100× smaller λ shrinks it by ~100×.
    for pair in diffs.windows(2) {
        assert!(pair[1] < pair[0] / 20.0, "not converging to OLS: {diffs:?}");
    }
    assert!(diffs[3] <= 1e-6, "λ = 1e-8 is {:e} from OLS", diffs[3]);
    assert!(diffs[0] > 0.0);
}

#[test]
fn ridge_does_not_shrink_the_intercept() {
    let seed = fresh_seed("ridge_intercept");
    let data = regression(200, 3, 0.3, seed);
    let mean = data.targets.mean().unwrap();
    let w = ridge(&data, 1e12).unwrap();
    assert!(max_abs(&w[1..]) <= 1e-9, "features not shrunk: {w:?}");
    assert!(
        (w[0] - mean).abs() <= 1e-8 * mean.abs().max(1.0),
        "intercept {} should be mean(y) = {mean}",
        w[0]
    );
    // And the bad λ values are refused, not silently treated as OLS.
    for l2 in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(ridge(&data, l2), Err(Error::Config(_))), "λ {l2}");
    }
}

// ---------------------------------------------------------------------------------------
// Newton (logistic)

#[test]
fn newton_gradient_vanishes_at_the_solution() {
    let seed = fresh_seed("newton_gradient");
    for (k, &(n, p)) in [(600, 4), (150, 8)].iter().enumerate() {
        let data = overlapping(n, p, seed.wrapping_add(k as u64));
        for l2 in [0.0, 1e-3, 1.0] {
            let w =
                newton_logistic(&data, l2).unwrap_or_else(|e| panic!("n {n}, p {p}, l2 {l2}: {e}"));
            let rel = relative_gradient(&logistic_model(l2), &data, &w);
            assert!(
                rel <= 1e-10,
                "n {n}, p {p}, l2 {l2}: relative gradient {rel:e}"
            );
        }
    }
}

#[test]
fn newton_reaches_a_far_optimum() {
    // Steep labels put the optimum far from the start w = 0 (|w| ≈ 12), with the loss of
    // most rows in its flat tail.
    let seed = fresh_seed("newton_steep");
    for k in 0..4u64 {
        let data = steep(400, 2, 12.0, seed.wrapping_add(k));
        let w = newton_logistic(&data, 0.0).unwrap();
        let rel = relative_gradient(&logistic_model(0.0), &data, &w);
        assert!(rel <= 1e-10, "relative gradient {rel:e} at {w:?}");
        assert!(max_abs(&w[1..]) > 4.0, "not far: {w:?}");
    }
}

#[test]
fn newton_finds_a_minimum_of_the_objective() {
    let seed = fresh_seed("newton_minimum");
    let data = overlapping(400, 3, seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let normal = Normal::new(0.0, 1.0).unwrap();
    for l2 in [0.0, 0.1] {
        let m = logistic_model(l2);
        let w = newton_logistic(&data, l2).unwrap();
        let j = m.objective(&data, &w);
        for _ in 0..40 {
            let u: Vec<f64> = (0..w.len()).map(|_| normal.sample(&mut rng)).collect();
            let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
            for eps in [1e-4, 1e-2, 1.0] {
                let trial: Vec<f64> = w.iter().zip(&u).map(|(a, b)| a + eps * b / norm).collect();
                let jt = m.objective(&data, &trial);
                assert!(
                    jt > j,
                    "l2 {l2}: J({trial:?}) = {jt} < J(optimum {w:?}) = {j}"
                );
            }
        }
    }
}

#[test]
fn newton_is_affine_invariant() {
    // x' = s·x + o rescales the unpenalised optimum exactly: w'_j = w_j/s,
    // w0' = w0 − Σ o_j·w_j/s_j. An independent check of the whole path, line search included.
    let seed = fresh_seed("newton_affine");
    let data = overlapping(300, 3, seed);
    let (s, o) = ([100.0, 0.01, 3.0], [50.0, -2.0, 0.0]);
    let mut x = data.features.clone().into_f64();
    for (j, mut col) in x.columns_mut().into_iter().enumerate() {
        col.mapv_inplace(|v| s[j] * v + o[j]);
    }
    let scaled = Dataset::new(x, data.targets.clone()).unwrap();
    let w = newton_logistic(&data, 0.0).unwrap();
    let ws = newton_logistic(&scaled, 0.0).unwrap();
    let mut expected = vec![w[0]];
    for j in 0..3 {
        expected.push(w[j + 1] / s[j]);
        expected[0] -= o[j] * w[j + 1] / s[j];
    }
    for (j, (a, b)) in ws.iter().zip(&expected).enumerate() {
        assert!(
            (a - b).abs() <= 1e-8 * b.abs().max(1e-3),
            "weight {j}: {a} vs {b} (scaled {ws:?}, expected {expected:?})"
        );
    }
}

#[test]
fn newton_with_l2_converges_on_separable_data() {
    let seed = fresh_seed("newton_separable_l2");
    let data = separable(200, 3, seed);
    for l2 in [1e-4, 1e-2] {
        let w = newton_logistic(&data, l2).unwrap();
        let rel = relative_gradient(&logistic_model(l2), &data, &w);
        assert!(rel <= 1e-10, "l2 {l2}: relative gradient {rel:e}");
        assert!(w.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn newton_without_l2_refuses_separable_data() {
    let seed = fresh_seed("newton_separable");
    for k in 0..3usize {
        let data = separable(100 + 50 * k, 2 + k, seed.wrapping_add(k as u64));
        let err = newton_logistic(&data, 0.0).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Data(_)), "{msg}");
        // The library names the settings neutrally (the CLI writes `--penalty l2 --alpha`).
        for needle in [
            "separable",
            "no finite minimum",
            "penalty = l2, alpha = 1e-4",
        ] {
            assert!(msg.contains(needle), "'{needle}' missing from: {msg}");
        }
    }
}

#[test]
fn newton_refuses_bad_labels_and_a_single_class() {
    let seed = fresh_seed("newton_labels");
    let data = overlapping(50, 2, seed);
    let mut bad = data.clone();
    bad.targets[7] = 2.0;
    let msg = newton_logistic(&bad, 0.1).unwrap_err().to_string();
    assert!(msg.contains("row 8"), "{msg}");
    for label in [0.0, 1.0] {
        let mut one = data.clone();
        one.targets.fill(label);
        // The intercept is never penalised, so even an L2 part cannot help.
        for l2 in [0.0, 1.0] {
            let msg = newton_logistic(&one, l2).unwrap_err().to_string();
            assert!(msg.contains("no finite minimum"), "{msg}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// KKT

/// Cyclic coordinate descent for `model` (written here, independently of the crate): each
/// coordinate takes the proximal step on its 1-D majoriser with curvature
/// L_j = c·(1/N)·Σ x_ij² + l2 (c = 2 for squared, exact; 1/4 for logistic, a bound), so J
/// never increases. Runs until a sweep changes nothing by more than a few ulps.
fn coordinate_descent(model: &Model, data: &Dataset) -> Vec<f64> {
    let (n, p) = (data.n(), data.p());
    let nf = n as f64;
    let (l1, l2) = (model.penalty.l1_strength(), model.penalty.l2_strength());
    let c = match model.loss {
        Loss::Squared => 2.0,
        Loss::Logistic => 0.25,
    };
    let dloss = |y: f64, f: f64| match model.loss {
        Loss::Squared => -2.0 * (y - f),
        Loss::Logistic => sigmoid(f) - y,
    };
    let col = |j: usize| -> Vec<f64> {
        if j == 0 {
            vec![1.0; n]
        } else {
            data.features.column(j - 1).collect()
        }
    };
    let cols: Vec<Vec<f64>> = (0..=p).map(col).collect();
    let curv: Vec<f64> = cols
        .iter()
        .enumerate()
        .map(|(j, x)| c * x.iter().map(|v| v * v).sum::<f64>() / nf + if j > 0 { l2 } else { 0.0 })
        .collect();
    let mut w = vec![0.0; p + 1];
    let mut f = vec![0.0; n];
    for _ in 0..200_000 {
        let mut change: f64 = 0.0;
        for j in 0..=p {
            let g = cols[j]
                .iter()
                .zip(&f)
                .zip(data.targets.iter())
                .map(|((x, &fi), &y)| dloss(y, fi) * x)
                .sum::<f64>()
                / nf
                + if j > 0 { l2 * w[j] } else { 0.0 };
            let z = w[j] - g / curv[j];
            let t = if j > 0 { l1 / curv[j] } else { 0.0 };
            let new = z.signum() * (z.abs() - t).max(0.0);
            let delta = new - w[j];
            if delta != 0.0 {
                for (fi, x) in f.iter_mut().zip(&cols[j]) {
                    *fi += delta * x;
                }
                w[j] = new;
            }
            change = change.max(delta.abs());
        }
        if change <= 4e-15 * max_abs(&w).max(1.0) {
            break;
        }
    }
    w
}

/// A sparse regression problem: three of six true weights are zero.
fn sparse_regression(seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let (n, p) = (200, 6);
    let x = normal_features(&mut rng, n, p);
    let w = [1.0, 3.0, -2.0, 0.0, 0.0, 0.8, 0.0];
    let noise = Normal::new(0.0, 0.5).unwrap();
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| {
            w[0] + r.iter().zip(&w[1..]).map(|(a, b)| a * b).sum::<f64>() + noise.sample(&mut rng)
        })
        .collect();
    Dataset::new(x, y).unwrap()
}

/// αρ as a fraction of λmax = ‖∇_w S(0)‖∞ (from the intercept-only fit), the smallest L1
/// strength that zeroes every feature.
fn l1_at(model_loss: Loss, data: &Dataset, fraction: f64) -> f64 {
    let m = Model {
        loss: model_loss,
        penalty: Penalty::NONE,
    };
    let mut w0 = vec![0.0; data.p() + 1];
    let mean = data.targets.mean().unwrap();
    w0[0] = match model_loss {
        Loss::Squared => mean,
        Loss::Logistic => (mean / (1.0 - mean)).ln(),
    };
    fraction * max_abs(&m.smooth_gradient(data, &w0)[1..])
}

#[test]
fn kkt_residual_vanishes_at_an_independent_solution() {
    let seed = fresh_seed("kkt_optimum");
    let data = sparse_regression(seed);
    let lmax = l1_at(Loss::Squared, &data, 1.0);
    let logistic_data = overlapping(200, 4, seed ^ 0xabc);
    let lmax_logistic = l1_at(Loss::Logistic, &logistic_data, 1.0);
    let cases = [
        (
            model(Loss::Squared, PenaltyKind::L1, Some(0.2 * lmax), None),
            &data,
        ),
        (
            model(
                Loss::Squared,
                PenaltyKind::ElasticNet,
                Some(0.3 * lmax),
                Some(0.6),
            ),
            &data,
        ),
        (
            model(
                Loss::Logistic,
                PenaltyKind::L1,
                Some(0.3 * lmax_logistic),
                None,
            ),
            &logistic_data,
        ),
        (
            model(
                Loss::Logistic,
                PenaltyKind::ElasticNet,
                Some(0.4 * lmax_logistic),
                Some(0.5),
            ),
            &logistic_data,
        ),
    ];
    for (m, d) in cases {
        let w = coordinate_descent(&m, d);
        let res = kkt_residual(&m, d, &w);
        assert!(res <= 1e-9, "{m:?}: KKT residual {res:e} at {w:?}");
        assert!(w[1..].iter().any(|&v| v != 0.0), "{m:?}: all zero: {w:?}");
        if m.loss == Loss::Squared {
            // Noise-only features are cut exactly; the KKT test of zeros is exercised.
            assert!(w[1..].contains(&0.0), "{m:?}: no zero: {w:?}");
        }
        // Perturbed points are not optimal: a nonzero weight moved, a zero one made nonzero,
        // the intercept moved.
        let nonzero = (1..w.len()).find(|&j| w[j] != 0.0).unwrap();
        let mut moves = vec![(nonzero, 0.05), (0, 0.05)];
        if let Some(zero) = (1..w.len()).find(|&j| w[j] == 0.0) {
            moves.push((zero, 0.05));
        }
        for (j, delta) in moves {
            let mut v = w.clone();
            v[j] += delta;
            let res = kkt_residual(&m, d, &v);
            assert!(
                res > 1e-3,
                "{m:?}: moving w{j} by {delta} leaves residual {res:e}"
            );
        }
    }
}

#[test]
fn kkt_residual_at_zero_is_the_gradient_beyond_the_threshold() {
    let seed = fresh_seed("kkt_zero");
    let data = sparse_regression(seed);
    let (n, p) = (data.n() as f64, data.p());
    // ∂S/∂w at w = 0 by hand: (1/N)·Σ −2·y_i·[1, x_i] (the L2 part vanishes at 0).
    let mut g = vec![0.0; p + 1];
    for (row, &y) in data
        .features
        .to_f64()
        .rows()
        .into_iter()
        .zip(data.targets.iter())
    {
        g[0] += -2.0 * y / n;
        for j in 0..p {
            g[j + 1] += -2.0 * y * row[j] / n;
        }
    }
    let gmax = max_abs(&g[1..]);
    for (kind, ratio, alpha) in [
        (PenaltyKind::L1, None, 0.5 * gmax),
        (PenaltyKind::L1, None, 2.0 * gmax),
        (PenaltyKind::ElasticNet, Some(0.3), 0.9 * gmax),
    ] {
        let m = model(Loss::Squared, kind, Some(alpha), ratio);
        let l1 = m.penalty.l1_strength();
        let expected = g[1..]
            .iter()
            .map(|gj| (gj.abs() - l1).max(0.0))
            .fold(g[0].abs(), nan_max);
        let got = kkt_residual(&m, &data, &vec![0.0; p + 1]);
        assert!(
            (got - expected).abs() <= 1e-12 * expected.max(1.0),
            "{kind} α {alpha}: residual {got} vs {expected}"
        );
    }
    // Without an L1 part it is the plain gradient's ∞-norm; a wrong length is NaN.
    let m = ridge_model(0.5);
    let w: Vec<f64> = (0..=p).map(|j| j as f64 * 0.1).collect();
    assert_eq!(
        kkt_residual(&m, &data, &w),
        max_abs(&m.smooth_gradient(&data, &w))
    );
    assert!(kkt_residual(&m, &data, &w[1..]).is_nan());
}

// ---------------------------------------------------------------------------------------
// dispatch

#[test]
fn reference_kind_table() {
    use Loss::{Logistic, Squared};
    use PenaltyKind::{ElasticNet, None as NoPenalty, L1, L2};
    use ReferenceKind::{Kkt, Newton, Ols, Ridge};
    let table = [
        (Squared, NoPenalty, None, None, Ols),
        (Squared, L2, Some(0.1), None, Ridge),
        (Squared, L2, Some(0.0), None, Ols),
        (Squared, L1, Some(0.1), None, Kkt),
        (Squared, ElasticNet, Some(0.1), None, Kkt),
        (Squared, ElasticNet, Some(0.1), Some(0.0), Ridge),
        (Squared, ElasticNet, Some(0.0), Some(0.0), Ols),
        (Squared, ElasticNet, Some(0.1), Some(1.0), Kkt),
        (Logistic, NoPenalty, None, None, Newton),
        (Logistic, L2, Some(0.1), None, Newton),
        (Logistic, L2, Some(0.0), None, Newton),
        (Logistic, L1, Some(0.1), None, Kkt),
        (Logistic, ElasticNet, Some(0.1), Some(0.2), Kkt),
        (Logistic, ElasticNet, Some(0.1), Some(0.0), Newton),
    ];
    for (loss, kind, alpha, ratio, expected) in table {
        let m = model(loss, kind, alpha, ratio);
        assert_eq!(
            reference_kind(&m),
            expected,
            "{loss} {kind} α {alpha:?} ρ {ratio:?}"
        );
    }
    // Every loss × penalty combination is covered above.
    for loss in Loss::ALL {
        for kind in PenaltyKind::ALL {
            assert!(
                table.iter().any(|t| t.0 == loss && t.1 == kind),
                "{loss} {kind}"
            );
        }
    }
    for (k, s) in [
        (Ols, "ols"),
        (Ridge, "ridge"),
        (Newton, "newton"),
        (Kkt, "kkt"),
    ] {
        assert_eq!(k.as_str(), s);
        assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{s}\""));
    }
}

#[test]
fn reference_dispatches_and_passes_errors_on() {
    let seed = fresh_seed("reference_dispatch");
    let data = regression(100, 3, 0.1, seed);
    let r = reference(&ridge_model(0.0), &data).unwrap();
    assert_eq!(r.kind, ReferenceKind::Ols);
    assert_eq!(r.weights.unwrap(), ols(&data).unwrap().weights);
    let r = reference(&ridge_model(0.3), &data).unwrap();
    assert_eq!(r.kind, ReferenceKind::Ridge);
    assert_eq!(r.weights.unwrap(), ridge(&data, 0.3).unwrap());
    let r = reference(
        &model(Loss::Squared, PenaltyKind::L1, Some(0.1), None),
        &data,
    )
    .unwrap();
    assert_eq!((r.kind, r.weights), (ReferenceKind::Kkt, None));

    let classes = overlapping(200, 2, seed);
    let r = reference(&logistic_model(0.2), &classes).unwrap();
    assert_eq!(r.kind, ReferenceKind::Newton);
    assert_eq!(r.weights.unwrap(), newton_logistic(&classes, 0.2).unwrap());
    // Regression targets are not labels.
    assert!(reference(&logistic_model(0.2), &data).is_err());
    assert!(reference(
        &model(Loss::Logistic, PenaltyKind::L1, Some(0.1), None),
        &data
    )
    .is_err());

    // A duplicated column: OLS's own error, unchanged.
    let mut x = data.features.clone().into_f64();
    let first = x.column(0).to_owned();
    x.column_mut(1).assign(&first);
    let dup = Dataset::new(x, data.targets.clone()).unwrap();
    match reference(&ridge_model(0.0), &dup) {
        Err(Error::RankDeficient {
            reference,
            rank,
            cols,
            hint,
        }) => {
            assert_eq!((reference, rank, cols), ("OLS", 3, 4));
            assert!(hint.contains("identical"), "{hint}");
        }
        other => panic!("expected RankDeficient, got {other:?}"),
    }
    // Ridge does not mind it.
    let w = reference(&ridge_model(0.3), &dup).unwrap().weights.unwrap();
    assert!(relative_gradient(&ridge_model(0.3), &dup, &w) <= 1e-10);
}
