//! The bulk-synchronous engine.
//!
//! Time runs in slots (`feed.slots_per_day` per day). Each slot is one
//! round:
//!
//! 1. **Enter.** Posts published in this slot become live at their first
//!    stage.
//! 2. **Offer.** Every live post, in parallel, lists the users of its current
//!    stage's audience (see [`crate::policy`]): a shuffled walk over the
//!    audience keyed by the post, passing over users not active that day,
//!    until the stage's size is reached or the audience is exhausted.
//! 3. **Admit.** Users accept offers. With unlimited attention (the mode of
//!    this version) an active user accepts every offer; this step is where a
//!    per-user attention budget drops in: it sees every live post's offers
//!    before any response is drawn.
//! 4. **Respond.** The responses to all accepted offers are drawn in
//!    parallel, each from the stream keyed `(seed, post, user)` (see
//!    [`crate::rng`]), and summed per post into integer tallies.
//! 5. **Gate.** In post order, each post's gate decides whether it advances
//!    to its next stage in the next slot, stops, or has completed.
//! 6. **Apply.** State changes are applied in post order: this version
//!    records buyers (for repurchases).
//!
//! After the last posting day the engine keeps running slots until every
//! post's push has ended, so every post gets its whole push.
//!
//! Determinism: every draw comes from a keyed stream, never from a shared
//! generator; every reduction is an integer sum or runs in post order; users
//! reached are marked with atomic OR, which commutes. The report is
//! therefore bit-identical at any thread count.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use rand::RngExt;
use rayon::prelude::*;

use crate::content::{Post, generate_posts};
use crate::error::{Error, Result};
use crate::metrics::{
    CohortReport, CreatorReport, PlatformReport, PostReport, PushEnd, Report, Tally, gini, top_share,
};
use crate::policy::{Audience, Decision, PushPolicy, Stage, validate_stages};
use crate::response::{ImpressionContext, Relation, ResponseModel};
use crate::rng::{Permutation, key, stream, tag, unit};
use crate::scenario::Scenario;
use crate::world::World;

/// Responses are drawn in chunks of this many impressions.
const RESPONSE_CHUNK: usize = 4096;
const NO_EDGE: u32 = u32::MAX;

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
    interest_targeting: f64,
}

/// A user offered a post in the current stage.
#[derive(Debug, Clone, Copy)]
struct Offer {
    user: u32,
    edge: u32,
    relation: Relation,
    /// Response events, as `outcome::*` bits, once drawn.
    outcome: u8,
}

/// Bits of [`Offer::outcome`].
mod outcome {
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
    /// Per fan section (iron fans, other fans): how far the shuffled walk has
    /// gone; a fan at a position below it was covered by that fan stage.
    fan_cursor: [u64; 2],
    targeted_cursor: u64,
    uniform_cursor: u64,
    public_draws: u64,
    public_exhausted: bool,
    so_far: Tally,
    stage_tally: Tally,
    stage_impressions: Vec<u64>,
    entered_public: bool,
    offers: Vec<Offer>,
    new_buyers: Vec<u64>,
}

/// A set of user ids, written concurrently with atomic OR.
struct AtomicBitset(Vec<AtomicU64>);

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
}

/// Hashes a `u64` key that is already well mixed enough after one `mix`.
#[derive(Default)]
struct MixHasher(u64);
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
type BuyerSet = HashSet<u64, BuildHasherDefault<MixHasher>>;

#[inline]
fn buyer_key(creator: u32, user: u32) -> u64 {
    (u64::from(creator) << 32) | u64::from(user)
}

impl<'w> Simulation<'w> {
    /// A simulation of the scenario's generated posts on `world`.
    pub fn new(scenario: &Scenario, world: &'w World) -> Result<Self> {
        let posts = generate_posts(world, scenario)?;
        Self::with_posts(scenario, world, posts)
    }

    /// A simulation of the given posts (a replayed post log, say) on `world`.
    /// Post ids are reassigned in (slot, creator) order. Refuses a post whose
    /// creator does not exist, whose category is out of range, or whose
    /// quality is not finite.
    pub fn with_posts(scenario: &Scenario, world: &'w World, mut posts: Vec<Post>) -> Result<Self> {
        scenario.validate()?;
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
            interest_targeting: scenario.feed.interest_targeting,
        })
    }

    /// Uses `seed` for the run's draws (activity and responses) instead of
    /// the scenario's; the world and posts stay as they are.
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
    /// plus the live posts' offers.
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
        let reach = AtomicBitset::new(n_users);
        let cohort_reach: Vec<AtomicBitset> = world.cohorts().iter().map(|_| AtomicBitset::new(n_users)).collect();
        let mut buyers = BuyerSet::default();
        let mut active: Vec<u64> = Vec::new();
        let mut active_day = u32::MAX;
        let mut live: Vec<LivePost> = Vec::new();
        let mut finished: Vec<PostReport> = Vec::with_capacity(self.posts.len());
        let mut next = 0usize;
        let mut slot = 0u32;

        while next < self.posts.len() || !live.is_empty() {
            if live.is_empty() {
                slot = slot.max(self.posts[next].slot);
            }
            let day = slot / self.slots_per_day;
            if day != active_day {
                active = self.active_users(day);
                active_day = day;
            }
            // 1. Enter.
            while next < self.posts.len() && self.posts[next].slot == slot {
                live.push(LivePost::new(next as u32));
                next += 1;
            }
            // 2. Offer.
            live.par_iter_mut()
                .for_each(|lp| self.make_offers(lp, &stages[lp.stage], &active));
            // 3. Admit: with unlimited attention every offer to an active
            //    user is accepted, so there is nothing to do here.
            // 4. Respond.
            live.par_iter_mut()
                .for_each(|lp| self.respond(lp, model, &buyers, &reach, &cohort_reach));
            // 5. Gate.
            for lp in &mut live {
                if let Some(log) = log.as_deref_mut() {
                    let post = lp.post;
                    let stage = lp.stage as u8;
                    log.extend(lp.offers.iter().map(|o| ImpressionRecord {
                        slot,
                        post,
                        user: o.user,
                        stage,
                        relation: o.relation,
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
                // 6. Apply.
                buyers.extend(lp.new_buyers.drain(..));
                if let Some(end) = end {
                    finished.push(self.post_report(lp, end));
                    lp.offers = Vec::new();
                    lp.stage = usize::MAX;
                }
            }
            live.retain(|lp| lp.stage != usize::MAX);
            slot += 1;
        }
        finished.sort_by_key(|p| p.id);
        Ok(self.report(
            policy.name(),
            model.name().to_string(),
            slot,
            finished,
            &reach,
            &cohort_reach,
        ))
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

    fn make_offers(&self, lp: &mut LivePost, stage: &Stage, active: &[u64]) {
        lp.offers.clear();
        let want = match stage.size {
            Some(s) => (f64::from(s) * lp.multiplier).min(f64::from(u32::MAX)) as u64,
            None => u64::MAX,
        };
        let is_active = |u: u32| active[u as usize / 64] >> (u % 64) & 1 == 1;
        let post = &self.posts[lp.post as usize];
        let graph = self.world.graph();
        match stage.audience {
            Audience::IronFans | Audience::OtherFans => {
                let section = usize::from(stage.audience == Audience::OtherFans);
                let (iron, other) = graph.sections(post.creator);
                let range = if section == 0 { iron } else { other };
                let len = u64::from(range.end - range.start);
                let relation = if section == 0 { Relation::IronFan } else { Relation::Fan };
                if want >= len {
                    // The whole tier: no need to shuffle.
                    for e in range.clone() {
                        let u = graph.fans[e as usize];
                        if is_active(u) {
                            lp.offers.push(Offer {
                                user: u,
                                edge: e,
                                relation,
                                outcome: 0,
                            });
                        }
                    }
                    lp.fan_cursor[section] = len;
                } else {
                    let perm = self.fan_permutation(post.id, section, len);
                    let mut i = lp.fan_cursor[section];
                    while i < len && (lp.offers.len() as u64) < want {
                        let e = range.start + perm.at(i) as u32;
                        i += 1;
                        let u = graph.fans[e as usize];
                        if is_active(u) {
                            lp.offers.push(Offer {
                                user: u,
                                edge: e,
                                relation,
                                outcome: 0,
                            });
                        }
                    }
                    lp.fan_cursor[section] = i;
                }
            }
            Audience::Public => self.public_offers(lp, post, want, &is_active),
        }
    }

    fn fan_permutation(&self, post: u32, section: usize, len: u64) -> Permutation {
        Permutation::new(len, key(self.seed, tag::FAN_ORDER, post.into(), section as u64))
    }

    /// Whether fan edge `e` of the post's creator was covered by one of the
    /// post's fan stages.
    fn covered_by_fan_stage(&self, lp: &LivePost, post: &Post, relation: Relation, e: u32) -> bool {
        let section = usize::from(relation == Relation::Fan);
        let cursor = lp.fan_cursor[section];
        if cursor == 0 {
            return false;
        }
        let (iron, other) = self.world.graph().sections(post.creator);
        let range = if section == 0 { iron } else { other };
        let len = u64::from(range.end - range.start);
        cursor >= len
            || self
                .fan_permutation(post.id, section, len)
                .position_of(u64::from(e - range.start))
                < cursor
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
    fn public_offers(&self, lp: &mut LivePost, post: &Post, want: u64, is_active: &(impl Fn(u32) -> bool + Sync)) {
        let world = self.world;
        let users = world.users();
        let n = users.len() as u64;
        let interested = world.users_interested_in(post.category);
        let l = interested.len() as u64;
        let p_targeted = self.interest_targeting + (1.0 - self.interest_targeting) * (l as f64 / n as f64);
        let targeted = Permutation::new(l.max(1), key(self.seed, tag::PUBLIC_TARGETED, post.id.into(), 0));
        let uniform = Permutation::new(n, key(self.seed, tag::PUBLIC_UNIFORM, post.id.into(), 0));
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
            let lp_ref = &*lp;
            plan.par_iter_mut().with_min_len(1024).for_each(|d| {
                let u = if d.targeted {
                    interested[targeted.at(d.position) as usize]
                } else {
                    let u = uniform.at(d.position) as u32;
                    if users.is_interested(u, post.category) {
                        return;
                    }
                    u
                };
                if !is_active(u) {
                    return;
                }
                let (relation, edge) = world.relation(post.creator, u);
                if let Some(e) = edge
                    && self.covered_by_fan_stage(lp_ref, post, relation, e)
                {
                    return;
                }
                d.offer = Some(Offer {
                    user: u,
                    edge: edge.unwrap_or(NO_EDGE),
                    relation,
                    outcome: 0,
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

    fn respond(
        &self,
        lp: &mut LivePost,
        model: &dyn ResponseModel,
        buyers: &BuyerSet,
        reach: &AtomicBitset,
        cohort_reach: &[AtomicBitset],
    ) {
        let world = self.world;
        let post = &self.posts[lp.post as usize];
        let c = post.creator as usize;
        let creators = world.creators();
        let cohort = &cohort_reach[creators.cohort[c] as usize];
        let trust = f64::from(creators.trust[c]);
        let price = post.price_yuan();
        let seed = self.seed;
        let parts: Vec<(Tally, Vec<u64>)> = lp
            .offers
            .par_chunks_mut(RESPONSE_CHUNK)
            .map(|chunk| {
                let mut t = Tally::default();
                let mut new_buyers = Vec::new();
                for o in chunk {
                    let interest = if o.edge == NO_EDGE {
                        world.users().interest(o.user, post.category)
                    } else {
                        world.graph().verticality(o.edge)
                    };
                    let mut ctx = ImpressionContext {
                        relation: o.relation,
                        quality: f64::from(post.quality),
                        interest: f64::from(interest),
                        trust,
                        purchase_propensity: f64::from(world.users().purchase_propensity[o.user as usize]),
                        price_yuan: price,
                        bought_before: false,
                    };
                    let p = model.probabilities(&ctx);
                    t.count_impression(o.relation);
                    reach.insert(o.user);
                    cohort.insert(o.user);
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
                    let key = buyer_key(post.creator, o.user);
                    ctx.bought_before = buyers.contains(&key);
                    let p_order = if ctx.bought_before {
                        model.probabilities(&ctx).order
                    } else {
                        p.order
                    };
                    if draw(p_order, outcome::ORDER) {
                        t.orders += 1;
                        t.gmv_fen += u64::from(post.price_fen);
                        if o.relation != Relation::Stranger {
                            t.fan_gmv_fen += u64::from(post.price_fen);
                        }
                        if ctx.bought_before {
                            t.repurchases += 1;
                            o.outcome |= outcome::REPURCHASE;
                        }
                        new_buyers.push(key);
                    }
                }
                (t, new_buyers)
            })
            .collect();
        lp.stage_tally = Tally::default();
        lp.new_buyers.clear();
        for (t, b) in parts {
            lp.stage_tally.add(&t);
            lp.new_buyers.extend(b);
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

    fn report(
        &self,
        policy: &str,
        model: String,
        slots: u32,
        posts: Vec<PostReport>,
        reach: &AtomicBitset,
        cohort_reach: &[AtomicBitset],
    ) -> Report {
        let world = self.world;
        let graph = world.graph();
        let mut creators: Vec<CreatorReport> = (0..world.creators().len() as u32)
            .map(|c| CreatorReport {
                id: c,
                cohort: world.creators().cohort(c),
                category: world.creators().category(c),
                followers: graph.followers(c),
                iron_fans: graph.iron_fans(c),
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
                let followers: u64 = members.iter().map(|c| u64::from(c.followers)).sum();
                let iron_fans: u64 = members.iter().map(|c| u64::from(c.iron_fans)).sum();
                let tally = members.iter().fold(Tally::default(), |a, c| a.sum(c.tally));
                let unique_reach = cohort_reach[i].count();
                CohortReport {
                    name: co.name.clone(),
                    creators: co.creators,
                    followers,
                    iron_fans,
                    iron_fan_ratio: ratio(iron_fans, followers),
                    posts: members.iter().map(|c| u64::from(c.posts)).sum(),
                    posts_reaching_public: public_posts[i],
                    unique_reach,
                    reach_per_follower: ratio(unique_reach, followers),
                    tally,
                    rates: tally.rates(),
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
            unique_reach: reach.count(),
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
            cohorts,
            creators,
            posts,
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl LivePost {
    fn new(post: u32) -> Self {
        LivePost {
            post,
            stage: 0,
            multiplier: 1.0,
            fan_cursor: [0; 2],
            targeted_cursor: 0,
            uniform_cursor: 0,
            public_draws: 0,
            public_exhausted: false,
            so_far: Tally::default(),
            stage_tally: Tally::default(),
            stage_impressions: Vec::new(),
            entered_public: false,
            offers: Vec::new(),
            new_buyers: Vec::new(),
        }
    }
}
