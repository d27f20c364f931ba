//! Products that sell offline (DOMAIN.md, the low-frequency offline
//! quadrant): a would-be order is a lead, a lead may visit the store, and
//! the platform records no order and no GMV for them.

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
