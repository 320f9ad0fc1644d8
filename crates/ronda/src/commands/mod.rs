//! One module per `ronda` subcommand.

pub mod bench;
