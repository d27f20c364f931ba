//! Unique reach: which users the platform's, each cohort's and each tier's
//! impressions have reached, over the run and today.
//!
//! Written by the respond phase only, each bucket the words of its own
//! users (see [`AtomicBitset::insert_owned`]), and read by the day's end and
//! the report.
//!
//! **Exact up to [`EXACT_COHORTS`] cohorts**: one bit per user and set, and
//! only the sets that cannot be derived are kept: per cohort its four tiers
//! over the run and its users today, then the platform's four tiers. A
//! cohort's reach is the union of its tiers, its strangers are its public
//! tier (a viewer is in the public tier exactly when a stranger to the
//! creator), and the platform's reach is the union of the platform's tiers,
//! each computed word by word when asked. Cost: `users / 8` bytes per set,
//! `4 + 5 × cohorts` sets: 29 sets, about 3.6 bytes per user, for the
//! default five cohorts (6.0 at eight).
//!
//! **Beyond that**, five sets per cohort would grow with cohorts × users
//! (63 bytes per user at 100 cohorts, as much as the engine issue's whole
//! per-user budget), so each cohort keeps one exact set, the users it
//! reached over the run (its unique reach and its relationship funnel stay
//! exact), and its four tiers and its users today become HyperLogLog
//! sketches (Flajolet, Fusy, Gandouet and Meunier, "HyperLogLog: the
//! analysis of a near-optimal cardinality estimation algorithm", 2007) of
//! 2^12 one-byte registers, 4 KB each whatever the population: relative
//! standard error 1.04 / 2^6 = 1.6% ([`SKETCH_RELATIVE_ERROR`]), reported
//! as `reach_relative_error`. The estimated figures are a cohort's
//! `unique_reach_by_tier`, its `funnel.new_viewers` (the public tier) and each
//! day's per-cohort `unique_reach`; the platform's figures stay exact.
//! Cost at 100 cohorts: 104 sets (13 bytes per user) plus 2 MB of
//! sketches. A register keeps the largest rank inserted, so a sketch is the
//! same whatever the order of its inserts: the result does not depend on
//! the thread count.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use crate::tally::Tier;

/// The most cohorts whose reach is kept exact in every figure (see the
/// module docs).
pub(crate) const EXACT_COHORTS: usize = 8;

/// log2 of a sketch's registers.
const SKETCH_BITS: u32 = 12;

/// The relative standard error of a sketch's estimate, `1.04 / sqrt(m)`
/// for `m = 2^12` registers (Flajolet et al. 2007). (2^14 registers, 0.81%,
/// made a 100-cohort day 18% slower at 1M users, the registers no longer
/// fitting a core's cache; 2^12, 7–8%.)
pub const SKETCH_RELATIVE_ERROR: f64 = 1.04 / 64.0;

/// A set of user ids shared by the respond phase's tasks, each of which
/// writes only the words of its own buckets' users (see
/// [`insert_owned`](Self::insert_owned)), so the result does not depend on
/// thread timing.
pub(crate) struct AtomicBitset(Vec<AtomicU64>);

impl AtomicBitset {
    pub(crate) fn new(n: usize) -> Self {
        AtomicBitset((0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect())
    }
    /// Inserts `u` with a plain load and store (no read-modify-write): for
    /// a caller that owns the word holding `u`, i.e. no other thread writes
    /// users `64⌊u/64⌋ .. 64⌊u/64⌋ + 63` meanwhile (the respond phase's
    /// buckets are whole words). Relaxed loads and stores compile to plain
    /// moves; the atomic type only makes the sharing safe to express.
    #[inline]
    pub(crate) fn insert_owned(&self, u: u32) {
        let w = &self.0[u as usize / 64];
        w.store(w.load(Ordering::Relaxed) | 1 << (u % 64), Ordering::Relaxed);
    }
    pub(crate) fn count(&self) -> u64 {
        self.0
            .iter()
            .map(|w| u64::from(w.load(Ordering::Relaxed).count_ones()))
            .sum()
    }
    /// Word `w` of the set (users `64w .. 64w + 63`).
    pub(crate) fn word(&self, w: usize) -> u64 {
        self.0[w].load(Ordering::Relaxed)
    }
    pub(crate) fn clear(&mut self) {
        self.0.iter_mut().for_each(|w| *w.get_mut() = 0);
    }
}

/// HyperLogLog sketches of several sets of users (see the module docs),
/// shared by the respond phase's tasks: an insert raises a register to the
/// rank it carries, never lowers it. The sets' registers for one hash
/// position lie side by side, so an impression that enters two sets of a
/// cohort (a tier and today's) touches one cache line.
pub(crate) struct Sketches {
    regs: Vec<AtomicU8>,
    sets: usize,
}

impl Sketches {
    fn new(sets: usize) -> Self {
        Sketches {
            regs: (0..sets << SKETCH_BITS).map(|_| AtomicU8::new(0)).collect(),
            sets,
        }
    }

    /// The register position and rank of `user`: a hash of the user alone,
    /// so every sketch agrees on a user.
    #[inline]
    fn position(user: u32) -> (usize, u8) {
        let h = crate::rng::mix(u64::from(user) ^ 0x7265_6163_685f_686c);
        let j = (h >> (64 - SKETCH_BITS)) as usize;
        let rank = ((h << SKETCH_BITS).leading_zeros() + 1).min(64 - SKETCH_BITS + 1) as u8;
        (j, rank)
    }

    /// Inserts the user at `position` into set `k`. A register is written
    /// only when the rank is higher than it holds (rare once the sketch has
    /// filled), with an atomic maximum, so concurrent inserts lose nothing
    /// and the result does not depend on their order.
    #[inline]
    fn raise(&self, (j, rank): (usize, u8), k: usize) {
        let r = &self.regs[j * self.sets + k];
        if r.load(Ordering::Relaxed) < rank {
            r.fetch_max(rank, Ordering::Relaxed);
        }
    }

    /// The estimated number of users in set `k`: HyperLogLog's raw
    /// estimate, or linear counting of the empty registers for small sets
    /// (at most 2.5 m), as Flajolet et al. give them.
    pub(crate) fn estimate(&self, k: usize) -> u64 {
        let m = f64::from(1u32 << SKETCH_BITS);
        let (mut sum, mut zeros) = (0.0f64, 0u32);
        for r in self.regs[k..].iter().step_by(self.sets) {
            let v = r.load(Ordering::Relaxed);
            sum += f64::from(-i32::from(v)).exp2();
            zeros += u32::from(v == 0);
        }
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let e = if raw <= 2.5 * m && zeros > 0 {
            m * (m / f64::from(zeros)).ln()
        } else {
            raw
        };
        e.round() as u64
    }

    /// Empties set `k`.
    fn clear(&mut self, k: usize) {
        for r in self.regs[k..].iter_mut().step_by(self.sets) {
            *r.get_mut() = 0;
        }
    }
}

/// A cohort's sketches: set 0 its users today, set `1 + t` its tier `t`.
const TODAY: usize = 0;

/// The cohorts' sets: exact, or partly sketched (see the module docs).
enum CohortSets {
    /// Per cohort its four tiers (`4 × cohort + tier`), and its users today.
    Exact {
        tiers: Vec<AtomicBitset>,
        today: Vec<AtomicBitset>,
    },
    /// Per cohort the users reached (exact), and sketches of its users
    /// today and of its four tiers (see [`TODAY`]).
    Sketched {
        reached: Vec<AtomicBitset>,
        sketches: Vec<Sketches>,
    },
}

/// The run's reach sets (see the module docs).
pub(crate) struct Reach {
    /// The platform's four tiers.
    platform: Vec<AtomicBitset>,
    cohorts: CohortSets,
}

impl Reach {
    pub(crate) fn new(users: usize, cohorts: usize) -> Self {
        let sets = |n: usize| (0..n).map(|_| AtomicBitset::new(users)).collect();
        Reach {
            platform: sets(4),
            cohorts: if cohorts <= EXACT_COHORTS {
                CohortSets::Exact {
                    tiers: sets(4 * cohorts),
                    today: sets(cohorts),
                }
            } else {
                CohortSets::Sketched {
                    reached: sets(cohorts),
                    sketches: (0..cohorts).map(|_| Sketches::new(5)).collect(),
                }
            },
        }
    }

    /// The relative standard error of the estimated figures, or `None` when
    /// every figure is exact.
    pub(crate) fn relative_error(&self) -> Option<f64> {
        match self.cohorts {
            CohortSets::Exact { .. } => None,
            CohortSets::Sketched { .. } => Some(SKETCH_RELATIVE_ERROR),
        }
    }

    /// Records an impression on `user` of a post of `cohort`, the viewer in
    /// `tier`. The caller owns `user`'s words (see
    /// [`AtomicBitset::insert_owned`]).
    #[inline]
    pub(crate) fn record(&self, user: u32, cohort: usize, tier: Tier) {
        self.platform[tier as usize].insert_owned(user);
        match &self.cohorts {
            CohortSets::Exact { tiers, today } => {
                tiers[4 * cohort + tier as usize].insert_owned(user);
                today[cohort].insert_owned(user);
            }
            CohortSets::Sketched { reached, sketches } => {
                reached[cohort].insert_owned(user);
                let at = Sketches::position(user);
                sketches[cohort].raise(at, TODAY);
                sketches[cohort].raise(at, 1 + tier as usize);
            }
        }
    }

    /// Word `w` of the users reached by `cohort`'s posts, or by any post
    /// (`None`): the union of the tiers' words (exact in either layout).
    pub(crate) fn word(&self, cohort: Option<usize>, w: usize) -> u64 {
        match (cohort, &self.cohorts) {
            (None, _) => self.platform.iter().fold(0, |a, s| a | s.word(w)),
            (Some(c), CohortSets::Exact { tiers, .. }) => tiers[4 * c..4 * c + 4].iter().fold(0, |a, s| a | s.word(w)),
            (Some(c), CohortSets::Sketched { reached, .. }) => reached[c].word(w),
        }
    }

    /// Users reached by `cohort`'s posts, or by any post (`None`), over the
    /// run (exact).
    pub(crate) fn reached(&self, cohort: Option<usize>) -> u64 {
        let words = self.platform[0].0.len();
        (0..words).map(|w| u64::from(self.word(cohort, w).count_ones())).sum()
    }

    /// Users `cohort` reached today (estimated beyond [`EXACT_COHORTS`]).
    pub(crate) fn today(&self, cohort: usize) -> u64 {
        match &self.cohorts {
            CohortSets::Exact { today, .. } => today[cohort].count(),
            CohortSets::Sketched { sketches, .. } => sketches[cohort].estimate(TODAY),
        }
    }

    /// Users `cohort` reached as strangers to the post's creator: its
    /// public tier (estimated beyond [`EXACT_COHORTS`]).
    pub(crate) fn strangers(&self, cohort: usize) -> u64 {
        self.tier(Some(cohort), Tier::Public as usize)
    }

    /// Users reached in `tier` by `cohort`'s posts (estimated beyond
    /// [`EXACT_COHORTS`]), or by any post (`None`, exact).
    pub(crate) fn tier(&self, cohort: Option<usize>, tier: usize) -> u64 {
        match (cohort, &self.cohorts) {
            (None, _) => self.platform[tier].count(),
            (Some(c), CohortSets::Exact { tiers, .. }) => tiers[4 * c + tier].count(),
            (Some(c), CohortSets::Sketched { sketches, .. }) => sketches[c].estimate(1 + tier),
        }
    }

    /// Starts a new day: today's sets empty.
    pub(crate) fn new_day(&mut self) {
        match &mut self.cohorts {
            CohortSets::Exact { today, .. } => today.iter_mut().for_each(AtomicBitset::clear),
            CohortSets::Sketched { sketches, .. } => sketches.iter_mut().for_each(|s| s.clear(TODAY)),
        }
    }

    /// Bytes held (for the memory accounts in SCALING.md).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        let set = self.platform[0].0.len() * 8;
        let sketch = 1usize << SKETCH_BITS;
        let (sets, sketches) = match &self.cohorts {
            CohortSets::Exact { tiers, today } => (4 + tiers.len() + today.len(), 0),
            CohortSets::Sketched { reached, sketches } => (4 + reached.len(), sketches.len() * 5),
        };
        sets * set + sketches * sketch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Impressions (user, cohort, tier) against plain sets, over a layout
    /// of `cohorts` cohorts: the exact figures equal, the estimated ones
    /// (beyond `EXACT_COHORTS`) within four standard errors, plus the
    /// rounding of small counts.
    fn check_against_plain_sets(cohorts: usize) {
        let users = 60_000;
        let mut reach = Reach::new(users, cohorts);
        assert_eq!(reach.relative_error().is_some(), cohorts > EXACT_COHORTS);
        let mut platform = HashSet::new();
        let mut cohort = vec![HashSet::new(); cohorts];
        let mut tiers = vec![HashSet::new(); 4 * cohorts];
        let mut platform_tiers = vec![HashSet::new(); 4];
        let mut today = vec![HashSet::new(); cohorts];
        for i in 0..400_000u64 {
            let h = crate::rng::mix(i);
            // Cohort 0 draws twice as often as the others; tiers unevenly.
            let c = ((h >> 20) as usize % (cohorts + 1)).saturating_sub(1);
            let (u, t) = ((h % users as u64) as u32, Tier::ALL[((h >> 40) % 7).min(3) as usize]);
            if i == 200_000 {
                reach.new_day();
                today.iter_mut().for_each(|s| s.clear());
            }
            reach.record(u, c, t);
            platform.insert(u);
            cohort[c].insert(u);
            tiers[4 * c + t as usize].insert(u);
            platform_tiers[t as usize].insert(u);
            today[c].insert(u);
        }
        let close = |estimate: u64, exact: usize, what: &str| {
            let tolerance = 4.0 * SKETCH_RELATIVE_ERROR * exact as f64 + 2.0;
            assert!(
                (estimate as f64 - exact as f64).abs() <= tolerance,
                "{what}: estimated {estimate}, exactly {exact}"
            );
            estimate as usize == exact
        };
        let mut equal = 0;
        assert_eq!(reach.reached(None), platform.len() as u64);
        for (t, exact) in platform_tiers.iter().enumerate() {
            assert_eq!(reach.tier(None, t), exact.len() as u64);
        }
        for c in 0..cohorts {
            assert_eq!(reach.reached(Some(c)), cohort[c].len() as u64);
            let w = 7;
            let expected = (0..64)
                .filter(|b| cohort[c].contains(&(w as u32 * 64 + b)))
                .fold(0u64, |a, b| a | 1 << b);
            assert_eq!(reach.word(Some(c), w), expected);
            let figures = (0..4).map(|t| (reach.tier(Some(c), t), tiers[4 * c + t].len())).chain([
                (reach.strangers(c), tiers[4 * c + Tier::Public as usize].len()),
                (reach.today(c), today[c].len()),
            ]);
            for (k, (got, exact)) in figures.enumerate() {
                if cohorts <= EXACT_COHORTS {
                    assert_eq!(got, exact as u64, "cohort {c}, figure {k}");
                } else {
                    equal += usize::from(close(got, exact, &format!("cohort {c}, figure {k}")));
                }
            }
        }
        if cohorts > EXACT_COHORTS {
            // Estimates, not copies of the exact counts.
            assert!(equal < 3 * cohorts, "{equal} of {} estimates exact", 6 * cohorts);
        }
        assert!(reach.strangers(0) < reach.reached(Some(0)), "the check meets fans too");
    }

    #[test]
    fn derived_sets_are_the_unions_the_old_sets_held() {
        check_against_plain_sets(3);
        check_against_plain_sets(EXACT_COHORTS);
    }

    #[test]
    fn many_cohorts_estimate_their_tiers_within_the_sketch_error() {
        check_against_plain_sets(12);
    }

    #[test]
    fn a_sketch_estimates_within_its_error_and_ignores_the_insert_order() {
        for n in [0u32, 1, 10, 1_000, 30_000, 200_000, 2_000_000] {
            // Set 1 of a, set 0 of b; set 1 of b stays empty.
            let (a, mut b) = (Sketches::new(2), Sketches::new(2));
            let insert = |s: &Sketches, u: u32, k: usize| s.raise(Sketches::position(u.wrapping_mul(2_654_435_761)), k);
            for u in 0..n {
                insert(&a, u, 1);
                // Twice, backwards: the same registers.
                insert(&b, n - 1 - u, 0);
                insert(&b, u, 0);
            }
            let registers = |s: &Sketches, k: usize| {
                s.regs[k..]
                    .iter()
                    .step_by(2)
                    .map(|r| r.load(Ordering::Relaxed))
                    .collect::<Vec<u8>>()
            };
            assert_eq!(registers(&a, 1), registers(&b, 0), "{n}");
            assert_eq!((a.estimate(0), b.estimate(1)), (0, 0));
            b.clear(0);
            assert_eq!(b.estimate(0), 0);
            let e = a.estimate(1) as f64;
            let tolerance = 4.0 * SKETCH_RELATIVE_ERROR * f64::from(n) + 1.0;
            assert!((e - f64::from(n)).abs() <= tolerance, "{n}: estimated {e}");
        }
    }

    #[test]
    fn a_hundred_cohorts_cost_thirteen_bytes_per_user_not_sixty_three() {
        let users = 1 << 20;
        let exact = Reach::new(users, EXACT_COHORTS);
        let many = Reach::new(users, 100);
        let per_user = |r: &Reach| r.heap_bytes() as f64 / users as f64;
        assert!((per_user(&exact) - (4.0 + 5.0 * 8.0) / 8.0).abs() < 0.01);
        // 4 + 100 sets of one bit per user, and 500 sketches of 4 KB.
        let expected = 104.0 / 8.0 + 500.0 * 4_096.0 / users as f64;
        assert!((per_user(&many) - expected).abs() < 0.01, "{}", per_user(&many));
        assert!(per_user(&many) < 21.0);
    }
}
