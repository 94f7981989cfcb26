//! Integration tests of `nn-activations`.
