//! Property tests over random small worlds, policies and models: the
//! funnel's inequalities, no repeated impressions, stages entered in order
//! and never past a failed gate, and iron-fan-first's first stage.

mod common;

use std::collections::HashMap;

use feedsim::metrics::{PushEnd, Tally};
use feedsim::policy::{Decision, FanStage, Gate, GateScope, IronFanFirst, Pool, PublicPoolLadder, PushPolicy};
use feedsim::response::{ConstantModel, Probabilities, Relation, ResponseSpec};
use feedsim::sim::ImpressionRecord;
use feedsim::{Scenario, Simulation, World};
use proptest::prelude::*;

fn probabilities() -> impl Strategy<Value = Probabilities> {
    (0.0..=1.0f64, 0.0..=1.0f64, 0.0..=0.5f64, 0.0..=1.0f64, 0.0..=1.0f64).prop_map(
        |(watch, like, comment, click, order)| Probabilities {
            watch,
            like,
            comment,
            share: comment / 2.0,
            follow: like / 3.0,
            click,
            order,
        },
    )
}

fn model() -> impl Strategy<Value = ResponseSpec> {
    prop_oneof![
        Just(ResponseSpec::default()),
        (probabilities(), probabilities(), probabilities()).prop_map(|(stranger, fan, iron_fan)| {
            ResponseSpec::Constant(ConstantModel {
                stranger,
                fan,
                iron_fan,
            })
        }),
    ]
}

fn gate() -> impl Strategy<Value = Gate> {
    (0.0..2.0f64, 0.0..3.0f64, 0.0..10.0f64, any::<bool>(), 0u32..30).prop_map(
        |(threshold, watch_through, like, so_far, min_impressions)| Gate {
            threshold,
            watch_through,
            like,
            over: if so_far { GateScope::SoFar } else { GateScope::Stage },
            min_impressions,
            ..Gate::default()
        },
    )
}

fn pools() -> impl Strategy<Value = Vec<Pool>> {
    prop::collection::vec((1u32..400, gate()).prop_map(|(size, gate)| Pool { size, gate }), 1..4)
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        (
            300u32..2500,
            prop_oneof![Just(1.0f64), 0.2..1.0f64],
            0.0..=1.0f64,
            1u32..3,
            2u32..6,
        ),
        prop::collection::vec((1u32..6, 0u32..300, 0.0..=1.0f64, 0.0..=1.0f64, 0.3..3.0f64), 1..4),
        model(),
        pools(),
        (gate(), gate(), proptest::option::of(1u32..50), 1.0..4.0f64),
        any::<u64>(),
    )
        .prop_map(
            |(feed, cohorts, response, pools, (iron_gate, fan_gate, cap, boost), seed)| {
                let (users, activity, targeting, days, slots) = feed;
                let mut s = Scenario::default_scenario();
                s.seed = seed >> 1;
                s.users.count = users;
                s.users.daily_activity = activity;
                s.feed.interest_targeting = targeting;
                s.feed.days = days;
                s.feed.slots_per_day = slots;
                s.feed.categories = 4;
                let template = s.cohorts[0].clone();
                s.cohorts = cohorts
                    .into_iter()
                    .enumerate()
                    .map(|(i, (creators, followers, iron, vert, posts))| {
                        let mut c = template.clone();
                        c.name = format!("c{i}");
                        c.creators = creators;
                        c.followers.min = followers / 2;
                        c.followers.max = followers.min(users);
                        c.followers.min = c.followers.min.min(c.followers.max);
                        c.iron_fan_ratio = iron;
                        c.verticality = vert;
                        c.posts_per_day = posts;
                        c
                    })
                    .collect();
                s.response = response;
                s.public_pool_ladder = PublicPoolLadder { pools };
                s.iron_fan_first = IronFanFirst {
                    group_members: None,
                    iron_fans: FanStage {
                        size: cap,
                        gate: iron_gate,
                    },
                    other_fans: FanStage {
                        size: None,
                        gate: fan_gate,
                    },
                    max_public_boost: boost,
                    public_pools: None,
                };
                s
            },
        )
}

fn funnel_holds(t: &Tally) -> bool {
    t.orders <= t.clicks
        && t.clicks <= t.watches
        && t.watches <= t.impressions
        && t.repurchases <= t.orders
        && t.likes <= t.watches
        && t.iron_fan_impressions + t.fan_impressions + t.public_impressions == t.impressions
}

fn add_record(t: &mut Tally, r: &ImpressionRecord) {
    t.impressions += 1;
    t.watches += u64::from(r.watched);
    t.likes += u64::from(r.liked);
    t.comments += u64::from(r.commented);
    t.shares += u64::from(r.shared);
    t.follows += u64::from(r.followed);
}

fn check_policy(s: &Scenario, world: &World, policy: &dyn PushPolicy) -> Result<(), TestCaseError> {
    let sim = Simulation::new(s, world).unwrap();
    let (report, log) = sim.trace(policy, &s.response).unwrap();
    let users = world.users().len() as u64;
    let stages = policy.stages();

    prop_assert!(funnel_holds(&report.platform.tally));
    prop_assert!(report.platform.unique_reach <= users);
    for c in &report.cohorts {
        prop_assert!(funnel_holds(&c.tally));
        prop_assert!(c.unique_reach <= users);
    }
    prop_assert_eq!(log.len() as u64, report.platform.tally.impressions);

    // No (user, post) impression twice.
    let mut pairs: Vec<(u32, u32)> = log.iter().map(|r| (r.post, r.user)).collect();
    pairs.sort_unstable();
    prop_assert!(pairs.windows(2).all(|w| w[0] != w[1]), "a user saw a post twice");

    // Per post: stages in order, one per slot, and gates re-evaluated from
    // the trace agree with how the push went.
    let mut per_post: HashMap<u32, Vec<&ImpressionRecord>> = HashMap::new();
    for r in &log {
        per_post.entry(r.post).or_default().push(r);
    }
    for p in &report.posts {
        prop_assert!(funnel_holds(&p.tally));
        let records = per_post.remove(&p.id).unwrap_or_default();
        let mut stage_tallies = vec![Tally::default(); p.stages_entered as usize];
        for r in &records {
            prop_assert_eq!(r.slot, p.slot + u32::from(r.stage), "stage {} out of its slot", r.stage);
            prop_assert!(r.stage < p.stages_entered);
            prop_assert_eq!(r.relation, world.relation(p.creator, r.user).0);
            add_record(&mut stage_tallies[r.stage as usize], r);
        }
        for (k, t) in stage_tallies.iter().enumerate() {
            prop_assert_eq!(t.impressions, p.stage_impressions[k]);
        }
        let mut so_far = Tally::default();
        let mut multiplier = 1.0;
        for (k, t) in stage_tallies.iter().enumerate() {
            if let Some(size) = stages[k].size {
                prop_assert!(t.impressions as f64 <= (f64::from(size) * multiplier).floor());
            }
            so_far.add(t);
            let decision = policy.decide(&stages, k, t, &so_far);
            let last = k + 1 == stage_tallies.len();
            match (decision, last, p.end) {
                (Decision::Advance { next_size_multiplier }, false, _) => multiplier = next_size_multiplier,
                (Decision::Stop, true, PushEnd::Gate { stage }) => prop_assert_eq!(usize::from(stage), k),
                (Decision::Advance { .. }, true, PushEnd::Completed) => prop_assert_eq!(k + 1, stages.len()),
                (Decision::Advance { .. }, true, PushEnd::Exhausted) => {}
                (d, last, end) => prop_assert!(false, "post {} stage {k}: {d:?}, last {last}, end {end:?}", p.id),
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn pushes_obey_the_funnel_and_their_gates(s in scenario()) {
        s.validate().unwrap();
        let world = World::generate(&s).unwrap();
        check_policy(&s, &world, &s.public_pool_ladder)?;
        check_policy(&s, &world, &s.iron_fan_first())?;
    }

    #[test]
    fn iron_fan_first_starts_with_iron_fans_only(s in scenario()) {
        let world = World::generate(&s).unwrap();
        let sim = Simulation::new(&s, &world).unwrap();
        let (report, log) = sim.trace(&s.iron_fan_first(), &s.response).unwrap();
        let creator: HashMap<u32, u32> = report.posts.iter().map(|p| (p.id, p.creator)).collect();
        for r in log.iter().filter(|r| r.stage == 0) {
            let c = creator[&r.post];
            prop_assert_eq!(r.relation, Relation::IronFan);
            prop_assert!(world.graph().iron_fans_of(c).binary_search(&r.user).is_ok());
        }
        // With all users active and no cap, every iron fan sees every post first.
        if s.users.daily_activity == 1.0 && s.iron_fan_first.iron_fans.size.is_none() {
            for p in &report.posts {
                prop_assert_eq!(p.stage_impressions[0], u64::from(world.graph().iron_fans(p.creator)));
            }
        }
    }
}
