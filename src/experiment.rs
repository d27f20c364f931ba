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
//! [`CohortReport`]), named by its path in the
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

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::engine::Simulation;
use crate::error::{Error, Result};
use crate::metrics::{CohortReport, Report};
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

/// The two-sided Student-t critical value for a `confidence` interval with
/// `df` degrees of freedom: the `(1 + confidence) / 2` quantile (statrs).
/// Returns NaN when `df` is 0 or `confidence` is not in `(0, 1)`.
///
/// ```
/// use feedsim::experiment::t_critical;
/// assert!((t_critical(0.95, 1) - 12.7062).abs() < 1e-3);
/// assert!((t_critical(0.95, 9) - 2.2622).abs() < 1e-3);
/// ```
pub fn t_critical(confidence: f64, df: u32) -> f64 {
    if df == 0 || !(confidence > 0.0 && confidence < 1.0) {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, f64::from(df)) {
        Ok(t) => t.inverse_cdf((1.0 + confidence) / 2.0),
        Err(_) => f64::NAN,
    }
}

/// A mean over replicates with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The mean of the samples.
    pub mean: f64,
    /// The samples' standard deviation (divisor `n − 1`); `None` for one
    /// sample.
    pub sd: Option<f64>,
    /// Lower end of the interval; `None` for one sample.
    pub low: Option<f64>,
    /// Upper end of the interval; `None` for one sample.
    pub high: Option<f64>,
}

impl Estimate {
    /// The mean of `samples` with its Student-t interval at `confidence`
    /// (`mean ± t(confidence, n − 1) · sd / √n`). Sums run in the order given,
    /// so the result is reproducible. O(n).
    ///
    /// ```
    /// use feedsim::experiment::Estimate;
    /// let e = Estimate::from_samples(&[1.0, 2.0, 3.0], 0.95);
    /// assert_eq!(e.mean, 2.0);
    /// assert_eq!(e.sd, Some(1.0));
    /// // t(0.975, 2) = 4.303; half width 4.303 / √3.
    /// assert!((e.half_width().unwrap() - 4.3027 / 3f64.sqrt()).abs() < 1e-3);
    /// ```
    pub fn from_samples(samples: &[f64], confidence: f64) -> Estimate {
        let n = samples.len();
        if n == 0 {
            return Estimate {
                mean: f64::NAN,
                sd: None,
                low: None,
                high: None,
            };
        }
        let mean = samples.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Estimate {
                mean,
                sd: None,
                low: None,
                high: None,
            };
        }
        let ss: f64 = samples.iter().map(|x| (x - mean) * (x - mean)).sum();
        let sd = (ss / (n - 1) as f64).sqrt();
        let half = t_critical(confidence, (n - 1) as u32) * sd / (n as f64).sqrt();
        Estimate {
            mean,
            sd: Some(sd),
            low: Some(mean - half),
            high: Some(mean + half),
        }
    }

    /// The paired difference `a[r] − b[r]` over replicates, with its
    /// interval: how to compare two cohorts, or two metrics, of the same
    /// replicates. Errors if the lengths differ.
    pub fn paired_difference(a: &[f64], b: &[f64], confidence: f64) -> Result<Estimate> {
        if a.len() != b.len() {
            return Err(Error::invalid(
                "paired_difference",
                format!("{} vs {} samples", a.len(), b.len()),
                "needs the same replicates on both sides",
            ));
        }
        let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        Ok(Estimate::from_samples(&d, confidence))
    }

    /// Half the interval's width, if there is an interval.
    pub fn half_width(&self) -> Option<f64> {
        Some((self.high? - self.low?) / 2.0)
    }

    /// Whether `value` lies in the interval (ends included); `false` when
    /// there is no interval.
    pub fn covers(&self, value: f64) -> bool {
        matches!((self.low, self.high), (Some(l), Some(h)) if l <= value && value <= h)
    }
}

impl fmt::Display for Estimate {
    /// `mean [low, high]`, with the formatter's precision (default 3).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision().unwrap_or(3);
        match (self.low, self.high) {
            (Some(l), Some(h)) => write!(f, "{:.p$} [{:.p$}, {:.p$}]", self.mean, l, h),
            _ => write!(f, "{:.p$}", self.mean),
        }
    }
}

/// One metric across policies and replicates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// The metric's name: its path in the run report's JSON, or a derived
    /// metric's name (see the [module docs](self)).
    pub name: String,
    /// Per policy (in experiment order): the mean over replicates.
    pub policies: Vec<Estimate>,
    /// Per policy: the paired difference policy − baseline (policy 0). The
    /// baseline's own entry is exactly 0.
    pub differences: Vec<Estimate>,
    /// The values, `samples[policy][replicate]`.
    pub samples: Vec<Vec<f64>>,
}

/// The metrics of the platform or of one cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// `platform`, or the cohort's name.
    pub name: String,
    /// The metrics, in report order, derived metrics last.
    pub metrics: Vec<MetricSummary>,
}

impl GroupSummary {
    /// The metric with this name.
    pub fn metric(&self, name: &str) -> Option<&MetricSummary> {
        self.metrics.iter().find(|m| m.name == name)
    }
}

/// What an [`Experiment`] found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentReport {
    /// Scenario name.
    pub scenario: String,
    /// Response model name.
    pub model: String,
    /// Policy names, baseline first.
    pub policies: Vec<String>,
    /// Number of replicates.
    pub replicates: u32,
    /// The seed of each replicate.
    pub seeds: Vec<u64>,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// Platform metrics.
    pub platform: GroupSummary,
    /// Cohort metrics, in scenario order.
    pub cohorts: Vec<GroupSummary>,
}

impl ExperimentReport {
    /// The cohort with this name.
    pub fn cohort(&self, name: &str) -> Option<&GroupSummary> {
        self.cohorts.iter().find(|c| c.name == name)
    }

    /// The platform group (`"platform"`) or the cohort named `group`.
    pub fn group(&self, group: &str) -> Option<&GroupSummary> {
        if group == "platform" {
            Some(&self.platform)
        } else {
            self.cohort(group)
        }
    }

    /// A metric of a group (see [`group`](Self::group)).
    pub fn metric(&self, group: &str, metric: &str) -> Option<&MetricSummary> {
        self.group(group)?.metric(metric)
    }

    /// The platform group, then the cohorts.
    pub fn groups(&self) -> impl Iterator<Item = &GroupSummary> {
        std::iter::once(&self.platform).chain(&self.cohorts)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Reads a report written by [`to_json`](Self::to_json).
    pub fn from_json(text: &str) -> Result<ExperimentReport> {
        Ok(serde_json::from_str(text)?)
    }
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

/// Numeric metrics of one group of one run, in report order.
type Metrics = Vec<(String, f64)>;

/// What one run contributes: platform metrics and per-cohort metrics.
#[derive(Debug, Clone)]
struct RunMetrics {
    platform: Metrics,
    cohorts: Vec<(String, Metrics)>,
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Metrics) {
    match value {
        serde_json::Value::Number(n) => {
            if let Some(x) = n.as_f64() {
                out.push((prefix.to_string(), x));
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, v, out);
            }
        }
        _ => {}
    }
}

fn per(n: f64, d: f64) -> f64 {
    if d == 0.0 { 0.0 } else { n / d }
}

fn cohort_metrics(c: &CohortReport, channels: bool) -> Result<Metrics> {
    let mut m = Metrics::new();
    flatten("", &serde_json::to_value(c)?, &mut m);
    let gmv = c.tally.gmv_fen as f64 / 100.0;
    for (unit, d) in [
        ("per_creator", f64::from(c.creators)),
        ("per_follower", c.followers as f64),
    ] {
        m.push((format!("{unit}.impressions"), per(c.tally.impressions as f64, d)));
        m.push((format!("{unit}.orders"), per(c.tally.orders as f64, d)));
        m.push((format!("{unit}.gmv_yuan"), per(gmv, d)));
        m.push((format!("{unit}.follows"), per(c.tally.follows as f64, d)));
    }
    // Per post: a post is never shown to a user twice, so its impressions
    // are also its unique reach.
    let posts = c.posts as f64;
    m.push(("per_post.impressions".into(), per(c.tally.impressions as f64, posts)));
    m.push((
        "per_post.public_impressions".into(),
        per(c.tally.public_impressions as f64, posts),
    ));
    m.push(("per_post.orders".into(), per(c.tally.orders as f64, posts)));
    m.push(("per_post.gmv_yuan".into(), per(gmv, posts)));
    paid_metrics(&c.by_source, &mut m);
    if channels {
        channel_metrics(&c.by_source, &mut m);
    }
    Ok(m)
}

/// Whether the run's GMV comes through channels other than posts in the
/// feed: shelf and search, or live sessions.
fn channels(report: &Report) -> bool {
    report.platform.shelf_search.is_some() || report.cohorts.iter().any(|c| c.live.is_some())
}

/// With shelf and search or live sessions: `channels.gmv_yuan` (GMV through every channel,
/// posts' and listings') and `channels.<channel>.gmv_share` and
/// `channels.<channel>.orders` for the feed, paid traffic, the shelf and
/// search ([`BySource::by_channel`](crate::metrics::BySource::by_channel)).
fn channel_metrics(by_source: &crate::metrics::BySource, m: &mut Metrics) {
    let ch = by_source.by_channel();
    m.push(("channels.gmv_yuan".into(), ch.gmv_fen() as f64 / 100.0));
    for (name, t) in ch.iter() {
        m.push((format!("channels.{name}.gmv_share"), ch.gmv_share(t)));
        m.push((format!("channels.{name}.orders"), t.orders as f64));
    }
}

/// With paid traffic (`by_source["paid"]`): `paid.spend_yuan`, `paid.roi`
/// (GMV of the orders placed on bought plays over spend) and
/// `paid.yuan_per_follow` (spend per follow deposited).
fn paid_metrics(by_source: &crate::metrics::BySource, m: &mut Metrics) {
    let Some(t) = by_source.get(crate::feed::PAID) else {
        return;
    };
    let spend = t.spend_fen as f64 / 100.0;
    m.push(("paid.spend_yuan".into(), spend));
    m.push(("paid.roi".into(), per(t.gmv_fen as f64 / 100.0, spend)));
    m.push(("paid.yuan_per_follow".into(), per(spend, t.follows as f64)));
}

fn platform_metrics(report: &Report) -> Result<Metrics> {
    let p = &report.platform;
    let mut m = Metrics::new();
    flatten("", &serde_json::to_value(p)?, &mut m);
    // Other run-level objects of the report (not the scalars, nor the
    // per-post, per-creator, per-cohort or per-day arrays) join the platform
    // group under their own name, e.g. `attention.served`. Only those
    // objects are serialized, from the report itself: no copy of the large
    // arrays. Every field is listed, so that adding one to `Report` fails to
    // compile here until someone decides whether it joins the group.
    let Report {
        scenario: _,
        policy: _,
        model: _,
        seed: _,
        slots: _,
        warmup_days: _,
        warmup_policy: _,
        platform: _,
        attention,
        daily: _,
        cohorts: _,
        creators: _,
        posts: _,
        reach_relative_error: _,
    } = report;
    flatten("attention", &serde_json::to_value(attention)?, &mut m);
    let users = f64::from(p.users);
    m.push(("reach_share".into(), per(p.unique_reach as f64, users)));
    m.push(("per_user.impressions".into(), per(p.tally.impressions as f64, users)));
    m.push(("per_user.orders".into(), per(p.tally.orders as f64, users)));
    m.push(("per_user.gmv_yuan".into(), per(p.tally.gmv_fen as f64 / 100.0, users)));
    paid_metrics(&p.by_source, &mut m);
    if channels(report) {
        channel_metrics(&p.by_source, &mut m);
    }
    if let Some(shelf) = &p.shelf_search {
        let lags = &shelf.orders_by_lag_days;
        let seeded: u64 = lags.iter().sum();
        let days: u64 = lags.iter().enumerate().map(|(d, n)| d as u64 * n).sum();
        m.push(("shelf_search.mean_lag_days".into(), per(days as f64, seeded as f64)));
    }
    Ok(m)
}

fn run_metrics(report: &Report) -> Result<RunMetrics> {
    // Once per run: it looks at every cohort.
    let channels = channels(report);
    Ok(RunMetrics {
        platform: platform_metrics(report)?,
        cohorts: report
            .cohorts
            .iter()
            .map(|c| Ok((c.name.clone(), cohort_metrics(c, channels)?)))
            .collect::<Result<_>>()?,
    })
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

/// Summarizes `runs[replicate][policy]`.
fn summarize(
    scenario: &Scenario,
    model: &str,
    policies: Vec<String>,
    confidence: f64,
    runs: &[Vec<RunMetrics>],
) -> ExperimentReport {
    let replicates = runs.len() as u32;
    let group = |name: &str, pick: &dyn Fn(&RunMetrics) -> Option<&Metrics>| -> GroupSummary {
        // Metric names from the first run; a metric missing from any run
        // (an optional field) is left out rather than guessed.
        let first = pick(&runs[0][0]).cloned().unwrap_or_default();
        let metrics = first
            .iter()
            .enumerate()
            .filter_map(|(i, (metric, _))| {
                let samples: Option<Vec<Vec<f64>>> = (0..policies.len())
                    .map(|k| {
                        runs.iter()
                            .map(|rep| {
                                let m = pick(&rep[k])?;
                                match m.get(i) {
                                    Some((n, v)) if n == metric => Some(*v),
                                    _ => m.iter().find(|(n, _)| n == metric).map(|(_, v)| *v),
                                }
                            })
                            .collect()
                    })
                    .collect();
                let samples = samples?;
                let estimates = samples.iter().map(|s| Estimate::from_samples(s, confidence)).collect();
                // Every policy has one sample per replicate, so the lengths
                // always match.
                let differences = samples
                    .iter()
                    .map(|s| Estimate::paired_difference(s, &samples[0], confidence).ok())
                    .collect::<Option<Vec<_>>>()?;
                Some(MetricSummary {
                    name: metric.clone(),
                    policies: estimates,
                    differences,
                    samples,
                })
            })
            .collect();
        GroupSummary {
            name: name.to_string(),
            metrics,
        }
    };
    let platform = group("platform", &|m| Some(&m.platform));
    let cohorts = runs[0][0]
        .cohorts
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            group(name, &|m: &RunMetrics| {
                m.cohorts.get(i).filter(|(n, _)| n == name).map(|(_, metrics)| metrics)
            })
        })
        .collect();
    ExperimentReport {
        scenario: scenario.name.clone(),
        model: model.to_string(),
        policies,
        replicates,
        seeds: (0..replicates).map(|r| replicate_seed(scenario.seed, r)).collect(),
        confidence,
        platform,
        cohorts,
    }
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

/// Sets the number at `path` in a scenario and returns the changed,
/// validated scenario.
///
/// The path is a dotted path into the scenario as its TOML file spells it:
/// `users.count`, `feed.interest_targeting`,
/// `public_pool_ladder.pools.0.gate.threshold`. An array element is its
/// index (`cohorts.2`, or `cohorts[2]`), or for arrays of named tables
/// (cohorts) its name (`cohorts.KOE.iron_fan_ratio`). The field must exist
/// in the scenario and hold a number; an integer field takes only whole
/// values.
///
/// Errors: [`Error::Invalid`] naming `path` when the path does not lead to a
/// number or the value does not fit the field; the scenario's own
/// validation error (naming the field, e.g. `cohorts[2].iron_fan_ratio`)
/// when the value is out of range. Integers in the scenario must fit in
/// `i64` (TOML's integers), which excludes seeds of 2^63 and above.
///
/// ```
/// use feedsim::experiment::set_path;
/// use feedsim::Scenario;
/// let s = Scenario::default_scenario();
/// let t = set_path(&s, "cohorts.KOE.iron_fan_ratio", 0.25)?;
/// assert_eq!(t.cohorts[2].iron_fan_ratio, 0.25);
/// let t = set_path(&s, "public_pool_ladder.pools[0].size", 500.0)?;
/// assert_eq!(t.public_pool_ladder.pools[0].size, 500);
/// assert!(set_path(&s, "cohorts.KOE.iron_fan_ratio", 1.5).is_err());
/// assert_eq!(set_path(&s, "users.bogus", 1.0).unwrap_err().field(), Some("users.bogus"));
/// # Ok::<(), feedsim::Error>(())
/// ```
pub fn set_path(scenario: &Scenario, path: &str, value: f64) -> Result<Scenario> {
    let mut root = scenario_value(scenario, path, value)?;
    set_number(&mut root, path, value)?;
    let s = scenario_from_value(root, path, value)?;
    s.validate()?;
    Ok(s)
}

/// The scenario as a TOML value; errors name `path` and `value`, the
/// setting that needed it.
fn scenario_value(scenario: &Scenario, path: &str, value: f64) -> Result<toml::Value> {
    toml::Value::try_from(scenario)
        .map_err(|e| Error::invalid(path, value, format!("the scenario cannot be written as TOML: {e}")))
}

/// The scenario a TOML value holds, not yet validated; errors name `path`
/// and `value`, the setting that made the value.
fn scenario_from_value(root: toml::Value, path: &str, value: f64) -> Result<Scenario> {
    root.try_into()
        .map_err(|e: toml::de::Error| Error::invalid(path, value, e.message().to_string()))
}

/// Sets the number at `path` in a scenario's TOML value (see [`set_path`]),
/// checking only that the path leads to a number of the right kind.
fn set_number(root: &mut toml::Value, path: &str, value: f64) -> Result<()> {
    let bad = |reason: String| Error::invalid(path, value, reason);
    let normalized = path.replace('[', ".").replace(']', "");
    let segments: Vec<&str> = normalized.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(bad("is not a dotted path such as `cohorts.2.iron_fan_ratio`".into()));
    }
    let mut node = root;
    for (depth, seg) in segments.iter().enumerate() {
        let here = if depth == 0 {
            "the scenario".to_string()
        } else {
            format!("`{}`", segments[..depth].join("."))
        };
        node = match node {
            toml::Value::Table(t) => {
                let keys = t.keys().cloned().collect::<Vec<_>>().join(", ");
                t.get_mut(*seg)
                    .ok_or_else(|| bad(format!("{here} has no field `{seg}` (it has: {keys})")))?
            }
            toml::Value::Array(a) => {
                let len = a.len();
                let i = match seg.parse::<usize>() {
                    Ok(i) if i < len => i,
                    Ok(i) => return Err(bad(format!("{here} has {len} elements, not {}", i + 1))),
                    Err(_) => a
                        .iter()
                        .position(|v| v.get("name").and_then(|n| n.as_str()) == Some(*seg))
                        .ok_or_else(|| bad(format!("{here} has no element named `{seg}`")))?,
                };
                &mut a[i]
            }
            _ => return Err(bad(format!("{here} is a value, not a table or array"))),
        };
    }
    *node = match node {
        toml::Value::Integer(_) => {
            if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e18 {
                toml::Value::Integer(value as i64)
            } else {
                return Err(bad("is a whole-number field".into()));
            }
        }
        toml::Value::Float(_) => toml::Value::Float(value),
        other => return Err(bad(format!("holds {}, not a number", other.type_str()))),
    };
    Ok(())
}

/// The most grid points a [`Sweep`] takes (every point's scenario is kept,
/// a few kB each).
pub const MAX_SWEEP_POINTS: u64 = 100_000;

/// One swept parameter: a path ([`set_path`]) and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Dotted path into the scenario.
    pub path: String,
    /// The values, in order.
    pub values: Vec<f64>,
}

impl Axis {
    /// An axis over `values`.
    pub fn new(path: impl Into<String>, values: impl Into<Vec<f64>>) -> Axis {
        Axis {
            path: path.into(),
            values: values.into(),
        }
    }

    /// `points` evenly spaced values from `first` to `last` inclusive.
    ///
    /// Errors (field `sweep.axes`) when `points` is above
    /// [`MAX_SWEEP_POINTS`], before anything is allocated: no sweep could
    /// take such an axis.
    ///
    /// ```
    /// use feedsim::experiment::Axis;
    /// assert_eq!(Axis::linspace("feed.interest_targeting", 0.0, 1.0, 3)?.values, [0.0, 0.5, 1.0]);
    /// assert!(Axis::linspace("feed.interest_targeting", 0.0, 1.0, 5_000_000_000).is_err());
    /// # Ok::<(), feedsim::Error>(())
    /// ```
    pub fn linspace(path: impl Into<String>, first: f64, last: f64, points: usize) -> Result<Axis> {
        let path = path.into();
        if points as u64 > MAX_SWEEP_POINTS {
            return Err(Error::invalid(
                "sweep.axes",
                points,
                format!("the axis `{path}` has more values than a sweep's {MAX_SWEEP_POINTS} grid points"),
            ));
        }
        let values = match points {
            0 => vec![],
            1 => vec![first],
            n => (0..n)
                .map(|i| first + (last - first) * i as f64 / (n - 1) as f64)
                .collect(),
        };
        Ok(Axis::new(path, values))
    }
}

/// Shard `index` of `count`: the points `k` with `k mod count == index`.
/// Written and parsed as `index/count`.
///
/// ```
/// use feedsim::experiment::Shard;
/// let s: Shard = "2/8".parse()?;
/// assert_eq!((s.index, s.count), (2, 8));
/// assert!(s.owns(10) && !s.owns(11));
/// assert!("8/8".parse::<Shard>().is_err());
/// # Ok::<(), feedsim::Error>(())
/// ```
///
/// Read from JSON (a shard report's `shard`), it is checked as
/// [`Shard::new`] checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ShardFields")]
pub struct Shard {
    /// This shard, from 0.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// The whole sweep as one shard.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`; errors unless `index < count`.
    pub fn new(index: u32, count: u32) -> Result<Shard> {
        if count == 0 || index >= count {
            return Err(Error::invalid(
                "shard",
                format!("{index}/{count}"),
                "must be i/n with 0 <= i < n",
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether point `k` belongs to this shard.
    pub fn owns(&self, k: u64) -> bool {
        k % u64::from(self.count) == u64::from(self.index)
    }
}

/// A shard as written, before [`Shard::new`] checks it.
#[derive(Deserialize)]
struct ShardFields {
    index: u32,
    count: u32,
}

impl TryFrom<ShardFields> for Shard {
    type Error = Error;
    fn try_from(f: ShardFields) -> Result<Shard> {
        Shard::new(f.index, f.count)
    }
}

impl FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Shard> {
        let parse = |t: &str| t.trim().parse::<u32>().ok();
        match s.split_once('/').map(|(i, n)| (parse(i), parse(n))) {
            Some((Some(i), Some(n))) => Shard::new(i, n),
            _ => Err(Error::invalid("shard", s, "must be i/n with 0 <= i < n")),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Everything that defines a sweep's results; shards of one sweep share it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepDefinition {
    /// The base scenario.
    pub scenario: Scenario,
    /// The axes; the grid is their Cartesian product, the last axis varying
    /// fastest.
    pub axes: Vec<Axis>,
    /// Policy names, baseline first.
    pub policies: Vec<String>,
    /// Replicates per point.
    pub replicates: u32,
    /// Confidence level.
    pub confidence: f64,
    /// Points in the whole grid.
    pub points: u64,
}

/// One grid point's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The point's index in the grid.
    pub index: u64,
    /// The value of each axis at this point.
    pub values: Vec<f64>,
    /// The experiment at this point.
    pub experiment: ExperimentReport,
}

/// What a [`Sweep`] (or one shard of it) found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    /// The results version of the build that wrote it
    /// ([`RESULTS_VERSION`]); 0 in a file written before versions were
    /// kept.
    #[serde(default)]
    pub version: u32,
    /// A checksum of everything else in the report
    /// ([`SweepReport::content_checksum`]), so that a merge finds an edited
    /// or damaged shard. Empty in a file written before checksums were
    /// kept.
    #[serde(default)]
    pub checksum: String,
    /// The sweep.
    pub definition: SweepDefinition,
    /// The shard these points are, or `None` for the whole grid.
    pub shard: Option<Shard>,
    /// The points, by index.
    pub points: Vec<SweepPoint>,
}

/// The version of the results this build computes, bumped whenever the
/// golden reports are regenerated (a change that moves any figure of a
/// valid scenario): a sweep merge refuses shards of another version, whose
/// points would not be comparable.
pub const RESULTS_VERSION: u32 = 1;

/// The axis values at grid point `k` (row-major: the last axis varies
/// fastest); `k` must be below the product of the axes' lengths.
fn grid_values(axes: &[Axis], k: u64) -> Vec<f64> {
    let mut rest = k;
    let mut values = vec![0.0; axes.len()];
    for (i, a) in axes.iter().enumerate().rev() {
        let n = a.values.len() as u64;
        values[i] = a.values[(rest % n) as usize];
        rest /= n;
    }
    values
}

impl SweepReport {
    /// A report of this build's [`RESULTS_VERSION`], sealed with its
    /// checksum.
    pub fn new(definition: SweepDefinition, shard: Option<Shard>, points: Vec<SweepPoint>) -> Result<SweepReport> {
        let mut r = SweepReport {
            version: RESULTS_VERSION,
            checksum: String::new(),
            definition,
            shard,
            points,
        };
        r.checksum = r.content_checksum()?;
        Ok(r)
    }

    /// The checksum of the report's content (its version, definition,
    /// shard and points, as JSON): 64-bit FNV-1a, in hex. It finds an edited
    /// or damaged file; it is not a signature.
    pub fn content_checksum(&self) -> Result<String> {
        let text = serde_json::to_string(&(self.version, &self.definition, &self.shard, &self.points))?;
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        Ok(format!("{hash:016x}"))
    }

    /// The report as pretty JSON (numbers written so that they read back
    /// exactly).
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Reads a report written by [`to_json`](Self::to_json).
    pub fn from_json(text: &str) -> Result<SweepReport> {
        Ok(serde_json::from_str(text)?)
    }

    /// Joins the reports of every shard of one sweep into the report of the
    /// whole sweep: equal (and so serialized byte for byte the same) to the
    /// report an unsharded run gives. The shards may come in any order.
    ///
    /// A complete report counts as shard `0/1`, so merging it alone gives
    /// it back.
    ///
    /// Errors ([`Error::Invalid`], field `sweep.shards`): no shards, shards of different sweeps or shard
    /// counts, a shard missing or given twice, a shard whose points are
    /// not exactly the ones it owns or whose values are not the grid's, a
    /// shard of another [`RESULTS_VERSION`], or one that does not match its
    /// checksum (edited or damaged); field `sweep.definition.points`: a
    /// point count that is not the product of the axes' lengths.
    pub fn merge(shards: Vec<SweepReport>) -> Result<SweepReport> {
        let bad = |value: String, reason: &str| Error::invalid("sweep.shards", value, reason);
        let Some(first) = shards.first() else {
            return Err(bad("[]".into(), "no shard reports to merge"));
        };
        let definition = first.definition.clone();
        let count = first.shard.unwrap_or(Shard::ALL).count;
        // The grid: as many points as the axes make, none of them empty.
        let product = definition
            .axes
            .iter()
            .try_fold(1u64, |n, a| n.checked_mul(a.values.len() as u64));
        if definition.axes.is_empty() || product != Some(definition.points) {
            return Err(Error::invalid(
                "sweep.definition.points",
                definition.points,
                format!(
                    "must be the product of the axes' lengths ({})",
                    definition
                        .axes
                        .iter()
                        .map(|a| a.values.len().to_string())
                        .collect::<Vec<_>>()
                        .join(" × ")
                ),
            ));
        }
        // Checked against the shards given, never allocated by `count`: a
        // report's shard may come from a hand-edited file, or be built with
        // its public fields.
        let mut seen = std::collections::BTreeSet::new();
        for s in &shards {
            // A complete report is shard 0 of 1.
            let shard = s.shard.unwrap_or(Shard::ALL);
            if Shard::new(shard.index, shard.count).is_err() {
                return Err(bad(shard.to_string(), "is not a shard i/n with 0 <= i < n"));
            }
            if s.version != RESULTS_VERSION {
                return Err(bad(
                    shard.to_string(),
                    &format!(
                        "holds results of version {} and this build computes version {RESULTS_VERSION}: run the shard again",
                        s.version
                    ),
                ));
            }
            if s.checksum != s.content_checksum()? {
                return Err(bad(
                    shard.to_string(),
                    "does not match its checksum: the file was edited or damaged",
                ));
            }
            if s.definition != definition {
                return Err(bad(
                    shard.to_string(),
                    "belongs to a different sweep than the first shard",
                ));
            }
            if shard.count != count {
                return Err(bad(
                    shard.to_string(),
                    &format!("the first shard says there are {count} shards"),
                ));
            }
            if !seen.insert(shard.index) {
                return Err(bad(shard.to_string(), "is given twice"));
            }
        }
        // Every index is below `count` and given once, so this looks at no
        // more than `shards.len() + 1` indices.
        if let Some(missing) = (0..count).find(|i| !seen.contains(i)) {
            return Err(bad(format!("{missing}/{count}"), "is missing"));
        }
        for s in &shards {
            let shard = s.shard.unwrap_or(Shard::ALL);
            let owned = (0..definition.points).filter(|&k| shard.owns(k));
            if !s.points.iter().map(|p| p.index).eq(owned) {
                return Err(bad(shard.to_string(), "does not hold exactly the points it owns"));
            }
            if let Some(p) = s
                .points
                .iter()
                .find(|p| p.values != grid_values(&definition.axes, p.index))
            {
                return Err(bad(
                    shard.to_string(),
                    &format!(
                        "point {} has values {:?}, not the grid's {:?}",
                        p.index,
                        p.values,
                        grid_values(&definition.axes, p.index)
                    ),
                ));
            }
        }
        let mut points: Vec<SweepPoint> = shards.into_iter().flat_map(|s| s.points).collect();
        points.sort_by_key(|p| p.index);
        SweepReport::new(definition, None, points)
    }
}

/// Progress of a sweep, as an observer sees it.
#[derive(Debug, Clone, Copy)]
pub enum SweepEvent<'r> {
    /// A (point, replicate, policy) run finished.
    Run {
        /// The grid point.
        point: u64,
        /// The run; `finished` and `total` count runs of this shard.
        run: RunDone<'r>,
    },
    /// Every run of a point finished.
    Point {
        /// The grid point.
        point: u64,
        /// Points of this shard finished so far, this one included.
        finished: usize,
        /// Points in this shard.
        total: usize,
    },
}

/// Builds the policies to compare from a point's scenario.
pub type PolicyFactory<'a> = dyn Fn(&Scenario) -> Vec<Box<dyn PushPolicy>> + Sync + 'a;

/// The scenario's own two policies: its public-pool ladder (the baseline)
/// and its iron-fan-first push. The default of a [`Sweep`], so sweeping
/// `public_pool_ladder.*` or `iron_fan_first.*` changes the policies.
pub fn scenario_policies(scenario: &Scenario) -> Vec<Box<dyn PushPolicy>> {
    vec![
        Box::new(scenario.public_pool_ladder.clone()),
        Box::new(scenario.iron_fan_first()),
    ]
}

/// An experiment at every point of a grid of scenario parameters.
///
/// At each point the scenario is the base with the axes' values set
/// ([`set_path`]); the policies come from the point's scenario (by default
/// [`scenario_policies`]) and so does the response model. Replicate `r` at
/// every point uses the same seed ([`replicate_seed`] of the point's
/// scenario seed), so neighbouring points share their random numbers too
/// and curves are smooth.
///
/// ```
/// use feedsim::experiment::{Axis, Shard, Sweep, SweepReport};
/// use feedsim::Scenario;
/// let mut s = Scenario::default_scenario();
/// s.users.count = 10_000;
/// for c in &mut s.cohorts {
///     c.creators = c.creators.min(5);
///     c.followers.max = c.followers.max.min(1_000);
///     c.followers.min = c.followers.min.min(c.followers.max);
/// }
/// let axis = Axis::new("cohorts.KOE.iron_fan_ratio", [0.1, 0.5]);
/// let sweep = Sweep::new(&s, vec![axis])?.replicates(2);
/// let whole = sweep.run()?;
/// let halves = (0..2)
///     .map(|i| sweep.clone().shard(Shard::new(i, 2)?).run())
///     .collect::<Result<Vec<_>, _>>()?;
/// assert_eq!(SweepReport::merge(halves)?, whole);
/// # Ok::<(), feedsim::Error>(())
/// ```
#[derive(Clone)]
pub struct Sweep<'a> {
    base: Scenario,
    axes: Vec<Axis>,
    scenarios: Vec<Scenario>,
    policies: &'a PolicyFactory<'a>,
    post_log: Option<&'a PostLog>,
    replicates: u32,
    confidence: f64,
    shard: Shard,
    parallel: bool,
}

impl<'a> Sweep<'a> {
    /// A sweep of `base` over the grid of `axes`, with the scenario's
    /// policies, 10 replicates, 95% intervals, and every point (shard
    /// `0/1`). Every point's scenario is built and validated here, so a bad
    /// path or value fails before anything runs, in every shard alike. A
    /// point's values are all set before its scenario is validated, so
    /// axes that only make sense together (a cohort's `followers.min` and
    /// `followers.max`) can move past each other's base values.
    ///
    /// Errors: no axis, an axis without values or with a non-finite value,
    /// more than 100,000 points (field `sweep.axes...`); a bad path or value
    /// ([`set_path`]), with the point's values added to the reason.
    pub fn new(base: &Scenario, axes: Vec<Axis>) -> Result<Sweep<'a>> {
        base.validate()?;
        if axes.is_empty() {
            return Err(Error::invalid("sweep.axes", "[]", "needs at least one axis"));
        }
        let mut points: u64 = 1;
        for (i, a) in axes.iter().enumerate() {
            if a.values.is_empty() {
                return Err(Error::invalid(format!("sweep.axes[{i}].values"), "[]", "needs a value"));
            }
            if let Some(v) = a.values.iter().find(|v| !v.is_finite()) {
                return Err(Error::invalid(format!("sweep.axes[{i}].values"), v, "must be finite"));
            }
            points = points.saturating_mul(a.values.len() as u64);
        }
        if points > MAX_SWEEP_POINTS {
            return Err(Error::invalid(
                "sweep.axes",
                points,
                format!("at most {MAX_SWEEP_POINTS} grid points"),
            ));
        }
        let mut sweep = Sweep {
            base: base.clone(),
            axes,
            scenarios: Vec::new(),
            policies: &scenario_policies,
            post_log: None,
            replicates: 10,
            confidence: 0.95,
            shard: Shard::ALL,
            parallel: true,
        };
        let first = &sweep.axes[0];
        let base = scenario_value(&sweep.base, &first.path, first.values[0])?;
        sweep.scenarios = (0..points)
            .map(|k| {
                let values = sweep.point_values(k);
                sweep.point(&base, &values).map_err(|e| match e {
                    Error::Invalid { field, value, reason } => Error::Invalid {
                        field,
                        value,
                        reason: format!("{reason} (sweep point {k}: {})", sweep.describe(&values)),
                    },
                    other => other,
                })
            })
            .collect::<Result<_>>()?;
        Ok(sweep)
    }

    /// The scenario with every axis set to its value in `values`: all the
    /// values are set first and the scenario validated once, so a point is
    /// judged as a whole (raising a cohort's `followers.min` above the base's
    /// `followers.max` is fine when `followers.max` rises too).
    fn point(&self, base: &toml::Value, values: &[f64]) -> Result<Scenario> {
        let mut root = base.clone();
        for (axis, &v) in self.axes.iter().zip(values) {
            set_number(&mut root, &axis.path, v)?;
        }
        let scenario = match scenario_from_value(root, &self.axes[0].path, values[0]) {
            Ok(s) => s,
            // A value the field's type cannot hold (a negative count, say):
            // name the axis by setting each alone. Should none fail alone,
            // name them all.
            Err(e) => {
                for (axis, &v) in self.axes.iter().zip(values) {
                    let mut alone = base.clone();
                    set_number(&mut alone, &axis.path, v)?;
                    scenario_from_value(alone, &axis.path, v)?;
                }
                return Err(match e {
                    Error::Invalid { reason, .. } if self.axes.len() > 1 => Error::invalid(
                        self.axes.iter().map(|a| a.path.as_str()).collect::<Vec<_>>().join(", "),
                        format!("{values:?}"),
                        reason,
                    ),
                    other => other,
                });
            }
        };
        scenario.validate()?;
        Ok(scenario)
    }

    fn describe(&self, values: &[f64]) -> String {
        self.axes
            .iter()
            .zip(values)
            .map(|(a, v)| format!("{} = {v}", a.path))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Sets the replicates per point.
    pub fn replicates(mut self, replicates: u32) -> Self {
        self.replicates = replicates;
        self
    }

    /// Sets the confidence level (default 0.95).
    pub fn confidence(mut self, confidence: f64) -> Self {
        self.confidence = confidence;
        self
    }

    /// Builds the policies from each point's scenario with `factory`
    /// instead of [`scenario_policies`]. Every point must give the same
    /// number of policies.
    pub fn policies(mut self, factory: &'a PolicyFactory<'a>) -> Self {
        self.policies = factory;
        self
    }

    /// Replays `log` at every point and replicate.
    pub fn post_log(mut self, log: &'a PostLog) -> Self {
        self.post_log = Some(log);
        self
    }

    /// Runs only the points of `shard`.
    pub fn shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// Whether jobs (point × replicate) run in parallel (default `true`).
    pub fn parallel(mut self, parallel: bool) -> Self {
        self.parallel = parallel;
        self
    }

    /// Points in the whole grid.
    pub fn points(&self) -> u64 {
        self.scenarios.len() as u64
    }

    /// The axes.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// The axis values at point `k` (row-major: the last axis varies
    /// fastest). `k` must be below [`points`](Self::points).
    pub fn point_values(&self, k: u64) -> Vec<f64> {
        grid_values(&self.axes, k)
    }

    /// The scenario at point `k`.
    pub fn point_scenario(&self, k: u64) -> Option<&Scenario> {
        self.scenarios.get(k as usize)
    }

    /// The definition shared by every shard of this sweep.
    pub fn definition(&self) -> SweepDefinition {
        SweepDefinition {
            scenario: self.base.clone(),
            axes: self.axes.clone(),
            policies: (self.policies)(&self.scenarios[0])
                .iter()
                .map(|p| p.name().to_string())
                .collect(),
            replicates: self.replicates,
            confidence: self.confidence,
            points: self.points(),
        }
    }

    /// Runs this sweep's shard.
    pub fn run(&self) -> Result<SweepReport> {
        self.run_with(|_| {})
    }

    /// Runs this sweep's shard, calling `observer` after every run and
    /// every finished point, from whichever thread finished it (see
    /// [`Experiment::run_with`]).
    ///
    /// Errors: as [`Experiment::run_with`], and (field `sweep.policies`)
    /// if points give different numbers of policies.
    pub fn run_with(&self, observer: impl Fn(&SweepEvent) + Sync) -> Result<SweepReport> {
        check_design(self.replicates, self.confidence)?;
        let definition = self.definition();
        let mine: Vec<u64> = (0..self.points()).filter(|&k| self.shard.owns(k)).collect();
        let policies: Vec<Vec<Box<dyn PushPolicy>>> = mine
            .iter()
            .map(|&k| (self.policies)(&self.scenarios[k as usize]))
            .collect();
        if let Some(p) = policies.iter().find(|p| p.len() != definition.policies.len()) {
            return Err(Error::invalid(
                "sweep.policies",
                p.len(),
                format!("every point needs the same policies ({})", definition.policies.len()),
            ));
        }
        if definition.policies.is_empty() {
            return Err(Error::invalid("sweep.policies", 0, "needs at least one policy"));
        }
        let policy_refs: Vec<Vec<&dyn PushPolicy>> = policies
            .iter()
            .map(|ps| ps.iter().map(|p| p.as_ref()).collect())
            .collect();
        let r = self.replicates as usize;
        let total_runs = mine.len() * r * definition.policies.len();
        let finished_runs = AtomicUsize::new(0);
        let finished_points = AtomicUsize::new(0);
        let per_point: Vec<AtomicUsize> = mine.iter().map(|_| AtomicUsize::new(0)).collect();
        let runs = run_jobs(self.parallel, mine.len() * r, |job| {
            let (i, rep) = (job / r, job % r);
            let k = mine[i];
            let scenario = &self.scenarios[k as usize];
            let design = Design {
                scenario,
                policies: &policy_refs[i],
                model: &scenario.response,
                post_log: self.post_log,
            };
            let done = |replicate: u32, seed: u64, policy: usize, report: &Report| {
                observer(&SweepEvent::Run {
                    point: k,
                    run: RunDone {
                        replicate,
                        seed,
                        policy,
                        report,
                        finished: finished_runs.fetch_add(1, Ordering::Relaxed) + 1,
                        total: total_runs,
                    },
                })
            };
            let metrics = design.replicate(rep as u32, &done)?;
            if per_point[i].fetch_add(1, Ordering::AcqRel) + 1 == r {
                observer(&SweepEvent::Point {
                    point: k,
                    finished: finished_points.fetch_add(1, Ordering::Relaxed) + 1,
                    total: mine.len(),
                });
            }
            Ok(metrics)
        })?;
        let points = mine
            .iter()
            .enumerate()
            .map(|(i, &k)| {
                let scenario = &self.scenarios[k as usize];
                SweepPoint {
                    index: k,
                    values: self.point_values(k),
                    experiment: summarize(
                        scenario,
                        scenario.response.name(),
                        definition.policies.clone(),
                        self.confidence,
                        &runs[i * r..(i + 1) * r],
                    ),
                }
            })
            .collect();
        SweepReport::new(definition, (self.shard != Shard::ALL).then_some(self.shard), points)
    }
}
