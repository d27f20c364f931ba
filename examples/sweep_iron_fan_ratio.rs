//! Is the iron-fan ratio "the traffic password" under iron-fan-first push,
//! and irrelevant under the legacy public-pool ladder? (DOMAIN.md [000]:
//! "the traffic password is no longer the absolute fan count but the
//! iron-fan ratio".)
//!
//! Sweeps the iron-fan ratio of the waist cohort from 5% to 60% and prints,
//! at each ratio and under both policies, the cohort's reach per follower and
//! GMV per follower with 95% Student-t intervals, then how much each rises
//! from 5% to 60% (paired by replicate: every point uses the same replicate
//! seeds, so the endpoints share worlds' random numbers).
//!
//! ```sh
//! cargo run --release --example sweep_iron_fan_ratio
//! cargo run --release --example sweep_iron_fan_ratio -- --replicates 12 --out target/iron_fan_ratio
//! ```
//!
//! `--out PREFIX` writes `PREFIX.json` (the whole sweep, readable by the
//! `charts` example) and `PREFIX.csv` (one row per ratio).
//!
//! The world is the default scenario scaled to `--users` users (default
//! 300,000, a tenth of the default, so that the sweep finishes in about two
//! minutes on two cores): KOL accounts with 100k–250k followers, and a tenth
//! of each cohort's creators, except the swept waist cohort, which keeps 20
//! accounts with 20k–100k followers so that its per-follower figures are not
//! dominated by one or two accounts.

use std::time::Instant;

use feedsim::experiment::{Axis, Estimate, Sweep, SweepReport};
use feedsim::output::write_sweep_csv;
use feedsim::{Error, Scenario};

#[path = "research/mod.rs"]
mod research;

const RATIOS: [f64; 6] = [0.05, 0.1, 0.2, 0.3, 0.45, 0.6];
const COHORT: &str = "waist";

fn scenario(users: u32) -> Result<Scenario, Error> {
    let mut s = research::scaled_default(users)?;
    s.name = "sweep_iron_fan_ratio".into();
    let waist = s
        .cohorts
        .iter_mut()
        .find(|c| c.name == COHORT)
        .expect("default has a waist cohort");
    waist.creators = 20;
    waist.followers.min = waist.followers.min.min(users / 15);
    waist.followers.max = waist.followers.max.min(users / 3);
    s.validate()?;
    Ok(s)
}

/// The change of `metric` from the first to the last point under policy
/// `k`, paired by replicate.
fn rise(report: &SweepReport, metric: &str, k: usize) -> Result<Estimate, Error> {
    let at = |i: usize| {
        report.points[i]
            .experiment
            .metric(COHORT, metric)
            .expect("metric")
            .samples[k]
            .clone()
    };
    Estimate::paired_difference(&at(report.points.len() - 1), &at(0), report.definition.confidence)
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let replicates: u32 = research::parsed(&args, "replicates", 6);
    let users: u32 = research::parsed(&args, "users", 300_000);
    let s = scenario(users)?;
    let sweep =
        Sweep::new(&s, vec![Axis::new(format!("cohorts.{COHORT}.iron_fan_ratio"), RATIOS)])?.replicates(replicates);
    let t0 = Instant::now();
    let bar = research::progress(RATIOS.len() * 2 * replicates as usize, "sweep");
    let report = sweep.run_with(research::on_sweep(&bar))?;
    bar.finish_and_clear();
    let elapsed = t0.elapsed();

    if let Some(prefix) = research::flag(&args, "out") {
        let json = format!("{prefix}.json");
        std::fs::write(&json, report.to_json()?).map_err(|source| Error::Io { path: json, source })?;
        let csv = format!("{prefix}.csv");
        feedsim::output::write_file(std::path::Path::new(&csv), |w| {
            write_sweep_csv(
                w,
                &report,
                &[
                    (COHORT, "reach_per_follower"),
                    (COHORT, "per_follower.gmv_yuan"),
                    (COHORT, "per_follower.impressions"),
                    (COHORT, "per_creator.gmv_yuan"),
                ],
            )
        })?;
        eprintln!("wrote {prefix}.json and {prefix}.csv");
    }

    let c = s.cohorts.iter().find(|c| c.name == COHORT).expect("cohort");
    let p = &report.definition.policies;
    println!("Is the iron-fan ratio the traffic password? The {COHORT} cohort's iron-fan ratio from 5% to 60%.");
    println!(
        "World: {} users; {} {COHORT} accounts with {}–{} followers, verticality {:.0}%; the other cohorts as in \
         the default, scaled. {} replicates per ratio, {:.0}% intervals; ran in {:.1?}.\n",
        research::thousands(users.into()),
        c.creators,
        research::thousands(c.followers.min.into()),
        research::thousands(c.followers.max.into()),
        100.0 * c.verticality,
        replicates,
        100.0 * report.definition.confidence,
        elapsed
    );
    for (title, metric, digits) in [
        (
            "reach per follower (distinct users reached / followers)",
            "reach_per_follower",
            3,
        ),
        ("GMV per follower (yuan)", "per_follower.gmv_yuan", 3),
    ] {
        println!("{title}");
        println!(
            "{:>10} {:>30} {:>30} {:>30}",
            "iron fans",
            p[0],
            p[1],
            format!("{} − {}", p[1], p[0])
        );
        for point in &report.points {
            let m = point.experiment.metric(COHORT, metric).expect("metric");
            println!(
                "{:>9.0}% {:>30} {:>30} {:>30}",
                100.0 * point.values[0],
                research::ci(&m.policies[0], digits),
                research::ci(&m.policies[1], digits),
                research::ci(&m.differences[1], digits),
            );
        }
        for (k, policy) in p.iter().enumerate() {
            let r = rise(&report, metric, k)?;
            let first = report.points[0]
                .experiment
                .metric(COHORT, metric)
                .expect("metric")
                .policies[k]
                .mean;
            println!(
                "  from 5% to 60% under {policy:<20} {:>30}  ({:+.0}%; {})",
                research::ci(&r, digits),
                100.0 * r.mean / first.abs().max(f64::MIN_POSITIVE),
                match research::verdict(&r) {
                    "above 0" => "rises",
                    "below 0" => "falls",
                    _ => "no clear change",
                }
            );
        }
        println!();
    }
    println!(
        "Reading: under the ladder a post reaches fans only when a public draw picks them, so the iron-fan \
         ratio can matter only through who responds; under iron-fan-first the iron fans see every post first \
         and their response gates the rest. Intervals that exclude 0 are changes the replicates resolve."
    );
    Ok(())
}
