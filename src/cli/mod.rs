//! What only the command line needs: its output files (checked before a fit, written
//! atomically after it), its human tables and its words for the settings that messages
//! name (flags).

pub mod flags;
pub mod output;
pub mod tables;
