//! A parameter sweep from the command line, as one process or as shard `i`
//! of `n` of a cluster job array, and the merge of the shards' outputs.
//!
//! ```sh
//! # The whole grid in one process:
//! cargo run --release --example sweep -- --users 300000 \
//!     --axis cohorts.waist.iron_fan_ratio=0.05,0.2,0.4,0.6 \
//!     --axis public_pool_ladder.pools.0.gate.threshold=0.8:1.2:3 \
//!     --replicates 8 --out results/sweep
//!
//! # The same grid as shard 2 of 4 (points k with k mod 4 = 2):
//! cargo run --release --example sweep -- <same flags> --shard 2/4 --out results/shard-2
//!
//! # Merging the four shard files gives exactly the first command's output:
//! cargo run --release --example sweep -- --merge results/shard-*.json --out results/sweep
//! ```
//!
//! Flags:
//! - `--scenario FILE`: the base scenario (default: the embedded default
//!   scenario, scaled to `--users` users if given; see `research::scaled_default`).
//! - `--users N`: scale the default scenario to N users (ignored with `--scenario`).
//! - `--axis PATH=V1,V2,...` or `--axis PATH=FIRST:LAST:COUNT` (repeatable):
//!   a scenario parameter by its dotted path and its values.
//! - `--replicates R` (default 8), `--confidence C` (default 0.95).
//! - `--shard i/n`: run only the points `k` with `k mod n = i`.
//! - `--out PREFIX`: writes `PREFIX.json`; for a complete sweep also
//!   `PREFIX.csv` (one row per point) and `PREFIX-long.csv` (one row per
//!   point, group and metric).
//! - `--metrics GROUP/METRIC,...`: the columns of the CSV files (default:
//!   every metric of every group).
//! - `--merge FILE...`: instead of running, merge shard JSON files (every
//!   argument after `--merge` that does not start with `--`).
//! - `--max-memory SIZE`: the memory budget (`feedsim::memory`; default
//!   three quarters of the machine's memory); a sweep whose runs at once
//!   would exceed it is refused before it starts.
//!
//! Options are checked before any work: an unknown one, a repeated one or
//! a value of the wrong kind stops the example with status 2.
//!
//! A progress bar on stderr counts finished runs. See `docs/sweeps.md` for a
//! Slurm job-array recipe.

use std::path::Path;
use std::time::Instant;

use feedsim::experiment::{Axis, Experiment, Shard, Sweep, SweepReport};
use feedsim::output::{write_file, write_sweep_csv, write_sweep_long_csv};
use feedsim::policy::PushPolicy;
use feedsim::{Error, Scenario};

#[path = "research/mod.rs"]
mod research;

fn write_outputs(report: &SweepReport, prefix: &str, metrics: &[(String, String)]) -> Result<(), Error> {
    let json = format!("{prefix}.json");
    if let Some(dir) = Path::new(&json).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let text = report.to_json()?;
    write_file(Path::new(&json), |w| {
        w.write_all(text.as_bytes()).map_err(|source| Error::Io {
            path: json.clone(),
            source,
        })
    })?;
    eprintln!("wrote {json}");
    if report.shard.is_none() {
        let chosen: Vec<(&str, &str)> = metrics.iter().map(|(g, m)| (g.as_str(), m.as_str())).collect();
        let csv = format!("{prefix}.csv");
        write_file(Path::new(&csv), |w| write_sweep_csv(w, report, &chosen))?;
        let long = format!("{prefix}-long.csv");
        write_file(Path::new(&long), |w| write_sweep_long_csv(w, report, &chosen))?;
        eprintln!("wrote {csv} and {long}");
    }
    Ok(())
}

/// Metric names come from a run's report, and which metrics a report has
/// depends on the scenario's features (channels, paid traffic, live
/// sessions), not its size: a probe run of the scenario shrunk to 2,000
/// users and one day, two replicates, checks `--metrics` in about a second
/// before the sweep starts. A scenario that cannot be shrunk is left to the
/// check made when the outputs are written.
fn check_metric_names(scenario: &Scenario, metrics: &[(String, String)]) -> Result<(), Error> {
    let mut probe = scenario.scaled(2_000);
    probe.feed.days = 1;
    probe.warmup = None;
    if probe.validate().is_err() {
        return Ok(());
    }
    let (ladder, iron) = (probe.public_pool_ladder.clone(), probe.iron_fan_first());
    let policies: Vec<&dyn PushPolicy> = vec![&ladder, &iron];
    let Ok(report) = Experiment::new(&probe, policies).and_then(|e| e.replicates(2).run()) else {
        return Ok(());
    };
    for (g, m) in metrics {
        if report.metric(g, m).is_none() {
            let known: Vec<&str> = report
                .groups()
                .find(|group| &group.name == g)
                .map(|group| group.metrics.iter().map(|x| x.name.as_str()).collect())
                .unwrap_or_default();
            return Err(Error::invalid(
                "--metrics",
                format!("{g}/{m}"),
                format!(
                    "no such metric in {g} ({} metrics, e.g. {}; the JSON report of a run lists them all)",
                    known.len(),
                    known.iter().take(8).copied().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    let args = research::args("sweep");
    let Some(prefix) = research::flag(&args, "out") else {
        return Err(Error::invalid(
            "--out",
            "missing",
            "is required (the output files' prefix)",
        ));
    };
    let metrics = match research::flag(&args, "metrics") {
        Some(list) => feedsim::cli::metrics(&list)?,
        None => Vec::new(),
    };

    let files = args.all("merge");
    if !files.is_empty() {
        let shards = files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).map_err(|source| Error::Io {
                    path: f.to_string(),
                    source,
                })?;
                SweepReport::from_json(&text)
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let merged = SweepReport::merge(shards)?;
        eprintln!("merged {} shard files: {} points", files.len(), merged.points.len());
        return write_outputs(&merged, &prefix, &metrics);
    }

    let scenario = match research::flag(&args, "scenario") {
        Some(file) => Scenario::from_file(file)?,
        None => match research::flag(&args, "users") {
            Some(_) => research::scaled_default(research::parsed(&args, "users", 0))?,
            None => Scenario::default_scenario(),
        },
    };
    // The metrics' groups are checked before any work (their metrics need a
    // run's report: they are checked when the outputs are written).
    for (group, _) in &metrics {
        if group != "platform" && !scenario.cohorts.iter().any(|c| &c.name == group) {
            return Err(Error::invalid(
                "--metrics",
                group,
                format!(
                    "no such group (platform or a cohort: {})",
                    scenario
                        .cohorts
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    if !metrics.is_empty() {
        check_metric_names(&scenario, &metrics)?;
    }
    let axes: Vec<Axis> = args
        .all("axis")
        .into_iter()
        .map(feedsim::cli::axis)
        .collect::<Result<_, _>>()?;
    if axes.is_empty() {
        return Err(Error::invalid(
            "--axis",
            "missing",
            "at least one --axis PATH=VALUES is required",
        ));
    }
    let shard: Shard = research::flag(&args, "shard").map_or(Ok(Shard::ALL), |s| s.parse())?;
    let sweep = Sweep::new(&scenario, axes)?
        .replicates(research::parsed(&args, "replicates", 8))
        .confidence(research::parsed(&args, "confidence", 0.95))
        .shard(shard);
    let mine = (0..sweep.points()).filter(|&k| shard.owns(k)).count();
    let runs = mine * sweep.definition().policies.len() * research::parsed::<usize>(&args, "replicates", 8);
    eprintln!(
        "sweep of {} points, shard {shard}: {mine} points, {runs} runs",
        sweep.points()
    );
    let t0 = Instant::now();
    let bar = research::progress(runs, &format!("shard {shard}"));
    let report = sweep.run_with(research::on_sweep(&bar))?;
    bar.finish_and_clear();
    eprintln!("ran in {:.1?}", t0.elapsed());
    write_outputs(&report, &prefix, &metrics)
}
