//! Every shader variant parses, validates and translates with naga, without any GPU: catches
//! WGSL mistakes, and constructs a backend's shader compiler would reject, on machines where
//! the GPU tests cannot run (or run on one backend only).

use descent::gpu::kernels::{shader_source, Access, ShaderSpec, BINDINGS};
use descent::gpu::Reduction;
use naga::valid::{Capabilities, ModuleInfo, ShaderStages, SubgroupOperationSet, ValidationFlags};

#[test]
fn every_variant_validates() {
    for spec in ShaderSpec::variants(&[1, 2, 16, 64]) {
        module_of(spec);
    }
}

#[test]
fn f32_variants_have_no_f64() {
    for spec in ShaderSpec::variants(&[3]).into_iter().filter(|s| !s.f64) {
        let src = shader_source(spec);
        assert!(src.contains("alias scalar = f32;"));
        let code = src.lines().filter(|l| !l.trim_start().starts_with("//"));
        assert!(
            !code.clone().any(|l| l.contains("f64")),
            "{spec:?}: f64 outside comments"
        );
        assert!(!src.contains("{{"), "{spec:?}: unfilled template");
    }
}

/// A WGSL struct's size and (member, offset) list, as naga's layouter places them.
type Layout = (usize, Vec<(String, usize)>);

fn wgsl_layouts(spec: ShaderSpec) -> impl Fn(&str) -> Layout {
    let src = shader_source(spec);
    let module = naga::front::wgsl::parse_str(&src).unwrap();
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).unwrap();
    move |name: &str| {
        let (handle, ty) = module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no struct {name} in the WGSL"));
        let naga::TypeInner::Struct { members, .. } = &ty.inner else {
            panic!("{name} is not a struct")
        };
        let members = members
            .iter()
            .map(|m| (m.name.clone().unwrap(), m.offset as usize))
            .collect();
        (layouter[handle].size as usize, members)
    }
}

/// (size, [(member, offset)]) written out for the Rust side.
fn rust_layout(size: usize, members: &[(&str, usize)]) -> Layout {
    let members = members.iter().map(|&(m, o)| (m.to_string(), o)).collect();
    (size, members)
}

/// `Params` and `Status` are declared twice, in WGSL and as `#[repr(C)] Pod` mirrors in
/// src/gpu/kernels.rs: naga's layouter gives the WGSL side's sizes and member offsets,
/// which must equal Rust's, member by member.
#[test]
fn wgsl_structs_match_their_rust_mirrors() {
    use descent::gpu::kernels::{Params, Status};
    use std::mem::{offset_of, size_of};
    let wgsl = wgsl_layouts(ShaderSpec::least_squares(2, true, Reduction::Tree));
    let params = rust_layout(
        size_of::<Params>(),
        &[
            ("n", offset_of!(Params, n)),
            ("groups", offset_of!(Params, groups)),
            ("groups_x", offset_of!(Params, groups_x)),
            ("epochs", offset_of!(Params, epochs)),
            (
                "epochs_per_dispatch",
                offset_of!(Params, epochs_per_dispatch),
            ),
            ("check_every", offset_of!(Params, check_every)),
            ("record_loss", offset_of!(Params, record_loss)),
            ("use_tol", offset_of!(Params, use_tol)),
            ("loss_ring", offset_of!(Params, loss_ring)),
            ("schedule", offset_of!(Params, schedule)),
            ("stall_limit", offset_of!(Params, stall_limit)),
            ("batch", offset_of!(Params, batch)),
            (
                "batches_per_dispatch",
                offset_of!(Params, batches_per_dispatch),
            ),
            ("n_batches", offset_of!(Params, n_batches)),
            ("perm_a", offset_of!(Params, perm_a)),
            ("perm_b", offset_of!(Params, perm_b)),
            ("seed_key", offset_of!(Params, seed_key)),
            ("fault", offset_of!(Params, fault)),
            ("penalty", offset_of!(Params, penalty)),
            ("optimizer", offset_of!(Params, optimizer)),
        ],
    );
    assert_eq!(wgsl("Params"), params, "Params");
    let status = rust_layout(
        size_of::<Status>(),
        &[
            ("epoch", offset_of!(Status, epoch)),
            ("stopped", offset_of!(Status, stopped)),
            ("diverged_at", offset_of!(Status, diverged_at)),
            ("converged", offset_of!(Status, converged)),
            ("stalled", offset_of!(Status, stalled)),
            ("batch", offset_of!(Status, batch)),
            ("_pad1", offset_of!(Status, _pad)),
            ("_pad2", offset_of!(Status, _pad) + 4),
        ],
    );
    assert_eq!(wgsl("Status"), status, "Status");
}

/// The scalar structs `Coef` and `OptScalars` mirror theirs in each precision (the WGSL's
/// `scalar` is f32 or f64, the Rust mirrors are generic over it).
#[test]
fn coef_and_optimizer_scalars_match_their_rust_mirrors() {
    fn check<T>(f64: bool) {
        use descent::gpu::kernels::{Coef, OptScalars};
        use std::mem::{offset_of, size_of};
        let wgsl = wgsl_layouts(ShaderSpec::least_squares(3, f64, Reduction::Tree));
        let coef = rust_layout(
            size_of::<Coef<T>>(),
            &[
                ("mu", offset_of!(Coef<T>, mu)),
                ("c_over_n", offset_of!(Coef<T>, c_over_n)),
                ("tol2", offset_of!(Coef<T>, tol2)),
                ("inv_n", offset_of!(Coef<T>, inv_n)),
                ("l2", offset_of!(Coef<T>, l2)),
                ("mu_l1", offset_of!(Coef<T>, mu_l1)),
                ("l1", offset_of!(Coef<T>, l1)),
                ("momentum", offset_of!(Coef<T>, momentum)),
                ("beta1", offset_of!(Coef<T>, beta1)),
                ("beta2", offset_of!(Coef<T>, beta2)),
                ("eps", offset_of!(Coef<T>, eps)),
                ("power_t", offset_of!(Coef<T>, power_t)),
                ("loss_tol", offset_of!(Coef<T>, loss_tol)),
                ("eta_floor", offset_of!(Coef<T>, eta_floor)),
                ("grad_scale", offset_of!(Coef<T>, grad_scale)),
                ("start", offset_of!(Coef<T>, start)),
            ],
        );
        assert_eq!(wgsl("Coef"), coef, "Coef (f64: {f64})");
        let scalars = rust_layout(
            size_of::<OptScalars<T>>(),
            &[
                ("t", offset_of!(OptScalars<T>, t)),
                ("b1t", offset_of!(OptScalars<T>, b1t)),
                ("b2t", offset_of!(OptScalars<T>, b2t)),
                ("eta", offset_of!(OptScalars<T>, eta)),
                ("best", offset_of!(OptScalars<T>, best)),
                ("stalls", offset_of!(OptScalars<T>, stalls)),
                ("eloss", offset_of!(OptScalars<T>, eloss)),
                ("ereg", offset_of!(OptScalars<T>, ereg)),
            ],
        );
        assert_eq!(wgsl("OptScalars"), scalars, "OptScalars (f64: {f64})");
    }
    check::<f32>(false);
    check::<f64>(true);
}

/// The `weights` binding's parts (`Weights` and its `OptState` in update.wgsl) lie where
/// `WeightsLayout` says, at every width and in both precisions: the host reads the weights
/// and nesterov's iterate back from those offsets and sizes the buffer by `len`.
#[test]
fn weights_layout_matches_the_wgsl() {
    use descent::gpu::kernels::WeightsLayout;
    for p in [1, 2, 16, 64] {
        for (f64, size) in [(false, 4), (true, 8)] {
            let wgsl = wgsl_layouts(ShaderSpec::least_squares(p as u32, f64, Reduction::Tree));
            let l = WeightsLayout::new(p);
            let what = format!("p = {p}, f64: {f64}");
            let weights = rust_layout(
                l.len * size,
                &[("w", l.w * size), ("g0", l.g0 * size), ("st", l.a * size)],
            );
            assert_eq!(wgsl("Weights"), weights, "Weights, {what}");
            let state = rust_layout(
                (l.len - l.a) * size,
                &[
                    ("a", 0),
                    ("b", (l.b - l.a) * size),
                    ("s", (l.scalars - l.a) * size),
                ],
            );
            assert_eq!(wgsl("OptState"), state, "OptState, {what}");
        }
    }
}

/// The capabilities a variant needs: FLOAT64 for f64, SUBGROUP for the subgroup reduction.
fn needs(spec: ShaderSpec) -> Capabilities {
    let mut caps = Capabilities::empty();
    if spec.f64 {
        caps |= Capabilities::FLOAT64;
    }
    if spec.reduction == Reduction::Subgroup {
        caps |= Capabilities::SUBGROUP;
    }
    caps
}

/// Parse and validate with exactly the capabilities the variant needs.
fn module_of(spec: ShaderSpec) -> (naga::Module, ModuleInfo) {
    let src = shader_source(spec);
    let module = naga::front::wgsl::parse_str(&src)
        .unwrap_or_else(|e| panic!("{spec:?}: {}", e.emit_to_string(&src)));
    let info = naga::valid::Validator::new(ValidationFlags::all(), needs(spec))
        .subgroup_stages(ShaderStages::COMPUTE)
        .subgroup_operations(SubgroupOperationSet::all())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{spec:?}: {e:?}"));
    (module, info)
}

/// The entry points of a build: full-batch builds have three, mini-batch builds one.
fn entry_points(spec: ShaderSpec) -> &'static [&'static str] {
    if spec.minibatch {
        &["batches"]
    } else {
        &["resident", "partials_pass", "update_pass"]
    }
}

/// Every variant through naga's four writers, as wgpu's backends use them: SPIR-V
/// (Vulkan), MSL (Metal), HLSL (DX12) and GLSL ES 3.10 (GL/GLES, the oldest with compute
/// shaders). A variant is skipped on a target only where the target cannot express it, and
/// each skip is checked too, so a skip cannot hide a variant that stopped translating:
///
/// - MSL, f64: Metal has no double. naga's MSL capability table lacks FLOAT64, so an f64
///   module fails validation for MSL (see `f64_is_refused_where_targets_lack_it`); forced
///   past validation, naga 30's MSL writer panics ("Unsupported scalar kind ... width: 8").
/// - GLSL ES, f64: GLSL ES has no double; naga's GLSL writer returns MissingFeatures
///   (DOUBLE_TYPE), checked below.
///
/// HLSL takes f64 (`double`): every variant translates. wgpu 30 offers SHADER_F64 on
/// Vulkan alone, though, so the f64 HLSL is checked here only, never compiled by a D3D12
/// driver.
///
/// Subgroup variants translate everywhere: naga's SPIR-V (1.3), MSL (simd_sum, MSL 2.1),
/// HLSL (Wave intrinsics, shader model 6.0) and GLSL writers (the GL_KHR_shader_subgroup
/// extensions, which GLSL ES 3.10 allows) all have SUBGROUP. wgpu's GL backend never offers
/// Features::SUBGROUP, so on GL only the tree variants ever run.
///
/// naga's writers check what naga can express, not what the drivers' compilers accept, so
/// the SPIR-V goes to spirv-val and the GLSL to glslangValidator where they are installed
/// (scripts/test installs them); `f64_variants_use_only_portable_math` covers the commonest
/// such mistake without them.
#[test]
fn every_variant_translates_to_every_backend_language() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Translations::default();
    let specs = ShaderSpec::variants(&[1, 2, 16, 64]);
    for spec in specs.iter().copied() {
        let (module, info) = module_of(spec);
        to_spirv(spec, &module, &info, dir.path(), &mut out);
        to_msl(spec, &module, &info, &mut out);
        to_hlsl(spec, &module, &info, &mut out);
        to_glsl_es(spec, &module, &info, dir.path(), &mut out);
    }
    // Every variant to SPIR-V and HLSL, the f32 ones to MSL and (each entry point) GLSL ES.
    let f32_specs = specs.iter().filter(|s| !s.f64).count();
    let f32_entries: usize = specs
        .iter()
        .filter(|s| !s.f64)
        .map(|&s| entry_points(s).len())
        .sum();
    assert_eq!(
        out.counts,
        [specs.len(), f32_specs, specs.len(), f32_entries]
    );
    khronos_validators_accept(&out);
}

/// What the translation stages have written: per target (SPIR-V, MSL, HLSL, GLSL ES) how
/// many translations, and the files the external validators read.
#[derive(Default)]
struct Translations {
    counts: [usize; 4],
    spirv_files: Vec<(ShaderSpec, std::path::PathBuf)>,
    glsl_files: Vec<(ShaderSpec, &'static str, std::path::PathBuf)>,
}

fn failed(spec: ShaderSpec, target: &str, e: &dyn std::fmt::Debug) -> String {
    format!("{spec:?} → {target}: {e:?}")
}

/// SPIR-V 1.3: the first version with subgroup operations (wgpu picks ≥ 1.3 on Vulkan ≥ 1.1).
fn to_spirv(
    spec: ShaderSpec,
    module: &naga::Module,
    info: &ModuleInfo,
    dir: &std::path::Path,
    out: &mut Translations,
) {
    use naga::back::spv;
    assert!(spv::supported_capabilities().contains(needs(spec)));
    let options = spv::Options {
        lang_version: (1, 3),
        ..Default::default()
    };
    let words = spv::write_vec(module, info, &options, None)
        .unwrap_or_else(|e| panic!("{}", failed(spec, "SPIR-V", &e)));
    assert_eq!(words.first(), Some(&0x0723_0203), "{spec:?}: SPIR-V magic");
    let file = dir.join(format!("{}.spv", out.counts[0]));
    std::fs::write(&file, bytemuck_words(&words)).unwrap();
    out.spirv_files.push((spec, file));
    out.counts[0] += 1;
}

fn to_msl(spec: ShaderSpec, module: &naga::Module, info: &ModuleInfo, out: &mut Translations) {
    use naga::back::msl;
    if !msl::supported_capabilities().contains(needs(spec)) {
        assert!(spec.f64, "{spec:?}: skipped on MSL");
        return;
    }
    assert!(!spec.f64, "{spec:?}: naga's MSL writer now takes f64");
    let options = msl::Options {
        lang_version: (2, 1),
        ..Default::default()
    };
    let (text, tr) = msl::write_string(module, info, &options, &msl::PipelineOptions::default())
        .unwrap_or_else(|e| panic!("{}", failed(spec, "MSL", &e)));
    for (name, ep) in entry_points(spec).iter().zip(&tr.entry_point_names) {
        let ep = ep
            .as_ref()
            .unwrap_or_else(|e| panic!("{}", failed(spec, name, e)));
        assert!(
            text.contains(&format!("kernel void {ep}(")),
            "{spec:?}: {name}"
        );
    }
    out.counts[1] += 1;
}

fn to_hlsl(spec: ShaderSpec, module: &naga::Module, info: &ModuleInfo, out: &mut Translations) {
    use naga::back::hlsl;
    assert!(hlsl::supported_capabilities().contains(needs(spec)));
    let options = hlsl::Options {
        shader_model: hlsl::ShaderModel::V6_0,
        ..Default::default()
    };
    let mut text = String::new();
    hlsl::Writer::new(&mut text, &options, &hlsl::PipelineOptions::default())
        .write(module, info, None)
        .unwrap_or_else(|e| panic!("{}", failed(spec, "HLSL", &e)));
    for &name in entry_points(spec) {
        assert!(
            text.contains(&format!("void {name}(")),
            "{spec:?}: HLSL {name}"
        );
    }
    if spec.f64 {
        assert!(text.contains("double"), "{spec:?}: HLSL without double");
    }
    out.counts[2] += 1;
}

/// GLSL takes one entry point per translation.
fn to_glsl_es(
    spec: ShaderSpec,
    module: &naga::Module,
    info: &ModuleInfo,
    dir: &std::path::Path,
    out: &mut Translations,
) {
    use naga::back::glsl;
    for &name in entry_points(spec) {
        let options = glsl::Options {
            version: glsl::Version::new_gles(310),
            ..Default::default()
        };
        let pipeline = glsl::PipelineOptions {
            shader_stage: naga::ShaderStage::Compute,
            entry_point: name.to_string(),
            multiview: None,
        };
        let mut text = String::new();
        let written = glsl::Writer::new(
            &mut text,
            module,
            info,
            &options,
            &pipeline,
            naga::proc::BoundsCheckPolicies::default(),
        )
        .and_then(|mut w| w.write());
        match written {
            Ok(_) => {
                assert!(!spec.f64, "{spec:?}: GLSL ES now takes f64");
                assert!(text.starts_with("#version 310 es"), "{spec:?}: {name}");
                // glslangValidator takes the stage from the extension.
                let file = dir.join(format!("{}.comp", out.counts[3]));
                std::fs::write(&file, text).unwrap();
                out.glsl_files.push((spec, name, file));
                out.counts[3] += 1;
            }
            Err(glsl::Error::MissingFeatures(_)) if spec.f64 => {} // no double in GLSL ES
            Err(e) => panic!("{}", failed(spec, &format!("GLSL ES 3.10 {name}"), &e)),
        }
    }
}

/// Khronos' own validators, where installed: naga writes e.g. GLSL.std.450 Exp on a double
/// without complaint, spirv-val rejects it.
fn khronos_validators_accept(out: &Translations) {
    if let Some(val) = shader_tool("spirv-val", "spirv-tools") {
        for (spec, file) in &out.spirv_files {
            let run = std::process::Command::new(&val)
                .args(["--target-env", "vulkan1.1"])
                .arg(file)
                .output()
                .unwrap();
            assert!(
                run.status.success(),
                "{spec:?}: spirv-val rejects naga's SPIR-V: {}{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            );
        }
    }
    if let Some(glslang) = shader_tool("glslangValidator", "glslang-tools") {
        // One run over every file; each is compiled on its own (no linking without -l).
        let run = std::process::Command::new(&glslang)
            .args(out.glsl_files.iter().map(|(_, _, f)| f))
            .output()
            .unwrap();
        if !run.status.success() {
            let text = String::from_utf8_lossy(&run.stdout);
            let failed: Vec<_> = out
                .glsl_files
                .iter()
                .filter(|(_, _, f)| {
                    let name = f.to_string_lossy();
                    text.lines()
                        .skip_while(|l| *l != name)
                        .nth(1)
                        .is_some_and(|l| l.starts_with("ERROR"))
                })
                .map(|(spec, name, _)| format!("{spec:?} {name}"))
                .collect();
            panic!("glslangValidator rejects naga's GLSL ES 3.10 for {failed:#?}:\n{text}");
        }
    }
}

/// SPIR-V words as the bytes of a .spv file (little-endian, as spirv-val reads them).
fn bytemuck_words(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// An external shader validator, if installed. Missing is a skip, said on stderr, unless
/// DESCENT_REQUIRE_SHADER_TOOLS is set (scripts/test sets it after installing them), where
/// it fails.
fn shader_tool(name: &str, package: &str) -> Option<std::path::PathBuf> {
    let found = std::process::Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(name.into());
    }
    assert!(
        std::env::var_os("DESCENT_REQUIRE_SHADER_TOOLS").is_none(),
        "{name} not found but DESCENT_REQUIRE_SHADER_TOOLS is set (apt-get install {package})"
    );
    eprintln!(
        "SKIPPED: {name} not found: naga's output is not checked by it (apt-get install {package})"
    );
    None
}

/// Math built-ins allowed on f64. GLSL.std.450 (SPIR-V) defines Exp, Log, Pow and the
/// trigonometric functions for 16- and 32-bit floats only, HLSL has no double overloads of
/// them (nor of sqrt, floor, ...) and Metal has no double at all; naga writes them anyway.
/// abs, min, max and clamp have double forms in both. Anything else on f64 must be built
/// from + − × ÷ (as shaders/math_f64.wgsl does), or be added here once SPIR-V and HLSL
/// both have it for doubles.
const F64_MATH: [naga::MathFunction; 4] = [
    naga::MathFunction::Abs,
    naga::MathFunction::Min,
    naga::MathFunction::Max,
    naga::MathFunction::Clamp,
];

/// No f64 variant calls a math built-in outside [`F64_MATH`] on an f64 value: naga
/// validates and translates such a call, but the drivers' compilers reject it.
#[test]
fn f64_variants_use_only_portable_math() {
    for spec in ShaderSpec::variants(&[1, 3]).into_iter().filter(|s| s.f64) {
        let (module, info) = module_of(spec);
        let functions = module.functions.iter().map(|(h, f)| (f, &info[h])).chain(
            module
                .entry_points
                .iter()
                .enumerate()
                .map(|(i, ep)| (&ep.function, info.get_entry_point(i))),
        );
        for (function, finfo) in functions {
            for (h, expr) in function.expressions.iter() {
                let naga::Expression::Math { fun, arg, .. } = *expr else {
                    continue;
                };
                let ty = finfo[arg].ty.inner_with(&module.types);
                if ty.scalar() == Some(naga::Scalar::F64) {
                    assert!(
                        F64_MATH.contains(&fun),
                        "{spec:?}: {fun:?} on f64 in {} ({h:?}): no double form on \
                         Vulkan (GLSL.std.450) or HLSL",
                        function.name.as_deref().unwrap_or("?")
                    );
                }
            }
        }
    }
}

/// The f64 skips above are the targets' own limits, not ours: naga's MSL capability table
/// has no FLOAT64 (validating an f64 variant for MSL fails), and its GLSL writer refuses
/// doubles for GLSL ES.
#[test]
fn f64_is_refused_where_targets_lack_it() {
    let spec = ShaderSpec::least_squares(2, true, Reduction::Tree);
    let src = shader_source(spec);
    let module = naga::front::wgsl::parse_str(&src).unwrap();
    let msl_caps = naga::back::msl::supported_capabilities();
    assert!(!msl_caps.contains(Capabilities::FLOAT64));
    assert!(
        naga::valid::Validator::new(ValidationFlags::all(), msl_caps)
            .validate(&module)
            .is_err(),
        "an f64 module validates under MSL's capabilities"
    );
    let (module, info) = module_of(spec);
    let options = naga::back::glsl::Options {
        version: naga::back::glsl::Version::new_gles(310),
        ..Default::default()
    };
    let pipeline = naga::back::glsl::PipelineOptions {
        shader_stage: naga::ShaderStage::Compute,
        entry_point: "resident".into(),
        multiview: None,
    };
    let mut text = String::new();
    let err = naga::back::glsl::Writer::new(
        &mut text,
        &module,
        &info,
        &options,
        &pipeline,
        naga::proc::BoundsCheckPolicies::default(),
    )
    .and_then(|mut w| w.write())
    .expect_err("GLSL ES has no double");
    assert!(
        matches!(err, naga::back::glsl::Error::MissingFeatures(_)),
        "{err:?}"
    );
}

/// The generated binding declarations are the table: naga's module has exactly one global
/// per BINDINGS entry, at group 0 and the entry's binding, with its name, address space
/// and access, and the store type the entry names.
#[test]
fn binding_declarations_match_the_table() {
    use naga::{AddressSpace, ArraySize, StorageAccess, TypeInner};
    for spec in [
        ShaderSpec::least_squares(3, false, Reduction::Tree),
        ShaderSpec::least_squares(3, true, Reduction::Subgroup),
    ] {
        let (module, _) = module_of(spec);
        let scalar_width = if spec.f64 { 8 } else { 4 };
        let bound: Vec<_> = module
            .global_variables
            .iter()
            .filter_map(|(_, g)| g.binding.as_ref().map(|b| (b, g)))
            .collect();
        assert_eq!(bound.len(), BINDINGS.len(), "{spec:?}: bound globals");
        for (i, b) in BINDINGS.iter().enumerate() {
            let (rb, g) = bound
                .iter()
                .find(|(_, g)| g.name.as_deref() == Some(b.name))
                .unwrap_or_else(|| panic!("{spec:?}: no global {}", b.name));
            assert_eq!((rb.group, rb.binding), (0, i as u32), "{}", b.name);
            assert_eq!(b.slot.index(), i as u32, "{}", b.name);
            let space = match b.access {
                Access::Read => AddressSpace::Storage {
                    access: StorageAccess::LOAD,
                },
                Access::ReadWrite => AddressSpace::Storage {
                    access: StorageAccess::LOAD | StorageAccess::STORE,
                },
                Access::Uniform => AddressSpace::Uniform,
            };
            assert_eq!(g.space, space, "{}", b.name);
            let ty = &module.types[g.ty];
            match b.ty {
                "Status" | "Params" | "Coef" | "Weights" => {
                    assert_eq!(ty.name.as_deref(), Some(b.ty), "{}", b.name)
                }
                array => {
                    let TypeInner::Array { base, size, .. } = ty.inner else {
                        panic!("{}: {:?} is not an array", b.name, ty.inner)
                    };
                    assert_eq!(
                        module.types[base].inner,
                        TypeInner::Scalar(naga::Scalar::float(scalar_width)),
                        "{}",
                        b.name
                    );
                    let want = match array {
                        "array<scalar>" => ArraySize::Dynamic,
                        other => panic!("{}: a type this test does not know: {other}", b.name),
                    };
                    assert_eq!(size, want, "{}", b.name);
                }
            }
        }
    }
}
