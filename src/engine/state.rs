//! The run's mutable state: live posts and their offers, what the engine
//! remembers of buyers and members, reach bitsets, per-day counters.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use super::buyers::Buyers;
use super::lifecycle::CohortCounts;
use super::reach::Reach;
use crate::audience::{Cursor, Today};
use crate::metrics::{AttentionReport, DailyCohortReport};
use crate::policy::{CreatorState, Peers, Stage, StageRecord};
use crate::tally::{PushEnd, Tally, TierTallies};
use crate::world::FollowGraph;

/// Marks an offer to a user who does not follow the creator.
pub(crate) const NO_EDGE: u32 = u32::MAX;

/// Bits of an impression's outcome.
pub(crate) mod outcome {
    pub const WATCH: u8 = 1;
    pub const LIKE: u8 = 2;
    pub const COMMENT: u8 = 4;
    pub const SHARE: u8 = 8;
    pub const FOLLOW: u8 = 16;
    pub const CLICK: u8 = 32;
    pub const ORDER: u8 = 64;
    pub const REPURCHASE: u8 = 128;
}

/// A post whose push is under way.
#[derive(Clone)]
pub(crate) struct LivePost<'p> {
    pub(crate) post: u32,
    /// The stage offered this round; `None` once the push has ended.
    pub(crate) stage: Option<Stage<'p>>,
    pub(crate) end: Option<PushEnd>,
    pub(crate) history: Vec<StageRecord<'p>>,
    /// Every user offered the post so far, except those offered by the
    /// `excluded` audience (see below).
    pub(crate) offered: UserSet,
    /// An audience that draws distinct users
    /// ([`Audience::draws_distinct`](crate::audience::Audience::draws_distinct))
    /// and is the post's current one: its offers are kept in
    /// `excluded_offers` rather than `offered` (its own walk never repeats
    /// them within a day), and are inserted into `offered` when another
    /// audience or a channel makes offers, or a new day starts.
    pub(crate) excluded: Option<&'p str>,
    pub(crate) excluded_offers: Vec<u32>,
    /// The day of `excluded_offers`.
    pub(crate) excluded_day: u32,
    /// Cursors of the walking audiences, by audience name.
    pub(crate) cursors: Vec<(&'p str, Cursor)>,
    pub(crate) so_far: Tally,
    pub(crate) so_far_by_tier: TierTallies,
    /// Counts so far per source of the stages shown.
    pub(crate) by_source: Vec<(&'static str, Tally)>,
    /// The users offered the post this round: first the stage's, in the
    /// order its audience chose them (`stage_offers` of them), then the
    /// channels', in channel order.
    pub(crate) offers: Vec<u32>,
    /// How many of `offers` the stage made.
    pub(crate) stage_offers: usize,
    /// For each channel offer (`offers[stage_offers..]`), its channel.
    pub(crate) channel_of: Vec<u8>,
    /// For each channel offer, its depth (see [`Channel::offer_with_depth`](crate::channel::Channel::offer_with_depth)).
    pub(crate) depth_of: Vec<u8>,
    /// Who liked the post in the last round, with the depth of their view
    /// (kept only when a channel asks: [`Channel::wants_likers`](crate::channel::Channel::wants_likers)).
    pub(crate) likers: Vec<crate::channel::Liker>,
    /// Who shared the post in the last round (kept only when a channel
    /// asks: [`Channel::wants_sharers`](crate::channel::Channel::wants_sharers)).
    pub(crate) sharers: Vec<crate::channel::Liker>,
    /// Counts of the channels' impressions so far (the post's, not the
    /// stage's: see [`crate::channel`]).
    pub(crate) channels_so_far: Tally,
    pub(crate) channels_by_tier: TierTallies,
    /// Counts of the model's own events so far, by event.
    pub(crate) extra_events: Vec<u64>,
    pub(crate) wanted: u64,
    pub(crate) exhausted: bool,
    /// This round's counts, per tier.
    pub(crate) round: TierTallies,
    pub(crate) entered_public: bool,
    /// Whether a stage was closed this round (and goes to the peers).
    pub(crate) closed: bool,
}

impl<'p> LivePost<'p> {
    /// A post entering its push in a world of `users` users.
    pub(crate) fn new(post: u32, users: u32) -> Self {
        LivePost {
            post,
            stage: None,
            end: None,
            history: Vec::new(),
            offered: UserSet::with_universe(users),
            excluded: None,
            excluded_offers: Vec::new(),
            excluded_day: 0,
            cursors: Vec::new(),
            so_far: Tally::default(),
            so_far_by_tier: TierTallies::default(),
            by_source: Vec::new(),
            offers: Vec::new(),
            stage_offers: 0,
            channel_of: Vec::new(),
            depth_of: Vec::new(),
            likers: Vec::new(),
            sharers: Vec::new(),
            channels_so_far: Tally::default(),
            channels_by_tier: TierTallies::default(),
            extra_events: Vec::new(),
            wanted: 0,
            exhausted: false,
            round: TierTallies::default(),
            entered_public: false,
            closed: false,
        }
    }

    /// The cursor of the audience called `name`, zeroed at first use.
    pub(crate) fn cursor(&mut self, name: &'p str) -> &mut Cursor {
        let i = match self.cursors.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                self.cursors.push((name, Cursor::default()));
                self.cursors.len() - 1
            }
        };
        &mut self.cursors[i].1
    }
}

/// A set of user ids (a post's offered users; a sorted list would cost a
/// binary search per candidate of every walk): open addressing with linear
/// probing, at most 70% full, so a lookup is one or two probes, about 6–12
/// bytes per member; once the table would outgrow a bitset over all users
/// (`universe / 8` bytes, past about `universe / 45` members), a bitset. A
/// large set's lookups then stay in cache (a fan wave of a creator with
/// 800,000 followers tests every fan against the post's set).
#[derive(Debug, Clone, Default)]
pub(crate) struct UserSet {
    slots: Vec<u32>,
    len: usize,
    /// Ids are below this (0: unknown, the set stays a table).
    universe: u32,
    /// The members as a bitset over `0..universe`, once it is one.
    bits: Vec<u64>,
}

/// An empty slot of a [`UserSet`]: never a user id (ids are below the user
/// count, which is at most `u32::MAX`).
const EMPTY: u32 = u32::MAX;

impl UserSet {
    /// An empty set of ids below `universe`.
    pub(crate) fn with_universe(universe: u32) -> Self {
        UserSet {
            universe,
            ..UserSet::default()
        }
    }

    #[inline]
    fn home(&self, u: u32) -> usize {
        // Fibonacci hashing onto the power-of-two table.
        let bits = self.slots.len().trailing_zeros();
        ((u64::from(u).wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> (64 - bits)) as usize
    }

    /// Members.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether `u` is in the set. O(1) expected.
    #[inline]
    pub(crate) fn contains(&self, u: u32) -> bool {
        if !self.bits.is_empty() {
            return self.bits.get(u as usize / 64).is_some_and(|w| w >> (u % 64) & 1 == 1);
        }
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(u);
        loop {
            match self.slots[i] {
                x if x == u => return true,
                EMPTY => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Inserts `u`; false if it was there. O(1) amortized.
    pub(crate) fn insert(&mut self, u: u32) -> bool {
        debug_assert_ne!(u, EMPTY);
        if !self.bits.is_empty() {
            debug_assert!(u < self.universe);
            let w = &mut self.bits[u as usize / 64];
            let was = *w >> (u % 64) & 1 == 1;
            *w |= 1 << (u % 64);
            self.len += usize::from(!was);
            return !was;
        }
        if (self.len + 1) * 10 > self.slots.len() * 7 {
            self.grow();
            if !self.bits.is_empty() {
                return self.insert(u);
            }
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(u);
        loop {
            match self.slots[i] {
                x if x == u => return false,
                EMPTY => {
                    self.slots[i] = u;
                    self.len += 1;
                    return true;
                }
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        if self.universe > 0 && size * 4 >= self.universe as usize / 8 {
            // The table would outgrow a bitset: become one.
            self.bits = vec![0; (self.universe as usize).div_ceil(64)];
            for u in std::mem::take(&mut self.slots).into_iter().filter(|&u| u != EMPTY) {
                self.bits[u as usize / 64] |= 1 << (u % 64);
            }
            return;
        }
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        self.len = 0;
        for u in old.into_iter().filter(|&u| u != EMPTY) {
            self.insert(u);
        }
    }
}

/// Hashes a `u64` key with one `mix`.
#[derive(Default)]
pub(crate) struct MixHasher(u64);
impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        crate::rng::mix(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Each creator's past buyers and e-commerce members, ascending user ids
/// (what the [`PastBuyers`](crate::audience::PastBuyers) and
/// [`EcommerceMembers`](crate::audience::EcommerceMembers) audiences read).
#[derive(Debug, Clone, Default)]
pub(crate) struct Customers {
    pub(crate) buyers: Vec<Vec<u32>>,
    pub(crate) members: Vec<Vec<u32>>,
}

/// Inserts `u` into the ascending list; false if it was there.
pub(crate) fn insert_sorted(list: &mut Vec<u32>, u: u32) -> bool {
    match list.binary_search(&u) {
        Ok(_) => false,
        Err(i) => {
            list.insert(i, u);
            true
        }
    }
}

/// Impressions allowed per slot of a day of `slots` slots, for a daily
/// session `budget`: `floor((s + 1) b / n) - floor(s b / n)` in slot `s`,
/// so a day's slots share the budget exactly. The divisions by the slot
/// count are a multiply and a shift (Granlund and Montgomery, "Division by
/// invariant integers using multiplication", 1994, theorem 4.2: with
/// `2^(l-1) < n <= 2^l` and `m = ceil(2^(N+l) / n)`, `floor(x / n) =
/// floor(m x / 2^(N+l))` for every `x < 2^N`; here N = 40, and the
/// numerators are below `slots × 65,536 <= 2^36`, since a scenario has at
/// most 10^6 slots). The respond phase asks once per viewer and round; a
/// hardware division costs tens of cycles.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotShares {
    m: u64,
    shift: u32,
}

impl SlotShares {
    pub(crate) fn new(slots: u32) -> Self {
        assert!(slots > 0 && slots <= 1 << 20, "slots per day in 1..=2^20");
        let l = u32::BITS - (slots - 1).leading_zeros();
        let shift = 40 + l;
        let m = (1u128 << shift).div_ceil(u128::from(slots));
        SlotShares { m: m as u64, shift }
    }

    #[inline]
    fn div(self, x: u64) -> u64 {
        debug_assert!(x < 1 << 40);
        ((u128::from(x) * u128::from(self.m)) >> self.shift) as u64
    }

    /// Impressions allowed in slot `s` for a daily session `budget`.
    #[inline]
    pub(crate) fn allowance(self, budget: u16, s: u32) -> u32 {
        let (b, s) = (u64::from(budget), u64::from(s));
        (self.div((s + 1) * b) - self.div(s * b)) as u32
    }
}

/// Each creator's followers and iron fans in `g`.
pub(crate) fn follower_counts(g: &FollowGraph) -> Vec<(u32, u32)> {
    (0..g.creators() as u32)
        .map(|c| (g.followers(c), g.iron_fans(c)))
        .collect()
}

/// The mutable state of one run.
pub(crate) struct RunState<'w> {
    /// The follow graph: the world's until the first day's end, the run's
    /// own after (rebuilt each day with dynamics on).
    pub(crate) graph: Cow<'w, FollowGraph>,
    /// Each creator's followers and iron fans at the start of the run.
    pub(crate) start: Vec<(u32, u32)>,
    /// With dynamics on, while the graph is still the world's: the day's
    /// engagement points per edge, added to the scores at the day's end
    /// (so the world's graph is never copied whole). Empty otherwise.
    pub(crate) day_points: Vec<u32>,
    /// The round's engagement points partitioned by edge range (reused).
    pub(crate) points_scratch: Vec<(u32, u32)>,
    pub(crate) buyers: Buyers,
    pub(crate) customers: Customers,
    /// Fan-group members per creator, counted at the start of each day.
    pub(crate) group_members: Vec<u32>,
    pub(crate) creators: Vec<CreatorState>,
    pub(crate) peers: Peers,
    pub(crate) seen_today: Vec<u16>,
    pub(crate) active: Vec<u64>,
    /// Today's active users in the day's order (rebuilt at each day's start).
    pub(crate) today: Today,
    /// Unique reach (written by the respond phase only).
    pub(crate) reach: Reach,
    /// Platform histogram of watch ratios (bins of 0.01).
    pub(crate) ratio_hist: Vec<u64>,
    /// Counts of the impressions at each depth above 0, per channel
    /// (entry `channel × 256 + depth`, see `respond::depth_entry`).
    pub(crate) by_depth: Vec<Tally>,
    /// Commission earned by sharers, in fen ([`crate::feed::FissionParams`]).
    pub(crate) commission_fen: u64,
    pub(crate) pending_follows: Vec<u64>,
    /// The day's fan edges whose fan unfollows after a skipped impression
    /// (removed at the day's end, as other unfollows).
    pub(crate) day_unfollows: Vec<u32>,
    /// Per creator whose cohort has a churn rule: impressions on each of
    /// the last `window_days` days, oldest first (empty otherwise).
    pub(crate) creator_history: Vec<Vec<u64>>,
    pub(crate) creator_today: Vec<u64>,
    pub(crate) stopped_after: Vec<Option<u32>>,
    pub(crate) day_tally: Vec<Tally>,
    pub(crate) counts: Vec<CohortCounts>,
    pub(crate) attention: AttentionReport,
    pub(crate) daily: Vec<DailyCohortReport>,
    /// Shelf and search, when the scenario has them.
    pub(crate) shelf: Option<crate::shelf::ShelfState>,
}

impl<'w> RunState<'w> {
    #[inline]
    pub(crate) fn is_active(&self, u: u32) -> bool {
        self.active[u as usize / 64] >> (u % 64) & 1 == 1
    }

    /// Starts the period a report covers, at a day's start (after a
    /// warm-up): what the report counts (reach, watch ratios, depths,
    /// commission, lifecycle and buyer counts, attention, daily rows) starts
    /// from zero, and the creators' follower counts at the start are
    /// taken now; everything the world carries (the graph, buyers and
    /// members, creator histories and churn, relative-gate peers) stays.
    pub(crate) fn start_period(&mut self, users: usize, cohorts: usize) {
        self.start = follower_counts(&self.graph);
        // The old sets are freed before the new ones are allocated (an
        // assignment would hold both at once: cohorts × users / 8 bytes).
        self.reach = Reach::new(0, 0);
        self.reach = Reach::new(users, cohorts);
        self.ratio_hist.iter_mut().for_each(|x| *x = 0);
        self.by_depth.clear();
        self.commission_fen = 0;
        self.counts = vec![CohortCounts::default(); cohorts];
        self.daily.clear();
        let a = &mut self.attention;
        a.supply = a.supply.map(|_| 0);
        (a.offered, a.served, a.declined) = (0, 0, 0);
        self.buyers.start_period();
        if let Some(shelf) = &mut self.shelf {
            shelf.start_period();
        }
    }

    /// A copy of a state at the start of a period ([`start_period`](Self::start_period)):
    /// what the world carries is cloned, what the report counts is fresh
    /// (it is empty at a period's start, so the copy equals the original),
    /// and what is rebuilt at each day's start is left empty.
    pub(crate) fn fork(&self, users: usize, cohorts: usize) -> RunState<'w> {
        RunState {
            graph: self.graph.clone(),
            start: self.start.clone(),
            day_points: self.day_points.clone(),
            points_scratch: Vec::new(),
            buyers: self.buyers.clone(),
            customers: self.customers.clone(),
            group_members: self.group_members.clone(),
            creators: self.creators.clone(),
            peers: self.peers.clone(),
            seen_today: vec![0; users],
            active: Vec::new(),
            today: Today::default(),
            reach: Reach::new(users, cohorts),
            ratio_hist: vec![0; self.ratio_hist.len()],
            by_depth: Vec::new(),
            commission_fen: 0,
            pending_follows: self.pending_follows.clone(),
            day_unfollows: self.day_unfollows.clone(),
            creator_history: self.creator_history.clone(),
            creator_today: self.creator_today.clone(),
            stopped_after: self.stopped_after.clone(),
            day_tally: self.day_tally.clone(),
            counts: vec![CohortCounts::default(); cohorts],
            attention: self.attention,
            daily: Vec::new(),
            shelf: self.shelf.clone(),
        }
    }

    /// A digest of what a fork carries (for tests that two states are the
    /// same, bit for bit).
    pub(crate) fn digest(&self, h: &mut impl Hasher) {
        let g: &FollowGraph = &self.graph;
        for col in [&g.offsets, &g.iron_end, &g.fans, &g.score] {
            col.hash(h);
        }
        g.since_day.hash(h);
        g.group.hash(h);
        g.low_days.hash(h);
        self.start.hash(h);
        self.day_points.hash(h);
        for (k, b) in self.buyers.settled() {
            (k, b).hash(h);
        }
        self.customers.buyers.hash(h);
        self.customers.members.hash(h);
        self.group_members.hash(h);
        self.peers.digest(h);
        self.pending_follows.hash(h);
        self.day_unfollows.hash(h);
        self.creator_history.hash(h);
        self.creator_today.hash(h);
        self.stopped_after.hash(h);
        for t in &self.day_tally {
            t.hash(h);
        }
        if let Some(shelf) = &self.shelf {
            shelf.digest(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{SlotShares, UserSet};

    #[test]
    fn user_sets_become_bitsets_when_large_and_still_hold_each_member_once() {
        let universe = 100_000u32;
        let mut set = UserSet::with_universe(universe);
        let ids: Vec<u32> = (0..20_000u32)
            .map(|i| i.wrapping_mul(2_654_435_761) % universe)
            .collect();
        let mut expected = std::collections::HashSet::new();
        for (k, &u) in ids.iter().enumerate() {
            assert_eq!(set.insert(u), expected.insert(u), "{u}");
            if k == 100 {
                assert!(set.bits.is_empty(), "small: a table");
            }
        }
        assert!(!set.bits.is_empty() && set.slots.is_empty(), "large: a bitset");
        assert_eq!(set.len, expected.len());
        for u in 0..universe {
            assert_eq!(set.contains(u), expected.contains(&u), "{u}");
        }
        assert!(!set.contains(universe + 5));
    }

    #[test]
    fn user_sets_hold_each_member_once() {
        let mut set = UserSet::default();
        assert!(!set.contains(0));
        // Ids that collide in a small table, and a long run that makes it grow.
        let ids: Vec<u32> = (0..5_000u32)
            .map(|i| i.wrapping_mul(2_654_435_761) % 1_000_003)
            .collect();
        for &u in &ids {
            assert!(set.insert(u), "{u} inserted twice");
        }
        for &u in &ids {
            assert!(!set.insert(u));
            assert!(set.contains(u));
        }
        assert!(set.contains(ids[0]) && !set.contains(1_000_004));
        assert_eq!(set.len, ids.len());
        assert!(set.slots.len() * 7 >= set.len * 10, "at most 70% full");
    }

    #[test]
    fn the_multiply_and_shift_division_is_the_division() {
        // Every slot count up to 2,000, and the largest ones, against u64
        // division, for numerators up to slots × 65,536.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let slot_counts = (1..=2_000u32).chain([4_095, 4_096, 4_097, 65_537, 999_983, 1_000_000, 1 << 20]);
        for n in slot_counts {
            let d = super::SlotShares::new(n);
            let top = u64::from(n) << 16;
            for k in 0..200u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                for v in [
                    x % top,
                    top - 1 - (x % 64).min(top - 1),
                    k * u64::from(n),
                    k * u64::from(n) + u64::from(n) - 1,
                ] {
                    let v = v.min(top - 1);
                    assert_eq!(d.div(v), v / u64::from(n), "{v} / {n}");
                }
            }
        }
    }

    #[test]
    fn slot_allowances_sum_to_the_daily_budget() {
        for budget in [0u16, 1, 7, 42, 66, 1000] {
            for slots in [1u32, 5, 24] {
                let total: u32 = (0..slots).map(|s| SlotShares::new(slots).allowance(budget, s)).sum();
                assert_eq!(total, u32::from(budget), "budget {budget}, {slots} slots");
            }
        }
    }
}
