//! Phase 5 and the day's edges: the round's deferred effects write the run
//! state at its one sync point; a day starts (who is active) and ends (the
//! fan lifecycle, churn, the day's figures).

use std::borrow::Cow;

use rayon::prelude::*;

use super::buyers::buyer_key;
use super::respond::Round;
use super::state::{LivePost, RunState, insert_sorted, outcome};
use super::{ImpressionRecord, Simulation, lifecycle};
use crate::metrics::DailyCohortReport;
use crate::response::ResponseModel;
use crate::tally::ratio;

impl Simulation<'_> {
    /// The round's effects on the run state, at its one sync point: each
    /// post's counts (fatigue was counted by the respond phase, per
    /// viewer), then engagement scores, follows and orders in bucket order.
    /// Every effect here commutes (sums, saturating sums, set insertions,
    /// the day's coupon), so the state after the round does not depend on
    /// the order; the fixed order is kept all the same.
    pub(super) fn apply(&self, st: &mut RunState, live: &mut [LivePost], round: &Round, day: u32) {
        let stride = 1 + self.channels.len();
        for (lp, t) in live.iter_mut().zip(round.tallies.chunks_exact(stride)) {
            lp.round = t[0];
            let c = self.posts[lp.post as usize].creator;
            let cohort = self.world().creators().cohort(c) as usize;
            for (k, t) in t.iter().enumerate() {
                let shown = t.total();
                st.day_tally[cohort].add(&shown);
                st.creator_today[c as usize] += shown.impressions;
                st.attention.served += shown.impressions;
                st.attention.declined += shown.offers_not_shown;
                // A channel's counts are the post's, not the stage's.
                if k > 0 && shown.impressions + shown.offers_not_shown > 0 {
                    lp.channels_so_far.add(&shown);
                    lp.channels_by_tier.add(t);
                    lp.add_source(self.channels[k - 1].source(), &shown);
                }
            }
        }
        let n = round.extra.len() / live.len().max(1);
        if n > 0 {
            for (lp, e) in live.iter_mut().zip(round.extra.chunks_exact(n)) {
                lp.extra_events.resize(n, 0);
                for (a, b) in lp.extra_events.iter_mut().zip(e) {
                    *a += b;
                }
            }
        }
        for (a, b) in st.ratio_hist.iter_mut().zip(&round.ratio_hist) {
            *a += b;
        }
        if st.by_depth.len() < round.by_depth.len() {
            st.by_depth.resize(round.by_depth.len(), crate::tally::Tally::default());
        }
        for (a, b) in st.by_depth.iter_mut().zip(&round.by_depth) {
            a.add(b);
        }
        st.commission_fen += round.commission_fen;
        // This round's likes and shares, for the channels of the next
        // round: each post's, by user.
        hand_out(&round.likes, live, |lp| &mut lp.likers);
        hand_out(&round.shares, live, |lp| &mut lp.sharers);
        let dynamics = self.dynamics.enabled;
        if dynamics && !round.points.is_empty() {
            // Into the run's own graph; while the graph is still the world's
            // (the first day), into a column of the day's points instead of
            // a copy of the graph.
            let scores = match &mut st.graph {
                Cow::Owned(g) => &mut g.score,
                Cow::Borrowed(g) => {
                    if st.day_points.is_empty() {
                        st.day_points = vec![0; g.edges()];
                    }
                    &mut st.day_points
                }
            };
            add_points(scores, &round.points, &mut st.points_scratch);
        }
        st.pending_follows.extend_from_slice(&round.follows);
        st.day_unfollows.extend_from_slice(&round.unfollows);
        for &k in &round.orders {
            self.record_order(st, k, day);
        }
        if let Some(shelf) = &mut st.shelf {
            shelf.seed(&round.seeds, day);
            // The round's exposure and sales of every product.
            for (lp, t) in live.iter().zip(round.tallies.chunks_exact(stride)) {
                let post = &self.posts[lp.post as usize];
                if post.price_fen > 0 {
                    shelf.expose(post.creator, t.iter().map(|t| t.total().impressions).sum());
                }
            }
            for &k in &round.orders {
                shelf.sold((k >> 32) as u32);
            }
        }
    }

    /// Records an order of `key = buyer_key(creator, user)` on `day`: the
    /// pair's orders (the brand's, for a matrix account; see
    /// [`product_key`](super::buyers::product_key)), the cohort's buyers
    /// and, with dynamics on, the membership and the repurchase coupon.
    pub(super) fn record_order(&self, st: &mut RunState, k: u64, day: u32) {
        let (c, user) = ((k >> 32) as u32, k as u32);
        let cohort = self.world().creators().cohort(c) as usize;
        // A matrix's accounts share one history per buyer.
        let b = st.buyers.entry(self.product_key(c, user));
        let order = b.add_order(day);
        if order.orders == 1 {
            insert_sorted(&mut st.customers.buyers[c as usize], user);
        }
        st.counts[cohort].buyers += u64::from(order.new_buyer);
        st.counts[cohort].repeat_buyers += u64::from(order.new_repeat_buyer);
        if self.dynamics.enabled {
            if !b.member {
                b.member = true;
                insert_sorted(&mut st.customers.members[c as usize], user);
            }
            b.issue_coupon(day, self.dynamics.coupon_days);
        }
    }

    /// The day's searches and shelf visits ([`crate::shelf`]), when the
    /// scenario has them: drawn from the day's intents, their orders
    /// recorded as feed orders are; then the night's decay.
    fn shop(&self, st: &mut RunState, model: &dyn ResponseModel, day: u32) {
        let Some(mut shelf) = st.shelf.take() else {
            return;
        };
        let world = self.world();
        let orders = {
            let st = &*st;
            let active = |u: u32| st.is_active(u);
            let history = |c: u32, u: u32| self.purchase_history(&st.buyers, c, u, day);
            let online = |c: u32| self.rules[usize::from(world.creators().cohort(c))].offline.is_none();
            let too_soon = |c: u32, u: u32| self.bought_too_recently(&st.buyers, c, u, day);
            shelf.shop(crate::shelf::Day {
                world,
                graph: &st.graph,
                model,
                seed: self.seed,
                day,
                active: &active,
                history: &history,
                online: &online,
                too_soon: &too_soon,
            })
        };
        for (c, u) in orders {
            self.record_order(st, buyer_key(c, u), day);
        }
        shelf.decay();
        st.shelf = Some(shelf);
    }

    /// Appends the round's impressions to `log`, in post order and, within
    /// a post, in offer order. O(offers of the traced posts × log): for
    /// traces of small worlds.
    pub(super) fn record(&self, log: &mut Vec<ImpressionRecord>, live: &[LivePost], round: &mut Round, slot: u32) {
        // Each traced post's offers as (user, offer index), by user.
        let mut index: Vec<Vec<(u32, u32)>> = vec![Vec::new(); live.len()];
        for t in &round.trace {
            let i = &mut index[t.live as usize];
            if i.is_empty() {
                i.extend(
                    live[t.live as usize]
                        .offers
                        .iter()
                        .enumerate()
                        .map(|(k, &u)| (u, k as u32)),
                );
                i.sort_unstable();
            }
        }
        let position = |t: &super::respond::Traced| {
            let i = &index[t.live as usize];
            let k = i.binary_search_by_key(&t.user, |e| e.0).map_or(u32::MAX, |k| i[k].1);
            (t.live, k)
        };
        round.trace.sort_unstable_by_key(position);
        log.extend(round.trace.iter().map(|t| {
            let lp = &live[t.live as usize];
            let bit = |b: u8| t.outcome & b != 0;
            ImpressionRecord {
                slot,
                post: lp.post,
                user: t.user,
                stage: lp.history.len() as u8,
                source: t.source,
                depth: t.depth,
                extra_events: t.extra,
                relation: t.relation,
                tier: t.tier,
                seen_today: t.seen_today,
                watched: bit(outcome::WATCH),
                watch_ratio_milli: t.ratio_milli,
                long_view: t.long_view,
                liked: bit(outcome::LIKE),
                commented: bit(outcome::COMMENT),
                shared: bit(outcome::SHARE),
                followed: bit(outcome::FOLLOW),
                clicked: bit(outcome::CLICK),
                ordered: bit(outcome::ORDER),
                repurchased: bit(outcome::REPURCHASE),
                watch_time_ms: t.time_ms,
                live_arrival_s: t.arrival_s,
            }
        }));
    }

    pub(super) fn start_day(&self, st: &mut RunState, day: u32) {
        let users = self.world().users();
        st.active = self.active_users(day);
        st.today.rebuild(self.world(), self.seed, day, &st.active);
        st.seen_today.iter_mut().for_each(|x| *x = 0);
        let graph = &*st.graph;
        st.group_members = (0..self.world().creators().len() as u32)
            .into_par_iter()
            .map(|c| graph.group_members(c))
            .collect();
        if let Some(supply) = st.attention.supply.as_mut() {
            *supply += st
                .active
                .par_iter()
                .enumerate()
                .map(|(w, &bits)| {
                    (0..64)
                        .filter(|b| bits >> b & 1 == 1)
                        .map(|b| u64::from(users.attention[w * 64 + b]))
                        .sum::<u64>()
                })
                .sum::<u64>();
        }
    }

    pub(super) fn end_day(&self, st: &mut RunState, model: &dyn ResponseModel, day: u32) {
        self.shop(st, model, day);
        let world = self.world();
        // The night's lifecycle counts are the run's totals' growth.
        let before = st.counts.clone();
        if self.dynamics.enabled {
            let points = std::mem::take(&mut st.day_points);
            let mut unfollows = std::mem::take(&mut st.day_unfollows);
            unfollows.sort_unstable();
            unfollows.dedup();
            let rules = lifecycle::Lifecycle {
                world,
                d: &self.dynamics,
                rules: &self.rules,
                seed: self.seed,
            };
            let night = lifecycle::Night {
                follows: &mut st.pending_follows,
                buyers: &mut st.buyers,
                customers: &mut st.customers,
                counts: &mut st.counts,
            };
            // The first night of a run on a borrowed world copies its graph
            // (the day's points were kept apart until now); later nights,
            // and runs that own their world, rebuild the run's graph in place.
            lifecycle::end_of_day(&rules, day, st.graph.to_mut(), &points, &unfollows, night);
            // The night's scratch (per-row buffers, plans) is freed; give it
            // back rather than keep it resident all day.
            crate::trim::release_free_memory();
            // Creator churn, during the posting days only. A creator's
            // history keeps the rule's window of days and no more (nothing
            // else reads it): at 10M users a month of every creator's days
            // held about 0.1 GB.
            for c in 0..world.creators().len() {
                let Some(rule) = self.rules[world.creators().cohort(c as u32) as usize].churn else {
                    continue;
                };
                let w = rule.window_days as usize;
                let h = &mut st.creator_history[c];
                if h.len() == w {
                    h.remove(0);
                }
                h.push(st.creator_today[c]);
                // The history holds the window once it is full.
                if st.stopped_after[c].is_none() && day + 1 < self.days && h.len() == w {
                    let recent: u64 = h.iter().sum();
                    if recent < rule.min_impressions {
                        st.stopped_after[c] = Some(day);
                    }
                }
            }
        }
        // The day's new buyers join the sorted columns.
        st.buyers.settle();
        st.creator_today.iter_mut().for_each(|x| *x = 0);
        let graph = &*st.graph;
        for (i, co) in world.cohorts().iter().enumerate() {
            let members = co.first_creator..co.first_creator + co.creators;
            let followers: u64 = members.clone().map(|c| u64::from(graph.followers(c))).sum();
            let iron_fans: u64 = members.clone().map(|c| u64::from(graph.iron_fans(c))).sum();
            let t = std::mem::take(&mut st.day_tally[i]);
            let (now, was) = (&st.counts[i], &before[i]);
            st.daily.push(DailyCohortReport {
                day,
                cohort: co.name.clone(),
                followers,
                iron_fans,
                iron_fan_ratio: ratio(iron_fans, followers),
                group_members: members.clone().map(|c| u64::from(graph.group_members(c))).sum(),
                ecommerce_members: members
                    .clone()
                    .map(|c| st.customers.members[c as usize].len() as u64)
                    .sum(),
                impressions: t.impressions,
                unique_reach: st.reach.today(i),
                orders: t.orders,
                gmv_fen: t.gmv_fen,
                repurchases: t.repurchases,
                repurchase_rate: ratio(t.repurchases, t.orders),
                active_creators: members.filter(|&c| st.stopped_after[c as usize].is_none()).count() as u32,
                follows_added: now.follows_added - was.follows_added,
                unfollows: now.unfollows - was.unfollows,
                promotions: now.promotions - was.promotions,
                demotions: now.demotions - was.demotions,
                iron_unfollows: now.iron_unfollows - was.iron_unfollows,
            });
        }
        st.reach.new_day();
    }
}

/// Adds each `(edge, points)` of `points` to `scores[edge]`, saturating, in
/// parallel: the points are partitioned by edge range (a counting sort into
/// one range per task, in `scratch`), and each task adds its range's points
/// to its own part of the column. Saturating sums of non-negative numbers
/// are `min(u32::MAX, total)` in any order, so the scores are the same as
/// in a serial pass, bit for bit; no atomics, no serial pass of random
/// writes over the column.
pub(crate) fn add_points(scores: &mut [u32], points: &[(u32, u32)], scratch: &mut Vec<(u32, u32)>) {
    const SERIAL_BELOW: usize = 1 << 14;
    if points.len() < SERIAL_BELOW || scores.is_empty() {
        for &(e, gained) in points {
            let s = &mut scores[e as usize];
            *s = s.saturating_add(gained);
        }
        return;
    }
    let tasks = 4 * rayon::current_num_threads().max(1);
    let range = scores.len().div_ceil(tasks);
    let mut starts = vec![0usize; tasks + 1];
    for &(e, _) in points {
        starts[e as usize / range + 1] += 1;
    }
    for t in 0..tasks {
        starts[t + 1] += starts[t];
    }
    scratch.clear();
    scratch.resize(points.len(), (0, 0));
    let mut at = starts.clone();
    for &p in points {
        let t = p.0 as usize / range;
        scratch[at[t]] = p;
        at[t] += 1;
    }
    let scratch: &[(u32, u32)] = scratch;
    scores.par_chunks_mut(range).enumerate().for_each(|(t, part)| {
        let base = t * range;
        for &(e, gained) in &scratch[starts[t]..starts[t + 1]] {
            let s = &mut part[e as usize - base];
            *s = s.saturating_add(gained);
        }
    });
}

/// Gives each live post its entries of `events` (a round's likes or
/// shares, as (live post, user)) in the list `list` picks, by user, in place
/// of the round before's. Touches nothing when both are empty (no channel
/// asked for them).
fn hand_out(
    events: &[(u32, crate::channel::Liker)],
    live: &mut [LivePost],
    list: for<'a, 'p> fn(&'a mut LivePost<'p>) -> &'a mut Vec<crate::channel::Liker>,
) {
    if events.is_empty() && live.iter_mut().all(|lp| list(lp).is_empty()) {
        return;
    }
    for lp in live.iter_mut() {
        list(lp).clear();
    }
    for &(i, who) in events {
        list(&mut live[i as usize]).push(who);
    }
    for lp in live.iter_mut() {
        list(lp).sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::add_points;

    /// The parallel, partitioned addition equals the serial one, with
    /// repeated edges, edges at range boundaries and saturating sums.
    #[test]
    fn points_added_in_parallel_are_points_added_in_order() {
        for (edges, n) in [(1_000usize, 100usize), (100_003, 200_000), (7, 50_000)] {
            let start: Vec<u32> = (0..edges as u64).map(|e| (crate::rng::mix(e) % 1000) as u32).collect();
            let mut points: Vec<(u32, u32)> = (0..n as u64)
                .map(|k| ((crate::rng::mix(k ^ 99) % edges as u64) as u32, (k % 9) as u32))
                .collect();
            points.push((0, u32::MAX - 5));
            points.push(((edges - 1) as u32, u32::MAX));
            let mut serial = start.clone();
            for &(e, p) in &points {
                serial[e as usize] = serial[e as usize].saturating_add(p);
            }
            let mut parallel = start.clone();
            add_points(&mut parallel, &points, &mut Vec::new());
            assert_eq!(parallel, serial);
            assert_ne!(parallel, start);
            assert_eq!(parallel[edges - 1], u32::MAX);
        }
    }
}
