//! Stopping a running fit from another thread: the bottom layer, since every stage that
//! loops over rows or epochs (data statistics, references, backends) looks at it.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};

/// A handle another thread uses to stop a running fit: the CPU backends look at it every
/// epoch (and between mini-batches), the GPU backend between command-buffer chunks; a fit
/// that sees it set returns [`Error::Interrupted`]. The default handle has no flag and is
/// never set (one branch per epoch). It is `Copy`, as every other setting, so the flag is
/// `'static`: a `static`, or one leaked and reused by a long-lived caller.
#[derive(Clone, Copy, Default)]
pub struct Interrupt(Option<&'static AtomicBool>);

impl Interrupt {
    /// A handle on `flag`: the fit stops once someone stores `true` in it.
    pub const fn on(flag: &'static AtomicBool) -> Self {
        Interrupt(Some(flag))
    }

    /// Ask every fit holding this handle to stop.
    pub fn interrupt(&self) {
        if let Some(f) = self.0 {
            f.store(true, Ordering::Relaxed);
        }
    }

    /// True when the handle watches a flag (a fit may then be interrupted).
    pub fn is_armed(&self) -> bool {
        self.0.is_some()
    }

    pub fn is_set(&self) -> bool {
        self.0.is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// `Err(Error::Interrupted)` once set.
    pub fn check(&self) -> Result<()> {
        if self.is_set() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }
}

/// Two handles are equal when they watch the same flag (or neither watches one).
impl PartialEq for Interrupt {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            _ => false,
        }
    }
}

impl std::fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => f.write_str("Interrupt(none)"),
            Some(_) => write!(f, "Interrupt(set: {})", self.is_set()),
        }
    }
}
