//! Sweeps: an experiment at every point of a grid of scenario parameters.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use super::merge::grid_values;
use super::path::{scenario_from_value, scenario_value, set_number};
use super::report::summarize;
use super::{Design, RunDone, Shard, SweepDefinition, SweepPoint, SweepReport, check_design, check_memory, run_jobs};
use crate::error::{Error, Result};
use crate::metrics::Report;
use crate::policy::PushPolicy;
use crate::postlog::PostLog;
use crate::scenario::Scenario;

/// The most grid points a [`Sweep`] takes (every point's scenario is kept,
/// a few kB each).
pub const MAX_SWEEP_POINTS: u64 = 100_000;

/// One swept parameter: a path ([`set_path`](super::set_path)) and its values.
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
/// ([`set_path`](super::set_path)); the policies come from the point's scenario (by default
/// [`scenario_policies`]) and so does the response model. Replicate `r` at
/// every point uses the same seed ([`replicate_seed`](super::replicate_seed) of the point's
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
    /// ([`set_path`](super::set_path)), with the point's values added to the reason.
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
    /// [`Experiment::run_with`](super::Experiment::run_with)).
    ///
    /// Errors: as [`Experiment::run_with`](super::Experiment::run_with), and (field `sweep.policies`)
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
        // Every point's runs, as many at once as threads run jobs.
        for &k in &mine {
            check_memory(
                &self.scenarios[k as usize],
                self.post_log,
                self.parallel,
                mine.len() * r,
            )?;
        }
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
