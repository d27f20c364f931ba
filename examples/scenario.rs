//! Runs any scenario file under both push policies, prints the cohort
//! tables, and optionally writes both full reports as JSON. A scenario with
//! a `[category_bonus]` is also run without it on the same world, and the
//! impressions each category and cohort gained or lost are printed. A
//! scenario with a `[warmup]` is warmed up once, and both policies continue
//! from the same state.
//!
//! `cargo run --release --example scenario -- scenarios/default.toml --json out.json`
//!
//! `--posts FILE` replays a posting history instead of the scenario's
//! generated posts: a CSV post log (the format is in the README, "Replaying a
//! posting history", and in `feedsim::postlog`; `data/example_posts.csv` is
//! one), checked against the scenario before any work starts, every bad row
//! refused with its line and column.
//!
//! `cargo run --release --example scenario -- scenarios/default.toml --posts data/example_posts.csv`

use std::process::ExitCode;

use feedsim::policy::PushPolicy;
use feedsim::postlog::PostLog;
use feedsim::{Scenario, Simulation, World};

#[path = "common/mod.rs"]
mod common;

fn main() -> ExitCode {
    let args = common::args("scenario");
    match run(&args.positional[0], args.get("posts"), args.get("json")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(file: &str, posts: Option<&str>, json: Option<&str>) -> Result<(), feedsim::Error> {
    let scenario = Scenario::from_file(file)?;
    // The log is read and checked against the scenario before the world is
    // generated: a bad row costs no work.
    let log = posts.map(|path| PostLog::from_file(path, &scenario)).transpose()?;
    let world = World::generate(&scenario)?;
    let simulation = |s: &Scenario| match &log {
        Some(log) => Simulation::with_posts(s, &world, log.posts(&world)?),
        None => Simulation::new(s, &world),
    };
    let sim = simulation(&scenario)?;
    if let Some(log) = &log {
        eprintln!(
            "replaying {} posts from {} (instead of the scenario's generated posts)",
            common::thousands(log.len() as u64),
            posts.unwrap_or_default()
        );
    }
    let ladder = scenario.public_pool_ladder.clone();
    let iron = scenario.iron_fan_first();
    let policies: [&dyn PushPolicy; 2] = [&ladder, &iron];
    // With a warm-up: once, and every policy from the same state.
    let warm = if sim.warmup_days() > 0 {
        let t = std::time::Instant::now();
        let warm = sim.warm_up(&scenario.response)?;
        eprintln!("warmed up {} days in {:.2} s", warm.day(), t.elapsed().as_secs_f64());
        Some(warm)
    } else {
        None
    };
    let mut reports = Vec::new();
    for p in policies {
        let t = std::time::Instant::now();
        let r = match &warm {
            Some(warm) => sim.resume(warm, p, &scenario.response)?,
            None => sim.run(p, &scenario.response)?,
        };
        let secs = t.elapsed().as_secs_f64();
        eprintln!(
            "ran {:<20} {:>12} impressions ({} offers) in {secs:.2} s: {:.2} M impressions/s",
            p.name(),
            common::thousands(r.platform.tally.impressions),
            common::thousands(r.attention.offered),
            r.platform.tally.impressions as f64 / secs / 1e6
        );
        reports.push(r);
    }
    common::print_comparison(&scenario, &reports);
    common::print_depths(&reports);
    common::print_fission(&reports);
    common::print_paid(&reports);
    common::print_offline(&reports);
    common::print_channels(&reports);
    common::print_live(&reports);
    common::print_industries(&scenario, &reports);
    common::print_brands(&scenario, &reports);
    if scenario.category_bonus.is_some() {
        // The same world and posts without the bonus, for what it moved.
        let neutral = Scenario {
            category_bonus: None,
            ..scenario.clone()
        };
        let sim = simulation(&neutral)?;
        let without = policies
            .iter()
            .map(|p| sim.run(*p, &neutral.response))
            .collect::<Result<Vec<_>, _>>()?;
        common::print_bonus_effect(&scenario, &reports, &without);
    }
    if let Some(out) = json {
        // Written whole or not at all: serialize first, then write.
        let text = serde_json::to_string_pretty(&reports)?;
        feedsim::output::write_text(std::path::Path::new(out), &text)?;
        eprintln!(
            "wrote {out}: both reports (policy order: {}, {})",
            ladder.name(),
            iron.name()
        );
    }
    Ok(())
}
