//! Ridge: α/2·‖w‖₂², smooth, so it only adds α·w to the gradient. WGSL twin:
//! shaders/penalty_l2.wgsl.

use super::{constants, Penalty, PenaltyFn};
use crate::scalar::Real;

#[derive(Debug, Clone, Copy)]
pub struct L2<T> {
    l2: T,
}

impl<T: Real> PenaltyFn<T> for L2<T> {
    #[inline(always)]
    fn has_prox(&self) -> bool {
        false
    }
    fn new(penalty: &Penalty, mu: f64) -> Self {
        let [l2, _, _] = constants(penalty, mu);
        L2 { l2 }
    }
    #[inline(always)]
    fn grad(&self, w: T) -> T {
        self.l2 * w
    }
    #[inline(always)]
    fn prox(&self, w: T) -> T {
        w
    }
    #[inline(always)]
    fn value(&self, w: T) -> T {
        T::from_f64(0.5) * self.l2 * w * w
    }
}
