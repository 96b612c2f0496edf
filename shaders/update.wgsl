// update.wgsl — the update step for the model's loss and penalty: g = coef[1]·sums − the
// penalty's gradient (never on the intercept), w += mu·g, then the penalty's proximal step;
// the epoch's objective J into the loss history; the stop rules (divergence; the step's
// gradient-mapping norm ‖(w_new − w_old)/mu‖ — the gradient itself without a proximal step —
// below tol). `sums` is [Σerr, Σerr·x_1..P, Σℓ]. Returns 1 when the run must stop after this
// epoch. Only invocation 0 writes to memory; every invocation gets the same new weights.
//
// Divergence: with a step ≤ 2/L, gradient descent on a convex L-smooth objective never lets
// ‖∇J‖ grow (co-coercivity), so a squared norm above GROWTH2 × the first epoch's is proof of
// a step too large, caught within a few epochs of the growth instead of at overflow.
// `g0` holds that first value; the CPU twin is `descend` in src/cpu/mod.rs (same operations
// in the same order).

fn apply_update(w: ptr<function, array<scalar, P1>>, g0: ptr<function, scalar>, sums: array<scalar, K>, epoch: u32, lid: u32) -> u32 {
    let mu = coef[0];
    let f = coef[1];
    var g2 = scalar(0.0);
    var reg = scalar(0.0);
    var blown = false;
    for (var j = 0u; j < P1; j++) {
        var g = f * sums[j];
        if j == 0u {
            (*w)[j] += mu * g;
        } else {
            let old = (*w)[j];
            reg += penalty_value(old);
            g -= penalty_grad(old);
            if PROX {
                (*w)[j] = penalty_prox(old + mu * g);
                g = ((*w)[j] - old) / mu;
            } else {
                (*w)[j] += mu * g;
            }
        }
        g2 += g * g;
        // NaN fails every comparison, so this catches NaN, ±inf and explosions alike.
        blown = blown || !(abs((*w)[j]) <= LIMIT);
    }
    if epoch == 0u {
        *g0 = g2;
    }
    // NaN fails the comparison too.
    blown = blown || !(g2 <= GROWTH2 * *g0);
    let converged = params.use_tol != 0u && (epoch + 1u) % params.check_every == 0u && g2 < coef[2];
    if lid == 0u {
        if params.record_loss != 0u {
            loss[epoch % params.loss_ring] = sums[K - 1u] * coef[3] + reg;
        }
        if blown {
            status.diverged_at = epoch + 1u;
            status.stopped = 1u;
        } else if converged {
            status.converged = 1u;
            status.stopped = 1u;
        }
    }
    return select(0u, 1u, blown || converged);
}
