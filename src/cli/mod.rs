//! What only the command line needs: its output files (checked before a fit, written
//! atomically after it) and its human tables.

pub mod output;
pub mod tables;
