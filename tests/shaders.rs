//! Every shader variant parses and validates with naga, without any GPU: catches WGSL
//! mistakes on machines where the GPU tests cannot run.

use descent::gpu::kernels::{shader_source, ShaderSpec};
use descent::gpu::Reduction;

#[test]
fn every_variant_validates() {
    for spec in ShaderSpec::variants(&[1, 2, 16, 64]) {
        let src = shader_source(spec);
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{spec:?}: {}", e.emit_to_string(&src)));
        let mut caps = naga::valid::Capabilities::FLOAT64;
        if spec.reduction == Reduction::Subgroup {
            caps |= naga::valid::Capabilities::SUBGROUP;
        }
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
            .subgroup_stages(naga::valid::ShaderStages::COMPUTE)
            .subgroup_operations(naga::valid::SubgroupOperationSet::all())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{spec:?}: {e:?}"));
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

/// `Params` and `Status` are declared twice, in WGSL and as `#[repr(C)] Pod` mirrors in
/// src/gpu/kernels.rs: naga's layouter gives the WGSL side's sizes and member offsets,
/// which must equal Rust's, member by member.
#[test]
fn wgsl_structs_match_their_rust_mirrors() {
    use descent::gpu::kernels::{Params, Status};
    use std::mem::{offset_of, size_of};
    let src = shader_source(ShaderSpec::least_squares(2, true, Reduction::Tree));
    let module = naga::front::wgsl::parse_str(&src).unwrap();
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).unwrap();
    // (struct, size, [(member, offset)]) as Rust lays them out.
    type Members = Vec<(&'static str, usize)>;
    let rust: [(&str, usize, Members); 2] = [
        (
            "Params",
            size_of::<Params>(),
            vec![
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
                ("_pad0", offset_of!(Params, _pad)),
                ("_pad1", offset_of!(Params, _pad) + 4),
                ("_pad2", offset_of!(Params, _pad) + 8),
            ],
        ),
        (
            "Status",
            size_of::<Status>(),
            vec![
                ("epoch", offset_of!(Status, epoch)),
                ("stopped", offset_of!(Status, stopped)),
                ("diverged_at", offset_of!(Status, diverged_at)),
                ("converged", offset_of!(Status, converged)),
            ],
        ),
    ];
    for (name, size, fields) in rust {
        let (handle, ty) = module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no struct {name} in the WGSL"));
        let naga::TypeInner::Struct { members, .. } = &ty.inner else {
            panic!("{name} is not a struct")
        };
        assert_eq!(layouter[handle].size as usize, size, "{name}: size");
        let wgsl: Vec<(&str, usize)> = members
            .iter()
            .map(|m| (m.name.as_deref().unwrap(), m.offset as usize))
            .collect();
        assert_eq!(wgsl, fields, "{name}: members and offsets");
    }
}
