//! Scenarios shared by the experiment, post-log and output tests.

#![allow(dead_code)]

use feedsim::Scenario;

#[path = "../common/mod.rs"]
mod common;

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
/// else: results are countable in closed form. The shared closed-form
/// scenario with no followers, under seed 4.
pub fn closed_form(users: u32, creators: u32, posts_per_day: f64) -> Scenario {
    let mut s = common::constant_scenario(users, 0, 0.0, creators, posts_per_day);
    s.seed = 4;
    s
}
