//! Property tests over random small worlds, policies, feeds and models: the
//! funnel's inequalities, no repeated impressions, stages entered in order,
//! every step of every push replayed through the policy from the trace, and
//! iron-fan-first's first stage.

mod common;

use std::collections::HashMap;

use feedsim::engine::ImpressionRecord;
use feedsim::feed::{FeedSpec, XMixer};
use feedsim::metrics::{Tally, Tier, TierTallies};
use feedsim::policy::{
    CreatorState, FanStage, FanWaves, Gate, GateScope, IronFanFirst, Order, Peers, Pool, PublicPoolLadder,
    PublicWeight, PushContext, PushPolicy, Size, StageRecord, Step,
};
use feedsim::response::{ConstantModel, Probabilities, Relation, ResponseSpec};
use feedsim::scenario::AttentionMode;
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
        (
            gate(),
            gate(),
            proptest::option::of(1u32..50),
            (1u32..80, 1.0..3.0f64, 1u32..5),
            0.0..1.0f64,
        ),
        (any::<u64>(), 0u8..3),
    )
        .prop_map(
            |(feed, cohorts, response, pools, (iron_gate, fan_gate, cap, waves, exponent), (seed, mode))| {
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
                // Unlimited attention, or a finite session ranked by either feed.
                s.attention.mode = if mode == 0 {
                    AttentionMode::Unlimited
                } else {
                    AttentionMode::Finite
                };
                if mode == 2 {
                    s.viewer_feed = FeedSpec::XMixer(XMixer::default());
                }
                s.attention.daily_median = 4.0;
                s.attention.daily_mean = 6.0;
                s.public_pool_ladder = PublicPoolLadder { pools };
                s.iron_fan_first = IronFanFirst {
                    group_members: None,
                    iron_fans: FanStage {
                        size: cap,
                        gate: iron_gate,
                    },
                    fan_waves: FanWaves {
                        first: waves.0,
                        growth: waves.1,
                        max_waves: waves.2,
                        order: Order::Engagement,
                        gate: fan_gate,
                    },
                    public_weight: PublicWeight {
                        ratio_exponent: exponent,
                        ..PublicWeight::default()
                    },
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
    match r.relation {
        Relation::Stranger => t.public_impressions += 1,
        Relation::Fan => t.fan_impressions += 1,
        Relation::IronFan => t.iron_fan_impressions += 1,
    }
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

    prop_assert!(funnel_holds(&report.platform.tally));
    prop_assert!(report.platform.unique_reach <= users);
    for c in &report.cohorts {
        prop_assert!(funnel_holds(&c.tally));
        prop_assert!(c.unique_reach <= users);
    }
    prop_assert_eq!(log.len() as u64, report.platform.tally.impressions);
    prop_assert_eq!(
        report.attention.offered,
        report.platform.tally.impressions + report.platform.tally.offers_not_shown
    );

    // No (user, post) impression twice.
    let mut pairs: Vec<(u32, u32)> = log.iter().map(|r| (r.post, r.user)).collect();
    pairs.sort_unstable();
    prop_assert!(pairs.windows(2).all(|w| w[0] != w[1]), "a user saw a post twice");

    // Per post: stages in order, one per slot, and the whole push replayed
    // through the policy from the trace: each step the policy takes on the
    // replayed history is the stage (or end) the engine ran.
    let mut per_post: HashMap<u32, Vec<&ImpressionRecord>> = HashMap::new();
    for r in &log {
        per_post.entry(r.post).or_default().push(r);
    }
    let graph = world.graph();
    for p in &report.posts {
        prop_assert!(funnel_holds(&p.tally));
        let records = per_post.remove(&p.id).unwrap_or_default();
        let n = p.stages_entered as usize;
        let mut by_tier = vec![TierTallies::default(); n];
        for r in &records {
            prop_assert_eq!(r.slot, p.slot + u32::from(r.stage), "stage {} out of its slot", r.stage);
            prop_assert!(r.stage < p.stages_entered);
            prop_assert_eq!(r.relation, world.relation(p.creator, r.user).0);
            prop_assert_eq!(r.tier, Tier::of(r.relation, false));
            add_record(&mut by_tier[r.stage as usize].0[r.tier as usize], r);
        }
        let post = &sim.posts()[p.id as usize];
        let (followers, iron_fans) = (graph.followers(p.creator), graph.iron_fans(p.creator));
        let creator = CreatorState {
            id: p.creator,
            followers,
            iron_fans,
            iron_fan_ratio: if followers == 0 {
                0.0
            } else {
                f64::from(iron_fans) / f64::from(followers)
            },
            ..CreatorState::default()
        };
        let peers = Peers::default();
        let mut history: Vec<StageRecord> = Vec::new();
        let (mut so_far, mut so_far_by_tier) = (Tally::default(), TierTallies::default());
        // The replay asks the policy once more than the stages entered: the end.
        #[allow(clippy::needless_range_loop)]
        for k in 0..=n {
            let ctx = PushContext {
                post,
                creator: &creator,
                day: 0,
                slot: p.slot + k as u32,
                history: &history,
                so_far: &so_far,
                so_far_by_tier: &so_far_by_tier,
                peers: &peers,
            };
            match (policy.next_stage(&ctx), k < n) {
                (Step::Stage(stage), true) => {
                    prop_assert!(!matches!(stage.size, Size::Share(_)));
                    let wanted = stage.size.resolve(0);
                    let offered = p.stage_offers[k];
                    let mut shown = by_tier[k].total();
                    prop_assert_eq!(shown.impressions, p.stage_impressions[k]);
                    prop_assert!(offered <= wanted && shown.impressions <= offered);
                    shown.offers_not_shown = offered - shown.impressions;
                    so_far.add(&shown);
                    so_far_by_tier.add(&by_tier[k]);
                    history.push(StageRecord {
                        stage,
                        wanted,
                        offered,
                        exhausted: offered < wanted,
                        shown,
                        by_tier: by_tier[k],
                    });
                }
                (Step::End(end), false) => prop_assert_eq!(end, p.end),
                (step, _) => prop_assert!(false, "post {} step {k} of {n}: {step:?}, ended {:?}", p.id, p.end),
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
        // With all users active, unlimited attention and no cap, every iron
        // fan sees every post first.
        if s.users.daily_activity == 1.0
            && s.attention.mode == AttentionMode::Unlimited
            && s.iron_fan_first.iron_fans.size.is_none()
        {
            for p in &report.posts {
                prop_assert_eq!(p.stage_impressions[0], u64::from(world.graph().iron_fans(p.creator)));
            }
        }
    }
}
