//! No penalty: the update is the plain gradient step (the article's). WGSL twin:
//! shaders/penalty_none.wgsl.

use super::{Penalty, PenaltyFn};
use crate::scalar::Real;

#[derive(Debug, Clone, Copy)]
pub struct NoPenalty;

impl<T: Real> PenaltyFn<T> for NoPenalty {
    #[inline(always)]
    fn has_prox(&self) -> bool {
        false
    }
    fn new(_: &Penalty, _: f64) -> Self {
        NoPenalty
    }
    #[inline(always)]
    fn grad(&self, _w: T) -> T {
        T::zero()
    }
    #[inline(always)]
    fn prox(&self, w: T) -> T {
        w
    }
    #[inline(always)]
    fn value(&self, _w: T) -> T {
        T::zero()
    }
}
