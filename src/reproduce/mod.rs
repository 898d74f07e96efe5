//! One-command reproductions of published results.

pub mod decision_boundary;
pub mod equal_t;
pub mod estimate;
pub mod eta_over_b;
pub mod fc_mnist;
pub mod fc_mnist_report;
pub mod hinge_vs_ce;
pub mod owner;
pub mod perceptron;
pub mod plan;
pub mod sgd_vs_sde;
pub mod table1;
pub mod table1_report;
