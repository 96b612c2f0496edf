//! Mini-batch order: each epoch visits a seeded permutation of the rows in batches of B (the
//! last may be short). The permutation is counter-based — a 4-round mixed-radix Feistel
//! network on a domain of a·b ≥ n positions (a ≈ √n), with cycle walking, keyed by
//! (seed, epoch) through the `lowbias32` hash — so any row's position is computed on the
//! spot from u32 operations alone, and the GPU computes exactly the CPU's order with nothing
//! uploaded per epoch (WGSL twin: shaders/minibatch.wgsl).
//!
//! Why mixed radix rather than a power-of-two domain: cycle walking re-applies the network
//! until the value lands below n, and the walks of one epoch, over all n positions together,
//! visit each of the a·b − n surplus values at most once. With a ≈ √n that surplus is below
//! a, so [`walk_bound`] is a hard bound on the extra rounds any GPU invocation can make per
//! epoch — which matters because llvmpipe silently ends an invocation after 65 535 loop
//! passes. A power-of-four domain would leave up to 3n surplus values and no useful bound.

/// Feistel rounds (even, so the radices come back in order): 4 give a well-mixed
/// permutation for keyed 32-bit round functions (Luby–Rackoff needs 3; one more for margin).
pub const ROUNDS: u32 = 4;

/// Chris Wellons' lowbias32: a 32-bit integer hash with low bias, wrapping u32 ops only.
#[inline(always)]
pub fn hash32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// The seed folded to the 32-bit base key the round keys derive from.
pub fn seed_key(seed: u64) -> u32 {
    hash32((seed as u32) ^ hash32((seed >> 32) as u32))
}

/// The radices (a, b) of the domain a·b ≥ n: a from ⌈√n⌉ up to min(64, ⌈√n⌉/8) further,
/// b = ⌈n/a⌉, keeping the smallest surplus a·b − n (< a; 0 when such an a divides n). The
/// window keeps the halves balanced: with one radix near 1 a Feistel round barely mixes (at
/// n = 17, (17, 1) would make every epoch a rotation).
pub fn radices(n: u32) -> (u32, u32) {
    let n = n.max(1) as u64;
    let mut root = (n as f64).sqrt() as u64;
    while root * root < n {
        root += 1;
    }
    while root > 1 && (root - 1) * (root - 1) >= n {
        root -= 1;
    }
    let mut best = (root, n.div_ceil(root));
    for a in root..=root + (root / 8).min(64) {
        let b = n.div_ceil(a);
        if a * b - n < best.0 * best.1 - n {
            best = (a, b);
        }
        if best.0 * best.1 == n {
            break;
        }
    }
    (best.0 as u32, best.1 as u32)
}

/// Extra network applications that cycle walking makes over one whole epoch, all positions
/// together, at most: the domain's surplus a·b − n.
pub fn walk_bound(n: u32) -> u32 {
    let (a, b) = radices(n);
    (a as u64 * b as u64 - n.max(1) as u64) as u32
}

/// The permutation of 0..n for one epoch.
#[derive(Debug, Clone, Copy)]
pub struct Permutation {
    n: u32,
    a: u32,
    b: u32,
    keys: [u32; ROUNDS as usize],
}

impl Permutation {
    pub fn new(n: u32, seed_key: u32, epoch: u32) -> Self {
        let (a, b) = radices(n);
        let mut keys = [0; ROUNDS as usize];
        for (r, k) in keys.iter_mut().enumerate() {
            *k = round_key(seed_key, epoch, r as u32);
        }
        Permutation { n, a, b, keys }
    }

    /// x = l·b + r with l < a, r < b. A round maps (l, r) ∈ Z_a × Z_b to
    /// (r, (l + F(r)) mod a) ∈ Z_b × Z_a — invertible, so a bijection; the radices swap each
    /// round and, after an even number of rounds, are back in order.
    #[inline(always)]
    fn feistel(&self, x: u32) -> u32 {
        let (mut l, mut r) = (x / self.b, x % self.b);
        let (mut ma, mut mb) = (self.a, self.b);
        for &k in &self.keys {
            let t = (l + hash32(r ^ k) % ma) % ma;
            l = r;
            r = t;
            std::mem::swap(&mut ma, &mut mb);
        }
        l * self.b + r
    }

    /// The row at position `i` of this epoch's order (i < n). Cycle walking: a bijection
    /// of 0..a·b applied until it lands below n is a bijection of 0..n.
    #[inline(always)]
    pub fn apply(&self, i: u32) -> u32 {
        let mut x = self.feistel(i);
        while x >= self.n {
            x = self.feistel(x);
        }
        x
    }
}

/// Round key `r` of `epoch`.
#[inline(always)]
pub fn round_key(seed_key: u32, epoch: u32, r: u32) -> u32 {
    hash32(seed_key.wrapping_add(hash32(epoch.wrapping_mul(ROUNDS).wrapping_add(r))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_epoch_is_a_permutation_and_epochs_differ() {
        for n in [1u32, 2, 3, 5, 16, 17, 1000, 4097] {
            let key = seed_key(42);
            let mut orders = Vec::new();
            for epoch in 0..3 {
                let p = Permutation::new(n, key, epoch);
                let mut seen = vec![false; n as usize];
                let order: Vec<u32> = (0..n).map(|i| p.apply(i)).collect();
                for &r in &order {
                    assert!(r < n && !seen[r as usize], "n={n} epoch={epoch}");
                    seen[r as usize] = true;
                }
                orders.push(order);
            }
            // Tiny tables have few orders (119 of 5! = 120 over 2 000 seeds at n = 5), so
            // a coincidence there is chance, not a defect.
            if n >= 16 {
                assert_ne!(orders[0], orders[1], "n={n}");
                let other = Permutation::new(n, seed_key(43), 0);
                assert_ne!(
                    (0..n).map(|i| other.apply(i)).collect::<Vec<_>>(),
                    orders[0]
                );
            }
        }
    }

    #[test]
    fn walks_of_an_epoch_stay_within_the_surplus() {
        for n in [1u32, 2, 7, 99, 1000, 4097, 65_537, 1_000_003] {
            let (a, b) = radices(n);
            let surplus = a as u64 * b as u64 - n as u64;
            assert!(
                surplus == walk_bound(n) as u64 && surplus < a as u64,
                "n={n}"
            );
            let p = Permutation::new(n, seed_key(7), 3);
            let mut walks = 0u64;
            for i in 0..n.min(200_000) {
                let mut x = p.feistel(i);
                while x >= n {
                    x = p.feistel(x);
                    walks += 1;
                }
            }
            assert!(walks <= surplus, "n={n}: {walks} walks > {surplus}");
        }
    }

    #[test]
    fn small_tables_are_shuffled_not_rotated() {
        for n in [17u32, 100, 1000] {
            let p = Permutation::new(n, seed_key(42), 1);
            let order: Vec<u32> = (0..n).map(|i| p.apply(i)).collect();
            let steps: std::collections::HashSet<u32> =
                order.windows(2).map(|w| (w[1] + n - w[0]) % n).collect();
            assert!(steps.len() > 1, "n={n}: a rotation {order:?}");
        }
    }
}
