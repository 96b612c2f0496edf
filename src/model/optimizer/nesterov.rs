//! Nesterov acceleration as FISTA (Beck–Teboulle): the gradient is taken at the extrapolated
//! point y; x⁺ = prox(y + mu·g(y)); y ← x⁺ + β·(x⁺ − x). β is the given momentum, or
//! (t − 1)/t⁺ with t⁺ = (1 + √(1 + 4t²))/2 and O'Donoghue–Candès gradient restart (t ← 1,
//! β = 0 whenever (y − x⁺)·(x⁺ − x) > 0, i.e. the step goes uphill), which needs no condition
//! number. The reported weights are x, not y. WGSL twin: shaders/optimizer_nesterov.wgsl.

use super::{prox_at, Optimizer, OptimizerFn};
use crate::model::penalty::PenaltyFn;
use crate::scalar::Real;

#[derive(Debug, Clone)]
pub struct Nesterov<T> {
    fixed: Option<T>,
    t: T,
    x: Vec<T>,
    next: Vec<T>,
}

impl<T: Real> OptimizerFn<T> for Nesterov<T> {
    fn monotone(&self) -> bool {
        false
    }
    fn new(o: &Optimizer, len: usize) -> Self {
        Nesterov {
            fixed: o.momentum.map(T::from_f64),
            t: T::one(),
            x: vec![T::zero(); len],
            next: vec![T::zero(); len],
        }
    }
    fn step<P: PenaltyFn<T>>(
        &mut self,
        y: &mut [T],
        g: &[T],
        mu: T,
        penalty: &P,
        intercepts: usize,
    ) {
        let mut uphill = T::zero();
        for (j, ((nj, &yj), (&gj, &xj))) in self
            .next
            .iter_mut()
            .zip(y.iter())
            .zip(g.iter().zip(&self.x))
            .enumerate()
        {
            *nj = prox_at(j, intercepts, yj + mu * gj, penalty);
            uphill += (yj - *nj) * (*nj - xj);
        }
        let beta = match self.fixed {
            Some(b) => b,
            None if uphill > T::zero() => {
                self.t = T::one();
                T::zero()
            }
            None => {
                let one = T::one();
                let four = T::from_f64(4.0);
                let t_next = (one + (one + four * self.t * self.t).sqrt()) / T::from_f64(2.0);
                let b = (self.t - one) / t_next;
                self.t = t_next;
                b
            }
        };
        for ((yj, xj), &nj) in y.iter_mut().zip(self.x.iter_mut()).zip(&self.next) {
            *yj = nj + beta * (nj - *xj);
            *xj = nj;
        }
    }
    fn weights(&self, _y: &[T]) -> Vec<T> {
        self.x.clone()
    }
}
