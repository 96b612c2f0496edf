//! The real WGSL on the real adapter (lavapipe in CI, and llvmpipe through wgpu's GL backend
//! in a second run) against the f64 CPU path. On an adapter without SHADER_F64 the f64
//! parts are skipped, each with a SKIPPED line on stderr. On GL, run one test thread
//! (`-- --test-threads=1`, as .ci/run does): wgpu's GL device panics when a thread waits
//! over 6 s for its context lock.

use crate::common;
use common::{adapter_name, fresh_seed, gpu, has_f64, pair, reference, variants, Tol};
use descent::cpu::Fused;
use descent::data::{article, synthetic, Synthetic};
use descent::gpu::kernels::WG;
use descent::gpu::{
    plan, AdapterChoice, Fault, GpuContext, GpuOptions, GpuProblem, KernelChoice, Plan, Reduction,
    DISPATCHES_PER_CHUNK,
};
use descent::model::{Loss, Model, Penalty};
use descent::{Dataset, Error, GdConfig, Precision, Solver};
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
    // `random_problems_match_the_f64_cpu_path` and tests/integration/models_gpu_vs_cpu.rs.
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

/// The loop passes llvmpipe allows an invocation (it ends it silently after 65 535) and the
/// budget the planner promises (half of that), written here rather than taken from the
/// planner this test checks.
const LLVMPIPE_LOOP_PASSES: u64 = 65_535;
const PLANNED_PASSES: u64 = LLVMPIPE_LOOP_PASSES.div_ceil(2);

/// Loop passes of invocation 0, counted from the WGSL's loops (not from the planner's
/// estimates in src/gpu/kernels.rs): a row is the row loop's pass plus two loops over P
/// (error.wgsl); each of the K = p + 2 sums is a pass of the `k` loop plus the reduction's
/// own loop (reduce_tree: log2(WG) halvings; reduce_subgroup: a pass per subgroup, at most
/// WG / min_subgroup); an update is at most four loops over the p + 1 weights (the
/// gradient, the optimizer's step — two for nesterov —, the blow-up check); loading and
/// storing the weights and state is three more.
mod passes {
    use super::WG;
    use descent::gpu::Reduction;

    fn reduction(r: Reduction, min_subgroup: u64) -> u64 {
        match r {
            Reduction::Tree => (WG as u64).ilog2() as u64,
            Reduction::Subgroup => WG as u64 / min_subgroup,
        }
    }

    fn rows(rows: u64, p: u64) -> u64 {
        rows * (1 + 2 * p)
    }

    fn sums(p: u64, r: Reduction, sg: u64) -> u64 {
        (p + 2) * (1 + reduction(r, sg))
    }

    /// A resident dispatch of `epochs` epochs over n rows.
    pub fn resident(n: u64, p: u64, epochs: u64, r: Reduction, sg: u64) -> u64 {
        let epoch = 1 + rows(n.div_ceil(WG as u64), p) + sums(p, r, sg) + 4 * (p + 1);
        epochs * epoch + 3 * (p + 1)
    }

    /// The partials pass with `groups` workgroups over n rows.
    pub fn partials(n: u64, p: u64, groups: u64, r: Reduction, sg: u64) -> u64 {
        rows(n.div_ceil(groups * WG as u64), p) + (p + 1) + sums(p, r, sg)
    }

    /// The update pass over `groups` partials.
    pub fn update(p: u64, groups: u64, r: Reduction, sg: u64) -> u64 {
        (p + 2) * groups.div_ceil(WG as u64) + sums(p, r, sg) + 4 * (p + 1) + 3 * (p + 1)
    }
}

/// The planner's choices, checked against expectations of their own: every dispatch it
/// plans stays within the budget when its loop passes are counted from the WGSL
/// ([`passes`]); small tables go to the resident kernel, large ones to the multi plan; the
/// resident kernel packs more than one epoch into a dispatch where the budget allows and
/// never more than the run asks for; the multi plan's grid covers its groups; and a
/// table too big for one workgroup's epoch is refused, not truncated.
#[test]
fn planned_dispatches_stay_within_the_loop_pass_budget() {
    let shapes = [
        // (n, p, epochs): small, one row, wide, long runs, huge n (the plan needs no data).
        (1, 1, 10_000),
        (255, 3, 1_000_000),
        (1_000, 16, 100),
        (300, 64, 3),
        (10_000, 1, 10_000),
        (100_000, 3, 100),
        (2_000_000, 64, 10),
        (1_000_000_000, 16, 5),
    ];
    for (n, p, epochs) in shapes {
        for (red, sg) in [
            (Reduction::Tree, 4),
            (Reduction::Subgroup, 4),
            (Reduction::Subgroup, 32),
        ] {
            let what = format!("n={n} p={p} epochs={epochs} {red:?}/{sg}");
            let auto = plan(n, p, epochs, KernelChoice::Auto, red, sg as u32, 65_535);
            // Small tables are latency-bound (one workgroup, many epochs a dispatch), large
            // ones need many workgroups; in between either may do.
            match auto {
                Ok(Plan::Resident { .. }) => assert!(n < 100_000, "{what}: resident"),
                Ok(Plan::Multi { .. }) => assert!(n > 1_000, "{what}: multi"),
                other => panic!("{what}: {other:?}"),
            }
            for choice in [KernelChoice::Resident, KernelChoice::Multi] {
                match plan(n, p, epochs, choice, red, sg as u32, 65_535) {
                    Ok(Plan::Resident {
                        epochs_per_dispatch: epd,
                    }) => {
                        let epd = epd as u64;
                        let used = passes::resident(n, p, epd, red, sg);
                        assert!(
                            used <= PLANNED_PASSES,
                            "{what}: {epd} epochs, {used} passes"
                        );
                        assert!((1..=epochs).contains(&epd), "{what}: {epd} epochs");
                        // Room for two epochs in the budget: the planner takes more than one.
                        if passes::resident(n, p, 2, red, sg) * 2 <= PLANNED_PASSES && epochs > 1 {
                            assert!(epd > 1, "{what}: one epoch a dispatch");
                        }
                    }
                    Ok(Plan::Multi {
                        groups,
                        groups_x,
                        groups_y,
                    }) => {
                        let g = groups as u64;
                        let used = passes::partials(n, p, g, red, sg);
                        assert!(used <= PLANNED_PASSES, "{what}: partials {used} passes");
                        let used = passes::update(p, g, red, sg);
                        assert!(used <= PLANNED_PASSES, "{what}: update {used} passes");
                        assert!(groups_x as u64 * groups_y as u64 >= g, "{what}: grid");
                        assert!(g <= n.div_ceil(WG as u64), "{what}: {g} groups");
                    }
                    // One workgroup cannot run an epoch of this many rows within the budget.
                    Err(_) if choice == KernelChoice::Resident => {
                        let one = passes::resident(n, p, 1, red, sg);
                        assert!(one > PLANNED_PASSES / 2, "{what}: refused at {one} passes");
                    }
                    other => panic!("{what} {choice:?}: {other:?}"),
                }
            }
        }
    }
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
            for precision in [Precision::F32, Precision::F64] {
                if precision == Precision::F64 && !f64_ok {
                    continue;
                }
                let cfg = GdConfig {
                    precision,
                    ..cfg.clone()
                };
                let g = solver
                    .fit(&ds, &cfg)
                    .unwrap_or_else(|e| panic!("n={n} p={p} {opts:?} {precision}: {e}"));
                Tol::of(&ds, &cfg, 1e-10, epochs)
                    .weights(&g.weights, &cpu.weights)
                    .unwrap_or_else(|e| panic!("n={n} p={p} {opts:?} {precision}: {e}"));
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
    let (precision, slack) = if has_f64("loss_history_tolerance_and_divergence_match_the_cpu") {
        (Precision::F64, 0)
    } else {
        (Precision::F32, cfg.check_every)
    };
    let cfg = GdConfig { precision, ..cfg };
    let tol = Tol::of(&ds, &cfg, 1e-10, cpu.epochs_run + slack);
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
        tol.loss(&gl[..common], &cl[..common])
            .and_then(|()| tol.weights(&g.weights, &cpu.weights))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
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
        Err(e @ Error::Unsupported(_)) => {
            // The setting to change is named; each front end spells it (the CLI's flag is
            // checked from the command line): the library's rendering says `precision = f32`.
            let msg = e.to_string();
            assert!(msg.contains("SHADER_F64"), "{msg}");
            assert!(msg.contains("precision = f32"), "{msg}");
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
        ..cfg.clone()
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
    let precision = if has_f64("epochs_stream_in_chunks_and_stop_submitting_once_stopped") {
        Precision::F64
    } else {
        Precision::F32
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
    let tol = Tol::of(&ds, &gpu_cfg, 1e-10, cfg.epochs);
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
        tol.loss(&loss, cpu.loss_history.as_ref().unwrap())
            .and_then(|()| tol.weights(&run.weights, &cpu.weights))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
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

/// Every output the host reads back starts as a value no kernel leaves behind — the
/// weights and the loss ring NaN, the status's epoch counter its sentinel — so a kernel that
/// skipped its writes is an error, never a fit (zeroed weights would have passed for one):
/// the host refuses a chunk that still shows the sentinel or NaN weights without a
/// divergence; or, where a later dispatch computed on the unwritten NaN weights (the multi
/// plan's next epoch, the batches kernel's next dispatch), the device's own divergence test
/// stops the run with NaN weights, which the solver reports as `Diverged`. On every kernel, full-batch and mini-batch; and
/// the next healthy solve starts from w = 0 again, bit for bit.
#[test]
fn outputs_no_kernel_wrote_are_refused() {
    let (ds, _) = synthetic(&Synthetic {
        n: 600,
        p: 2,
        true_weights: None,
        sigma: 0.1,
        seed: fresh_seed("poisoned outputs"),
    })
    .unwrap();
    let cfg = GdConfig {
        mu: 0.05,
        epochs: 40,
        precision: Precision::F32,
        record_loss: true,
        ..GdConfig::default()
    };
    let minibatch = GdConfig {
        batch_size: Some(64),
        ..cfg.clone()
    };
    let mut runs: Vec<_> = variants().into_iter().map(|o| (o, &cfg)).collect();
    runs.push((GpuOptions::default(), &minibatch));
    for (opts, cfg) in runs {
        let what = format!("{opts:?} batch {:?}", cfg.batch_size);
        let mut problem = gpu().with_options(opts).prepare(&ds, cfg).unwrap();
        let good = problem.solve().unwrap();
        assert!(
            good.weights.iter().all(|w| w.is_finite() && *w != 0.0),
            "{what}"
        );
        for (fault, read) in [
            (Fault::NoDispatch, "still holds the sentinel 4294967295"),
            (Fault::SkipWeightsStore, "read back as NaN"),
        ] {
            problem.inject_fault(fault);
            match problem.solve() {
                Err(Error::Gpu(msg)) => assert!(msg.contains(read), "{what} {fault:?}: {msg}"),
                Ok(run) if fault == Fault::SkipWeightsStore && run.status.epoch > 0 => {
                    assert!(run.status.diverged_at > 0, "{what}: {run:?}");
                    assert!(run.weights.iter().all(|w| w.is_nan()), "{what}: {run:?}");
                }
                other => panic!("{what} {fault:?}: expected a refusal, got {other:?}"),
            }
        }
        problem.inject_fault(Fault::None);
        let again = problem.solve().unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&again.weights), bits(&good.weights), "{what}");
        assert_eq!(
            bits(again.loss.as_ref().unwrap()),
            bits(good.loss.as_ref().unwrap()),
            "{what}"
        );
    }
}

/// The f32 tolerance ([`Tol::f32`]) is tight enough to see a lost workgroup: the CPU twin fit
/// on the table without one workgroup's rows (the first WG = 256, what a dispatch that lost
/// a workgroup would sum) is refused as a match for the GPU's run by its weights, while the
/// CPU twin on the whole table is accepted, weights and loss. f32 on every kernel and reduction, so
/// GL's run (f32 only) checks it too.
#[test]
fn a_lost_workgroup_fails_the_f32_comparison() {
    let seed = fresh_seed("a lost workgroup");
    let wg = WG as usize;
    let (n, p, epochs) = (8 * wg + (seed % 200) as usize, 3, 100);
    for loss in Loss::ALL {
        let ds = common::problem(loss, n, p, seed);
        let lost = without_rows(&ds, 0..wg);
        let model = Model {
            loss,
            penalty: Penalty::NONE,
        };
        let cfg = GdConfig {
            model,
            mu: 1.0 / model.smoothness(&ds).unwrap(),
            epochs,
            precision: Precision::F32,
            record_loss: true,
            ..GdConfig::default()
        };
        let cpu = Fused.fit(&ds, &cfg).unwrap();
        let short = Fused.fit(&lost, &cfg).unwrap();
        let tol = Tol::f32(n, p, epochs);
        let (sl, cl) = (short.loss_history.unwrap(), cpu.loss_history.unwrap());
        for opts in variants() {
            let what = format!("{loss} {opts:?}");
            let g = gpu().with_options(opts).fit(&ds, &cfg).unwrap();
            let gl = g.loss_history.unwrap();
            tol.weights(&g.weights, &cpu.weights)
                .and_then(|()| tol.loss(&gl, &cl))
                .unwrap_or_else(|e| panic!("{what}: the true pair is refused: {e}"));
            eprintln!(
                "{what}: without rows 0..{wg}: weights {:e}, loss {:e}, tolerance {:e}",
                tol.weights_diff(&g.weights, &short.weights),
                tol.loss_diff(&gl, &sl),
                tol.value()
            );
            // The weights alone: the lost rows' mean loss may, by chance, be close to the
            // table's, and then the loss history moves little.
            assert!(
                tol.weights(&g.weights, &short.weights).is_err(),
                "{what}: weights without a workgroup pass"
            );
        }
    }
}

/// `ds` without the rows `gone`.
fn without_rows(ds: &Dataset, gone: std::ops::Range<usize>) -> Dataset {
    let keep: Vec<usize> = (0..ds.n()).filter(|i| !gone.contains(i)).collect();
    let x =
        ndarray::Array2::from_shape_fn((keep.len(), ds.p()), |(i, j)| ds.features.get(keep[i], j));
    let d = keep.iter().map(|&i| ds.targets[i]).collect();
    Dataset::with_names(x, d, ds.feature_names.clone()).unwrap()
}
