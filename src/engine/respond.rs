//! Phase 4: the per-viewer pass. Bucket by bucket (in parallel; a bucket is
//! a range of [`BUCKET_USERS`] users, see `choose.rs`), the bucket's offers
//! are sorted by viewer (a counting sort, in cache), and for each viewer in
//! turn: the impression contexts are built once (the viewer's record is read
//! once per round, in user order), the feed picks what is watched when the
//! viewer was offered more than the room (or always, if the feed runs for
//! every viewer), and the responses to the shown
//! offers are drawn from keyed streams.
//!
//! What the pass writes is either its own or deferred: a bucket owns its
//! users' fatigue counters and their words of the reach bitsets; counts go
//! to per-task partial tallies (integers, merged in any order with the same
//! result); effects on shared state (engagement scores, follows, orders) go
//! to per-task lists, concatenated in bucket order and applied at the
//! round's sync point (`apply.rs`).

use rayon::prelude::*;

use super::buyers::buyer_key;
use super::choose::{BUCKET_USERS, ByViewer, Choice, ViewerOffer};
use super::state::{LivePost, NO_EDGE, RunState, SlotShares, outcome};
use super::{RATIO_BINS, Simulation};
use crate::channel::Liker;
use crate::content::Post;
use crate::feed::{Candidate, Viewer};
use crate::response::{ImpressionContext, Relation, ResponseDraw, ResponseModel, WatchTime, event};
use crate::rng::{key_prefix, stream_from, tag};
use crate::tally::{Tally, Tier, TierTallies};

/// What the respond phase hands the apply phase: counts and deferred effects.
pub(crate) struct Round {
    /// Per live post, then per offerer (the stage, then each channel) and
    /// tier: entry `live × (1 + channels) + offerer`.
    pub(crate) tallies: Vec<TierTallies>,
    /// Watch ratios in bins of 0.01.
    pub(crate) ratio_hist: Vec<u64>,
    /// The model's own events, per live post (`live × extra events + i`).
    pub(crate) extra: Vec<u64>,
    /// Engagement points gained per fan edge, in bucket order.
    pub(crate) points: Vec<(u32, u32)>,
    /// Strangers who followed, as `buyer_key(creator, user)`.
    pub(crate) follows: Vec<u64>,
    /// Fan edges whose fan unfollows after a skipped impression
    /// ([`DynamicsParams::unfollow_per_skip`](crate::scenario::DynamicsParams::unfollow_per_skip)).
    pub(crate) unfollows: Vec<u32>,
    /// Orders, as `buyer_key(creator, user)`, one per order.
    pub(crate) orders: Vec<u64>,
    /// With a trace: every impression, unordered.
    pub(crate) trace: Vec<Traced>,
    /// Counts of the impressions at each depth above 0, per channel (see
    /// [`depth_entry`]), grown as depths appear.
    pub(crate) by_depth: Vec<Tally>,
    /// When a channel wants them: each like, as (live post, liker), in
    /// bucket order.
    pub(crate) likes: Vec<(u32, Liker)>,
    /// When a channel wants them: each share, as (live post, sharer).
    pub(crate) shares: Vec<(u32, Liker)>,
    /// Commission earned on orders through shares, in fen.
    pub(crate) commission_fen: u64,
    /// With shelf and search: the impressions that seed a purchase intent,
    /// in bucket order.
    pub(crate) seeds: Vec<crate::shelf::Seed>,
    /// Scratch reused from bucket to bucket.
    scratch: Scratch,
}

/// One impression for [`Simulation::trace`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Traced {
    pub(crate) live: u32,
    pub(crate) user: u32,
    pub(crate) relation: Relation,
    pub(crate) tier: Tier,
    pub(crate) seen_today: u16,
    pub(crate) outcome: u8,
    /// The model's own events, bit `i` for extra event `i`.
    pub(crate) extra: u32,
    pub(crate) long_view: bool,
    pub(crate) ratio_milli: u32,
    /// The offer's source.
    pub(crate) source: &'static str,
    /// The offer's depth.
    pub(crate) depth: u8,
    /// Time watched (for a live session, the stay), ms.
    pub(crate) time_ms: u64,
    /// For a live session: the second of the session the viewer entered at.
    pub(crate) arrival_s: Option<u32>,
}

#[derive(Default)]
struct Scratch {
    counts: Vec<u32>,
    sorted: Vec<ViewerOffer>,
    contexts: Vec<ImpressionContext>,
    candidates: Vec<Candidate>,
    choice: Choice,
}

impl Round {
    fn new() -> Self {
        Round {
            tallies: Vec::new(),
            ratio_hist: vec![0; RATIO_BINS],
            extra: Vec::new(),
            points: Vec::new(),
            follows: Vec::new(),
            unfollows: Vec::new(),
            orders: Vec::new(),
            trace: Vec::new(),
            by_depth: Vec::new(),
            likes: Vec::new(),
            shares: Vec::new(),
            commission_fen: 0,
            seeds: Vec::new(),
            scratch: Scratch::default(),
        }
    }

    /// Empties the round for `entries` tallies (live posts × offerers),
    /// keeping its buffers.
    fn reset(&mut self, entries: usize, extra: usize) {
        self.tallies.clear();
        self.tallies.resize(entries, TierTallies::default());
        self.extra.clear();
        self.extra.resize(extra, 0);
        self.ratio_hist.fill(0);
        self.points.clear();
        self.follows.clear();
        self.unfollows.clear();
        self.orders.clear();
        self.trace.clear();
        self.by_depth.clear();
        self.likes.clear();
        self.shares.clear();
        self.commission_fen = 0;
        self.seeds.clear();
    }

    /// Adds `later` (a later run of buckets) to `self`.
    fn absorb(&mut self, later: &Round) {
        for (a, b) in self.tallies.iter_mut().zip(&later.tallies) {
            a.add(b);
        }
        for (a, b) in self.ratio_hist.iter_mut().zip(&later.ratio_hist) {
            *a += b;
        }
        for (a, b) in self.extra.iter_mut().zip(&later.extra) {
            *a += b;
        }
        self.points.extend_from_slice(&later.points);
        self.follows.extend_from_slice(&later.follows);
        self.unfollows.extend_from_slice(&later.unfollows);
        self.orders.extend_from_slice(&later.orders);
        self.trace.extend_from_slice(&later.trace);
        if self.by_depth.len() < later.by_depth.len() {
            self.by_depth.resize(later.by_depth.len(), Tally::default());
        }
        for (a, b) in self.by_depth.iter_mut().zip(&later.by_depth) {
            a.add(b);
        }
        self.likes.extend_from_slice(&later.likes);
        self.shares.extend_from_slice(&later.shares);
        self.commission_fen += later.commission_fen;
        self.seeds.extend_from_slice(&later.seeds);
    }
}

/// The respond phase's per-task rounds, kept from round to round so that a
/// run allocates them once: task `t` takes the `t`-th run of buckets.
pub(crate) struct Rounds {
    tasks: Vec<Round>,
    /// The round's live posts as the pass reads them, built at its first
    /// pass and read by the others.
    views: Vec<LiveView>,
    /// Whether to record every impression (for [`Simulation::trace`]).
    trace: bool,
    /// Whether to keep each like for the channels (one wants them).
    pub(crate) keep_likers: bool,
    /// Whether to keep each share for the channels (one wants them).
    pub(crate) keep_sharers: bool,
}

impl Rounds {
    pub(crate) fn new(trace: bool) -> Self {
        Rounds {
            tasks: (0..4 * rayon::current_num_threads().max(1))
                .map(|_| Round::new())
                .collect(),
            views: Vec::new(),
            trace,
            keep_likers: false,
            keep_sharers: false,
        }
    }

    /// The round's counts and effects: every task's, summed into the
    /// first's, effects in task order (bucket order within each pass).
    pub(crate) fn merged(&mut self) -> &mut Round {
        let (first, rest) = self.tasks.split_first_mut().expect("at least one task");
        for r in rest.iter() {
            first.absorb(r);
        }
        first
    }
}

/// What one round's pass reads, besides the bucket.
struct Pass<'a> {
    views: &'a [LiveView],
    by: &'a ByViewer,
    st: &'a RunState<'a>,
    model: &'a dyn ResponseModel,
    slot: u32,
    day: u32,
    /// Each channel's source, by channel.
    channel_sources: &'a [&'static str],
    /// Tallies per live post: the stage's, then one per channel.
    stride: usize,
    /// How many events of its own the model names.
    extra_events: usize,
    watch_time: WatchTime,
    /// The model's watch probability for a neutral impression (see
    /// [`Viewer::neutral_watch`]).
    neutral_watch: f64,
    trace: bool,
    keep_likers: bool,
    keep_sharers: bool,
    /// The sharers' commission rate (`[fission]`; 0 without).
    commission: f64,
    /// The factor on follow and unfollow chances (a fast warm-up day's
    /// speed, else 1; [`FastLifecycle`](crate::scenario::FastLifecycle)).
    speed: f64,
}

/// What the pass reads about one live post, looked up once per round: a
/// copy of the post and its creator's figures in one cache line (offers
/// read it at random, once per offer, so no pointer is chased from it; a
/// test keeps it within 64 bytes).
#[repr(C, align(64))]
struct LiveView {
    post: Post,
    /// The creator's trust.
    trust: f32,
    cohort: u16,
    creator_category: u8,
    /// The post's part of its response streams' keys.
    response_key: u64,
    source: &'static str,
}

impl Simulation<'_> {
    /// Runs the per-viewer pass over `buckets` (see the module docs),
    /// adding to the round's counts and effects: from empty if `first` (the
    /// round's first pass), else to those of the round's earlier passes.
    /// [`Rounds::merged`] then gives the round's total.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn respond(
        &self,
        live: &[LivePost],
        by: &ByViewer,
        st: &mut RunState,
        model: &dyn ResponseModel,
        slot: u32,
        rounds: &mut Rounds,
        buckets: std::ops::Range<usize>,
        first: bool,
    ) {
        let day = slot / self.slots_per_day;
        let creators = self.world().creators();
        let channel_sources: Vec<&'static str> = self.channels.iter().map(|c| c.source()).collect();
        let stride = 1 + channel_sources.len();
        let extra_events = model.extra_events().len();
        if first {
            rounds.views.clear();
            rounds.views.extend(live.iter().map(|lp| {
                let post = self.posts[lp.post as usize];
                LiveView {
                    post,
                    trust: creators.trust[post.creator as usize],
                    cohort: creators.cohort(post.creator),
                    creator_category: creators.category(post.creator),
                    response_key: key_prefix(self.seed, tag::RESPONSE, post.id.into()),
                    source: lp.stage.map_or("", |s| s.source()),
                }
            }));
        }
        let mut seen_today = std::mem::take(&mut st.seen_today);
        let pass = Pass {
            views: &rounds.views,
            by,
            st,
            model,
            slot,
            day,
            channel_sources: &channel_sources,
            stride,
            extra_events,
            watch_time: self.watch.watch_time(),
            neutral_watch: model.watch_probability(&ImpressionContext::new(Relation::Stranger, 0.0, 0.0)),
            trace: rounds.trace,
            keep_likers: rounds.keep_likers,
            keep_sharers: rounds.keep_sharers,
            commission: self.fission.map_or(0.0, |f| f.commission),
            speed: self.lifecycle_speed(day),
        };
        let tasks = &mut rounds.tasks;
        if first {
            for round in tasks.iter_mut() {
                round.reset(live.len() * stride, live.len() * extra_events);
            }
        }
        let users = seen_today.len();
        let range = (buckets.start * BUCKET_USERS).min(users)..(buckets.end * BUCKET_USERS).min(users);
        // Task t takes buckets `t·n/T .. (t+1)·n/T` of the pass's n: every
        // task a share within one bucket of the others' (a ceiling share
        // each could leave the last tasks none, and a thread idle at the
        // barrier). Which task answers a bucket changes no result.
        let (n, t_n) = (buckets.len(), tasks.len());
        let mut rest = &mut seen_today[range];
        let mut runs = Vec::with_capacity(t_n);
        for t in 0..t_n {
            let (b0, b1) = (t * n / t_n, (t + 1) * n / t_n);
            let len = ((b1 - b0) * BUCKET_USERS).min(rest.len());
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
            runs.push((buckets.start + b0, head));
            rest = tail;
        }
        runs.into_par_iter()
            .zip(tasks.par_iter_mut())
            .for_each(|((first, seen), round)| {
                for (j, seen) in seen.chunks_mut(BUCKET_USERS).enumerate() {
                    self.respond_bucket(&pass, first + j, seen, round);
                }
            });
        st.seen_today = seen_today;
    }

    fn respond_bucket(&self, pass: &Pass, b: usize, seen: &mut [u16], round: &mut Round) {
        let (views, model, slot) = (pass.views, pass.model, pass.slot);
        let lo = b * BUCKET_USERS;
        let mut s = std::mem::take(&mut round.scratch);
        // Counting sort of the bucket's offers by viewer, straight from the
        // partition's runs (stable: each viewer's offers stay in (post,
        // offer) order).
        let runs = pass.by.bucket(b);
        let n: usize = runs.clone().map(<[ViewerOffer]>::len).sum();
        if n == 0 {
            round.scratch = s;
            return;
        }
        s.counts.clear();
        s.counts.resize(seen.len() + 1, 0);
        for o in runs.clone().flatten() {
            s.counts[o.user as usize - lo + 1] += 1;
        }
        for i in 0..seen.len() {
            s.counts[i + 1] += s.counts[i];
        }
        let first = *runs.clone().flatten().next().expect("n > 0");
        s.sorted.clear();
        s.sorted.resize(n, first);
        for o in runs.flatten() {
            let at = &mut s.counts[o.user as usize - lo];
            s.sorted[*at as usize] = *o;
            *at += 1;
        }
        let finite = !self.feed.shows_everything();
        let spd = self.slots_per_day;
        let shares = SlotShares::new(spd);
        let users = self.world().users();
        let mut start = 0;
        while start < s.sorted.len() {
            let u = s.sorted[start].user;
            let mut end = start + 1;
            while end < s.sorted.len() && s.sorted[end].user == u {
                end += 1;
            }
            let offers = &s.sorted[start..end];
            start = end;
            let room = if finite {
                shares.allowance(users.attention[u as usize], slot % spd) as usize
            } else {
                usize::MAX
            };
            // The feed chooses for a viewer offered more than a room of at
            // least one, and for any other viewer it asks about (a feed of
            // covers asks about every viewer, a followed tab about those
            // offered its posts). Otherwise every offer fits the room and
            // is shown, or there is no room and none is.
            let ranked = (offers.len() > room && room > 0)
                || self.feed.runs_for(room, &|source| {
                    offers.iter().any(|o| {
                        source
                            == match o.channel {
                                0 => views[o.live as usize].source,
                                k => pass.channel_sources[k as usize - 1],
                            }
                    })
                });
            if room == 0 && !ranked {
                // No room left this round: nothing is shown and no context
                // is built.
                for o in offers {
                    not_shown(pass, o, round);
                }
                continue;
            }
            let seen_u = seen[u as usize - lo];
            let propensity = f64::from(users.purchase_propensity[u as usize]);
            s.contexts.clear();
            s.contexts.extend(offers.iter().map(|o| {
                let v = &views[o.live as usize];
                // A fan's verticality (its interest in the creator's
                // category); anyone else's interest in the post's.
                let interest = if o.edge == NO_EDGE {
                    users.interest(u, v.post.category)
                } else {
                    users.interest(u, v.creator_category)
                };
                ImpressionContext {
                    relation: o.relation,
                    quality: f64::from(v.post.quality),
                    interest: f64::from(interest),
                    trust: f64::from(v.trust),
                    purchase_propensity: propensity,
                    price_yuan: v.post.price_yuan(),
                    bought_before: false,
                    group_member: o.tier == Tier::GroupMember,
                    ecommerce_member: false,
                    coupon: false,
                    seen_today: u32::from(seen_u),
                    source: match o.channel {
                        0 => v.source,
                        k => pass.channel_sources[k as usize - 1],
                    },
                    // The sharers' rate, on a post that sells something.
                    commission: if v.post.price_fen > 0 { pass.commission } else { 0.0 },
                }
            }));
            s.choice.shown.clear();
            if ranked {
                s.choice.shown.resize(offers.len(), false);
                s.candidates.clear();
                s.candidates
                    .extend(offers.iter().zip(&s.contexts).map(|(o, ctx)| Candidate {
                        post: views[o.live as usize].post.id,
                        creator: views[o.live as usize].post.creator,
                        tier: o.tier,
                        predicted: model.watch_probability(ctx),
                        tiebreak: 0,
                        source: ctx.source,
                        category: views[o.live as usize].post.category,
                        bonus: 1.0,
                    }));
                let mut viewer = Viewer::new(u, u32::from(seen_u), self.seed);
                viewer.neutral_watch = pass.neutral_watch;
                viewer.slot = slot;
                self.choose_for_viewer(&mut s.candidates, room, slot, &viewer, &mut s.choice);
                if !s.choice.covers.is_empty() {
                    // Each distinct cover once; a played one is a click.
                    s.choice.covers.sort_unstable();
                    s.choice.covers.dedup();
                    for &i in s.choice.covers.iter().filter(|&&i| i < offers.len()) {
                        let o = &offers[i];
                        let t =
                            &mut round.tallies[o.live as usize * pass.stride + o.channel as usize].0[o.tier as usize];
                        t.covers += 1;
                        t.cover_clicks += u64::from(s.choice.shown[i]);
                        if o.depth > 0 {
                            let d = depth_entry(&mut round.by_depth, o.channel, o.depth);
                            d.covers += 1;
                            d.cover_clicks += u64::from(s.choice.shown[i]);
                        }
                    }
                }
            } else {
                s.choice.shown.resize(offers.len(), true);
            }
            let mut watched = 0u16;
            for (i, ((o, ctx), &shown)) in offers.iter().zip(&s.contexts).zip(&s.choice.shown).enumerate() {
                if !shown {
                    not_shown(pass, o, round);
                    continue;
                }
                watched = watched.saturating_add(1);
                // The feed's prediction is the watch probability, computed
                // for a ranked viewer; otherwise the model computes what it
                // needs.
                let p_watch = ranked.then(|| s.candidates[i].predicted);
                self.draw(pass, o, *ctx, p_watch, round);
            }
            seen[u as usize - lo] = seen_u.saturating_add(watched);
        }
        round.scratch = s;
    }

    /// The factor on a store visit by `user` after a lead for `creator`'s
    /// product: a matrix account's `remote_visit_factor` when the user
    /// lives outside its region ([`crate::matrix`]), else 1.
    #[inline]
    fn remote_visit_factor(&self, creator: u32, user: u32) -> f64 {
        let world = self.world();
        let region = world.creators().region(creator);
        match self.rules[usize::from(world.creators().cohort(creator))].matrix {
            Some(m) if world.users().region(user) != region => m.remote_visit_factor,
            _ => 1.0,
        }
    }

    /// Draws one impression's response through the model
    /// ([`ResponseModel::draw`]) and counts it. `p_watch` is the model's
    /// watch probability for `ctx` when the feed ranked by it (computed
    /// once), else `None`.
    #[inline]
    fn draw(&self, pass: &Pass, o: &ViewerOffer, ctx: ImpressionContext, p_watch: Option<f64>, round: &mut Round) {
        let (st, model) = (pass.st, pass.model);
        let v = &pass.views[o.live as usize];
        let post = &v.post;
        st.reach.record(o.user, usize::from(v.cohort), o.tier);
        let history = || self.purchase_history(&st.buyers, post.creator, o.user, pass.day);
        let duration = f64::from(post.duration_s);
        let mut d = ResponseDraw::new(
            stream_from(v.response_key, o.user.into()),
            pass.watch_time,
            duration,
            &history,
        );
        let out = model.draw(&ctx, p_watch, &mut d);
        let has = |bit: u32| out.events & bit != 0;
        // What the engine keeps of the outcome: follows only from
        // strangers, clicks only on a product, orders only after a click.
        let follow = o.relation == Relation::Stranger
            && (has(event::FOLLOW)
                || pass.speed > 1.0 && out.completed && self.sped_up_follow(pass, &ctx, post, o.user));
        let click = post.price_fen > 0 && has(event::CLICK);
        // An offline product's would-be order is a lead, and a lead may
        // visit the store: no order on the platform.
        let offline = if click {
            self.rules[usize::from(v.cohort)].offline
        } else {
            None
        };
        let lead = offline.is_some() && has(event::ORDER);
        let visit = lead
            && offline.is_some_and(|rate| {
                crate::rng::unit(self.seed, tag::STORE_VISIT, post.id.into(), o.user.into())
                    < rate * self.remote_visit_factor(post.creator, o.user)
            });
        // A product bought every `purchase_interval` days is not bought
        // again sooner by the same viewer from the same creator.
        let order = click
            && offline.is_none()
            && has(event::ORDER)
            && !self.bought_too_recently(&st.buyers, post.creator, o.user, pass.day);
        let repurchase = order && d.purchase_history().bought_before;
        let mut bits = 0u8;
        for (on, bit) in [
            (out.completed, outcome::WATCH),
            (has(event::LIKE), outcome::LIKE),
            (has(event::COMMENT), outcome::COMMENT),
            (has(event::SHARE), outcome::SHARE),
            (follow, outcome::FOLLOW),
            (click, outcome::CLICK),
            (order, outcome::ORDER),
            (repurchase, outcome::REPURCHASE),
        ] {
            if on {
                bits |= bit;
            }
        }
        let w = &self.watch;
        // Not NaN, never negative: a model's ratio is clamped to what the
        // scenario allows.
        let ratio = if out.watch_ratio >= 0.0 {
            out.watch_ratio.min(w.max_ratio)
        } else {
            0.0
        };
        let long_view = if duration <= w.long_view_s {
            out.completed
        } else {
            ratio * duration >= w.long_view_s
        };
        let milli = round_to_u64(ratio * 1000.0) as u32;
        // A live session's viewer stays the ratio × the view's minutes from
        // the minute they arrive, never past the session's end.
        let (time_ms, arrival_s) = if post.is_live() {
            let notified = o.channel != 0 && pass.channel_sources[o.channel as usize - 1] == crate::live::LIVE_NOTICE;
            let slot_min = 1440.0 / f64::from(self.slots_per_day);
            let length = duration / 60.0;
            let from = f64::from(pass.slot - post.slot) * slot_min;
            let u = crate::rng::unit(self.seed, tag::ARRIVAL, post.id.into(), o.user.into());
            let arrival = self
                .live
                .arrival_min(notified, u, from, (from + slot_min).min(length), length);
            let stay = (ratio * self.live.view_minutes).min(length - arrival);
            (round_to_u64(stay * 60_000.0), Some((arrival * 60.0) as u32))
        } else {
            (round_to_u64(ratio * duration * 1000.0), None)
        };
        let price = u64::from(post.price_fen);
        let fan = o.edge != NO_EDGE;
        let count = |t: &mut Tally| {
            t.count_impression(o.relation);
            t.watch_ratio_milli += u64::from(milli);
            t.watch_time_ms += time_ms;
            t.long_views += u64::from(long_view);
            t.watches += u64::from(out.completed);
            t.likes += u64::from(has(event::LIKE));
            t.comments += u64::from(has(event::COMMENT));
            t.shares += u64::from(has(event::SHARE));
            t.follows += u64::from(follow);
            t.clicks += u64::from(click);
            if lead {
                t.leads += 1;
                t.store_visits += u64::from(visit);
            }
            if order {
                t.orders += 1;
                t.gmv_fen += price;
                if fan {
                    t.fan_gmv_fen += price;
                } else if follow {
                    t.new_fan_gmv_fen += price;
                }
                t.repurchases += u64::from(repurchase);
            }
        };
        count(&mut round.tallies[o.live as usize * pass.stride + o.channel as usize].0[o.tier as usize]);
        if o.depth > 0 {
            count(depth_entry(&mut round.by_depth, o.channel, o.depth));
        }
        // `ratio` is at most the scenario's `max_ratio`: through i64, one
        // instruction.
        round.ratio_hist[((ratio * 100.0) as i64 as usize).min(RATIO_BINS - 1)] += 1;
        if order {
            round.orders.push(buyer_key(post.creator, o.user));
            // A sharer's commission on an order their share brought.
            if let Some(f) = &self.fission
                && o.channel != 0
                && pass.channel_sources[o.channel as usize - 1] == crate::feed::SHARE
            {
                round.commission_fen += f.commission_fen(post.price_fen);
            }
        }
        // A completed view of an online product that did not end in an
        // order seeds a purchase intent for the creator's category.
        if self.shelf.is_some()
            && out.completed
            && post.price_fen > 0
            && !order
            && self.rules[usize::from(v.cohort)].offline.is_none()
        {
            round.seeds.push(crate::shelf::Seed {
                user: o.user,
                category: v.creator_category,
                clicked: click,
            });
        }
        if pass.keep_sharers && has(event::SHARE) {
            round.shares.push((
                o.live,
                Liker {
                    user: o.user,
                    depth: o.depth,
                    source: ctx.source,
                },
            ));
        }
        if pass.keep_likers && has(event::LIKE) {
            round.likes.push((
                o.live,
                Liker {
                    user: o.user,
                    depth: o.depth,
                    source: ctx.source,
                },
            ));
        }
        let extra = out.events >> event::FIRST_EXTRA;
        if extra != 0 {
            let n = pass.extra_events;
            let counts = &mut round.extra[o.live as usize * n..(o.live as usize + 1) * n];
            for (i, c) in counts.iter_mut().enumerate() {
                *c += u64::from(extra >> i & 1);
            }
        }
        if self.dynamics.enabled {
            if o.edge != NO_EDGE {
                let pts = self.dynamics.points;
                let bit = |b: u8, pts: u32| if bits & b != 0 { pts } else { 0 };
                // Saturating: points are unbounded u32s, and a score
                // saturates too (`add_points`).
                let gained = [
                    bit(outcome::WATCH, pts.watch),
                    bit(outcome::LIKE, pts.like),
                    bit(outcome::COMMENT, pts.comment),
                    bit(outcome::SHARE, pts.share),
                    bit(outcome::CLICK, pts.click),
                    bit(outcome::ORDER, pts.order),
                ]
                .into_iter()
                .fold(0u32, u32::saturating_add);
                if gained > 0 {
                    round.points.push((o.edge, gained));
                } else if self.dynamics.unfollow_per_skip > 0.0
                    && crate::rng::unit(self.seed, tag::UNFOLLOW, post.id.into(), o.user.into())
                        < self.dynamics.unfollow_per_skip * pass.speed
                {
                    // A fan shown the post who did nothing with it.
                    round.unfollows.push(o.edge);
                }
            }
            if follow {
                round.follows.push(buyer_key(post.creator, o.user));
            }
        }
        if pass.trace {
            round.trace.push(Traced {
                live: o.live,
                user: o.user,
                relation: o.relation,
                tier: o.tier,
                seen_today: ctx.seen_today as u16,
                outcome: bits,
                extra,
                long_view,
                ratio_milli: milli,
                source: ctx.source,
                depth: o.depth,
                time_ms,
                arrival_s,
            });
        }
    }

    /// On a fast warm-up day: whether a stranger's watched-through view
    /// the model left unfollowed follows, with chance `(s − 1)·p / (1 − p)`
    /// (at most 1) for the model's follow probability `p` and the speed
    /// `s`, so that a view follows with chance `s·p` in all (at most 1). A
    /// keyed draw of its own: the model's stream is untouched.
    #[cold]
    fn sped_up_follow(&self, pass: &Pass, ctx: &ImpressionContext, post: &Post, user: u32) -> bool {
        let p = pass.model.event_probabilities(ctx).follow;
        let q = if p >= 1.0 {
            1.0
        } else {
            (pass.speed - 1.0) * p / (1.0 - p)
        };
        crate::rng::unit(self.seed, tag::FAST_FOLLOW, post.id.into(), user.into()) < q
    }
}

/// Counts offer `o` as made but not shown.
#[inline]
fn not_shown(pass: &Pass, o: &ViewerOffer, round: &mut Round) {
    round.tallies[o.live as usize * pass.stride + o.channel as usize].0[o.tier as usize].offers_not_shown += 1;
    if o.depth > 0 {
        depth_entry(&mut round.by_depth, o.channel, o.depth).offers_not_shown += 1;
    }
}

/// The counts of channel `channel`'s (from 1) offers at `depth`: entry
/// `channel × 256 + depth` of `by_depth`, grown to hold it.
#[inline]
pub(crate) fn depth_entry(by_depth: &mut Vec<Tally>, channel: u8, depth: u8) -> &mut Tally {
    let i = usize::from(channel) * 256 + usize::from(depth);
    if by_depth.len() <= i {
        by_depth.resize(i + 1, Tally::default());
    }
    &mut by_depth[i]
}

/// `x.round() as u64` for `x >= -0.0` (halves away from zero), without the
/// call into libm that `f64::round` costs on a baseline x86-64 target (one
/// per impression, twice): below 2^52 the truncation is exact and so is
/// the fraction `x - t`; from 2^52 on every double is an integer.
#[inline]
fn round_to_u64(x: f64) -> u64 {
    const EXACT: f64 = 4_503_599_627_370_496.0; // 2^52
    if x < EXACT {
        // Through i64: one instruction, where f64 to u64 takes a branch.
        let t = x as i64 as u64;
        t + u64::from(x - t as i64 as f64 >= 0.5)
    } else {
        x as u64
    }
}

#[cfg(test)]
mod tests {
    use super::round_to_u64;

    #[test]
    fn a_live_view_fits_one_cache_line() {
        assert_eq!(std::mem::size_of::<super::LiveView>(), 64);
    }

    #[test]
    fn the_inline_rounding_is_f64_round() {
        let mut cases = vec![
            -0.0,
            0.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            999.4999999999999,
            999.5,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9.1e18,
            1.9e19,
            f64::MAX,
            f64::INFINITY,
        ];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Ratios up to 5 in thousandths, and times up to hours in ms,
            // and exact halves.
            cases.push((x % 5_000_000) as f64 / 1000.0);
            cases.push((x >> 11) as f64 / (1u64 << 53) as f64 * 3.6e7);
            cases.push((x % 100_000) as f64 + 0.5);
        }
        for v in cases {
            assert_eq!(round_to_u64(v), v.round() as u64, "{v}");
        }
    }
}
