//! Logistic loss ℓ = log(1 + e^ŷ) − y·ŷ for labels y ∈ {0, 1}: err = y − σ(ŷ), sums scaled by
//! 1/N. Both σ and ℓ are evaluated in forms that never overflow. WGSL twin:
//! shaders/loss_logistic.wgsl.

use super::{Loss, LossFn};
use crate::error::{Error, Result};
use crate::scalar::Real;

pub const GRAD_SCALE: f64 = 1.0;
/// ℓ'' = σ(ŷ)(1 − σ(ŷ)) ≤ 1/4.
pub const CURVATURE_BOUND: f64 = 0.25;

#[derive(Debug, Clone, Copy, Default)]
pub struct Logistic;

/// σ(z) = 1/(1 + e^−z), through e^−|z| so nothing overflows.
#[inline(always)]
pub fn sigmoid<T: Real>(z: T) -> T {
    let one = T::one();
    if z >= T::zero() {
        one / (one + (-z).exp())
    } else {
        let e = z.exp();
        e / (one + e)
    }
}

impl LossFn for Logistic {
    const LOSS: Loss = Loss::Logistic;
    #[inline(always)]
    fn err<T: Real>(y: T, yhat: T) -> T {
        y - sigmoid(yhat)
    }
    /// log(1 + e^ŷ) − y·ŷ = max(ŷ, 0) + log1p(e^−|ŷ|) − y·ŷ.
    #[inline(always)]
    fn value<T: Real>(y: T, yhat: T, _err: T) -> T {
        yhat.max(T::zero()) + (-yhat.abs()).exp().ln_1p() - y * yhat
    }
}

/// Labels must be exactly 0 or 1; the first row that is not is named (1-based).
pub fn check_labels(targets: &[f64]) -> Result<()> {
    if let Some((i, v)) = targets
        .iter()
        .enumerate()
        .find(|(_, &v)| v != 0.0 && v != 1.0)
    {
        return Err(Error::Data(format!(
            "the logistic loss needs labels 0 or 1, but row {} of the target is {v}",
            i + 1
        )));
    }
    Ok(())
}
