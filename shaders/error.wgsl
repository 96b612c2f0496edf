// error.wgsl — the error step: err_i = loss_err(d_i, w0 + x_i·w) for one row (d_i − ŷ_i for the
// squared loss), accumulated straight into an invocation's running sums (err is never
// stored, so X and d are read once).
//   acc[0] += err, acc[1 + j] += err·x_ij, acc[K − 1] += ℓ(d_i, ŷ_i)

fn accumulate_row(i: u32, w: array<scalar, P1>, acc: ptr<function, array<scalar, K>>) {
    let base = i * P;
    var y = w[0];
    for (var j = 0u; j < P; j++) {
        y += w[j + 1u] * x[base + j];
    }
    let err = loss_err(d[i], y);
    (*acc)[0] += err;
    for (var j = 0u; j < P; j++) {
        (*acc)[j + 1u] += err * x[base + j];
    }
    (*acc)[K - 1u] += loss_value(d[i], y, err);
}
