//! Runs `scenarios/growth.toml` (the default world over 30 days, with finite
//! attention and the fan lifecycle on) under both push policies and prints,
//! per cohort, the weekly trajectory of followers, iron fans, reach, orders,
//! GMV and repurchases side by side.
//!
//! `cargo run --release --example iron_fan_growth [-- <scenario.toml>]`

use std::time::Instant;

use feedsim::metrics::{DailyCohortReport, Report};
use feedsim::policy::PushPolicy;
use feedsim::{Scenario, Simulation, World};

#[path = "common/mod.rs"]
mod common;
use common::thousands;

const GROWTH: &str = include_str!("../scenarios/growth.toml");

fn main() -> Result<(), feedsim::Error> {
    let args = common::args("iron_fan_growth");
    let scenario = match args.positional.first() {
        Some(file) => Scenario::from_file(file)?,
        None => Scenario::from_toml_str(GROWTH)?,
    };
    let ladder = scenario.public_pool_ladder.clone();
    let iron = scenario.iron_fan_first();
    let mut reports = Vec::new();
    for p in [&ladder as &dyn PushPolicy, &iron] {
        // Each policy runs on a world of its own, generated from the same
        // seed (so the same world), whose follow graph the run takes over
        // and the fan lifecycle rebuilds in place: one graph in memory.
        let t0 = Instant::now();
        let world = World::generate(&scenario)?;
        let (users, creators) = (world.users().len() as u64, world.creators().len() as u64);
        let sim = Simulation::owning(&scenario, world)?;
        eprintln!(
            "world: {} users, {} creators, {} posts planned over {} days (generated in {:.1?})",
            thousands(users),
            thousands(creators),
            thousands(sim.posts().len() as u64),
            scenario.feed.days,
            t0.elapsed()
        );
        let t = Instant::now();
        // Per-post detail is not printed: each post's report goes by as its
        // push ends, so memory does not grow with the month's posts.
        reports.push(sim.into_run_streaming(p, &scenario.response, &mut |_| Ok(()), None)?);
        eprintln!("ran {:<20} in {:.1?}", p.name(), t.elapsed());
    }
    print_growth(&scenario, &reports);
    Ok(())
}

/// Weeks as day ranges: 0–6, 7–13, ..., and the rest.
fn weeks(days: u32) -> Vec<std::ops::Range<u32>> {
    (0..days.div_ceil(7)).map(|w| w * 7..((w + 1) * 7).min(days)).collect()
}

fn print_growth(scenario: &Scenario, reports: &[Report]) {
    let days = scenario.feed.days;
    println!(
        "scenario \"{}\": {days} posting days, attention {:?}",
        scenario.name, scenario.attention.mode
    );
    for r in reports {
        let a = &r.attention;
        println!(
            "  {:<20} attention supply {:>15}  impressions served {:>13}  offers declined {:>12}",
            r.policy,
            a.supply.map_or("unlimited".into(), thousands),
            thousands(a.served),
            thousands(a.declined)
        );
    }
    // Every day of the run, the drain days after the last posting day
    // (when the last posts' pushes end, and the lifecycle still runs each
    // night) included, so that the weeks' counts add up to the run's.
    let run_days = reports
        .iter()
        .flat_map(|r| r.daily.iter().map(|d| d.day + 1))
        .max()
        .unwrap_or(days);
    for (ci, cohort) in scenario.cohorts.iter().enumerate() {
        println!("\n== {} ==", cohort.name);
        print!("{:<10}", "week");
        for r in reports {
            print!(" | {:^86}", r.policy);
        }
        println!();
        print!("{:<10}", "");
        for _ in reports {
            print!(
                " | {:>10} {:>9} {:>6} {:>9} {:>9} {:>11} {:>7} {:>10} {:>6}",
                "followers", "iron fans", "ratio", "+follows", "-unfol.", "impressions", "orders", "GMV yuan", "repur."
            );
        }
        println!();
        for w in weeks(run_days) {
            print!("{:<10}", format!("days {}-{}", w.start, w.end - 1));
            for r in reports {
                let rows: Vec<&DailyCohortReport> = r
                    .daily
                    .iter()
                    .filter(|d| d.cohort == cohort.name && w.contains(&d.day))
                    .collect();
                let Some(last) = rows.last() else {
                    print!(" | {:>86}", "");
                    continue;
                };
                let sum = |f: fn(&DailyCohortReport) -> u64| rows.iter().map(|d| f(d)).sum::<u64>();
                let (orders, repurchases) = (sum(|d| d.orders), sum(|d| d.repurchases));
                print!(
                    " | {:>10} {:>9} {:>5.1}% {:>9} {:>9} {:>11} {:>7} {:>10} {:>5.1}%",
                    thousands(last.followers),
                    thousands(last.iron_fans),
                    100.0 * last.iron_fan_ratio,
                    thousands(sum(|d| d.follows_added)),
                    thousands(sum(|d| d.unfollows)),
                    thousands(sum(|d| d.impressions)),
                    thousands(orders),
                    thousands((sum(|d| d.gmv_fen) + 50) / 100),
                    if orders == 0 {
                        0.0
                    } else {
                        100.0 * repurchases as f64 / orders as f64
                    },
                );
            }
            println!();
        }
        for r in reports {
            let c = &r.cohorts[ci];
            let f = &c.funnel;
            let added: u64 = r
                .daily
                .iter()
                .filter(|d| d.cohort == c.name)
                .map(|d| d.follows_added)
                .sum();
            let last_day = r.daily.iter().rev().find(|d| d.cohort == c.name);
            println!(
                "  {:<20} followers: {} at the start, +{} added, -{} unfollowed, = {} at the end; \
                 {} follow draws by {} new viewers ({:.1} per 1,000); {} promotions to iron fan, {} demotions and {} iron fans unfollowed; \
                 {} buyer pairs, of which {} bought again ({:.1}%); creators still posting {}/{}; group members {}, e-commerce members {}",
                r.policy,
                thousands(c.followers),
                thousands(added),
                thousands(c.unfollows),
                thousands(c.followers_end),
                thousands(f.follows),
                thousands(f.new_viewers),
                1000.0 * f.follow_rate,
                thousands(f.iron_fan_promotions),
                thousands(c.iron_fan_demotions),
                thousands(c.iron_fan_unfollows),
                thousands(f.buyers),
                thousands(f.repeat_buyers),
                100.0 * f.repeat_rate,
                c.active_creators_end,
                c.creators,
                thousands(last_day.map_or(0, |d| d.group_members)),
                thousands(last_day.map_or(0, |d| d.ecommerce_members)),
            );
        }
    }
    println!(
        "\nWhat the figures mean: followers, iron fans and their ratio are end-of-week counts; +follows and \
         -unfol. are the follow edges added and removed at the week's nights (so each week's followers are the \
         week before's plus the one minus the other); impressions, orders and GMV are summed over the week; \
         repur. is the share of the week's orders that were repeat purchases from the same creator. The last \
         week runs past the {days} posting days to the end of the last push. Iron fans are fans whose engagement \
         score (points per watch, like, comment, share, click and order, decaying 15% a day) crossed the promotion \
         threshold; the iron-fan ratio is an outcome of each policy, not an input. Users have finite daily attention \
         (KuaiRec plays per day), so posts compete for them; declined offers are those a user had no attention left \
         for. Follow draws count every follow response, before those by users already following are dropped; \
         new viewers are distinct users reached as strangers, so the per-1,000 figure is a rate of draws, not a \
         share of viewers. This example starts from the generated world, which is not a steady state of either \
         policy (see the README)."
    );
}
