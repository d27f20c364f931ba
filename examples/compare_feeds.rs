//! Would iron-fan-first matter on Kuaishou, or on WeChat Channels? The same
//! worlds and posts under Douyin's single-column feed, Kuaishou's
//! double-column feed and WeChat Channels' friend graph (the single column
//! with the default `[friends]`: what friends post and like, weighted in
//! the one waterfall), each with both push policies and with the ladder
//! under "equal rights" (its head creators' public exposure capped, our
//! reading of Kuaishou's principle: [`EqualRights`]), over replicates, per
//! cohort, and the creators' Gini of impressions that judges whether equal
//! rights spreads exposure.
//!
//! ```sh
//! cargo run --release --example compare_feeds
//! cargo run --release --example compare_feeds -- --users 1000000 --replicates 5 --json feeds.json
//! ```
//!
//! For each feed the experiment runs the default scenario (scaled to
//! `--users`, default 300,000) with that feed as `[viewer_feed]`, over
//! `--replicates` replicates (default 3; each a new world, posts and
//! responses, the same ones under every feed and policy), and prints per
//! cohort, with 95% Student-t intervals:
//! - **fans' share of plays**: of the cohort's impressions, the share on
//!   viewers who follow the post's creator (iron fans and other fans);
//! - **followers who saw a post**: over the cohort's posts, the post's
//!   impressions on its creator's followers over the creator's followers at
//!   the start, `Σ fan impressions / Σ followers` (each post counted once
//!   per follower of its creator). The unofficial figures DOMAIN.md repeats
//!   (Kuaishou 30–40% of followed content is seen by followers, Douyin
//!   about 10%) are printed beside it as references, never targets: they
//!   were not fitted;
//! - **share of plays through friends**: the creator's friends
//!   (`friends`) and friends of likers (`friends_liked`), 0 outside the
//!   friend graph;
//! - **orders per post**;
//! - the double column's **cover click-through** (clicked covers per cover
//!   shown) for fans and for strangers.
//!
//! The double column adds nothing for followers: a cover's click-through
//! is its base rate plus the watch model's own terms (DoubleColumn's docs),
//! so whatever it does to fans' traffic comes from the model. `--json FILE`
//! writes one row per feed, policy, cohort and metric.

use std::sync::Mutex;
use std::time::Instant;

use feedsim::experiment::{Estimate, Experiment};
use feedsim::feed::{DoubleColumn, FRIENDS, FRIENDS_LIKED, FeedSpec};
use feedsim::metrics::Report;
use feedsim::policy::{EqualRights, PushPolicy};
use feedsim::world::FriendParams;
use feedsim::{Error, Scenario};

#[path = "research/mod.rs"]
mod research;

/// The metrics this example computes from each run's full report, per
/// cohort: (name, label, digits, percent).
const METRICS: [(&str, &str, usize, bool); 6] = [
    ("fan_play_share", "fans' share of plays", 2, true),
    (
        "friend_play_share",
        "share of plays through friends (posted or liked)",
        2,
        true,
    ),
    ("followers_seeing_post", "followers who saw a post", 2, true),
    ("orders_per_post", "orders per post", 3, false),
    ("fan_cover_click_through", "cover click-through, fans", 1, true),
    ("public_cover_click_through", "cover click-through, strangers", 1, true),
];

fn per(n: f64, d: f64) -> f64 {
    if d == 0.0 { 0.0 } else { n / d }
}

/// Per cohort, the value of each of [`METRICS`] in one run.
fn metrics(report: &Report) -> Vec<[f64; METRICS.len()]> {
    let cohorts = report.cohorts.len();
    // Σ over a cohort's posts of its creator's followers at the start.
    let mut follower_posts = vec![0.0; cohorts];
    for p in &report.posts {
        follower_posts[usize::from(p.cohort)] += f64::from(report.creators[p.creator as usize].followers);
    }
    report
        .cohorts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let t = &c.tally;
            let fans = (t.iron_fan_impressions + t.fan_impressions) as f64;
            let (mut fan_covers, mut fan_clicks) = (0, 0);
            for tier in [
                feedsim::metrics::Tier::GroupMember,
                feedsim::metrics::Tier::IronFan,
                feedsim::metrics::Tier::OtherFan,
            ] {
                fan_covers += c.by_tier.get(tier).covers;
                fan_clicks += c.by_tier.get(tier).cover_clicks;
            }
            let public = c.by_tier.get(feedsim::metrics::Tier::Public);
            let through_friends: u64 = [FRIENDS, FRIENDS_LIKED]
                .iter()
                .filter_map(|s| c.by_source.get(s))
                .map(|t| t.impressions)
                .sum();
            [
                per(fans, t.impressions as f64),
                per(through_friends as f64, t.impressions as f64),
                per(fans, follower_posts[i]),
                per(t.orders as f64, c.posts as f64),
                per(fan_clicks as f64, fan_covers as f64),
                per(public.cover_clicks as f64, public.covers as f64),
            ]
        })
        .collect()
}

fn main() -> Result<(), Error> {
    let args = research::args("compare_feeds");
    let replicates: u32 = research::parsed(&args, "replicates", 3);
    let users: u32 = research::parsed(&args, "users", 300_000);
    let base = research::scaled_default(users)?;
    // (name, viewer feed, friend traffic)
    let feeds = [
        ("single column", FeedSpec::default(), None),
        ("double column", FeedSpec::DoubleColumn(DoubleColumn::default()), None),
        ("friend graph", FeedSpec::default(), Some(FriendParams::default())),
    ];
    let t0 = Instant::now();
    let bar = research::progress(feeds.len() * 3 * replicates as usize, "compare_feeds");
    // samples[feed][policy][cohort][metric][replicate]
    let mut samples = Vec::new();
    // gini[feed][policy][replicate]: the creators' Gini of impressions.
    let mut gini: Vec<Vec<Vec<f64>>> = Vec::new();
    let mut policy_names = Vec::new();
    let mut cohort_names = Vec::new();
    for (_, feed, friends) in &feeds {
        let s = Scenario {
            viewer_feed: feed.clone(),
            friends: friends.clone(),
            ..base.clone()
        };
        s.validate()?;
        let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
        let equal = EqualRights::new(&ladder);
        let policies: Vec<&dyn PushPolicy> = vec![&ladder, &iron, &equal];
        policy_names = policies.iter().map(|p| p.name().to_string()).collect();
        cohort_names = s.cohorts.iter().map(|c| c.name.clone()).collect();
        let runs = Mutex::new(Vec::new());
        Experiment::new(&s, policies)?.replicates(replicates).run_with(|done| {
            runs.lock().expect("no panic while holding the lock").push((
                done.policy,
                done.replicate,
                metrics(done.report),
                done.report.platform.impressions_gini,
            ));
            bar.inc(1);
        })?;
        let mut runs = runs.into_inner().expect("no panic while holding the lock");
        // Replicate order, whatever order the runs finished in.
        runs.sort_by_key(|&(policy, replicate, _, _)| (policy, replicate));
        gini.push(
            (0..policy_names.len())
                .map(|k| runs.iter().filter(|r| r.0 == k).map(|r| r.3).collect())
                .collect(),
        );
        let per_policy: Vec<Vec<Vec<Vec<f64>>>> = (0..policy_names.len())
            .map(|k| {
                (0..cohort_names.len())
                    .map(|c| {
                        (0..METRICS.len())
                            .map(|m| runs.iter().filter(|r| r.0 == k).map(|r| r.2[c][m]).collect())
                            .collect()
                    })
                    .collect()
            })
            .collect();
        samples.push(per_policy);
    }
    bar.finish_and_clear();
    let elapsed = t0.elapsed();

    println!(
        "Single column (Douyin), double column (Kuaishou) and the friend graph (WeChat Channels), both push policies."
    );
    println!(
        "World: the default scenario at {} users; {} replicates (each a new world, posts and responses, the same \
         under every feed and policy); 95% Student-t intervals; ran in {:.1?}.",
        research::thousands(users.into()),
        replicates,
        elapsed
    );
    println!(
        "References, not targets (unofficial, DOMAIN.md): followers who see followed content, Kuaishou 30–40%, \
         Douyin about 10%.\n"
    );
    let mut rows = Vec::new();
    let width = 24;
    for (m, (name, label, digits, percent)) in METRICS.iter().enumerate() {
        println!("{label}{}", if *percent { " (%)" } else { "" });
        print!("  {:<10}", "cohort");
        for (feed, _, _) in &feeds {
            for policy in &policy_names {
                print!(" {:>width$}", format!("{feed}, {}", short(policy)));
            }
        }
        println!();
        for (c, cohort) in cohort_names.iter().enumerate() {
            print!("  {cohort:<10}");
            for (f, (feed, _, _)) in feeds.iter().enumerate() {
                for (k, policy) in policy_names.iter().enumerate() {
                    let scale = if *percent { 100.0 } else { 1.0 };
                    let values: Vec<f64> = samples[f][k][c][m].iter().map(|v| v * scale).collect();
                    let e = Estimate::from_samples(&values, 0.95);
                    print!(" {:>width$}", research::ci(&e, *digits));
                    rows.push(serde_json::json!({
                        "feed": feed,
                        "policy": policy,
                        "cohort": cohort,
                        "metric": name,
                        "mean": e.mean / scale,
                        "low": e.low.map(|v| v / scale),
                        "high": e.high.map(|v| v / scale),
                        "replicates": replicates,
                        "samples": samples[f][k][c][m],
                    }));
                }
            }
            println!();
        }
        println!();
    }
    println!("creators' Gini of impressions (0: every creator the same; 1: one has everything)");
    print!("  {:<10}", "");
    for (feed, _, _) in &feeds {
        for policy in &policy_names {
            print!(" {:>width$}", format!("{feed}, {}", short(policy)));
        }
    }
    println!();
    print!("  {:<10}", "platform");
    for (f, (feed, _, _)) in feeds.iter().enumerate() {
        for (k, policy) in policy_names.iter().enumerate() {
            let e = Estimate::from_samples(&gini[f][k], 0.95);
            print!(" {:>width$}", research::ci(&e, 4));
            rows.push(serde_json::json!({
                "feed": feed,
                "policy": policy,
                "cohort": "platform",
                "metric": "impressions_gini",
                "mean": e.mean,
                "low": e.low,
                "high": e.high,
                "replicates": replicates,
                "samples": gini[f][k],
            }));
        }
    }
    println!("\n");
    println!(
        "How to read it: a play is an impression; in the double column only a clicked cover is a play. \
         A cover's click-through is the base rate (0.3, our assumption) plus the watch model's own terms, \
         so fans click more only as far as the model already makes them watch more."
    );
    if let Some(path) = research::flag(&args, "json") {
        research::write(&path, &serde_json::to_string_pretty(&rows).expect("rows serialize"))?;
        eprintln!("wrote {path}: {} rows", rows.len());
    }
    Ok(())
}

/// A policy's short name for a column heading.
fn short(policy: &str) -> &str {
    match policy {
        "public-pool ladder" => "ladder",
        "iron-fan first" => "iron",
        "public-pool ladder, equal rights" => "equal rights",
        other => other,
    }
}
