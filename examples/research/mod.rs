//! Helpers shared by the research examples: flags, progress bars, and
//! printing estimates with their confidence intervals.

#![allow(dead_code)]

use std::time::Duration;

use feedsim::experiment::{Estimate, ExperimentReport, GroupSummary, RunDone, SweepEvent};
use feedsim::feed::FollowedTab;
use feedsim::scenario::{FastLifecycle, WarmupParams, WarmupPolicy};
use feedsim::{Error, Scenario};
use indicatif::{ProgressBar, ProgressStyle};

#[path = "../common/mod.rs"]
mod common;

#[allow(unused_imports)]
pub use common::{args, print_comparison, thousands};
pub use feedsim::cli::Args;

/// The value of `--name` (already checked by the example's spec).
pub fn flag(args: &Args, name: &str) -> Option<String> {
    args.get(name).map(str::to_string)
}

/// A parsed option, or `default` when absent; exits with a message when the
/// value does not parse (the spec has checked its kind already).
pub fn parsed<T: std::str::FromStr>(args: &Args, name: &str, default: T) -> T {
    args.parsed(name, default).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    })
}

/// The world `policy_switch` and `fan_bases` warm up: `growth` (the text
/// of `scenarios/growth.toml`) or `--scenario FILE`, rescaled by
/// `--users`, with the fan lifecycle and (unless the scenario has one) the
/// followed tab on, and a warm-up of `--warmup-days` days (default the
/// scenario's, else 45) under the scenario's warm-up policy (default the
/// legacy ladder), its fast days kept unless `--fast-days F` (0: none) or
/// `--fast-speed S` (default the scenario's, else 10) sets them. Not yet
/// validated: the caller may change more first (a fast start longer than
/// the warm-up is refused then, naming `warmup.fast.days`).
pub fn lifecycle_scenario(args: &Args, growth: &str) -> Result<Scenario, Error> {
    let mut scenario = match flag(args, "scenario") {
        Some(file) => Scenario::from_file(file)?,
        None => Scenario::from_toml_str(growth)?,
    };
    if flag(args, "users").is_some() {
        scenario = scenario.scaled(parsed(args, "users", 0));
    }
    scenario.dynamics.enabled = true;
    if scenario.followed_tab.is_none() {
        scenario.followed_tab = Some(FollowedTab::default());
    }
    let days = parsed(args, "warmup-days", scenario.warmup.map_or(45, |w| w.days));
    let mut warmup = WarmupParams {
        days,
        ..scenario
            .warmup
            .unwrap_or(WarmupParams::new(days, WarmupPolicy::PublicPoolLadder))
    };
    let speed_given = flag(args, "fast-speed").is_some();
    if speed_given || flag(args, "fast-days").is_some() {
        let had = warmup.fast;
        let fast_days = parsed(args, "fast-days", had.map_or(0, |f| f.days));
        let speed = parsed(args, "fast-speed", had.map_or(10.0, |f| f.speed));
        if fast_days == 0 && speed_given {
            return Err(Error::invalid(
                "--fast-speed",
                speed,
                "needs fast days (--fast-days F, or the scenario's [warmup] fast)",
            ));
        }
        warmup.fast = (fast_days > 0).then_some(FastLifecycle { days: fast_days, speed });
    }
    scenario.warmup = Some(warmup);
    Ok(scenario)
}

/// A progress bar over `total` runs on stderr (hidden when stderr is not a
/// terminal).
pub fn progress(total: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} runs, {elapsed} elapsed, ~{eta} left")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// An experiment observer that advances `bar` once per finished run.
pub fn on_run(bar: &ProgressBar) -> impl Fn(&RunDone) + Sync + '_ {
    move |_| bar.inc(1)
}

/// A sweep observer that advances `bar` once per finished run.
pub fn on_sweep(bar: &ProgressBar) -> impl Fn(&SweepEvent) + Sync + '_ {
    move |e| {
        if let SweepEvent::Run { .. } = e {
            bar.inc(1)
        }
    }
}

/// `mean [low, high]` with `digits` decimals.
pub fn ci(e: &Estimate, digits: usize) -> String {
    format!("{e:.digits$}")
}

/// Whether an interval lies wholly above or below zero.
pub fn verdict(e: &Estimate) -> &'static str {
    match (e.low, e.high) {
        (Some(l), _) if l > 0.0 => "above 0",
        (_, Some(h)) if h < 0.0 => "below 0",
        (Some(_), Some(_)) => "includes 0",
        _ => "no interval (one replicate)",
    }
}

/// A metric's estimate under policy `k`, or its difference from the
/// baseline when `difference` is set; exits if the metric is missing.
pub fn get(report: &ExperimentReport, group: &str, metric: &str, k: usize, difference: bool) -> Estimate {
    let m = report.metric(group, metric).unwrap_or_else(|| {
        eprintln!("the report has no {group}/{metric}");
        std::process::exit(1)
    });
    if difference { m.differences[k] } else { m.policies[k] }
}

/// The default scenario scaled to `users` users with
/// [`Scenario::scaled`](feedsim::Scenario::scaled) (same per-user
/// proportions), validated.
pub fn scaled_default(users: u32) -> Result<feedsim::Scenario, feedsim::Error> {
    let mut s = feedsim::Scenario::default_scenario().scaled(users);
    s.name = format!("default scaled to {} users", thousands(users.into()));
    s.validate()?;
    Ok(s)
}

/// Writes `text` to `path` through a synced temporary file renamed into
/// place, naming the file in the error.
pub fn write(path: &str, text: &str) -> Result<(), feedsim::Error> {
    feedsim::output::write_text(std::path::Path::new(path), text)
}

/// Prints, for each group, one line per row `(label, metric, decimals)`:
/// the levels under the first two policies and their paired difference,
/// each `mean [low, high]` (metrics ending in `_fen` printed in yuan), and
/// returns them as JSON rows `{"policy", "cohort", "metric", "mean", "lo",
/// "hi"}` (the difference under policy `"<second> − <first>"`; a metric's
/// `by_source.<source>.` becomes `<source>.` and `gmv_fen` `gmv_yuan`). A
/// group without the metric `needs` in every run is said so and skipped.
pub fn levels_and_difference<'g>(
    report: &ExperimentReport,
    groups: impl IntoIterator<Item = &'g GroupSummary>,
    rows: &[(&str, &str, usize)],
    needs: &str,
) -> Vec<serde_json::Value> {
    let p = &report.policies;
    let diff_name = format!("{} − {}", p[1], p[0]);
    println!(
        "{:<10} {:<24} {:>30} {:>30} {:>30}",
        "cohort", "", p[0], p[1], diff_name
    );
    let mut out = Vec::new();
    for group in groups {
        if group.metric(needs).is_none() {
            println!("{:<10} not in every run: no figures", group.name);
            continue;
        }
        for &(label, metric, digits) in rows {
            let Some(m) = group.metric(metric) else {
                println!("{:<10} {:<24} not in every run", group.name, label);
                continue;
            };
            // GMV in fen in the report; printed in yuan.
            let scale = if metric.ends_with("_fen") { 0.01 } else { 1.0 };
            let scaled = |e: &Estimate| Estimate {
                mean: e.mean * scale,
                sd: e.sd.map(|x| x * scale),
                low: e.low.map(|x| x * scale),
                high: e.high.map(|x| x * scale),
            };
            let name = match metric.strip_prefix("by_source.") {
                Some(rest) => rest.to_string(),
                None => metric.to_string(),
            }
            .replace("gmv_fen", "gmv_yuan");
            let cells = [
                (p[0].clone(), scaled(&m.policies[0])),
                (p[1].clone(), scaled(&m.policies[1])),
                (diff_name.clone(), scaled(&m.differences[1])),
            ];
            println!(
                "{:<10} {:<24} {:>30} {:>30} {:>30}",
                group.name,
                label,
                ci(&cells[0].1, digits),
                ci(&cells[1].1, digits),
                ci(&cells[2].1, digits),
            );
            for (policy, e) in cells {
                out.push(serde_json::json!({
                    "policy": policy,
                    "cohort": group.name,
                    "metric": name,
                    "mean": e.mean,
                    "lo": e.low,
                    "hi": e.high,
                }));
            }
        }
    }
    out
}

/// The shared set-up of the replicated ladder-against-iron-fan-first
/// examples (`paid_traffic`, `shelf_search`): reads `--scenario` (default
/// `default_file`), refuses one without the table `table` (`has` says
/// whether it is there), scales it to `--users` (default 1M), and runs the
/// legacy ladder and iron-fan first over `--replicates` (default 5) with a
/// progress bar named `name`. Returns the scenario, the report and the
/// wall time.
pub fn ladder_against_iron_fan_first(
    args: &Args,
    name: &str,
    default_file: &str,
    table: &str,
    has: fn(&feedsim::Scenario) -> bool,
) -> Result<(feedsim::Scenario, ExperimentReport, Duration), feedsim::Error> {
    use feedsim::policy::PushPolicy;
    let replicates: u32 = parsed(args, "replicates", 5);
    let users: u32 = parsed(args, "users", 1_000_000);
    let file = flag(args, "scenario").unwrap_or_else(|| default_file.into());
    let mut s = feedsim::Scenario::from_file(&file)?;
    if !has(&s) {
        return Err(feedsim::Error::Invalid {
            field: table.into(),
            value: file,
            reason: format!("the scenario has no [{table}] table"),
        });
    }
    if users != s.users.count {
        s = s.scaled(users);
        s.validate()?;
    }
    let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
    let experiment = feedsim::Experiment::new(&s, vec![&ladder as &dyn PushPolicy, &iron])?.replicates(replicates);
    let t0 = std::time::Instant::now();
    let bar = progress(2 * replicates as usize, name);
    let report = experiment.run_with(on_run(&bar))?;
    bar.finish_and_clear();
    Ok((s, report, t0.elapsed()))
}

/// The first line of a replicated example's output: what ran, on how many
/// users and days, with how many replicates and in how long.
pub fn print_header(what: &str, s: &feedsim::Scenario, report: &ExperimentReport, elapsed: Duration) {
    println!(
        "{what} on {} ({} users, {} days): {} replicates, {:.0}% Student-t intervals, ran in {:.1?}.",
        s.name,
        thousands(s.users.count.into()),
        s.feed.days,
        report.replicates,
        100.0 * report.confidence,
        elapsed
    );
}
