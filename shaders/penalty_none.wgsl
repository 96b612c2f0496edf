// penalty_none.wgsl — no penalty: the update is the plain gradient step (the article's).
// CPU twin: src/model/penalty/none.rs.

const PENALTY_NONE_PROX: bool = false;

fn penalty_none_grad(w: scalar) -> scalar {
    return scalar(0.0);
}

fn penalty_none_prox(w: scalar, thr: scalar) -> scalar {
    return w;
}

fn penalty_none_value(w: scalar) -> scalar {
    return scalar(0.0);
}
