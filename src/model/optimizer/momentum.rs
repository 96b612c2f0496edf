//! Heavy-ball momentum: w⁺ = prox(w + mu·g + B·(w − w⁻)), g the descent direction. Without a
//! proximal step this is PyTorch's `v ← B·v + g; w ← w + mu·v` exactly (mu·v is the last
//! move); with one it is iPiano (Ochs et al.), whose fixed points are the optimum — putting
//! the prox after a velocity step would instead settle where the L1 weight is scaled by
//! (1 − B). WGSL twin: shaders/optimizer_momentum.wgsl.

use super::{prox_at, Optimizer, OptimizerFn, DEFAULT_MOMENTUM};
use crate::model::penalty::PenaltyFn;
use crate::scalar::Real;

#[derive(Debug, Clone)]
pub struct Momentum<T> {
    beta: T,
    previous: Vec<T>,
}

impl<T: Real> OptimizerFn<T> for Momentum<T> {
    fn monotone(&self) -> bool {
        false
    }
    fn new(o: &Optimizer, len: usize) -> Self {
        Momentum {
            beta: T::from_f64(o.momentum.unwrap_or(DEFAULT_MOMENTUM)),
            previous: vec![T::zero(); len],
        }
    }
    fn step<P: PenaltyFn<T>>(
        &mut self,
        w: &mut [T],
        g: &[T],
        mu: T,
        penalty: &P,
        intercepts: usize,
    ) {
        for (j, ((wj, &gj), prev)) in w.iter_mut().zip(g).zip(&mut self.previous).enumerate() {
            let moved = *wj - *prev;
            *prev = *wj;
            *wj = prox_at(j, intercepts, *wj + mu * gj + self.beta * moved, penalty);
        }
    }
}
