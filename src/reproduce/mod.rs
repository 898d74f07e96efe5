//! One-command reproductions of published results.

pub mod fc_mnist;
pub mod fc_mnist_report;
pub mod perceptron;
