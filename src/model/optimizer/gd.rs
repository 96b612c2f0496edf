//! Plain (proximal) gradient descent: w ← prox(w + mu·g). The article's step, op for op.
//! WGSL twin: shaders/optimizer_gd.wgsl.

use super::{prox_at, Optimizer, OptimizerFn};
use crate::model::penalty::PenaltyFn;
use crate::scalar::Real;

#[derive(Debug, Clone)]
pub struct Gd;

impl<T: Real> OptimizerFn<T> for Gd {
    fn monotone(&self) -> bool {
        true
    }
    fn new(_: &Optimizer, _: usize) -> Self {
        Gd
    }
    #[inline(always)]
    fn step<P: PenaltyFn<T>>(
        &mut self,
        w: &mut [T],
        g: &[T],
        mu: T,
        penalty: &P,
        intercepts: usize,
    ) {
        for (j, (wj, &gj)) in w.iter_mut().zip(g).enumerate() {
            *wj = prox_at(j, intercepts, *wj + mu * gj, penalty);
        }
    }
}
