//! One-command reproductions of published results.

pub mod perceptron;
