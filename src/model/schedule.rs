//! Step-size schedules as in scikit-learn's SGD, with `--mu` (or auto) as the base rate:
//! `constant`; `invscaling`, mu/tᵖ at epoch t = 1, 2, … (p = `power_t`); `adaptive`, mu
//! until the epoch loss stalls for `n_iter_no_change` epochs in a row, then divided by 5,
//! stopping once it is below 10⁻⁴ of mu (scikit-learn stops at an absolute 10⁻⁶, which is
//! 10⁻⁴ of its default eta0 = 0.01).

use crate::error::{Error, Result};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    #[default]
    Constant,
    InvScaling,
    Adaptive,
}

impl ScheduleKind {
    pub const ALL: [ScheduleKind; 3] = [
        ScheduleKind::Constant,
        ScheduleKind::InvScaling,
        ScheduleKind::Adaptive,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleKind::Constant => "constant",
            ScheduleKind::InvScaling => "invscaling",
            ScheduleKind::Adaptive => "adaptive",
        }
    }
}

impl std::str::FromStr for ScheduleKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ScheduleKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown lr schedule '{s}' (expected constant, invscaling or adaptive)"
                ))
            })
    }
}

impl std::fmt::Display for ScheduleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// scikit-learn's SGDRegressor default exponent for `invscaling`.
pub const DEFAULT_POWER_T: f64 = 0.25;
/// The adaptive schedule's divisor and its stopping floor, relative to mu.
pub const ADAPTIVE_DIVISOR: f64 = 5.0;
pub const ADAPTIVE_FLOOR: f64 = 1e-4;
/// Stalled epochs before the adaptive schedule divides, when `n_iter_no_change` is not given
/// (scikit-learn's default).
pub const DEFAULT_N_ITER_NO_CHANGE: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Schedule {
    pub kind: ScheduleKind,
    pub power_t: f64,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::CONSTANT
    }
}

impl Schedule {
    pub const CONSTANT: Schedule = Schedule {
        kind: ScheduleKind::Constant,
        power_t: DEFAULT_POWER_T,
    };

    /// `power_t` applies to `invscaling` only.
    pub fn new(kind: ScheduleKind, power_t: Option<f64>) -> Result<Schedule> {
        if power_t.is_some() && kind != ScheduleKind::InvScaling {
            return Err(Error::Config(format!(
                "power_t applies to the invscaling schedule, not {kind}"
            )));
        }
        let s = Schedule {
            kind,
            power_t: power_t.unwrap_or(DEFAULT_POWER_T),
        };
        s.validate()?;
        Ok(s)
    }

    pub fn validate(&self) -> Result<()> {
        if !self.power_t.is_finite() || self.power_t < 0.0 {
            return Err(Error::Config(format!(
                "power_t must be a finite number ≥ 0, got {}",
                self.power_t
            )));
        }
        Ok(())
    }

    /// The `invscaling` factor at 0-based `epoch`: (epoch + 1)^−power_t.
    pub fn invscaling(&self, epoch: usize) -> f64 {
        ((epoch + 1) as f64).powf(-self.power_t)
    }
}
