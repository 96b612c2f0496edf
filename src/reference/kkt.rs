//! The optimality (KKT) residual of a fit whose penalty has an L1 part.

use crate::data::Dataset;
use crate::model::Model;

/// How far `w` = `[w0, w1..wp]` is from satisfying the optimality conditions of `model` on
/// `data`, in f64 (the model may have an L1 part; without one this is ‖∇J‖∞).
///
/// Write J = S + αρ·‖w‖₁ with S the smooth part (mean loss plus the L2 part, whose gradient
/// is [`Model::smooth_gradient`]). J is convex, so w is optimal iff 0 ∈ ∂J(w), i.e.
///
/// * intercept: ∂S/∂w0 = 0 (never penalised);
/// * w_j ≠ 0: ∂S/∂w_j + αρ·sign(w_j) = 0;
/// * w_j = 0: |∂S/∂w_j| ≤ αρ (the subdifferential of |w_j| at 0 is [−1, 1]).
///
/// The residual is the largest violation over the coordinates:
/// max(|∂S/∂w0|, max over w_j ≠ 0 of |∂S/∂w_j + αρ·sign(w_j)|,
/// max over w_j = 0 of max(0, |∂S/∂w_j| − αρ)),
/// which is zero exactly at the optimum and is the distance from 0 to the subdifferential in
/// the ∞-norm, so it is in the units of a gradient (compare it to ‖∇S(0)‖∞).
///
/// Why KKT: with an L1 part the optimum has no closed form, and any solver written to find
/// it would share the proximal-gradient logic it should check; the conditions need only a
/// gradient, computed here independently of every backend. Proximal gradient produces exact
/// zeros, so `w_j == 0` is tested exactly.
///
/// Returns NaN if `w` has the wrong length or a non-finite entry.
pub fn kkt_residual(model: &Model, data: &Dataset, w: &[f64]) -> f64 {
    if w.len() != data.p() + 1 || w.iter().any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    residual_at(model, &model.smooth_gradient(data, w), w)
}

/// [`kkt_residual`] from the smooth part's gradient `g` at `w`.
fn residual_at(model: &Model, g: &[f64], w: &[f64]) -> f64 {
    let l1 = model.penalty.l1_strength();
    let features = g[1..].iter().zip(&w[1..]).map(|(&gj, &wj)| {
        if wj != 0.0 {
            (gj + l1 * wj.signum()).abs()
        } else {
            (gj.abs() - l1).max(0.0)
        }
    });
    std::iter::once(g[0].abs())
        .chain(features)
        .fold(0.0, |m, v| {
            if v.is_nan() || m.is_nan() {
                f64::NAN
            } else {
                m.max(v)
            }
        })
}

/// The optimality check of a fit without its reference: the KKT residual, and where the
/// objective is strongly convex in the feature weights, what that residual proves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KktCheck {
    /// As [`kkt_residual`].
    pub residual: f64,
    /// An upper bound on J(w) − J*, when one follows from the residual (squared loss with an
    /// L2 part α(1−ρ) > 0); `None` otherwise.
    pub objective_gap_bound: Option<f64>,
    /// An upper bound on ‖(w0, w) − (w0*, w*)‖₂ in the coordinates the fit used, under the
    /// same condition.
    pub distance_bound: Option<f64>,
}

/// [`kkt_residual`] and, for the squared loss with an L2 part λ = α(1−ρ) > 0, bounds on the
/// objective gap and the distance to the optimum, from one pass over the rows.
///
/// Why they hold: J is exactly quadratic in the intercept with curvature 2, so the best
/// intercept for the current feature weights is w0 − g0/2 (g0 = ∂J/∂w0) and lies g0²/4
/// below J. What remains, Jr(w) = min over w0 of J, is λ-strongly convex in w (the mean loss
/// minimised over w0 stays convex, and the L2 part adds λ/2‖w‖²), and its gradient at w is
/// ∇_w S − g0·x̄ (x̄ the column means). For a λ-strongly convex F, F(w) − F* ≤ ‖s‖²/(2λ) and
/// ‖w − w*‖ ≤ ‖s‖/λ for any subgradient s ∈ ∂F(w); the smallest, with the L1 part, has the
/// coordinates of the KKT residual. So J − J* ≤ g0²/4 + ‖s‖²/(2λ), and since the best
/// intercept is ȳ − x̄·w, |w0 − w0*| ≤ |g0|/2 + ‖x̄‖·‖w − w*‖. Each computed gradient
/// coordinate is widened by a bound on its f64 rounding error first, so the bounds hold for
/// the exact J (they cannot fall below the rounding of the gradient itself).
pub fn kkt_check(model: &Model, data: &Dataset, w: &[f64]) -> KktCheck {
    if w.len() != data.p() + 1 || w.iter().any(|v| !v.is_finite()) {
        return KktCheck {
            residual: f64::NAN,
            objective_gap_bound: None,
            distance_bound: None,
        };
    }
    // One gradient pass serves the residual and the bounds.
    let g = model.smooth_gradient(data, w);
    let residual = residual_at(model, &g, w);
    let l2 = model.penalty.l2_strength();
    if !residual.is_finite() || model.loss != crate::model::Loss::Squared || l2 <= 0.0 {
        return KktCheck {
            residual,
            objective_gap_bound: None,
            distance_bound: None,
        };
    }
    let (n, p) = (data.n() as f64, data.p());
    // The gradient above is computed in f64: each coordinate may be off by its rounding
    // error, which the bounds must absorb to be proofs about the exact J. err_i = y_i − ŷ_i
    // is formed from p + 2 terms of magnitude at most m_i = |y_i| + |w0| + Σ|w_j·x_ij|, so
    // it is off by at most (p + 2)·ε·m_i; the sum over n rows adds n·ε·Σ|2·err_i·x_ij|/n
    // (first-order bounds of recursive summation).
    let eps = f64::EPSILON;
    let yhat = data.predict(w);
    let mut mean = vec![0.0; p];
    let mut slack = vec![0.0; p + 1];
    data.features.for_each_row(|i, row| {
        let e = data.targets[i] - yhat[i];
        let m = data.targets[i].abs()
            + w[0].abs()
            + row
                .iter()
                .zip(&w[1..])
                .map(|(x, v)| (x * v).abs())
                .sum::<f64>();
        let per_row = 2.0 * ((p + 2) as f64 * eps * m + n * eps * e.abs()) / n;
        slack[0] += per_row;
        for ((mj, sj), x) in mean.iter_mut().zip(&mut slack[1..]).zip(row) {
            *mj += x / n;
            *sj += per_row * x.abs();
        }
    });
    let l1 = model.penalty.l1_strength();
    let g0 = g[0];
    let g0_abs = g0.abs() + slack[0];
    // |v_j| is 1-Lipschitz in the gradient coordinate r_j = ∂S/∂w_j − g0·x̄_j, so the
    // rounding of r_j (its own, the L2 term's and g0's through x̄_j) adds to |v_j|.
    let s2: f64 = g[1..]
        .iter()
        .zip(&w[1..])
        .zip(mean.iter().zip(&slack[1..]))
        .map(|((&gj, &wj), (&mj, &sj))| {
            let r = gj - g0 * mj;
            let v = if wj != 0.0 {
                r + l1 * wj.signum()
            } else {
                (r.abs() - l1).max(0.0)
            };
            let err = sj + slack[0] * mj.abs() + 4.0 * eps * (r.abs() + l2 * wj.abs());
            (v.abs() + err).powi(2)
        })
        .sum();
    let d = s2.sqrt() / l2;
    let mean_norm = mean.iter().map(|m| m * m).sum::<f64>().sqrt();
    KktCheck {
        residual,
        objective_gap_bound: Some(g0_abs * g0_abs / 4.0 + s2 / (2.0 * l2)),
        distance_bound: Some((d * d + (g0_abs / 2.0 + mean_norm * d).powi(2)).sqrt()),
    }
}
