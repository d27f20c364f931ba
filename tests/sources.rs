//! Traffic sources: every offer is counted under the source of the stage
//! that made it, the sources of every post, creator, cohort and of the
//! platform sum to its tally, and the response model sees the source.

mod common;

use feedsim::audience::{InterestTargetedPublic, IronFans};
use feedsim::metrics::{BySource, Tally};
use feedsim::policy::{Order, PushContext, PushEnd, PushPolicy, Size, Stage, Step};
use feedsim::response::{ImpressionContext, Probabilities, ResponseModel};
use feedsim::{Simulation, World};

fn sum(by_source: &BySource) -> Tally {
    by_source.values().fold(Tally::default(), |a, t| a.sum(*t))
}

#[test]
fn sources_sum_to_every_level_s_tally() {
    let s = common::small_scenario();
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    for (policy, names) in [
        (&s.public_pool_ladder as &dyn PushPolicy, vec!["public pool"]),
        (
            &s.iron_fan_first() as &dyn PushPolicy,
            vec!["fan wave", "group members", "iron fans", "public pool"],
        ),
    ] {
        let r = sim.run(policy, &s.response).unwrap();
        let seen: Vec<&str> = r.platform.by_source.keys().map(String::as_str).collect();
        assert!(seen.iter().all(|k| names.contains(k)), "{}: {seen:?}", r.policy);
        assert!(r.platform.by_source["public pool"].impressions > 0);
        assert_eq!(sum(&r.platform.by_source), r.platform.tally, "{}", r.policy);
        for c in &r.cohorts {
            assert_eq!(sum(&c.by_source), c.tally, "{} {}", r.policy, c.name);
        }
        for c in &r.creators {
            assert_eq!(sum(&c.by_source), c.tally, "{} creator {}", r.policy, c.id);
        }
        for p in &r.posts {
            assert_eq!(sum(&p.by_source), p.tally, "{} post {}", r.policy, p.id);
        }
        let json = r.to_json().unwrap();
        assert!(
            json.contains("\"by_source\": {"),
            "by_source is an object keyed by name"
        );
    }
}

/// Iron fans through a stage whose source is "notified", then a public
/// pool under its label.
struct NotifiedThenPublic;

impl PushPolicy for NotifiedThenPublic {
    fn name(&self) -> &str {
        "notified then public"
    }
    fn next_stage<'p>(&'p self, ctx: &PushContext) -> Step<'p> {
        match ctx.history.len() {
            0 => Step::Stage(Stage {
                source: Some("notified"),
                ..Stage::new(&IronFans, Size::All, Order::Random, "iron fans")
            }),
            1 => Step::Stage(Stage::new(
                &InterestTargetedPublic,
                Size::Users(200),
                Order::Random,
                "public pool",
            )),
            _ => Step::End(PushEnd::Completed),
        }
    }
}

/// Watches through everything a "notified" stage offers, nothing else.
struct WatchesNotifiedOnly;

impl ResponseModel for WatchesNotifiedOnly {
    fn probabilities(&self, ctx: &ImpressionContext) -> Probabilities {
        Probabilities {
            watch: if ctx.source == "notified" { 1.0 } else { 0.0 },
            ..Probabilities::default()
        }
    }
}

#[test]
fn a_stage_s_source_names_its_offers_and_reaches_the_response_model() {
    let s = common::small_scenario();
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let r = sim.run(&NotifiedThenPublic, &WatchesNotifiedOnly).unwrap();
    let keys: Vec<&str> = r.platform.by_source.keys().map(String::as_str).collect();
    assert_eq!(keys, ["notified", "public pool"]);
    let notified = &r.platform.by_source["notified"];
    let public = &r.platform.by_source["public pool"];
    assert!(
        notified.impressions > 1_000 && public.impressions > 1_000,
        "{notified:?} {public:?}"
    );
    assert_eq!(notified.watches, notified.impressions);
    assert_eq!(public.watches, 0);
    // The iron fans' impressions are all the notified source's.
    assert_eq!(notified.impressions, notified.iron_fan_impressions);
}
