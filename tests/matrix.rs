//! Account matrices (`users.regions`, `matrix = { ... }` in a cohort):
//! users' regions follow their weights, a matrix account's followers and
//! public pools lean to its region by the scenario's shares, its accounts
//! share one purchase history per buyer, leads from other regions visit
//! less, regions alone change nothing, results are the same at any thread
//! count, and bad values are refused by name.

mod common;

use std::collections::{HashMap, HashSet};

use feedsim::engine::ImpressionRecord;
use feedsim::matrix::{MatrixParams, NO_REGION};
use feedsim::metrics::Report;
use feedsim::policy::PushPolicy;
use feedsim::{Scenario, Simulation, World};

/// 40,000 users in three regions (weights 1, 1, 2), everybody active and
/// every offer watched; a matrix of 6 store accounts and, beside it, 6
/// ordinary accounts with the same followers and product (a constant
/// response model: a watch, then a click and an order half the time).
fn scenario(local_fans: f64, local_public: f64, product: &str) -> Scenario {
    let text = format!(
        r#"
        name = "matrix"
        seed = 41
        [feed]
        days = 2
        slots_per_day = 6
        categories = 4
        interest_targeting = 0.0
        [users]
        count = 40000
        daily_activity = 1.0
        regions = [1.0, 1.0, 2.0]
        [[cohorts]]
        name = "stores"
        creators = 6
        followers = {{ min = 2000, max = 2000 }}
        iron_fan_ratio = 0.2
        verticality = 0.5
        posts_per_day = 2.0
        product = {product}
        matrix = {{ local_fans = {local_fans}, local_public = {local_public}, remote_visit_factor = 0.0 }}
        [[cohorts]]
        name = "accounts"
        creators = 6
        followers = {{ min = 2000, max = 2000 }}
        iron_fan_ratio = 0.2
        verticality = 0.5
        posts_per_day = 2.0
        product = {product}
        [response]
        model = "constant"
        stranger = {{ watch = 0.6, like = 0.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.5, order = 0.5 }}
        fan      = {{ watch = 0.7, like = 0.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.5, order = 0.5 }}
        iron_fan = {{ watch = 0.8, like = 0.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.5, order = 0.5 }}
        [attention]
        mode = "unlimited"
        "#
    );
    let mut s = Scenario::from_toml_str(&text).expect("the matrix scenario is valid");
    // Pools of 300 and 4,000: a post's public offers never use up its
    // account's region (10,000 users at least).
    s.public_pool_ladder.pools.truncate(2);
    if let Some(p) = s.iron_fan_first.public_pools.as_mut() {
        p.truncate(2);
    }
    s.validate().unwrap();
    s
}

const ONLINE: &str = "{ price_yuan = 50.0, share_of_posts = 1.0, purchase_interval_days = 1000 }";

fn traced(s: &Scenario, world: &World, policy: &dyn PushPolicy) -> (Report, Vec<ImpressionRecord>) {
    Simulation::new(s, world).unwrap().trace(policy, &s.response).unwrap()
}

/// Four standard deviations of a proportion `p` estimated from `n` draws.
fn four_sd(p: f64, n: usize) -> f64 {
    4.0 * (p * (1.0 - p) / n as f64).sqrt()
}

#[test]
fn users_regions_follow_their_weights() {
    let s = scenario(0.6, 0.3, ONLINE);
    let world = World::generate(&s).unwrap();
    let users = world.users();
    let mut counts = [0usize; 3];
    for u in 0..users.len() as u32 {
        counts[usize::from(users.region(u))] += 1;
    }
    let n = users.len();
    for (r, want) in [0.25, 0.25, 0.5].into_iter().enumerate() {
        let got = counts[r] as f64 / n as f64;
        assert!(
            (got - want).abs() < four_sd(want, n),
            "region {r}: {got} against {want}"
        );
    }
    // Accounts spread as the users are: 6 over weights 1:1:2.
    let stores = &world.cohorts()[0];
    let regions: Vec<u8> = (0..stores.creators)
        .map(|j| world.creators().region(stores.first_creator + j))
        .collect();
    assert_eq!(regions, [0, 1, 1, 2, 2, 2]);
    let other = &world.cohorts()[1];
    assert!((0..other.creators).all(|j| world.creators().region(other.first_creator + j) == NO_REGION));
}

#[test]
fn a_matrix_account_s_followers_lean_to_its_region() {
    for local in [0.0, 0.6, 1.0] {
        let s = scenario(local, 0.3, ONLINE);
        let world = World::generate(&s).unwrap();
        let (g, users) = (world.graph(), world.users());
        for (cohort, lean) in [(0, Some(local)), (1, None)] {
            let co = &world.cohorts()[cohort];
            for c in co.first_creator..co.first_creator + co.creators {
                let fans: Vec<u32> = g.fan_edges(c).map(|e| g.edge_user(e)).collect();
                assert_eq!(fans.len(), 2000);
                let distinct: HashSet<u32> = fans.iter().copied().collect();
                assert_eq!(distinct.len(), fans.len(), "creator {c}: a fan twice");
                match lean {
                    Some(share) => {
                        let region = world.creators().region(c);
                        let near = fans.iter().filter(|&&u| users.region(u) == region).count();
                        // Drawn without replacement: exactly the share,
                        // the others from other regions.
                        assert_eq!(near, (2000.0 * share).round() as usize, "creator {c}, share {share}");
                    }
                    None => {
                        // An ordinary account's fans are spread as users are.
                        let in_big = fans.iter().filter(|&&u| users.region(u) == 2).count();
                        let p = in_big as f64 / 2000.0;
                        assert!((p - 0.5).abs() < four_sd(0.5, 2000), "creator {c}: {p}");
                    }
                }
                // Verticality holds among the fans: half are interested.
                let cat = world.creators().category(c);
                let interested = fans.iter().filter(|&&u| users.is_interested(u, cat)).count();
                assert!(interested >= 1000, "creator {c}: {interested} interested fans");
                // Iron fans come from the interested fans first.
                assert!(
                    g.iron_fans_of(c).iter().all(|&u| users.is_interested(u, cat)),
                    "creator {c}: an iron fan without the interest"
                );
            }
        }
    }
}

/// The public pools' offers of a matrix account's posts: the share that
/// goes to the account's region is `λ + (1 − λ)·s`, and no post meets a
/// user twice in a day.
#[test]
fn a_matrix_account_s_public_pools_lean_to_its_region() {
    for lean in [0.0, 0.5] {
        let s = scenario(0.6, lean, ONLINE);
        let world = World::generate(&s).unwrap();
        let (report, trace) = traced(&s, &world, &s.public_pool_ladder);
        let creator_of: HashMap<u32, u32> = report.posts.iter().map(|p| (p.id, p.creator)).collect();
        let stores = &world.cohorts()[0];
        let is_store = |c: u32| (stores.first_creator..stores.first_creator + stores.creators).contains(&c);
        let users = world.users();
        // Per region of the account: offers in the region, and in all.
        let (mut near, mut all) = ([0usize; 3], [0usize; 3]);
        let mut met = HashSet::new();
        for t in trace.iter().filter(|t| t.source == "public pool") {
            let c = creator_of[&t.post];
            assert!(
                met.insert((t.post, t.user, t.slot / 6)),
                "post {} met user {} twice on a day",
                t.post,
                t.user
            );
            if !is_store(c) {
                continue;
            }
            let r = usize::from(world.creators().region(c));
            all[r] += 1;
            near[r] += usize::from(users.region(t.user) == r as u8);
        }
        for (r, share) in [0.25, 0.25, 0.5].into_iter().enumerate() {
            assert!(all[r] > 500, "region {r}: {} public offers", all[r]);
            let want = lean + (1.0 - lean) * share;
            let got = near[r] as f64 / all[r] as f64;
            // The region's share of active users (all are active) is the
            // drawn one, within four standard deviations of the weight.
            let tolerance = four_sd(want, all[r]) + four_sd(share, users.len());
            assert!(
                (got - want).abs() < tolerance,
                "lean {lean}, region {r}: {got:.4} of {} offers local, want {want:.4} ± {tolerance:.4}",
                all[r]
            );
        }
    }
}

/// With a purchase interval longer than the run, a buyer orders once from
/// the whole matrix (its accounts share the product), while the ordinary
/// accounts beside it each sell to the same buyer.
#[test]
fn a_matrix_s_accounts_share_each_buyer_s_history() {
    let s = scenario(0.6, 0.3, ONLINE);
    let world = World::generate(&s).unwrap();
    let (report, trace) = traced(&s, &world, &s.iron_fan_first());
    let post_cohort: HashMap<u32, u16> = report.posts.iter().map(|p| (p.id, p.cohort)).collect();
    // Per cohort and buyer, the slots of the buyer's orders. The interval
    // counts from the orders recorded before a round (slot), so orders of
    // one slot can come together.
    let mut orders: [HashMap<u32, HashSet<u32>>; 2] = Default::default();
    for t in trace.iter().filter(|t| t.ordered) {
        orders[usize::from(post_cohort[&t.post])]
            .entry(t.user)
            .or_default()
            .insert(t.slot);
    }
    assert!(orders[0].len() > 100, "{} matrix buyers", orders[0].len());
    assert!(
        orders[0].values().all(|slots| slots.len() == 1),
        "a buyer ordered from the matrix in two slots"
    );
    assert!(
        orders[1].values().filter(|slots| slots.len() > 1).count() > 10,
        "the ordinary accounts seldom sold to one buyer in two slots: the check could hardly fail"
    );
    // Buyers are counted once for the brand, and listed where they bought.
    let stores = &report.cohorts[0];
    assert_eq!(stores.funnel.buyers, orders[0].len() as u64);
    let m = stores.matrix.expect("the matrix's report");
    assert_eq!((m.accounts, m.regions), (6, 3));
    assert!(m.local_buyers_share > m.population_share, "{m:?}");
    assert!(report.cohorts[1].matrix.is_none());
    let accounts: Vec<_> = report.creators.iter().filter(|c| c.cohort == 0).collect();
    assert!(
        accounts
            .iter()
            .all(|c| c.region.is_some() && c.local_followers_end.is_some())
    );
    assert!(
        report
            .creators
            .iter()
            .filter(|c| c.cohort == 1)
            .all(|c| c.region.is_none())
    );
}

/// An offline product's leads visit the store at the product's rate, times
/// `remote_visit_factor` from another region: with the factor 0, only
/// local leads visit, so the matrix loses visits that the ordinary
/// accounts (no region) keep.
#[test]
fn leads_from_other_regions_visit_at_the_remote_factor() {
    let offline = "{ price_yuan = 80.0, share_of_posts = 1.0, sale = \"offline\", store_visit_rate = 1.0 }";
    let s = scenario(0.6, 0.3, offline);
    let world = World::generate(&s).unwrap();
    let run = |s: &Scenario| {
        Simulation::new(s, &world)
            .unwrap()
            .run(&s.public_pool_ladder, &s.response)
            .unwrap()
    };
    let r = run(&s);
    let (stores, accounts) = (&r.cohorts[0].tally, &r.cohorts[1].tally);
    assert_eq!(accounts.store_visits, accounts.leads, "no region, every lead visits");
    assert!(stores.leads > 200, "{} leads", stores.leads);
    let share = stores.store_visits as f64 / stores.leads as f64;
    // Local leads only: more than the region's users' share (the audience
    // leans to it), far from all.
    assert!(share > 0.3 && share < 0.9, "{share}");
    // The factor 1: every lead visits again; the leads are the same draws.
    let mut all = s.clone();
    all.cohorts[0].matrix = Some(MatrixParams {
        remote_visit_factor: 1.0,
        ..all.cohorts[0].matrix.unwrap()
    });
    let r1 = run(&all);
    assert_eq!(r1.cohorts[0].tally.leads, stores.leads);
    assert_eq!(r1.cohorts[0].tally.store_visits, stores.leads);
}

/// Regions without a matrix change no figure of a report.
#[test]
fn regions_alone_change_nothing() {
    let mut s = common::small_scenario();
    let world = World::generate(&s).unwrap();
    let before = Simulation::new(&s, &world)
        .unwrap()
        .run(&s.iron_fan_first(), &s.response)
        .unwrap();
    s.users.regions = vec![3.0, 1.0];
    let world = World::generate(&s).unwrap();
    assert_ne!(world.users().region(0), NO_REGION);
    let after = Simulation::new(&s, &world)
        .unwrap()
        .run(&s.iron_fan_first(), &s.response)
        .unwrap();
    assert_eq!(before.to_json().unwrap(), after.to_json().unwrap());
}

#[test]
fn matrices_are_the_same_at_any_thread_count() {
    let s = scenario(0.6, 0.3, ONLINE);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    for policy in [&s.public_pool_ladder as &dyn PushPolicy, &s.iron_fan_first()] {
        let r = common::same_at_any_thread_count(&sim, &s, policy);
        assert!(r.cohorts[0].matrix.is_some());
    }
    // World generation too (the fans' draws are keyed by creator).
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let one = pool.install(|| World::generate(&s).unwrap());
    let g = |w: &World| {
        (0..w.creators().len() as u32)
            .flat_map(|c| {
                w.graph()
                    .fan_edges(c)
                    .map(|e| w.graph().edge_user(e))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<u32>>()
    };
    assert_eq!(g(&one), g(&world));
}

#[test]
fn bad_regions_and_matrices_are_refused_by_name() {
    let text = std::fs::read_to_string("scenarios/brand_matrix.toml").unwrap();
    let regions = "regions = [423.48, 186.22, 169.34, 223.56, 205.14, 103.52, 98.51]";
    let matrix = "matrix = { local_fans = 0.6, local_public = 0.3, remote_visit_factor = 0.1 }";
    for (from, to, field) in [
        (regions, "regions = [1.0, -2.0]", "users.regions[1]"),
        (regions, "regions = [0.0, 0.0]", "users.regions"),
        (regions, "regions = []", "cohorts[1].matrix"),
        (
            matrix,
            "matrix = { local_fans = 1.5, local_public = 0.3, remote_visit_factor = 0.1 }",
            "cohorts[1].matrix.local_fans",
        ),
        (
            matrix,
            "matrix = { local_fans = 0.6, local_public = -0.1, remote_visit_factor = 0.1 }",
            "cohorts[1].matrix.local_public",
        ),
        (
            matrix,
            "matrix = { local_fans = 0.6, local_public = 0.3, remote_visit_factor = nan }",
            "cohorts[1].matrix.remote_visit_factor",
        ),
        (matrix, "matrix = { local = 0.6 }", "local"),
    ] {
        assert!(text.contains(from), "{from}");
        let e = Scenario::from_toml_str(&text.replacen(from, to, 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
    let s = Scenario::from_toml_str(&text).unwrap();
    assert_eq!(s.users.regions.len(), 7);
    assert_eq!(s.cohorts.iter().filter(|c| c.matrix.is_some()).count(), 2);
}
