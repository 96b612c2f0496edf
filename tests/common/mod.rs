//! Shared test helpers: the numpy reference file, fresh seeds, the shared GPU.
#![allow(dead_code)]

use descent::gpu::{AdapterChoice, GpuSolver, SOFTWARE_ADAPTER_HINT};
use serde_json::Value;
use std::sync::OnceLock;

/// numpy's reference values (tests/fixtures/article.json, copied from shared/reference).
pub fn reference() -> Value {
    let text = include_str!("../fixtures/article.json");
    serde_json::from_str(text).expect("fixture is valid JSON")
}

pub fn pair(v: &Value) -> [f64; 2] {
    [v[0].as_f64().unwrap(), v[1].as_f64().unwrap()]
}

/// A seed that changes every run (set DESCENT_TEST_SEED to replay one); printed so a
/// failure can be reproduced.
pub fn fresh_seed(tag: &str) -> u64 {
    let seed = std::env::var("DESCENT_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{tag}: DESCENT_TEST_SEED={seed}");
    seed
}

/// The one GPU solver all tests share. No adapter is a failure, not a skip: CI installs
/// lavapipe, and a machine without one is told how to get it.
pub fn gpu() -> &'static GpuSolver {
    static GPU: OnceLock<GpuSolver> = OnceLock::new();
    GPU.get_or_init(|| {
        GpuSolver::new(&AdapterChoice::Auto)
            .unwrap_or_else(|e| panic!("GPU tests need an adapter: {e}\n{SOFTWARE_ADAPTER_HINT}"))
    })
}

/// max_i |a_i − b_i| / max(1, |b_i|).
pub fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, f64::max)
}
