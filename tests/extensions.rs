//! The library extended from outside, without editing it: a stage with a
//! source of its own, which reports count and the response model sees; a
//! channel that offers posts outside the policy; and a feed in which the
//! viewer draws (covers clicked at random from the viewer's keyed stream),
//! bit-identical at any thread count.

mod common;

use std::sync::Arc;

use rand::RngExt;

use feedsim::audience::{InterestTargetedPublic, IronFans};
use feedsim::channel::{Channel, ChannelView};
use feedsim::feed::{Candidate, Feed, Viewer};
use feedsim::metrics::{BySource, Tally};
use feedsim::policy::{Order, PushContext, PushEnd, PushPolicy, Size, Stage, Step};
use feedsim::response::{ImpressionContext, Probabilities, Relation, ResponseModel};
use feedsim::scenario::AttentionMode;
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

/// Every offered cover is clicked with probability one half, drawn from the
/// viewer's stream for the post; clicked covers are watched, in offer
/// order, as far as the room goes. Runs for every viewer.
struct Covers;

impl Feed for Covers {
    fn name(&self) -> &str {
        "covers"
    }
    fn runs_for_every_viewer(&self) -> bool {
        true
    }
    fn choose(&self, viewer: &Viewer, candidates: &[Candidate], room: usize, chosen: &mut Vec<usize>) {
        for (i, c) in candidates.iter().enumerate() {
            if chosen.len() < room && viewer.stream(c.post).random::<f64>() < 0.5 {
                chosen.push(i);
            }
        }
    }
}

#[test]
fn a_feed_that_draws_is_bit_identical_at_any_thread_count() {
    let mut s = common::small_scenario();
    // Sessions long enough that the room never binds: what is shown is
    // what the viewers clicked.
    s.attention.daily_median = 10_000.0;
    s.attention.daily_mean = 10_000.0;
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap().with_feed(Arc::new(Covers));
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| sim.run(&s.public_pool_ladder, &s.response).unwrap().to_json().unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    let r = sim.run(&s.public_pool_ladder, &s.response).unwrap();
    let t = &r.platform.tally;
    let offers = (t.impressions + t.offers_not_shown) as f64;
    let shown = t.impressions as f64 / offers;
    // Binomial: one half, within five standard errors.
    assert!(
        (shown - 0.5).abs() < 5.0 * (0.25 / offers).sqrt(),
        "{shown} of {offers} offers"
    );
    assert!(offers > 100_000.0, "{offers}");
}

/// In the slot a post is published, offers it to every follower of its
/// creator (a notification; our test's mechanism, not a documented one),
/// plus ids no engine should accept: one past the last user and a repeat.
struct NotifyFollowers;

impl Channel for NotifyFollowers {
    fn source(&self) -> &'static str {
        "notification"
    }
    fn offer(&self, v: &ChannelView, out: &mut Vec<u32>) {
        let a = &v.audience;
        if v.slot != a.post.slot {
            return;
        }
        let (iron, other) = a.graph.sections(a.post.creator);
        out.extend(iron.chain(other).map(|e| a.graph.edge_user(e)));
        out.push(a.world.users().len() as u32);
        if let Some(&first) = out.first() {
            out.push(first);
        }
    }
}

/// Offers what [`NotifyFollowers`] offers, again, under another source: all
/// of it must be dropped (a user is offered a post once, whoever offers).
struct Again;

impl Channel for Again {
    fn source(&self) -> &'static str {
        "again"
    }
    fn offer(&self, v: &ChannelView, out: &mut Vec<u32>) {
        NotifyFollowers.offer(v, out);
    }
}

#[test]
fn a_channel_offers_outside_the_policy_counted_under_its_source() {
    let mut s = common::small_scenario();
    s.attention.mode = AttentionMode::Unlimited;
    let world = World::generate(&s).unwrap();
    let plain = Simulation::new(&s, &world).unwrap();
    let sim = Simulation::new(&s, &world)
        .unwrap()
        .with_channel(Arc::new(NotifyFollowers))
        .with_channel(Arc::new(Again));
    let policy = s.iron_fan_first();
    let (r, trace) = sim.trace(&policy, &s.response).unwrap();
    let notified = &r.platform.by_source["notification"];
    assert!(notified.impressions > 1_000, "{notified:?}");
    assert!(!r.platform.by_source.contains_key("again"), "repeats are dropped");
    // Sources still sum to every level's tally.
    assert_eq!(sum(&r.platform.by_source), r.platform.tally);
    for p in &r.posts {
        assert_eq!(sum(&p.by_source), p.tally, "post {}", p.id);
        // The stages' records hold the stages' impressions only.
        let stages: u64 = p.stage_impressions.iter().sum();
        let channel = p.by_source.get("notification").map_or(0, |t| t.impressions);
        assert_eq!(stages + channel, p.tally.impressions, "post {}", p.id);
    }
    // Each channel impression: a follower, in the publish slot, once.
    let graph = world.graph();
    let mut pairs = std::collections::HashSet::new();
    let mut from_channel = 0u64;
    for i in &trace {
        assert!(
            pairs.insert((i.post, i.user)),
            "post {} shown to {} twice",
            i.post,
            i.user
        );
        if i.source == "notification" {
            let post = &sim.posts()[i.post as usize];
            assert_eq!(i.slot, post.slot);
            assert_ne!(graph.relation(post.creator, i.user).0, Relation::Stranger);
            from_channel += 1;
        }
    }
    assert_eq!(from_channel, notified.impressions);
    // The gate judges the stage's own offers: the first stage (made before
    // the channel in the publish slot) is what it was without the channel.
    let before = plain.run(&policy, &s.response).unwrap();
    for (a, b) in before.posts.iter().zip(&r.posts) {
        assert_eq!(a.stage_impressions[0], b.stage_impressions[0], "post {}", a.id);
    }
    // Bit-identical at any thread count.
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| sim.run(&policy, &s.response).unwrap().to_json().unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}

#[test]
fn more_channels_than_an_offer_can_name_are_refused() {
    let s = common::small_scenario();
    let world = World::generate(&s).unwrap();
    let mut sim = Simulation::new(&s, &world).unwrap();
    for _ in 0..=feedsim::channel::MAX_CHANNELS {
        sim = sim.with_channel(Arc::new(Again));
    }
    let e = sim.run(&s.public_pool_ladder, &s.response).unwrap_err();
    assert_eq!(e.field(), Some("channels"), "{e}");
}
