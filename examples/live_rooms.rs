//! How close do live sessions come to the liquor-brand case? Runs
//! `scenarios/live_liquor_brand.toml` (the documents' brand holding a
//! 3-hour session every evening on the growth world; the live parameters
//! are our assumptions, see `feedsim::live`) under the legacy ladder and
//! iron-fan first over R replicates (each a new world, posts and
//! responses; both policies on the same ones), and prints for every cohort
//! that went live the case's ratios with 95% Student-t intervals and the
//! paired difference iron-fan first − ladder, beside the document's
//! figures (DOMAIN.md [002]: fans 50% of live viewers, watching 500%
//! longer, interacting 50% more, bringing 83% of GMV, old fans 59%). The
//! ratios are outputs: nothing is fitted to the case.
//!
//! ```sh
//! cargo run --release --example live_rooms                          # 5 replicates at 1M users
//! cargo run --release --example live_rooms -- --users 200000 --replicates 3 --json live.json
//! ```
//!
//! `--scenario FILE` runs another scenario whose cohorts hold live sessions
//! (scaled with `--users`); `--json FILE` writes rows `{"policy", "cohort",
//! "metric", "mean", "lo", "hi"}`, levels per policy and the difference
//! (policy `"iron-fan first − ladder"`).

use feedsim::Error;

#[path = "research/mod.rs"]
mod research;

/// (label with the document's figure, metric, decimals), per cohort.
const ROWS: [(&str, &str, usize); 10] = [
    ("sessions", "live.sessions", 0),
    ("viewers (entries)", "live.viewers", 0),
    ("fans' share, viewers (doc 0.50)", "live.fan_share_of_viewers", 3),
    ("members' share, viewers", "live.member_share_of_viewers", 3),
    ("fan's stay, minutes", "live.fan_stay_min", 2),
    ("non-fan's stay, minutes", "live.non_fan_stay_min", 2),
    ("fan stay ratio (doc 6)", "live.fan_stay_ratio", 2),
    ("interaction ratio (doc 1.5)", "live.fan_interaction_ratio", 2),
    ("fans' share, GMV (doc 0.83)", "live.fan_share_of_gmv", 3),
    ("old fans', GMV (doc 0.59)", "live.old_fan_share_of_gmv", 3),
];

fn main() -> Result<(), Error> {
    let args = research::args("live_rooms");
    let (s, report, elapsed) = research::ladder_against_iron_fan_first(
        &args,
        "live_rooms",
        "scenarios/live_liquor_brand.toml",
        "cohorts.live",
        |s| s.cohorts.iter().any(|c| c.live.is_some()),
    )?;
    research::print_header("Live sessions", &s, &report, elapsed);
    println!(
        "Per cohort that went live, the liquor-brand case's ratios (DOMAIN.md [002]), model beside document. \
         Fans are fans at entry (old fans: all of them, since follows change only at night); a ratio is a fan's \
         mean over a non-fan's. Outputs, never fitted.\n"
    );
    let live: Vec<_> = report
        .cohorts
        .iter()
        .filter(|c| s.cohorts.iter().any(|p| p.name == c.name && p.live.is_some()))
        .collect();
    let rows = research::levels_and_difference(&report, live, &ROWS, "live.sessions");
    println!(
        "\nA ratio is missing from a run in which no non-fan entered a session (a non-fan's stay is then 0): \
         a ratio \"not in every run\" has no interval."
    );
    if let Some(path) = research::flag(&args, "json") {
        research::write(&path, &serde_json::to_string_pretty(&rows)?)?;
    }
    Ok(())
}
