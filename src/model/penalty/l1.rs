//! Lasso: α·‖w‖₁, applied as a proximal step (soft-thresholding by mu·α) after each
//! gradient step, so weights reach exact zeros. WGSL twin: shaders/penalty_l1.wgsl.

use super::{constants, soft_threshold, Penalty, PenaltyFn};
use crate::scalar::Real;

#[derive(Debug, Clone, Copy)]
pub struct L1<T> {
    threshold: T,
    l1: T,
}

impl<T: Real> PenaltyFn<T> for L1<T> {
    #[inline(always)]
    fn has_prox(&self) -> bool {
        true
    }
    fn new(penalty: &Penalty, mu: f64) -> Self {
        let [_, threshold, l1] = constants(penalty, mu);
        L1 { threshold, l1 }
    }
    #[inline(always)]
    fn grad(&self, _w: T) -> T {
        T::zero()
    }
    #[inline(always)]
    fn prox(&self, w: T) -> T {
        soft_threshold(w, self.threshold)
    }
    #[inline(always)]
    fn prox_scaled(&self, w: T, scale: T) -> T {
        soft_threshold(w, self.threshold * scale)
    }
    #[inline(always)]
    fn value(&self, w: T) -> T {
        self.l1 * w.abs()
    }
}
