//! One module per `ronda` subcommand.

pub mod admin;
pub mod bank;
pub mod bench;
pub mod hash;
pub mod matches;
pub mod serve;
pub mod store_args;
