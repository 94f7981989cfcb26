//! Integration tests of nn-train.
