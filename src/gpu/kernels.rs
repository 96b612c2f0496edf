//! WGSL assembly and pipelines. One source set in shaders/ serves f32 and f64, any feature
//! count and both reduction flavours: a short generated prelude fixes the scalar type, P,
//! the blow-up bound; the reduction file and entry-point arguments pick the reduction.

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

/// What a shader build depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShaderSpec {
    pub p: u32,
    pub f64: bool,
    pub reduction: Reduction,
}

const COMMON: &str = include_str!("../../shaders/common.wgsl");
const ERROR: &str = include_str!("../../shaders/error.wgsl");
const REDUCE_TREE: &str = include_str!("../../shaders/reduce_tree.wgsl");
const REDUCE_SUBGROUP: &str = include_str!("../../shaders/reduce_subgroup.wgsl");
const UPDATE: &str = include_str!("../../shaders/update.wgsl");
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
    for part in [COMMON, ERROR, reduce, UPDATE] {
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
