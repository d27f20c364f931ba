//! Phase 4: responses to the shown offers, drawn from keyed streams.

use rand::RngExt;
use rayon::prelude::*;

use std::sync::atomic::Ordering;

use super::state::{LONG_VIEW, LivePost, NO_EDGE, Offer, RunState, buyer_key, outcome};
use super::{RATIO_BINS, RESPONSE_CHUNK, Simulation};
use crate::content::Post;
use crate::response::{ImpressionContext, Relation, ResponseModel};
use crate::rng::{stream, tag};
use crate::tally::TierTallies;

impl Simulation<'_> {
    /// What the response model sees for offer `o` of `post`, before anything
    /// that depends on the viewer's purchase history.
    #[inline]
    pub(super) fn impression_context(&self, post: &Post, o: &Offer, st: &RunState) -> ImpressionContext {
        let world = self.world;
        let graph = &*st.graph;
        let c = post.creator as usize;
        let fan = o.edge != NO_EDGE;
        let interest = if fan {
            graph.verticality(o.edge)
        } else {
            world.users().interest(o.user, post.category)
        };
        ImpressionContext {
            relation: o.relation,
            quality: f64::from(post.quality),
            interest: f64::from(interest),
            trust: f64::from(world.creators().trust[c]),
            purchase_propensity: f64::from(world.users().purchase_propensity[o.user as usize]),
            price_yuan: post.price_yuan(),
            bought_before: false,
            group_member: fan && graph.edge_in_group(o.edge),
            ecommerce_member: false,
            coupon: false,
            seen_today: u32::from(st.seen_today[o.user as usize]),
        }
    }

    /// Draws every shown offer's response and tallies each post's round by
    /// tier (in parallel over posts and over each post's offers; the sums
    /// are integers, so their order does not matter).
    pub(super) fn respond(&self, live: &mut [LivePost], st: &RunState, model: &dyn ResponseModel, day: u32) {
        live.par_iter_mut().for_each(|lp| self.respond_post(lp, st, model, day));
    }

    fn respond_post(&self, lp: &mut LivePost, st: &RunState, model: &dyn ResponseModel, day: u32) {
        let post = &self.posts[lp.post as usize];
        let cohort_index = self.world.creators().cohort[post.creator as usize] as usize;
        let (cohort, today, strangers) = (
            &st.cohort_reach[cohort_index],
            &st.day_reach[cohort_index],
            &st.stranger_reach[cohort_index],
        );
        let n_cohorts = self.world.cohorts().len();
        let tier_reach = &st.tier_reach;
        let seed = self.seed;
        let parts: Vec<TierTallies> = lp
            .offers
            .par_chunks_mut(RESPONSE_CHUNK)
            .map(|chunk| {
                let mut tiers = TierTallies::default();
                // Watch ratios counted locally, added to the shared
                // histogram once per chunk (not one contended atomic add per
                // impression); counts commute, so the result is the same.
                let mut hist = [0u32; RATIO_BINS];
                for o in chunk {
                    let t = &mut tiers.0[o.tier as usize];
                    if !o.shown {
                        t.offers_not_shown += 1;
                        continue;
                    }
                    let mut ctx = self.impression_context(post, o, st);
                    let p = model.probabilities(&ctx);
                    t.count_impression(o.relation);
                    st.reach.insert(o.user);
                    cohort.insert(o.user);
                    today.insert(o.user);
                    if o.edge == NO_EDGE {
                        strangers.insert(o.user);
                    }
                    tier_reach[4 * cohort_index + o.tier as usize].insert(o.user);
                    tier_reach[4 * n_cohorts + o.tier as usize].insert(o.user);
                    let mut rng = stream(seed, tag::RESPONSE, post.id.into(), o.user.into());
                    // Completion, then the time watched (see WatchParams),
                    // then the other events, from the impression's stream.
                    let completed = rng.random::<f64>() < p.watch;
                    let u: f64 = rng.random();
                    if completed {
                        o.outcome |= outcome::WATCH;
                    }
                    let mut draw = |p: f64, bit: u8| -> bool {
                        let hit = rng.random::<f64>() < p;
                        if hit {
                            o.outcome |= bit;
                        }
                        hit
                    };
                    let w = &self.watch;
                    let ratio = if completed {
                        (1.0 - w.replay_mean * (1.0 - u).ln()).min(w.max_ratio)
                    } else {
                        u.powf(w.partial_shape)
                    };
                    let duration = f64::from(post.duration_s);
                    let long_view = if duration <= w.long_view_s {
                        completed
                    } else {
                        ratio * duration >= w.long_view_s
                    };
                    let milli = (ratio * 1000.0).round() as u32;
                    o.ratio_milli = milli | if long_view { LONG_VIEW } else { 0 };
                    t.watch_ratio_milli += u64::from(milli);
                    t.watch_time_ms += (ratio * duration * 1000.0).round() as u64;
                    t.long_views += u64::from(long_view);
                    hist[((ratio * 100.0) as usize).min(RATIO_BINS - 1)] += 1;
                    if !completed {
                        continue;
                    }
                    t.watches += 1;
                    t.likes += u64::from(draw(p.like, outcome::LIKE));
                    t.comments += u64::from(draw(p.comment, outcome::COMMENT));
                    t.shares += u64::from(draw(p.share, outcome::SHARE));
                    if o.relation == Relation::Stranger {
                        t.follows += u64::from(draw(p.follow, outcome::FOLLOW));
                    }
                    if post.price_fen == 0 || !draw(p.click, outcome::CLICK) {
                        continue;
                    }
                    t.clicks += 1;
                    let mut p_order = p.order;
                    if let Some(b) = st.buyers.get(&buyer_key(post.creator, o.user)) {
                        ctx.bought_before = b.orders > 0;
                        ctx.ecommerce_member = b.member;
                        ctx.coupon = b.coupon_valid(day, self.dynamics.coupon_days);
                        p_order = model.probabilities(&ctx).order;
                    }
                    if draw(p_order, outcome::ORDER) {
                        t.orders += 1;
                        t.gmv_fen += u64::from(post.price_fen);
                        if o.edge != NO_EDGE {
                            t.fan_gmv_fen += u64::from(post.price_fen);
                        }
                        if ctx.bought_before {
                            t.repurchases += 1;
                            o.outcome |= outcome::REPURCHASE;
                        }
                    }
                }
                for (bin, &n) in hist.iter().enumerate().filter(|(_, n)| **n > 0) {
                    st.ratio_hist[bin].fetch_add(u64::from(n), Ordering::Relaxed);
                }
                tiers
            })
            .collect();
        lp.round = parts.iter().fold(TierTallies::default(), |mut a, t| {
            a.add(t);
            a
        });
    }
}
