//! Backend names and construction: the only place that knows every backend.

use crate::error::{Error, Result};
use crate::gpu::{AdapterChoice, GpuSolver};
use crate::solver::Solver;

/// Every backend descent has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Naive,
    Ndarray,
    Fused,
    Gpu,
}

impl Backend {
    pub const ALL: [Backend; 4] = [
        Backend::Naive,
        Backend::Ndarray,
        Backend::Fused,
        Backend::Gpu,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Naive => "naive",
            Backend::Ndarray => "ndarray",
            Backend::Fused => "fused",
            Backend::Gpu => "gpu",
        }
    }

    /// Parse a comma-separated list such as `naive,fused,gpu`.
    pub fn parse_list(s: &str) -> Result<Vec<Backend>> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let b: Backend = part.parse()?;
            if !out.contains(&b) {
                out.push(b);
            }
        }
        if out.is_empty() {
            return Err(Error::Config("no backend given".into()));
        }
        Ok(out)
    }
}

impl std::str::FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Backend::ALL
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown backend '{s}' (expected one of naive, ndarray, fused, gpu)"
                ))
            })
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Build a solver; `adapter` is used by the GPU backend only.
pub fn make_solver(backend: Backend, adapter: &AdapterChoice) -> Result<Box<dyn Solver>> {
    Ok(match backend {
        Backend::Naive => Box::new(crate::cpu::Naive),
        Backend::Ndarray => Box::new(crate::cpu::NdarrayGd),
        Backend::Fused => Box::new(crate::cpu::Fused),
        Backend::Gpu => Box::new(GpuSolver::new(adapter)?),
    })
}
