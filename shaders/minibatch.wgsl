// minibatch.wgsl — mini-batch SGD. One workgroup runs up to params.batches_per_dispatch
// batches per dispatch with the weights and optimizer state in registers (the resident
// shape: no dispatch per batch), carrying the epoch in progress across dispatches in
// status.batch and OptState's eloss/ereg. Each epoch visits the permutation of the rows the
// CPU visits (src/model/batches.rs), computed here from the seed and the epoch alone.
// {{LANE_ARGS}} / {{LANE_INIT}} are filled by src/gpu/kernels.rs as in kernels.wgsl.
//
// Loop passes (llvmpipe's budget, planned by `batch_dispatch_passes`): per batch ⌈B/WG⌉
// rows an invocation, the reductions and the step; per epoch the penalty sum and at most
// a·b − n extra walks of the permutation, however its positions fall on the invocations.

var<workgroup> wg_cursor: u32;

// Chris Wellons' lowbias32 (twin of `hash32`); u32 arithmetic wraps.
fn hash32(v: u32) -> u32 {
    var x = v;
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

// One epoch's round keys (twin of `round_key`, 4 rounds).
struct Perm {
    k0: u32,
    k1: u32,
    k2: u32,
    k3: u32,
}

fn perm_for(epoch: u32) -> Perm {
    let e = epoch * 4u;
    return Perm(
        hash32(params.seed_key + hash32(e)),
        hash32(params.seed_key + hash32(e + 1u)),
        hash32(params.seed_key + hash32(e + 2u)),
        hash32(params.seed_key + hash32(e + 3u)),
    );
}

// (l, r) ∈ Z_m' × Z_m → (r, (l + F(r)) mod m'): the radices swap every round.
fn feistel_round(l: ptr<function, u32>, r: ptr<function, u32>, k: u32, m: u32) {
    let t = (*l + hash32(*r ^ k) % m) % m;
    *l = *r;
    *r = t;
}

// The mixed-radix network on 0..a·b, unrolled (no loop passes).
fn feistel(x: u32, pm: Perm) -> u32 {
    let a = params.perm_a;
    let b = params.perm_b;
    var l = x / b;
    var r = x % b;
    feistel_round(&l, &r, pm.k0, a);
    feistel_round(&l, &r, pm.k1, b);
    feistel_round(&l, &r, pm.k2, a);
    feistel_round(&l, &r, pm.k3, b);
    return l * b + r;
}

// The row at position i of the epoch's order (twin of `Permutation::apply`).
fn perm_apply(i: u32, pm: Perm) -> u32 {
    var x = feistel(i, pm);
    loop {
        if x < params.n {
            break;
        }
        x = feistel(x, pm);
    }
    return x;
}

@compute @workgroup_size(WG)
fn batches(@builtin(local_invocation_index) lid: u32 {{LANE_ARGS}}) {
    {{LANE_INIT}}
    if load_status(lid) != 0u {
        return;
    }
    if lid == 0u {
        wg_cursor = status.batch;
    }
    var cursor = workgroupUniformLoad(&wg_cursor);
    var epoch = workgroupUniformLoad(&wg_epoch);
    let fresh = is_fresh();
    var w = load_weights(fresh);
    var st = load_state(fresh);
    var step = epoch_step(epoch, &st);
    var pm = perm_for(epoch);
    for (var k = 0u; k < params.batches_per_dispatch && epoch < params.epochs; k++) {
        if cursor == 0u {
            // The epoch's J charges the penalty at the weights the epoch starts from.
            var reg = scalar(0.0);
            for (var j = 1u; j < P1; j++) {
                reg += penalty_value(w[j]);
            }
            st.s.ereg = reg;
            st.s.eloss = scalar(0.0);
        }
        let first = cursor * params.batch;
        let end = min(first + params.batch, params.n);
        var acc: array<scalar, K>;
        for (var i = first + lid; i < end; i += WG) {
            accumulate_row(perm_apply(i, pm), w, &acc);
        }
        var sums: array<scalar, K>;
        for (var q = 0u; q < K; q++) {
            sums[q] = wg_sum(acc[q], lane);
        }
        st.s.eloss += sums[K - 1u];
        let blown = batch_step(&w, &st, sums, end - first, step);
        if lid == 0u {
            wg_flag = select(0u, 1u, blown);
            if blown {
                status.diverged_at = epoch + 1u;
                status.stopped = 1u;
            }
        }
        if workgroupUniformLoad(&wg_flag) != 0u {
            break;
        }
        cursor += 1u;
        if cursor == params.n_batches {
            let stop = finish_epoch(st.s.eloss * coef.inv_n + st.s.ereg, false, false, &st, epoch, lid);
            if lid == 0u {
                wg_flag = stop;
            }
            cursor = 0u;
            epoch += 1u;
            step = epoch_step(epoch, &st);
            pm = perm_for(epoch);
            if workgroupUniformLoad(&wg_flag) != 0u {
                break;
            }
        }
    }
    if lid == 0u {
        // g0 is full-batch gd's yardstick: mini-batches keep none.
        store_results(w, scalar(0.0), st);
        status.epoch = epoch;
        status.batch = cursor;
    }
}
