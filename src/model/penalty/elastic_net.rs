//! Elastic net: α·[ρ·‖w‖₁ + (1−ρ)/2·‖w‖₂²]: the L2 part in the gradient, the L1 part as a
//! proximal step. WGSL twin: shaders/penalty_elasticnet.wgsl.

use super::{constants, soft_threshold, Penalty, PenaltyFn};
use crate::scalar::Real;

#[derive(Debug, Clone, Copy)]
pub struct ElasticNet<T> {
    l2: T,
    threshold: T,
    l1: T,
}

impl<T: Real> PenaltyFn<T> for ElasticNet<T> {
    #[inline(always)]
    fn has_prox(&self) -> bool {
        true
    }
    fn new(penalty: &Penalty, mu: f64) -> Self {
        let [l2, threshold, l1] = constants(penalty, mu);
        ElasticNet { l2, threshold, l1 }
    }
    #[inline(always)]
    fn grad(&self, w: T) -> T {
        self.l2 * w
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
        self.l1 * w.abs() + T::from_f64(0.5) * self.l2 * w * w
    }
}
