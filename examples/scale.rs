//! A long, large run with a progress bar and its wall time:
//! `scenarios/growth.toml` (30 days, the fan lifecycle on, finite sessions)
//! scaled to `--users` users by `Scenario::scaled` (default 10M), under
//! both push policies, or a scenario file of your own.
//!
//! ```sh
//! cargo run --release --example scale -- --users 1000000 --days 7
//! cargo run --release --example scale -- --scenario scenarios/growth_10m.toml
//! cargo run --release --example scale -- --users 3000000 --save-scenario my.toml   # write the scaled scenario, run nothing
//! ```
//!
//! Prints, per policy, the run's wall time, impressions, impressions per
//! second and the process's peak memory so far. Each policy runs on a world
//! generated for it (the same world, from the same seed) and owned by its
//! run ([`Simulation::owning`]), so the fan lifecycle rebuilds that world's
//! graph in place instead of copying it. Check the memory a world needs
//! before a large run: about 12 bytes per follow edge plus a few hundred
//! bytes per user (see `SCALING.md`).

use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use feedsim::policy::PushPolicy;
use feedsim::{Scenario, Simulation, World};

#[path = "common/mod.rs"]
mod common;

const GROWTH: &str = include_str!("../scenarios/growth.toml");
fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = common::args("scale");
    let users: u32 = args.parsed("users", 10_000_000).map_err(|e| e.to_string())?;
    let days: Option<u32> = args
        .get("days")
        .map(|d| d.parse())
        .transpose()
        .map_err(|e| format!("--days: {e}"))?;
    let policy = args.get("policy").unwrap_or("both");
    let (file, save) = (args.get("scenario"), args.get("save-scenario"));
    let mut s = match &file {
        Some(f) => Scenario::from_file(f).map_err(|e| e.to_string())?,
        None => {
            let growth = Scenario::from_toml_str(GROWTH).map_err(|e| e.to_string())?;
            let mut s = growth.scaled(users);
            s.name = format!("growth at {users} users");
            s
        }
    };
    if let Some(d) = days {
        s.feed.days = d;
    }
    s.validate().map_err(|e| e.to_string())?;
    if let Some(path) = save {
        let text = s.to_toml_string().map_err(|e| e.to_string())?;
        feedsim::output::write_text(std::path::Path::new(&path), &text).map_err(|e| e.to_string())?;
        eprintln!("wrote {path}");
        return Ok(());
    }
    let ladder = s.public_pool_ladder.clone();
    let iron = s.iron_fan_first();
    let policies: Vec<&dyn PushPolicy> = match policy {
        "ladder" => vec![&ladder],
        "iron" => vec![&iron],
        "both" => vec![&ladder, &iron],
        p => return Err(format!("--policy: expected ladder, iron or both, got {p}")),
    };
    eprintln!(
        "scenario \"{}\": {} users, about {:.0}M follow edges expected, {} days, dynamics {}",
        s.name,
        s.users.count,
        s.expected_edges() / 1e6,
        s.feed.days,
        if s.dynamics.enabled { "on" } else { "off" }
    );
    for p in policies {
        // Each policy gets a freshly generated world of its own (the same
        // world: generation is keyed by the seed), and its run takes the
        // world's follow graph over: one graph in memory, not two.
        let t0 = Instant::now();
        let world = World::generate(&s).map_err(|e| e.to_string())?;
        let edges = world.graph().edges();
        let sim = Simulation::owning(&s, world).map_err(|e| e.to_string())?;
        eprintln!(
            "world: {} users, {} edges, {} posts planned, generated in {:.1?}, peak memory {:.2} GB",
            s.users.count,
            edges,
            sim.posts().len(),
            t0.elapsed(),
            common::peak_rss_bytes() as f64 / 1e9
        );
        let bar = ProgressBar::new(u64::from(s.feed.days));
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{elapsed_precise}] {bar:30} day {pos}/{len} {msg} (eta {eta})")
                .map_err(|e| e.to_string())?,
        );
        bar.set_prefix(p.name().to_string());
        let t = Instant::now();
        // Posts' reports are not kept (the cohort and platform figures are):
        // memory then does not grow with the run's posts.
        let report = sim
            .into_run_streaming(
                p,
                &s.response,
                &mut |_| Ok(()),
                Some(&|d| {
                    bar.set_position(u64::from(d.day + 1).min(u64::from(d.days)));
                    bar.set_message(format!("{:.0}M impressions", d.impressions as f64 / 1e6));
                    if bar.is_hidden() {
                        // Not a terminal (a log file, say): a line a day.
                        eprintln!(
                            "{} day {}/{}: {:.0}M impressions, {:.1?}, peak memory {:.2} GB",
                            p.name(),
                            d.day + 1,
                            d.days,
                            d.impressions as f64 / 1e6,
                            t.elapsed(),
                            common::peak_rss_bytes() as f64 / 1e9
                        );
                    }
                }),
            )
            .map_err(|e| e.to_string())?;
        bar.finish();
        let secs = t.elapsed().as_secs_f64();
        let impressions = report.platform.tally.impressions;
        println!(
            "{:<20} {:>8.1} s  {:>15} impressions  {:>6.2} M impressions/s  peak memory {:.2} GB",
            p.name(),
            secs,
            impressions,
            impressions as f64 / secs / 1e6,
            common::peak_rss_bytes() as f64 / 1e9
        );
    }
    Ok(())
}
