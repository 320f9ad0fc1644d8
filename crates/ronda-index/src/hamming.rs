//! Exact Hamming-radius index over 256-bit hashes. Placeholder for the matching-engine work.
