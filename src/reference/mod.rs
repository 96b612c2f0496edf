//! Independent f64 references for every model a fit can minimise, so a fit is always
//! checked against something it did not compute itself:
//!
//! J(w0, w) = (1/N)·Σ ℓ(y_i, w0 + x_i·w) + α·[ρ·‖w‖₁ + (1−ρ)/2·‖w‖₂²]
//!
//! | loss     | L1 part (αρ > 0) | L2 part α(1−ρ) | reference                                    |
//! |----------|------------------|----------------|----------------------------------------------|
//! | squared  | no               | 0              | [`ReferenceKind::Ols`]: [`crate::ols::ols`] (TSQR)  |
//! | squared  | no               | > 0            | [`ReferenceKind::Ridge`]: [`ridge()`] (QR on TSQR)  |
//! | logistic | no               | ≥ 0            | [`ReferenceKind::Newton`]: [`newton_logistic`] (IRLS) |
//! | any      | yes              | any            | [`ReferenceKind::Kkt`]: [`kkt_residual`]     |
//!
//! Why these: without an L1 part J is smooth and (for ridge, or a full-rank OLS, or logistic
//! with a finite minimum) strictly convex, so the optimum is a unique point that a direct
//! solver (QR) or Newton's method finds to f64 accuracy, independently of gradient descent.
//! With an L1 part the optimum has no closed form and any iterative solver we wrote would
//! share the very proximal-gradient logic under test; instead the fit is checked by the
//! optimality (KKT) conditions themselves, whose residual is zero exactly at the optimum
//! and needs nothing but a gradient.
//!
//! Everything here is f64 and goes through faer's factorisations (QR, Cholesky); nothing is
//! hand-rolled linear algebra.

pub mod kkt;
pub mod multinomial;
pub mod newton;
pub mod ridge;

pub use kkt::{kkt_check, kkt_residual, KktCheck};
pub use multinomial::newton_multinomial;
pub use newton::newton_logistic;
pub use ridge::ridge;

use crate::coefficients::Coefficients;
use crate::data::Dataset;
use crate::error::Result;
use crate::interrupt::Interrupt;
use crate::model::{Loss, Model};
use serde::Serialize;

/// Which independent reference checks a fit of a given [`Model`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceKind {
    /// Squared loss, no penalty (or α = 0): ordinary least squares by TSQR.
    Ols,
    /// Squared loss with a pure L2 part: ridge regression by QR on the TSQR factor.
    Ridge,
    /// Logistic loss without an L1 part: damped Newton (IRLS) to f64 accuracy.
    Newton,
    /// Any L1 part: no closed form; the fit is checked by its KKT residual.
    Kkt,
}

impl ReferenceKind {
    pub const ALL: [ReferenceKind; 4] = [
        ReferenceKind::Ols,
        ReferenceKind::Ridge,
        ReferenceKind::Newton,
        ReferenceKind::Kkt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceKind::Ols => "ols",
            ReferenceKind::Ridge => "ridge",
            ReferenceKind::Newton => "newton",
            ReferenceKind::Kkt => "kkt",
        }
    }

    /// The name messages and tables use: OLS, ridge, Newton or KKT.
    pub fn name(self) -> &'static str {
        match self {
            ReferenceKind::Ols => "OLS",
            ReferenceKind::Ridge => "ridge",
            ReferenceKind::Newton => "Newton",
            ReferenceKind::Kkt => "KKT",
        }
    }
}

impl std::fmt::Display for ReferenceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A computed reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub kind: ReferenceKind,
    /// The optimum `[w0, w1..wp]`; `None` for [`ReferenceKind::Kkt`] (no closed-form
    /// optimum; the fit is checked by its KKT residual, [`kkt_residual`]).
    pub weights: Option<Coefficients>,
}

/// Which reference applies to `model`: squared loss without an L1 part → [`ReferenceKind::Ols`]
/// when the L2 part α(1−ρ) is 0, else [`ReferenceKind::Ridge`]; logistic without an L1 part →
/// [`ReferenceKind::Newton`]; any L1 part ([`crate::model::Penalty::has_l1`]) →
/// [`ReferenceKind::Kkt`].
pub fn reference_kind(model: &Model) -> ReferenceKind {
    if model.penalty.has_l1() {
        return ReferenceKind::Kkt;
    }
    match model.loss {
        Loss::Squared if model.penalty.l2_strength() == 0.0 => ReferenceKind::Ols,
        Loss::Squared => ReferenceKind::Ridge,
        Loss::Logistic => ReferenceKind::Newton,
    }
}

/// Compute the reference for `model` on `data` (see [`reference_kind`]). OLS errors (e.g.
/// [`crate::Error::RankDeficient`]) are passed on unchanged; a logistic model on separable
/// data without an L2 part is an error (no finite minimum); [`ReferenceKind::Kkt`] returns
/// no weights.
pub fn reference(model: &Model, data: &Dataset) -> Result<Reference> {
    reference_until(model, data, &Interrupt::default())
}

/// [`reference`], returning [`crate::Error::Interrupted`] once `stop` is set: the solvers
/// look at it before every block of rows (milliseconds), so a caller's Ctrl-C is not held
/// up by the seconds a reference on a large table can take.
pub fn reference_until(model: &Model, data: &Dataset, stop: &Interrupt) -> Result<Reference> {
    data.validate()?;
    reference_validated(model, data, stop)
}

/// [`reference_until`] on data the caller has validated (the fitting pipeline scans the
/// data once, in its prepare stage).
pub(crate) fn reference_validated(
    model: &Model,
    data: &Dataset,
    stop: &Interrupt,
) -> Result<Reference> {
    model.validate()?;
    let kind = reference_kind(model);
    let l2 = model.penalty.l2_strength();
    let weights = match kind {
        ReferenceKind::Ols => Some(crate::ols::ols_until(data, stop)?.weights),
        ReferenceKind::Ridge => Some(ridge::ridge_until(data, l2, stop)?),
        ReferenceKind::Newton => Some(newton::newton_logistic_until(data, l2, stop)?),
        ReferenceKind::Kkt => {
            data.validate_shape()?;
            model.check_data(data)?;
            None
        }
    };
    Ok(Reference { kind, weights })
}
