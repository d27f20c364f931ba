//! Unique reach: which users the platform's, each cohort's and each tier's
//! impressions have reached, over the run and today.
//!
//! Written by the respond phase only, each bucket the words of its own
//! users (see [`AtomicBitset::insert_owned`]), and read by the day's end and
//! the report. Exact: one bit per user and set. Cost: `users / 8` bytes
//! per set, `5 + 7 × cohorts` sets (platform; per cohort: over the run,
//! today, strangers, four tiers; the platform's four tiers): 33 sets, about
//! 4 bytes per user, for the default five cohorts, but 88 bytes per user at
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
    platform: AtomicBitset,
    cohorts: Vec<AtomicBitset>,
    today: Vec<AtomicBitset>,
    strangers: Vec<AtomicBitset>,
    /// Per cohort and tier (`4 × cohort + tier`), then the platform's four.
    tiers: Vec<AtomicBitset>,
}

impl Reach {
    pub(crate) fn new(users: usize, cohorts: usize) -> Self {
        let sets = |n: usize| (0..n).map(|_| AtomicBitset::new(users)).collect();
        Reach {
            platform: AtomicBitset::new(users),
            cohorts: sets(cohorts),
            today: sets(cohorts),
            strangers: sets(cohorts),
            tiers: sets(4 * (cohorts + 1)),
        }
    }

    /// Records an impression on `user` of a post of `cohort`, the viewer in
    /// `tier`, a stranger to the creator or not. The caller owns `user`'s
    /// words (see [`AtomicBitset::insert_owned`]).
    #[inline]
    pub(crate) fn record(&self, user: u32, cohort: usize, tier: Tier, stranger: bool) {
        self.platform.insert_owned(user);
        self.cohorts[cohort].insert_owned(user);
        self.today[cohort].insert_owned(user);
        if stranger {
            self.strangers[cohort].insert_owned(user);
        }
        self.tiers[4 * cohort + tier as usize].insert_owned(user);
        self.tiers[4 * self.cohorts.len() + tier as usize].insert_owned(user);
    }

    /// Users the platform reached.
    pub(crate) fn platform(&self) -> u64 {
        self.platform.count()
    }

    /// Users `cohort` reached over the run.
    pub(crate) fn cohort(&self, cohort: usize) -> &AtomicBitset {
        &self.cohorts[cohort]
    }

    /// Users `cohort` reached today.
    pub(crate) fn today(&self, cohort: usize) -> u64 {
        self.today[cohort].count()
    }

    /// Users `cohort` reached as strangers to the post's creator.
    pub(crate) fn strangers(&self, cohort: usize) -> u64 {
        self.strangers[cohort].count()
    }

    /// Users reached in `tier` by `cohort`'s posts, or by any post (`None`).
    pub(crate) fn tier(&self, cohort: Option<usize>, tier: usize) -> u64 {
        let c = cohort.unwrap_or(self.cohorts.len());
        self.tiers[4 * c + tier].count()
    }

    /// Starts a new day: today's sets empty.
    pub(crate) fn new_day(&mut self) {
        self.today.iter_mut().for_each(AtomicBitset::clear);
    }
}
