//! Squared loss ℓ = (y − ŷ)², the article's: err = y − ŷ, and the sums are scaled by 2/N,
//! exactly the article's gradient. WGSL twin: shaders/loss_squared.wgsl.

use super::{Loss, LossFn};
use crate::scalar::Real;

pub const GRAD_SCALE: f64 = 2.0;
/// ℓ'' = 2 everywhere.
pub const CURVATURE_BOUND: f64 = 2.0;

#[derive(Debug, Clone, Copy, Default)]
pub struct Squared;

impl LossFn for Squared {
    const LOSS: Loss = Loss::Squared;
    const ERR_IS_RESIDUAL: bool = true;
    #[inline(always)]
    fn err<T: Real>(y: T, yhat: T) -> T {
        y - yhat
    }
    #[inline(always)]
    fn value<T: Real>(_y: T, _yhat: T, err: T) -> T {
        err * err
    }
    /// err·err + acc in one rounding where the CPU has FMA (the fused path's Σerr²).
    #[inline(always)]
    fn accumulate<T: Real, const FMA: bool>(acc: T, _y: T, _yhat: T, err: T) -> T {
        if FMA {
            err.mul_add(err, acc)
        } else {
            err * err + acc
        }
    }
}
