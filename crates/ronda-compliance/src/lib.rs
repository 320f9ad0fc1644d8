//! What a hosting platform owes EU regulators, as data: DSA statements of
//! reasons and the TCO transparency report (PRODUCT.md C13).
//!
//! - [`sor`]: statements of reasons (Art. 17 and 24(5) DSA) in the schema
//!   of the Commission's Transparency Database: the typed [`Statement`],
//!   the database's validation rules ([`validate_value`], with errors in
//!   the shape of its `422` answer), the batcher ([`plan`], at most
//!   [`MAX_BATCH`] per call), and [`sor::build::terrorist_content`], the
//!   statement for a decision on terrorist content.
//! - [`transparency`]: the annual report of Art. 7 TCO: the eight figures
//!   of Art. 7(2) from plain records, as JSON, CSV and one self-contained
//!   HTML page.
//! - [`date`]: calendar days and years without a clock.
//!
//! The design rule, as in `ronda-report`: no I/O and no clock. Inputs are
//! plain structs that the platform side's records fill, times are passed
//! in, and outputs are values and strings; the server submits statements
//! (`ronda-server`'s `dsa` module) and the CLI writes files. The validator
//! works on the JSON that is sent rather than on the typed struct, so that
//! the same code judges a statement Ronda built and a request a test
//! double of the database receives.

pub mod date;
pub mod sor;
pub mod transparency;

pub use date::{Date, DateError, Millis};
pub use sor::{FieldErrors, MAX_BATCH, Plan, Statement, plan, validate_value};
pub use transparency::{TransparencyInput, TransparencyReport};
