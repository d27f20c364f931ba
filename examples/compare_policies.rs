//! Runs the embedded default scenario under the legacy public-pool ladder
//! and under iron-fan-first push, and prints reach and conversion per
//! creator cohort side by side.
//!
//! `cargo run --release --example compare_policies`

use std::time::Instant;

use feedsim::policy::PushPolicy;
use feedsim::{Scenario, Simulation, World};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), feedsim::Error> {
    common::args("compare_policies");
    let scenario = Scenario::default_scenario();
    let t0 = Instant::now();
    let world = World::generate(&scenario)?;
    let generated = t0.elapsed();
    let sim = Simulation::new(&scenario, &world)?;
    let ladder = scenario.public_pool_ladder.clone();
    let iron = scenario.iron_fan_first();
    let policies: [&dyn PushPolicy; 2] = [&ladder, &iron];
    let mut reports = Vec::new();
    for p in policies {
        let t = Instant::now();
        let r = sim.run(p, &scenario.response)?;
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
    eprintln!(
        "world: {} users, {} creators, {} follow edges, {} posts (generated in {:.2?})\n",
        common::thousands(world.users().len() as u64),
        common::thousands(world.creators().len() as u64),
        common::thousands(world.graph().edges() as u64),
        common::thousands(sim.posts().len() as u64),
        generated
    );
    common::print_comparison(&scenario, &reports);
    Ok(())
}
