//! One simulated day of the default world under each push policy, first
//! with unlimited attention (every offer watched) and a fixed follow graph,
//! then with finite sessions (the default scenario's attention) and the fan
//! lifecycle on, in the same run so the two can be compared. Throughput is
//! in impressions per second. `benches/phases.rs` splits a run by phase.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use feedsim::policy::PushPolicy;
use feedsim::scenario::AttentionMode;
use feedsim::{Scenario, Simulation, World};

fn one_day(c: &mut Criterion) {
    let mut unlimited = Scenario::default_scenario();
    // The default scenario's attention is finite: set unlimited explicitly.
    unlimited.attention.mode = AttentionMode::Unlimited;
    let mut dynamic = unlimited.clone();
    dynamic.attention.mode = AttentionMode::Finite;
    dynamic.dynamics.enabled = true;
    let world = World::generate(&unlimited).expect("default world");
    for (label, scenario) in [("unlimited", &unlimited), ("finite_dynamics", &dynamic)] {
        let sim = Simulation::new(scenario, &world).expect("default posts");
        let ladder = scenario.public_pool_ladder.clone();
        let iron = scenario.iron_fan_first();
        let mut group = c.benchmark_group(format!("one_day_{label}"));
        group.sample_size(10);
        for (name, policy) in [
            ("public_pool_ladder", &ladder as &dyn PushPolicy),
            ("iron_fan_first", &iron),
        ] {
            let impressions = sim
                .run(policy, &scenario.response)
                .expect("run")
                .platform
                .tally
                .impressions;
            group.throughput(Throughput::Elements(impressions));
            group.bench_function(name, |b| b.iter(|| sim.run(policy, &scenario.response).expect("run")));
        }
        group.finish();
    }
}

criterion_group!(benches, one_day);
criterion_main!(benches);
