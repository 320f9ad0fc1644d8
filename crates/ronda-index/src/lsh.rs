//! MinHash LSH index for near-duplicate text. Placeholder for the text work.
