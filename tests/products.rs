//! Products (DOMAIN.md's industries): one that sells offline makes leads,
//! some of which visit the store, and the platform records no order and no
//! GMV for them; a purchase interval stops a buyer from buying the same
//! creator's product again within it; the four quadrants' presets are what
//! `scenarios/industries.toml` runs.

mod common;

use feedsim::policy::PushPolicy;
use feedsim::scenario::Sale;
use feedsim::{Scenario, Simulation, World};

/// The default world at 30,000 users with the general cohort's product
/// (59 yuan, on one post in ten) sold offline.
fn offline_general(rate: f64) -> Scenario {
    let mut s = common::small_scenario();
    let general = s.cohorts.iter_mut().find(|c| c.name == "general").unwrap();
    let product = general.product.as_mut().unwrap();
    product.sale = Sale::Offline;
    product.store_visit_rate = rate;
    s.validate().unwrap();
    s
}

#[test]
fn an_offline_product_makes_leads_and_store_visits_never_orders() {
    let online = common::small_scenario();
    let offline = offline_general(0.3);
    let world = World::generate(&online).unwrap();
    for policy in [&online.public_pool_ladder as &dyn PushPolicy, &online.iron_fan_first()] {
        let on = Simulation::new(&online, &world)
            .unwrap()
            .run(policy, &online.response)
            .unwrap();
        let off = Simulation::new(&offline, &world)
            .unwrap()
            .run(policy, &offline.response)
            .unwrap();
        let k = off.cohorts.iter().position(|c| c.name == "general").unwrap();
        let (a, b) = (on.cohorts[k].tally, off.cohorts[k].tally);
        // The same draws: the would-be orders are the leads.
        assert!(a.orders > 20, "{a:?}");
        assert_eq!(b.leads, a.orders, "{}", off.policy);
        assert_eq!((b.orders, b.gmv_fen, b.repurchases), (0, 0, 0), "{b:?}");
        assert_eq!((a.leads, a.store_visits), (0, 0));
        assert_eq!(b.clicks, a.clicks);
        // Store visits: binomial in the leads at the rate.
        let n = b.leads as f64;
        let sd = (n * 0.3 * 0.7).sqrt();
        assert!(
            (b.store_visits as f64 - 0.3 * n).abs() < 4.0 * sd,
            "{} of {n}",
            b.store_visits
        );
        // Nothing else moves in a one-day run without the lifecycle.
        for (c, d) in on.cohorts.iter().zip(&off.cohorts) {
            if c.name != "general" {
                assert_eq!(c.tally, d.tally, "{}", c.name);
            }
        }
        assert_eq!(off.platform.tally.leads, b.leads);
    }
}

#[test]
fn store_visits_follow_their_rate_and_bad_rates_are_refused() {
    let world = World::generate(&common::small_scenario()).unwrap();
    let visits = |rate: f64| {
        let s = offline_general(rate);
        let r = Simulation::new(&s, &world)
            .unwrap()
            .run(&s.public_pool_ladder, &s.response)
            .unwrap();
        (r.platform.tally.store_visits, r.platform.tally.leads)
    };
    let (none, leads) = visits(0.0);
    assert_eq!(none, 0);
    assert_eq!(visits(1.0), (leads, leads));
    let mut s = common::small_scenario();
    s.cohorts[2].product.as_mut().unwrap().store_visit_rate = 1.5;
    assert_eq!(
        s.validate().unwrap_err().field(),
        Some("cohorts[2].product.store_visit_rate")
    );
    // In a scenario file: `sale = "offline"` beside the price.
    let text = include_str!("../scenarios/default.toml").replace(
        "product = { price_yuan = 299.0, share_of_posts = 0.8 }",
        "product = { price_yuan = 299.0, share_of_posts = 0.8, sale = \"offline\", store_visit_rate = 0.2 }",
    );
    let s = Scenario::from_toml_str(&text).unwrap();
    let p = s.cohorts.iter().find(|c| c.name == "KOE").unwrap().product.unwrap();
    assert_eq!((p.sale, p.store_visit_rate), (Sale::Offline, 0.2));
    let e = Scenario::from_toml_str(&text.replace("\"offline\"", "\"mail order\"")).unwrap_err();
    assert!(e.to_string().contains("mail order"), "{e}");
}

/// A closed-form world (constant model, unlimited attention) over three
/// days in which every fan who watches a post clicks and orders its
/// product (10 yuan, on every post), bought at most once every `interval`
/// days.
fn every_fan_buys(interval: u32) -> Scenario {
    use feedsim::response::{ConstantModel, Probabilities, ResponseSpec};
    let mut s = common::constant_scenario(5_000, 500, 0.5, 5, 3.0);
    s.feed.days = 3;
    s.cohorts[0].product = Some(feedsim::scenario::ProductParams {
        purchase_interval_days: interval,
        ..feedsim::scenario::ProductParams::online(10.0, 1.0)
    });
    let buys = Probabilities {
        watch: 0.9,
        click: 1.0,
        order: 1.0,
        ..Default::default()
    };
    s.response = ResponseSpec::Constant(ConstantModel {
        stranger: Probabilities::default(),
        fan: buys,
        iron_fan: buys,
    });
    s.validate().unwrap();
    s
}

#[test]
fn a_purchase_interval_stops_repurchases_within_it() {
    let run = |s: &Scenario| {
        let world = World::generate(s).unwrap();
        let r = Simulation::new(s, &world)
            .unwrap()
            .run(&s.iron_fan_first(), &s.response)
            .unwrap();
        r.platform.tally
    };
    let free = run(&every_fan_buys(0));
    assert!(free.repurchases > 100, "without an interval buyers come back: {free:?}");
    // Longer than the run: nobody buys from the same creator twice on
    // different rounds (a repurchase is an order by a past buyer).
    let once = run(&every_fan_buys(30_000));
    assert_eq!(once.repurchases, 0, "{once:?}");
    assert!(once.orders > 100 && once.orders < free.orders, "{once:?} vs {free:?}");
    // A one-day interval allows repurchases on later days only: fewer than
    // without an interval (which allows them within the day too).
    let daily = run(&every_fan_buys(1));
    assert!(
        daily.repurchases > 0 && daily.repurchases < free.repurchases,
        "{daily:?} vs {free:?}"
    );
    // Too long an interval is refused by name.
    let mut s = every_fan_buys(0);
    s.cohorts[0].product.as_mut().unwrap().purchase_interval_days = 30_001;
    let e = s.validate().unwrap_err().to_string();
    assert!(e.contains("cohorts[0].product.purchase_interval_days"), "{e}");
}

#[test]
fn the_industries_scenario_runs_the_four_quadrant_presets() {
    use feedsim::scenario::{ProductParams, Quadrant};
    let s = Scenario::from_file("scenarios/industries.toml").unwrap();
    let products: Vec<ProductParams> = ["FMCG", "restaurant", "career education", "used cars"]
        .iter()
        .map(|name| s.cohorts.iter().find(|c| c.name == *name).unwrap().product.unwrap())
        .collect();
    for (p, q) in products.iter().zip(Quadrant::ALL) {
        assert_eq!(*p, ProductParams::preset(q, p.share_of_posts), "{q:?}");
    }
    // The used-car matrix has four accounts.
    assert_eq!(s.cohorts.iter().find(|c| c.name == "used cars").unwrap().creators, 4);
    // A small run: the offline quadrants leave leads, never orders; the
    // online ones sell; the same at 1, 2 and 3 threads.
    let mut small = s.scaled(100_000);
    small.feed.days = 3;
    let world = World::generate(&small).unwrap();
    let sim = Simulation::new(&small, &world).unwrap();
    let r = common::same_at_any_thread_count(&sim, &small, &small.iron_fan_first());
    // Scaled down, a cohort has one or two creators: count over both
    // quadrants of a kind.
    let sum = |names: [&str; 2]| {
        names.iter().fold(feedsim::metrics::Tally::default(), |a, n| {
            a.sum(r.cohort(n).unwrap().tally)
        })
    };
    let offline = sum(["restaurant", "used cars"]);
    assert_eq!((offline.orders, offline.gmv_fen), (0, 0), "{offline:?}");
    assert!(offline.leads > 0, "{offline:?}");
    let online = sum(["FMCG", "career education"]);
    assert!(online.orders > 0 && online.leads == 0, "{online:?}");
}
