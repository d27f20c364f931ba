//! Experiments: policy comparisons over replicates with confidence
//! intervals, and sweeps over scenario parameters that can be cut into
//! shards.
//!
//! # Replicates and common random numbers
//!
//! An [`Experiment`] runs `R` replicates. Replicate `r` uses the seed
//! [`replicate_seed`]`(scenario.seed, r)` for everything: the world (users,
//! creators, follow graph), the posts and the responses. Within a replicate
//! every policy runs on the *same* world and posts with the *same* seed, and
//! the engine draws the response of user `u` to post `p` from a stream keyed
//! by `(seed, p, u)` whichever policy made the impression. So two policies
//! that show a post to the same user get the same response there: their
//! difference comes from what they show, not from the dice (common random
//! numbers). Two identical policies give a paired difference of exactly 0.
//!
//! With a warm-up (`[warmup]`), each replicate warms up once and every
//! policy continues from a copy of the same checkpoint
//! ([`Simulation::warm_up`], [`Simulation::resume`]): the policies are
//! compared from the same warmed world, bit for bit.
//!
//! To reproduce replicate `r` alone, run the scenario
//! [`Experiment::replicate_scenario`]`(r)` with a plain
//! [`Simulation`]: the reports are identical.
//!
//! # What is reported
//!
//! For the platform and every cohort, every numeric field of the run's
//! report ([`PlatformReport`](crate::metrics::PlatformReport),
//! [`CohortReport`](crate::metrics::CohortReport)), named by its path in the
//! report's JSON (`unique_reach`, `tally.impressions`, `rates.gmv_yuan`,
//! `rates.orders_per_mille`, ...); the platform group also holds the
//! numeric fields of any other run-level object of the
//! [`Report`] under that object's name. Then derived metrics: for a cohort
//! `per_creator.*` and `per_follower.*` (impressions, orders, GMV in yuan,
//! follows gained, divided by the cohort's creators or followers) and
//! `per_post.*` (impressions, which are also the post's unique reach,
//! public impressions, orders and GMV in yuan, divided by the cohort's
//! posts), for the platform `per_user.*` and `reach_share` (unique reach
//! over users). With paid traffic, both groups add `paid.spend_yuan`,
//! `paid.roi` (GMV of orders placed on bought plays / spend) and
//! `paid.yuan_per_follow` (spend / follows deposited); a group whose paid
//! traffic is missing from some run (no post promoted) leaves them out.
//! With shelf and search (`[shelf_search]`) or live sessions, both groups
//! add `channels.gmv_yuan` and, for `feed`, `paid`, `shelf`, `search` and
//! `live`, `channels.<channel>.gmv_share` (of the GMV through every
//! channel) and `channels.<channel>.orders`. A cohort with live sessions
//! has `live.*`, its sessions' [`LiveSummary`](crate::metrics::LiveSummary)
//! (`live.fan_share_of_viewers`, `live.fan_stay_ratio`, ...). With shelf
//! and search, the platform group adds
//! `shelf_search.mean_lag_days` (the mean days from the first seeding
//! impression to a seeded order through shelf or search).
//! Arrays (per-stage or per-day series) are not summarized.
//!
//! For each metric and policy: the mean over replicates and its
//! confidence interval, and the **paired difference** policy − baseline
//! (the first policy) per replicate with its mean and interval. Intervals
//! are Student-t intervals with `R − 1` degrees of freedom, `mean ± t ·
//! sd / √R`, at 95% unless [`Experiment::confidence`] says otherwise; with
//! one replicate there is no interval. A rate is averaged over replicates as
//! computed in each (a mean of ratios, not a ratio of sums).
//!
//! # Determinism
//!
//! Replicates run in parallel (rayon); each replicate's reports are
//! bit-identical at any thread count, and all summaries are computed in
//! replicate order after the runs, so an [`ExperimentReport`] is too.
//!
//! # Sweeps
//!
//! A [`Sweep`] varies one or more scenario parameters, each named by a
//! dotted path into the scenario ([`set_path`]), over the grid of their
//! values, and runs an experiment at every point. Point `k` belongs to shard
//! `k mod n` ([`Shard`]); [`SweepReport::merge`] joins shard reports into
//! exactly the report of the unsharded sweep.

mod estimate;
mod merge;
mod path;
mod report;
mod shard;
mod sweep;

pub use estimate::{Estimate, t_critical};
pub use merge::{RESULTS_VERSION, SweepDefinition, SweepPoint, SweepReport};
pub use path::set_path;
pub use report::{ExperimentReport, GroupSummary, MetricSummary};
pub use shard::Shard;
pub use sweep::{Axis, MAX_SWEEP_POINTS, PolicyFactory, Sweep, SweepEvent, scenario_policies};

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use report::{RunMetrics, run_metrics, summarize};

use crate::engine::Simulation;
use crate::error::{Error, Result};
use crate::memory::MemoryEstimate;
use crate::metrics::Report;
use crate::policy::PushPolicy;
use crate::postlog::PostLog;
use crate::response::ResponseModel;
use crate::scenario::Scenario;
use crate::world::World;

/// Tag of the replicate-seed derivation (ASCII "REPL").
const REPLICATE: u64 = 0x5245_504c;

/// The seed of replicate `r` of a scenario whose seed is `scenario_seed`:
/// the SplitMix64-based key derivation of [`crate::engine`]'s streams applied
/// to `(scenario_seed, "REPL", r)`. Portable and fixed, so a published
/// `(seed, r)` pair reproduces its run.
///
/// ```
/// use feedsim::experiment::replicate_seed;
/// assert_ne!(replicate_seed(7, 0), replicate_seed(7, 1));
/// assert_eq!(replicate_seed(7, 3), replicate_seed(7, 3));
/// ```
pub fn replicate_seed(scenario_seed: u64, r: u32) -> u64 {
    crate::rng::key(scenario_seed, REPLICATE, r.into(), 0)
}

/// A finished run of one policy on one replicate, as an observer sees it.
#[derive(Debug, Clone, Copy)]
pub struct RunDone<'r> {
    /// Replicate index.
    pub replicate: u32,
    /// The replicate's seed.
    pub seed: u64,
    /// Policy index (0 is the baseline).
    pub policy: usize,
    /// The run's full report.
    pub report: &'r Report,
    /// Runs finished so far, this one included (in completion order, which
    /// varies between executions; the results do not).
    pub finished: usize,
    /// Runs in all.
    pub total: usize,
}

/// The fixed parts of one experiment: scenario, policies, model, posts.
struct Design<'d> {
    scenario: &'d Scenario,
    policies: &'d [&'d dyn PushPolicy],
    model: &'d dyn ResponseModel,
    post_log: Option<&'d PostLog>,
}

impl Design<'_> {
    /// Runs every policy on replicate `r`; `done` is called after each run.
    fn replicate(&self, r: u32, done: &(dyn Fn(u32, u64, usize, &Report) + Sync)) -> Result<Vec<RunMetrics>> {
        let seed = replicate_seed(self.scenario.seed, r);
        let mut scenario = self.scenario.clone();
        scenario.seed = seed;
        let world = World::generate(&scenario)?;
        let sim = match self.post_log {
            Some(log) => Simulation::with_posts(&scenario, &world, log.posts(&world)?)?,
            None => Simulation::new(&scenario, &world)?,
        };
        // With a warm-up, once per replicate: every policy goes on from a
        // copy of the same checkpoint.
        let warm = if sim.warmup_days() > 0 {
            Some(sim.warm_up(self.model)?)
        } else {
            None
        };
        self.policies
            .iter()
            .enumerate()
            .map(|(k, policy)| {
                let report = match &warm {
                    Some(warm) => sim.resume(warm, *policy, self.model)?,
                    None => sim.run(*policy, self.model)?,
                };
                done(r, seed, k, &report);
                run_metrics(&report)
            })
            .collect()
    }
}

/// Refuses runs of `scenario` (with `post_log`'s posts, if any) when `jobs`
/// of them, as many at once as threads run them, would exceed the memory
/// budget ([`crate::memory`]).
fn check_memory(scenario: &Scenario, post_log: Option<&PostLog>, parallel: bool, jobs: usize) -> Result<()> {
    let at_once = if parallel {
        jobs.min(rayon::current_num_threads())
    } else {
        1
    };
    let mut estimate = MemoryEstimate::of(scenario);
    if let Some(log) = post_log {
        estimate = estimate.with_posts(log.len());
    }
    estimate
        .concurrent(at_once.try_into().unwrap_or(u32::MAX))
        .check_budget()
}

/// The checks every experiment and sweep makes before running.
fn check_design(replicates: u32, confidence: f64) -> Result<()> {
    if replicates == 0 {
        return Err(Error::invalid("experiment.replicates", 0, "must be at least 1"));
    }
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            "experiment.confidence",
            confidence,
            "must be a number strictly between 0 and 1",
        ))
    }
}

/// Runs `jobs` in order or in parallel, returning their results in job
/// order; the first error in job order wins, so failures are reproducible.
fn run_jobs<T: Send>(parallel: bool, jobs: usize, f: impl Fn(usize) -> Result<T> + Sync + Send) -> Result<Vec<T>> {
    let results: Vec<Result<T>> = if parallel {
        (0..jobs).into_par_iter().map(&f).collect()
    } else {
        (0..jobs).map(&f).collect()
    };
    results.into_iter().collect()
}

/// Several policies on the same worlds, over replicates, with common random
/// numbers (see the [module docs](self)).
///
/// ```
/// use feedsim::experiment::Experiment;
/// use feedsim::policy::PushPolicy;
/// use feedsim::Scenario;
/// let mut s = Scenario::default_scenario();
/// s.users.count = 20_000;
/// for c in &mut s.cohorts {
///     c.creators = c.creators.min(10);
///     c.followers.max = c.followers.max.min(2_000);
///     c.followers.min = c.followers.min.min(c.followers.max);
/// }
/// let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
/// let report = Experiment::new(&s, vec![&ladder as &dyn PushPolicy, &iron])?
///     .replicates(3)
///     .run()?;
/// let reach = report.metric("KOE", "reach_per_follower").unwrap();
/// println!("KOE reach per follower: {} → {}; change {}",
///          reach.policies[0], reach.policies[1], reach.differences[1]);
/// assert_eq!(reach.samples[1].len(), 3);
/// # Ok::<(), feedsim::Error>(())
/// ```
pub struct Experiment<'a> {
    scenario: Scenario,
    policies: Vec<&'a dyn PushPolicy>,
    model: Option<&'a dyn ResponseModel>,
    post_log: Option<&'a PostLog>,
    replicates: u32,
    confidence: f64,
    parallel: bool,
}

impl<'a> Experiment<'a> {
    /// An experiment of `policies` (the first is the baseline) on
    /// `scenario`, with the scenario's response model, 10 replicates and
    /// 95% intervals. Errors if the scenario is invalid or there is no
    /// policy.
    pub fn new(scenario: &Scenario, policies: Vec<&'a dyn PushPolicy>) -> Result<Self> {
        scenario.validate()?;
        if policies.is_empty() {
            return Err(Error::invalid("experiment.policies", "[]", "needs at least one policy"));
        }
        Ok(Experiment {
            scenario: scenario.clone(),
            policies,
            model: None,
            post_log: None,
            replicates: 10,
            confidence: 0.95,
            parallel: true,
        })
    }

    /// Sets the number of replicates (at least 1; 2 or more for intervals).
    pub fn replicates(mut self, replicates: u32) -> Self {
        self.replicates = replicates;
        self
    }

    /// Sets the confidence level of the intervals (default 0.95).
    pub fn confidence(mut self, confidence: f64) -> Self {
        self.confidence = confidence;
        self
    }

    /// Uses `model` instead of the scenario's response model.
    pub fn model(mut self, model: &'a dyn ResponseModel) -> Self {
        self.model = Some(model);
        self
    }

    /// Replays `log` in every replicate instead of generating posts (the
    /// world still varies by replicate).
    pub fn post_log(mut self, log: &'a PostLog) -> Self {
        self.post_log = Some(log);
        self
    }

    /// Whether replicates run in parallel (default `true`). Each run is
    /// parallel inside either way; running replicates one at a time holds
    /// one world in memory instead of several. Results are the same.
    pub fn parallel_replicates(mut self, parallel: bool) -> Self {
        self.parallel = parallel;
        self
    }

    /// The seed of replicate `r`.
    pub fn replicate_seed(&self, r: u32) -> u64 {
        replicate_seed(self.scenario.seed, r)
    }

    /// The scenario replicate `r` runs: this experiment's with the
    /// replicate's seed.
    pub fn replicate_scenario(&self, r: u32) -> Scenario {
        let mut s = self.scenario.clone();
        s.seed = self.replicate_seed(r);
        s
    }

    /// Runs the experiment.
    pub fn run(&self) -> Result<ExperimentReport> {
        self.run_with(|_| {})
    }

    /// Runs the experiment, calling `observer` after each (replicate,
    /// policy) run with its report, from whichever thread ran it. The
    /// observer runs outside the engine, between runs, and cannot change
    /// the results. Use it for a progress bar, or to keep full reports.
    ///
    /// Errors: an invalid replicate count or confidence level (field
    /// `experiment.replicates` / `experiment.confidence`), or the first
    /// error of a run in replicate order.
    pub fn run_with(&self, observer: impl Fn(&RunDone) + Sync) -> Result<ExperimentReport> {
        check_design(self.replicates, self.confidence)?;
        let model = self.model.unwrap_or(&self.scenario.response);
        let design = Design {
            scenario: &self.scenario,
            policies: &self.policies,
            model,
            post_log: self.post_log,
        };
        check_memory(&self.scenario, self.post_log, self.parallel, self.replicates as usize)?;
        let total = self.replicates as usize * self.policies.len();
        let finished = AtomicUsize::new(0);
        let done = |replicate: u32, seed: u64, policy: usize, report: &Report| {
            observer(&RunDone {
                replicate,
                seed,
                policy,
                report,
                finished: finished.fetch_add(1, Ordering::Relaxed) + 1,
                total,
            })
        };
        let runs = run_jobs(self.parallel, self.replicates as usize, |r| {
            design.replicate(r as u32, &done)
        })?;
        Ok(summarize(
            &self.scenario,
            model.name(),
            self.policies.iter().map(|p| p.name().to_string()).collect(),
            self.confidence,
            &runs,
        ))
    }
}
