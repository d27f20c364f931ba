//! The engine phase by phase: each benchmark times one phase (offer,
//! choose, respond, apply, gate, end of day) inside whole runs of a small
//! world (the default scaled to 100,000 users, one day, finite sessions,
//! the fan lifecycle on), so a regression shows in the phase that has it.
//! A criterion "iteration" is one run; the time reported is that phase's
//! share of it (`Simulation::run_timed`, hidden from the docs). The last
//! benchmark times the whole run.
//!
//! `cargo bench --bench phases`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use feedsim::engine::PhaseTimes;
use feedsim::policy::PushPolicy;
use feedsim::scenario::AttentionMode;
use feedsim::{Scenario, Simulation, World};

fn phases(c: &mut Criterion) {
    let mut s = Scenario::default_scenario().scaled(100_000);
    s.attention.mode = AttentionMode::Finite;
    s.dynamics.enabled = true;
    let world = World::generate(&s).expect("default world");
    let sim = Simulation::new(&s, &world).expect("default posts");
    let ladder = s.public_pool_ladder.clone();
    let iron = s.iron_fan_first();
    type Pick = fn(&PhaseTimes) -> Duration;
    let phases: [(&str, Pick); 7] = [
        ("enter", |t| t.enter),
        ("offer", |t| t.offer),
        ("choose", |t| t.choose),
        ("respond", |t| t.respond),
        ("apply", |t| t.apply),
        ("gate", |t| t.gate),
        ("end_of_day", |t| t.end_of_day),
    ];
    for (name, policy) in [
        ("public_pool_ladder", &ladder as &dyn PushPolicy),
        ("iron_fan_first", &iron),
    ] {
        let mut group = c.benchmark_group(format!("phase_{name}"));
        group.sample_size(10);
        for (phase, pick) in phases {
            group.bench_function(phase, |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| pick(&sim.run_timed(policy, &s.response).expect("run").1))
                        .sum()
                })
            });
        }
        group.bench_function("whole_run", |b| b.iter(|| sim.run(policy, &s.response).expect("run")));
        group.finish();
    }
}

criterion_group!(benches, phases);
criterion_main!(benches);
