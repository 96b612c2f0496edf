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
    let g = model.smooth_gradient(data, w);
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
