//! Unique reach: which users the platform's, each cohort's and each tier's
//! impressions have reached, over the run and today.
//!
//! Written by the respond phase only, each bucket the words of its own
//! users (see [`AtomicBitset::insert_owned`]), and read by the day's end and
//! the report. Exact: one bit per user and set. Only the sets that cannot be
//! derived are kept: per cohort its four tiers over the run and its users
//! today, then the platform's four tiers. A cohort's reach is the union of
//! its tiers, its strangers are its public tier (a viewer is in the public
//! tier exactly when a stranger to the creator), and the platform's reach is
//! the union of the platform's tiers, each computed word by word when asked.
//! Cost: `users / 8` bytes per set, `4 + 5 × cohorts` sets: 29 sets, about
//! 3.6 bytes per user, for the default five cohorts; 63 bytes per user at
//! 100 cohorts.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::tally::Tier;

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

/// The run's reach sets (see the module docs).
pub(crate) struct Reach {
    cohorts: usize,
    /// Per cohort and tier (`4 × cohort + tier`), then the platform's four.
    tiers: Vec<AtomicBitset>,
    /// Per cohort, the users reached today.
    today: Vec<AtomicBitset>,
}

impl Reach {
    pub(crate) fn new(users: usize, cohorts: usize) -> Self {
        let sets = |n: usize| (0..n).map(|_| AtomicBitset::new(users)).collect();
        Reach {
            cohorts,
            tiers: sets(4 * (cohorts + 1)),
            today: sets(cohorts),
        }
    }

    /// Records an impression on `user` of a post of `cohort`, the viewer in
    /// `tier`. The caller owns `user`'s words (see
    /// [`AtomicBitset::insert_owned`]).
    #[inline]
    pub(crate) fn record(&self, user: u32, cohort: usize, tier: Tier) {
        self.tiers[4 * cohort + tier as usize].insert_owned(user);
        self.tiers[4 * self.cohorts + tier as usize].insert_owned(user);
        self.today[cohort].insert_owned(user);
    }

    /// The four tier sets of `cohort`, or of the platform (`None`).
    fn tier_sets(&self, cohort: Option<usize>) -> &[AtomicBitset] {
        let c = cohort.unwrap_or(self.cohorts);
        &self.tiers[4 * c..4 * c + 4]
    }

    /// Word `w` of the users reached by `cohort`'s posts, or by any post
    /// (`None`): the union of the tiers' words.
    pub(crate) fn word(&self, cohort: Option<usize>, w: usize) -> u64 {
        self.tier_sets(cohort).iter().fold(0, |a, s| a | s.word(w))
    }

    /// Users reached by `cohort`'s posts, or by any post (`None`), over the
    /// run.
    pub(crate) fn reached(&self, cohort: Option<usize>) -> u64 {
        let words = self.tiers[0].0.len();
        (0..words).map(|w| u64::from(self.word(cohort, w).count_ones())).sum()
    }

    /// Users `cohort` reached today.
    pub(crate) fn today(&self, cohort: usize) -> u64 {
        self.today[cohort].count()
    }

    /// Users `cohort` reached as strangers to the post's creator: its
    /// public tier.
    pub(crate) fn strangers(&self, cohort: usize) -> u64 {
        self.tiers[4 * cohort + Tier::Public as usize].count()
    }

    /// Users reached in `tier` by `cohort`'s posts, or by any post (`None`).
    pub(crate) fn tier(&self, cohort: Option<usize>, tier: usize) -> u64 {
        self.tier_sets(cohort)[tier].count()
    }

    /// Starts a new day: today's sets empty.
    pub(crate) fn new_day(&mut self) {
        self.today.iter_mut().for_each(AtomicBitset::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_sets_are_the_unions_the_old_sets_held() {
        // Impressions (user, cohort, tier) over 3 cohorts, against plain sets.
        let users = 5_000;
        let mut reach = Reach::new(users, 3);
        let mut platform = std::collections::HashSet::new();
        let mut cohort = vec![std::collections::HashSet::new(); 3];
        let mut strangers = vec![std::collections::HashSet::new(); 3];
        let mut today = vec![std::collections::HashSet::new(); 3];
        for i in 0..40_000u64 {
            let h = crate::rng::mix(i);
            let (u, c, t) = (
                (h % users as u64) as u32,
                (h >> 20) as usize % 3,
                Tier::ALL[(h >> 30) as usize % 4],
            );
            if i == 20_000 {
                reach.new_day();
                today.iter_mut().for_each(|s| s.clear());
            }
            reach.record(u, c, t);
            platform.insert(u);
            cohort[c].insert(u);
            today[c].insert(u);
            if t == Tier::Public {
                strangers[c].insert(u);
            }
        }
        assert_eq!(reach.reached(None), platform.len() as u64);
        for c in 0..3 {
            assert_eq!(reach.reached(Some(c)), cohort[c].len() as u64);
            assert_eq!(reach.strangers(c), strangers[c].len() as u64);
            assert_eq!(reach.today(c), today[c].len() as u64);
            let w = 7;
            let expected = (0..64)
                .filter(|b| cohort[c].contains(&(w as u32 * 64 + b)))
                .fold(0u64, |a, b| a | 1 << b);
            assert_eq!(reach.word(Some(c), w), expected);
        }
        assert!(reach.strangers(0) < reach.reached(Some(0)), "the check meets fans too");
    }
}
