//! The bulk-synchronous engine.
//!
//! Time runs in slots (`feed.slots_per_day` per day). Each slot is one
//! round:
//!
//! 1. **Enter.** Posts published in this slot become live at their first
//!    stage (unless their creator has stopped posting).
//! 2. **Offer.** Every live post, in parallel, lists the users of its current
//!    stage's audience (see [`crate::policy`]) who are active that day and
//!    have not been offered the post before.
//! 3. **Admit.** With unlimited attention every offer is accepted. With
//!    finite attention each user accepts at most the slot's share of the
//!    daily budget: all offers of the slot are sorted by (user, stage
//!    priority, hash of (seed, slot, user, post)) and each user takes the
//!    first ones; the rest are declined (see
//!    [`crate::scenario::AttentionParams`]).
//! 4. **Respond.** The responses to all accepted offers are drawn in
//!    parallel, each from its own `Xoshiro256PlusPlus` stream keyed
//!    `(seed, post, user)`, and summed per post into integer tallies.
//! 5. **Gate.** In post order, each post's gate decides whether it advances
//!    to its next stage in the next slot, stops, or has completed.
//! 6. **Apply.** In post order and, within a post, offer order: each
//!    viewer's count of impressions today (fatigue) grows; with dynamics on,
//!    fans' engagement scores grow by the points of what they did, follows
//!    are queued, buyers become e-commerce members and receive a repurchase
//!    coupon; buyers are always recorded (for repurchases).
//!
//! At the end of each day, with dynamics on, in creator order and within a
//! creator in fan order: iron fans whose score is below `iron_fan_below` are
//! demoted and fans at or above `iron_fan_above` promoted (hysteresis), then
//! scores decay by `daily_decay`; fans whose score has stayed below
//! `unfollow_below` for `unfollow_after_days` days unfollow; fans meeting the
//! creator's fan-group threshold join the group; iron fans may be given
//! e-commerce membership as a perk; the day's follows become fan edges
//! (verticality = the follower's interest in the category); and creators
//! whose impressions over their churn window fell short stop posting. The
//! follow graph is rebuilt once, so every change to the graph takes effect
//! at the day's end (the graph is compressed sparse rows, and a rebuild
//! costs O(edges)); scores, purchases, memberships and coupons change every
//! slot. Then the day's per-cohort figures are recorded.
//!
//! After the last posting day the engine keeps running slots until every
//! post's push has ended, so every post gets its whole push.
//!
//! Determinism: every draw comes from a keyed stream, never from a shared
//! generator; every reduction is an integer sum or runs in post order; users
//! reached are marked with atomic OR, which commutes; sorts are on unique
//! keys. The report is therefore bit-identical at any thread count.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use rand::RngExt;
use rayon::prelude::*;

use crate::content::{Post, generate_posts};
use crate::error::{Error, Result};
use crate::lifecycle::{self, CohortCounts, CohortRules};
use crate::metrics::{
    AttentionReport, CohortReport, CreatorReport, DailyCohortReport, Funnel, PlatformReport, PostReport, PushEnd,
    Report, Tally, gini, ratio, top_share,
};
use crate::policy::{Audience, Decision, PushPolicy, Stage, validate_stages};
use crate::response::{ImpressionContext, Relation, ResponseModel};
use crate::rng::{Permutation, key, stream, tag, unit};
use crate::scenario::{AttentionMode, AttentionParams, DynamicsParams, Scenario};
use crate::world::{FollowGraph, World};

/// Responses are drawn in chunks of this many impressions.
const RESPONSE_CHUNK: usize = 4096;
pub(crate) const NO_EDGE: u32 = u32::MAX;

/// A run of posts through a push policy on one world.
///
/// ```
/// use feedsim::{Scenario, Simulation, World};
/// use feedsim::policy::PublicPoolLadder;
/// let mut s = Scenario::default_scenario();
/// s.users.count = 20_000;
/// for c in &mut s.cohorts {
///     c.followers.max = c.followers.max.min(2_000);
///     c.followers.min = c.followers.min.min(c.followers.max);
///     c.creators = c.creators.min(20);
/// }
/// let world = World::generate(&s)?;
/// let sim = Simulation::new(&s, &world)?;
/// let report = sim.run(&PublicPoolLadder::default(), &s.response)?;
/// assert_eq!(report.posts.len(), sim.posts().len());
/// # Ok::<(), feedsim::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Simulation<'w> {
    world: &'w World,
    posts: Vec<Post>,
    scenario_name: String,
    seed: u64,
    slots_per_day: u32,
    days: u32,
    interest_targeting: f64,
    attention: AttentionParams,
    dynamics: DynamicsParams,
    rules: Vec<CohortRules>,
}

/// A user offered a post in the current stage.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Offer {
    pub(crate) user: u32,
    pub(crate) edge: u32,
    pub(crate) relation: Relation,
    /// Response events, as `outcome::*` bits, once drawn.
    pub(crate) outcome: u8,
    accepted: bool,
}

/// Bits of [`Offer::outcome`].
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

/// One impression, as [`Simulation::trace`] records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImpressionRecord {
    /// The slot in which it happened.
    pub slot: u32,
    /// The post.
    pub post: u32,
    /// The viewer.
    pub user: u32,
    /// The index of the post's stage that made the offer.
    pub stage: u8,
    /// The viewer's relation to the creator.
    pub relation: Relation,
    /// Impressions the viewer had watched earlier that day (fatigue).
    pub seen_today: u16,
    /// Watched through.
    pub watched: bool,
    /// Liked.
    pub liked: bool,
    /// Commented.
    pub commented: bool,
    /// Shared.
    pub shared: bool,
    /// Followed the creator.
    pub followed: bool,
    /// Clicked the product.
    pub clicked: bool,
    /// Ordered.
    pub ordered: bool,
    /// The order was a repurchase.
    pub repurchased: bool,
}

/// One planned step of a public walk.
struct Draw {
    targeted: bool,
    position: u64,
    /// The post's (targeted, uniform, picks) cursors after this draw.
    cursors: [u64; 3],
    offer: Option<Offer>,
}

/// A post whose push is under way.
struct LivePost {
    post: u32,
    stage: usize,
    multiplier: f64,
    /// Users offered the post by fan stages, ascending.
    fan_offered: Vec<u32>,
    targeted_cursor: u64,
    uniform_cursor: u64,
    public_draws: u64,
    public_exhausted: bool,
    so_far: Tally,
    stage_tally: Tally,
    stage_impressions: Vec<u64>,
    entered_public: bool,
    offers: Vec<Offer>,
    declined: u64,
}

/// A set of user ids, written concurrently with atomic OR.
pub(crate) struct AtomicBitset(Vec<AtomicU64>);

impl AtomicBitset {
    fn new(n: usize) -> Self {
        AtomicBitset((0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect())
    }
    #[inline]
    fn insert(&self, u: u32) {
        self.0[u as usize / 64].fetch_or(1 << (u % 64), Ordering::Relaxed);
    }
    fn count(&self) -> u64 {
        self.0
            .iter()
            .map(|w| u64::from(w.load(Ordering::Relaxed).count_ones()))
            .sum()
    }
    fn clear(&mut self) {
        self.0.iter_mut().for_each(|w| *w.get_mut() = 0);
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

/// What the engine remembers about a (creator, user) pair that has bought
/// or holds a membership.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BuyerState {
    pub(crate) orders: u32,
    pub(crate) member: bool,
    /// The coupon is valid on days before this one.
    pub(crate) coupon_until: u32,
}

impl BuyerState {
    /// Records an order on `day`: a coupon valid on the next `coupon_days`
    /// days (`day + 1 ..= day + coupon_days`).
    pub(crate) fn issue_coupon(&mut self, day: u32, coupon_days: u32) {
        self.coupon_until = day + coupon_days + 1;
    }

    /// Whether the coupon is valid on `day`.
    pub(crate) fn coupon_valid(&self, day: u32, coupon_days: u32) -> bool {
        day < self.coupon_until && day + coupon_days >= self.coupon_until
    }
}

pub(crate) type BuyerMap = HashMap<u64, BuyerState, BuildHasherDefault<MixHasher>>;

#[inline]
pub(crate) fn buyer_key(creator: u32, user: u32) -> u64 {
    (u64::from(creator) << 32) | u64::from(user)
}

/// Impressions allowed in slot `s` of `slots` for a daily budget `budget`.
#[inline]
pub(crate) fn slot_allowance(budget: u16, s: u32, slots: u32) -> u32 {
    let b = u64::from(budget);
    let (s, n) = (u64::from(s), u64::from(slots));
    ((s + 1) * b / n - s * b / n) as u32
}

/// The mutable state of one run.
struct RunState<'w> {
    graph: Cow<'w, FollowGraph>,
    buyers: BuyerMap,
    members: Vec<u64>,
    seen_today: Vec<u16>,
    offers_per_user: Vec<AtomicU32>,
    active: Vec<u64>,
    reach: AtomicBitset,
    cohort_reach: Vec<AtomicBitset>,
    day_reach: Vec<AtomicBitset>,
    stranger_reach: Vec<AtomicBitset>,
    pending_follows: Vec<u64>,
    creator_history: Vec<Vec<u64>>,
    creator_today: Vec<u64>,
    stopped_after: Vec<Option<u32>>,
    day_tally: Vec<Tally>,
    counts: Vec<CohortCounts>,
    attention: AttentionReport,
    daily: Vec<DailyCohortReport>,
}

impl<'w> Simulation<'w> {
    /// A simulation of the scenario's generated posts on `world`.
    pub fn new(scenario: &Scenario, world: &'w World) -> Result<Self> {
        let posts = generate_posts(world, scenario)?;
        Self::with_posts(scenario, world, posts)
    }

    /// A simulation of the given posts (a replayed post log, say) on `world`.
    /// Post ids are reassigned in (slot, creator) order. Refuses a post whose
    /// creator does not exist, whose category is out of range, whose quality
    /// is not finite, or whose slot is past the scenario's days.
    pub fn with_posts(scenario: &Scenario, world: &'w World, mut posts: Vec<Post>) -> Result<Self> {
        scenario.validate()?;
        if world.cohorts().len() != scenario.cohorts.len() {
            return Err(Error::invalid(
                "cohorts",
                scenario.cohorts.len(),
                format!("the world was generated with {} cohorts", world.cohorts().len()),
            ));
        }
        let horizon = scenario.feed.days * scenario.feed.slots_per_day;
        for (i, p) in posts.iter().enumerate() {
            if p.creator as usize >= world.creators().len() {
                return Err(Error::invalid(
                    format!("posts[{i}].creator"),
                    p.creator,
                    format!("the world has {} creators", world.creators().len()),
                ));
            }
            if u32::from(p.category) >= world.categories() {
                return Err(Error::invalid(
                    format!("posts[{i}].category"),
                    p.category,
                    format!("the world has {} categories", world.categories()),
                ));
            }
            if !p.quality.is_finite() {
                return Err(Error::invalid(
                    format!("posts[{i}].quality"),
                    p.quality,
                    "must be finite",
                ));
            }
            if p.slot >= horizon {
                return Err(Error::invalid(
                    format!("posts[{i}].slot"),
                    p.slot,
                    format!("the scenario has {horizon} slots (feed.days × feed.slots_per_day)"),
                ));
            }
        }
        posts.sort_by_key(|p| (p.slot, p.creator));
        for (i, p) in posts.iter_mut().enumerate() {
            p.id = i as u32;
        }
        Ok(Simulation {
            world,
            posts,
            scenario_name: scenario.name.clone(),
            seed: scenario.seed,
            slots_per_day: scenario.feed.slots_per_day,
            days: scenario.feed.days,
            interest_targeting: scenario.feed.interest_targeting,
            attention: scenario.attention.clone(),
            dynamics: scenario.dynamics.clone(),
            rules: scenario.cohorts.iter().map(CohortRules::from).collect(),
        })
    }

    /// Uses `seed` for the run's draws (activity, responses, admission) instead
    /// of the scenario's; the world and posts stay as they are.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The posts this simulation pushes, by id.
    pub fn posts(&self) -> &[Post] {
        &self.posts
    }

    /// Runs every post through `policy`, drawing responses from `model`.
    ///
    /// Cost: O(impressions × log followers) work, parallel over posts and
    /// over each post's impressions; memory O(users / 8 × cohorts) for reach
    /// plus the live posts' offers; with dynamics on, a copy of the follow
    /// graph and a rebuild of it at the end of each day.
    pub fn run(&self, policy: &dyn PushPolicy, model: &dyn ResponseModel) -> Result<Report> {
        self.execute(policy, model, None)
    }

    /// Like [`run`](Self::run), and also returns every impression with its
    /// outcome, in slot order and, within a slot, in post order. Meant for
    /// checks and small worlds: it holds one record per impression.
    pub fn trace(&self, policy: &dyn PushPolicy, model: &dyn ResponseModel) -> Result<(Report, Vec<ImpressionRecord>)> {
        let mut log = Vec::new();
        let report = self.execute(policy, model, Some(&mut log))?;
        Ok((report, log))
    }

    fn execute(
        &self,
        policy: &dyn PushPolicy,
        model: &dyn ResponseModel,
        mut log: Option<&mut Vec<ImpressionRecord>>,
    ) -> Result<Report> {
        let stages = policy.stages();
        validate_stages(&stages)?;
        model.validate()?;
        let world = self.world;
        let n_users = world.users().len();
        let n_cohorts = world.cohorts().len();
        let n_creators = world.creators().len();
        let spd = self.slots_per_day;
        let finite = self.attention.mode == AttentionMode::Finite;
        let mut st = RunState {
            graph: Cow::Borrowed(world.graph()),
            buyers: BuyerMap::default(),
            members: vec![0; n_creators],
            seen_today: vec![0; n_users],
            offers_per_user: if finite {
                (0..n_users).map(|_| AtomicU32::new(0)).collect()
            } else {
                Vec::new()
            },
            active: Vec::new(),
            reach: AtomicBitset::new(n_users),
            cohort_reach: (0..n_cohorts).map(|_| AtomicBitset::new(n_users)).collect(),
            day_reach: (0..n_cohorts).map(|_| AtomicBitset::new(n_users)).collect(),
            stranger_reach: (0..n_cohorts).map(|_| AtomicBitset::new(n_users)).collect(),
            pending_follows: Vec::new(),
            creator_history: vec![Vec::new(); n_creators],
            creator_today: vec![0; n_creators],
            stopped_after: vec![None; n_creators],
            day_tally: vec![Tally::default(); n_cohorts],
            counts: vec![CohortCounts::default(); n_cohorts],
            attention: AttentionReport {
                mode: self.attention.mode,
                supply: finite.then_some(0),
                offered: 0,
                served: 0,
                declined: 0,
            },
            daily: Vec::new(),
        };
        let mut live: Vec<LivePost> = Vec::new();
        let mut finished: Vec<PostReport> = Vec::with_capacity(self.posts.len());
        let mut next = 0usize;
        let mut slot = 0u32;
        let horizon = self.days * spd;

        while !(next == self.posts.len() && live.is_empty() && slot >= horizon) {
            let day = slot / spd;
            if slot.is_multiple_of(spd) {
                self.start_day(&mut st, day);
            }
            // 1. Enter.
            while next < self.posts.len() && self.posts[next].slot == slot {
                if st.stopped_after[self.posts[next].creator as usize].is_none() {
                    live.push(LivePost::new(next as u32));
                }
                next += 1;
            }
            // 2. Offer.
            let graph: &FollowGraph = &st.graph;
            live.par_iter_mut()
                .for_each(|lp| self.make_offers(lp, &stages[lp.stage], graph, &st.active));
            // 3. Admit.
            let offered: u64 = live.iter().map(|lp| lp.offers.len() as u64).sum();
            st.attention.offered += offered;
            if finite {
                self.admit(&mut live, &stages, slot, &st.offers_per_user);
            }
            // 4. Respond.
            live.par_iter_mut().for_each(|lp| self.respond(lp, model, &st, day));
            // 5. Gate and 6. apply, in post order.
            for lp in &mut live {
                st.attention.declined += lp.declined;
                st.attention.served += lp.offers.len() as u64;
                if let Some(log) = log.as_deref_mut() {
                    self.record(log, lp, slot, &st.seen_today);
                }
                self.apply(&mut st, lp, day);
                let t = lp.stage_tally;
                lp.so_far.add(&t);
                lp.stage_impressions.push(t.impressions);
                if stages[lp.stage].audience == Audience::Public {
                    lp.entered_public = true;
                }
                let end = match policy.decide(&stages, lp.stage, &t, &lp.so_far) {
                    Decision::Stop => Some(PushEnd::Gate { stage: lp.stage as u8 }),
                    Decision::Advance {
                        next_size_multiplier: m,
                    } => {
                        if !(m.is_finite() && m >= 0.0) {
                            return Err(Error::invalid(
                                "policy.decide.next_size_multiplier",
                                m,
                                "must be finite and >= 0",
                            ));
                        }
                        if lp.stage + 1 == stages.len() {
                            Some(PushEnd::Completed)
                        } else if stages[lp.stage + 1].audience == Audience::Public && lp.public_exhausted {
                            Some(PushEnd::Exhausted)
                        } else {
                            lp.stage += 1;
                            lp.multiplier = m;
                            None
                        }
                    }
                };
                if let Some(end) = end {
                    finished.push(self.post_report(lp, end));
                    lp.offers = Vec::new();
                    lp.stage = usize::MAX;
                }
            }
            live.retain(|lp| lp.stage != usize::MAX);
            slot += 1;
            if slot.is_multiple_of(spd) {
                self.end_day(&mut st, day);
            }
        }
        if !slot.is_multiple_of(spd) {
            self.end_day(&mut st, slot / spd);
        }
        finished.sort_by_key(|p| p.id);
        Ok(self.report(policy.name(), model.name().to_string(), slot, finished, st))
    }

    fn start_day(&self, st: &mut RunState, day: u32) {
        let users = self.world.users();
        st.active = self.active_users(day);
        st.seen_today.iter_mut().for_each(|x| *x = 0);
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

    fn end_day(&self, st: &mut RunState, day: u32) {
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
                &mut st.members,
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
        let graph: &FollowGraph = &st.graph;
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
                ecommerce_members: members.clone().map(|c| st.members[c as usize]).sum(),
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

    /// Which users open the app on `day`: bit `u` is set with probability
    /// `activity[u]`, from the draw keyed `(seed, day, u)`.
    fn active_users(&self, day: u32) -> Vec<u64> {
        let users = self.world.users();
        let n = users.len();
        (0..n.div_ceil(64))
            .into_par_iter()
            .map(|w| {
                let mut word = 0u64;
                for b in 0..64 {
                    let u = w * 64 + b;
                    if u < n && unit(self.seed, tag::ACTIVITY, day.into(), u as u64) < f64::from(users.activity[u]) {
                        word |= 1 << b;
                    }
                }
                word
            })
            .collect()
    }

    fn make_offers(&self, lp: &mut LivePost, stage: &Stage, graph: &FollowGraph, active: &[u64]) {
        lp.offers.clear();
        lp.declined = 0;
        let want = match stage.size {
            Some(s) => (f64::from(s) * lp.multiplier).min(f64::from(u32::MAX)) as u64,
            None => u64::MAX,
        };
        let is_active = |u: u32| active[u as usize / 64] >> (u % 64) & 1 == 1;
        let post = &self.posts[lp.post as usize];
        if stage.audience == Audience::Public {
            self.public_offers(lp, post, want, graph, &is_active);
            return;
        }
        let (iron, other) = graph.sections(post.creator);
        let (range, group_only) = match stage.audience {
            Audience::GroupMembers => (iron.start..other.end, true),
            Audience::IronFans => (iron, false),
            _ => (other, false),
        };
        // Only a policy that shows public pools before a fan stage needs to
        // know where the public walks have been.
        let walked = (lp.targeted_cursor > 0 || lp.uniform_cursor > 0).then(|| self.permutations(post));
        for e in range {
            let u = graph.fans[e as usize];
            if (group_only && !graph.group[e as usize])
                || !is_active(u)
                || lp.fan_offered.binary_search(&u).is_ok()
                || walked
                    .as_ref()
                    .is_some_and(|w| self.offered_by_public_walk(lp, post, w, u))
            {
                continue;
            }
            let relation = if e < graph.iron_end[post.creator as usize] {
                Relation::IronFan
            } else {
                Relation::Fan
            };
            lp.offers.push(Offer {
                user: u,
                edge: e,
                relation,
                outcome: 0,
                accepted: true,
            });
        }
        if (lp.offers.len() as u64) > want {
            // A capped fan stage takes the fans with the smallest hash of
            // (seed, post, user), then keeps row order.
            let h = |o: &Offer| key(self.seed, tag::FAN_ORDER, post.id.into(), o.user.into());
            lp.offers.select_nth_unstable_by_key(want as usize, h);
            lp.offers.truncate(want as usize);
            lp.offers.sort_unstable_by_key(|o| o.edge);
        }
        let mut users: Vec<u32> = lp
            .fan_offered
            .iter()
            .copied()
            .chain(lp.offers.iter().map(|o| o.user))
            .collect();
        users.sort_unstable();
        lp.fan_offered = users;
    }

    fn permutations(&self, post: &Post) -> (Permutation, Permutation) {
        let l = self.world.users_interested_in(post.category).len() as u64;
        let n = self.world.users().len() as u64;
        (
            Permutation::new(l.max(1), key(self.seed, tag::PUBLIC_TARGETED, post.id.into(), 0)),
            Permutation::new(n, key(self.seed, tag::PUBLIC_UNIFORM, post.id.into(), 0)),
        )
    }

    /// Whether the post's public walks (`walks`, from
    /// [`permutations`](Self::permutations)) have already passed user `u`.
    fn offered_by_public_walk(
        &self,
        lp: &LivePost,
        post: &Post,
        (targeted, uniform): &(Permutation, Permutation),
        u: u32,
    ) -> bool {
        if self.world.users().is_interested(u, post.category) {
            let i = self
                .world
                .users_interested_in(post.category)
                .binary_search(&u)
                .unwrap_or(0) as u64;
            targeted.position_of(i) < lp.targeted_cursor
        } else {
            uniform.position_of(u.into()) < lp.uniform_cursor
        }
    }

    /// Draws up to `want` public users who have not been offered the post.
    ///
    /// Two disjoint shuffled walks, keyed by the post: one over the users
    /// interested in the post's category, one over everybody else. Each draw
    /// takes the interested walk with probability `τ + (1 − τ)·share`
    /// (falling back to the other walk when one runs out), so `τ = 0` is a
    /// uniform draw without replacement.
    ///
    /// The walk is sequential in meaning but evaluated in blocks: the next
    /// block of draws is planned (which walk, which position), the draws are
    /// checked in parallel (interest, activity, relation), and then taken in
    /// order until the stage is full; the cursors stop at the last draw
    /// taken, so the result is exactly that of the one-by-one walk.
    fn public_offers(
        &self,
        lp: &mut LivePost,
        post: &Post,
        want: u64,
        graph: &FollowGraph,
        is_active: &(impl Fn(u32) -> bool + Sync),
    ) {
        let world = self.world;
        let users = world.users();
        let n = users.len() as u64;
        let interested = world.users_interested_in(post.category);
        let l = interested.len() as u64;
        let p_targeted = self.interest_targeting + (1.0 - self.interest_targeting) * (l as f64 / n as f64);
        let (targeted, uniform) = self.permutations(post);
        let mut plan: Vec<Draw> = Vec::new();
        while (lp.offers.len() as u64) < want {
            // Plan a block of draws without touching the post's cursors.
            let need = want - lp.offers.len() as u64;
            let block = (need.saturating_mul(2)).clamp(64, 1 << 15) as usize;
            plan.clear();
            let (mut tc, mut uc, mut picks) = (lp.targeted_cursor, lp.uniform_cursor, lp.public_draws);
            while plan.len() < block {
                let t_left = tc < l;
                let u_left = l < n && uc < n;
                let use_targeted = match (t_left, u_left) {
                    (false, false) => break,
                    (true, true) => {
                        picks += 1;
                        unit(self.seed, tag::PUBLIC_PICK, post.id.into(), picks) < p_targeted
                    }
                    (t, _) => t,
                };
                let position = if use_targeted { tc } else { uc };
                if use_targeted {
                    tc += 1;
                } else {
                    uc += 1;
                }
                plan.push(Draw {
                    targeted: use_targeted,
                    position,
                    cursors: [tc, uc, picks],
                    offer: None,
                });
            }
            if plan.is_empty() {
                lp.public_exhausted = true;
                break;
            }
            let fan_offered = &lp.fan_offered;
            plan.par_iter_mut().with_min_len(1024).for_each(|d| {
                let u = if d.targeted {
                    interested[targeted.at(d.position) as usize]
                } else {
                    let u = uniform.at(d.position) as u32;
                    if world.interested_bit(u, post.category) {
                        return;
                    }
                    u
                };
                if !is_active(u) {
                    return;
                }
                let (relation, edge) = graph.relation(post.creator, u);
                if edge.is_some() && fan_offered.binary_search(&u).is_ok() {
                    return;
                }
                d.offer = Some(Offer {
                    user: u,
                    edge: edge.unwrap_or(NO_EDGE),
                    relation,
                    outcome: 0,
                    accepted: true,
                });
            });
            for d in &plan {
                [lp.targeted_cursor, lp.uniform_cursor, lp.public_draws] = d.cursors;
                if let Some(o) = d.offer {
                    lp.offers.push(o);
                    if lp.offers.len() as u64 == want {
                        break;
                    }
                }
            }
        }
    }

    /// Finite attention: each user accepts at most the slot's allowance,
    /// highest-priority offers first (see the module docs). Offers are
    /// counted per user first; only the offers of users offered more than
    /// their allowance are sorted to decide which win.
    fn admit(&self, live: &mut [LivePost], stages: &[Stage], slot: u32, offers_per_user: &[AtomicU32]) {
        let spd = self.slots_per_day;
        let users = self.world.users();
        let allowed = |u: u32| slot_allowance(users.attention[u as usize], slot % spd, spd);
        live.par_iter().for_each(|lp| {
            for o in &lp.offers {
                offers_per_user[o.user as usize].fetch_add(1, Ordering::Relaxed);
            }
        });
        let over = |u: u32| offers_per_user[u as usize].load(Ordering::Relaxed) > allowed(u);
        let mut contested: Vec<(u64, u32, u32)> = live
            .par_iter()
            .enumerate()
            .flat_map_iter(|(li, lp)| {
                let priority = u64::from(stages[lp.stage].audience.priority());
                let post = u64::from(self.posts[lp.post as usize].id);
                lp.offers
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| over(o.user))
                    .map(move |(oi, o)| {
                        let h = key(self.seed, tag::ADMIT, slot.into(), (u64::from(o.user) << 32) | post) >> 36;
                        ((u64::from(o.user) << 32) | (priority << 28) | h, li as u32, oi as u32)
                    })
            })
            .collect();
        live.par_iter_mut().for_each(|lp| {
            for o in lp.offers.iter_mut() {
                o.accepted = !over(o.user);
            }
        });
        contested.par_sort_unstable();
        let mut i = 0;
        while i < contested.len() {
            let u = (contested[i].0 >> 32) as u32;
            let allowance = allowed(u) as usize;
            let mut j = i;
            while j < contested.len() && (contested[j].0 >> 32) as u32 == u {
                if j - i < allowance {
                    live[contested[j].1 as usize].offers[contested[j].2 as usize].accepted = true;
                }
                j += 1;
            }
            i = j;
        }
        live.par_iter_mut().for_each(|lp| {
            for o in &lp.offers {
                offers_per_user[o.user as usize].store(0, Ordering::Relaxed);
            }
            let before = lp.offers.len();
            lp.offers.retain(|o| o.accepted);
            lp.declined = (before - lp.offers.len()) as u64;
        });
    }

    fn respond(&self, lp: &mut LivePost, model: &dyn ResponseModel, st: &RunState, day: u32) {
        let world = self.world;
        let graph: &FollowGraph = &st.graph;
        let post = &self.posts[lp.post as usize];
        let c = post.creator as usize;
        let creators = world.creators();
        let cohort_index = creators.cohort[c] as usize;
        let (cohort, today, strangers) = (
            &st.cohort_reach[cohort_index],
            &st.day_reach[cohort_index],
            &st.stranger_reach[cohort_index],
        );
        let trust = f64::from(creators.trust[c]);
        let price = post.price_yuan();
        let seed = self.seed;
        let parts: Vec<Tally> = lp
            .offers
            .par_chunks_mut(RESPONSE_CHUNK)
            .map(|chunk| {
                let mut t = Tally::default();
                for o in chunk {
                    let fan = o.edge != NO_EDGE;
                    let interest = if fan {
                        graph.verticality(o.edge)
                    } else {
                        world.users().interest(o.user, post.category)
                    };
                    let mut ctx = ImpressionContext {
                        relation: o.relation,
                        quality: f64::from(post.quality),
                        interest: f64::from(interest),
                        trust,
                        purchase_propensity: f64::from(world.users().purchase_propensity[o.user as usize]),
                        price_yuan: price,
                        bought_before: false,
                        group_member: fan && graph.group[o.edge as usize],
                        ecommerce_member: false,
                        coupon: false,
                        seen_today: u32::from(st.seen_today[o.user as usize]),
                    };
                    let p = model.probabilities(&ctx);
                    t.count_impression(o.relation);
                    st.reach.insert(o.user);
                    cohort.insert(o.user);
                    today.insert(o.user);
                    if !fan {
                        strangers.insert(o.user);
                    }
                    let mut rng = stream(seed, tag::RESPONSE, post.id.into(), o.user.into());
                    let mut draw = |p: f64, bit: u8| -> bool {
                        let hit = rng.random::<f64>() < p;
                        if hit {
                            o.outcome |= bit;
                        }
                        hit
                    };
                    if !draw(p.watch, outcome::WATCH) {
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
                        if fan {
                            t.fan_gmv_fen += u64::from(post.price_fen);
                        }
                        if ctx.bought_before {
                            t.repurchases += 1;
                            o.outcome |= outcome::REPURCHASE;
                        }
                    }
                }
                t
            })
            .collect();
        lp.stage_tally = parts.iter().fold(Tally::default(), |a, t| a.sum(*t));
    }

    fn record(&self, log: &mut Vec<ImpressionRecord>, lp: &LivePost, slot: u32, seen_today: &[u16]) {
        let (post, stage) = (lp.post, lp.stage as u8);
        log.extend(lp.offers.iter().map(|o| ImpressionRecord {
            slot,
            post,
            user: o.user,
            stage,
            relation: o.relation,
            seen_today: seen_today[o.user as usize],
            watched: o.outcome & outcome::WATCH != 0,
            liked: o.outcome & outcome::LIKE != 0,
            commented: o.outcome & outcome::COMMENT != 0,
            shared: o.outcome & outcome::SHARE != 0,
            followed: o.outcome & outcome::FOLLOW != 0,
            clicked: o.outcome & outcome::CLICK != 0,
            ordered: o.outcome & outcome::ORDER != 0,
            repurchased: o.outcome & outcome::REPURCHASE != 0,
        }));
    }

    /// Step 6 for one post: fatigue counts, engagement scores, follows,
    /// buyers, memberships and coupons.
    fn apply(&self, st: &mut RunState, lp: &LivePost, day: u32) {
        let post = &self.posts[lp.post as usize];
        let c = post.creator;
        let cohort = self.world.creators().cohort(c) as usize;
        st.day_tally[cohort].add(&lp.stage_tally);
        st.creator_today[c as usize] += lp.stage_tally.impressions;
        let dynamics = self.dynamics.enabled;
        let points = self.dynamics.points;
        let mut graph = dynamics.then(|| st.graph.to_mut());
        for o in &lp.offers {
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
                }
                if b.orders == 2 {
                    st.counts[cohort].repeat_buyers += 1;
                }
                if dynamics {
                    if !b.member {
                        b.member = true;
                        st.members[c as usize] += 1;
                    }
                    b.issue_coupon(day, self.dynamics.coupon_days);
                }
            }
        }
    }

    fn post_report(&self, lp: &LivePost, end: PushEnd) -> PostReport {
        let post = &self.posts[lp.post as usize];
        PostReport {
            id: post.id,
            creator: post.creator,
            cohort: self.world.creators().cohort(post.creator),
            slot: post.slot,
            quality: post.quality,
            price_yuan: post.price_yuan(),
            stages_entered: lp.stage_impressions.len() as u8,
            end,
            stage_impressions: lp.stage_impressions.clone(),
            reached_public: lp.entered_public,
            tally: lp.so_far,
        }
    }

    fn report(&self, policy: &str, model: String, slots: u32, posts: Vec<PostReport>, st: RunState) -> Report {
        let world = self.world;
        let start = world.graph();
        let end: &FollowGraph = &st.graph;
        let mut creators: Vec<CreatorReport> = (0..world.creators().len() as u32)
            .map(|c| CreatorReport {
                id: c,
                cohort: world.creators().cohort(c),
                category: world.creators().category(c),
                followers: start.followers(c),
                iron_fans: start.iron_fans(c),
                followers_end: end.followers(c),
                iron_fans_end: end.iron_fans(c),
                stopped_after_day: st.stopped_after[c as usize],
                posts: 0,
                tally: Tally::default(),
            })
            .collect();
        let mut public_posts = vec![0u64; world.cohorts().len()];
        for p in &posts {
            let cr = &mut creators[p.creator as usize];
            cr.posts += 1;
            cr.tally.add(&p.tally);
            if p.reached_public {
                public_posts[p.cohort as usize] += 1;
            }
        }
        let cohorts: Vec<CohortReport> = world
            .cohorts()
            .iter()
            .enumerate()
            .map(|(i, co)| {
                let members = &creators[co.first_creator as usize..(co.first_creator + co.creators) as usize];
                let sum = |f: fn(&CreatorReport) -> u64| members.iter().map(f).sum::<u64>();
                let followers = sum(|c| c.followers.into());
                let iron_fans = sum(|c| c.iron_fans.into());
                let followers_end = sum(|c| c.followers_end.into());
                let iron_fans_end = sum(|c| c.iron_fans_end.into());
                let tally = members.iter().fold(Tally::default(), |a, c| a.sum(c.tally));
                let unique_reach = st.cohort_reach[i].count();
                let funnel = Funnel {
                    new_viewers: st.stranger_reach[i].count(),
                    follows: tally.follows,
                    iron_fan_promotions: st.counts[i].promotions,
                    buyers: st.counts[i].buyers,
                    repeat_buyers: st.counts[i].repeat_buyers,
                    ..Funnel::default()
                };
                CohortReport {
                    name: co.name.clone(),
                    creators: co.creators,
                    followers,
                    iron_fans,
                    iron_fan_ratio: ratio(iron_fans, followers),
                    posts: sum(|c| c.posts.into()),
                    posts_reaching_public: public_posts[i],
                    unique_reach,
                    reach_per_follower: ratio(unique_reach, followers),
                    tally,
                    rates: tally.rates(),
                    followers_end,
                    iron_fans_end,
                    iron_fan_ratio_end: ratio(iron_fans_end, followers_end),
                    active_creators_end: members.iter().filter(|c| c.stopped_after_day.is_none()).count() as u32,
                    unfollows: st.counts[i].unfollows,
                    iron_fan_demotions: st.counts[i].demotions,
                    funnel: funnel.with_rates(),
                }
            })
            .collect();
        let tally = creators.iter().fold(Tally::default(), |a, c| a.sum(c.tally));
        let impressions: Vec<u64> = creators.iter().map(|c| c.tally.impressions).collect();
        let gmv: Vec<u64> = creators.iter().map(|c| c.tally.gmv_fen).collect();
        let platform = PlatformReport {
            users: world.users().len() as u32,
            creators: creators.len() as u32,
            posts: posts.len() as u64,
            unique_reach: st.reach.count(),
            tally,
            rates: tally.rates(),
            impressions_gini: gini(&impressions),
            gmv_gini: gini(&gmv),
            impressions_top1_share: top_share(&impressions, 0.01),
            gmv_top1_share: top_share(&gmv, 0.01),
        };
        Report {
            scenario: self.scenario_name.clone(),
            policy: policy.to_string(),
            model,
            seed: self.seed,
            slots,
            platform,
            attention: st.attention,
            daily: st.daily,
            cohorts,
            creators,
            posts,
        }
    }
}

impl LivePost {
    fn new(post: u32) -> Self {
        LivePost {
            post,
            stage: 0,
            multiplier: 1.0,
            fan_offered: Vec::new(),
            targeted_cursor: 0,
            uniform_cursor: 0,
            public_draws: 0,
            public_exhausted: false,
            so_far: Tally::default(),
            stage_tally: Tally::default(),
            stage_impressions: Vec::new(),
            entered_public: false,
            offers: Vec::new(),
            declined: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BuyerState, slot_allowance};

    #[test]
    fn coupons_are_valid_for_their_window_only() {
        let mut b = BuyerState::default();
        assert!(!b.coupon_valid(0, 7));
        b.issue_coupon(3, 7);
        assert!(!b.coupon_valid(3, 7), "not on the purchase day itself");
        assert!((4..=10).all(|d| b.coupon_valid(d, 7)));
        assert!(!b.coupon_valid(11, 7), "expired after 7 days");
        assert!(!b.coupon_valid(40, 7));
    }

    #[test]
    fn slot_allowances_sum_to_the_daily_budget() {
        for budget in [0u16, 1, 7, 42, 66, 1000] {
            for slots in [1u32, 5, 24] {
                let total: u32 = (0..slots).map(|s| slot_allowance(budget, s, slots)).sum();
                assert_eq!(total, u32::from(budget), "budget {budget}, {slots} slots");
            }
        }
    }
}
