//! One module per `ronda` subcommand.

pub mod bench;
pub mod hash;
pub mod matches;
