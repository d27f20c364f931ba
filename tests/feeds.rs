//! The documents' other feeds, end to end on a small world: Kuaishou's
//! double-column feed (plays only from clicked covers) and the followed tab
//! (plays only of followed accounts), each bit-identical at any thread
//! count, with `by_source` summing to the platform tally.

mod common;

use feedsim::feed::{DoubleColumn, FOLLOWED_TAB, FeedSpec, FollowedTab};
use feedsim::metrics::{BySource, Tally, Tier};
use feedsim::policy::PushPolicy;
use feedsim::response::Relation;
use feedsim::{Scenario, Simulation, World};

fn sum(by_source: &BySource) -> Tally {
    by_source.values().fold(Tally::default(), |a, t| a.sum(*t))
}

fn policies(s: &Scenario) -> Vec<Box<dyn PushPolicy>> {
    vec![Box::new(s.public_pool_ladder.clone()), Box::new(s.iron_fan_first())]
}

/// Every play is a clicked cover, every level's sources sum to its tally.
fn check_covers(t: &Tally, what: &str) {
    assert_eq!(t.cover_clicks, t.impressions, "{what}: a play without a click: {t:?}");
    assert!(t.covers >= t.cover_clicks, "{what}: {t:?}");
    assert!(
        t.covers - t.cover_clicks <= t.offers_not_shown,
        "{what}: unclicked covers are offers not shown: {t:?}"
    );
}

#[test]
fn the_double_column_plays_only_clicked_covers_at_any_thread_count() {
    let mut s = common::small_scenario();
    s.viewer_feed = FeedSpec::DoubleColumn(DoubleColumn::default());
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    for policy in policies(&s) {
        let r = common::same_at_any_thread_count(&sim, &s, policy.as_ref());
        let p = &r.platform.tally;
        assert!(p.impressions > 10_000, "{}: {p:?}", r.policy);
        check_covers(p, &r.policy);
        for tier in Tier::ALL {
            check_covers(r.platform.by_tier.get(tier), &format!("{} tier {tier:?}", r.policy));
        }
        for (source, t) in &r.platform.by_source {
            check_covers(t, &format!("{} source {source}", r.policy));
        }
        for c in &r.cohorts {
            check_covers(&c.tally, &format!("{} cohort {}", r.policy, c.name));
            assert_eq!(sum(&c.by_source), c.tally);
        }
        for post in &r.posts {
            check_covers(&post.tally, &format!("{} post {}", r.policy, post.id));
        }
        assert_eq!(sum(&r.platform.by_source), *p);
        // Some covers are passed over: the viewer chooses.
        let ctr = p.rates().cover_click_through;
        assert!(ctr > 0.2 && ctr < 0.8, "{}: click-through {ctr}", r.policy);
    }
}

#[test]
fn a_single_column_shows_no_covers() {
    let s = common::small_scenario();
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let r = sim.run(&s.public_pool_ladder, &s.response).unwrap();
    assert_eq!((r.platform.tally.covers, r.platform.tally.cover_clicks), (0, 0));
    assert!(r.platform.tally.impressions > 0);
}

#[test]
fn the_followed_tab_plays_only_followed_accounts_at_any_thread_count() {
    for feed in [FeedSpec::default(), FeedSpec::DoubleColumn(DoubleColumn::default())] {
        let mut s = common::small_scenario();
        s.viewer_feed = feed;
        s.followed_tab = Some(FollowedTab { share: 0.2 });
        let world = World::generate(&s).unwrap();
        let sim = Simulation::new(&s, &world).unwrap();
        assert!(
            sim.feed().name().ends_with("with a followed tab"),
            "{}",
            sim.feed().name()
        );
        for policy in policies(&s) {
            let r = common::same_at_any_thread_count(&sim, &s, policy.as_ref());
            let tab = r.platform.by_source[FOLLOWED_TAB];
            assert!(tab.impressions > 1_000, "{}: {tab:?}", r.policy);
            assert_eq!(
                tab.public_impressions, 0,
                "{}: a stranger in the followed tab",
                r.policy
            );
            assert_eq!(sum(&r.platform.by_source), r.platform.tally);
            for c in &r.cohorts {
                assert_eq!(sum(&c.by_source), c.tally, "{} {}", r.policy, c.name);
            }
            // Impression by impression: each tab play is of an account the
            // viewer follows.
            let (_, log) = sim.trace(policy.as_ref(), &s.response).unwrap();
            let in_tab: Vec<_> = log.iter().filter(|i| i.source == FOLLOWED_TAB).collect();
            assert_eq!(in_tab.len() as u64, tab.impressions);
            for i in in_tab {
                assert_ne!(i.relation, Relation::Stranger, "{}: {i:?}", r.policy);
                let creator = sim.posts()[i.post as usize].creator;
                assert!(world.graph().relation(creator, i.user).1.is_some(), "{i:?}");
            }
        }
    }
}

/// A feed asked about every viewer: `inner` with the engine's skip of
/// viewers it need not rank turned off.
struct AskedAboutEveryone(std::sync::Arc<dyn feedsim::feed::Feed>);

impl feedsim::feed::Feed for AskedAboutEveryone {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn runs_for_every_viewer(&self) -> bool {
        true
    }
    fn choose(&self, v: &feedsim::feed::Viewer, c: &[feedsim::feed::Candidate], room: usize, chosen: &mut Vec<usize>) {
        self.0.choose(v, c, room, chosen)
    }
    fn choose_covers(
        &self,
        v: &feedsim::feed::Viewer,
        c: &[feedsim::feed::Candidate],
        room: usize,
        chosen: &mut Vec<usize>,
        covers: &mut Vec<usize>,
    ) {
        self.0.choose_covers(v, c, room, chosen, covers)
    }
}

#[test]
fn the_tab_is_asked_only_about_viewers_it_has_a_say_for_with_the_same_result() {
    // The engine skips ranking a viewer whose offers fit the room and hold
    // no tab post (Feed::runs_for); asking the tab about everyone must give
    // the same run.
    for feed in [FeedSpec::default(), FeedSpec::DoubleColumn(DoubleColumn::default())] {
        let mut s = common::small_scenario();
        s.viewer_feed = feed;
        s.followed_tab = Some(FollowedTab { share: 0.2 });
        let world = World::generate(&s).unwrap();
        let sim = Simulation::new(&s, &world).unwrap();
        let everyone = Simulation::new(&s, &world)
            .unwrap()
            .with_feed(std::sync::Arc::new(AskedAboutEveryone(
                FollowedTab { share: 0.2 }.around(std::sync::Arc::new(s.viewer_feed.clone())),
            )));
        for policy in policies(&s) {
            let a = sim.run(policy.as_ref(), &s.response).unwrap();
            let b = everyone.run(policy.as_ref(), &s.response).unwrap();
            assert!(a.platform.by_source[FOLLOWED_TAB].impressions > 0);
            assert_eq!(a.to_json().unwrap(), b.to_json().unwrap(), "{}", a.policy);
        }
    }
}

#[test]
fn a_tab_with_no_share_plays_nothing_and_no_table_changes_nothing() {
    let s = common::small_scenario();
    let world = World::generate(&s).unwrap();
    let plain = Simulation::new(&s, &world).unwrap();
    let mut shut = s.clone();
    shut.followed_tab = Some(FollowedTab { share: 0.0 });
    let tab = Simulation::new(&shut, &world).unwrap();
    for policy in policies(&s) {
        let r = tab.run(policy.as_ref(), &s.response).unwrap();
        let t = r.platform.by_source.get(FOLLOWED_TAB).copied().unwrap_or_default();
        assert_eq!(t.impressions, 0, "{}: {t:?}", r.policy);
        // Without the table the scenario is the default one: the same
        // report as before the tab existed (the goldens pin that too).
        let a = plain.run(policy.as_ref(), &s.response).unwrap();
        assert!(a.platform.by_source.get(FOLLOWED_TAB).is_none());
    }
}

#[test]
fn the_scenario_file_turns_the_feeds_on_and_refuses_bad_values_by_name() {
    let base = include_str!("../scenarios/default.toml");
    let s = Scenario::from_toml_str(&format!("{base}\n[followed_tab]\nshare = 0.25\n")).unwrap();
    assert_eq!(s.followed_tab, Some(FollowedTab { share: 0.25 }));
    let s = Scenario::from_toml_str(&format!("{base}\n[followed_tab]\n")).unwrap();
    assert_eq!(s.followed_tab, Some(FollowedTab::default()));
    let e = Scenario::from_toml_str(&format!("{base}\n[followed_tab]\nshare = 1.5\n")).unwrap_err();
    assert_eq!(e.field(), Some("followed_tab.share"), "{e}");
    let ks = Scenario::from_file("scenarios/kuaishou_double_column.toml").unwrap();
    assert_eq!(ks.viewer_feed, FeedSpec::DoubleColumn(DoubleColumn::default()));
    let text = std::fs::read_to_string("scenarios/kuaishou_double_column.toml").unwrap();
    for (from, to, field) in [
        (
            "covers_per_screen = 4",
            "covers_per_screen = 0",
            "viewer_feed.covers_per_screen",
        ),
        (
            "screens_per_slot = 10",
            "screens_per_slot = 0",
            "viewer_feed.screens_per_slot",
        ),
        (
            "click_through = 0.3",
            "click_through = 1.0",
            "viewer_feed.click_through",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let e = Scenario::from_toml_str(&text.replace(from, to)).unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
}

/// The small world with a category bonus named in its scenario text.
fn with_bonus(table: &str) -> Scenario {
    let base = include_str!("../scenarios/default.toml");
    let mut s = Scenario::from_toml_str(&format!("{base}\n[category_bonus]\n{table}\n"))
        .unwrap()
        .scaled(30_000);
    s.name = "small".into();
    s
}

#[test]
fn a_neutral_category_bonus_changes_nothing_bit_for_bit() {
    let plain = common::small_scenario();
    let world = World::generate(&plain).unwrap();
    let neutral = with_bonus("ranking = { 0 = 1.0, 7 = 1.0 }\npools = { 3 = 1.0 }");
    let (a, b) = (
        Simulation::new(&plain, &world).unwrap(),
        Simulation::new(&neutral, &world).unwrap(),
    );
    for policy in policies(&plain) {
        let x = a.run(policy.as_ref(), &plain.response).unwrap().to_json().unwrap();
        let y = b.run(policy.as_ref(), &plain.response).unwrap().to_json().unwrap();
        assert!(x == y, "a neutral bonus changed the report");
        // The pool wrapper itself, with every weight 1, changes nothing.
        let ones = vec![1.0; plain.feed.categories as usize];
        let wrapped = feedsim::category_bonus::PoolBonus::new(policy.as_ref(), &ones);
        assert!(a.run(&wrapped, &plain.response).unwrap().to_json().unwrap() == x);
    }
}

#[test]
fn a_promoted_category_gains_reach_and_the_others_pay_for_it_at_any_thread_count() {
    let plain = common::small_scenario();
    let world = World::generate(&plain).unwrap();
    let categories = plain.feed.categories as usize;
    let base = Simulation::new(&plain, &world).unwrap();
    for (table, name) in [("pools = { 0 = 3.0 }", "pools"), ("ranking = { 0 = 3.0 }", "ranking")] {
        let s = with_bonus(table);
        let sim = Simulation::new(&s, &world).unwrap();
        for policy in policies(&s) {
            let r = common::same_at_any_thread_count(&sim, &s, policy.as_ref());
            let before = base.run(policy.as_ref(), &s.response).unwrap();
            let (x, y) = (r.by_category(categories), before.by_category(categories));
            assert!(
                x[0].impressions as f64 > 1.2 * y[0].impressions as f64,
                "{name}, {}: category 0 {} against {}",
                r.policy,
                x[0].impressions,
                y[0].impressions
            );
            let others = |t: &[Tally]| t[1..].iter().map(|t| t.impressions).sum::<u64>();
            if name == "ranking" {
                // The room is fixed: what the promoted category wins in the
                // feed, the others lose.
                assert!(others(&x) < others(&y), "{name}, {}", r.policy);
            }
            assert_eq!(
                x.iter().map(|t| t.impressions).sum::<u64>(),
                r.platform.tally.impressions
            );
        }
    }
}

#[test]
fn category_bonus_keys_and_weights_are_checked_by_name() {
    let base = include_str!("../scenarios/default.toml");
    for (table, field) in [
        ("pools = { 20 = 1.0 }", "category_bonus.pools.20"),
        ("ranking = { 2 = -1.0 }", "category_bonus.ranking.2"),
        ("ranking = { x = 1.0 }", "category_bonus.ranking.x"),
    ] {
        let e = Scenario::from_toml_str(&format!("{base}\n[category_bonus]\n{table}\n")).unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
    let s = Scenario::from_file("scenarios/category_bonus.toml").unwrap();
    let bonus = s.category_bonus.unwrap();
    assert_eq!(bonus.pool_weights(20)[0], 2.0);
    assert_eq!(bonus.ranking_weights(20)[0], 1.5);
}

/// The small world with WeChat Channels' friend traffic.
fn wechat() -> Scenario {
    let mut s = Scenario::from_file("scenarios/wechat_channels.toml")
        .unwrap()
        .scaled(30_000);
    s.name = "small".into();
    s.validate().unwrap();
    s
}

#[test]
fn every_friend_view_has_a_posting_or_liking_friend_on_its_path() {
    use feedsim::feed::{FRIENDS, FRIENDS_LIKED};
    use std::collections::HashSet;
    let s = wechat();
    let max_hops = s.friends.as_ref().unwrap().max_hops;
    let world = World::generate(&s).unwrap();
    let friends = world.friends().expect("the scenario has a friend graph");
    let sim = Simulation::new(&s, &world).unwrap();
    for policy in policies(&s) {
        let r = common::same_at_any_thread_count(&sim, &s, policy.as_ref());
        let (via_friends, via_likes) = (r.platform.by_source[FRIENDS], r.platform.by_source[FRIENDS_LIKED]);
        assert!(
            via_friends.impressions > 100 && via_likes.impressions > 100,
            "{}",
            r.policy
        );
        assert_eq!(sum(&r.platform.by_source), r.platform.tally);
        // Depths: every impression counted once, none past the limit.
        let depths = &r.platform.by_depth;
        assert!(
            depths.len() >= 2 && depths.len() <= usize::from(max_hops) + 1,
            "{depths:?}"
        );
        assert_eq!(depths.iter().fold(Tally::default(), |a, t| a.sum(*t)), r.platform.tally);
        let (_, log) = sim.trace(policy.as_ref(), &s.response).unwrap();
        // (post, user, depth) of every like, with its slot.
        let likes: HashSet<(u32, u32, u8)> = log
            .iter()
            .filter(|i| i.liked)
            .map(|i| (i.post, i.user, i.depth))
            .collect();
        let like_slot: std::collections::HashMap<(u32, u32), u32> = log
            .iter()
            .filter(|i| i.liked)
            .map(|i| ((i.post, i.user), i.slot))
            .collect();
        let (mut posted, mut liked) = (0, 0);
        for i in &log {
            match i.source {
                FRIENDS => {
                    let creator = sim.posts()[i.post as usize].creator;
                    assert_eq!(i.depth, 1, "{i:?}");
                    assert!(friends.are_friends(world.creator_user(creator), i.user), "{i:?}");
                    posted += 1;
                }
                FRIENDS_LIKED => {
                    assert!((1..=max_hops).contains(&i.depth), "{i:?}");
                    // A friend of the viewer liked the post, through a view
                    // one hop shallower, in an earlier slot.
                    let path = friends
                        .friends_of(i.user)
                        .iter()
                        .any(|&f| likes.contains(&(i.post, f, i.depth - 1)) && like_slot[&(i.post, f)] < i.slot);
                    assert!(path, "no liking friend on the path of {i:?}");
                    liked += 1;
                }
                _ => assert_eq!(i.depth, 0, "{i:?}"),
            }
        }
        assert_eq!(posted, via_friends.impressions);
        assert_eq!(liked, via_likes.impressions);
    }
}

#[test]
fn friend_traffic_needs_a_world_with_friends_and_checks_its_fields() {
    let s = wechat();
    let plain = common::small_scenario();
    let world = World::generate(&plain).unwrap();
    let e = Simulation::new(&s, &world).unwrap_err();
    assert_eq!(e.field(), Some("friends"), "{e}");
    let text = std::fs::read_to_string("scenarios/wechat_channels.toml").unwrap();
    for (from, to, field) in [
        ("max_hops = 3", "max_hops = 0", "friends.max_hops"),
        ("weight = 2.0", "weight = -1.0", "friends.weight"),
        ("degree_median = 60.0", "degree_median = 0.0", "friends.degree_median"),
        ("degree_sigma = 0.8", "degree_sigma = 9.0", "friends.degree_sigma"),
    ] {
        assert!(text.contains(from), "{from}");
        let e = Scenario::from_toml_str(&text.replace(from, to)).unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
    // Every creator's account is a user: more creators than users is refused.
    let mut few = s.clone();
    few.users.count = 100;
    for c in &mut few.cohorts {
        c.followers.max = c.followers.max.min(100);
        c.followers.min = c.followers.min.min(c.followers.max);
    }
    assert!(few.validate().is_err());
}

/// The small world with sharing with commission on the friend graph.
fn fission(commission: f64) -> Scenario {
    let mut s = Scenario::from_file("scenarios/fission.toml").unwrap().scaled(30_000);
    s.name = "small".into();
    s.fission.as_mut().unwrap().commission = commission;
    s.validate().unwrap();
    s
}

#[test]
fn commission_is_the_rate_times_the_gmv_shares_bring_and_generations_stay_within_the_limit() {
    use feedsim::feed::SHARE;
    use std::collections::HashMap;
    let s = fission(0.1);
    let f = s.fission.unwrap();
    let world = World::generate(&s).unwrap();
    let friends = world.friends().unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    for policy in policies(&s) {
        let r = common::same_at_any_thread_count(&sim, &s, policy.as_ref());
        let (_, log) = sim.trace(policy.as_ref(), &s.response).unwrap();
        // Who shared which post, through which generation, when.
        let shared: HashMap<(u32, u32), (u8, u32)> = log
            .iter()
            .filter(|i| i.shared)
            .map(|i| ((i.post, i.user), (if i.source == SHARE { i.depth } else { 0 }, i.slot)))
            .collect();
        let (mut owed, mut views, mut share_gmv) = (0u64, 0u64, 0u64);
        for i in log.iter().filter(|i| i.source == SHARE) {
            assert!((1..=f.max_generations).contains(&i.depth), "{i:?}");
            // A friend of the viewer shared the post one generation up,
            // in an earlier slot.
            let path = friends.friends_of(i.user).iter().any(|&u| {
                shared
                    .get(&(i.post, u))
                    .is_some_and(|&(g, slot)| g + 1 == i.depth && slot < i.slot)
            });
            assert!(path, "no sharing friend on the path of {i:?}");
            views += 1;
            if i.ordered {
                let price = sim.posts()[i.post as usize].price_fen;
                owed += f.commission_fen(price);
                share_gmv += u64::from(price);
            }
        }
        let by_share = r.platform.by_source[SHARE];
        assert_eq!(views, by_share.impressions);
        assert_eq!(share_gmv, by_share.gmv_fen);
        assert_eq!(r.platform.commission_fen, owed, "{}", r.policy);
        // Each order's commission is rounded down: at most one fen each.
        let exact = 0.1 * share_gmv as f64;
        assert!(owed as f64 <= exact && exact - owed as f64 <= by_share.orders as f64);
        let generations = &r.platform.by_source_depth[SHARE];
        assert!(generations.len() <= usize::from(f.max_generations) + 1);
        assert_eq!(
            generations.iter().skip(1).map(|t| t.impressions).sum::<u64>(),
            by_share.impressions
        );
        assert!(by_share.impressions > 100, "{}: {by_share:?}", r.policy);
    }
}

#[test]
fn a_commission_makes_viewers_share_more() {
    let (none, half) = (fission(0.0), fission(0.5));
    let world = World::generate(&none).unwrap();
    let rate = |s: &Scenario| {
        let r = Simulation::new(s, &world)
            .unwrap()
            .run(&s.public_pool_ladder, &s.response)
            .unwrap();
        let t = r.platform.by_depth[0];
        (
            t.shares as f64 / t.watches as f64,
            t.watches as f64,
            r.platform.commission_fen,
        )
    };
    let ((a, n, paid_none), (b, _, paid_half)) = (rate(&none), rate(&half));
    // Shares per watch-through (about 0.1%/0.3, so binomial): with a 50%
    // commission the share logit rises by 1.5 on posts with a product.
    let se = (a * (1.0 - a) / n).sqrt();
    assert!(b > a + 5.0 * se, "{a} -> {b} (se {se})");
    assert_eq!(paid_none, 0);
    assert!(paid_half > 0);
}

#[test]
fn fission_fields_are_checked_by_name() {
    let text = std::fs::read_to_string("scenarios/fission.toml").unwrap();
    for (from, to, field) in [
        ("commission = 0.1", "commission = 1.5", "fission.commission"),
        ("max_generations = 3", "max_generations = 0", "fission.max_generations"),
    ] {
        assert!(text.contains(from), "{from}");
        let e = Scenario::from_toml_str(&text.replace(from, to)).unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
    // Sharing to friends needs a friend graph.
    let base = include_str!("../scenarios/default.toml");
    let e = Scenario::from_toml_str(&format!("{base}\n[fission]\ncommission = 0.1\n")).unwrap_err();
    assert_eq!(e.field(), Some("fission.audience"), "{e}");
    let s = Scenario::from_toml_str(&format!("{base}\n[fission]\naudience = \"followers\"\n")).unwrap();
    assert_eq!(s.fission.unwrap().audience, feedsim::feed::ShareAudience::Followers);
}

#[test]
fn equal_rights_caps_only_head_creators_public_offers() {
    use feedsim::policy::EqualRights;
    let s = common::small_scenario();
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let (head, cap) = (5_000, 700);
    let equal = EqualRights::with_cap(&s.public_pool_ladder, head, cap);
    let r = common::same_at_any_thread_count(&sim, &s, &equal);
    assert_eq!(r.policy, "public-pool ladder, equal rights");
    let plain = sim.run(&s.public_pool_ladder, &s.response).unwrap();
    let offers = |p: &feedsim::metrics::PostReport| {
        p.by_source
            .get("public pool")
            .map_or(0, |t| t.impressions + t.offers_not_shown)
    };
    let (mut capped, mut above_cap_before) = (0, 0);
    for (p, q) in r.posts.iter().zip(&plain.posts) {
        assert_eq!(p.id, q.id);
        if r.creators[p.creator as usize].followers >= head {
            assert!(offers(p) <= cap, "post {}: {} public offers", p.id, offers(p));
            capped += 1;
            above_cap_before += usize::from(offers(q) > cap);
        }
    }
    assert!(capped > 0 && above_cap_before > 0, "the cap must bind somewhere");
    // Nobody else is capped: some small creator's post still gets more.
    assert!(
        r.posts
            .iter()
            .any(|p| r.creators[p.creator as usize].followers < head && offers(p) > cap)
    );
    assert!(EqualRights::with_cap(&s.public_pool_ladder, 0, cap).validate().is_err());
}

#[test]
fn each_feed_scenario_is_the_default_world_with_its_own_tables() {
    let default = Scenario::default_scenario();
    for file in [
        "scenarios/kuaishou_double_column.toml",
        "scenarios/wechat_channels.toml",
        "scenarios/fission.toml",
        "scenarios/category_bonus.toml",
    ] {
        let s = Scenario::from_file(file).unwrap();
        let mut rest = s.clone();
        rest.name = default.name.clone();
        rest.viewer_feed = default.viewer_feed.clone();
        rest.friends = None;
        rest.fission = None;
        rest.category_bonus = None;
        assert_eq!(rest, default, "{file} differs from default.toml beyond its own tables");
        let own = (
            s.viewer_feed != default.viewer_feed,
            s.friends.is_some(),
            s.fission.is_some(),
            s.category_bonus.is_some(),
        );
        assert_ne!(own, (false, false, false, false), "{file} has no table of its own");
    }
}
