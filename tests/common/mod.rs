//! Scenarios shared by the integration tests.

#![allow(dead_code)]

use feedsim::metrics::Report;
use feedsim::policy::PushPolicy;
use feedsim::{Scenario, Simulation};

/// A small version of the default world: same cohorts and policies, fewer
/// users and creators, so a run takes well under a second.
pub fn small_scenario() -> Scenario {
    let mut s = Scenario::default_scenario().scaled(30_000);
    s.name = "small".into();
    s.validate().expect("small scenario is valid");
    s
}

/// A scenario with one cohort, a constant response model and unlimited
/// attention (every offer is watched), for the closed-form checks.
pub fn constant_scenario(
    users: u32,
    followers: u32,
    iron_fan_ratio: f64,
    creators: u32,
    posts_per_day: f64,
) -> Scenario {
    let text = format!(
        r#"
        name = "closed form"
        seed = 99
        [feed]
        days = 1
        slots_per_day = 8
        categories = 5
        interest_targeting = 0.0
        [users]
        count = {users}
        daily_activity = 1.0
        [[cohorts]]
        name = "flat"
        creators = {creators}
        followers = {{ min = {followers}, max = {followers} }}
        iron_fan_ratio = {iron_fan_ratio}
        verticality = 0.5
        posts_per_day = {posts_per_day}
        [response]
        model = "constant"
        stranger = {{ watch = 0.3, like = 0.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.0, order = 0.0 }}
        fan      = {{ watch = 0.5, like = 0.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.0, order = 0.0 }}
        iron_fan = {{ watch = 0.7, like = 0.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.0, order = 0.0 }}
        [attention]
        mode = "unlimited"
        "#
    );
    Scenario::from_toml_str(&text).expect("closed-form scenario is valid")
}

/// The small world over several days with finite attention and the fan
/// lifecycle on, as in `scenarios/growth.toml`.
pub fn small_growth_scenario(days: u32) -> Scenario {
    let mut s = Scenario::from_toml_str(include_str!("../../scenarios/growth.toml"))
        .expect("growth.toml is valid")
        .scaled(30_000);
    s.feed.days = days;
    s.name = "small growth".into();
    s.validate().expect("small growth scenario is valid");
    s
}

/// Compares a run's aggregate report with the pinned file, or rewrites the
/// file when `UPDATE_GOLDEN` is set. Per-post and per-creator detail is left
/// out: the determinism tests cover it, and it would make the file unreadable.
pub fn check_golden(file: &str, mut report: Report) {
    report.posts.clear();
    report.creators.clear();
    let json = report.to_json().unwrap();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(file, &json).unwrap();
    }
    let pinned = std::fs::read_to_string(file).expect("golden file exists (UPDATE_GOLDEN=1 writes it)");
    assert!(json == pinned, "{file} changed; diff it against a fresh run");
}

/// The report's JSON at 1, 2 and 3 threads must be one text.
pub fn same_at_any_thread_count(sim: &Simulation, s: &Scenario, policy: &dyn PushPolicy) -> Report {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| sim.run(policy, &s.response).unwrap())
    };
    let one = run(1);
    let json = one.to_json().unwrap();
    assert_eq!(json, run(2).to_json().unwrap(), "{}: 2 threads differ", one.policy);
    assert_eq!(json, run(3).to_json().unwrap(), "{}: 3 threads differ", one.policy);
    one
}

/// Asserts that no post reached the same user twice in a trace.
pub fn assert_once_per_user(trace: &[feedsim::engine::ImpressionRecord]) {
    let mut seen = std::collections::HashSet::new();
    for r in trace {
        assert!(
            seen.insert((r.post, r.user)),
            "post {} reached user {} twice",
            r.post,
            r.user
        );
    }
}
