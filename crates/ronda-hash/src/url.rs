//! Placeholder: filled in by the url work.
