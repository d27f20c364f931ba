//! Where does GMV come from when content seeds intent and users search and
//! browse the shelf? Runs `scenarios/shelf_search.toml` (the default world
//! over a week with `[shelf_search]` and the waist accounts live half of
//! the evenings; every shelf-and-search value is our assumption, see
//! `feedsim::shelf`) under the legacy ladder and iron-fan first over R
//! replicates (each a new world, posts and responses; both policies on the
//! same ones), and prints for the platform and each cohort the GMV through
//! every channel, the shares of the feed, live sessions, the shelf and
//! search, and their orders, with 95% Student-t intervals and the paired
//! difference iron-fan first − ladder; then the searches, shelf visits and
//! the mean lag from seeding to order. Douyin reported shelf scenes at ~30%
//! of GMV in 2023 and ~40% in 2024 (DOMAIN.md): a reference for the output,
//! never a target.
//!
//! ```sh
//! cargo run --release --example shelf_search                          # 5 replicates at 1M users
//! cargo run --release --example shelf_search -- --users 200000 --replicates 3 --json shelf.json
//! ```
//!
//! `--scenario FILE` runs another scenario with a `[shelf_search]` table
//! (scaled with `--users`); `--json FILE` writes rows `{"policy", "cohort",
//! "metric", "mean", "lo", "hi"}`, levels per policy and the difference
//! (policy `"iron-fan first − ladder"`).

use feedsim::Error;

#[path = "research/mod.rs"]
mod research;

/// (label, metric, decimals), for the platform and every cohort.
const ROWS: [(&str, &str, usize); 9] = [
    ("GMV, every channel (yuan)", "channels.gmv_yuan", 0),
    ("feed share of GMV", "channels.feed.gmv_share", 3),
    ("live share of GMV", "channels.live.gmv_share", 3),
    ("shelf share of GMV", "channels.shelf.gmv_share", 3),
    ("search share of GMV", "channels.search.gmv_share", 3),
    ("feed orders", "channels.feed.orders", 0),
    ("live orders", "channels.live.orders", 0),
    ("shelf orders", "channels.shelf.orders", 0),
    ("search orders", "channels.search.orders", 0),
];

/// The platform's shopping, beside the rows.
const PLATFORM: [(&str, &str, usize); 4] = [
    ("searches", "shelf_search.searches", 0),
    ("shelf visits", "shelf_search.shelf_visits", 0),
    ("mean lag, days", "shelf_search.mean_lag_days", 2),
    ("users with intent (end)", "shelf_search.users_with_intent_end", 0),
];

fn main() -> Result<(), Error> {
    let args = research::args("shelf_search");
    let (s, report, elapsed) = research::ladder_against_iron_fan_first(
        &args,
        "shelf_search",
        "scenarios/shelf_search.toml",
        "shelf_search",
        |s| s.shelf_search.is_some(),
    )?;
    research::print_header("Shelf and search", &s, &report, elapsed);
    println!(
        "GMV through every channel: the posts' (feed), the live sessions' and the shelf's and search's listings. Shares are of that GMV; \
         Douyin reported shelf scenes at ~30% (2023) and ~40% (2024) of its GMV: a reference, not a target.\n"
    );
    let mut rows = research::levels_and_difference(
        &report,
        std::iter::once(&report.platform).chain(&report.cohorts),
        &ROWS,
        "channels.gmv_yuan",
    );
    println!();
    rows.extend(research::levels_and_difference(
        &report,
        [&report.platform],
        &PLATFORM,
        "shelf_search.searches",
    ));
    println!(
        "\nLag: days from the first impression that seeded the intent to the order through shelf or search (0: the \
         same day). Intent, its decay, the search and shelf rates and the listing weights are our assumptions \
         (scenarios/README.md, [shelf_search])."
    );
    if let Some(path) = research::flag(&args, "json") {
        research::write(&path, &serde_json::to_string_pretty(&rows)?)?;
    }
    Ok(())
}
