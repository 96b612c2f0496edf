//! WGSL assembly and pipelines. One source set in shaders/ serves f32 and f64, any feature
//! count and both reduction flavours: a short generated prelude fixes the scalar type, P,
//! the blow-up bound; the reduction file and entry-point arguments pick the reduction.

use crate::model::{Loss, PenaltyKind};
use bytemuck::{Pod, Zeroable};

/// Invocations per workgroup. Keep in sync with `WG` in shaders/common.wgsl.
pub const WG: u32 = 256;

/// Loop passes one invocation may make per dispatch. Mesa's llvmpipe silently ends an
/// invocation after 65 535 passes (all loops together); half of that leaves room for the
/// estimate's slack. Every kernel's work per dispatch is planned under this bound.
pub const LOOP_PASS_BUDGET: u64 = 32_768;

/// Uniform parameters. Keep in sync with `struct Params` in shaders/common.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq)]
pub struct Params {
    pub n: u32,
    pub groups: u32,
    pub groups_x: u32,
    pub epochs: u32,
    pub epochs_per_dispatch: u32,
    pub check_every: u32,
    pub record_loss: u32,
    pub use_tol: u32,
    pub loss_ring: u32,
    pub _pad: [u32; 3],
}

/// Run state on the device. Keep in sync with `struct Status` in shaders/common.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq, Default)]
pub struct Status {
    pub epoch: u32,
    pub stopped: u32,
    pub diverged_at: u32,
    pub converged: u32,
}

/// How the workgroup sums are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// Shared-memory tree: works everywhere.
    Tree,
    /// subgroupAdd, then one slot per subgroup (needs `Features::SUBGROUP`).
    Subgroup,
}

/// What a shader build depends on. The model's constants (α, ρ, the step) are data in the
/// `coef` buffer, so changing them reuses the compiled pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShaderSpec {
    pub p: u32,
    pub f64: bool,
    pub reduction: Reduction,
    pub loss: Loss,
    pub penalty: PenaltyKind,
}

impl ShaderSpec {
    /// Every variant for the given feature counts: loss × penalty × f32/f64 × reduction.
    /// Tests validate and translate each one.
    pub fn variants(ps: &[u32]) -> Vec<ShaderSpec> {
        let mut out = Vec::new();
        for &p in ps {
            for loss in Loss::ALL {
                for penalty in PenaltyKind::ALL {
                    for f64 in [false, true] {
                        for reduction in [Reduction::Tree, Reduction::Subgroup] {
                            out.push(ShaderSpec {
                                p,
                                f64,
                                reduction,
                                loss,
                                penalty,
                            });
                        }
                    }
                }
            }
        }
        out
    }

    /// The article's model (squared loss, no penalty) for `p` features.
    pub fn least_squares(p: u32, f64: bool, reduction: Reduction) -> ShaderSpec {
        ShaderSpec {
            p,
            f64,
            reduction,
            loss: Loss::Squared,
            penalty: PenaltyKind::None,
        }
    }
}

/// Scalars in the `coef` buffer. Keep in sync with `coef` in shaders/common.wgsl.
pub const COEF_LEN: usize = 8;

/// The `coef` buffer's values, in f64 (converted to the working precision on upload):
/// [mu, c/n, tol², 1/n, α(1−ρ), mu·αρ, αρ, 0]. The CPU twin derives the same constants
/// (`descend`, `model::penalty::constants`).
pub fn coef_values(cfg: &crate::config::GdConfig, n: usize) -> [f64; COEF_LEN] {
    let penalty = &cfg.model.penalty;
    [
        cfg.mu,
        cfg.model.loss.grad_scale() / n as f64,
        cfg.tol.map_or(0.0, |t| t * t),
        1.0 / n as f64,
        penalty.l2_strength(),
        cfg.mu * penalty.l1_strength(),
        penalty.l1_strength(),
        0.0,
    ]
}

const COMMON: &str = include_str!("../../shaders/common.wgsl");
const ERROR: &str = include_str!("../../shaders/error.wgsl");
const REDUCE_TREE: &str = include_str!("../../shaders/reduce_tree.wgsl");
const REDUCE_SUBGROUP: &str = include_str!("../../shaders/reduce_subgroup.wgsl");
const UPDATE: &str = include_str!("../../shaders/update.wgsl");
const MATH_F32: &str = include_str!("../../shaders/math_f32.wgsl");
const MATH_F64: &str = include_str!("../../shaders/math_f64.wgsl");
const LOSS_SQUARED: &str = include_str!("../../shaders/loss_squared.wgsl");
const LOSS_LOGISTIC: &str = include_str!("../../shaders/loss_logistic.wgsl");
const PENALTY_NONE: &str = include_str!("../../shaders/penalty_none.wgsl");
const PENALTY_L2: &str = include_str!("../../shaders/penalty_l2.wgsl");
const PENALTY_L1: &str = include_str!("../../shaders/penalty_l1.wgsl");
const PENALTY_ELASTICNET: &str = include_str!("../../shaders/penalty_elasticnet.wgsl");

/// The WGSL files that define the model: its loss (with the math it needs) and penalty.
fn model_sources(spec: ShaderSpec) -> Vec<&'static str> {
    let mut parts = Vec::new();
    match spec.loss {
        Loss::Squared => parts.push(LOSS_SQUARED),
        Loss::Logistic => {
            parts.push(if spec.f64 { MATH_F64 } else { MATH_F32 });
            parts.push(LOSS_LOGISTIC);
        }
    }
    parts.push(match spec.penalty {
        PenaltyKind::None => PENALTY_NONE,
        PenaltyKind::L2 => PENALTY_L2,
        PenaltyKind::L1 => PENALTY_L1,
        PenaltyKind::ElasticNet => PENALTY_ELASTICNET,
    });
    parts
}
const KERNELS: &str = include_str!("../../shaders/kernels.wgsl");

/// The full WGSL module for `spec`.
pub fn shader_source(spec: ShaderSpec) -> String {
    let mut src = String::new();
    let (scalar, limit) = if spec.f64 {
        ("f64", "1e150")
    } else {
        ("f32", "1e30")
    };
    // No `enable subgroups;`: naga 30 rejects the directive as unimplemented and accepts the
    // subgroup builtins whenever the device has Features::SUBGROUP.
    src.push_str(&format!(
        "alias scalar = {scalar};\nconst P: u32 = {}u;\nconst LIMIT: scalar = scalar({limit});\n\
         const GROWTH2: scalar = scalar({:?});\n",
        spec.p,
        crate::config::GRADIENT_GROWTH_LIMIT
    ));
    let (reduce, args, init) = match spec.reduction {
        Reduction::Tree => (REDUCE_TREE, "", "let lane = Lane(lid, 0u, 0u, 0u);"),
        Reduction::Subgroup => (
            REDUCE_SUBGROUP,
            ", @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_id) sg_id: u32, \
             @builtin(num_subgroups) n_sg: u32",
            "let lane = Lane(lid, sg_lane, sg_id, n_sg);",
        ),
    };
    let mut parts = vec![COMMON];
    parts.extend(model_sources(spec));
    parts.extend([ERROR, reduce, UPDATE]);
    for part in parts {
        src.push_str(part);
        src.push('\n');
    }
    src.push_str(
        &KERNELS
            .replace("{{LANE_ARGS}}", args)
            .replace("{{LANE_INIT}}", init),
    );
    src
}

/// Loop passes of one workgroup reduction of one value.
fn reduce_passes(reduction: Reduction, min_subgroup: u32) -> u64 {
    match reduction {
        Reduction::Tree => WG.ilog2() as u64 + 1,
        Reduction::Subgroup => (WG / min_subgroup.max(1)) as u64 + 1,
    }
}

/// Loop passes per row handled by one invocation (two loops over P, plus the row loop).
fn row_passes(p: u64) -> u64 {
    2 * p + 1
}

/// Passes of one resident epoch for invocation 0 (the busiest): rows, reductions, update.
pub fn resident_epoch_passes(n: u64, p: u64, reduction: Reduction, min_subgroup: u32) -> u64 {
    let k = p + 2;
    let rows = n.div_ceil(WG as u64);
    rows * row_passes(p) + k * (1 + reduce_passes(reduction, min_subgroup)) + 3 * (p + 1) + 2
}

/// Passes of one partials-pass invocation over `rows` rows.
pub fn partials_passes(rows: u64, p: u64, reduction: Reduction, min_subgroup: u32) -> u64 {
    rows * row_passes(p) + (p + 2) * (1 + reduce_passes(reduction, min_subgroup)) + (p + 1) + 2
}

/// Passes of the update pass over `groups` partials.
pub fn update_passes(groups: u64, p: u64, reduction: Reduction, min_subgroup: u32) -> u64 {
    let k = p + 2;
    k * (1 + groups.div_ceil(WG as u64) + reduce_passes(reduction, min_subgroup)) + 3 * (p + 1) + 2
}

/// The compiled pipelines of one shader build.
pub struct Kernels {
    pub layout: wgpu::BindGroupLayout,
    pub resident: wgpu::ComputePipeline,
    pub partials: wgpu::ComputePipeline,
    pub update: wgpu::ComputePipeline,
}

fn storage(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl Kernels {
    /// Compile the module and its three pipelines (errors surface through error scopes).
    pub fn new(device: &wgpu::Device, spec: ShaderSpec) -> Kernels {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("descent gd"),
            source: wgpu::ShaderSource::Wgsl(shader_source(spec).into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("descent bindings"),
            entries: &[
                storage(0, true),
                storage(1, true),
                storage(2, true),
                storage(3, false),
                storage(4, false),
                storage(5, false),
                storage(6, false),
                wgpu::BindGroupLayoutEntry {
                    binding: 7,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("descent layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let make = |entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                cache: None,
            })
        };
        Kernels {
            resident: make("resident"),
            partials: make("partials_pass"),
            update: make("update_pass"),
            layout,
        }
    }
}
