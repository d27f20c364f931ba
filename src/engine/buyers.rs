//! What the engine remembers about each (creator, user) pair that has
//! bought or holds an e-commerce membership: orders, membership and the
//! repurchase coupon.
//!
//! Pairs accumulate over a run and are never removed: at 10M users,
//! `growth.toml` under iron-fan first holds more than 15M of them from its
//! 17th day of 30 (measured). They are kept in rows by creator, as in the
//! follow graph: each creator's run of users, ascending, and their states
//! (4 B of user and 6 B of state a pair, and 8 B a creator for where its
//! run starts; 16 B a pair when the key was kept whole), with the
//! pairs first seen since the day's start in a small hash map beside them,
//! merged into the columns each night. A hash map of all pairs doubled its
//! table when it filled (measured on day 17 of that run: 14.6M pairs in a
//! table of 14.7M, then one of 29.4M, both held during the move, +0.62 GB
//! at the peak); the columns grow by exactly the night's new pairs, and a
//! large `Vec` grows by remapping its pages, without a second copy.
//! Looking a pair up costs a binary search in its creator's run, and the
//! engine does so only
//! for an order (apply phase) or when a click is being turned into an order
//! (respond phase), not for every impression.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::lifecycle::CohortRules;
use super::state::MixHasher;
use crate::response::PurchaseHistory;
use crate::world::World;

/// What the engine remembers about a (creator, user) pair that has bought
/// or holds a membership.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct BuyerState {
    /// The coupon is valid on days before this one (at most
    /// `MAX_DAYS + COUPON_FOREVER`, 60,001, so 16 bits hold it).
    coupon_until: u16,
    /// The day of the pair's last order (meaningful once it has one; days
    /// stop below `MAX_DAYS`, 30,000, so 16 bits hold them): what a
    /// product's purchase interval reads.
    last_order_day: u16,
    /// Bits 0–6: orders so far, saturating at 127 (only "none", "one" and
    /// "two or more" are ever read). Bit 7: whether the pair has ordered
    /// in the period the report covers (the run, or the days after a
    /// warm-up; see [`BuyerState::add_order`]). One byte, so that the
    /// state stays 6 bytes.
    orders_and_period: u8,
    pub(crate) member: bool,
}

/// More days than any run has (days stop below
/// [`MAX_DAYS`](crate::scenario::MAX_DAYS)): a coupon at least this long
/// is valid to the run's end.
const COUPON_FOREVER: u32 = crate::scenario::MAX_DAYS + 1;

const IN_PERIOD: u8 = 0x80;
const MAX_ORDERS: u8 = 0x7f;

/// What an order makes of its (creator, user) pair in the period the
/// report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrderCount {
    /// The pair's orders so far, this one included (1 for its first ever).
    pub(crate) orders: u8,
    /// The pair's first order in the period: a buyer of the period.
    pub(crate) new_buyer: bool,
    /// The order makes the pair a repeat buyer of the period: a buyer of
    /// the period who had ordered before (in the period or earlier).
    /// Counted once per pair, so repeat buyers are a subset of buyers.
    pub(crate) new_repeat_buyer: bool,
}

impl BuyerState {
    /// Records an order on `day`: a coupon valid on the next `coupon_days`
    /// days (`day + 1 ..= day + coupon_days`). A coupon longer than any
    /// run ("for ever", up to `u32::MAX` days) counts as [`COUPON_FOREVER`]
    /// days, so the sum cannot wrap.
    pub(crate) fn issue_coupon(&mut self, day: u32, coupon_days: u32) {
        // Days stop below MAX_DAYS, so the sum is at most 60,001.
        self.coupon_until = (day + coupon_days.min(COUPON_FOREVER) + 1) as u16;
    }

    /// Whether the coupon is valid on `day`.
    pub(crate) fn coupon_valid(&self, day: u32, coupon_days: u32) -> bool {
        let until = u32::from(self.coupon_until);
        day < until && day + coupon_days.min(COUPON_FOREVER) >= until
    }

    /// Counts an order (orders saturate). A pair is a buyer of the period
    /// at its first order in it, and a repeat buyer of the period at the
    /// order that makes it one who had ordered before: at its first order
    /// in the period if it had ordered before the period, else at its
    /// second. Without a warm-up the period is the run, and these are the
    /// pair's first and second orders.
    pub(crate) fn add_order(&mut self, day: u32) -> OrderCount {
        let orders = (self.orders_and_period & MAX_ORDERS).saturating_add(1).min(MAX_ORDERS);
        let new_buyer = self.orders_and_period & IN_PERIOD == 0;
        self.orders_and_period = orders | IN_PERIOD;
        self.last_order_day = day as u16;
        OrderCount {
            orders,
            new_buyer,
            new_repeat_buyer: if new_buyer { orders >= 2 } else { orders == 2 },
        }
    }

    /// Whether the pair ordered within the `days` days before `day` (its
    /// last order on day `day - days + 1` or later): a product bought
    /// every `days` days is not bought again sooner. Never with `days` 0.
    pub(crate) fn ordered_within(&self, day: u32, days: u32) -> bool {
        self.bought_before() && day < u32::from(self.last_order_day) + days
    }

    /// Whether the pair has ordered before.
    pub(crate) fn bought_before(&self) -> bool {
        self.orders_and_period & MAX_ORDERS > 0
    }
}

/// The key of a (creator, user) pair: the creator in the high half, so
/// keys sort by creator, then user.
#[inline]
pub(crate) fn buyer_key(creator: u32, user: u32) -> u64 {
    (u64::from(creator) << 32) | u64::from(user)
}

/// The key under which `user`'s purchase history with `creator`'s product
/// is kept: the pair's own, or, for an account of a matrix (which shares
/// its product, [`crate::matrix`]), the pair of the user and the matrix's
/// first account.
#[inline]
pub(crate) fn product_key(world: &World, rules: &[CohortRules], creator: u32, user: u32) -> u64 {
    let cohort = usize::from(world.creators().cohort(creator));
    match rules[cohort].matrix {
        Some(_) => buyer_key(world.cohorts()[cohort].first_creator, user),
        None => buyer_key(creator, user),
    }
}

impl super::Simulation<'_> {
    /// The key of `user`'s purchase history with `creator`'s product (see
    /// [`product_key`]).
    #[inline]
    pub(super) fn product_key(&self, creator: u32, user: u32) -> u64 {
        product_key(self.world(), &self.rules, creator, user)
    }

    /// What `user` has done with `creator` before `day`, as a response
    /// model reads it: the feed's impressions and the shelf's and search's
    /// listings alike.
    pub(super) fn purchase_history(&self, buyers: &Buyers, creator: u32, user: u32, day: u32) -> PurchaseHistory {
        match buyers.get(self.product_key(creator, user)) {
            Some(b) => PurchaseHistory {
                bought_before: b.bought_before(),
                ecommerce_member: b.member,
                coupon: b.coupon_valid(day, self.dynamics.coupon_days),
            },
            None => PurchaseHistory::default(),
        }
    }

    /// Whether `user` ordered `creator`'s product within its purchase
    /// interval before `day` (and so does not order it again), wherever
    /// the order would come from. Never without an interval.
    pub(super) fn bought_too_recently(&self, buyers: &Buyers, creator: u32, user: u32, day: u32) -> bool {
        let interval = self.rules[usize::from(self.world().creators().cohort(creator))].purchase_interval;
        interval > 0
            && buyers
                .get(self.product_key(creator, user))
                .is_some_and(|b| b.ordered_within(day, interval))
    }
}

/// Every (creator, user) pair that has bought or holds a membership (see
/// the module docs).
#[derive(Debug, Default, Clone)]
pub(crate) struct Buyers {
    /// Settled pairs by creator: creator `c`'s users are
    /// `users[starts[c]..starts[c + 1]]` (creators past the end have none).
    starts: Vec<u64>,
    /// Settled pairs' users, ascending within each creator's run.
    users: Vec<u32>,
    /// Their states, in the same order.
    states: Vec<BuyerState>,
    /// Pairs first seen since the last [`Buyers::settle`].
    recent: HashMap<u64, BuyerState, BuildHasherDefault<MixHasher>>,
}

impl Buyers {
    /// Starts a new period (after a warm-up): no pair has ordered in it.
    pub(crate) fn start_period(&mut self) {
        self.settle();
        self.states.iter_mut().for_each(|s| s.orders_and_period &= !IN_PERIOD);
    }

    /// Every pair and its state, by key (after [`settle`](Self::settle)).
    pub(crate) fn settled(&self) -> impl Iterator<Item = (u64, BuyerState)> + '_ {
        debug_assert!(self.recent.is_empty());
        self.starts.windows(2).enumerate().flat_map(move |(c, w)| {
            let run = w[0] as usize..w[1] as usize;
            self.users[run.clone()]
                .iter()
                .zip(&self.states[run])
                .map(move |(&u, &s)| (buyer_key(c as u32, u), s))
        })
    }

    /// Where the settled pair `key` is in the columns, if it is there.
    #[inline]
    fn find(&self, key: u64) -> Option<usize> {
        let c = (key >> 32) as usize;
        let (lo, hi) = (*self.starts.get(c)? as usize, *self.starts.get(c + 1)? as usize);
        self.users[lo..hi].binary_search(&(key as u32)).ok().map(|i| lo + i)
    }

    /// The pair's state, if it has one.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<&BuyerState> {
        match self.find(key) {
            Some(i) => Some(&self.states[i]),
            None => self.recent.get(&key),
        }
    }

    /// The pair's state, created empty if it has none.
    pub(crate) fn entry(&mut self, key: u64) -> &mut BuyerState {
        match self.find(key) {
            Some(i) => &mut self.states[i],
            None => self.recent.entry(key).or_default(),
        }
    }

    /// Pairs remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.users.len() + self.recent.len()
    }

    /// Merges the pairs first seen since the last call into the sorted
    /// columns (the engine calls it each night). O(pairs + creators): the
    /// columns grow by the new pairs exactly and are merged from the back
    /// in place.
    pub(crate) fn settle(&mut self) {
        if self.recent.is_empty() {
            return;
        }
        let mut new: Vec<(u64, BuyerState)> = self.recent.drain().collect();
        new.sort_unstable_by_key(|&(k, _)| k);
        let creators = (new[new.len() - 1].0 >> 32) as usize + 1;
        if self.starts.len() < creators + 1 {
            let end = self.starts.last().copied().unwrap_or(0);
            self.starts.resize(creators + 1, end);
        }
        let (old, add) = (self.users.len(), new.len());
        self.users.reserve_exact(add);
        self.states.reserve_exact(add);
        self.users.resize(old + add, 0);
        self.states.resize(old + add, BuyerState::default());
        // Merge from the back: the write position never overtakes the
        // unread settled pairs, since `w = i + j` with `j` new pairs left.
        // `c` is the creator of settled pair `i - 1`.
        let (mut i, mut j) = (old, add);
        let mut c = self.starts.len() - 2;
        while j > 0 {
            let (k, s) = new[j - 1];
            while i > 0 && self.starts[c] as usize >= i {
                c -= 1;
            }
            if i > 0 && buyer_key(c as u32, self.users[i - 1]) > k {
                self.users[i + j - 1] = self.users[i - 1];
                self.states[i + j - 1] = self.states[i - 1];
                i -= 1;
            } else {
                self.users[i + j - 1] = k as u32;
                self.states[i + j - 1] = s;
                j -= 1;
            }
        }
        // Each creator's run moves up by the new pairs of the creators
        // before it.
        let mut before = 0u64;
        let mut next = new.iter().peekable();
        for (c, start) in self.starts.iter_mut().enumerate() {
            *start += before;
            while next.next_if(|&&(k, _)| (k >> 32) as usize == c).is_some() {
                before += 1;
            }
        }
        // The day's table is kept for the next day (its size is a day's new
        // pairs, not the run's).
    }
}

#[cfg(test)]
mod tests {
    use super::{BuyerState, Buyers, buyer_key};
    use std::collections::HashMap;

    #[test]
    fn coupons_are_valid_for_their_window_only() {
        let mut b = BuyerState::default();
        assert!(!b.coupon_valid(0, 7));
        b.issue_coupon(3, 7);
        assert!(!b.coupon_valid(3, 7), "not on the purchase day itself");
        assert!((4..=10).all(|d| b.coupon_valid(d, 7)));
        assert!(!b.coupon_valid(11, 7), "expired after 7 days");
        assert!(!b.coupon_valid(40, 7));
        // "Forever" does not wrap into "never".
        let mut forever = BuyerState::default();
        forever.issue_coupon(3, u32::MAX);
        assert!(!forever.coupon_valid(3, u32::MAX));
        assert!([4, 100, 29_999].iter().all(|&d| forever.coupon_valid(d, u32::MAX)));
    }

    #[test]
    fn orders_saturate_instead_of_wrapping() {
        let mut b = BuyerState::default();
        assert!(!b.bought_before());
        assert_eq!(b.add_order(0).orders, 1);
        assert!(b.bought_before());
        for _ in 0..70_000 {
            b.add_order(0);
        }
        assert_eq!(b.add_order(0).orders, 127);
        assert!(b.bought_before());
    }

    /// A pair is a buyer of a period once and a repeat buyer of it at most
    /// once, and only if it is a buyer of it: with a new period (after a
    /// warm-up), a pair that bought before counts as a repeat buyer at its
    /// first order in the period.
    #[test]
    fn repeat_buyers_of_a_period_are_buyers_of_it() {
        let count = |b: &mut BuyerState| {
            let o = b.add_order(0);
            (o.new_buyer, o.new_repeat_buyer)
        };
        let mut b = BuyerState::default();
        assert_eq!(count(&mut b), (true, false), "first order");
        assert_eq!(count(&mut b), (false, true), "second");
        assert_eq!(count(&mut b), (false, false), "third");
        let mut buyers = Buyers::default();
        let (old, new) = (buyer_key(1, 2), buyer_key(1, 3));
        buyers.entry(old).add_order(0);
        buyers.entry(new);
        buyers.start_period();
        assert_eq!(count(buyers.entry(old)), (true, true), "bought before the period");
        assert_eq!(count(buyers.entry(old)), (false, false));
        assert_eq!(count(buyers.entry(new)), (true, false), "never bought before");
        assert_eq!(count(buyers.entry(new)), (false, true));
    }

    #[test]
    fn a_purchase_interval_counts_from_the_last_order() {
        let mut b = BuyerState::default();
        assert!(!b.ordered_within(5, 30), "no order yet");
        b.add_order(10);
        assert!(b.ordered_within(10, 30) && b.ordered_within(39, 30));
        assert!(!b.ordered_within(40, 30));
        assert!(!b.ordered_within(10, 0), "no interval");
        b.add_order(45);
        assert!(b.ordered_within(74, 30) && !b.ordered_within(75, 30));
    }

    #[test]
    fn a_buyer_state_stays_six_bytes() {
        assert_eq!(std::mem::size_of::<BuyerState>(), 6);
    }

    /// Days of orders and memberships, with repeats within a day, across
    /// days and of pairs settled long ago, against a plain hash map: every
    /// pair's state agrees at every step, and settling keeps the columns
    /// sorted without losing or duplicating a pair.
    #[test]
    fn buyers_agree_with_a_hash_map_across_days_of_updates() {
        let mut buyers = Buyers::default();
        let mut plain: HashMap<u64, BuyerState> = HashMap::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for day in 0..12u32 {
            // More new pairs on some days than are settled, fewer on others.
            let events = if day % 3 == 0 { 4_000 } else { 900 };
            for _ in 0..events {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Creators first seen on later days, above and between
                // those already settled, and creators with no pair.
                let key = buyer_key(((x % 37) * u64::from(day % 4 + 1)) as u32, ((x >> 20) % 3_000) as u32);
                let (a, b) = (buyers.entry(key), plain.entry(key).or_default());
                if x >> 60 < 10 {
                    assert_eq!(a.add_order(0), b.add_order(0));
                    a.issue_coupon(day, 5);
                    b.issue_coupon(day, 5);
                } else {
                    a.member = true;
                    b.member = true;
                }
                assert_eq!(buyers.get(key), plain.get(&key));
                assert_eq!(buyers.len(), plain.len());
            }
            buyers.settle();
            assert!(buyers.recent.is_empty());
            let keys: Vec<u64> = buyers.settled().map(|(k, _)| k).collect();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "ascending, no pair twice");
            assert_eq!(keys.len(), plain.len());
            for (k, s) in &plain {
                assert_eq!(buyers.get(*k), Some(s), "{k:x} after day {day}");
            }
            assert_eq!(buyers.get(buyer_key(200, 0)), None);
            assert_eq!(buyers.get(buyer_key(37, 5)), None, "a creator with no pair");
        }
    }
}
