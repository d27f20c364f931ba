//! Is the iron-fan ratio "the traffic password"? (DOMAIN.md [000]: "the
//! traffic password is no longer the absolute fan count but the iron-fan
//! ratio".)
//!
//! A probe cohort of accounts with **exactly the same follower count** has
//! its iron-fan ratio swept from 2% to 50%. At each ratio the example runs
//! the legacy public-pool ladder, iron-fan-first, and iron-fan-first with the
//! public weight's ratio term switched off (`ratio_exponent = 0`: only the
//! fans' feedback on each post acts), over R replicates with common random
//! numbers, and prints per post: impressions (also the post's unique reach:
//! nobody sees a post twice), public impressions (viewers who do not follow
//! the creator), orders and GMV, each with a 95% Student-t interval, then the
//! rise from the lowest to the highest ratio, paired by replicate.
//!
//! Reading it: under the ladder the ratio can matter only through who
//! happens to be drawn; under iron-fan-first it acts twice, through the fans'
//! feedback (more iron fans respond better, so more posts pass the fan
//! waves) and through the public weight (our assumption,
//! `(ratio / 0.1)^0.5`). The "no ratio weight" column shows what emerges
//! without the assumed term.
//!
//! ```sh
//! cargo run --release --example iron_fan_ratio
//! cargo run --release --example iron_fan_ratio -- --replicates 10 --json target/iron_fan_ratio.json
//! cargo run --release --example iron_fan_ratio -- --users 20000 --followers 500 --creators 5 --replicates 2
//! ```
//!
//! The world is the default scenario scaled to `--users` users (default
//! 200,000) with a probe cohort added: `--creators` accounts (default 20),
//! each with `--followers` followers (default 5,000), verticality 0.8, one
//! post a day, half of the posts carrying a 129-yuan product (as the
//! default's waist accounts). `--json FILE` writes one row per policy ×
//! ratio × metric: `{"policy", "iron_fan_ratio", "followers", "metric",
//! "mean", "lo", "hi"}`.

use std::time::Instant;

use feedsim::experiment::{Axis, Estimate, Sweep, SweepReport};
use feedsim::policy::PushPolicy;
use feedsim::scenario::{Archetype, FollowerRange};
use feedsim::{Error, Scenario};
use serde::Serialize;

#[path = "research/mod.rs"]
mod research;

const RATIOS: [f64; 6] = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5];
const PROBE: &str = "probe";
const METRICS: [(&str, &str, usize); 4] = [
    ("impressions_per_post", "per_post.impressions", 0),
    ("public_impressions_per_post", "per_post.public_impressions", 0),
    ("orders_per_post", "per_post.orders", 2),
    ("gmv_per_post_yuan", "per_post.gmv_yuan", 0),
];

/// One row of the `--json` output.
#[derive(Serialize)]
struct Row<'a> {
    policy: &'a str,
    iron_fan_ratio: f64,
    followers: u32,
    metric: &'a str,
    mean: f64,
    lo: Option<f64>,
    hi: Option<f64>,
}

fn scenario(users: u32, creators: u32, followers: u32) -> Result<Scenario, Error> {
    let mut s = research::scaled_default(users)?;
    s.name = "iron_fan_ratio".into();
    let mut probe = s
        .cohorts
        .iter()
        .find(|c| c.name == "waist")
        .expect("the default has a waist cohort")
        .clone();
    probe.name = PROBE.into();
    probe.archetype = Archetype::Other;
    probe.creators = creators;
    probe.followers = FollowerRange::fixed(followers.min(users));
    probe.iron_fan_ratio = RATIOS[0];
    s.cohorts.push(probe);
    s.validate()?;
    Ok(s)
}

fn policies(s: &Scenario) -> Vec<Box<dyn PushPolicy>> {
    let iron = s.iron_fan_first();
    vec![
        Box::new(s.public_pool_ladder.clone()),
        Box::new(iron.without_ratio_weight()),
        Box::new(iron),
    ]
}

/// The change of `metric` from the first to the last ratio under policy `k`,
/// paired by replicate.
fn rise(report: &SweepReport, metric: &str, k: usize) -> Result<Estimate, Error> {
    let at = |i: usize| {
        report.points[i]
            .experiment
            .metric(PROBE, metric)
            .expect("probe metric")
            .samples[k]
            .clone()
    };
    Estimate::paired_difference(&at(report.points.len() - 1), &at(0), report.definition.confidence)
}

fn main() -> Result<(), Error> {
    let args = research::args("iron_fan_ratio");
    let users: u32 = research::parsed(&args, "users", 200_000);
    let creators: u32 = research::parsed(&args, "creators", 20);
    let followers: u32 = research::parsed(&args, "followers", 5_000);
    let replicates: u32 = research::parsed(&args, "replicates", 5);
    let s = scenario(users, creators, followers)?;
    let axis = Axis::new(format!("cohorts.{PROBE}.iron_fan_ratio"), RATIOS);
    let sweep = Sweep::new(&s, vec![axis])?.replicates(replicates).policies(&policies);
    let t0 = Instant::now();
    let bar = research::progress(RATIOS.len() * 3 * replicates as usize, "iron_fan_ratio");
    let report = sweep.run_with(research::on_sweep(&bar))?;
    bar.finish_and_clear();
    let names = &report.definition.policies;

    println!("Is the iron-fan ratio the traffic password? Accounts with the same follower count, per post.");
    println!(
        "World: {} users; probe: {} accounts with exactly {} followers each (verticality {:.0}%); {} replicates, \
         95% Student-t intervals; ran in {:.1?}.",
        research::thousands(users.into()),
        creators,
        research::thousands(s.cohorts.last().map_or(0, |c| c.followers.max).into()),
        100.0 * s.cohorts.last().map_or(0.0, |c| c.verticality),
        replicates,
        t0.elapsed()
    );
    let mut rows = Vec::new();
    for (metric, path, digits) in METRICS {
        println!("\n{metric}");
        print!("{:>8}", "ratio");
        for n in names {
            print!(" {n:>38}");
        }
        println!();
        for point in &report.points {
            let ratio = point.values[0];
            print!("{ratio:>8.2}");
            let m = point.experiment.metric(PROBE, path).expect("probe metric");
            for (k, e) in m.policies.iter().enumerate() {
                print!(" {:>38}", research::ci(e, digits));
                rows.push(Row {
                    policy: &names[k],
                    iron_fan_ratio: ratio,
                    followers,
                    metric,
                    mean: e.mean,
                    lo: e.low,
                    hi: e.high,
                });
            }
            println!();
        }
        print!("{:>8}", "rise");
        for k in 0..names.len() {
            print!(" {:>38}", research::ci(&rise(&report, path, k)?, digits));
        }
        println!();
    }
    println!(
        "\n\"rise\" is the value at {:.2} minus the value at {:.2}, paired by replicate. An interval that excludes 0 \
         is a change the replicates resolve. Iron-fan-first without the ratio weight shows what the fans' \
         feedback alone does; the gap to iron-fan-first is the assumed weight's share.",
        RATIOS[RATIOS.len() - 1],
        RATIOS[0]
    );
    if let Some(path) = research::flag(&args, "json") {
        research::write(&path, &serde_json::to_string_pretty(&rows)?)?;
    }
    Ok(())
}
