//! Media decoding under limits.
