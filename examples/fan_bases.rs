//! Who each cohort's fans are, in the generated world and after it has
//! lived under the legacy ladder with the fan lifecycle on: the follower
//! spread, the iron-fan ratio, how vertical the fans are, and their
//! attention, activity and followings against any user's
//! ([`feedsim::world::FanBase`]).
//!
//! ```sh
//! cargo run --release --example fan_bases -- --users 200000 --warmup-days 45
//! cargo run --release --example fan_bases -- --scenario scenarios/growth_ladder_sizes.toml --users 200000 --warmup-days 1500
//! ```
//!
//! The world is `scenarios/growth.toml` (or `--scenario FILE`) with the
//! lifecycle and the followed tab on, as `policy_switch` warms it up
//! (`--warmup-days`, default 45, under the scenario's warm-up policy, the
//! ladder unless it names another; `--fast-days` and `--fast-speed` set
//! its fast start, as in `policy_switch`). The generator draws fans at random
//! within each cohort's verticality; follows and unfollows then select
//! them. The rows show how far the generated world is from what the
//! lifecycle keeps, and so what a warm-up of that length leaves undone:
//! a generated world that matches the warmed one on every column needs
//! no more warm-up. `--json FILE` writes `{"warmup_days", "generated",
//! "warmed"}`, the last two arrays of `FanBase` objects.

use std::time::Instant;

use feedsim::world::FanBase;
use feedsim::{Error, Simulation, World};

#[path = "research/mod.rs"]
mod research;
use research::thousands;

const GROWTH: &str = include_str!("../scenarios/growth.toml");

fn main() -> Result<(), Error> {
    let args = research::args("fan_bases");
    let scenario = research::lifecycle_scenario(&args, GROWTH)?;
    let days = scenario.warmup_days();
    if days == 0 {
        eprintln!("--warmup-days 0: nothing to compare with the generated world");
        std::process::exit(2);
    }
    scenario.validate()?;
    let world = World::generate(&scenario)?;
    let generated = world.fan_bases(world.graph());
    let sim = Simulation::new(&scenario, &world)?;
    let t = Instant::now();
    let warm = sim.warm_up(&scenario.response)?;
    eprintln!("warmed up {} days in {:.1?}", warm.day(), t.elapsed());
    let warmed = world.fan_bases(warm.graph());

    println!(
        "Fan bases of {} users' world, generated and after {} days under {} (fans counted per follow edge; \
         attention and activity over all users' mean)",
        thousands(scenario.users.count.into()),
        days,
        warm.warmup_policy()
    );
    println!(
        "{:<10} {:<9} | {:>10} {:>7} {:>7} | {:>9} | {:>11} {:>11} {:>8} | {:>9} {:>8} {:>10}",
        "cohort",
        "world",
        "followers",
        "median",
        "p90",
        "iron fans",
        "verticality",
        "primary int",
        "interest",
        "attention",
        "activity",
        "followings"
    );
    for (g, w) in generated.iter().zip(&warmed) {
        for (label, b) in [("generated", g), (&*format!("day {days}"), w)] {
            println!(
                "{:<10} {:<9} | {:>10} {:>7} {:>7} | {:>8.2}% | {:>11.3} {:>11.3} {:>8.3} | {:>9.3} {:>8.3} {:>10.1}",
                b.cohort,
                label,
                thousands(b.followers),
                b.median_followers,
                b.p90_followers,
                ratio(b) * 100.0,
                b.verticality,
                b.primary_interest,
                b.interest,
                b.attention,
                b.activity,
                b.followings
            );
        }
    }
    println!(
        "\nverticality: share of fans interested in the creator's category; primary int: share holding it as their \
         first interest; interest: their mean interest in it; followings: accounts a fan follows."
    );
    if let Some(path) = research::flag(&args, "json") {
        let json = serde_json::json!({ "warmup_days": days, "generated": generated, "warmed": warmed });
        research::write(&path, &serde_json::to_string_pretty(&json).expect("serialisable"))?;
        eprintln!("wrote {path}");
    }
    Ok(())
}

fn ratio(b: &FanBase) -> f64 {
    if b.followers == 0 {
        0.0
    } else {
        b.iron_fans as f64 / b.followers as f64
    }
}
