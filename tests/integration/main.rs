//! The integration tests, one module per file, in one test binary: each binary links wgpu,
//! naga and faer, and linking one per file dominated CI's build on its two cores. Test names
//! carry their module (`gpu_vs_cpu::…`), so a file's tests are selected by its name as a
//! filter (`cargo test --test integration -- gpu_vs_cpu::`, as .ci/run does on GL).
//! tests/long_lived.rs is a binary of its own (it says why).

mod common;

mod article;
mod checks;
mod cli;
mod cli_errors;
mod cli_input;
mod cli_models;
mod cli_trust;
mod comparisons;
mod cpu_paths;
mod fit;
mod gpu_partial_sums;
mod gpu_vs_cpu;
mod minibatch;
mod minibatch_gpu_vs_cpu;
mod models_gpu_vs_cpu;
mod optimizers;
mod optimizers_gpu_vs_cpu;
mod partial_sums;
mod references;
mod reproduce_logistic;
mod shaders;
mod sklearn_parity;
mod standardize;
