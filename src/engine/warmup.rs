//! A warm-up before the measured days, the checkpoint it leaves, and the
//! switch to the measured policy (see
//! [`WarmupParams`](crate::scenario::WarmupParams)).
//!
//! The warm-up runs the first days of the simulation's posting days under
//! its own policy and stops at the start of the first measured day. What
//! the world carries from then on is the checkpoint: the follow graph (its
//! scores, sections, groups and low-day counters), buyers, members and
//! coupons, the creators' histories and churn, the relative gates' peers,
//! the posts still live and the clock. Every measured run continues from a
//! copy of it, so runs of different policies start from the same state, bit
//! for bit, and on one clock: the measured days draw the random numbers of
//! their own days, not the warm-up's.
//!
//! Posts still live at the switch go on under the warm-up policy until
//! their push ends (they were published under it), and relative-gate peers
//! are carried (the measured policy's gates compare with the warm-up's
//! recent posts of the same stage, if any). So a warm-up and a measured run
//! under the same policy are, day for day, the run that never stopped.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::report::{PostLedger, Seen};
use super::state::{LivePost, RunState};
use super::{DayDone, Observers, PhaseClock, Running, Simulation};
use crate::error::{Error, Result};
use crate::metrics::{PostReport, Report};
use crate::policy::{PushContext, PushPolicy, Step};
use crate::response::ResponseModel;
use crate::scenario::{FastLifecycle, Scenario, WarmupPolicy};
use crate::world::FollowGraph;

/// A simulation's warm-up: its first `days` posting days, under `policy`.
#[derive(Clone)]
pub(super) struct Warmup {
    pub(super) days: u32,
    pub(super) policy: Arc<dyn PushPolicy>,
    /// Its first days with the lifecycle sped up, if any.
    pub(super) fast: Option<FastLifecycle>,
}

/// The state of a run at the end of its warm-up, from which measured runs
/// continue ([`Simulation::warm_up`], [`Simulation::resume`]).
///
/// It holds the world's state as the warm-up left it (the follow graph, at
/// 12 bytes per edge once the fan lifecycle has changed it, buyers and
/// members, creator histories, relative-gate peers) and the posts still
/// live. A clone copies all of it; a resume clones it, so one checkpoint
/// serves every policy compared.
pub struct Checkpoint<'s> {
    state: RunState<'s>,
    live: Vec<LivePost<'s>>,
    seen: Vec<Seen>,
    next: usize,
    slot: u32,
    warmup_policy: String,
    origin: Origin,
}

/// What identifies the simulation a checkpoint was taken on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Origin {
    seed: u64,
    users: usize,
    cohorts: usize,
    posts: usize,
    days: u32,
    slots_per_day: u32,
    warmup_days: u32,
    /// The fast days and the speed's bits (0, 0 for none).
    fast: (u32, u64),
}

impl Origin {
    fn of(sim: &Simulation) -> Origin {
        let world = sim.world();
        Origin {
            seed: sim.seed,
            users: world.users().len(),
            cohorts: world.cohorts().len(),
            posts: sim.posts.len(),
            days: sim.days,
            slots_per_day: sim.slots_per_day,
            warmup_days: sim.warmup_days(),
            fast: sim
                .warmup
                .as_ref()
                .and_then(|w| w.fast)
                .map_or((0, 0), |f| (f.days, f.speed.to_bits())),
        }
    }
}

impl Clone for Checkpoint<'_> {
    fn clone(&self) -> Self {
        Checkpoint {
            state: self.state.fork(self.origin.users, self.origin.cohorts),
            live: self.live.clone(),
            seen: self.seen.clone(),
            next: self.next,
            slot: self.slot,
            warmup_policy: self.warmup_policy.clone(),
            origin: self.origin,
        }
    }
}

impl std::fmt::Debug for Checkpoint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("day", &self.day())
            .field("warmup_policy", &self.warmup_policy)
            .field("live_posts", &self.live.len())
            .field("digest", &format_args!("{:016x}", self.digest()))
            .finish()
    }
}

impl Checkpoint<'_> {
    /// The first measured day (the warm-up's days are `0..day`).
    pub fn day(&self) -> u32 {
        self.slot / self.origin.slots_per_day
    }

    /// The warm-up policy's name.
    pub fn warmup_policy(&self) -> &str {
        &self.warmup_policy
    }

    /// Posts published in the warm-up whose push is still under way.
    pub fn live_posts(&self) -> usize {
        self.live.len()
    }

    /// The follow graph at the end of the warm-up.
    pub fn graph(&self) -> &FollowGraph {
        &self.state.graph
    }

    /// A digest of everything the checkpoint carries (graph columns,
    /// buyers and members, creator histories, peers, live posts, the
    /// clock): equal digests mean, up to a 64-bit hash, the same state. For
    /// checks that runs start from the same checkpoint.
    pub fn digest(&self) -> u64 {
        // Fixed keys (`new`, not `RandomState`): the same digest in every
        // process of a build.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.state.digest(&mut h);
        for lp in &self.live {
            (lp.post, lp.history.len(), lp.so_far, lp.offered.len(), lp.end.is_some()).hash(&mut h);
            for (name, cursor) in &lp.cursors {
                (name, cursor.0).hash(&mut h);
            }
        }
        for s in &self.seen {
            (s.posts, s.impressions, s.watches).hash(&mut h);
        }
        (self.next, self.slot, &self.warmup_policy).hash(&mut h);
        h.finish()
    }

    /// Refuses a checkpoint taken on another simulation.
    fn check_origin(&self, sim: &Simulation) -> Result<()> {
        let here = Origin::of(sim);
        if self.origin == here {
            Ok(())
        } else {
            Err(Error::invalid(
                "checkpoint",
                format!("{:?}", self.origin),
                format!("was taken on another simulation ({here:?})"),
            ))
        }
    }
}

/// Each post under the policy it was published under: the warm-up's for
/// posts published before `from_slot`, the measured one's after.
struct Switched<'a> {
    before: &'a dyn PushPolicy,
    after: &'a dyn PushPolicy,
    from_slot: u32,
}

impl PushPolicy for Switched<'_> {
    fn name(&self) -> &str {
        self.after.name()
    }

    fn validate(&self) -> Result<()> {
        self.before.validate()?;
        self.after.validate()
    }

    fn next_stage<'p>(&'p self, ctx: &PushContext) -> Step<'p> {
        if ctx.post.slot < self.from_slot {
            self.before.next_stage(ctx)
        } else {
            self.after.next_stage(ctx)
        }
    }
}

fn no_warmup() -> Error {
    Error::invalid(
        "warmup",
        "none",
        "the simulation has no warm-up: give the scenario a [warmup] table or call with_warmup",
    )
}

impl<'w> Simulation<'w> {
    /// The scenario's `[warmup]`, if it has one with days.
    pub(super) fn with_scenario_warmup(self, scenario: &Scenario) -> Self {
        let Some(w) = scenario.warmup.filter(|w| w.days > 0) else {
            return self;
        };
        let policy: Arc<dyn PushPolicy> = match w.policy {
            WarmupPolicy::PublicPoolLadder => Arc::new(scenario.public_pool_ladder.clone()),
            WarmupPolicy::IronFanFirst => Arc::new(scenario.iron_fan_first()),
        };
        // A validated scenario has at least one measured day, and a fast
        // lifecycle it allows.
        let sim = self
            .with_warmup(w.days, policy)
            .expect("a validated scenario's warm-up");
        match w.fast {
            Some(fast) => sim
                .with_fast_lifecycle(fast)
                .expect("a validated scenario's fast lifecycle"),
            None => sim,
        }
    }

    /// Makes the first `days` of the simulation's posting days a warm-up
    /// under `policy` (with the scenario's category pool weights, if any);
    /// `days = 0` removes the warm-up. Runs then report the remaining days
    /// only (see [`warm_up`](Self::warm_up)). A scenario's `[warmup]` table
    /// does this for you, adding its days to `feed.days`.
    ///
    /// Errors if `days` leaves no measured day.
    pub fn with_warmup(mut self, days: u32, policy: Arc<dyn PushPolicy>) -> Result<Self> {
        if days == 0 {
            self.warmup = None;
            return Ok(self);
        }
        if days >= self.days {
            return Err(Error::invalid(
                "warmup.days",
                days,
                format!(
                    "must leave a measured day: the simulation has {} posting days",
                    self.days
                ),
            ));
        }
        self.warmup = Some(Warmup {
            days,
            policy,
            fast: None,
        });
        Ok(self)
    }

    /// Speeds up follows and unfollows on the warm-up's first `fast.days`
    /// days ([`FastLifecycle`]): a device to reach the lifecycle's steady
    /// state sooner. A scenario's `[warmup] fast = { days, speed }` does
    /// this for you.
    ///
    /// Errors (naming the scenario's field): no warm-up (`warmup`), more
    /// fast days than warm-up days (`warmup.fast.days`), a speed below 1
    /// or one that makes the unfollow chance exceed 1
    /// (`warmup.fast.speed`), or the low-score unfollow rule on
    /// (`warmup.fast`: it is not sped up).
    pub fn with_fast_lifecycle(mut self, fast: FastLifecycle) -> Result<Self> {
        let d = &self.dynamics;
        let Some(w) = self.warmup.as_mut() else {
            return Err(no_warmup());
        };
        fast.validate(w.days, d)?;
        w.fast = Some(fast);
        Ok(self)
    }

    /// The factor on follow and unfollow chances on `day`: the fast
    /// lifecycle's speed on its days, else 1.
    pub(super) fn lifecycle_speed(&self, day: u32) -> f64 {
        match self.warmup.as_ref().and_then(|w| w.fast) {
            Some(f) if day < f.days => f.speed,
            _ => 1.0,
        }
    }

    /// Warm-up days (0 without a warm-up).
    pub fn warmup_days(&self) -> u32 {
        self.warmup.as_ref().map_or(0, |w| w.days)
    }

    /// Runs the warm-up (the first [`warmup_days`](Self::warmup_days) days,
    /// under the warm-up policy, responses drawn from `model`) and returns
    /// the state at its end. [`resume`](Self::resume) then runs the measured
    /// days under any policy from a copy of it: warm up once, compare many
    /// policies from the same state. A run ([`run`](Self::run) and the
    /// others) of a simulation with a warm-up does both.
    ///
    /// ```
    /// use feedsim::{Scenario, Simulation, World};
    /// use feedsim::scenario::WarmupParams;
    /// let mut s = Scenario::default_scenario().scaled(20_000);
    /// s.dynamics.enabled = true;
    /// s.warmup = Some(WarmupParams::new(2, Default::default()));
    /// let world = World::generate(&s)?;
    /// let sim = Simulation::new(&s, &world)?;
    /// let warm = sim.warm_up(&s.response)?;
    /// assert_eq!(warm.day(), 2);
    /// let ladder = sim.resume(&warm, &s.public_pool_ladder, &s.response)?;
    /// let iron = sim.resume(&warm, &s.iron_fan_first(), &s.response)?;
    /// // Both report the measured day only, from the same start.
    /// assert_eq!(ladder.daily[0].day, 2);
    /// assert_eq!(ladder.cohorts[0].followers, iron.cohorts[0].followers);
    /// # Ok::<(), feedsim::Error>(())
    /// ```
    ///
    /// Errors: the simulation has no warm-up (field `warmup`), or the
    /// policy's or model's own validation.
    pub fn warm_up(&self, model: &dyn ResponseModel) -> Result<Checkpoint<'_>> {
        self.warm_up_with(None, model, None, &mut PhaseClock::new(false))
    }

    /// Like [`warm_up`](Self::warm_up), calling `progress` at the end of
    /// each warm-up day (from the thread that runs the simulation), as
    /// [`run_with_progress`](Self::run_with_progress) does: for the
    /// progress bar of a warm-up of hundreds of days. The checkpoint is the
    /// same as `warm_up`'s, bit for bit.
    pub fn warm_up_with_progress(
        &self,
        model: &dyn ResponseModel,
        progress: &dyn Fn(DayDone),
    ) -> Result<Checkpoint<'_>> {
        self.warm_up_with(None, model, Some(progress), &mut PhaseClock::new(false))
    }

    /// Runs the measured days under `policy` from a copy of `checkpoint`
    /// (taken by this simulation's [`warm_up`](Self::warm_up)). The report
    /// covers the measured days (see [`Report::warmup_days`]). Posts
    /// published in the warm-up and live at the switch go on under the
    /// warm-up policy.
    ///
    /// Errors: a checkpoint of another simulation (field `checkpoint`), or
    /// the policy's or model's own validation.
    pub fn resume(
        &self,
        checkpoint: &Checkpoint,
        policy: &dyn PushPolicy,
        model: &dyn ResponseModel,
    ) -> Result<Report> {
        self.resume_with(
            checkpoint.clone(),
            policy,
            model,
            Observers::default(),
            PhaseClock::new(false),
        )
    }

    /// [`resume`](Self::resume), handing each post's report to `posts` as
    /// its push ends and calling `progress` at each day's end, as
    /// [`run_streaming`](Self::run_streaming) does.
    pub fn resume_streaming(
        &self,
        checkpoint: &Checkpoint,
        policy: &dyn PushPolicy,
        model: &dyn ResponseModel,
        posts: &mut dyn FnMut(PostReport) -> Result<()>,
        progress: Option<&dyn Fn(DayDone)>,
    ) -> Result<Report> {
        let observers = Observers::streaming(posts, progress);
        self.resume_with(checkpoint.clone(), policy, model, observers, PhaseClock::new(false))
    }

    /// The warm-up, on `graph` if given (the world's, taken over).
    pub(super) fn warm_up_with(
        &self,
        graph: Option<FollowGraph>,
        model: &dyn ResponseModel,
        progress: Option<&dyn Fn(DayDone)>,
        clock: &mut PhaseClock,
    ) -> Result<Checkpoint<'_>> {
        let w = self.warmup.as_ref().ok_or_else(no_warmup)?;
        let policy: &dyn PushPolicy = &*w.policy;
        self.check_run(policy, model)?;
        let mut run = Running {
            st: self.new_state(graph),
            live: Vec::new(),
            ledger: PostLedger::warm_up(self),
            next: 0,
            slot: 0,
        };
        let stop = w.days * self.slots_per_day;
        self.advance(&mut run, policy, model, Some(stop), &mut None, clock, progress)?;
        let Running {
            mut st,
            live,
            ledger,
            next,
            slot,
        } = run;
        debug_assert_eq!(slot, stop);
        let origin = Origin::of(self);
        st.start_period(origin.users, origin.cohorts);
        Ok(Checkpoint {
            state: st,
            live,
            seen: ledger.into_seen(),
            next,
            slot,
            warmup_policy: policy.name().to_string(),
            origin,
        })
    }

    /// The measured days from `checkpoint`, on `clock` (the warm-up's, if
    /// the same call ran it).
    pub(super) fn resume_with(
        &self,
        checkpoint: Checkpoint<'_>,
        policy: &dyn PushPolicy,
        model: &dyn ResponseModel,
        observers: Observers,
        mut clock: PhaseClock,
    ) -> Result<Report> {
        let w = self.warmup.as_ref().ok_or_else(no_warmup)?;
        checkpoint.check_origin(self)?;
        let switched = Switched {
            before: &*w.policy,
            after: policy,
            from_slot: checkpoint.slot,
        };
        self.check_run(&switched, model)?;
        let Checkpoint {
            state,
            live,
            seen,
            next,
            slot,
            warmup_policy,
            ..
        } = checkpoint;
        let Observers {
            mut log,
            times,
            progress,
            posts,
        } = observers;
        let mut run = Running {
            st: state,
            live,
            ledger: PostLedger::new(self, model, posts).after(seen, slot),
            next,
            slot,
        };
        self.advance(&mut run, &switched, model, None, &mut log, &mut clock, progress)?;
        clock.finish(times);
        let mut report = self.report(switched.name(), model, run.slot, run.ledger, run.st);
        report.warmup_days = w.days;
        report.warmup_policy = Some(warmup_policy);
        Ok(report)
    }
}
