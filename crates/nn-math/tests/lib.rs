//! Integration tests of `nn-math`: the algebraic laws of Appendix A as property tests.

mod accumulate;
mod hadamard;
mod norms;
mod products;
mod strategies;
