//! One module per `ronda` subcommand.

pub mod admin;
pub mod bank;
pub mod bench;
pub mod demo;
pub mod hash;
pub mod item;
pub mod matches;
pub mod platform;
pub mod referral;
pub mod report;
pub mod review;
pub mod serve;
pub mod store_args;
