//! Logistic regression (with an optional L2 part) in f64 by damped Newton's method (IRLS).

use crate::coefficients::Coefficients;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::model::logistic::{check_labels, sigmoid};
use crate::names::Setting;
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

/// Rows per block when streaming [1 X] through faer's products (memory O(block · p)).
const BLOCK_ROWS: usize = 4_096;
/// Newton converges quadratically near the optimum; a well-posed problem needs far fewer.
/// Nearly separable classes with a tiny L2 part take well over 100 damped steps (the
/// binary problem of scikit-learn's check_classifiers_classes with α = 1e-4).
const MAX_ITER: usize = 1000;
/// Stop when ‖∇J‖∞ ≤ GRAD_TOL · max(1, ‖∇J(0)‖∞).
const GRAD_TOL: f64 = 1e-13;
/// A full Newton step this small relative to max(1, ‖w‖∞) leaves w within roughly its
/// square of the optimum: nothing f64 can still improve.
const STEP_TOL: f64 = 1e-12;
/// Armijo sufficient-decrease constant of the backtracking line search.
const ARMIJO: f64 = 1e-4;

/// The message for a problem without a finite optimum (separable classes, no L2 part).
fn separable(detail: &str) -> Error {
    Error::Data(format!(
        "the classes are linearly separable (or nearly so){detail}: the unpenalized logistic \
         loss has no finite minimum (the weights grow without bound); add an L2 penalty, \
         e.g. {}",
        l2_example()
    ))
}

/// The L2 penalty suggested when the unpenalized problem has no (unique) finite minimum.
fn l2_example() -> crate::names::Mentions {
    Setting::Penalty
        .is("l2")
        .and(Setting::Alpha.literal("1e-4"))
}

/// The logistic optimum `[w0, w1..wp]`:
///
/// argmin J(w) = (1/N)·Σ [log(1 + e^ŷ_i) − y_i·ŷ_i] + (l2/2)·‖w[1..]‖²,  ŷ = w0 + x_i·w,
///
/// for labels y ∈ {0, 1} and `l2` = α(1−ρ) ≥ 0 (no L1 part; w0 never penalised), by damped
/// Newton's method (IRLS) in f64 through faer, starting from w = 0:
///
/// * ∇J = (1/N)·Aᵀ(σ(ŷ) − y) + l2·D·w and ∇²J = (1/N)·AᵀWA + l2·D, with A = [1 X],
///   W = diag(σ(1−σ)), D = diag(0, 1, …, 1); both are summed block by block with faer's
///   products, so memory stays O(block · p);
/// * the Newton direction solves ∇²J·d = −∇J by faer's Cholesky (J is convex, so the
///   Hessian is positive definite whenever the minimiser is unique);
/// * the step is backtracked (Armijo) on J, evaluated in forms that never overflow:
///   log(1 + e^z) = max(z, 0) + log1p(e^−|z|), σ through e^−|z|, σ − 1 as −σ(−z);
/// * it stops when ‖∇J‖∞ ≤ 1e-13·max(1, ‖∇J(0)‖∞), or when a full Newton step no longer
///   changes w (relative size ≤ 1e-12: f64 cannot get closer).
///
/// Why Newton: J is smooth and strictly convex here, so Newton converges quadratically to
/// the unique optimum in a few dozen iterations at most, independently of (and far more
/// accurately than) the first-order methods the reference checks.
///
/// Errors: `Error::Data` for labels other than 0/1, a single class (the unpenalised
/// intercept runs off to ±∞ whatever `l2` is), and with `l2 == 0` separable classes (no
/// finite minimum); with `l2 == 0`, a rank-deficient [1 X] (no unique minimum) is
/// `Error::RankDeficient` naming the Newton reference, so a caller that accepts a fit
/// without a reference can go on (as it can for OLS). Separation is detected exactly when an
/// iterate classifies every row strictly correctly (that hyperplane separates the classes;
/// on separable data J → 0 forces this within a few iterations), and otherwise by Newton
/// not converging in 100 iterations. Quasi-complete separation (classes that touch on the
/// separating hyperplane) may instead "converge" to weights that are large but finite where
/// the loss of the separated rows underflows the tolerance. With `l2 > 0` and both classes
/// present, J is strongly convex in w and coercive in w0, so it always converges.
pub fn newton_logistic(data: &Dataset, l2: f64) -> Result<Coefficients> {
    data.validate()?;
    newton_logistic_until(data, l2, &Interrupt::default())
}

/// [`newton_logistic`], returning [`Error::Interrupted`] within a block of rows once `stop`
/// is set (one Newton iteration on a large table takes seconds).
pub(crate) fn newton_logistic_until(
    data: &Dataset,
    l2: f64,
    stop: &Interrupt,
) -> Result<Coefficients> {
    if !(l2.is_finite() && l2 >= 0.0) {
        return Err(Error::Config(format!(
            "the L2 strength α(1−ρ) must be finite and ≥ 0, got {l2}"
        )));
    }
    data.validate_shape()?;
    let y = data.targets.to_vec();
    check_labels(&y)?;
    if y.iter().all(|&v| v == y[0]) {
        return Err(Error::Data(format!(
            "every label is {}: with one class the logistic loss has no finite minimum (the \
             intercept, which is never penalised, runs off to {}∞); both classes must appear",
            y[0],
            if y[0] == 0.0 { "−" } else { "+" }
        )));
    }
    if l2 == 0.0 {
        // Without the L2 part a rank-deficient [1 X] leaves a whole line of minimisers.
        match crate::ols::ols_until(data, stop) {
            Err(Error::RankDeficient {
                rank, cols, hint, ..
            }) => {
                return Err(Error::RankDeficient {
                    reference: super::ReferenceKind::Newton.name(),
                    rank,
                    cols,
                    hint: format!(
                        "{hint}: the unpenalized logistic loss has no unique minimum; add an L2 \
                         penalty, e.g. {}",
                        l2_example()
                    ),
                })
            }
            Err(Error::Interrupted) => return Err(Error::Interrupted),
            // Other errors are the data checks Newton makes itself below.
            _ => {}
        }
    }

    let start = Coefficients::zeros(1, data.p()).into_vec();
    Coefficients::single(minimise(data, &y, l2, start, stop)?)
}

/// Damped Newton from `w` (checked data, 0/1 labels `y`, both classes present).
fn minimise(
    data: &Dataset,
    y: &[f64],
    l2: f64,
    mut w: Vec<f64>,
    stop: &Interrupt,
) -> Result<Vec<f64>> {
    let p = data.p();
    let g0 = evaluate(data, y, &vec![0.0; p + 1], l2, false, stop)?.grad;
    let tol = GRAD_TOL * max_abs(&g0).max(1.0);
    for it in 0..MAX_ITER {
        let ev = evaluate(data, y, &w, l2, true, stop)?;
        if l2 == 0.0 && ev.all_correct {
            return Err(separable(&format!(
                " (Newton iterate {it} classifies every row correctly)"
            )));
        }
        let gmax = max_abs(&ev.grad);
        if gmax <= tol {
            return Ok(w);
        }
        let hess = ev.hess.expect("asked for the Hessian");
        let neg_g = Mat::<f64>::from_fn(p + 1, 1, |i, _| -ev.grad[i]);
        let d = match hess.llt(Side::Lower) {
            Ok(llt) => llt.solve(&neg_g),
            Err(_) if l2 == 0.0 => return Err(separable(" (the Hessian became singular)")),
            Err(e) => {
                return Err(Error::Data(format!(
                    "logistic Newton reference: the Hessian is not positive definite ({e:?})"
                )))
            }
        };
        let d: Vec<f64> = (0..=p).map(|i| d[(i, 0)]).collect();
        let slope: f64 = d.iter().zip(&ev.grad).map(|(a, b)| a * b).sum();
        if slope >= 0.0 || slope.is_nan() {
            // Rounding made the direction useless: only possible at the noise floor.
            return finish(w, gmax, tol);
        }
        // Rounding noise in J: accept steps that are level within it (near the optimum
        // the full Newton step is right even when J cannot show the decrease).
        let slack = 16.0 * f64::EPSILON * ev.j.abs();
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = w.iter().zip(&d).map(|(a, b)| a + t * b).collect();
            if trial == w {
                // A full step too small to change w: f64 cannot get closer. A damped one:
                // the line search ran out of room.
                return if t == 1.0 {
                    Ok(w)
                } else {
                    finish(w, gmax, tol)
                };
            }
            let jt = evaluate(data, y, &trial, l2, false, stop)?.j;
            if jt <= ev.j + ARMIJO * t * slope + slack {
                let wmax = max_abs(&w).max(1.0);
                w = trial;
                if t == 1.0 && max_abs(&d) <= STEP_TOL * wmax {
                    return Ok(w);
                }
                break;
            }
            t *= 0.5;
            if t < 1e-30 {
                return finish(w, gmax, tol);
            }
        }
        if w.iter().any(|v| !v.is_finite()) {
            return Err(separable(" (the weights overflowed)"));
        }
    }
    if l2 == 0.0 {
        Err(separable(&format!(
            " (Newton did not converge in {MAX_ITER} iterations)"
        )))
    } else {
        Err(Error::Data(format!(
            "logistic Newton reference did not converge in {MAX_ITER} iterations"
        )))
    }
}

/// The line search cannot decrease J any further: accept w when the gradient is already
/// small (≤ 1e-10 relative: the noise floor of J lies above what the tolerance asks), else
/// report the stall.
fn finish(w: Vec<f64>, gmax: f64, tol: f64) -> Result<Vec<f64>> {
    if gmax <= tol * 1e3 {
        Ok(w)
    } else {
        Err(Error::Data(format!(
            "logistic Newton reference stalled with ‖∇J‖∞ = {gmax:e} (the data may be too badly \
             scaled; try {})",
            Setting::Standardize.on()
        )))
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// J, ∇J and (optionally) ∇²J at w, plus whether w classifies every row strictly correctly.
struct Eval {
    j: f64,
    grad: Vec<f64>,
    hess: Option<Mat<f64>>,
    all_correct: bool,
}

/// `stop` is looked at before every block of rows: `Err(Error::Interrupted)` once set.
fn evaluate(
    data: &Dataset,
    y: &[f64],
    w: &[f64],
    l2: f64,
    hessian: bool,
    stop: &Interrupt,
) -> Result<Eval> {
    let (n, p) = (data.n(), data.p());
    let wcol = Mat::<f64>::from_fn(p + 1, 1, |i, _| w[i]);
    let mut loss = 0.0;
    let mut grad = Mat::<f64>::zeros(p + 1, 1);
    let mut hess = hessian.then(|| Mat::<f64>::zeros(p + 1, p + 1));
    let mut all_correct = true;
    let mut start = 0;
    while start < n {
        stop.check()?;
        let end = (start + BLOCK_ROWS).min(n);
        let x = data.features.rows_f64(start..end);
        let a = Mat::<f64>::from_fn(
            end - start,
            p + 1,
            |i, j| if j == 0 { 1.0 } else { x[(i, j - 1)] },
        );
        let z = &a * &wcol;
        let mut block_loss = 0.0;
        // r = σ(z) − y, the loss derivative; c = σ(1 − σ), the curvature.
        let mut r = Mat::<f64>::zeros(end - start, 1);
        let mut c = vec![0.0; end - start];
        for i in 0..end - start {
            let (zi, yi) = (z[(i, 0)], y[start + i]);
            let e = (-zi.abs()).exp();
            block_loss += zi.max(0.0) + e.ln_1p() - yi * zi;
            r[(i, 0)] = if yi == 1.0 {
                -sigmoid(-zi)
            } else {
                sigmoid(zi)
            };
            c[i] = e / ((1.0 + e) * (1.0 + e));
            all_correct &= if yi == 1.0 { zi > 0.0 } else { zi < 0.0 };
        }
        loss += block_loss;
        grad += a.transpose() * &r;
        if let Some(h) = hess.as_mut() {
            let ca = Mat::<f64>::from_fn(end - start, p + 1, |i, j| c[i] * a[(i, j)]);
            *h += a.transpose() * &ca;
        }
        start = end;
    }
    let nf = n as f64;
    let penalty: f64 = w[1..].iter().map(|v| v * v).sum::<f64>() * 0.5 * l2;
    let grad: Vec<f64> = (0..=p)
        .map(|j| grad[(j, 0)] / nf + if j == 0 { 0.0 } else { l2 * w[j] })
        .collect();
    let hess = hess.map(|h| {
        Mat::<f64>::from_fn(p + 1, p + 1, |i, j| {
            h[(i, j)] / nf + if i == j && i > 0 { l2 } else { 0.0 }
        })
    });
    Ok(Eval {
        j: loss / nf + penalty,
        grad,
        hess,
        all_correct,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    /// x = ±1 with a quarter of each side's labels flipped: the optimum is w0 = 0,
    /// w1 = log 3 ≈ 1.1 (σ(w1) = 3/4). From w1 = 8 a full Newton step jumps to about −740
    /// (the curvature there is ~e^−8), where every row's curvature is ~e^−740: only the
    /// line search brings it back.
    #[test]
    fn the_line_search_rescues_a_far_start() {
        let x: Vec<f64> = (0..40).map(|i| if i < 20 { -1.0 } else { 1.0 }).collect();
        let y: Vec<f64> = (0..40)
            .map(|i| f64::from(u8::from((i >= 20) != (i % 4 == 0))))
            .collect();
        let data = Dataset::new(
            Array2::from_shape_vec((40, 1), x).unwrap(),
            Array1::from(y.clone()),
        )
        .unwrap();
        let w = minimise(&data, &y, 0.0, vec![0.0, 8.0], &Interrupt::default()).unwrap();
        assert!(w[0].abs() < 1e-12, "{w:?}");
        assert!((w[1] - 3f64.ln()).abs() < 1e-12, "{w:?}");
        // The public entry point starts at 0 and agrees.
        let from_zero = newton_logistic(&data, 0.0).unwrap();
        assert!((from_zero[1] - 3f64.ln()).abs() < 1e-12, "{from_zero:?}");
    }
}
