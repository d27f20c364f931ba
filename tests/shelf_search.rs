//! Shelf and search (`[shelf_search]`, "people find goods"): orders through
//! them come only from a seeded or standing intent, listings are counted
//! apart from posts, a product is found more often the more it has been
//! shown and sold, offline products are never listed, without intent the
//! run is the run without shelf and search, results are the same at any
//! thread count, and bad parameters are refused by name.

mod common;

use feedsim::metrics::{BySource, Report, Tally};
use feedsim::policy::PushPolicy;
use feedsim::scenario::Sale;
use feedsim::shelf::{SEARCH, SHELF, ShelfSearchParams};
use feedsim::{Scenario, Simulation, World};

/// The default world at 30,000 users over `days` days with shelf and search.
fn scenario(params: ShelfSearchParams, days: u32) -> Scenario {
    let mut s = common::small_scenario();
    s.feed.days = days;
    s.shelf_search = Some(params);
    s.validate().unwrap();
    s
}

fn run(s: &Scenario, policy: &dyn PushPolicy) -> Report {
    let world = World::generate(s).unwrap();
    Simulation::new(s, &world).unwrap().run(policy, &s.response).unwrap()
}

fn ladder_run(s: &Scenario) -> Report {
    run(s, &s.public_pool_ladder)
}

fn listings(by: &BySource) -> Tally {
    let get = |k| by.get(k).copied().unwrap_or_default();
    get(SEARCH).sum(get(SHELF))
}

/// Orders through shelf and search.
fn shop_orders(r: &Report) -> u64 {
    listings(&r.platform.by_source).orders
}

#[test]
fn without_intent_nothing_is_searched_and_the_run_is_the_run_without_shelf_and_search() {
    let quiet = ShelfSearchParams {
        seed_per_view: 0.0,
        seed_per_click: 0.0,
        ..Default::default()
    };
    let s = scenario(quiet, 3);
    let mut with = ladder_run(&s);
    let shelf = with
        .platform
        .shelf_search
        .take()
        .expect("the report has a shelf_search section");
    assert_eq!(
        (shelf.searches, shelf.shelf_visits, shelf.users_with_intent_end),
        (0, 0, 0)
    );
    let mut plain = s.clone();
    plain.shelf_search = None;
    let without = ladder_run(&plain);
    assert!(without.platform.shelf_search.is_none());
    with.scenario = without.scenario.clone();
    assert_eq!(with.to_json().unwrap(), without.to_json().unwrap());
}

#[test]
fn every_shelf_or_search_order_follows_a_seeding_impression_or_a_standing_intent() {
    // Seeded only: each order has a lag, none is standing.
    let days = 4;
    let r = ladder_run(&scenario(ShelfSearchParams::default(), days));
    let s = r.platform.shelf_search.as_ref().unwrap();
    let orders = shop_orders(&r);
    assert!(orders > 20, "too few orders to test: {orders}");
    assert_eq!(s.standing_orders, 0);
    assert_eq!(s.orders_by_lag_days.iter().sum::<u64>(), orders, "{s:?}");
    // Days run: the posting days and the drain after them.
    let run_days = r.slots.div_ceil(24) as usize;
    assert!(s.orders_by_lag_days.len() <= run_days, "{s:?}");
    assert!(s.searches > 0 && s.shelf_visits > 0);
    // Some orders lag their seeding by a day or more.
    assert!(s.orders_by_lag_days[1..].iter().sum::<u64>() > 0, "{s:?}");

    // Standing only: no content seeds, every order is standing.
    let standing = ShelfSearchParams {
        seed_per_view: 0.0,
        seed_per_click: 0.0,
        standing_intent: 0.5,
        ..Default::default()
    };
    let r = ladder_run(&scenario(standing, 2));
    let s = r.platform.shelf_search.as_ref().unwrap();
    assert!(shop_orders(&r) > 0);
    assert_eq!(s.orders_by_lag_days.iter().sum::<u64>(), 0);
    assert_eq!(s.standing_orders, shop_orders(&r));
    // Everyone holds the standing intent at the end.
    assert_eq!(s.users_with_intent_end, u64::from(r.platform.users));
}

#[test]
fn listings_are_counted_apart_from_posts_at_every_level() {
    let s = scenario(ShelfSearchParams::default(), 3);
    let r = ladder_run(&s);
    let price_fen = |cohort: u16| {
        let p = s.cohorts[usize::from(cohort)].product.unwrap();
        (p.price_yuan * 100.0).round() as u64
    };
    let mut total = Tally::default();
    for c in &r.creators {
        // The posts' sources still sum to the tally.
        let posts = c
            .by_source
            .iter()
            .filter(|(k, _)| *k != SEARCH && *k != SHELF)
            .fold(Tally::default(), |a, (_, t)| a.sum(*t));
        assert_eq!(posts, c.tally, "creator {}", c.id);
        for k in [SEARCH, SHELF] {
            let Some(t) = c.by_source.get(k) else { continue };
            assert!(t.impressions > 0, "a listed source has listings");
            assert_eq!(
                t.impressions,
                t.iron_fan_impressions + t.fan_impressions + t.public_impressions
            );
            assert!(
                t.clicks <= t.impressions && t.orders <= t.clicks,
                "creator {} {k}: {t:?}",
                c.id
            );
            assert_eq!(t.gmv_fen, t.orders * price_fen(c.cohort), "creator {} {k}", c.id);
            assert!(t.fan_gmv_fen <= t.gmv_fen && t.repurchases <= t.orders);
            assert_eq!(t.watches + t.likes + t.follows, 0, "a listing is not a play");
        }
        total.add(&listings(&c.by_source));
    }
    assert!(total.impressions > 0);
    // Cohorts and the platform sum their creators'.
    let cohorts = r
        .cohorts
        .iter()
        .fold(Tally::default(), |a, c| a.sum(listings(&c.by_source)));
    assert_eq!(cohorts, total);
    assert_eq!(listings(&r.platform.by_source), total);
    // By channel: the feed is the posts' tally.
    let ch = r.platform.by_source.by_channel();
    assert_eq!(ch.feed, r.platform.tally);
    assert_eq!(ch.search.sum(ch.shelf), total);
    assert_eq!(ch.gmv_fen(), r.platform.tally.gmv_fen + total.gmv_fen);
}

#[test]
fn a_product_is_found_more_often_the_more_it_was_shown_and_sold() {
    // The share of listings going to the tenth of listed creators with the
    // most product impressions, with and without the weight.
    let top_share = |exponent: f64| {
        let p = ShelfSearchParams {
            exposure_exponent: exponent,
            sales_exponent: exponent,
            ..Default::default()
        };
        let r = ladder_run(&scenario(p, 3));
        let mut c: Vec<(u64, u64)> = r
            .creators
            .iter()
            .map(|c| (c.tally.impressions, listings(&c.by_source).impressions))
            .collect();
        c.sort_unstable_by(|a, b| b.cmp(a));
        let all: u64 = c.iter().map(|x| x.1).sum();
        let top: u64 = c[..c.len() / 10].iter().map(|x| x.1).sum();
        assert!(all > 10_000, "{all} listings");
        top as f64 / all as f64
    };
    let (flat, weighted) = (top_share(0.0), top_share(1.0));
    assert!(
        weighted > 1.5 * flat,
        "top tenth's share of listings: {weighted} weighted, {flat} flat"
    );
}

#[test]
fn offline_products_are_neither_seeded_nor_listed() {
    let mut s = scenario(ShelfSearchParams::default(), 2);
    for c in &mut s.cohorts {
        if let Some(p) = &mut c.product {
            p.sale = Sale::Offline;
        }
    }
    let r = ladder_run(&s);
    assert!(r.platform.tally.leads > 0);
    let shelf = r.platform.shelf_search.as_ref().unwrap();
    assert_eq!(
        (shelf.searches, shelf.shelf_visits, shelf.users_with_intent_end),
        (0, 0, 0)
    );
    assert_eq!(listings(&r.platform.by_source), Tally::default());
}

#[test]
fn shelf_and_search_are_the_same_at_any_thread_count() {
    let s = scenario(ShelfSearchParams::default(), 2);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    for policy in [&s.public_pool_ladder as &dyn PushPolicy, &s.iron_fan_first()] {
        let one = common::same_at_any_thread_count(&sim, &s, policy).to_json().unwrap();
        assert!(one.contains("\"search\""), "{}: no search listings", policy.name());
    }
}

#[test]
fn bad_shelf_search_parameters_are_refused_by_name() {
    let d = ShelfSearchParams::default();
    let cases: Vec<(ShelfSearchParams, &str)> = vec![
        (
            ShelfSearchParams {
                seed_per_view: 1.5,
                ..d
            },
            "shelf_search.seed_per_view",
        ),
        (
            ShelfSearchParams {
                seed_per_click: -0.1,
                ..d
            },
            "shelf_search.seed_per_click",
        ),
        (
            ShelfSearchParams {
                daily_decay: f64::NAN,
                ..d
            },
            "shelf_search.daily_decay",
        ),
        (
            ShelfSearchParams {
                standing_intent: 2.0,
                ..d
            },
            "shelf_search.standing_intent",
        ),
        (ShelfSearchParams { search_rate: 1.01, ..d }, "shelf_search.search_rate"),
        (ShelfSearchParams { shelf_rate: -1.0, ..d }, "shelf_search.shelf_rate"),
        (
            ShelfSearchParams {
                search_listings: 0,
                ..d
            },
            "shelf_search.search_listings",
        ),
        (
            ShelfSearchParams {
                shelf_listings: 101,
                ..d
            },
            "shelf_search.shelf_listings",
        ),
        (
            ShelfSearchParams {
                exposure_exponent: -0.5,
                ..d
            },
            "shelf_search.exposure_exponent",
        ),
        (
            ShelfSearchParams {
                sales_exponent: f64::INFINITY,
                ..d
            },
            "shelf_search.sales_exponent",
        ),
        (ShelfSearchParams { intent_lift: 11.0, ..d }, "shelf_search.intent_lift"),
    ];
    for (p, field) in cases {
        let mut s = common::small_scenario();
        s.shelf_search = Some(p);
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
    let text = std::fs::read_to_string("scenarios/shelf_search.toml").unwrap();
    let bad = text.replace("search_rate = 0.3", "search_rate = 0.3\nsearch_ratio = 0.2");
    let e = Scenario::from_toml_str(&bad).unwrap_err().to_string();
    assert!(e.contains("search_ratio"), "{e}");
}

#[test]
fn the_shipped_scenario_has_shelf_and_search_with_the_documented_defaults() {
    let s = Scenario::from_file("scenarios/shelf_search.toml").unwrap();
    assert_eq!(s.shelf_search, Some(ShelfSearchParams::default()));
    // Everything else as in the default scenario but the name, the days
    // and the waist accounts' live sessions (so that one run has all four
    // channels).
    let mut d = Scenario::default_scenario();
    d.name = s.name.clone();
    d.feed.days = s.feed.days;
    d.shelf_search = s.shelf_search;
    let waist = d.cohorts.iter_mut().find(|c| c.name == "waist").unwrap();
    waist.live = Some(feedsim::live::LiveSessions {
        sessions_per_day: 0.5,
        start_slot: 20,
        duration_min: 120,
    });
    assert_eq!(toml::to_string(&d).unwrap(), toml::to_string(&s).unwrap());
}

#[test]
fn a_warm_up_carries_the_intents_and_the_report_counts_the_measured_days() {
    let mut s = scenario(ShelfSearchParams::default(), 2);
    s.warmup = Some(feedsim::scenario::WarmupParams::new(
        2,
        feedsim::scenario::WarmupPolicy::PublicPoolLadder,
    ));
    s.validate().unwrap();
    let warmed = ladder_run(&s);
    let mut t = s.clone();
    t.feed.days = s.total_days();
    t.warmup = None;
    let whole = ladder_run(&t);
    // The measured days are the straight run's (intents, exposure and
    // sales carried over the switch)...
    let later: Vec<_> = whole.daily.iter().filter(|d| d.day >= 2).cloned().collect();
    assert_eq!(warmed.daily, later);
    // ...and the listings counted are a part of the straight run's.
    for (w, a) in warmed.creators.iter().zip(&whole.creators) {
        let (w, a) = (listings(&w.by_source), listings(&a.by_source));
        assert!(
            w.impressions <= a.impressions && w.orders <= a.orders,
            "creator: {w:?} vs {a:?}"
        );
    }
    let (w, a) = (
        listings(&warmed.platform.by_source),
        listings(&whole.platform.by_source),
    );
    assert!(w.impressions > 0 && w.impressions < a.impressions, "{w:?} vs {a:?}");
    let (ws, as_) = (
        warmed.platform.shelf_search.as_ref().unwrap(),
        whole.platform.shelf_search.as_ref().unwrap(),
    );
    assert!(ws.searches < as_.searches);
    assert_eq!(ws.users_with_intent_end, as_.users_with_intent_end);
}
