//! How fast the engine runs: impressions per second for the legacy ladder and
//! iron-fan-first on the default world, with finite sessions (the default
//! single-column feed) and with unlimited attention, and each run's peak
//! memory.
//!
//! ```sh
//! cargo run --release --example throughput                 # 1M users, 4 rows
//! cargo run --release --example throughput -- --users 3000000 --attention finite --json rows.json
//! RAYON_NUM_THREADS=1 cargo run --release --example throughput   # one core
//! ```
//!
//! Each row (policy × attention) runs in a process of its own (the example
//! starts itself with `--row`), so its `peak_rss_bytes` (the kernel's high
//! water mark, `VmHWM`) is that run's alone: the world, the run's state and
//! anything dynamics copies. `seconds` times the run only, not the world's
//! generation. An impression is a shown offer (a play); `offers` counts every
//! offer, shown or not.
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

const USAGE: &str = "usage: throughput [--users N] [--days D] [--attention unlimited|finite|both] \
[--policy ladder|iron|both] [--json FILE]";

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
    /// Seconds spent in each engine phase (enter, offer, choose, respond,
    /// apply, gate, end of day).
    phase_seconds: [f64; 7],
}

struct Args {
    users: u32,
    days: u32,
    attention: Vec<&'static str>,
    policies: Vec<&'static str>,
    json: Option<String>,
    /// Run one row in this process and print it as one JSON line.
    row: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        users: 1_000_000,
        days: 1,
        attention: vec!["finite", "unlimited"],
        policies: vec!["ladder", "iron"],
        json: None,
        row: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--users" => {
                let v = value()?;
                a.users = v.parse().map_err(|_| format!("--users: not a user count: {v}"))?;
            }
            "--days" => {
                let v = value()?;
                a.days = v.parse().map_err(|_| format!("--days: not a day count: {v}"))?;
            }
            "--attention" => {
                a.attention = match value()?.as_str() {
                    "finite" => vec!["finite"],
                    "unlimited" => vec!["unlimited"],
                    "both" => vec!["finite", "unlimited"],
                    v => return Err(format!("--attention: expected unlimited, finite or both, got {v}")),
                }
            }
            "--policy" => {
                a.policies = match value()?.as_str() {
                    "ladder" => vec!["ladder"],
                    "iron" => vec!["iron"],
                    "both" => vec!["ladder", "iron"],
                    v => return Err(format!("--policy: expected ladder, iron or both, got {v}")),
                }
            }
            "--json" => a.json = Some(value()?),
            "--row" => a.row = true,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
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

/// The default world at `users` users (per-user proportions kept).
fn scenario(args: &Args, attention: &str) -> Scenario {
    let mut s = Scenario::default_scenario();
    if args.users != s.users.count {
        s = s.scaled(args.users);
    }
    s.feed.days = args.days;
    s.attention.mode = if attention == "finite" {
        AttentionMode::Finite
    } else {
        AttentionMode::Unlimited
    };
    s
}

/// Runs the single (policy, attention) row the flags name, in this process.
fn run_row(args: &Args) -> Result<(), String> {
    let (&[policy], &[attention]) = (args.policies.as_slice(), args.attention.as_slice()) else {
        return Err("--row needs one --policy and one --attention".into());
    };
    let s = scenario(args, attention);
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
            let out = Command::new(&exe)
                .args(["--row", "--policy", policy, "--attention", attention])
                .args(["--users", &args.users.to_string(), "--days", &args.days.to_string()])
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
        std::fs::write(path, text).map_err(|e| format!("{path}: {e}"))?;
        eprintln!("wrote {path}: {} rows", rows.len());
    }
    Ok(())
}
