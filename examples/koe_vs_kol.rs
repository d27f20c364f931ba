//! Does a vertical "waist" account (20k–300k fans) outsell a huge KOL
//! account whose fans are off-topic — per account, under which push, and by
//! how much? The source documents claim that "a 10M-fan account with low fan
//! verticality may convert fewer sales than a 20k–300k-fan waist account"
//! (DOMAIN.md [000]), and that iron-fan-first push favours vertical accounts
//! and KOEs (key opinion employees).
//!
//! The experiment runs both policies on the same worlds over R replicates
//! (common random numbers) and prints, per account, GMV, orders and reach
//! with 95% Student-t intervals, then the paired contrasts waist − KOL and
//! KOE − KOL under each policy, and how the policy change moves each gap.
//!
//! ```sh
//! cargo run --release --example koe_vs_kol
//! cargo run --release --example koe_vs_kol -- --replicates 20 --users 3000000
//! cargo run --release --example koe_vs_kol -- --json koe_vs_kol.json --csv koe_vs_kol.csv
//! ```
//!
//! The world is the default scenario scaled down so that the run finishes in
//! about two minutes on two cores (the default world takes ~12 s per policy
//! run): `--users` users (default 1,000,000 instead of 3,000,000), and the
//! KOL follower range and the number of creators of every cohort scaled by
//! the same factor (1/3 by default: KOL accounts with 333k–833k followers,
//! 20 waist accounts, 67 KOE, 333 newcomers), keeping the default's 4 KOL
//! accounts and the documents' follower ranges for waist (20k–300k) and KOE
//! (2k–20k) accounts. The documents' KOL has 10M fans; ours has what a
//! world this size allows, 1–40× a waist account, with the default's low
//! verticality (20%) and iron-fan ratio (3%). Every other parameter keeps
//! its default; `--users 3000000` runs the default world itself.

use std::time::Instant;

use feedsim::Error;
use feedsim::experiment::{Estimate, Experiment, ExperimentReport};
use feedsim::policy::PushPolicy;

#[path = "research/mod.rs"]
mod research;

/// Paired contrast of a per-account metric between two cohorts under
/// policy `k`: `a − b` per replicate.
fn contrast(report: &ExperimentReport, metric: &str, a: &str, b: &str, k: usize) -> Result<Estimate, Error> {
    let sa = &report.metric(a, metric).expect("cohort metric").samples[k];
    let sb = &report.metric(b, metric).expect("cohort metric").samples[k];
    Estimate::paired_difference(sa, sb, report.confidence)
}

/// How the contrast `a − b` changes from policy 0 to policy 1:
/// `(a₁ − b₁) − (a₀ − b₀)` per replicate.
fn change_of_gap(report: &ExperimentReport, metric: &str, a: &str, b: &str) -> Result<Estimate, Error> {
    let s = |g: &str, k: usize| report.metric(g, metric).expect("cohort metric").samples[k].clone();
    let gap = |k: usize| -> Vec<f64> { s(a, k).iter().zip(s(b, k)).map(|(x, y)| x - y).collect() };
    Estimate::paired_difference(&gap(1), &gap(0), report.confidence)
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let replicates: u32 = research::parsed(&args, "replicates", 10);
    let users: u32 = research::parsed(&args, "users", 1_000_000);
    let mut s = research::scaled_default(users)?;
    s.name = "koe_vs_kol".into();
    let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
    let experiment = Experiment::new(&s, vec![&ladder as &dyn PushPolicy, &iron])?.replicates(replicates);
    let t0 = Instant::now();
    let bar = research::progress(2 * replicates as usize, "koe_vs_kol");
    let report = experiment.run_with(research::on_run(&bar))?;
    bar.finish_and_clear();
    let elapsed = t0.elapsed();

    if let Some(path) = research::flag(&args, "json") {
        std::fs::write(&path, report.to_json()?).map_err(|source| Error::Io { path, source })?;
    }
    if let Some(path) = research::flag(&args, "csv") {
        let file = std::fs::File::create(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        feedsim::output::write_experiment_csv(file, &report)?;
    }

    let p = &report.policies;
    println!("Does a vertical waist account outsell a huge, low-verticality KOL account?");
    println!(
        "World: {} users; KOL {} accounts with {}–{} followers (iron-fan ratio {:.0}%, verticality {:.0}%); \
         waist {} accounts with {}–{} followers ({:.0}%, {:.0}%); KOE {} accounts with {}–{} followers ({:.0}%, {:.0}%).",
        research::thousands(u64::from(s.users.count)),
        s.cohorts[0].creators,
        research::thousands(s.cohorts[0].followers.min.into()),
        research::thousands(s.cohorts[0].followers.max.into()),
        100.0 * s.cohorts[0].iron_fan_ratio,
        100.0 * s.cohorts[0].verticality,
        s.cohorts[1].creators,
        research::thousands(s.cohorts[1].followers.min.into()),
        research::thousands(s.cohorts[1].followers.max.into()),
        100.0 * s.cohorts[1].iron_fan_ratio,
        100.0 * s.cohorts[1].verticality,
        s.cohorts[2].creators,
        research::thousands(s.cohorts[2].followers.min.into()),
        research::thousands(s.cohorts[2].followers.max.into()),
        100.0 * s.cohorts[2].iron_fan_ratio,
        100.0 * s.cohorts[2].verticality,
    );
    println!(
        "{} replicates (each a new world, posts and responses; both policies on the same ones), {:.0}% Student-t \
         intervals; ran in {:.1?}.\n",
        report.replicates,
        100.0 * report.confidence,
        elapsed
    );

    let rows: [(&str, &str, usize); 6] = [
        ("GMV per account (yuan)", "per_creator.gmv_yuan", 0),
        ("orders per account", "per_creator.orders", 1),
        ("impressions per account", "per_creator.impressions", 0),
        ("reach per follower", "reach_per_follower", 3),
        ("GMV per follower (yuan)", "per_follower.gmv_yuan", 4),
        ("share of GMV bought by fans", "rates.fan_gmv_share", 3),
    ];
    println!(
        "{:<30} {:<8} {:>34} {:>34} {:>34}",
        "per account",
        "cohort",
        p[0],
        p[1],
        format!("{} − {}", p[1], p[0])
    );
    for (label, metric, digits) in rows {
        for cohort in ["KOL", "waist", "KOE"] {
            println!(
                "{:<30} {:<8} {:>34} {:>34} {:>34}",
                label,
                cohort,
                research::ci(&research::get(&report, cohort, metric, 0, false), digits),
                research::ci(&research::get(&report, cohort, metric, 1, false), digits),
                research::ci(&research::get(&report, cohort, metric, 1, true), digits),
            );
        }
    }

    println!("\nGMV per account, paired by replicate (yuan):");
    for small in ["waist", "KOE"] {
        for (k, policy) in p.iter().enumerate() {
            let d = contrast(&report, "per_creator.gmv_yuan", small, "KOL", k)?;
            let kol = research::get(&report, "KOL", "per_creator.gmv_yuan", k, false).mean;
            let who = match research::verdict(&d) {
                "above 0" => format!("the {small} account outsells the KOL"),
                "below 0" => format!("the KOL outsells the {small} account"),
                _ => "no clear winner at this many replicates".to_string(),
            };
            println!(
                "  {small} − KOL under {policy:<20} {:>36}   ({:+.0}% of a KOL's GMV): {who}",
                research::ci(&d, 0),
                100.0 * d.mean / kol.max(f64::MIN_POSITIVE),
            );
        }
        let g = change_of_gap(&report, "per_creator.gmv_yuan", small, "KOL")?;
        println!(
            "  change of that gap from {} to {}: {}  ({})",
            p[0],
            p[1],
            research::ci(&g, 0),
            match research::verdict(&g) {
                "above 0" => format!("iron-fan-first favours the {small} account"),
                "below 0" => "iron-fan-first favours the KOL".to_string(),
                _ => "no clear change".to_string(),
            }
        );
    }
    println!(
        "\nReading: intervals that exclude 0 are differences the replicates resolve; more replicates \
         (--replicates) narrow them. \"Per account\" divides each cohort's total by its number of \
         accounts; GMV counts orders × price over the whole run."
    );
    Ok(())
}
