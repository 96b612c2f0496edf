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

/// The shared adapter as the SKIPPED lines name it: "name [backend]".
pub fn adapter_name() -> String {
    let info = &gpu().context().info;
    format!("{} [{}]", info.name, info.backend)
}

/// Whether the shared adapter runs f64 shaders. When it does not (wgpu's GL backend, most
/// non-Vulkan adapters), says so on stderr for `test`: a skipped part is never silent.
pub fn has_f64(test: &str) -> bool {
    if gpu().context().has(wgpu::Features::SHADER_F64) {
        return true;
    }
    eprintln!(
        "SKIPPED: {} has no SHADER_F64 (f64 part of {test})",
        adapter_name()
    );
    false
}

/// Every kernel × reduction the shared adapter can run.
pub fn variants() -> Vec<descent::gpu::GpuOptions> {
    use descent::gpu::{GpuOptions, KernelChoice, Reduction};
    let mut reductions = vec![Reduction::Tree];
    if gpu().context().has(wgpu::Features::SUBGROUP) {
        reductions.push(Reduction::Subgroup);
    }
    let mut v = Vec::new();
    for kernel in [KernelChoice::Resident, KernelChoice::Multi] {
        for &r in &reductions {
            v.push(GpuOptions {
                kernel,
                reduction: Some(r),
            });
        }
    }
    v
}

/// max_i |a_i − b_i| / max(1, |b_i|).
pub fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, f64::max)
}

/// Bad input as the CLI must report it: a non-zero exit that is not a panic, nothing on
/// stdout, and exactly one non-empty stderr line containing `needle`.
pub fn one_error_line(out: &std::process::Output, what: &str, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{what} should fail");
    assert_ne!(out.status.code(), Some(101), "{what} panicked: {err}");
    assert!(
        out.stdout.is_empty(),
        "{what} printed to stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
    let lines: Vec<_> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{what}: {err}");
    assert!(err.contains(needle), "{what}: wanted {needle:?} in {err}");
}

/// Write `content` to `dir/name` and return the path as a string.
pub fn write_file(dir: &std::path::Path, name: &str, content: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}
