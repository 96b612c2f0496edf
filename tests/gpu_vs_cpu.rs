//! The real WGSL on the real adapter (lavapipe in CI, and llvmpipe through wgpu's GL backend
//! in a second run) against the f64 CPU path. On an adapter without SHADER_F64 the f64
//! parts are skipped, each with a SKIPPED line on stderr. On GL, run one test thread
//! (`-- --test-threads=1`, as .ci/run does): wgpu's GL device panics when a thread waits
//! over 6 s for its context lock.

mod common;
use common::{adapter_name, fresh_seed, gpu, has_f64, max_rel_diff, pair, reference, variants};
use descent::cpu::Fused;
use descent::data::{article, synthetic, Synthetic};
use descent::gpu::kernels::{resident_epoch_passes, LOOP_PASS_BUDGET};
use descent::gpu::{
    plan, AdapterChoice, GpuContext, GpuOptions, GpuProblem, KernelChoice, Plan, Reduction,
    DISPATCHES_PER_CHUNK,
};
use descent::{Error, GdConfig, Precision, Solver};
use std::sync::Arc;

#[test]
fn article_workload_matches_numpy_in_f32_and_f64_on_every_kernel() {
    // 10 000 epochs over 10 000 rows: far past llvmpipe's 65 535 loop passes per invocation,
    // so a kernel that ignored the bound would return truncated weights here.
    let r = reference();
    let want = pair(&r["gd_f64"]["10000"]);
    let ds = article(10_000, 444, 0.1).unwrap();
    let f64_ok = has_f64("article_workload_matches_numpy_in_f32_and_f64_on_every_kernel");
    // Each kernel at full length in f64 with the adapter's own reduction, and the resident one
    // in f32 with the tree: 10⁸ row-epochs a run is lavapipe's slowest work, so the other
    // kernel × reduction × precision combinations run shorter, in
    // `random_problems_match_the_f64_cpu_path` and tests/models_gpu_vs_cpu.rs.
    let best = if gpu().context().has(wgpu::Features::SUBGROUP) {
        Reduction::Subgroup
    } else {
        Reduction::Tree
    };
    let wide = if f64_ok {
        Precision::F64
    } else {
        Precision::F32
    };
    let mut runs = vec![
        (KernelChoice::Resident, best, wide),
        (KernelChoice::Multi, best, wide),
    ];
    // On an adapter without f64 or subgroups (GL) the first run is already this one.
    if !runs.contains(&(KernelChoice::Resident, Reduction::Tree, Precision::F32)) {
        runs.push((KernelChoice::Resident, Reduction::Tree, Precision::F32));
    }
    for (kernel, reduction, precision) in runs {
        let opts = GpuOptions {
            kernel,
            reduction: Some(reduction),
        };
        let tol = if precision == Precision::F64 {
            1e-9
        } else {
            3e-5
        };
        let cfg = GdConfig {
            precision,
            ..GdConfig::default()
        };
        let fit = gpu().with_options(opts).fit(&ds, &cfg).unwrap();
        assert_eq!(fit.epochs_run, 10_000);
        for (a, b) in fit.weights.iter().zip(want) {
            assert!(
                (a - b).abs() < tol,
                "{opts:?} {precision}: {:?} vs {want:?}",
                fit.weights
            );
        }
    }
}

#[test]
fn resident_plan_never_exceeds_the_loop_pass_budget() {
    for (n, p) in [(1, 1), (10_000, 1), (255, 3), (4_000, 16), (300, 64)] {
        for red in [Reduction::Tree, Reduction::Subgroup] {
            match plan(n, p, 1_000_000, KernelChoice::Resident, red, 4, 65_535) {
                Ok(Plan::Resident {
                    epochs_per_dispatch,
                }) => {
                    let per_dispatch =
                        epochs_per_dispatch as u64 * resident_epoch_passes(n, p, red, 4);
                    assert!(
                        per_dispatch <= LOOP_PASS_BUDGET,
                        "n={n} p={p}: {per_dispatch}"
                    );
                    const { assert!(LOOP_PASS_BUDGET < 65_535) };
                }
                other => panic!("n={n} p={p}: {other:?}"),
            }
        }
    }
    // Too much work for one workgroup's epoch is refused, not silently truncated.
    assert!(plan(
        10_000_000,
        1,
        10,
        KernelChoice::Resident,
        Reduction::Tree,
        4,
        65_535
    )
    .is_err());
}

#[test]
fn random_problems_match_the_f64_cpu_path() {
    let seed = fresh_seed("gpu vs cpu");
    let f64_ok = has_f64("random_problems_match_the_f64_cpu_path");
    // (n, p, epochs): n = 1, n not a multiple of 256, several hundred thousand rows.
    let shapes = [
        (1, 1, 50),
        (257, 3, 200),
        (1_000, 16, 100),
        (5_003, 64, 20),
        (99_999, 3, 20),
        (300_001, 1, 10),
        (120_000, 64, 3),
    ];
    for (i, &(n, p, epochs)) in shapes.iter().enumerate() {
        let (ds, _) = synthetic(&Synthetic {
            n,
            p,
            true_weights: None,
            sigma: 0.1,
            seed: seed.wrapping_add(i as u64),
        })
        .unwrap();
        let cfg = GdConfig {
            mu: 0.5 / (1.0 + p as f64 * (p as f64 + 1.0) / 4.0),
            epochs,
            ..GdConfig::default()
        };
        let cpu = Fused.fit(&ds, &cfg).unwrap();
        for opts in variants() {
            if opts.kernel == KernelChoice::Resident && (n as u64) * (p as u64 + 1) > 200_000 {
                continue; // one workgroup over that much data is slow on lavapipe; Multi covers it
            }
            let solver = gpu().with_options(opts);
            for (precision, tol) in [(Precision::F32, 1e-4), (Precision::F64, 1e-10)] {
                if precision == Precision::F64 && !f64_ok {
                    continue;
                }
                let g = solver
                    .fit(
                        &ds,
                        &GdConfig {
                            precision,
                            ..cfg.clone()
                        },
                    )
                    .unwrap_or_else(|e| panic!("n={n} p={p} {opts:?} {precision}: {e}"));
                let d = max_rel_diff(&g.weights, &cpu.weights);
                assert!(d < tol, "n={n} p={p} {opts:?} {precision}: rel diff {d}");
            }
        }
    }
}

#[test]
fn repeated_solves_are_bit_identical() {
    let (ds, _) = synthetic(&Synthetic {
        n: 10_007,
        p: 5,
        true_weights: None,
        sigma: 0.1,
        seed: fresh_seed("repeat"),
    })
    .unwrap();
    let cfg = GdConfig {
        mu: 0.05,
        epochs: 50,
        precision: Precision::F32,
        record_loss: true,
        ..GdConfig::default()
    };
    for opts in variants() {
        let problem = gpu().with_options(opts).prepare(&ds, &cfg).unwrap();
        let a = problem.solve().unwrap();
        let b = problem.solve().unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.weights), bits(&b.weights), "{opts:?}");
        assert_eq!(
            bits(a.loss.as_ref().unwrap()),
            bits(b.loss.as_ref().unwrap()),
            "{opts:?}"
        );
    }
}

#[test]
fn loss_history_tolerance_and_divergence_match_the_cpu() {
    let (ds, _) = synthetic(&Synthetic {
        n: 2_000,
        p: 3,
        true_weights: None,
        sigma: 0.2,
        seed: fresh_seed("gpu loss"),
    })
    .unwrap();
    let cfg = GdConfig {
        mu: 0.05,
        epochs: 3_000,
        precision: Precision::F64,
        record_loss: true,
        tol: Some(1e-3),
        check_every: 8,
        ..GdConfig::default()
    };
    let cpu = Fused.fit(&ds, &cfg).unwrap();
    assert!(cpu.converged);
    let wild = GdConfig {
        mu: 10.0,
        tol: None,
        ..cfg.clone()
    };
    let Err(Error::Diverged { epoch: cpu_epoch }) = Fused.fit(&ds, &wild) else {
        panic!("cpu should diverge")
    };
    // f64 epoch for epoch. An adapter without f64 runs f32 instead (the f64 CPU's run within
    // f32 rounding: the stop may come one tolerance check apart), so GL runs these paths too.
    let (precision, tol, slack) = if has_f64("loss_history_tolerance_and_divergence_match_the_cpu")
    {
        (Precision::F64, 1e-10, 0)
    } else {
        (Precision::F32, 1e-4, cfg.check_every)
    };
    let cfg = GdConfig { precision, ..cfg };
    for opts in variants() {
        let what = format!("{opts:?} {precision}");
        let g = gpu().with_options(opts).fit(&ds, &cfg).unwrap();
        assert!(g.converged, "{what}");
        assert!(
            g.epochs_run.abs_diff(cpu.epochs_run) <= slack,
            "{what}: {} epochs, cpu {}",
            g.epochs_run,
            cpu.epochs_run
        );
        let (gl, cl) = (g.loss_history.unwrap(), cpu.loss_history.clone().unwrap());
        assert_eq!(gl.len(), g.epochs_run, "{what}");
        let common = gl.len().min(cl.len());
        assert!(max_rel_diff(&gl[..common], &cl[..common]) < tol, "{what}");
        assert!(max_rel_diff(&g.weights, &cpu.weights) < tol, "{what}");
    }
    let wild = GdConfig { precision, ..wild };
    for opts in variants() {
        match gpu().with_options(opts).fit(&ds, &wild) {
            Err(Error::Diverged { epoch }) => {
                assert_eq!(epoch, cpu_epoch, "{opts:?} {precision}")
            }
            other => panic!("{opts:?} {precision}: expected divergence, got {other:?}"),
        }
    }
}

/// The f64 refusal on an adapter without SHADER_F64 comes from the limits check, before
/// any shader is built. Checked everywhere: a second device is opened on the same adapter
/// with SHADER_F64 left out, as if the adapter lacked it.
#[test]
fn f64_is_refused_up_front_without_shader_f64() {
    let ctx = Arc::new(
        GpuContext::new_without(&AdapterChoice::Auto, wgpu::Features::SHADER_F64).unwrap(),
    );
    assert!(!ctx.has(wgpu::Features::SHADER_F64));
    let ds = article(1_000, 444, 0.1).unwrap();
    let cfg = GdConfig {
        epochs: 10,
        ..GdConfig::default()
    };
    assert_eq!(cfg.precision, Precision::F64);
    match GpuProblem::new(ctx.clone(), &ds, &cfg, GpuOptions::default()) {
        Err(Error::Unsupported(msg)) => {
            assert!(msg.contains("SHADER_F64"), "{msg}");
            assert!(msg.contains("--precision f32"), "{msg}");
            assert!(msg.contains(&ctx.info.name), "{msg}");
        }
        Err(other) => panic!("expected Unsupported, got {other:?}"),
        Ok(_) => panic!("an f64 problem was accepted without SHADER_F64"),
    }
    assert_eq!(
        ctx.kernels_built(),
        0,
        "a shader was built before the refusal"
    );
    // The same device runs the problem in f32 (so the refusal was about f64 alone).
    let f32_cfg = GdConfig {
        precision: Precision::F32,
        ..cfg
    };
    let problem = GpuProblem::new(ctx.clone(), &ds, &f32_cfg, GpuOptions::default()).unwrap();
    assert_eq!(problem.solve().unwrap().status.epoch, 10);
    assert_eq!(ctx.kernels_built(), 1);
    // And the shared adapter, if it really lacks f64, refuses through the Solver too.
    if !gpu().context().has(wgpu::Features::SHADER_F64) {
        assert!(matches!(
            gpu().preflight(&ds, &cfg),
            Err(Error::Unsupported(_))
        ));
        assert!(matches!(gpu().fit(&ds, &cfg), Err(Error::Unsupported(_))));
    }
}

/// Which adapter the GPU tests run on, and, when WGPU_BACKEND names backends (CI's GL run),
/// that the adapter is one of them: a run meant for GL must not quietly test Vulkan.
#[test]
fn adapter_is_on_the_backend_wgpu_backend_names() {
    let info = gpu().context().device.adapter_info();
    eprintln!(
        "GPU tests run on {} ({:?}, {:?}; f64: {}, subgroups: {})",
        info.name,
        info.backend,
        info.device_type,
        gpu().context().has(wgpu::Features::SHADER_F64),
        gpu().context().has(wgpu::Features::SUBGROUP)
    );
    if let Some(wanted) = wgpu::Backends::from_env() {
        assert!(
            wanted.contains(wgpu::Backends::from(info.backend)),
            "WGPU_BACKEND={:?} but the adapter is {} on {:?}",
            std::env::var("WGPU_BACKEND").unwrap_or_default(),
            adapter_name(),
            info.backend
        );
    }
}

#[test]
fn gpu_is_a_solver_like_the_others() {
    let s: &dyn Solver = gpu();
    assert_eq!(s.name(), "gpu");
    assert!(!s.device().is_empty());
    let ds = article(100, 444, 0.1).unwrap();
    let bad = GdConfig {
        epochs: 0,
        ..GdConfig::default()
    };
    assert!(matches!(s.fit(&ds, &bad), Err(Error::Config(_))));
}

#[test]
fn oversized_data_is_refused_before_allocation() {
    let limit = gpu().context().limits.max_storage_buffer_binding_size;
    // A problem whose X needs one more row than the binding holds: refused by the limits
    // check before anything is allocated on the device. In f64 (twice the bytes per row,
    // half the rows to generate) where the adapter has it.
    let precision = if has_f64("oversized_data_is_refused_before_allocation") {
        Precision::F64
    } else {
        Precision::F32
    };
    let rows_that_fit = limit / if precision == Precision::F64 { 8 } else { 4 };
    if rows_that_fit > 40_000_000 {
        // A real GPU: allocating the host copy would be too slow for a test.
        eprintln!("SKIPPED: binding limit {limit} bytes is too large to exceed in a test");
        return;
    }
    let ds = descent::data::article(rows_that_fit as usize + 1, 444, 0.1).unwrap();
    match gpu().fit(
        &ds,
        &GdConfig {
            epochs: 1,
            precision,
            ..GdConfig::default()
        },
    ) {
        Err(Error::TooLarge {
            bytes, limit: l, ..
        }) => assert!(bytes > l),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn epochs_stream_in_chunks_and_stop_submitting_once_stopped() {
    let (ds, _) = synthetic(&Synthetic {
        n: 600,
        p: 2,
        true_weights: None,
        sigma: 0.1,
        seed: fresh_seed("gpu chunks"),
    })
    .unwrap();
    // A run spanning several chunks: the loss ring is read back chunk by chunk and must
    // give the CPU's history epoch for epoch. In f64; an adapter without f64 runs f32
    // instead, within its rounding.
    let (precision, tol) = if has_f64("epochs_stream_in_chunks_and_stop_submitting_once_stopped") {
        (Precision::F64, 1e-10)
    } else {
        (Precision::F32, 1e-4)
    };
    let cfg = GdConfig {
        mu: 0.05,
        epochs: 1_300,
        record_loss: true,
        ..GdConfig::default()
    };
    let cpu = Fused.fit(&ds, &cfg).unwrap();
    let gpu_cfg = GdConfig {
        precision,
        ..cfg.clone()
    };
    for opts in variants() {
        let what = format!("{opts:?} {precision}");
        let problem = gpu().with_options(opts).prepare(&ds, &gpu_cfg).unwrap();
        let run = problem.solve().unwrap();
        assert_eq!(
            run.chunks_submitted as u64,
            problem.chunks_planned(),
            "{what}"
        );
        if opts.kernel == KernelChoice::Multi {
            assert!(
                run.chunks_submitted >= 3,
                "{what}: one chunk would test nothing"
            );
        }
        let loss = run.loss.unwrap();
        assert_eq!(loss.len(), 1_300);
        assert!(
            max_rel_diff(&loss, cpu.loss_history.as_ref().unwrap()) < tol,
            "{what}"
        );
        assert!(max_rel_diff(&run.weights, &cpu.weights) < tol, "{what}");
    }
    // 2³² − 1 epochs that converge early: a handful of chunks, not billions of dispatches.
    // f32 stops at a looser tolerance (above its rounding floor), possibly one check away
    // from the f64 CPU.
    let (stop_tol, slack) = match precision {
        Precision::F64 => (1e-6, 0),
        Precision::F32 => (1e-4, 4),
    };
    let huge = GdConfig {
        epochs: u32::MAX as usize,
        tol: Some(stop_tol),
        check_every: 4,
        ..cfg
    };
    let cpu = Fused.fit(&ds, &huge).unwrap();
    assert!(cpu.converged);
    let gpu_huge = GdConfig { precision, ..huge };
    for opts in variants() {
        let what = format!("{opts:?} {precision}");
        let problem = gpu().with_options(opts).prepare(&ds, &gpu_huge).unwrap();
        let run = problem.solve().unwrap();
        let epochs = run.status.epoch as usize;
        assert!(run.status.converged != 0, "{what}");
        assert!(
            epochs.abs_diff(cpu.epochs_run) <= slack,
            "{what}: {epochs} epochs, cpu {}",
            cpu.epochs_run
        );
        let stop_chunk = match problem.plan() {
            Plan::Multi { .. } => epochs.div_ceil(DISPATCHES_PER_CHUNK as usize / 2),
            Plan::Resident { .. } => 1,
            Plan::Batches { .. } => unreachable!("a full-batch run"),
        };
        assert!(
            run.chunks_submitted <= stop_chunk + 2,
            "{what}: {} chunks for {epochs} epochs",
            run.chunks_submitted,
        );
        assert_eq!(run.loss.unwrap().len(), epochs, "{what}");
    }
}
