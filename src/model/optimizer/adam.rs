//! Adam (Kingma–Ba) in PyTorch's form on the gradient ∇S = −g: m ← β1·m + (1−β1)·∇S,
//! v ← β2·v + (1−β2)·∇S², w ← w − mu·m̂/(√v̂ + ε) with m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ). The L1
//! part's prox is taken in the same metric (threshold mu·αρ/(√v̂ + ε) per coordinate), so
//! the fixed points are the optimum; a plain mu·αρ threshold would stop short of it.
//! The powers β1ᵗ, β2ᵗ are running products (no pow). WGSL twin: shaders/optimizer_adam.wgsl.

use super::{Optimizer, OptimizerFn};
use crate::model::penalty::PenaltyFn;
use crate::scalar::Real;

#[derive(Debug, Clone)]
pub struct Adam<T> {
    beta1: T,
    beta2: T,
    eps: T,
    beta1_t: T,
    beta2_t: T,
    m: Vec<T>,
    v: Vec<T>,
}

impl<T: Real> OptimizerFn<T> for Adam<T> {
    fn monotone(&self) -> bool {
        false
    }
    fn new(o: &Optimizer, len: usize) -> Self {
        Adam {
            beta1: T::from_f64(o.beta1),
            beta2: T::from_f64(o.beta2),
            eps: T::from_f64(o.eps),
            beta1_t: T::one(),
            beta2_t: T::one(),
            m: vec![T::zero(); len],
            v: vec![T::zero(); len],
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
        let one = T::one();
        self.beta1_t = self.beta1_t * self.beta1;
        self.beta2_t = self.beta2_t * self.beta2;
        let (c1, c2) = (one - self.beta1_t, one - self.beta2_t);
        for (j, (wj, &gj)) in w.iter_mut().zip(g).enumerate() {
            let grad = -gj;
            self.m[j] = self.beta1 * self.m[j] + (one - self.beta1) * grad;
            self.v[j] = self.beta2 * self.v[j] + (one - self.beta2) * grad * grad;
            let scale = one / ((self.v[j] / c2).sqrt() + self.eps);
            let moved = *wj - mu * (self.m[j] / c1) * scale;
            *wj = if j >= intercepts && penalty.has_prox() {
                penalty.prox_scaled(moved, scale)
            } else {
                moved
            };
        }
    }
}
