//! Phase 5 and the day's edges: effects write the run state, in post order;
//! a day starts (who is active) and ends (the fan lifecycle, churn, the
//! day's figures).

use rayon::prelude::*;

use super::state::{LONG_VIEW, LivePost, NO_EDGE, RunState, buyer_key, insert_sorted, outcome};
use super::{ImpressionRecord, Simulation, lifecycle};
use crate::metrics::DailyCohortReport;
use crate::tally::ratio;

impl Simulation<'_> {
    /// One post's effects on the run state: fatigue counts, engagement
    /// scores, follows, buyers, memberships and coupons.
    pub(super) fn apply(&self, st: &mut RunState, lp: &LivePost, day: u32) {
        let post = &self.posts[lp.post as usize];
        let c = post.creator;
        let cohort = self.world.creators().cohort(c) as usize;
        let shown = lp.round.total();
        st.day_tally[cohort].add(&shown);
        st.creator_today[c as usize] += shown.impressions;
        st.attention.served += shown.impressions;
        st.attention.declined += shown.offers_not_shown;
        let dynamics = self.dynamics.enabled;
        let points = self.dynamics.points;
        let mut graph = dynamics.then(|| st.graph.to_mut());
        for o in lp.offers.iter().filter(|o| o.shown) {
            let seen = &mut st.seen_today[o.user as usize];
            *seen = seen.saturating_add(1);
            if let Some(g) = graph.as_deref_mut()
                && o.edge != NO_EDGE
            {
                let bit = |b: u8, pts: u32| if o.outcome & b != 0 { pts } else { 0 };
                let gained = bit(outcome::WATCH, points.watch)
                    + bit(outcome::LIKE, points.like)
                    + bit(outcome::COMMENT, points.comment)
                    + bit(outcome::SHARE, points.share)
                    + bit(outcome::CLICK, points.click)
                    + bit(outcome::ORDER, points.order);
                let s = &mut g.score[o.edge as usize];
                *s = s.saturating_add(gained);
            }
            if dynamics && o.outcome & outcome::FOLLOW != 0 {
                st.pending_follows.push(buyer_key(c, o.user));
            }
            if o.outcome & outcome::ORDER != 0 {
                let b = st.buyers.entry(buyer_key(c, o.user)).or_default();
                b.orders += 1;
                if b.orders == 1 {
                    st.counts[cohort].buyers += 1;
                    insert_sorted(&mut st.customers.buyers[c as usize], o.user);
                }
                if b.orders == 2 {
                    st.counts[cohort].repeat_buyers += 1;
                }
                if dynamics {
                    if !b.member {
                        b.member = true;
                        insert_sorted(&mut st.customers.members[c as usize], o.user);
                    }
                    b.issue_coupon(day, self.dynamics.coupon_days);
                }
            }
        }
    }

    pub(super) fn record(&self, log: &mut Vec<ImpressionRecord>, lp: &LivePost, slot: u32, seen_today: &[u16]) {
        let (post, stage) = (lp.post, lp.history.len() as u8);
        log.extend(lp.offers.iter().filter(|o| o.shown).map(|o| ImpressionRecord {
            slot,
            post,
            user: o.user,
            stage,
            relation: o.relation,
            tier: o.tier,
            seen_today: seen_today[o.user as usize],
            watched: o.outcome & outcome::WATCH != 0,
            watch_ratio_milli: o.ratio_milli & !LONG_VIEW,
            long_view: o.ratio_milli & LONG_VIEW != 0,
            liked: o.outcome & outcome::LIKE != 0,
            commented: o.outcome & outcome::COMMENT != 0,
            shared: o.outcome & outcome::SHARE != 0,
            followed: o.outcome & outcome::FOLLOW != 0,
            clicked: o.outcome & outcome::CLICK != 0,
            ordered: o.outcome & outcome::ORDER != 0,
            repurchased: o.outcome & outcome::REPURCHASE != 0,
        }));
    }

    pub(super) fn start_day(&self, st: &mut RunState, day: u32) {
        let users = self.world.users();
        st.active = self.active_users(day);
        st.seen_today.iter_mut().for_each(|x| *x = 0);
        let graph = &*st.graph;
        st.group_members = (0..self.world.creators().len() as u32)
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

    pub(super) fn end_day(&self, st: &mut RunState, day: u32) {
        let world = self.world;
        if self.dynamics.enabled {
            let graph = st.graph.to_mut();
            lifecycle::end_of_day(
                world,
                graph,
                &self.dynamics,
                &self.rules,
                self.seed,
                day,
                &mut st.pending_follows,
                &mut st.buyers,
                &mut st.customers,
                &mut st.counts,
            );
            // Creator churn, during the posting days only.
            for c in 0..world.creators().len() {
                st.creator_history[c].push(st.creator_today[c]);
                let Some(rule) = self.rules[world.creators().cohort(c as u32) as usize].churn else {
                    continue;
                };
                let h = &st.creator_history[c];
                let w = rule.window_days as usize;
                if st.stopped_after[c].is_none() && day + 1 < self.days && h.len() >= w {
                    let recent: u64 = h[h.len() - w..].iter().sum();
                    if recent < rule.min_impressions {
                        st.stopped_after[c] = Some(day);
                    }
                }
            }
        }
        st.creator_today.iter_mut().for_each(|x| *x = 0);
        let graph = &*st.graph;
        for (i, co) in world.cohorts().iter().enumerate() {
            let members = co.first_creator..co.first_creator + co.creators;
            let followers: u64 = members.clone().map(|c| u64::from(graph.followers(c))).sum();
            let iron_fans: u64 = members.clone().map(|c| u64::from(graph.iron_fans(c))).sum();
            let t = std::mem::take(&mut st.day_tally[i]);
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
                unique_reach: st.day_reach[i].count(),
                orders: t.orders,
                gmv_fen: t.gmv_fen,
                repurchases: t.repurchases,
                repurchase_rate: ratio(t.repurchases, t.orders),
                active_creators: members.filter(|&c| st.stopped_after[c as usize].is_none()).count() as u32,
            });
            st.day_reach[i].clear();
        }
    }
}
