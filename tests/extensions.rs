//! The library extended from outside, without editing it: a stage with a
//! source of its own, which reports count and the response model sees; a
//! channel that offers posts outside the policy; a response event of a
//! model's own; and a feed in which the viewer draws (covers clicked at
//! random from the viewer's keyed stream), bit-identical at any thread
//! count.

mod common;

use std::sync::Arc;

use rand::RngExt;

use feedsim::audience::{InterestTargetedPublic, IronFans};
use feedsim::channel::{Channel, ChannelView};
use feedsim::feed::{Candidate, Feed, Viewer};
use feedsim::metrics::{BySource, Tally};
use feedsim::policy::{Order, PushContext, PushEnd, PushPolicy, Size, Stage, Step};
use feedsim::response::{ImpressionContext, Outcome, Probabilities, Relation, ResponseDraw, ResponseModel, event};
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

/// Offers each post again to the users who liked it in the round before,
/// and counts the users it names.
struct Relike(std::sync::atomic::AtomicU64);

impl Channel for Relike {
    fn source(&self) -> &'static str {
        "relike"
    }
    fn offer(&self, v: &ChannelView, out: &mut Vec<u32>) {
        out.extend(v.likers().iter().map(|l| l.user));
        self.0
            .fetch_add(v.likers().len() as u64, std::sync::atomic::Ordering::Relaxed);
    }
    fn wants_likers(&self) -> bool {
        true
    }
}

/// The ladder's public walk keeps its offers out of the post's set while it
/// walks (it never meets a user twice in a day); a channel's offers are
/// still tested against them. Every user the channel names was offered the
/// post by the walk in an earlier round, so none is offered again.
#[test]
fn a_channel_cannot_repeat_the_public_walk_s_offers() {
    let mut s = common::small_scenario();
    s.attention.mode = AttentionMode::Unlimited;
    let world = World::generate(&s).unwrap();
    let relike = Arc::new(Relike(Default::default()));
    let sim = Simulation::new(&s, &world).unwrap().with_channel(relike.clone());
    let policy = &s.public_pool_ladder;
    let (with, trace) = sim.trace(policy, &s.response).unwrap();
    let named = relike.0.load(std::sync::atomic::Ordering::Relaxed);
    assert!(named > 100, "the channel named {named} likers");
    assert!(!with.platform.by_source.contains_key("relike"), "repeats are dropped");
    common::assert_once_per_user(&trace);
    // Nothing it named was offered, so the run is the run without it.
    let without = Simulation::new(&s, &world).unwrap().run(policy, &s.response).unwrap();
    assert_eq!(with.platform.tally, without.platform.tally);
    // Bit-identical at any thread count.
    common::same_at_any_thread_count(&sim, &s, policy);
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
    common::assert_once_per_user(&trace);
    let mut from_channel = 0u64;
    for i in &trace {
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
    common::same_at_any_thread_count(&sim, &s, &policy);
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

/// The scenario's model plus an event of its own, drawn after the standard
/// sequence from the same stream: a completed view is saved to favourites
/// with probability 0.3 (our test's figure).
struct WithSaves<'a>(&'a dyn ResponseModel, &'static [&'static str]);

const SAVE: u32 = 1 << event::FIRST_EXTRA;

impl ResponseModel for WithSaves<'_> {
    fn probabilities(&self, ctx: &ImpressionContext) -> Probabilities {
        self.0.probabilities(ctx)
    }
    fn watch_probability(&self, ctx: &ImpressionContext) -> f64 {
        self.0.watch_probability(ctx)
    }
    fn draw(&self, ctx: &ImpressionContext, p_watch: Option<f64>, d: &mut ResponseDraw) -> Outcome {
        let mut out = d.standard(self, ctx, p_watch);
        if out.completed && d.chance(0.3) {
            out.events |= SAVE;
        }
        out
    }
    fn extra_events(&self) -> &[&'static str] {
        self.1
    }
}

#[test]
fn a_response_event_of_the_model_s_own_is_counted_at_every_level() {
    let s = common::small_scenario();
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let policy = s.iron_fan_first();
    let model = WithSaves(&s.response, &["save"]);
    let (r, trace) = sim.trace(&policy, &model).unwrap();
    // The new event is drawn after the standard ones, so every built-in
    // count is what the scenario's own model gives.
    let plain = sim.run(&policy, &s.response).unwrap();
    assert_eq!(r.platform.tally, plain.platform.tally);
    assert!(plain.platform.events.is_empty());
    let saves = r.platform.events["save"];
    let watches = r.platform.tally.watches as f64;
    // Binomial: 0.3 of watches, within five standard errors.
    let se = (0.3 * 0.7 / watches).sqrt();
    assert!(
        (saves as f64 / watches - 0.3).abs() < 5.0 * se,
        "{saves} saves of {watches} watches"
    );
    let traced = trace.iter().filter(|i| i.extra_events & 1 == 1).count() as u64;
    assert_eq!(traced, saves);
    assert!(trace.iter().all(|i| i.watched || i.extra_events == 0));
    let sum = |events: &mut dyn Iterator<Item = u64>| events.sum::<u64>();
    assert_eq!(sum(&mut r.cohorts.iter().map(|c| c.events["save"])), saves);
    assert_eq!(sum(&mut r.creators.iter().map(|c| c.events["save"])), saves);
    assert_eq!(sum(&mut r.posts.iter().map(|p| p.events["save"])), saves);
    assert!(r.to_json().unwrap().contains("\"events\": {"));
    // Bit-identical at any thread count.
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| sim.run(&policy, &model).unwrap().to_json().unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    // Two events of one name are refused, naming the second.
    let twice = WithSaves(&s.response, &["save", "save"]);
    let e = sim.run(&policy, &twice).unwrap_err();
    assert_eq!(e.field(), Some("response.extra_events[1]"), "{e}");
}
