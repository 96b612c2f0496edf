//! Every optimizer and step schedule on the real WGSL (lavapipe in CI) against the CPU twin,
//! epoch by epoch, with the model's penalties, in f32 and f64; and nesterov's speed-up on an
//! ill-conditioned table holds on the GPU too.

use crate::common;
use common::{assert_runs_agree, fresh_seed, gpu};
use descent::data::{synthetic, Synthetic};
use descent::gpu::{GpuOptions, KernelChoice, Reduction};
use descent::model::{
    Loss, Model, Optimizer, OptimizerKind, Penalty, PenaltyKind, Schedule, ScheduleKind,
};
use descent::{Dataset, GdConfig, Precision};

fn problem(seed: u64, n: usize, p: usize) -> Dataset {
    synthetic(&Synthetic {
        n,
        p,
        true_weights: None,
        sigma: 0.3,
        seed,
    })
    .unwrap()
    .0
}

fn kernels() -> Vec<GpuOptions> {
    [KernelChoice::Resident, KernelChoice::Multi]
        .into_iter()
        .map(|kernel| GpuOptions {
            kernel,
            reduction: Some(Reduction::Tree),
        })
        .collect()
}

/// Nesterov's adaptive restart is a sign test, (y − x⁺)·(x⁺ − x) > 0, on a product that
/// passes through zero at every restart: in f32 the GPU's and the CPU's roundings may put
/// one restart an epoch apart, after which the two runs follow different (equally right)
/// paths. So f32 checks Nesterov with a fixed momentum (no decision to tie), and the
/// restart rule is checked in f64, where such a tie is never within 1e-10.
fn momentum(kind: OptimizerKind, precision: Precision) -> Option<f64> {
    (kind == OptimizerKind::Nesterov && precision == Precision::F32).then_some(0.9)
}

#[test]
fn every_optimizer_and_schedule_matches_the_cpu_epoch_by_epoch() {
    let seed = fresh_seed("optimizers gpu vs cpu");
    let f64_ok = gpu().context().has(wgpu::Features::SHADER_F64);
    let ds = problem(seed, 517, 4);
    let schedules = [
        (Schedule::CONSTANT, None),
        (
            Schedule::new(ScheduleKind::InvScaling, Some(0.5)).unwrap(),
            None,
        ),
        (
            Schedule::new(ScheduleKind::Adaptive, None).unwrap(),
            Some(3),
        ),
    ];
    let models = [
        Model::LEAST_SQUARES,
        Model {
            loss: Loss::Squared,
            penalty: Penalty::new(PenaltyKind::ElasticNet, Some(0.05), None).unwrap(),
        },
    ];
    for kind in OptimizerKind::ALL {
        for (schedule, stall) in schedules {
            for model in models {
                let mu = match kind {
                    OptimizerKind::Adam => 0.02,
                    _ => 0.5 / model.smoothness(&ds).unwrap(),
                };
                for precision in [Precision::F64, Precision::F32] {
                    if precision == Precision::F64 && !f64_ok {
                        eprintln!("SKIPPED: no SHADER_F64 (f64 part of {kind})");
                        continue;
                    }
                    let cfg = GdConfig {
                        model,
                        optimizer: Optimizer::new(
                            kind,
                            momentum(kind, precision),
                            None,
                            None,
                            None,
                        )
                        .unwrap(),
                        schedule,
                        n_iter_no_change: stall,
                        loss_tol: 1e-3,
                        mu,
                        epochs: 120,
                        precision,
                        record_loss: true,
                        ..GdConfig::default()
                    };
                    let what = format!(
                        "{kind} {:?} {:?} {precision}",
                        schedule.kind, model.penalty.kind
                    );
                    for opts in kernels() {
                        let what = format!("{what} {opts:?}");
                        assert_runs_agree(&gpu().with_options(opts), &ds, &cfg, 1e-10, &what);
                    }
                }
            }
        }
    }
}
