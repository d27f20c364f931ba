//! How fast the engine runs: impressions per second for the legacy ladder and
//! iron-fan-first on the default world, with finite sessions (the default
//! single-column feed) and with unlimited attention, and each run's peak
//! memory.
//!
//! ```sh
//! cargo run --release --example throughput                 # 1M users, 4 rows
//! cargo run --release --example throughput -- --users 3000000 --attention finite --json rows.json
//! cargo run --release --example throughput -- --scenario scenarios/growth.toml --policy iron --attention finite
//! RAYON_NUM_THREADS=1 cargo run --release --example throughput   # one core
//! ```
//!
//! Each row (policy × attention) runs in a process of its own (the example
//! starts itself with `--row`), so its `peak_rss_bytes` (the kernel's high
//! water mark, `VmHWM`) is that run's alone: the world, the run's state and
//! anything dynamics copies. `seconds` times the run only, not the world's
//! generation. An impression is a shown offer (a play); `offers` counts every
//! offer, shown or not. `--scenario FILE` runs a scenario file's world and
//! days instead of the default's (one day); with the fan lifecycle on, the
//! run borrows the world, so its peak includes the run's own copy of the
//! follow graph (12 bytes per edge; the `scale` example runs on a world it
//! owns, without the copy). Each row also gives the seconds spent per engine
//! phase.
//!
//! The figure means something only beside the keyed roofline kernel run in
//! the same session with the same users and threads (`../shared/bench/`):
//! `../shared/bench/side_by_side.sh` interleaves the two and prints the ratio.

use std::process::{Command, ExitCode};
use std::time::Instant;

use feedsim::policy::PushPolicy;
use feedsim::scenario::AttentionMode;
use feedsim::{Scenario, Simulation, World};
use serde::{Deserialize, Serialize};

#[path = "common/mod.rs"]
mod common;

/// One row of the output: one policy under one attention mode.
#[derive(Debug, Serialize, Deserialize)]
struct Row {
    policy: String,
    attention: String,
    threads: usize,
    users: u64,
    edges: u64,
    offers: u64,
    impressions: u64,
    seconds: f64,
    impressions_per_second: f64,
    peak_rss_bytes: u64,
    /// Peak resident memory once the world and posts are generated, before
    /// the run.
    world_peak_rss_bytes: u64,
    /// The run's peak as `feedsim::memory` estimates it from the scenario
    /// before anything is allocated (what the memory budget is checked
    /// against).
    estimated_peak_bytes: u64,
    /// Seconds spent in each engine phase (enter, offer, choose, respond,
    /// apply, gate, end of day).
    phase_seconds: [f64; 7],
}

struct Args {
    /// A scenario file instead of the default scenario.
    scenario: Option<String>,
    /// Rescale the world to this many users (default: 1M for the default
    /// scenario, the file's own count for a file).
    users: Option<u32>,
    /// Override the scenario's days (default: 1 for the default scenario,
    /// the file's own for a file).
    days: Option<u32>,
    attention: Vec<&'static str>,
    policies: Vec<&'static str>,
    json: Option<String>,
    /// Run one row in this process and print it as one JSON line.
    row: bool,
    /// `--max-memory`, passed on to each row's process.
    max_memory: Option<String>,
}

fn parse() -> Result<Args, String> {
    let cli = common::args("throughput");
    let pick = |name: &str, all: Vec<&'static str>| -> Vec<&'static str> {
        match cli.get(name) {
            None | Some("both") => all,
            Some(one) => all.into_iter().filter(|&w| w == one).collect(),
        }
    };
    Ok(Args {
        scenario: cli.get("scenario").map(str::to_string),
        users: cli
            .get("users")
            .map(|v| v.parse())
            .transpose()
            .map_err(|e| format!("--users: {e}"))?,
        days: cli
            .get("days")
            .map(|v| v.parse())
            .transpose()
            .map_err(|e| format!("--days: {e}"))?,
        attention: pick("attention", vec!["finite", "unlimited"]),
        policies: pick("policy", vec!["ladder", "iron"]),
        json: cli.get("json").map(str::to_string),
        row: cli.has("row"),
        max_memory: cli.get("max-memory").map(str::to_string),
    })
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = if args.row { run_row(&args) } else { run_all(&args) };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The scenario file's world, or the default world for one day, at `--users`
/// users if given (per-user proportions kept).
fn scenario(args: &Args, attention: &str) -> Result<Scenario, String> {
    let mut s = match &args.scenario {
        Some(file) => Scenario::from_file(file).map_err(|e| e.to_string())?,
        None => Scenario::default_scenario(),
    };
    if let Some(users) = args.users
        && users != s.users.count
    {
        s = s.scaled(users);
    }
    if let Some(days) = args.days {
        s.feed.days = days;
    }
    s.attention.mode = if attention == "finite" {
        AttentionMode::Finite
    } else {
        AttentionMode::Unlimited
    };
    Ok(s)
}

/// Runs the single (policy, attention) row the flags name, in this process.
fn run_row(args: &Args) -> Result<(), String> {
    let (&[policy], &[attention]) = (args.policies.as_slice(), args.attention.as_slice()) else {
        return Err("--row needs one --policy and one --attention".into());
    };
    let s = scenario(args, attention)?;
    let world = World::generate(&s).map_err(|e| e.to_string())?;
    let sim = Simulation::new(&s, &world).map_err(|e| e.to_string())?;
    let ladder = s.public_pool_ladder.clone();
    let iron = s.iron_fan_first();
    let p: &dyn PushPolicy = if policy == "ladder" { &ladder } else { &iron };
    let world_peak_rss_bytes = common::peak_rss_bytes();
    let t = Instant::now();
    let (report, phases) = sim.run_timed(p, &s.response).map_err(|e| e.to_string())?;
    let seconds = t.elapsed().as_secs_f64();
    let impressions = report.platform.tally.impressions;
    let row = Row {
        policy: p.name().to_string(),
        attention: attention.to_string(),
        threads: rayon::current_num_threads(),
        users: world.users().len() as u64,
        edges: world.graph().edges() as u64,
        offers: report.attention.offered,
        impressions,
        seconds,
        impressions_per_second: impressions as f64 / seconds,
        peak_rss_bytes: common::peak_rss_bytes(),
        world_peak_rss_bytes,
        estimated_peak_bytes: feedsim::memory::MemoryEstimate::of(&s).bytes(),
        phase_seconds: [
            phases.enter,
            phases.offer,
            phases.choose,
            phases.respond,
            phases.apply,
            phases.gate,
            phases.end_of_day,
        ]
        .map(|d| d.as_secs_f64()),
    };
    println!("{}", serde_json::to_string(&row).map_err(|e| e.to_string())?);
    Ok(())
}

/// Runs every row in a child process of its own and prints the table.
fn run_all(args: &Args) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for &attention in &args.attention {
        for &policy in &args.policies {
            let mut child = Command::new(&exe);
            child.args(["--row", "--policy", policy, "--attention", attention]);
            if let Some(file) = &args.scenario {
                child.args(["--scenario", file]);
            }
            if let Some(users) = args.users {
                child.args(["--users", &users.to_string()]);
            }
            if let Some(days) = args.days {
                child.args(["--days", &days.to_string()]);
            }
            if let Some(m) = &args.max_memory {
                child.args(["--max-memory", m]);
            }
            let out = child
                .output()
                .map_err(|e| format!("could not start {}: {e}", exe.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "row {policy}/{attention} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            let text = String::from_utf8_lossy(&out.stdout);
            let row: Row = serde_json::from_str(text.trim()).map_err(|e| format!("row {policy}/{attention}: {e}"))?;
            println!(
                "{:<16} {:<9} {} thread(s) {:>9} users {:>11} edges {:>11} impressions in {:>7.2} s: \
                 {:>6.2} M impressions/s, peak {:>6.0} MB (world {:.0} MB; {:.0} B/user beyond 12 B/edge)",
                row.policy,
                row.attention,
                row.threads,
                row.users,
                row.edges,
                row.impressions,
                row.seconds,
                row.impressions_per_second / 1e6,
                row.peak_rss_bytes as f64 / 1e6,
                row.world_peak_rss_bytes as f64 / 1e6,
                (row.peak_rss_bytes as f64 - 12.0 * row.edges as f64) / row.users as f64,
            );
            let [enter, offer, choose, respond, apply, gate, day] = row.phase_seconds;
            println!(
                "    phases (s): enter {enter:.2}, offer {offer:.2}, choose {choose:.2}, respond {respond:.2}, \
                 apply {apply:.2}, gate {gate:.2}, day start/end {day:.2}"
            );
            rows.push(row);
        }
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
        feedsim::output::write_text(std::path::Path::new(path), &text).map_err(|e| e.to_string())?;
        eprintln!("wrote {path}: {} rows", rows.len());
    }
    Ok(())
}
