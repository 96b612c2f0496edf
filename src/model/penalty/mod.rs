//! Penalties α·[ρ·‖w‖₁ + (1−ρ)/2·‖w‖₂²] on the feature weights (never the intercept).
//! The L2 part enters the gradient; the L1 part is a proximal step (soft-thresholding after
//! each update), so exact zeros appear. One file per penalty, each a [`PenaltyFn`] for the
//! CPU; the WGSL twins are shaders/penalty_*.wgsl.

mod elastic_net;
mod l1;
mod l2;
mod none;

pub use elastic_net::ElasticNet;
pub use l1::L1;
pub use l2::L2;
pub use none::NoPenalty;

use crate::error::{Error, Result};
use crate::names::{Mention, Setting};
use crate::scalar::Real;
use serde::Serialize;

/// Which penalty; `l2` is elastic net with ρ = 0, `l1` with ρ = 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PenaltyKind {
    #[default]
    None,
    L2,
    L1,
    ElasticNet,
}

impl PenaltyKind {
    pub const ALL: [PenaltyKind; 4] = [
        PenaltyKind::None,
        PenaltyKind::L2,
        PenaltyKind::L1,
        PenaltyKind::ElasticNet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PenaltyKind::None => "none",
            PenaltyKind::L2 => "l2",
            PenaltyKind::L1 => "l1",
            PenaltyKind::ElasticNet => "elasticnet",
        }
    }
}

impl std::str::FromStr for PenaltyKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        PenaltyKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown penalty '{s}' (expected none, l2, l1 or elasticnet)"
                ))
            })
    }
}

impl std::fmt::Display for PenaltyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A penalty with its constants: α ≥ 0 and the L1 ratio ρ ∈ [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Penalty {
    pub kind: PenaltyKind,
    pub alpha: f64,
    pub l1_ratio: f64,
}

impl Default for Penalty {
    fn default() -> Self {
        Penalty::NONE
    }
}

/// ρ of elastic net when none is given (scikit-learn's ElasticNet default).
pub const DEFAULT_L1_RATIO: f64 = 0.5;

/// The penalties an `alpha` can belong to, suggested when one is given without a penalty.
fn any_penalty() -> Mention {
    Setting::Penalty.one_of(&["l2", "l1", "elasticnet"])
}

impl Penalty {
    pub const NONE: Penalty = Penalty {
        kind: PenaltyKind::None,
        alpha: 0.0,
        l1_ratio: 0.0,
    };

    /// Build and check a penalty from user settings. `l2` fixes ρ = 0 and `l1` ρ = 1, so a
    /// ratio is only accepted for `elasticnet` (default [`DEFAULT_L1_RATIO`]); `alpha` is
    /// required for every penalty but `none`.
    pub fn new(kind: PenaltyKind, alpha: Option<f64>, l1_ratio: Option<f64>) -> Result<Penalty> {
        let l1_ratio = match (kind, l1_ratio) {
            (PenaltyKind::ElasticNet, r) => r.unwrap_or(DEFAULT_L1_RATIO),
            (PenaltyKind::None | PenaltyKind::L2, None) => 0.0,
            (PenaltyKind::L1, None) => 1.0,
            (k, Some(r)) => {
                return Err(Error::Config(format!(
                    "l1_ratio ({r}) applies to the elasticnet penalty only; penalty {k} fixes it \
                     at {}",
                    if k == PenaltyKind::L1 { 1 } else { 0 }
                )))
            }
        };
        let alpha = match (kind, alpha) {
            (PenaltyKind::None, None) => 0.0,
            (PenaltyKind::None, Some(a)) if a != 0.0 => {
                return Err(Error::Config(format!(
                    "alpha ({a}) needs a penalty: add {}",
                    any_penalty()
                )))
            }
            (_, Some(a)) => a,
            (k, None) => {
                return Err(Error::Config(format!(
                    "penalty {k} needs alpha (its strength, ≥ 0)"
                )))
            }
        };
        let p = Penalty {
            kind,
            alpha,
            l1_ratio,
        };
        p.validate()?;
        Ok(p)
    }

    /// α finite and ≥ 0, ρ in [0, 1] and consistent with the kind, α > 0 with an L1 part.
    pub fn validate(&self) -> Result<()> {
        if !self.alpha.is_finite() || self.alpha < 0.0 {
            return Err(Error::Config(format!(
                "alpha must be a finite number ≥ 0, got {}",
                self.alpha
            )));
        }
        if !(0.0..=1.0).contains(&self.l1_ratio) {
            return Err(Error::Config(format!(
                "l1_ratio must be between 0 and 1, got {}",
                self.l1_ratio
            )));
        }
        let fixed = match self.kind {
            PenaltyKind::None if self.alpha != 0.0 => {
                return Err(Error::Config(format!(
                    "alpha ({}) needs a penalty: add {}",
                    self.alpha,
                    any_penalty()
                )))
            }
            PenaltyKind::None | PenaltyKind::L2 => Some(0.0),
            PenaltyKind::L1 => Some(1.0),
            PenaltyKind::ElasticNet => None,
        };
        if let Some(r) = fixed {
            if self.l1_ratio != r {
                return Err(Error::Config(format!(
                    "penalty {} has l1_ratio {r}, got {}",
                    self.kind, self.l1_ratio
                )));
            }
        }
        if self.l1_ratio > 0.0 && self.alpha == 0.0 {
            return Err(Error::Config(format!(
                "penalty {} with alpha = 0 has no L1 part to apply; give alpha > 0 or use {}",
                self.kind,
                Setting::Penalty.is("none")
            )));
        }
        Ok(())
    }

    /// α(1−ρ): the L2 part's coefficient in the gradient.
    pub fn l2_strength(&self) -> f64 {
        self.alpha * (1.0 - self.l1_ratio)
    }

    /// αρ: the L1 part's coefficient (the soft threshold is mu·αρ).
    pub fn l1_strength(&self) -> f64 {
        self.alpha * self.l1_ratio
    }

    /// True when the penalty has an L1 part (so the reference is the KKT conditions).
    pub fn has_l1(&self) -> bool {
        self.l1_strength() > 0.0
    }

    /// α·[ρ·‖w‖₁ + (1−ρ)/2·‖w‖₂²] of the feature weights `w` (intercept excluded), in f64.
    pub fn value(&self, w: &[f64]) -> f64 {
        let (l1, l2) = (self.l1_strength(), self.l2_strength());
        w.iter().map(|v| l1 * v.abs() + 0.5 * l2 * v * v).sum()
    }
}

/// One penalty as the CPU update applies it to a feature weight, with its constants in the
/// working precision (the WGSL twins read the same values from the `coef` buffer).
pub trait PenaltyFn<T: Real>: Copy {
    /// Whether there is a proximal (L1) step after the gradient step.
    fn has_prox(&self) -> bool;
    /// Built from the penalty and the step size (the threshold is mu·αρ).
    fn new(penalty: &Penalty, mu: f64) -> Self;
    /// ∂/∂w of the smooth (L2) part: α(1−ρ)·w.
    fn grad(&self, w: T) -> T;
    /// The proximal step after `w += mu·g` (identity without an L1 part).
    fn prox(&self, w: T) -> T;
    /// The same with the threshold scaled by `scale`: the prox of a diagonally
    /// preconditioned step (Adam's per-coordinate step mu/(√v̂ + ε) needs scale 1/(√v̂ + ε)).
    fn prox_scaled(&self, w: T, scale: T) -> T {
        let _ = scale;
        self.prox(w)
    }
    /// α·[ρ|w| + (1−ρ)/2·w²].
    fn value(&self, w: T) -> T;
}

/// sign(w)·max(|w| − t, 0): the proximal map of t·|w|; exact zeros below the threshold.
#[inline(always)]
pub fn soft_threshold<T: Real>(w: T, t: T) -> T {
    if w > t {
        w - t
    } else if w < -t {
        w + t
    } else {
        T::zero()
    }
}

/// The constants as the working precision holds them: [α(1−ρ), mu·αρ, αρ].
pub fn constants<T: Real>(penalty: &Penalty, mu: f64) -> [T; 3] {
    [
        T::from_f64(penalty.l2_strength()),
        T::from_f64(mu * penalty.l1_strength()),
        T::from_f64(penalty.l1_strength()),
    ]
}

/// Any penalty, chosen at run time: the CPU update is instantiated once per precision and
/// loss, not once per penalty (a penalty costs O(p) per step, never per row, so the branch
/// is free). Each arm runs its own file's arithmetic, so results are those of the typed
/// penalty bit for bit.
#[derive(Debug, Clone, Copy)]
pub enum AnyPenalty<T> {
    None(NoPenalty),
    L2(L2<T>),
    L1(L1<T>),
    ElasticNet(ElasticNet<T>),
}

macro_rules! each_penalty {
    ($s:expr, $p:ident => $body:expr) => {
        match $s {
            AnyPenalty::None($p) => $body,
            AnyPenalty::L2($p) => $body,
            AnyPenalty::L1($p) => $body,
            AnyPenalty::ElasticNet($p) => $body,
        }
    };
}

impl<T: Real> PenaltyFn<T> for AnyPenalty<T> {
    #[inline(always)]
    fn has_prox(&self) -> bool {
        each_penalty!(self, p => PenaltyFn::<T>::has_prox(p))
    }
    fn new(penalty: &Penalty, mu: f64) -> Self {
        match penalty.kind {
            PenaltyKind::None => AnyPenalty::None(NoPenalty),
            PenaltyKind::L2 => AnyPenalty::L2(L2::new(penalty, mu)),
            PenaltyKind::L1 => AnyPenalty::L1(L1::new(penalty, mu)),
            PenaltyKind::ElasticNet => AnyPenalty::ElasticNet(ElasticNet::new(penalty, mu)),
        }
    }
    #[inline(always)]
    fn grad(&self, w: T) -> T {
        each_penalty!(self, p => p.grad(w))
    }
    #[inline(always)]
    fn prox(&self, w: T) -> T {
        each_penalty!(self, p => p.prox(w))
    }
    #[inline(always)]
    fn prox_scaled(&self, w: T, scale: T) -> T {
        each_penalty!(self, p => p.prox_scaled(w, scale))
    }
    #[inline(always)]
    fn value(&self, w: T) -> T {
        each_penalty!(self, p => p.value(w))
    }
}
