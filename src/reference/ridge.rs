//! Ridge regression (squared loss with an L2 part) in f64 by QR on the streamed TSQR factor.

use crate::coefficients::Coefficients;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::ols::tsqr_r;
use faer::linalg::solvers::SolveLstsq;
use faer::Mat;

/// The ridge optimum `[w0, w1..wp]`:
///
/// argmin (1/N)‖y − w0 − Xw‖² + (λ/2)‖w‖²  (λ = `l2` = α(1−ρ) > 0; w0 is not penalised),
///
/// i.e. the solution of (2/N·AᵀA + λ·D)w = 2/N·Aᵀy with A = [1 X], D = diag(0, 1, …, 1).
///
/// Multiplying the objective by N, it is the least-squares problem
/// ‖[A; c·[0 I]]·w − [y; 0]‖² with c = sqrt(λN/2). With R the TSQR factor of [A y]
/// ([`crate::ols`]), ‖Aw − y‖² = ‖R_A·w − r_y‖², so the problem shrinks to the
/// (min(n, p+2) + p) × (p+1) stack [R_A; c·[0 I]] against [r_y; 0], solved by a
/// column-pivoted Householder QR.
///
/// Why not the normal equations: they square the condition number of A (κ²), while QR on
/// the stacked factor keeps it at κ of the stack, so the reference stays accurate to ~κ·ε
/// even for badly scaled features. The stack always has full column rank (the [0 I] rows
/// fix every feature direction and the column of ones fixes the intercept), so ridge has a
/// unique answer even with n < p or constant/duplicate columns.
///
/// Errors: `l2` not finite and > 0 (`Error::Config`; λ = 0 is OLS, [`crate::ols::ols`]),
/// invalid data.
pub fn ridge(data: &Dataset, l2: f64) -> Result<Coefficients> {
    data.validate()?;
    ridge_until(data, l2, &Interrupt::default())
}

/// [`ridge`], returning [`Error::Interrupted`] within a block of rows once `stop` is set.
pub(crate) fn ridge_until(data: &Dataset, l2: f64, stop: &Interrupt) -> Result<Coefficients> {
    if !(l2.is_finite() && l2 > 0.0) {
        return Err(Error::Config(format!(
            "ridge needs an L2 strength α(1−ρ) that is finite and > 0, got {l2} (with 0 the \
             reference is OLS)"
        )));
    }
    data.validate_shape()?;
    let (n, p) = (data.n(), data.p());
    let r = tsqr_r(data, stop)?;
    let k = r.nrows();
    let c = (l2 * n as f64 / 2.0).sqrt();
    // [R_A; c·[0 I]] and [r_y; 0].
    let stack = Mat::<f64>::from_fn(k + p, p + 1, |i, j| {
        if i < k {
            r[(i, j)]
        } else if j == i - k + 1 {
            c
        } else {
            0.0
        }
    });
    let rhs = Mat::<f64>::from_fn(k + p, 1, |i, _| if i < k { r[(i, p + 1)] } else { 0.0 });
    let w = stack.col_piv_qr().solve_lstsq(&rhs);
    let weights: Vec<f64> = (0..=p).map(|i| w[(i, 0)]).collect();
    if weights.iter().all(|v| v.is_finite()) {
        Coefficients::single(weights)
    } else {
        Err(Error::Data(
            "the ridge reference is not finite (the data's scale overflows f64)".into(),
        ))
    }
}
