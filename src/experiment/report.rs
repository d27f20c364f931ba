//! What an experiment reports: the metrics taken from each run and their
//! summaries over replicates.

use serde::{Deserialize, Serialize};

use super::{Estimate, replicate_seed};
use crate::error::Result;
use crate::metrics::{CohortReport, Report};
use crate::scenario::Scenario;

/// One metric across policies and replicates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// The metric's name: its path in the run report's JSON, or a derived
    /// metric's name (see the [module docs](super)).
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

/// What an [`Experiment`](super::Experiment) found.
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

/// Numeric metrics of one group of one run, in report order.
pub(super) type Metrics = Vec<(String, f64)>;

/// What one run contributes: platform metrics and per-cohort metrics.
#[derive(Debug, Clone)]
pub(super) struct RunMetrics {
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
pub(super) fn channels(report: &Report) -> bool {
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

pub(super) fn run_metrics(report: &Report) -> Result<RunMetrics> {
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

/// Summarizes `runs[replicate][policy]`.
pub(super) fn summarize(
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
