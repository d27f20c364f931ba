//! The calibration does not drift: the default world at 100,000 users (the
//! default's per-user proportions; smaller worlds lose the larger pools and
//! most of the feeds' competition) under the legacy ladder lands every
//! public figure inside its band (KuaiRand-Pure per-impression rates ±15%,
//! KuaiRec watch ratio ±10%, click-to-order 1–5%, iron fans paying more than
//! 6× others). The full-size check is `cargo run --release --example
//! calibrate`.

use feedsim::calibration;
use feedsim::{Scenario, Simulation, World};

#[test]
fn the_default_world_under_the_ladder_is_inside_every_band() {
    let s = Scenario::default_scenario().scaled(100_000);
    let world = World::generate(&s).unwrap();
    let report = Simulation::new(&s, &world)
        .unwrap()
        .run(&s.public_pool_ladder, &s.response)
        .unwrap();
    assert!(report.platform.tally.impressions > 1_000_000);
    let out: Vec<String> = calibration::check(&report)
        .iter()
        .filter(|m| !m.inside)
        .map(|m| format!("{} = {:.5} outside [{:.5}, {:.5}]", m.name, m.realized, m.low, m.high))
        .collect();
    assert!(out.is_empty(), "{out:#?}");
    // Most posts end in the first pool, as practitioners describe.
    let first = report.posts.iter().filter(|p| p.stages_entered <= 1).count();
    assert!(
        2 * first > report.posts.len(),
        "{first} of {} posts",
        report.posts.len()
    );
}
