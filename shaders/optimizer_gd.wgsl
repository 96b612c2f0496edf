// optimizer_gd.wgsl — the article's step: w ← prox(w + mu·g), op for op.
// CPU twin: src/model/optimizer/gd.rs.

const OPTIMIZER_GD_MONOTONE: bool = true;

fn optimizer_gd_step(w: ptr<function, array<scalar, P1>>, g: ptr<function, array<scalar, P1>>, mu: scalar, thr: scalar, st: ptr<function, OptState>) {
    for (var j = 0u; j < P1; j++) {
        (*w)[j] = prox_at(j, (*w)[j] + mu * (*g)[j], thr);
    }
}
