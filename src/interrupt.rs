//! Stopping a running fit from another thread: the bottom layer, since every stage that
//! loops over rows or epochs (data statistics, references, backends) looks at it.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A handle another thread uses to stop a running fit: the CPU backends look at it every
/// epoch (and between mini-batches), the GPU backend between command-buffer chunks; a fit
/// that sees it set returns [`Error::Interrupted`]. The default handle has no flag and is
/// never set (one branch per epoch); [`Interrupt::new`] makes an armed one. Clones share
/// the flag, which lives as long as its last handle (a fit's settings hold one clone): a
/// long-lived caller makes a handle per fit and drops it afterwards, nothing is leaked.
#[derive(Clone, Default)]
pub struct Interrupt(Option<Arc<AtomicBool>>);

impl Interrupt {
    /// An armed handle on a fresh flag (unlike [`Interrupt::default`], which has none):
    /// give a clone to the fit, keep one to call [`Interrupt::interrupt`] on.
    pub fn new() -> Self {
        Interrupt::on(Arc::new(AtomicBool::new(false)))
    }

    /// A handle on `flag`, shared with whatever else holds it: the fit stops once someone
    /// stores `true` in it.
    pub fn on(flag: Arc<AtomicBool>) -> Self {
        Interrupt(Some(flag))
    }

    /// Ask every fit holding this handle (or a clone of it) to stop.
    pub fn interrupt(&self) {
        if let Some(f) = &self.0 {
            f.store(true, Ordering::Relaxed);
        }
    }

    /// True when the handle watches a flag (a fit may then be interrupted).
    pub fn is_armed(&self) -> bool {
        self.0.is_some()
    }

    pub fn is_set(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
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
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_flag_and_equality_means_the_same_flag() {
        let a = Interrupt::new();
        let b = a.clone();
        assert!(a.is_armed() && !a.is_set() && a.check().is_ok());
        assert_eq!(a, b);
        assert_ne!(a, Interrupt::new(), "two fresh flags are two flags");
        assert_ne!(a, Interrupt::default());
        assert_eq!(Interrupt::default(), Interrupt::default());
        b.interrupt();
        assert!(a.is_set());
        assert!(matches!(a.check(), Err(Error::Interrupted)));
        // The default handle has nothing to set.
        let none = Interrupt::default();
        none.interrupt();
        assert!(!none.is_armed() && !none.is_set() && none.check().is_ok());
    }

    #[test]
    fn a_flag_is_freed_with_its_last_handle() {
        let weak: Vec<_> = (0..10_000)
            .map(|_| {
                let flag = Arc::new(AtomicBool::new(false));
                let weak = Arc::downgrade(&flag);
                let handle = Interrupt::on(flag);
                let copy = handle.clone();
                copy.interrupt();
                assert!(handle.is_set());
                weak
            })
            .collect();
        assert!(weak.iter().all(|w| w.upgrade().is_none()));
    }
}
