//! Random streams and keyed permutations.
//!
//! feedsim never shares a random generator between pieces of work. Every
//! draw comes from a generator (or a single hashed value) derived from the
//! run seed and *what is being drawn*: a tag naming the kind of draw plus up
//! to two keys (a user, a creator, a post, a day, ...). This is what makes a
//! report bit-identical at any thread count, and what gives common random
//! numbers across policies: the response of user `u` to post `p` is drawn
//! from the stream keyed `(seed, RESPONSE, p, u)` whichever policy showed it.
//!
//! The generator is `Xoshiro256PlusPlus` from `rand` 0.10, seeded through
//! SplitMix64-style mixing of the keys. Both algorithms are fixed and
//! portable, so a published seed reproduces its report later.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// What a draw is for; part of every stream key so that streams for
/// different purposes never coincide.
pub(crate) mod tag {
    pub const USERS: u64 = 0x5553_4552;
    pub const CREATORS: u64 = 0x4352_4541;
    pub const FANS: u64 = 0x4641_4e53;
    pub const POSTS: u64 = 0x504f_5354;
    pub const ACTIVITY: u64 = 0x4143_5456;
    pub const RESPONSE: u64 = 0x5245_5350;
    pub const PUBLIC_TARGETED: u64 = 0x5054_4152;
    pub const PUBLIC_UNIFORM: u64 = 0x5055_4e49;
    pub const PUBLIC_PICK: u64 = 0x5049_434b;
    pub const FAN_ORDER: u64 = 0x464f_5244;
    pub const ATTENTION: u64 = 0x4154_544e;
    pub const SINCE: u64 = 0x5349_4e43;
    pub const PERK: u64 = 0x5045_524b;
    pub const SIMILAR: u64 = 0x5349_4d4c;
    pub const FEED: u64 = 0x4645_4544;
    pub const DURATION: u64 = 0x4455_5241;
    pub const FEED_DRAW: u64 = 0x4644_5257;
    pub const FEED_SLOT: u64 = 0x4653_4c54;
    pub const FRIENDS: u64 = 0x4652_4e44;
    pub const CHANNEL: u64 = 0x4348_414e;
    pub const TODAY: u64 = 0x544f_4441;
    pub const UNFOLLOW: u64 = 0x554e_464f;
    pub const FAST_FOLLOW: u64 = 0x4641_5346;
    pub const STORE_VISIT: u64 = 0x5354_4f52;
    pub const SHOP: u64 = 0x5348_4f50;
    pub const LIVE: u64 = 0x4c49_5645;
    pub const ARRIVAL: u64 = 0x4152_5256;
    pub const REGION: u64 = 0x5245_4749;
    pub const PUBLIC_REGION: u64 = 0x5052_4547;
    pub const PUBLIC_REGION_PICK: u64 = 0x5052_5043;
}

/// SplitMix64's finalizer: a bijective, well-avalanching 64-bit mix.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const PHI: u64 = 0x9e37_79b9_7f4a_7c15;

/// A 64-bit key for the draw `(seed, tag, a, b)`.
#[inline]
pub(crate) fn key(seed: u64, tag: u64, a: u64, b: u64) -> u64 {
    key_from(key_prefix(seed, tag, a), b)
}

/// The part of [`key`] that does not depend on `b`: computed once for many
/// draws that share `(seed, tag, a)` (a post's viewers, say), it leaves one
/// mix per draw. `key_from(key_prefix(s, t, a), b) == key(s, t, a, b)`.
#[inline]
pub(crate) fn key_prefix(seed: u64, tag: u64, a: u64) -> u64 {
    let h = mix(seed.wrapping_add(PHI) ^ tag.wrapping_mul(PHI));
    mix(h.wrapping_add(a).wrapping_mul(PHI) ^ (h >> 17))
}

/// [`key`] from its [`key_prefix`].
#[inline]
pub(crate) fn key_from(prefix: u64, b: u64) -> u64 {
    mix(prefix.wrapping_add(b).wrapping_mul(PHI) ^ (prefix >> 23))
}

/// A uniform number in `[0, 1)` for the draw `(seed, tag, a, b)`.
#[inline]
pub(crate) fn unit(seed: u64, tag: u64, a: u64, b: u64) -> f64 {
    (key(seed, tag, a, b) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The `i`-th uniform number in `[0, 1)` of the sequence keyed `base` (a
/// [`key`]): SplitMix64's output for state `base + i·φ`, one mix per draw,
/// for a walk that draws once per step.
#[inline]
pub(crate) fn unit_at(base: u64, i: u64) -> f64 {
    (mix(base.wrapping_add(i.wrapping_mul(PHI))) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The standard normal quantile of `u` in `(0, 1)` (Acklam's rational
/// approximation, relative error below 1.2e-9): one keyed uniform gives one
/// normal draw.
pub(crate) fn standard_normal(u: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383_577_518_672_69e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    let u = u.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if u < 0.02425 {
        tail((-2.0 * u.ln()).sqrt())
    } else if u > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - u).ln()).sqrt())
    } else {
        let q = u - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// A generator for the stream `(seed, tag, a, b)`.
#[inline]
pub(crate) fn stream(seed: u64, tag: u64, a: u64, b: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(key(seed, tag, a, b))
}

/// The stream `(seed, tag, a, b)` from the [`key_prefix`] of `(seed, tag, a)`.
#[inline]
pub(crate) fn stream_from(prefix: u64, b: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(key_from(prefix, b))
}

/// A keyed pseudo-random permutation of `0..len`.
///
/// A four-round Feistel network on the smallest even-bit power of two that
/// holds `len`, restricted to `0..len` by cycle walking. `at(i)` gives the
/// `i`-th element of the shuffled order in O(1) expected time (at most four Feistel evaluations on average)
/// and with no memory: this is how a post draws its public pools without
/// replacement from millions of users without a per-post "seen" set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Permutation {
    len: u64,
    half_bits: u32,
    mask: u64,
    keys: [u64; 4],
}

impl Permutation {
    pub(crate) fn new(len: u64, key: u64) -> Self {
        let bits = (64 - len.saturating_sub(1).leading_zeros()).max(2);
        let bits = bits + (bits & 1);
        let half_bits = bits / 2;
        let keys = [mix(key ^ 1), mix(key ^ 2), mix(key ^ 3), mix(key ^ 4)];
        Permutation {
            len,
            half_bits,
            mask: (1u64 << half_bits) - 1,
            keys,
        }
    }

    #[inline]
    fn encrypt(&self, x: u64) -> u64 {
        let (mut l, mut r) = (x >> self.half_bits, x & self.mask);
        for k in self.keys {
            let f = mix(r ^ k) & self.mask;
            (l, r) = (r, l ^ f);
        }
        (l << self.half_bits) | r
    }

    /// The element at position `i` (`i < len`).
    #[inline]
    pub(crate) fn at(&self, i: u64) -> u64 {
        debug_assert!(i < self.len);
        let mut x = self.encrypt(i);
        while x >= self.len {
            x = self.encrypt(x);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection() {
        for len in [1u64, 2, 3, 5, 17, 1000, 4097] {
            let p = Permutation::new(len, 99 + len);
            let mut seen = vec![false; len as usize];
            for i in 0..len {
                let x = p.at(i);
                assert!(x < len);
                assert!(!seen[x as usize], "len {len}: {x} twice");
                seen[x as usize] = true;
            }
        }
    }

    #[test]
    fn permutation_depends_on_key() {
        let a = Permutation::new(1000, 1);
        let b = Permutation::new(1000, 2);
        let same = (0..1000).filter(|&i| a.at(i) == b.at(i)).count();
        // Two independent shuffles agree in about one place on average.
        assert!(same < 10, "{same} fixed agreements");
    }

    #[test]
    fn unit_is_in_range_and_roughly_uniform() {
        let n = 100_000;
        let mean: f64 = (0..n).map(|i| unit(7, tag::RESPONSE, i, 3)).sum::<f64>() / n as f64;
        // Standard error of a U(0,1) mean is 0.2887/sqrt(n) = 0.00091; allow 5 of them.
        assert!((mean - 0.5).abs() < 5.0 * 0.2887 / (n as f64).sqrt(), "{mean}");
    }

    #[test]
    fn standard_normal_quantiles() {
        assert!(standard_normal(0.5).abs() < 1e-12);
        assert!((standard_normal(0.975) - 1.959_963_985).abs() < 1e-8);
        assert!((standard_normal(0.01) + 2.326_347_874).abs() < 1e-8);
        assert!((standard_normal(1e-6) + 4.753_424_309).abs() < 1e-7);
    }

    #[test]
    fn streams_are_pinned() {
        // Value stability: a change of algorithm or key derivation shows here.
        use rand::Rng;
        let mut s = stream(1, tag::RESPONSE, 2, 3);
        let first = s.next_u64();
        assert_eq!(first, stream(1, tag::RESPONSE, 2, 3).next_u64());
        assert_ne!(first, stream(1, tag::RESPONSE, 3, 2).next_u64());
        assert_eq!(key(0, 0, 0, 0), key(0, 0, 0, 0));
        // A key is its prefix and one more mix.
        assert_eq!(
            key(1, tag::RESPONSE, 2, 3),
            key_from(key_prefix(1, tag::RESPONSE, 2), 3)
        );
        assert_eq!(first, stream_from(key_prefix(1, tag::RESPONSE, 2), 3).next_u64());
    }
}
