// penalty.wgsl — the penalty chosen at run time: params.penalty holds one of the codes
// PENALTY_NONE, PENALTY_L2, PENALTY_L1, PENALTY_ELASTICNET (written into the prelude from
// `penalty_code` in src/gpu/kernels.rs), and each function here hands over to that
// penalty's own in penalty_*.wgsl, all of which are in every build. One build then serves
// every penalty; the switch is on a uniform value, so it is uniform control flow.

// Whether the penalty has an L1 part, taken as a proximal step after the gradient step.
fn penalty_has_prox() -> bool {
    switch params.penalty {
        case PENALTY_L2: { return PENALTY_L2_PROX; }
        case PENALTY_L1: { return PENALTY_L1_PROX; }
        case PENALTY_ELASTICNET: { return PENALTY_ELASTICNET_PROX; }
        case PENALTY_NONE, default: { return PENALTY_NONE_PROX; }
    }
}

// The smooth part's gradient at a feature weight.
fn penalty_grad(w: scalar) -> scalar {
    switch params.penalty {
        case PENALTY_L2: { return penalty_l2_grad(w); }
        case PENALTY_L1: { return penalty_l1_grad(w); }
        case PENALTY_ELASTICNET: { return penalty_elasticnet_grad(w); }
        case PENALTY_NONE, default: { return penalty_none_grad(w); }
    }
}

// The proximal map of the L1 part with threshold `thr`.
fn penalty_prox(w: scalar, thr: scalar) -> scalar {
    switch params.penalty {
        case PENALTY_L2: { return penalty_l2_prox(w, thr); }
        case PENALTY_L1: { return penalty_l1_prox(w, thr); }
        case PENALTY_ELASTICNET: { return penalty_elasticnet_prox(w, thr); }
        case PENALTY_NONE, default: { return penalty_none_prox(w, thr); }
    }
}

// The penalty's value at a feature weight (its share of J).
fn penalty_value(w: scalar) -> scalar {
    switch params.penalty {
        case PENALTY_L2: { return penalty_l2_value(w); }
        case PENALTY_L1: { return penalty_l1_value(w); }
        case PENALTY_ELASTICNET: { return penalty_elasticnet_value(w); }
        case PENALTY_NONE, default: { return penalty_none_value(w); }
    }
}
