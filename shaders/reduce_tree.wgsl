// reduce_tree.wgsl — the reduction step, fallback: a shared-memory tree sum over the
// workgroup (log2(WG) barriers). Every invocation must call it; all receive the total.

fn wg_sum(v: scalar, lane: Lane) -> scalar {
    red[lane.lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if lane.lid < s {
            red[lane.lid] += red[lane.lid + s];
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();  // `red` is reused by the next call
    return total;
}
