//! Mini-batch order: each epoch visits a seeded permutation of the rows in batches of B (the
//! last may be short). The permutation is counter-based — a 4-round Feistel network on
//! ⌈log₄ n⌉-digit halves with cycle walking, keyed by (seed, epoch) through the `lowbias32`
//! hash — so any row's position is computed on the spot, from u32 operations alone: a GPU
//! kernel can compute exactly the same order as the CPU without anything uploaded per epoch
//! (the GPU's mini-batch kernel is still to come; mini-batches are CPU-only for now).

/// Feistel rounds: 4 give a well-mixed permutation for keyed 32-bit round functions
/// (Luby–Rackoff needs 3 for pseudo-randomness; one more for margin).
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

/// Bits per Feistel half: the smallest h ≥ 1 with 4^h ≥ n, so the walk's domain is under 4n.
pub fn half_bits(n: u32) -> u32 {
    let mut h = 1;
    while h < 16 && (1u64 << (2 * h)) < n as u64 {
        h += 1;
    }
    h
}

/// The permutation of 0..n for one epoch.
#[derive(Debug, Clone, Copy)]
pub struct Permutation {
    n: u32,
    half: u32,
    mask: u32,
    keys: [u32; ROUNDS as usize],
}

impl Permutation {
    pub fn new(n: u32, seed_key: u32, epoch: u32) -> Self {
        let half = half_bits(n);
        let mut keys = [0; ROUNDS as usize];
        for (r, k) in keys.iter_mut().enumerate() {
            *k = hash32(seed_key.wrapping_add(hash32(epoch.wrapping_mul(ROUNDS) + r as u32)));
        }
        Permutation {
            n,
            half,
            mask: (1u32 << half) - 1,
            keys,
        }
    }

    #[inline(always)]
    fn feistel(&self, x: u32) -> u32 {
        let (mut l, mut r) = (x >> self.half, x & self.mask);
        for &k in &self.keys {
            let t = l ^ (hash32(r ^ k) & self.mask);
            l = r;
            r = t;
        }
        (l << self.half) | r
    }

    /// The row at position `i` of this epoch's order (i < n). Cycle walking: a bijection
    /// of 0..4^h applied until it lands below n is a bijection of 0..n.
    #[inline(always)]
    pub fn apply(&self, i: u32) -> u32 {
        let mut x = self.feistel(i);
        while x >= self.n {
            x = self.feistel(x);
        }
        x
    }
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
            if n >= 5 {
                assert_ne!(orders[0], orders[1], "n={n}");
                let other = Permutation::new(n, seed_key(43), 0);
                assert_ne!(
                    (0..n).map(|i| other.apply(i)).collect::<Vec<_>>(),
                    orders[0]
                );
            }
        }
    }
}
