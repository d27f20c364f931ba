//! Paid traffic (`[paid]`, DOU+ style): spend stays within each post's
//! budget and is what its shown impressions cost, bought plays go where
//! they are targeted and when, results are the same at any thread count,
//! and bad parameters are refused by name.

mod common;

use feedsim::feed::{PAID, PaidStart, PaidTarget, PaidTraffic};
use feedsim::metrics::{PostReport, Report};
use feedsim::policy::PushPolicy;
use feedsim::{Scenario, Simulation, World};

/// The default world at 30,000 users, with paid traffic.
fn scenario(paid: PaidTraffic) -> Scenario {
    let mut s = common::small_scenario();
    s.paid = Some(paid);
    s.validate().unwrap();
    s
}

/// One ladder run of the default world at 30,000 users with `paid`.
fn ladder_run(paid: PaidTraffic) -> Report {
    let s = scenario(paid);
    let world = World::generate(&s).unwrap();
    Simulation::new(&s, &world)
        .unwrap()
        .run(&s.public_pool_ladder, &s.response)
        .unwrap()
}

fn paid_of(p: &PostReport) -> feedsim::metrics::Tally {
    p.by_source.get(PAID).copied().unwrap_or_default()
}

/// Posts that made paid offers.
fn promoted(r: &Report) -> Vec<&PostReport> {
    r.posts
        .iter()
        .filter(|p| {
            let t = paid_of(p);
            t.impressions + t.offers_not_shown > 0
        })
        .collect()
}

#[test]
fn spend_is_each_post_s_paid_impressions_times_the_price_and_never_past_its_budget() {
    // 25 yuan per 1,000: 2.5 fen a play, so the rounding down shows; a
    // budget of 0.5 yuan buys 20 plays, so budgets run out.
    let paid = PaidTraffic {
        share_of_posts: 0.3,
        budget_yuan: 0.5,
        price_per_mille_yuan: 25.0,
        ..PaidTraffic::default()
    };
    assert_eq!(paid.impressions_bought(), 20);
    let s = scenario(paid.clone());
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    for policy in [&s.public_pool_ladder as &dyn PushPolicy, &s.iron_fan_first()] {
        let r = sim.run(policy, &s.response).unwrap();
        let bought = promoted(&r);
        assert!(bought.len() > 50, "{}: {} promoted posts", r.policy, bought.len());
        let mut spent_out = 0;
        for p in &bought {
            let t = paid_of(p);
            assert!(t.impressions <= 20, "post {}: {} plays bought", p.id, t.impressions);
            assert_eq!(t.spend_fen, t.impressions * 2500 / 1000, "post {}", p.id);
            assert!(t.spend_fen <= 50);
            assert_eq!(p.tally.spend_fen, t.spend_fen, "only paid plays cost");
            spent_out += usize::from(t.impressions == 20);
        }
        assert!(spent_out > 0, "{}: no budget ran out, the cap is untested", r.policy);
        // Spend sums up the levels like any count.
        let posts: u64 = r.posts.iter().map(|p| p.tally.spend_fen).sum();
        assert_eq!(r.platform.tally.spend_fen, posts);
        assert_eq!(r.platform.by_source[PAID].spend_fen, posts);
        let cohorts: u64 = r.cohorts.iter().map(|c| c.tally.spend_fen).sum();
        assert_eq!(cohorts, posts);
        let creators: u64 = r.creators.iter().map(|c| c.tally.spend_fen).sum();
        assert_eq!(creators, posts);
        // Nothing else is charged.
        for (source, t) in &r.platform.by_source {
            if source != PAID {
                assert_eq!(t.spend_fen, 0, "{source}");
            }
        }
    }
}

#[test]
fn at_the_default_price_a_play_costs_two_fen_and_a_budget_buys_five_thousand() {
    let paid = PaidTraffic::default();
    assert_eq!((paid.budget_fen(), paid.price_per_mille_fen()), (10_000, 2_000));
    assert_eq!(paid.impressions_bought(), 5_000);
    assert_eq!(paid.spend_fen(5_000), 10_000);
    assert_eq!(paid.spend_fen(1), 2);
    let r = ladder_run(paid);
    let t = r.platform.by_source[PAID];
    assert!(t.impressions > 0);
    assert_eq!(t.spend_fen, 2 * t.impressions);
}

#[test]
fn the_share_of_posts_promoted_is_the_parameter_and_only_named_cohorts_buy() {
    let r = ladder_run(PaidTraffic {
        cohorts: vec!["general".into(), "newcomer".into()],
        share_of_posts: 0.2,
        ..PaidTraffic::default()
    });
    let cohort = |p: &PostReport| r.cohorts[p.cohort as usize].name.as_str();
    let eligible = r
        .posts
        .iter()
        .filter(|p| ["general", "newcomer"].contains(&cohort(p)))
        .count();
    let bought = promoted(&r);
    assert!(bought.iter().all(|p| ["general", "newcomer"].contains(&cohort(p))));
    // Every promoted post offers in its first round (an interest audience
    // of active users is never empty here), so the count is binomial.
    let n = eligible as f64;
    let sd = (n * 0.2 * 0.8).sqrt();
    let got = bought.len() as f64;
    assert!((got - 0.2 * n).abs() < 4.0 * sd, "{got} promoted of {n} (sd {sd})");
}

#[test]
fn bought_plays_go_to_their_target() {
    let run = |target: PaidTarget| {
        let s = scenario(PaidTraffic {
            share_of_posts: 0.3,
            target,
            ..PaidTraffic::default()
        });
        let world = World::generate(&s).unwrap();
        let sim = Simulation::new(&s, &world).unwrap();
        let (r, log) = sim.trace(&s.public_pool_ladder, &s.response).unwrap();
        (s, world, r, log)
    };
    // Own fans: every bought play is on a fan.
    let (_, _, r, _) = run(PaidTarget::OwnFans);
    let t = r.platform.by_source[PAID];
    assert!(t.impressions > 0);
    assert_eq!(t.public_impressions, 0, "{t:?}");
    // Interest: every bought play is on a user interested in the post's
    // category.
    let (_, world, r, log) = run(PaidTarget::Interest);
    let category: std::collections::HashMap<u32, u8> = r.posts.iter().map(|p| (p.id, p.category)).collect();
    let paid: Vec<_> = log.iter().filter(|i| i.source == PAID).collect();
    assert!(paid.len() > 100);
    for i in &paid {
        assert!(world.users().is_interested(i.user, category[&i.post]), "{i:?}");
    }
    // Similar creators' fans: mostly strangers to the creator, unlike the
    // creator's own fans.
    let (_, _, r, _) = run(PaidTarget::SimilarFans);
    let t = r.platform.by_source[PAID];
    assert!(t.impressions > 0);
    assert!(t.public_impressions > t.impressions / 2, "{t:?}");
}

#[test]
fn bought_from_the_public_pools_on_waits_for_the_fan_gate_under_iron_fan_first() {
    let build = |start: PaidStart| {
        scenario(PaidTraffic {
            share_of_posts: 0.5,
            start,
            ..PaidTraffic::default()
        })
    };
    let (published, gated) = (build(PaidStart::Published), build(PaidStart::PublicPools));
    let world = World::generate(&published).unwrap();
    let run =
        |s: &Scenario, policy: &dyn PushPolicy| Simulation::new(s, &world).unwrap().run(policy, &s.response).unwrap();
    // Under the ladder every stage is public: the same run.
    assert_eq!(
        run(&published, &published.public_pool_ladder).to_json().unwrap(),
        run(&gated, &gated.public_pool_ladder).to_json().unwrap()
    );
    // Under iron-fan first a post buys only once its fans passed it: a
    // post that never reached the public pools bought nothing, one that
    // did bought only from them.
    let iron = gated.iron_fan_first();
    let r = run(&gated, &iron);
    let early = run(&published, &published.iron_fan_first());
    let failed_bought = |r: &Report| {
        r.posts
            .iter()
            .filter(|p| !p.reached_public && paid_of(p).impressions > 0)
            .count()
    };
    assert_eq!(failed_bought(&r), 0);
    assert!(
        failed_bought(&early) > 0,
        "buying from publication reaches posts the fans failed"
    );
    assert!(r.platform.by_source[PAID].impressions > 0);
}

#[test]
fn paid_traffic_is_the_same_at_any_thread_count() {
    let s = scenario(PaidTraffic {
        share_of_posts: 0.3,
        target: PaidTarget::SimilarFans,
        ..PaidTraffic::default()
    });
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    for policy in [&s.public_pool_ladder as &dyn PushPolicy, &s.iron_fan_first()] {
        let one = common::same_at_any_thread_count(&sim, &s, policy).to_json().unwrap();
        assert!(one.contains("\"paid\""));
    }
}

#[test]
fn the_feed_weight_moves_paid_plays_up_or_down_the_feed() {
    let shown = |feed_weight: f64| {
        let r = ladder_run(PaidTraffic {
            share_of_posts: 0.3,
            feed_weight,
            ..PaidTraffic::default()
        });
        let t = r.platform.by_source[PAID];
        t.impressions as f64 / (t.impressions + t.offers_not_shown) as f64
    };
    let (low, even, high) = (shown(0.1), shown(1.0), shown(10.0));
    assert!(low < even && even < high, "{low} {even} {high}");
}

#[test]
fn paid_fields_are_checked_by_name() {
    let text = std::fs::read_to_string("scenarios/paid_traffic.toml").unwrap();
    for (from, to, field) in [
        ("cohorts = []", "cohorts = [\"KOE\", \"nobody\"]", "paid.cohorts[1]"),
        ("share_of_posts = 0.1", "share_of_posts = 1.5", "paid.share_of_posts"),
        ("budget_yuan = 100.0", "budget_yuan = 0.0", "paid.budget_yuan"),
        (
            "price_per_mille_yuan = 20.0",
            "price_per_mille_yuan = -1.0",
            "paid.price_per_mille_yuan",
        ),
        ("delivery_slots = 1", "delivery_slots = 0", "paid.delivery_slots"),
        ("feed_weight = 1.0", "feed_weight = nan", "paid.feed_weight"),
    ] {
        let at = text.find("\n[paid]\n").unwrap();
        let (world, paid) = text.split_at(at);
        assert!(paid.contains(from), "{from}");
        let e = Scenario::from_toml_str(&format!("{world}{}", paid.replace(from, to))).unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
    let e = Scenario::from_toml_str(&text.replace("target = \"interest\"", "target = \"everyone\"")).unwrap_err();
    assert!(e.to_string().contains("everyone"), "{e}");
    // The shipped file is the default world with its own table.
    let s = Scenario::from_toml_str(&text).unwrap();
    let mut rest = s.clone();
    rest.name = "default".into();
    rest.paid = None;
    assert_eq!(rest, Scenario::default_scenario());
    assert_eq!(s.paid, Some(PaidTraffic::default()));
}
