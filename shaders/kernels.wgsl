// kernels.wgsl — entry points. {{LANE_ARGS}} / {{LANE_INIT}} are filled by src/gpu/kernels.rs
// with the subgroup builtins when the adapter has them.
//
// resident : one workgroup runs up to params.epochs_per_dispatch whole epochs
//            (error → reduction → update) with the weights in registers. For small n.
// partials : error + reduction of one epoch over many workgroups → partials[group*K + k].
// update   : one workgroup reduces the partials and applies the update (large n).

@compute @workgroup_size(WG)
fn resident(@builtin(local_invocation_index) lid: u32 {{LANE_ARGS}}) {
    {{LANE_INIT}}
    if load_status(lid) != 0u {
        return;
    }
    let first = workgroupUniformLoad(&wg_epoch);
    let count = min(params.epochs_per_dispatch, params.epochs - min(first, params.epochs));
    let fresh = is_fresh();
    var w = load_weights(fresh);
    var g0 = load_g0(fresh);
    var st = load_state(fresh);
    var done = 0u;
    for (var e = 0u; e < count; e++) {
        var acc: array<scalar, K>;
        for (var i = lid; i < params.n; i += WG) {
            accumulate_row(i, w, &acc);
        }
        var sums: array<scalar, K>;
        for (var k = 0u; k < K; k++) {
            sums[k] = wg_sum(acc[k], lane);
        }
        if lid == 0u {
            wg_flag = apply_update(&w, &g0, &st, sums, first + e, lid);
        } else {
            apply_update(&w, &g0, &st, sums, first + e, lid);
        }
        done = e + 1u;
        if workgroupUniformLoad(&wg_flag) != 0u {
            break;
        }
    }
    if lid == 0u {
        store_results(w, g0, st);
        status.epoch = first + done;
    }
}

@compute @workgroup_size(WG)
fn partials_pass(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32 {{LANE_ARGS}}
) {
    {{LANE_INIT}}
    if load_status(lid) != 0u {
        return;
    }
    let group = wid.x + wid.y * params.groups_x;
    // Extra groups of the rounded-up 2-D grid still join the reduction, with zero sums.
    let w = load_weights(is_fresh());
    var acc: array<scalar, K>;
    let stride = params.groups * WG;
    for (var i = group * WG + lid; i < params.n && group < params.groups; i += stride) {
        accumulate_row(i, w, &acc);
    }
    for (var k = 0u; k < K; k++) {
        let total = wg_sum(acc[k], lane);
        if lid == 0u && group < params.groups {
            partials[group * K + k] = total;
        }
    }
}

@compute @workgroup_size(WG)
fn update_pass(@builtin(local_invocation_index) lid: u32 {{LANE_ARGS}}) {
    {{LANE_INIT}}
    if load_status(lid) != 0u {
        return;
    }
    let epoch = workgroupUniformLoad(&wg_epoch);
    var sums: array<scalar, K>;
    for (var k = 0u; k < K; k++) {
        var acc = scalar(0.0);
        for (var g = lid; g < params.groups; g += WG) {
            acc += partials[g * K + k];
        }
        sums[k] = wg_sum(acc, lane);
    }
    let fresh = is_fresh();
    var w = load_weights(fresh);
    var g0 = load_g0(fresh);
    var st = load_state(fresh);
    apply_update(&w, &g0, &st, sums, epoch, lid);
    if lid == 0u {
        store_results(w, g0, st);
        status.epoch = epoch + 1u;
    }
}
