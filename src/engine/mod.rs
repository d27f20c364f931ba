//! The bulk-synchronous engine (internal plumbing; researchers use
//! [`Simulation`] and the traits it runs: [`PushPolicy`],
//! [`Audience`](crate::audience::Audience), [`Feed`], [`ResponseModel`]).
//!
//! Time runs in slots (`feed.slots_per_day` per day). Each slot is one
//! round of six phases, one module each:
//!
//! 1. **Enter** (`gate.rs`). Posts published in this slot become live
//!    (unless their creator has stopped posting) and their policy is asked
//!    for the first stage, from a [`PushContext`] with an empty history.
//! 2. **Offer** (`offer.rs`). Every live post, in parallel and read-only,
//!    asks its stage's audience for up to the stage's size of users who are
//!    active today and have not been offered the post before (the engine
//!    keeps each post's offered users, so this holds for every audience;
//!    an audience that draws distinct users, as the public walks do, keeps
//!    its offers in a plain list while it is the post's audience, since its
//!    own walk never repeats them within a day, and they join the post's set
//!    when another audience or a channel offers, or the day ends). The
//!    public walks read the day's index of active users ([`Today`](crate::audience::Today)),
//!    built at the day's start.
//!    Then each [`Channel`], in the order added,
//!    names more users for the post; those not yet offered and active are
//!    offered too, counted under the channel's source (the post's counts,
//!    not the stage's).
//! 3. **Choose** (`choose.rs`). The round's offers are grouped by viewer:
//!    a counting sort by user range into buckets of 4,096 users (one
//!    sequential pass over the posts' offers, split over tasks by runs of
//!    posts), looking up each viewer's relation to the creator on the way.
//!    A round with more than about two offers per user is grouped and
//!    answered (phases 3 and 4) in passes over ranges of users, so that the
//!    grouped offers never take more than about 32 bytes per user; the
//!    result is the same.
//! 4. **Respond** (`respond.rs`). Bucket by bucket, in parallel, the
//!    bucket's offers are sorted by viewer in cache, and for each viewer:
//!    the impression contexts are built once; a viewer offered more than the
//!    round's room in their session (or every viewer, if the feed asks) has
//!    the offers chosen by the scenario's [`Feed`] (a viewer with no room
//!    this round is shown nothing); the rest are *not shown*
//!    and lost (see [`crate::feed`]); the responses to the shown offers are
//!    drawn, each from its own `Xoshiro256PlusPlus` stream keyed `(seed,
//!    post, user)`. A bucket owns its users' fatigue counters and their words
//!    of the reach bitsets; counts go to per-task tallies (per post and
//!    tier), effects on shared state to per-task lists.
//! 5. **Apply** (`apply.rs`). At the round's one sync point, the per-task
//!    tallies are summed into each post's round and the effects applied:
//!    with dynamics on, fans' engagement scores grow by the points of what
//!    they did and follows are queued; buyers become e-commerce members and
//!    receive a repurchase coupon; buyers are always recorded (past buyers,
//!    repurchases). Every effect commutes (sums, saturating sums, set
//!    insertions, the day's coupon), and they are applied in bucket order.
//! 6. **Gate** (`gate.rs`). Each live post's stage is now complete (every
//!    offer watched or lost), so it is recorded in the post's history and the
//!    policy, in parallel and read-only, decides the next stage or the end,
//!    from a creator state taken after the apply phase. Ended posts are
//!    reported in post order.
//!
//! At the end of each day (`apply.rs`, `lifecycle.rs`), with dynamics on, in
//! creator order and within a creator in fan order: iron fans whose score is
//! below `iron_fan_below` are demoted and fans at or above `iron_fan_above`
//! promoted (hysteresis), then scores decay by `daily_decay`; fans whose
//! score has stayed below `unfollow_below` for `unfollow_after_days` days
//! unfollow; fans meeting the creator's fan-group threshold join the group;
//! iron fans may be given e-commerce membership as a perk; the day's follows
//! become fan edges (verticality = the follower's interest in the
//! category); and creators whose impressions over their churn window fell
//! short stop posting. The follow graph is rebuilt once, so every change to
//! the graph takes effect at the day's end (a rebuild costs O(edges));
//! scores, purchases, memberships and coupons change every slot. Then the
//! day's per-cohort figures are recorded.
//!
//! After the last posting day the engine keeps running slots until every
//! post's push has ended.
//!
//! # Determinism
//!
//! The parallel phases (offer, choose, respond, the policy's decisions)
//! read the shared run state and write only what they own: a post its
//! offers, a task its share of the partition, a bucket its users' fatigue
//! counters and reach bits. Everything else is deferred to the apply
//! phase, at one point of the round (as bevy's deferred commands are).
//! Every draw comes from a keyed stream, never a shared generator; every
//! reduction is an integer sum or runs in a fixed order; the order of
//! offers within a bucket does not depend on the number of tasks; sorts are
//! stable or on unique keys. The report is therefore bit-identical at any
//! thread count.

mod apply;
mod buyers;
mod choose;
mod gate;
pub(crate) mod lifecycle;
mod offer;
mod reach;
mod report;
mod respond;
mod state;
mod warmup;

pub use warmup::Checkpoint;

use std::borrow::Cow;
use std::sync::Arc;

use crate::channel::{Channel, MAX_CHANNELS};
use crate::content::Post;
use crate::error::{Error, Result};
use crate::feed::{Feed, Friends, FriendsLiked, FriendsWeight, Shares, Unlimited};
use crate::generate::generate_posts;
use crate::memory::MemoryEstimate;
use crate::metrics::{AttentionReport, PostReport, Report, Tally};
use crate::policy::{PushContext, PushPolicy};
use crate::response::{Relation, ResponseModel};
use crate::scenario::{AttentionMode, DynamicsParams, Scenario, WatchParams};
use crate::tally::Tier;
use crate::world::{FollowGraph, World};
use buyers::Buyers;
use lifecycle::{CohortCounts, CohortRules};
use reach::Reach;
use report::{PostLedger, PostSink};
use state::{Customers, LivePost, RunState};

/// Worlds of at least this many users give the memory freed in a round back
/// to the system at the round's end (see `crate::trim`): a live post's
/// buffers are allocated and freed on whichever thread runs it, and what
/// they leave free stays resident otherwise. Measured (iron-fan first, two
/// days of `growth.toml`): at 3M users the peak fell from 2.05 to 1.82 GB at
/// no measurable cost in time (40.0 s against 39.8 s); at 1M users it saves
/// 10–25 MB and costs 5–7% of a day's wall time (pages given back are
/// faulted in again), so smaller worlds give memory back only after
/// generation and each night.
const TRIM_EVERY_ROUND_FROM: usize = 2_000_000;

/// Watch ratios are counted in bins of 0.01 up to this many bins (the last
/// holds everything from 5.0 up) for the platform's median.
pub(crate) const RATIO_BINS: usize = 501;

/// A run of posts through a push policy and a viewer feed on one world.
///
/// ```
/// use feedsim::{Scenario, Simulation, World};
/// use feedsim::policy::PublicPoolLadder;
/// let mut s = Scenario::default_scenario().scaled(20_000);
/// let world = World::generate(&s)?;
/// let sim = Simulation::new(&s, &world)?;
/// let report = sim.run(&PublicPoolLadder::default(), &s.response)?;
/// assert_eq!(report.posts.len(), sim.posts().len());
/// # Ok::<(), feedsim::Error>(())
/// ```
#[derive(Clone)]
pub struct Simulation<'w> {
    world: WorldRef<'w>,
    posts: Vec<Post>,
    /// The estimate of a run's peak memory ([`crate::memory`]) with these
    /// posts, checked when a run starts.
    memory: MemoryEstimate,
    scenario_name: String,
    seed: u64,
    slots_per_day: u32,
    days: u32,
    interest_targeting: f64,
    feed: Arc<dyn Feed>,
    channels: Vec<Arc<dyn Channel>>,
    /// The scenario's category pool weights, when any is not 1
    /// ([`crate::category_bonus`]): applied to every policy's steps as the
    /// engine asks for them (gate.rs).
    pool_bonus: Option<Vec<f64>>,
    /// The scenario's sharing with commission, if any.
    fission: Option<crate::feed::FissionParams>,
    /// How live sessions' viewers arrive and stay ([`crate::live`]).
    live: crate::live::LiveParams,
    /// The scenario's shelf and search, if any ([`crate::shelf`]).
    shelf: Option<crate::shelf::ShelfSearchParams>,
    dynamics: DynamicsParams,
    watch: WatchParams,
    rules: Vec<CohortRules>,
    /// Offers per pass of a round's choose and respond phases (see
    /// [`with_pass_offers`](Self::with_pass_offers)); `None`: the default.
    pass_offers: Option<usize>,
    /// The first `days` of the posting days are a warm-up under `policy`
    /// (see [`warm_up`](Self::warm_up)).
    warmup: Option<warmup::Warmup>,
}

/// The world a simulation runs on: borrowed, or its own (shared by the
/// simulation's clones until a run takes its graph over; see
/// [`Simulation::into_run_streaming`]).
#[derive(Clone)]
enum WorldRef<'w> {
    Borrowed(&'w World),
    Owned(Arc<World>),
}

impl std::fmt::Debug for Simulation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("scenario", &self.scenario_name)
            .field("seed", &self.seed)
            .field("posts", &self.posts.len())
            .field("feed", &self.feed.name())
            .field(
                "channels",
                &self.channels.iter().map(|c| c.source()).collect::<Vec<_>>(),
            )
            .finish()
    }
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
    /// The index of the post's stage under way (for a channel's offer, the
    /// stage during which the channel made it).
    pub stage: u8,
    /// The offer's source: the stage's, or the channel's (see
    /// [`crate::channel`]).
    pub source: &'static str,
    /// The offer's depth (0 for a stage's; see
    /// [`Channel::offer_with_depth`]).
    pub depth: u8,
    /// The viewer's relation to the creator.
    pub relation: Relation,
    /// The viewer's audience tier.
    pub tier: Tier,
    /// Impressions the viewer had watched earlier that day, before this
    /// slot (what the response model's fatigue term saw).
    pub seen_today: u16,
    /// Watched through (completed).
    pub watched: bool,
    /// Time watched / duration, in thousandths.
    pub watch_ratio_milli: u32,
    /// A long view (KuaiRand's definition; see [`WatchParams`]).
    pub long_view: bool,
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
    /// The response model's own events: bit `i` for its `i`-th
    /// [`extra_events`](ResponseModel::extra_events) name.
    pub extra_events: u32,
    /// The order was a repurchase.
    pub repurchased: bool,
    /// Time watched, ms (for a live session, the viewer's stay).
    pub watch_time_ms: u64,
    /// For a live session: the second of the session at which the viewer
    /// entered the room ([`crate::live`]); `None` for a video.
    pub live_arrival_s: Option<u32>,
}

impl<'w> Simulation<'w> {
    /// A simulation of the scenario's generated posts on `world`.
    pub fn new(scenario: &Scenario, world: &'w World) -> Result<Self> {
        // The least any run needs, before the posts are generated; each
        // run checks what its own mode adds when it starts.
        let memory = MemoryEstimate::of(scenario);
        memory.clone().least_run().check_budget()?;
        let posts = generate_posts(world, scenario)?;
        Self::build(scenario, WorldRef::Borrowed(world), posts, memory)
    }

    /// A simulation of the scenario's generated posts on a world of its own.
    /// [`into_run_streaming`](Self::into_run_streaming) then hands the
    /// world's follow graph to the run instead of copying it when the fan
    /// lifecycle first changes it: the way to run a world whose graph fits
    /// in memory once but not twice. Other runs (`run`, `run_streaming`,
    /// ...) work as on a borrowed world.
    pub fn owning(scenario: &Scenario, world: World) -> Result<Simulation<'static>> {
        let memory = MemoryEstimate::of(scenario);
        memory.clone().least_run().check_budget()?;
        let posts = generate_posts(&world, scenario)?;
        Simulation::build(scenario, WorldRef::Owned(Arc::new(world)), posts, memory)
    }

    /// The world the simulation runs on.
    #[inline]
    pub(crate) fn world(&self) -> &World {
        match &self.world {
            WorldRef::Borrowed(w) => w,
            WorldRef::Owned(w) => w,
        }
    }

    /// A simulation of the given posts (a replayed post log, say) on `world`.
    /// Post ids are reassigned in (slot, creator) order. Refuses a post whose
    /// creator does not exist, whose category is out of range, whose quality
    /// is not finite, or whose slot is past the scenario's days.
    pub fn with_posts(scenario: &Scenario, world: &'w World, posts: Vec<Post>) -> Result<Self> {
        let memory = MemoryEstimate::of(scenario).with_posts(posts.len());
        memory.clone().least_run().check_budget()?;
        Self::build(scenario, WorldRef::Borrowed(world), posts, memory)
    }

    /// `memory`: the estimate of a run's peak with these posts, checked
    /// again in the mode of each run when it starts.
    fn build(
        scenario: &Scenario,
        world_ref: WorldRef<'w>,
        mut posts: Vec<Post>,
        memory: MemoryEstimate,
    ) -> Result<Self> {
        let world: &World = match &world_ref {
            WorldRef::Borrowed(w) => w,
            WorldRef::Owned(w) => w,
        };
        scenario.validate()?;
        if world.cohorts().len() != scenario.cohorts.len() {
            return Err(Error::invalid(
                "cohorts",
                scenario.cohorts.len(),
                format!("the world was generated with {} cohorts", world.cohorts().len()),
            ));
        }
        let horizon = scenario.total_days() * scenario.feed.slots_per_day;
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
            if !(p.duration_s.is_finite() && p.duration_s >= 0.0) {
                return Err(Error::invalid(
                    format!("posts[{i}].duration_s"),
                    p.duration_s,
                    "must be finite and >= 0 (0: drawn from [watch])",
                ));
            }
            if p.slot >= horizon {
                return Err(Error::invalid(
                    format!("posts[{i}].slot"),
                    p.slot,
                    format!("the scenario has {horizon} slots ((warm-up + feed.days) × feed.slots_per_day)"),
                ));
            }
        }
        posts.sort_by_key(|p| (p.slot, p.creator));
        for (i, p) in posts.iter_mut().enumerate() {
            p.id = i as u32;
            if p.is_live() && p.duration_s == 0.0 {
                // A replayed session without a length: its cohort's.
                let cohort = &scenario.cohorts[usize::from(world.creators().cohort(p.creator))];
                let Some(l) = cohort.live else {
                    return Err(Error::invalid(
                        format!("posts[{i}].duration_s"),
                        0,
                        format!(
                            "a live session needs a length: give one, or live sessions to cohort {}",
                            cohort.name
                        ),
                    ));
                };
                p.duration_s = (l.duration_min * 60) as f32;
            }
            if p.duration_s == 0.0 {
                p.duration_s = scenario.watch.duration_s(scenario.seed, p.id);
            }
        }
        let mut feed: Arc<dyn Feed> = match scenario.attention.mode {
            AttentionMode::Unlimited => Arc::new(Unlimited::default()),
            AttentionMode::Finite => Arc::new(scenario.viewer_feed.clone()),
        };
        let mut pool_bonus = None;
        if let Some(bonus) = &scenario.category_bonus {
            feed = bonus.around(feed, scenario.feed.categories);
            let weights = bonus.pool_weights(scenario.feed.categories);
            if weights.iter().any(|&w| w != 1.0) {
                pool_bonus = Some(weights);
            }
        }
        let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
        if let Some(f) = &scenario.friends {
            if world.friends().is_none() {
                return Err(Error::invalid(
                    "friends",
                    "[friends]",
                    "the world has no friend graph: generate it from this scenario, or add one with World::with_friends",
                ));
            }
            feed = FriendsWeight::around(feed, f.weight);
            channels.push(Arc::new(Friends));
            channels.push(Arc::new(FriendsLiked { max_hops: f.max_hops }));
        }
        if let Some(f) = &scenario.fission {
            channels.push(Arc::new(Shares {
                audience: f.audience,
                max_generations: f.max_generations,
            }));
        }
        if let Some(paid) = &scenario.paid {
            feed = paid.around(feed);
            channels.push(Arc::new(paid.channel(scenario.cohorts.iter().map(|c| c.name.as_str()))));
        }
        // Fan-group members are notified of live sessions.
        if scenario.cohorts.iter().any(|c| c.live.is_some()) || posts.iter().any(|p| p.is_live()) {
            channels.push(Arc::new(crate::live::LiveNotice));
        }
        if let Some(tab) = scenario.followed_tab {
            feed = tab.around(feed);
            channels.push(Arc::new(tab));
        }
        Ok(Simulation {
            world: world_ref,
            posts,
            memory,
            scenario_name: scenario.name.clone(),
            seed: scenario.seed,
            slots_per_day: scenario.feed.slots_per_day,
            days: scenario.total_days(),
            interest_targeting: scenario.feed.interest_targeting,
            feed,
            channels,
            pool_bonus,
            fission: scenario.fission,
            shelf: scenario.shelf_search,
            live: scenario.live,
            dynamics: scenario.dynamics.clone(),
            watch: scenario.watch.clone(),
            rules: scenario.cohorts.iter().map(CohortRules::from).collect(),
            pass_offers: None,
            warmup: None,
        }
        .with_scenario_warmup(scenario))
    }

    /// Uses `seed` for the run's draws (activity, responses, ranking ties)
    /// instead of the scenario's; the world and posts stay as they are.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Answers a round's offers in passes of about `offers` offers each
    /// (over ranges of users) instead of the default, about two offers per
    /// user: for the tests that check that passes do not change results.
    /// The report is the same, bit for bit, whatever the passes.
    #[doc(hidden)]
    pub fn with_pass_offers(mut self, offers: usize) -> Self {
        self.pass_offers = Some(offers);
        self
    }

    /// Uses `feed` for every viewer instead of the scenario's (a feed of your
    /// own, say); [`Unlimited`] gives unlimited attention. This replaces the
    /// scenario's followed tab's share of the session too, if it has one
    /// (its channel still offers): wrap yours with
    /// [`FollowedTab::around`](crate::feed::FollowedTab::around) to keep it.
    pub fn with_feed(mut self, feed: Arc<dyn Feed>) -> Self {
        self.feed = feed;
        self
    }

    /// Adds `channel`: from now on every live post is also offered, each
    /// round, to the users the channel names, counted under its source (see
    /// [`crate::channel`]). Channels are called in the order they were
    /// added; at most [`MAX_CHANNELS`] (a run
    /// with more is refused).
    pub fn with_channel(mut self, channel: Arc<dyn Channel>) -> Self {
        self.channels.push(channel);
        self
    }

    /// The channels in use, in the order they are called.
    pub fn channels(&self) -> &[Arc<dyn Channel>] {
        &self.channels
    }

    /// The posts this simulation pushes, by id.
    pub fn posts(&self) -> &[Post] {
        &self.posts
    }

    /// The viewer feed in use.
    pub fn feed(&self) -> &dyn Feed {
        &*self.feed
    }

    /// Runs every post through `policy`, drawing responses from `model`.
    ///
    /// Cost: O(offers × log followers) work, parallel over posts and over
    /// buckets of viewers; memory O(users / 8 × cohorts) for reach, the
    /// day's index of active users (about 12 bytes per user, see
    /// [`Today`](crate::audience::Today)), each live post's offered users (4
    /// bytes each while a public walk is the post's audience, about 6–12
    /// bytes each in its set otherwise, at most users / 8 bytes once the set
    /// is a bitset) and the round's offers (16 bytes each, at most about two
    /// per user at a time: a larger round is answered in passes over ranges
    /// of users); with
    /// dynamics on, 4 bytes per edge of the first day's points, then the
    /// run's own follow graph (12 bytes per edge) beside the world's,
    /// rebuilt in place at the end of each day.
    /// [`into_run_streaming`](Self::into_run_streaming) on a world the
    /// simulation owns holds one graph instead of two.
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

    /// A run's starting state; its graph is `graph` if given (the world's,
    /// taken over), else the world's, borrowed.
    fn new_state(&self, graph: Option<FollowGraph>) -> RunState<'_> {
        let world = self.world();
        let n_users = world.users().len();
        let n_cohorts = world.cohorts().len();
        let n_creators = world.creators().len();
        let finite = !self.feed.shows_everything();
        RunState {
            start: state::follower_counts(graph.as_ref().unwrap_or(world.graph())),
            graph: graph.map_or(Cow::Borrowed(world.graph()), Cow::Owned),
            day_points: Vec::new(),
            points_scratch: Vec::new(),
            buyers: Buyers::default(),
            customers: Customers {
                buyers: vec![Vec::new(); n_creators],
                members: vec![Vec::new(); n_creators],
            },
            group_members: vec![0; n_creators],
            creators: Vec::new(),
            peers: Default::default(),
            seen_today: vec![0; n_users],
            active: Vec::new(),
            today: Default::default(),
            reach: Reach::new(n_users, n_cohorts),
            ratio_hist: vec![0; RATIO_BINS],
            by_depth: Vec::new(),
            commission_fen: 0,
            pending_follows: Vec::new(),
            day_unfollows: Vec::new(),
            creator_history: vec![Vec::new(); n_creators],
            creator_today: vec![0; n_creators],
            stopped_after: vec![None; n_creators],
            day_tally: vec![Tally::default(); n_cohorts],
            counts: vec![CohortCounts::default(); n_cohorts],
            attention: AttentionReport {
                mode: if finite {
                    AttentionMode::Finite
                } else {
                    AttentionMode::Unlimited
                },
                supply: finite.then_some(0),
                offered: 0,
                served: 0,
                declined: 0,
            },
            daily: Vec::new(),
            shelf: self.shelf.map(|p| crate::shelf::ShelfState::new(p, world)),
        }
    }

    /// Like [`run`](Self::run), calling `progress` at the end of each
    /// simulated day (from the thread that runs the simulation): for a long
    /// run's progress bar. The report is the same as `run`'s.
    pub fn run_with_progress(
        &self,
        policy: &dyn PushPolicy,
        model: &dyn ResponseModel,
        progress: &dyn Fn(DayDone),
    ) -> Result<Report> {
        self.execute_timed(
            policy,
            model,
            Observers {
                progress: Some(progress),
                ..Observers::default()
            },
        )
    }

    /// Like [`run`](Self::run), but hands each post's report to `posts` as
    /// its push ends (slot by slot; within a slot, by post id at each of the
    /// round's two decision points, entry and gate) instead of keeping it, so that a long run's memory does not
    /// grow with its posts (a post's report, with its tiers and sources,
    /// takes about 1 KB). The returned report's `posts` is empty; everything
    /// else in it is what `run` gives, bit for bit. An error from `posts`
    /// (a full disk, say) stops the run and is returned. `progress`, if
    /// given, is called as in [`run_with_progress`](Self::run_with_progress).
    ///
    /// ```
    /// use feedsim::{Scenario, Simulation, World};
    /// use feedsim::policy::PublicPoolLadder;
    /// let s = Scenario::default_scenario().scaled(20_000);
    /// let world = World::generate(&s)?;
    /// let sim = Simulation::new(&s, &world)?;
    /// let mut orders = 0;
    /// let report = sim.run_streaming(&PublicPoolLadder::default(), &s.response, &mut |p| {
    ///     orders += p.tally.orders;
    ///     Ok(())
    /// }, None)?;
    /// assert!(report.posts.is_empty());
    /// assert_eq!(orders, report.platform.tally.orders);
    /// # Ok::<(), feedsim::Error>(())
    /// ```
    pub fn run_streaming(
        &self,
        policy: &dyn PushPolicy,
        model: &dyn ResponseModel,
        posts: &mut dyn FnMut(PostReport) -> Result<()>,
        progress: Option<&dyn Fn(DayDone)>,
    ) -> Result<Report> {
        self.execute_timed(policy, model, Observers::streaming(posts, progress))
    }

    /// Like [`run`](Self::run), and also returns the wall time spent in
    /// each phase of the engine: for the per-phase benchmarks
    /// (`benches/phases.rs`), not part of the API.
    #[doc(hidden)]
    pub fn run_timed(&self, policy: &dyn PushPolicy, model: &dyn ResponseModel) -> Result<(Report, PhaseTimes)> {
        let mut times = PhaseTimes::default();
        let report = self.execute_timed(
            policy,
            model,
            Observers {
                times: Some(&mut times),
                ..Observers::default()
            },
        )?;
        Ok((report, times))
    }

    fn execute(
        &self,
        policy: &dyn PushPolicy,
        model: &dyn ResponseModel,
        log: Option<&mut Vec<ImpressionRecord>>,
    ) -> Result<Report> {
        self.execute_timed(
            policy,
            model,
            Observers {
                log,
                ..Observers::default()
            },
        )
    }

    /// Like [`run_streaming`](Self::run_streaming), but consumes the
    /// simulation: on a world of its own ([`owning`](Self::owning)) that no
    /// clone of the simulation shares, the run takes the world's follow
    /// graph over and the fan lifecycle rebuilds it in place, so the run
    /// holds one graph where `run_streaming` holds two (the world's and,
    /// from the first night, its own). The report is the same, bit for bit.
    /// On a borrowed or shared world it is `run_streaming`.
    ///
    /// ```
    /// use feedsim::{Scenario, Simulation, World};
    /// use feedsim::policy::PublicPoolLadder;
    /// let mut s = Scenario::default_scenario().scaled(20_000);
    /// s.dynamics.enabled = true;
    /// let sim = Simulation::owning(&s, World::generate(&s)?)?;
    /// let report = sim.into_run_streaming(&PublicPoolLadder::default(), &s.response, &mut |_| Ok(()), None)?;
    /// assert!(report.platform.tally.impressions > 0);
    /// # Ok::<(), feedsim::Error>(())
    /// ```
    pub fn into_run_streaming(
        mut self,
        policy: &dyn PushPolicy,
        model: &dyn ResponseModel,
        posts: &mut dyn FnMut(PostReport) -> Result<()>,
        progress: Option<&dyn Fn(DayDone)>,
    ) -> Result<Report> {
        let graph = match &mut self.world {
            WorldRef::Owned(w) => Arc::get_mut(w).map(|w| std::mem::take(&mut w.graph)),
            WorldRef::Borrowed(_) => None,
        };
        self.execute_with(graph, policy, model, Observers::streaming(posts, progress))
    }

    fn execute_timed(
        &self,
        policy: &dyn PushPolicy,
        model: &dyn ResponseModel,
        observers: Observers,
    ) -> Result<Report> {
        self.execute_with(None, policy, model, observers)
    }

    /// The run: on `graph` if given (the world's, taken over), else on the
    /// world's graph, borrowed until the fan lifecycle first changes it.
    fn execute_with(
        &self,
        graph: Option<FollowGraph>,
        policy: &dyn PushPolicy,
        model: &dyn ResponseModel,
        observers: Observers,
    ) -> Result<Report> {
        // The measured policy is checked before any work, a warm-up's too,
        // and the run's memory in its mode: on its own graph or a copy,
        // posts kept or streamed.
        self.check_run(policy, model)?;
        let mut memory = self.memory.clone();
        if graph.is_some() {
            memory = memory.owning();
        }
        if observers.posts.is_some() {
            memory = memory.streaming();
        }
        memory.check_budget()?;
        let mut clock = PhaseClock::new(observers.times.is_some());
        if self.warmup.is_some() {
            let checkpoint = self.warm_up_with(graph, model, observers.progress, &mut clock)?;
            return self.resume_with(checkpoint, policy, model, observers, clock);
        }
        let Observers {
            mut log,
            times,
            progress,
            posts,
        } = observers;
        let mut run = Running {
            st: self.new_state(graph),
            live: Vec::new(),
            ledger: PostLedger::new(self, model, posts),
            next: 0,
            slot: 0,
        };
        self.advance(&mut run, policy, model, None, &mut log, &mut clock, progress)?;
        clock.finish(times);
        Ok(self.report(policy.name(), model, run.slot, run.ledger, run.st))
    }

    /// Checks what a run of `policy` and `model` needs before any work.
    fn check_run(&self, policy: &dyn PushPolicy, model: &dyn ResponseModel) -> Result<()> {
        policy.validate()?;
        model.validate()?;
        self.feed.validate()?;
        if self.channels.len() > MAX_CHANNELS {
            return Err(Error::invalid(
                "channels",
                self.channels.len(),
                format!("at most {MAX_CHANNELS} channels"),
            ));
        }
        for c in &self.channels {
            c.validate()?;
        }
        let extra = model.extra_events();
        if extra.len() > crate::response::event::MAX_EXTRA {
            return Err(Error::invalid(
                "response.extra_events",
                extra.len(),
                format!("at most {} events of a model's own", crate::response::event::MAX_EXTRA),
            ));
        }
        for (i, name) in extra.iter().enumerate() {
            if name.is_empty() || extra[..i].contains(name) {
                return Err(Error::invalid(
                    format!("response.extra_events[{i}]"),
                    format!("{name:?}"),
                    "each event needs a name of its own",
                ));
            }
        }
        Ok(())
    }

    /// Runs rounds from `run.slot` until every post has entered and ended
    /// and the posting days are over, or until slot `stop` (a day's first
    /// slot: the run stops after the day before's end).
    #[allow(clippy::too_many_arguments)]
    fn advance<'p>(
        &self,
        run: &mut Running<'_, 'p, '_>,
        policy: &'p dyn PushPolicy,
        model: &dyn ResponseModel,
        stop: Option<u32>,
        log: &mut Option<&mut Vec<ImpressionRecord>>,
        clock: &mut PhaseClock,
        progress: Option<&dyn Fn(DayDone)>,
    ) -> Result<()> {
        let extra = model.extra_events();
        let spd = self.slots_per_day;
        let mut by_viewer = choose::ByViewer::new(self.world().users().len());
        let mut rounds = respond::Rounds::new(log.is_some());
        rounds.keep_likers = self.channels.iter().any(|c| c.wants_likers());
        rounds.keep_sharers = self.channels.iter().any(|c| c.wants_sharers());
        let Running {
            st,
            live,
            ledger: finished,
            next,
            slot,
        } = run;
        let horizon = self.days * spd;
        while !(*next == self.posts.len() && live.is_empty() && *slot >= horizon) && stop.is_none_or(|s| *slot < s) {
            let day = *slot / spd;
            if slot.is_multiple_of(spd) {
                self.start_day(st, day);
                clock.lap(Phase::EndOfDay);
            }
            // 1. Enter.
            let entering = live.len();
            while *next < self.posts.len() && self.posts[*next].slot == *slot {
                if st.stopped_after[self.posts[*next].creator as usize].is_none() {
                    live.push(LivePost::new(*next as u32, self.world().users().len() as u32));
                }
                *next += 1;
            }
            self.refresh_creators(st, finished.seen(), &live[entering..]);
            self.decide(policy, &mut live[entering..], st, *slot, *slot)?;
            self.finish(live, finished, extra)?;
            clock.lap(Phase::Enter);
            // 2. Offer.
            self.offer(live, st, *slot);
            let offers: usize = live.iter().map(|lp| lp.offers.len()).sum();
            st.attention.offered += offers as u64;
            clock.lap(Phase::Offer);
            // 3 and 4. Choose (grouping by viewer; each viewer's feed picks
            // in 4) and respond, in one pass over every user, or in several
            // passes over ranges of users for a round too large to
            // partition at once (the result is the same).
            let passes = by_viewer.passes(offers, self.pass_offers);
            clock.times.rounds += 1;
            clock.times.passes += passes as u64;
            for k in 0..passes {
                let buckets = by_viewer.pass_buckets(k, passes);
                by_viewer.fill(self, live, &st.graph, buckets.clone(), k == 0);
                clock.lap(Phase::Choose);
                self.respond(live, &by_viewer, st, model, *slot, &mut rounds, buckets, k == 0);
                clock.lap(Phase::Respond);
            }
            let round = rounds.merged();
            // 5. Apply, at the round's one sync point.
            if let Some(log) = log.as_deref_mut() {
                self.record(log, live, round, *slot);
            }
            self.apply(st, live, round, day);
            clock.lap(Phase::Apply);
            // 6. Gate.
            for lp in live.iter_mut() {
                lp.close_stage();
            }
            self.refresh_creators(st, finished.seen(), live);
            self.decide(policy, live, st, *slot, *slot + 1)?;
            self.record_peers(live, st);
            self.finish(live, finished, extra)?;
            if self.world().users().len() >= TRIM_EVERY_ROUND_FROM {
                crate::trim::release_free_memory();
            }
            clock.lap(Phase::Gate);
            *slot += 1;
            if slot.is_multiple_of(spd) {
                self.end_day(st, model, day);
                clock.lap(Phase::EndOfDay);
                if let Some(progress) = progress {
                    progress(DayDone {
                        day,
                        days: self.days,
                        impressions: st.attention.served,
                        offers: st.attention.offered,
                        live_posts: live.len(),
                    });
                }
            }
        }
        if stop.is_none() && !slot.is_multiple_of(spd) {
            self.end_day(st, model, *slot / spd);
            clock.lap(Phase::EndOfDay);
        }
        Ok(())
    }
}

/// What a run carries from one round to the next: its state, its live
/// posts, what it keeps of its finished posts, the next post to enter and
/// the slot.
struct Running<'s, 'p, 'o> {
    st: RunState<'s>,
    live: Vec<LivePost<'p>>,
    ledger: PostLedger<'o>,
    next: usize,
    slot: u32,
}

/// What a run records beside its report (all optional).
#[derive(Default)]
struct Observers<'a> {
    /// Every impression ([`Simulation::trace`]).
    log: Option<&'a mut Vec<ImpressionRecord>>,
    /// Wall time per phase ([`Simulation::run_timed`]).
    times: Option<&'a mut PhaseTimes>,
    /// Called at each day's end.
    progress: Option<&'a dyn Fn(DayDone)>,
    /// Where finished posts go instead of the report.
    posts: Option<PostSink<'a>>,
}

impl<'a> Observers<'a> {
    /// Posts handed to `posts` as their pushes end; `progress` at each day's end.
    fn streaming(posts: PostSink<'a>, progress: Option<&'a dyn Fn(DayDone)>) -> Self {
        Observers {
            progress,
            posts: Some(posts),
            ..Observers::default()
        }
    }
}

/// What [`Simulation::run_with_progress`] reports at the end of each day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayDone {
    /// The day just ended (from 0).
    pub day: u32,
    /// The scenario's posting days, a warm-up's included (the run goes on
    /// past them until every push has ended).
    pub days: u32,
    /// Impressions so far in the run.
    pub impressions: u64,
    /// Offers so far in the run.
    pub offers: u64,
    /// Posts whose push is still under way.
    pub live_posts: usize,
}

/// Wall time spent in each phase over a run ([`Simulation::run_timed`]).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PhaseTimes {
    /// Posts entering and their first decision.
    pub enter: std::time::Duration,
    /// Audiences filling offers.
    pub offer: std::time::Duration,
    /// Offers grouped by viewer (the partition).
    pub choose: std::time::Duration,
    /// The per-viewer pass: feeds choosing and responses drawn.
    pub respond: std::time::Duration,
    /// Effects at the sync point.
    pub apply: std::time::Duration,
    /// Stages closed, policies deciding, relative-gate peers.
    pub gate: std::time::Duration,
    /// The start and end of each day (activity, lifecycle, daily figures).
    pub end_of_day: std::time::Duration,
    /// Rounds run, and passes of their choose and respond phases (more
    /// than one for a round too large to partition at once).
    pub rounds: u64,
    /// See `rounds`.
    pub passes: u64,
}

#[derive(Clone, Copy)]
enum Phase {
    Enter,
    Offer,
    Choose,
    Respond,
    Apply,
    Gate,
    EndOfDay,
}

/// Accumulates [`PhaseTimes`] when asked to; otherwise reads no clock.
struct PhaseClock {
    last: Option<std::time::Instant>,
    times: PhaseTimes,
}

impl PhaseClock {
    fn new(on: bool) -> Self {
        PhaseClock {
            last: on.then(std::time::Instant::now),
            times: PhaseTimes::default(),
        }
    }

    /// Hands the times to `times`, if asked for.
    fn finish(self, times: Option<&mut PhaseTimes>) {
        if let Some(times) = times {
            *times = self.times;
        }
    }

    /// Adds the time since the last lap to `phase`.
    fn lap(&mut self, phase: Phase) {
        let Some(last) = self.last else { return };
        let now = std::time::Instant::now();
        let t = &mut self.times;
        *match phase {
            Phase::Enter => &mut t.enter,
            Phase::Offer => &mut t.offer,
            Phase::Choose => &mut t.choose,
            Phase::Respond => &mut t.respond,
            Phase::Apply => &mut t.apply,
            Phase::Gate => &mut t.gate,
            Phase::EndOfDay => &mut t.end_of_day,
        } += now - last;
        self.last = Some(now);
    }
}

/// The context the policy sees for a live post.
pub(crate) fn context<'a>(post: &'a Post, lp: &'a LivePost, st: &'a RunState, slot: u32, spd: u32) -> PushContext<'a> {
    PushContext {
        post,
        creator: &st.creators[post.creator as usize],
        day: slot / spd,
        slot,
        history: &lp.history,
        so_far: &lp.so_far,
        so_far_by_tier: &lp.so_far_by_tier,
        peers: &st.peers,
    }
}
