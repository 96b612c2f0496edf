// reduce_subgroup.wgsl — the reduction step with subgroup operations: subgroupAdd inside each
// subgroup, one shared slot per subgroup, then every invocation sums the slots (2 barriers
// instead of log2(WG)). Every invocation must call it; all receive the total.

fn wg_sum(v: scalar, lane: Lane) -> scalar {
    let s = subgroupAdd(v);
    if lane.sg_lane == 0u {
        red[lane.sg_id] = s;
    }
    workgroupBarrier();
    var total = scalar(0.0);
    for (var i = 0u; i < lane.n_sg; i++) {
        total += red[i];
    }
    workgroupBarrier();  // `red` is reused by the next call
    return total;
}
