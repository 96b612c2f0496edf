//! Multinomial (softmax) logistic regression over K classes, with an optional L2 part, in
//! f64 by damped Newton's method: the reference of the multinomial loss.
//!
//! The coefficients Θ are (p + 1) × K, row 0 the K intercepts and row j the K weights of
//! feature j: row-major, exactly the flat layout of [`Coefficients`].
//!
//! **Shift invariance.** Adding one constant to a row of Θ (to every class's intercept, or to
//! every class's weight of one feature) leaves every probability unchanged, so the data part
//! of J is flat along those K-vectors of ones. The L2 part makes the weights unique; the
//! intercepts, never penalized, stay free. This reference pins **the zero-sum solution**:
//! Σ_k Θ[j,k] = 0 for every row j. With an L2 part it is the optimum (the penalty is least
//! at zero sum); without one it is the minimum-norm optimum among the shifts. Gradient
//! descent from Θ = 0 stays there too: ∇J sums to zero over the classes in every row (the
//! probabilities and the one-hot labels both sum to one), so each step keeps every row's
//! sum at zero.

use crate::coefficients::Coefficients;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::names::Setting;
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

/// Rows per block when streaming [1 X] through faer's products (memory O(block · p · K)).
const BLOCK_ROWS: usize = 4_096;
const MAX_ITER: usize = 1000;
/// Stop when ‖∇J‖∞ ≤ GRAD_TOL · max(1, ‖∇J(0)‖∞).
const GRAD_TOL: f64 = 1e-13;
/// A full Newton step this small relative to max(1, ‖Θ‖∞): nothing f64 can still improve.
const STEP_TOL: f64 = 1e-12;
const ARMIJO: f64 = 1e-4;

/// The multinomial optimum for labels `0..k` (as f64 integers in the targets):
///
/// argmin J(Θ) = (1/N)·Σ_i [log Σ_k e^{ŷ_ik} − ŷ_{i,y_i}] + (l2/2)·‖W‖²,  ŷ_i = [1 x_i]·Θ,
///
/// in the zero-sum parametrization (see the module's doc), by damped Newton from Θ = 0:
/// the Hessian's blocks are (1/N)·Aᵀ·diag(p_k(δ_kk' − p_k'))·A (K(K+1)/2 weighted Gram
/// products of A = [1 X] per iteration, summed a block of rows at a time), plus l2 on the
/// weights, plus the projector onto the shift directions (on which the data part is flat,
/// and along which the gradient has no component), so the Cholesky factorization exists and
/// the step stays zero-sum. The log-sum-exp is taken with each row's maximum subtracted.
///
/// Errors: `Error::Data` for labels that are not integers in 0..k, a class with no row (its
/// unpenalized intercept runs off to −∞), and without an L2 part separable classes; a
/// rank-deficient [1 X] without an L2 part is `Error::RankDeficient`, as for the binary
/// reference.
pub fn newton_multinomial(data: &Dataset, k: usize, l2: f64) -> Result<Coefficients> {
    data.validate()?;
    newton_multinomial_until(data, k, l2, &Interrupt::default())
}

/// [`newton_multinomial`], returning [`Error::Interrupted`] within a block of rows once
/// `stop` is set.
pub(crate) fn newton_multinomial_until(
    data: &Dataset,
    k: usize,
    l2: f64,
    stop: &Interrupt,
) -> Result<Coefficients> {
    if !(l2.is_finite() && l2 >= 0.0) {
        return Err(Error::Config(format!(
            "the L2 strength α(1−ρ) must be finite and ≥ 0, got {l2}"
        )));
    }
    data.validate_shape()?;
    let labels = class_labels(data.targets.as_slice().unwrap_or(&data.targets.to_vec()), k)?;
    if l2 == 0.0 {
        if let Err(e) = crate::ols::ols_until(data, stop) {
            match e {
                Error::RankDeficient {
                    rank, cols, hint, ..
                } => {
                    return Err(Error::RankDeficient {
                        reference: super::ReferenceKind::Newton.name(),
                        rank,
                        cols,
                        hint: format!(
                            "{hint}: the unpenalized multinomial loss has no unique minimum; \
                             add an L2 penalty, e.g. {}",
                            l2_example()
                        ),
                    })
                }
                Error::Interrupted => return Err(Error::Interrupted),
                _ => {}
            }
        }
    }
    Coefficients::from_flat(k, data.p(), minimise(data, &labels, k, l2, stop)?)
}

fn l2_example() -> crate::names::Mentions {
    Setting::Penalty
        .is("l2")
        .and(Setting::Alpha.literal("1e-4"))
}

fn separable(detail: &str) -> Error {
    Error::Data(format!(
        "the classes are linearly separable (or nearly so){detail}: the unpenalized \
         multinomial loss has no finite minimum (the weights grow without bound); add an L2 \
         penalty, e.g. {}",
        l2_example()
    ))
}

/// Labels as class indices, each an integer in 0..k, every class present; the first row
/// that is not such a label is named (1-based).
fn class_labels(targets: &[f64], k: usize) -> Result<Vec<usize>> {
    if k < 2 {
        return Err(Error::Config(format!(
            "the multinomial loss needs at least 2 classes, got {k}"
        )));
    }
    let mut seen = vec![false; k];
    let mut labels = Vec::with_capacity(targets.len());
    for (i, &v) in targets.iter().enumerate() {
        if !(v.fract() == 0.0 && v >= 0.0 && v < k as f64) {
            return Err(Error::Data(format!(
                "the multinomial loss needs class labels 0..{} (integers), but row {} of the \
                 target is {v}",
                k - 1,
                i + 1
            )));
        }
        seen[v as usize] = true;
        labels.push(v as usize);
    }
    if let Some(c) = seen.iter().position(|&s| !s) {
        return Err(Error::Data(format!(
            "class {c} has no row: its intercept, which is never penalised, has no finite \
             optimum; every class 0..{} must appear",
            k - 1
        )));
    }
    Ok(labels)
}

/// Damped Newton from Θ = 0 (checked labels, every class present).
fn minimise(data: &Dataset, y: &[usize], k: usize, l2: f64, stop: &Interrupt) -> Result<Vec<f64>> {
    let m = (data.p() + 1) * k;
    let mut theta = vec![0.0; m];
    let mut tol = None;
    for it in 0..MAX_ITER {
        let ev = evaluate(data, y, k, &theta, l2, true, stop)?;
        let gmax = max_abs(&ev.grad);
        let tol = *tol.get_or_insert(GRAD_TOL * gmax.max(1.0));
        if l2 == 0.0 && ev.all_correct {
            return Err(separable(&format!(
                " (Newton iterate {it} classifies every row correctly)"
            )));
        }
        if gmax <= tol {
            return Ok(theta);
        }
        let d = direction(ev.hess.expect("asked for the Hessian"), &ev.grad, k, l2)?;
        let slope: f64 = d.iter().zip(&ev.grad).map(|(a, b)| a * b).sum();
        if slope >= 0.0 || slope.is_nan() {
            return finish(theta, gmax, tol);
        }
        match line_search(data, y, k, l2, &theta, &d, ev.j, slope, stop)? {
            Some((next, t)) => {
                let full_and_tiny = t == 1.0 && max_abs(&d) <= STEP_TOL * max_abs(&theta).max(1.0);
                theta = next;
                if full_and_tiny {
                    return Ok(theta);
                }
            }
            None => return finish(theta, gmax, tol),
        }
        if theta.iter().any(|v| !v.is_finite()) {
            return Err(separable(" (the weights overflowed)"));
        }
    }
    Err(if l2 == 0.0 {
        separable(&format!(
            " (Newton did not converge in {MAX_ITER} iterations)"
        ))
    } else {
        Error::Data(format!(
            "multinomial Newton reference did not converge in {MAX_ITER} iterations"
        ))
    })
}

/// The Newton direction: (H + P)·d = −g, P the projector onto the shift directions (the
/// K-vectors of ones of each row of Θ). H maps that subspace into itself (the data part
/// to zero, the L2 part by l2), so the solve keeps d zero-sum row by row, as g is.
fn direction(hess: Mat<f64>, grad: &[f64], k: usize, l2: f64) -> Result<Vec<f64>> {
    let m = grad.len();
    let h = Mat::<f64>::from_fn(m, m, |a, b| {
        hess[(a, b)] + if a / k == b / k { 1.0 / k as f64 } else { 0.0 }
    });
    let neg_g = Mat::<f64>::from_fn(m, 1, |a, _| -grad[a]);
    let d = match h.llt(Side::Lower) {
        Ok(llt) => llt.solve(&neg_g),
        Err(_) if l2 == 0.0 => return Err(separable(" (the Hessian became singular)")),
        Err(e) => {
            return Err(Error::Data(format!(
                "multinomial Newton reference: the Hessian is not positive definite ({e:?})"
            )))
        }
    };
    let mut d: Vec<f64> = (0..m).map(|a| d[(a, 0)]).collect();
    center_rows(&mut d, k);
    Ok(d)
}

/// Subtracts each row's mean (rounding's drift off the zero-sum subspace).
fn center_rows(theta: &mut [f64], k: usize) {
    for row in theta.chunks_exact_mut(k) {
        let mean = row.iter().sum::<f64>() / k as f64;
        row.iter_mut().for_each(|v| *v -= mean);
    }
}

/// Backtracking (Armijo) on J from `theta` along `d`: the accepted point and its step, or
/// `None` when no step changes Θ or decreases J.
#[allow(clippy::too_many_arguments)]
fn line_search(
    data: &Dataset,
    y: &[usize],
    k: usize,
    l2: f64,
    theta: &[f64],
    d: &[f64],
    j: f64,
    slope: f64,
    stop: &Interrupt,
) -> Result<Option<(Vec<f64>, f64)>> {
    // Rounding noise in J: near the optimum the full step is right even when J cannot
    // show the decrease.
    let slack = 16.0 * f64::EPSILON * j.abs();
    let mut t = 1.0;
    while t >= 1e-30 {
        let trial: Vec<f64> = theta.iter().zip(d).map(|(a, b)| a + t * b).collect();
        if trial == theta {
            return Ok((t == 1.0).then_some((trial, t)));
        }
        let jt = evaluate(data, y, k, &trial, l2, false, stop)?.j;
        if jt <= j + ARMIJO * t * slope + slack {
            return Ok(Some((trial, t)));
        }
        t *= 0.5;
    }
    Ok(None)
}

fn finish(theta: Vec<f64>, gmax: f64, tol: f64) -> Result<Vec<f64>> {
    if gmax <= tol * 1e3 {
        Ok(theta)
    } else {
        Err(Error::Data(format!(
            "multinomial Newton reference stalled with ‖∇J‖∞ = {gmax:e} (the data may be too \
             badly scaled; try {})",
            Setting::Standardize.on()
        )))
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// J, ∇J and (optionally) ∇²J at Θ (row-major, index j·K + k), plus whether Θ classifies
/// every row strictly correctly.
struct Eval {
    j: f64,
    grad: Vec<f64>,
    hess: Option<Mat<f64>>,
    all_correct: bool,
}

/// One block's contribution: softmax probabilities, the loss, and R = P − Y.
struct BlockTerms {
    loss: f64,
    prob: Mat<f64>,
    resid: Mat<f64>,
    all_correct: bool,
}

fn block_terms(z: &Mat<f64>, y: &[usize]) -> BlockTerms {
    let (b, k) = (z.nrows(), z.ncols());
    let mut prob = Mat::<f64>::zeros(b, k);
    let mut resid = Mat::<f64>::zeros(b, k);
    let (mut loss, mut all_correct) = (0.0, true);
    for i in 0..b {
        let top = (0..k).map(|c| z[(i, c)]).fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = (0..k).map(|c| (z[(i, c)] - top).exp()).sum();
        loss += top + total.ln() - z[(i, y[i])];
        all_correct &= (0..k).all(|c| c == y[i] || z[(i, c)] < z[(i, y[i])]);
        for c in 0..k {
            let pc = (z[(i, c)] - top).exp() / total;
            prob[(i, c)] = pc;
            resid[(i, c)] = pc - f64::from(u8::from(c == y[i]));
        }
    }
    BlockTerms {
        loss,
        prob,
        resid,
        all_correct,
    }
}

/// Adds the block's data Hessian Σ_i (a_i·a_iᵀ) ⊗ (diag(p_i) − p_i·p_iᵀ) into `h`, as
/// the K diagonal blocks Aᵀ·diag(p_k)·A less UᵀU, U_i = a_i ⊗ p_i (row i of U holds
/// a_ij·p_ik at j·K + k): one large product instead of K(K+1)/2 small ones. Only the lower
/// triangle is formed (the matrix is symmetric: half the work); [`mirror`] completes it.
fn add_hessian(h: &mut Mat<f64>, a: &Mat<f64>, prob: &Mat<f64>) {
    use faer::linalg::matmul::triangular::{matmul, BlockStructure};
    let (b, q, k) = (a.nrows(), a.ncols(), prob.ncols());
    let u = Mat::<f64>::from_fn(b, q * k, |i, col| a[(i, col / k)] * prob[(i, col % k)]);
    matmul(
        h.as_mut(),
        BlockStructure::TriangularLower,
        faer::Accum::Add,
        u.transpose(),
        BlockStructure::Rectangular,
        u.as_ref(),
        BlockStructure::Rectangular,
        -1.0,
        faer::get_global_parallelism(),
    );
    for c in 0..k {
        let weighted = Mat::<f64>::from_fn(b, q, |i, j| prob[(i, c)] * a[(i, j)]);
        let block = a.transpose() * &weighted;
        for j in 0..q {
            for j2 in 0..=j {
                h[(j * k + c, j2 * k + c)] += block[(j, j2)];
            }
        }
    }
}

/// The upper triangle from the lower one.
fn mirror(h: &mut Mat<f64>) {
    for a in 0..h.nrows() {
        for b in 0..a {
            h[(b, a)] = h[(a, b)];
        }
    }
}

/// `stop` is looked at before every block of rows: `Err(Error::Interrupted)` once set.
fn evaluate(
    data: &Dataset,
    y: &[usize],
    k: usize,
    theta: &[f64],
    l2: f64,
    hessian: bool,
    stop: &Interrupt,
) -> Result<Eval> {
    let (n, p) = (data.n(), data.p());
    let q = p + 1;
    let th = Mat::<f64>::from_fn(q, k, |j, c| theta[j * k + c]);
    let (mut loss, mut all_correct) = (0.0, true);
    let mut grad = Mat::<f64>::zeros(q, k);
    let mut hess = hessian.then(|| Mat::<f64>::zeros(q * k, q * k));
    let mut start = 0;
    while start < n {
        stop.check()?;
        let end = (start + BLOCK_ROWS).min(n);
        let x = data.features.rows_f64(start..end);
        let a = Mat::<f64>::from_fn(
            end - start,
            q,
            |i, j| if j == 0 { 1.0 } else { x[(i, j - 1)] },
        );
        let z = &a * &th;
        let t = block_terms(&z, &y[start..end]);
        loss += t.loss;
        all_correct &= t.all_correct;
        grad += a.transpose() * &t.resid;
        if let Some(h) = hess.as_mut() {
            add_hessian(h, &a, &t.prob);
        }
        start = end;
    }
    let nf = n as f64;
    let penalty = 0.5 * l2 * theta[k..].iter().map(|v| v * v).sum::<f64>();
    let grad: Vec<f64> = (0..q * k)
        .map(|a| grad[(a / k, a % k)] / nf + if a >= k { l2 * theta[a] } else { 0.0 })
        .collect();
    let hess = hess.map(|mut h| {
        mirror(&mut h);
        Mat::<f64>::from_fn(q * k, q * k, |a, b| {
            h[(a, b)] / nf + if a == b && a >= k { l2 } else { 0.0 }
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

    /// Three overlapping classes on a line of rows and a second, noisy feature.
    fn three_classes(n: usize) -> Dataset {
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            let t = i as f64 / n as f64;
            if j == 0 {
                4.0 * t - 2.0
            } else {
                ((i * 7919) % 101) as f64 / 50.0 - 1.0
            }
        });
        // Mostly by position, with every fifth label moved on: the classes overlap.
        let y = Array1::from_shape_fn(n, |i| {
            let c = (3 * i / n) as f64;
            if i % 5 == 0 {
                (c + 1.0) % 3.0
            } else {
                c
            }
        });
        Dataset::new(x, y).unwrap()
    }

    /// J and ∇J written out a row at a time, with nothing shared with the code above.
    fn by_hand(data: &Dataset, k: usize, theta: &[f64], l2: f64) -> (f64, Vec<f64>) {
        let (n, p) = (data.n(), data.p());
        let mut j = 0.0;
        let mut g = vec![0.0; (p + 1) * k];
        for i in 0..n {
            let a: Vec<f64> = std::iter::once(1.0)
                .chain((0..p).map(|c| data.features.get(i, c)))
                .collect();
            let z: Vec<f64> = (0..k)
                .map(|c| (0..=p).map(|r| a[r] * theta[r * k + c]).sum())
                .collect();
            let y = data.targets[i] as usize;
            let norm: f64 = z.iter().map(|v| v.exp()).sum();
            j += norm.ln() - z[y];
            for c in 0..k {
                let pr = z[c].exp() / norm - if c == y { 1.0 } else { 0.0 };
                for r in 0..=p {
                    g[r * k + c] += pr * a[r];
                }
            }
        }
        let nf = n as f64;
        g.iter_mut().for_each(|v| *v /= nf);
        j /= nf;
        for (idx, v) in theta.iter().enumerate().skip(k) {
            g[idx] += l2 * v;
            j += 0.5 * l2 * v * v;
        }
        (j, g)
    }

    #[test]
    fn the_optimum_has_a_zero_gradient_and_sums_to_zero_by_row() {
        let data = three_classes(300);
        for l2 in [0.0, 1e-2] {
            let theta = newton_multinomial(&data, 3, l2).unwrap().into_vec();
            let (_, g) = by_hand(&data, 3, &theta, l2);
            assert!(max_abs(&g) < 1e-12, "l2 {l2}: gradient {g:?}");
            for row in theta.chunks(3) {
                assert!(row.iter().sum::<f64>().abs() < 1e-12, "l2 {l2}: {theta:?}");
            }
            // A small move in any zero-sum direction raises J: a minimum, not a saddle.
            let (j0, _) = by_hand(&data, 3, &theta, l2);
            for idx in 0..theta.len() {
                let mut t = theta.clone();
                t[idx] += 1e-4;
                t[idx / 3 * 3 + (idx + 1) % 3] -= 1e-4;
                assert!(
                    by_hand(&data, 3, &t, l2).0 > j0,
                    "l2 {l2}, coordinate {idx}"
                );
            }
        }
    }

    /// Two classes: the zero-sum multinomial model is the binary logistic one with
    /// w = θ_1 − θ_0 = 2θ_1, and its L2 part (l2/2)(‖θ_0‖² + ‖θ_1‖²) = (l2/4)‖w‖², so it
    /// must match the binary Newton reference at l2/2 — an independent solver.
    #[test]
    fn two_classes_match_the_binary_newton_reference() {
        let data = three_classes(240);
        let y2 = data.targets.mapv(|c| f64::from(c == 2.0));
        let binary = Dataset::new(data.features.to_f64().into_owned(), y2).unwrap();
        for l2 in [0.0, 0.1] {
            let theta = newton_multinomial(&binary, 2, l2).unwrap();
            assert_eq!((theta.outputs(), theta.features()), (2, 2));
            let w = super::super::newton::newton_logistic(&binary, l2 / 2.0).unwrap();
            for (r, wr) in w.iter().enumerate() {
                let got = theta.as_slice()[2 * r + 1] - theta.as_slice()[2 * r];
                assert!(
                    (got - wr).abs() < 1e-10 * wr.abs().max(1.0),
                    "l2 {l2}: {theta:?} vs {w:?}"
                );
            }
        }
    }

    #[test]
    fn bad_labels_and_missing_classes_are_refused_naming_the_row() {
        let data = three_classes(30);
        let mut bad = data.clone();
        bad.targets[4] = 1.5;
        let e = newton_multinomial(&bad, 3, 0.1).unwrap_err().to_string();
        assert!(e.contains("row 5 of the target is 1.5"), "{e}");
        let e = newton_multinomial(&data, 4, 0.1).unwrap_err().to_string();
        assert!(e.contains("class 3 has no row"), "{e}");
    }
}
