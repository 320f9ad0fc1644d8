//! Placeholder: filled in by the pdq work.
