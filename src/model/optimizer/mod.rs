//! Optimizers: how a step is taken from the gradient, given the same loss, penalty and data.
//! `gd` is the article's plain step and the default; `momentum` (heavy ball, PyTorch's
//! form), `nesterov` (FISTA-style accelerated proximal gradient, with O'Donoghue–Candès
//! adaptive restart unless a fixed momentum is given) and `adam` (PyTorch's defaults). One
//! file each, behind [`OptimizerFn`], used by every CPU path; the L1 part of a penalty stays
//! a proximal step in all of them.
//!
//! Whatever the optimizer, the stopping test is the same: the norm of the proximal-gradient
//! mapping at the point where the gradient was taken, ‖(prox(w + mu·g) − w)/mu‖ (the
//! gradient itself without an L1 part), so `--tol` means the same for every optimizer.

mod adam;
mod gd;
mod momentum;
mod nesterov;

pub use adam::Adam;
pub use gd::Gd;
pub use momentum::Momentum;
pub use nesterov::Nesterov;

use crate::error::{Error, Result};
use crate::model::penalty::PenaltyFn;
use crate::scalar::Real;
use serde::Serialize;

/// Which optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    #[default]
    Gd,
    Momentum,
    Nesterov,
    Adam,
}

impl OptimizerKind {
    pub const ALL: [OptimizerKind; 4] = [
        OptimizerKind::Gd,
        OptimizerKind::Momentum,
        OptimizerKind::Nesterov,
        OptimizerKind::Adam,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OptimizerKind::Gd => "gd",
            OptimizerKind::Momentum => "momentum",
            OptimizerKind::Nesterov => "nesterov",
            OptimizerKind::Adam => "adam",
        }
    }
}

impl std::str::FromStr for OptimizerKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        OptimizerKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown optimizer '{s}' (expected gd, momentum, nesterov or adam)"
                ))
            })
    }
}

impl std::fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An optimizer with its constants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Optimizer {
    pub kind: OptimizerKind,
    /// The momentum coefficient B in [0, 1): momentum's (default [`DEFAULT_MOMENTUM`]);
    /// nesterov's fixed coefficient, or None for adaptive restart.
    pub momentum: Option<f64>,
    /// Adam's β1, β2 in [0, 1) and ε > 0 (PyTorch's defaults).
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}

/// Heavy-ball momentum when none is given (PyTorch users' usual choice).
pub const DEFAULT_MOMENTUM: f64 = 0.9;

impl Default for Optimizer {
    fn default() -> Self {
        Optimizer::GD
    }
}

impl Optimizer {
    pub const GD: Optimizer = Optimizer {
        kind: OptimizerKind::Gd,
        momentum: None,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };

    /// Build and check an optimizer from user settings: a momentum only for momentum and
    /// nesterov, betas and ε only for adam.
    pub fn new(
        kind: OptimizerKind,
        momentum: Option<f64>,
        beta1: Option<f64>,
        beta2: Option<f64>,
        eps: Option<f64>,
    ) -> Result<Optimizer> {
        if momentum.is_some() && !matches!(kind, OptimizerKind::Momentum | OptimizerKind::Nesterov)
        {
            return Err(Error::Config(format!(
                "momentum applies to the momentum and nesterov optimizers, not {kind}"
            )));
        }
        if (beta1.is_some() || beta2.is_some() || eps.is_some()) && kind != OptimizerKind::Adam {
            return Err(Error::Config(format!(
                "beta1, beta2 and eps apply to the adam optimizer, not {kind}"
            )));
        }
        let o = Optimizer {
            kind,
            momentum: match kind {
                OptimizerKind::Momentum => Some(momentum.unwrap_or(DEFAULT_MOMENTUM)),
                _ => momentum,
            },
            beta1: beta1.unwrap_or(Self::GD.beta1),
            beta2: beta2.unwrap_or(Self::GD.beta2),
            eps: eps.unwrap_or(Self::GD.eps),
        };
        o.validate()?;
        Ok(o)
    }

    pub fn validate(&self) -> Result<()> {
        let unit = |name: &str, v: f64| {
            if v.is_finite() && (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::Config(format!("{name} must be in [0, 1), got {v}")))
            }
        };
        if let Some(b) = self.momentum {
            unit("momentum", b)?;
        }
        unit("beta1", self.beta1)?;
        unit("beta2", self.beta2)?;
        if !self.eps.is_finite() || self.eps <= 0.0 {
            return Err(Error::Config(format!(
                "eps must be a finite number > 0, got {}",
                self.eps
            )));
        }
        Ok(())
    }
}

/// One optimizer as the CPU update applies it (the WGSL twins are shaders/optimizer_*.wgsl).
pub trait OptimizerFn<T: Real> {
    /// Whether a growing gradient norm proves divergence: true for plain gradient descent
    /// (co-coercivity), false for methods whose gradient norm may rise on the way down.
    fn monotone(&self) -> bool;
    fn new(optimizer: &Optimizer, len: usize) -> Self;
    /// One step. `w` is the point the gradient was taken at and becomes the next one; `g` is
    /// the descent direction −∇S per coordinate (S the smooth part); the first `intercepts`
    /// coordinates (the K intercepts of the [`crate::coefficients::Coefficients`] layout)
    /// get no proximal step.
    fn step<P: PenaltyFn<T>>(
        &mut self,
        w: &mut [T],
        g: &[T],
        mu: T,
        penalty: &P,
        intercepts: usize,
    );
    /// The weights to report: the iterate itself (for nesterov not the extrapolated point).
    fn weights(&self, w: &[T]) -> Vec<T> {
        w.to_vec()
    }
}

/// prox(v) for a feature weight, v for an intercept (the first `intercepts` coordinates).
#[inline(always)]
pub(crate) fn prox_at<T: Real, P: PenaltyFn<T>>(
    j: usize,
    intercepts: usize,
    v: T,
    penalty: &P,
) -> T {
    if j >= intercepts && penalty.has_prox() {
        penalty.prox(v)
    } else {
        v
    }
}

/// Any optimizer, chosen at run time: the CPU update is instantiated once per precision and
/// loss, not once per optimizer (a step costs O(p), never per row). Each arm runs its own
/// file's arithmetic, so results are those of the typed optimizer bit for bit.
#[derive(Debug, Clone)]
pub enum AnyOptimizer<T> {
    Gd(Gd),
    Momentum(Momentum<T>),
    Nesterov(Nesterov<T>),
    Adam(Adam<T>),
}

macro_rules! each_optimizer {
    ($s:expr, $o:ident => $body:expr) => {
        match $s {
            AnyOptimizer::Gd($o) => $body,
            AnyOptimizer::Momentum($o) => $body,
            AnyOptimizer::Nesterov($o) => $body,
            AnyOptimizer::Adam($o) => $body,
        }
    };
}

impl<T: Real> OptimizerFn<T> for AnyOptimizer<T> {
    fn monotone(&self) -> bool {
        each_optimizer!(self, o => OptimizerFn::<T>::monotone(o))
    }
    fn new(optimizer: &Optimizer, len: usize) -> Self {
        match optimizer.kind {
            OptimizerKind::Gd => AnyOptimizer::Gd(<Gd as OptimizerFn<T>>::new(optimizer, len)),
            OptimizerKind::Momentum => AnyOptimizer::Momentum(Momentum::new(optimizer, len)),
            OptimizerKind::Nesterov => AnyOptimizer::Nesterov(Nesterov::new(optimizer, len)),
            OptimizerKind::Adam => AnyOptimizer::Adam(Adam::new(optimizer, len)),
        }
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
        each_optimizer!(self, o => o.step(w, g, mu, penalty, intercepts))
    }
    fn weights(&self, w: &[T]) -> Vec<T> {
        each_optimizer!(self, o => o.weights(w))
    }
}
