//! Finite attention and the fan lifecycle over days.

mod common;

use std::collections::HashMap;

use feedsim::metrics::{DailyCohortReport, Report};
use feedsim::policy::{FanStage, FanWaves, Gate, IronFanFirst, Order, PublicWeight, PushPolicy};
use feedsim::response::{ConstantModel, Probabilities, ResponseSpec};
use feedsim::scenario::{AttentionMode, ChurnParams};
use feedsim::{Scenario, Simulation, World};
use proptest::prelude::*;

fn run_in_pool(threads: usize, s: &Scenario, policy: &dyn PushPolicy) -> Report {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| {
            let world = World::generate(s).unwrap();
            Simulation::new(s, &world).unwrap().run(policy, &s.response).unwrap()
        })
}

#[test]
fn dynamics_and_attention_are_bit_identical_at_one_and_many_threads() {
    let s = common::small_growth_scenario(4);
    for policy in [&s.public_pool_ladder as &dyn PushPolicy, &s.iron_fan_first()] {
        let one = run_in_pool(1, &s, policy);
        let many = run_in_pool(3, &s, policy);
        // The check needs the mechanisms to have acted.
        assert!(one.attention.declined > 0, "no offer was declined");
        assert!(one.cohorts.iter().map(|c| c.funnel.iron_fan_promotions).sum::<u64>() > 0);
        assert!(one.cohorts.iter().map(|c| c.funnel.follows).sum::<u64>() > 0);
        assert_eq!(one, many, "{} differs across thread counts", policy.name());
    }
}

#[test]
fn golden_multi_day_report_is_pinned() {
    // To accept an intended change: `UPDATE_GOLDEN=1 cargo test --release --test dynamics golden`,
    // then bump feedsim::experiment::RESULTS_VERSION (tests/hardening.rs says the new digest).
    let s = common::small_growth_scenario(5);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    for (file, policy) in [
        (
            "tests/golden/growth_ladder.json",
            &s.public_pool_ladder as &dyn PushPolicy,
        ),
        ("tests/golden/growth_iron_fan_first.json", &s.iron_fan_first()),
    ] {
        common::check_golden(file, sim.run(policy, &s.response).unwrap());
    }
}

fn constant(watch: f64, like: f64) -> ResponseSpec {
    let p = Probabilities {
        watch,
        like,
        ..Probabilities::default()
    };
    ResponseSpec::Constant(ConstantModel {
        stranger: p,
        fan: p,
        iron_fan: p,
    })
}

/// Every fan of every creator is shown every post (all users active, fan
/// gates that always pass, no attention limit).
fn all_fans_see_everything(mut s: Scenario) -> Scenario {
    s.users.daily_activity = 1.0;
    s.attention.mode = AttentionMode::Unlimited;
    let open = Gate {
        threshold: 0.0,
        ..Gate::default()
    };
    s.iron_fan_first = IronFanFirst {
        group_members: None,
        iron_fans: FanStage { size: None, gate: open },
        // One wave as large as any fan base: every other fan at once.
        fan_waves: FanWaves {
            first: u32::MAX,
            growth: 1.0,
            max_waves: 1,
            order: Order::Engagement,
            gate: open,
        },
        public_weight: PublicWeight::default(),
        public_pools: None,
    };
    for c in &mut s.cohorts {
        c.churn = None;
        c.member_perk_rate = 0.0;
    }
    s
}

#[test]
fn with_no_engagement_iron_fans_only_decrease() {
    let mut s = all_fans_see_everything(common::small_growth_scenario(8));
    s.response = constant(0.0, 0.0);
    let world = World::generate(&s).unwrap();
    let report = Simulation::new(&s, &world)
        .unwrap()
        .run(&s.iron_fan_first(), &s.response)
        .unwrap();
    for cohort in &report.cohorts {
        let series: Vec<u64> = report
            .daily
            .iter()
            .filter(|d| d.cohort == cohort.name)
            .map(|d| d.iron_fans)
            .collect();
        assert!(series.windows(2).all(|w| w[1] <= w[0]), "{}: {series:?}", cohort.name);
        assert!(series[0] <= cohort.iron_fans);
        assert_eq!(cohort.funnel.iron_fan_promotions, 0);
        assert_eq!(cohort.funnel.follows, 0);
    }
    // Scores decay with nothing to renew them, so some iron fans are lost.
    let (start, end): (u64, u64) = report
        .cohorts
        .iter()
        .map(|c| (c.iron_fans, c.iron_fans_end))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!(end < start, "{end} iron fans at the end of {start}");
}

#[test]
fn with_certain_engagement_every_fan_shown_a_post_becomes_an_iron_fan() {
    let mut s = all_fans_see_everything(common::small_growth_scenario(2));
    s.response = constant(1.0, 0.0);
    // One watched post is worth exactly the promotion score.
    s.dynamics.points.watch = s.dynamics.iron_fan_above;
    let world = World::generate(&s).unwrap();
    let report = Simulation::new(&s, &world)
        .unwrap()
        .run(&s.iron_fan_first(), &s.response)
        .unwrap();
    let mut checked = 0;
    for c in &report.creators {
        if c.posts > 0 {
            assert_eq!(
                c.iron_fans_end, c.followers_end,
                "creator {} with {} posts",
                c.id, c.posts
            );
            checked += 1;
        } else {
            assert!(c.iron_fans_end <= c.iron_fans);
        }
    }
    assert!(checked > 10, "only {checked} creators posted");
}

#[test]
fn creators_stop_posting_when_their_reach_stays_under_the_churn_threshold() {
    // Newcomers give up after two days under an impossible threshold; every
    // other cohort has no churn rule. Churn is judged at the end of each
    // posting day over the last `window_days` days.
    let mut s = common::small_growth_scenario(5);
    for c in &mut s.cohorts {
        c.churn = None;
    }
    let newcomer = s.cohorts.iter().position(|c| c.name == "newcomer").unwrap();
    s.cohorts[newcomer].churn = Some(ChurnParams {
        window_days: 2,
        min_impressions: u64::MAX,
    });
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let report = sim.run(&s.public_pool_ladder, &s.response).unwrap();
    let spd = s.feed.slots_per_day;
    for c in &report.creators {
        if usize::from(c.cohort) == newcomer {
            // The window is full at the end of day 1: every newcomer stops then.
            assert_eq!(c.stopped_after_day, Some(1), "creator {}", c.id);
        } else {
            assert_eq!(c.stopped_after_day, None, "creator {}", c.id);
        }
    }
    // Stopped creators publish nothing from day 2 on, though posts were planned.
    let planned_late = sim
        .posts()
        .iter()
        .filter(|p| usize::from(world.creators().cohort(p.creator)) == newcomer && p.slot >= 2 * spd)
        .count();
    let ran_late = report
        .posts
        .iter()
        .filter(|p| usize::from(p.cohort) == newcomer && p.slot >= 2 * spd)
        .count();
    assert!(planned_late > 0);
    assert_eq!(ran_late, 0);
    let active_end = report.cohorts[newcomer].active_creators_end;
    assert_eq!(active_end, 0);
}

fn attention_scenario() -> impl Strategy<Value = Scenario> {
    (1u32..30, 30.0..200.0f64, 2u32..6, any::<u64>(), 0.3..1.0f64).prop_map(|(median, extra, slots, seed, activity)| {
        let mut s = common::small_growth_scenario(2);
        s.seed = seed >> 1;
        s.users.count = 3_000;
        s.users.daily_activity = activity;
        for c in &mut s.cohorts {
            c.followers.max = c.followers.max.min(2_000);
            c.followers.min = c.followers.min.min(c.followers.max);
            c.creators = c.creators.min(8);
            c.posts_per_day *= 3.0;
        }
        s.feed.slots_per_day = slots;
        s.attention.daily_median = f64::from(median);
        s.attention.daily_mean = f64::from(median) + extra;
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn attention_is_never_exceeded(s in attention_scenario()) {
        let world = World::generate(&s).unwrap();
        let sim = Simulation::new(&s, &world).unwrap();
        for policy in [&s.public_pool_ladder as &dyn PushPolicy, &s.iron_fan_first()] {
            let (report, log) = sim.trace(policy, &s.response).unwrap();
            let mut per_slot: HashMap<(u32, u32), u32> = HashMap::new();
            for r in &log {
                *per_slot.entry((r.user, r.slot)).or_default() += 1;
            }
            let spd = s.feed.slots_per_day;
            for (&(user, slot), &n) in &per_slot {
                let budget = u32::from(world.users().attention(user));
                // The slot's share of the daily budget, as documented.
                let (i, b) = (slot % spd, budget);
                let allowed = (i + 1) * b / spd - i * b / spd;
                prop_assert!(n <= allowed, "user {user} slot {slot}: {n} > {allowed}");
            }
            let a = report.attention;
            prop_assert_eq!(a.served, log.len() as u64);
            prop_assert_eq!(a.offered, a.served + a.declined);
            prop_assert!(a.served <= a.supply.unwrap());
        }
    }
}

#[test]
fn both_funnels_are_nested_for_every_cohort() {
    // The check: every rate conditional on the step before, in [0, 1].
    let s = common::small_growth_scenario(3);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let mut groups = 0;
    for policy in [&s.public_pool_ladder as &dyn PushPolicy, &s.iron_fan_first()] {
        let report = sim.run(policy, &s.response).unwrap();
        for c in &report.cohorts {
            let f = &c.content_funnel;
            let steps = [f.impressions, f.long_views, f.clicks, f.orders, f.repurchases];
            assert!(steps.windows(2).all(|w| w[1] <= w[0]), "{}: {steps:?}", c.name);
            assert_eq!(f.impressions, c.tally.impressions);
            for r in [
                f.long_view_per_impression,
                f.click_per_long_view,
                f.order_per_click,
                f.repurchase_per_order,
            ] {
                assert!((0.0..=1.0).contains(&r), "{}: {f:?}", c.name);
            }
            let g = &c.relationship_funnel;
            let steps = [
                g.viewers,
                g.followers,
                g.iron_fans,
                g.group_members,
                g.ecommerce_members,
            ];
            assert!(steps.windows(2).all(|w| w[1] <= w[0]), "{}: {steps:?}", c.name);
            assert_eq!(g.viewers, c.unique_reach);
            for r in [
                g.follower_per_viewer,
                g.iron_fan_per_follower,
                g.group_member_per_iron_fan,
                g.ecommerce_member_per_group_member,
            ] {
                assert!((0.0..=1.0).contains(&r), "{}: {g:?}", c.name);
            }
            groups += g.group_members;
        }
        // Not vacuous: reached fans exist in every policy's run.
        assert!(report.cohorts.iter().any(|c| c.relationship_funnel.iron_fans > 0));
    }
    assert!(groups > 0, "no fan-group member among the viewers in three days");
}

#[test]
fn the_hosts_scenario_is_valid_and_has_its_churn_rule() {
    let s = Scenario::from_toml_str(include_str!("../scenarios/hosts_90_days.toml")).unwrap();
    assert_eq!(s.feed.days, 90);
    assert!(s.dynamics.enabled);
    let hosts = s.cohorts.iter().find(|c| c.name == "hosts").unwrap();
    let churn = hosts.churn.unwrap();
    assert_eq!((churn.window_days, churn.min_impressions), (14, 45_000));
    // Every post of a host carries a product.
    assert_eq!(hosts.product.unwrap().share_of_posts, 1.0);
}

/// The lifecycle's counts reconcile with the follower totals: per cohort
/// and day, followers at the day's end are the day before's (the world's at
/// the start) plus the edges added minus the edges removed that night, and
/// the run's totals are the days' sums. Likewise the iron fans: the day
/// before's plus promotions minus demotions minus iron fans' unfollows.
#[test]
fn followers_are_the_start_plus_follows_added_minus_unfollows_every_day() {
    let mut s = common::small_growth_scenario(6);
    // Short enough for fans to unfollow within the run.
    s.dynamics.unfollow_after_days = 2;
    s.dynamics.unfollow_below = 5;
    assert!(s.dynamics.follow_score < s.dynamics.iron_fan_above);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    for policy in [&s.public_pool_ladder as &dyn PushPolicy, &s.iron_fan_first()] {
        let r = sim.run(policy, &s.response).unwrap();
        let (mut added, mut removed, mut promoted, mut iron_left) = (0u64, 0u64, 0u64, 0u64);
        for c in &r.cohorts {
            let days: Vec<_> = r.daily.iter().filter(|d| d.cohort == c.name).collect();
            assert!(days.len() >= s.feed.days as usize);
            let (mut followers, mut iron) = (c.followers, c.iron_fans);
            for d in &days {
                assert_eq!(
                    d.followers,
                    followers + d.follows_added - d.unfollows,
                    "{} {}: day {}",
                    policy.name(),
                    c.name,
                    d.day
                );
                // New follows enter as ordinary fans (asserted above), so
                // the iron tier changes only by its promotions, demotions
                // and iron fans' unfollows.
                assert_eq!(
                    d.iron_fans,
                    iron + d.promotions - d.demotions - d.iron_unfollows,
                    "{} {}: iron fans on day {}",
                    policy.name(),
                    c.name,
                    d.day
                );
                assert!(d.iron_unfollows <= d.unfollows);
                followers = d.followers;
                iron = d.iron_fans;
            }
            assert_eq!(followers, c.followers_end, "{}", c.name);
            assert_eq!(iron, c.iron_fans_end, "{}", c.name);
            assert_eq!(sum_of(&days, |d| d.iron_unfollows), c.iron_fan_unfollows, "{}", c.name);
            iron_left += c.iron_fan_unfollows;
            let sum = |f: fn(&DailyCohortReport) -> u64| sum_of(&days, f);
            assert_eq!(sum(|d| d.unfollows), c.unfollows, "{}", c.name);
            assert_eq!(sum(|d| d.demotions), c.iron_fan_demotions, "{}", c.name);
            assert_eq!(sum(|d| d.promotions), c.funnel.iron_fan_promotions, "{}", c.name);
            // Follow draws bound the edges added from above.
            assert!(sum(|d| d.follows_added) <= c.funnel.follows, "{}", c.name);
            added += sum(|d| d.follows_added);
            removed += sum(|d| d.unfollows);
            promoted += sum(|d| d.promotions);
        }
        // The check needs every count to have moved.
        assert!(
            added > 0 && removed > 0 && promoted > 0 && iron_left > 0,
            "{added} {removed} {promoted} {iron_left}"
        );
    }
}

/// Unfollows after skips: a fan shown a post who does nothing with it
/// unfollows with chance `unfollow_per_skip`, drawn per impression. Over a
/// day, a fan skipped `k` times unfollows with chance `1 − (1 − q)^k`; the
/// day's unfollows are within 4 standard deviations of their sum, and none
/// happen with `q = 0` (the low-score rule off).
#[test]
fn fans_unfollow_after_skipped_posts_at_the_rate_given() {
    let mut s = all_fans_see_everything(common::small_growth_scenario(1));
    s.response = constant(0.0, 0.0);
    s.dynamics.unfollow_after_days = 0;
    s.dynamics.unfollow_per_skip = 0.0;
    let world = World::generate(&s).unwrap();
    let run = |s: &Scenario| {
        let sim = Simulation::new(s, &world).unwrap();
        let (r, trace) = sim.trace(&s.iron_fan_first(), &s.response).unwrap();
        let unfollows: u64 = r.cohorts.iter().map(|c| c.unfollows).sum();
        // Skips per (creator, fan) on the first day (nothing is watched).
        let mut skips: HashMap<(u32, u32), i32> = HashMap::new();
        for i in trace
            .iter()
            .filter(|i| i.slot < s.feed.slots_per_day && i.relation != feedsim::response::Relation::Stranger)
        {
            *skips.entry((sim.posts()[i.post as usize].creator, i.user)).or_default() += 1;
        }
        let first_day: u64 = r.daily.iter().filter(|d| d.day == 0).map(|d| d.unfollows).sum();
        (unfollows, first_day, skips)
    };
    let (none, _, skips) = run(&s);
    assert_eq!(none, 0, "no unfollow without the rule");
    assert!(skips.len() > 1_000, "the check needs fans shown posts: {}", skips.len());
    let q = 0.25;
    s.dynamics.unfollow_per_skip = q;
    let (_, got, skips_q) = run(&s);
    assert_eq!(skips_q, skips, "the first day's impressions do not depend on the rule");
    let (mut mean, mut var) = (0.0, 0.0);
    for &k in skips.values() {
        let p = 1.0 - (1.0 - q).powi(k);
        mean += p;
        var += p * (1.0 - p);
    }
    assert!(
        (got as f64 - mean).abs() <= 4.0 * var.sqrt(),
        "{got} unfollows on day 0, expected {mean:.0} ± {:.0}",
        4.0 * var.sqrt()
    );
}

/// The sum of `f` over days.
fn sum_of(days: &[&DailyCohortReport], f: fn(&DailyCohortReport) -> u64) -> u64 {
    days.iter().map(|d| f(d)).sum()
}
