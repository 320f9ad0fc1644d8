//! Matching indexes (issue 3). Empty until the matching engine lands.
