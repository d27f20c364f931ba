//! One simulated day of the default scenario under each push policy.
//! Throughput is reported in impressions per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use feedsim::policy::PushPolicy;
use feedsim::{Scenario, Simulation, World};

fn one_day(c: &mut Criterion) {
    let scenario = Scenario::default_scenario();
    let world = World::generate(&scenario).expect("default world");
    let sim = Simulation::new(&scenario, &world).expect("default posts");
    let ladder = scenario.public_pool_ladder.clone();
    let iron = scenario.iron_fan_first();
    let mut group = c.benchmark_group("one_day_default");
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

criterion_group!(benches, one_day);
criterion_main!(benches);
