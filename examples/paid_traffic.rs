//! What does a DOU+ order return under each push? Runs
//! `scenarios/paid_traffic.toml` (one post in ten promoted with 100 yuan at
//! 20 yuan per 1,000 plays, for an interest audience) under the legacy
//! ladder and iron-fan first over R replicates (each a new world, posts and
//! responses; both policies on the same ones), and prints per cohort the
//! paid plays, spend, follows deposited, orders, GMV, ROI (GMV of the
//! orders placed on bought plays / spend) and spend per follow, with 95%
//! Student-t intervals and the paired difference iron-fan first − ladder.
//!
//! ```sh
//! cargo run --release --example paid_traffic                          # 5 replicates at 1M users
//! cargo run --release --example paid_traffic -- --users 200000 --replicates 3 --json paid.json
//! ```
//!
//! `--scenario FILE` runs another scenario with a `[paid]` table (scaled
//! with `--users`); `--json FILE` writes rows `{"policy", "cohort",
//! "metric", "mean", "lo", "hi"}`, levels per policy and the difference
//! (policy `"iron-fan first − ladder"`). A cohort none of whose replicates
//! promoted a post in every run has no paid figures and is said so.

use feedsim::Error;

#[path = "research/mod.rs"]
mod research;

/// (label, metric, decimals).
const ROWS: [(&str, &str, usize); 7] = [
    ("plays bought", "by_source.paid.impressions", 0),
    ("spend (yuan)", "paid.spend_yuan", 0),
    ("follows deposited", "by_source.paid.follows", 0),
    ("orders", "by_source.paid.orders", 1),
    ("GMV (yuan)", "by_source.paid.gmv_fen", 0),
    ("ROI (GMV / spend)", "paid.roi", 2),
    ("spend per follow (yuan)", "paid.yuan_per_follow", 1),
];

fn main() -> Result<(), Error> {
    let args = research::args("paid_traffic");
    let (s, report, elapsed) =
        research::ladder_against_iron_fan_first(&args, "paid_traffic", "scenarios/paid_traffic.toml", "paid", |s| {
            s.paid.is_some()
        })?;
    let paid = s.paid.as_ref().expect("checked above");
    println!(
        "Paid traffic on {} ({} users): {:.0}% of posts promoted, {} yuan each at {} yuan per 1,000 plays ({} plays), target {:?}, start {:?}.",
        s.name,
        research::thousands(s.users.count.into()),
        100.0 * paid.share_of_posts,
        paid.budget_yuan,
        paid.price_per_mille_yuan,
        research::thousands(paid.impressions_bought()),
        paid.target,
        paid.start,
    );
    println!(
        "{} replicates, {:.0}% Student-t intervals, ran in {:.1?}. Per cohort and day, summed over its creators.\n",
        report.replicates,
        100.0 * report.confidence,
        elapsed
    );
    let rows = research::levels_and_difference(&report, &report.cohorts, &ROWS, "paid.roi");
    println!(
        "\nSpend: each post's shown paid plays × the price per 1,000 / 1,000, rounded down to the fen. A campaign \
         ends with its post's push, so a post whose push stops early leaves part of its budget unspent."
    );
    if let Some(path) = research::flag(&args, "json") {
        research::write(&path, &serde_json::to_string_pretty(&rows)?)?;
    }
    Ok(())
}
