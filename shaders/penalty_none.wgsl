// penalty_none.wgsl — no penalty: the update is the plain gradient step (the article's).
// CPU twin: src/model/penalty/none.rs.

const PROX: bool = false;

fn penalty_grad(w: scalar) -> scalar {
    return scalar(0.0);
}

fn penalty_prox(w: scalar, thr: scalar) -> scalar {
    return w;
}

fn penalty_value(w: scalar) -> scalar {
    return scalar(0.0);
}
