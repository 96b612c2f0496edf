//! Every shader variant parses and validates with naga, without any GPU: catches WGSL
//! mistakes on machines where the GPU tests cannot run.

use descent::gpu::kernels::{shader_source, ShaderSpec};
use descent::gpu::Reduction;

#[test]
fn every_variant_validates() {
    for p in [1, 2, 16, 64] {
        for f64 in [false, true] {
            for reduction in [Reduction::Tree, Reduction::Subgroup] {
                let spec = ShaderSpec { p, f64, reduction };
                let src = shader_source(spec);
                let module = naga::front::wgsl::parse_str(&src)
                    .unwrap_or_else(|e| panic!("{spec:?}: {}", e.emit_to_string(&src)));
                let mut caps = naga::valid::Capabilities::FLOAT64;
                if reduction == Reduction::Subgroup {
                    caps |= naga::valid::Capabilities::SUBGROUP;
                }
                naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
                    .subgroup_stages(naga::valid::ShaderStages::COMPUTE)
                    .subgroup_operations(naga::valid::SubgroupOperationSet::all())
                    .validate(&module)
                    .unwrap_or_else(|e| panic!("{spec:?}: {e:?}"));
            }
        }
    }
}

#[test]
fn f32_variant_has_no_f64() {
    let src = shader_source(ShaderSpec {
        p: 3,
        f64: false,
        reduction: Reduction::Tree,
    });
    assert!(src.contains("alias scalar = f32;"));
    let code = src.lines().filter(|l| !l.trim_start().starts_with("//"));
    assert!(
        !code.clone().any(|l| l.contains("f64")),
        "f64 outside comments"
    );
    assert!(!src.contains("{{"), "unfilled template");
}
