//! Scenarios shared by the experiment, post-log and output tests.

#![allow(dead_code)]

use feedsim::Scenario;

/// The default world scaled down to `users` users: the same four cohorts
/// and policies, at most `creators` creators per cohort and `max_followers`
/// followers per creator, so a run takes a few milliseconds.
pub fn tiny(users: u32, creators: u32, max_followers: u32) -> Scenario {
    let mut s = Scenario::default_scenario();
    s.name = "tiny".into();
    s.users.count = users;
    for c in &mut s.cohorts {
        c.creators = c.creators.min(creators);
        c.followers.max = c.followers.max.min(max_followers);
        c.followers.min = c.followers.min.min(c.followers.max / 2);
    }
    s.public_pool_ladder.pools.truncate(3);
    s.validate().expect("tiny scenario is valid");
    s
}

/// One cohort without fans, everyone active every day, a constant model in
/// which a stranger watches through with probability 0.3 and does nothing
/// else: results are countable in closed form.
pub fn closed_form(users: u32, creators: u32, posts_per_day: f64) -> Scenario {
    let text = format!(
        r#"
        name = "closed form"
        seed = 4
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
        followers = {{ min = 0, max = 0 }}
        iron_fan_ratio = 0.0
        verticality = 0.5
        posts_per_day = {posts_per_day}
        [response]
        model = "constant"
        stranger = {{ watch = 0.3, like = 0.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.0, order = 0.0 }}
        fan      = {{ watch = 0.5, like = 0.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.0, order = 0.0 }}
        iron_fan = {{ watch = 0.7, like = 0.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.0, order = 0.0 }}
        "#
    );
    Scenario::from_toml_str(&text).expect("closed-form scenario is valid")
}
