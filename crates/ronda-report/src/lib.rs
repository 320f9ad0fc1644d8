//! The campaign (action-day) report: what a referral unit publishes after an
//! operation, and what researchers measure takedowns with (PRODUCT.md C14).
//!
//! - [`input`]: the records a report is computed from, shaped like what
//!   the store holds: the campaign, platforms, items (duplicates
//!   included), referrals and removal orders, and per item what the
//!   liveness checks saw.
//! - [`compute()`] turns them into a [`CampaignReport`]: counts, share
//!   removed, time to removal (median, p90, share within 1 h / 24 h /
//!   36 h) overall and per platform, platform kind and group; removal
//!   orders' deadline compliance; re-uploads; cross-platform spread (a
//!   graph of outlinks and shared content); Kaplan–Meier curves of the
//!   share still online. [`compute`](mod@compute) states every definition
//!   in one place.
//! - [`render`]: the report as JSON, CSV (per platform, per item) and one
//!   self-contained HTML page with SVG charts drawn here.
//! - [`stats`]: shares, quantiles and the Kaplan–Meier estimator.
//!
//! The design rule, as in `ronda-hash`: no I/O. Inputs are plain structs
//! and outputs are values and strings; the caller reads the store and
//! writes the files, and passes the report's "as of" time, since this
//! crate reads no clock. The same records give the same bytes, and no
//! figure is ever NaN or infinite: a figure without data is `None`
//! (`null` in JSON).

pub mod compute;
pub mod input;
pub mod render;
pub mod stats;

pub use compute::{CampaignReport, compute};
pub use input::{
    Campaign, Item, Liveness, Millis, Platform, PlatformKind, Referral, ReferralKind,
    ReferralStatus, ReportInput,
};
pub use render::{items_csv, platforms_csv, to_html, to_json};
