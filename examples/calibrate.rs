//! Calibration check: the default world under the legacy ladder (the
//! baseline the response model's intercepts and watch-time shape are fitted
//! to) against the public figures, target beside realized value, and the
//! same world under iron-fan-first beside it, **not** fitted: its rates are
//! a result.
//!
//! ```sh
//! cargo run --release --example calibrate
//! cargo run --release --example calibrate -- --json target/calibration.json
//! cargo run --release --example calibrate -- --users 100000
//! ```
//!
//! `--json FILE` writes the baseline's figures:
//! `{"per_impression": {"long_view", "like", "comment", "share", "follow"},
//! "watch_ratio": {"mean", "median"}, "click_to_order", "top20_post_share",
//! "impression_gini"}`. `--users N` runs the default world scaled to `N`
//! users (same per-user proportions). The exit status is 1 if a baseline
//! figure is outside its band.

use feedsim::calibration::{self, Figures};
use feedsim::{Error, Scenario, Simulation, World};

#[path = "research/mod.rs"]
mod research;

fn main() -> Result<(), Error> {
    let args = research::args("calibrate");
    let default = Scenario::default_scenario();
    let users: u32 = research::parsed(&args, "users", default.users.count);
    let s = if users == default.users.count {
        default
    } else {
        research::scaled_default(users)?
    };
    let world = World::generate(&s)?;
    let sim = Simulation::new(&s, &world)?;
    let baseline = sim.run(&s.public_pool_ladder, &s.response)?;
    let iron = sim.run(&s.iron_fan_first(), &s.response)?;
    let (b, i) = (calibration::check(&baseline), calibration::check(&iron));
    println!(
        "Calibration: {} users, {} posts; baseline = {} (fitted), beside it {} (a result, not fitted).\n",
        research::thousands(users.into()),
        research::thousands(baseline.platform.posts),
        baseline.policy,
        iron.policy
    );
    println!(
        "{:<26} {:<30} {:>9} {:>19} {:>10} {:>4} {:>16}  source",
        "figure", "unit", "target", "band", "baseline", "", iron.policy
    );
    for (m, n) in b.iter().zip(&i) {
        let band = if m.high.is_finite() {
            format!("[{:.4}, {:.4}]", m.low, m.high)
        } else {
            format!("> {:.1}", m.low)
        };
        println!(
            "{:<26} {:<30} {:>9.4} {:>19} {:>10.4} {:>4} {:>16.4}  {}",
            m.name,
            m.unit,
            m.target,
            band,
            m.realized,
            if m.inside { "ok" } else { "OUT" },
            n.realized,
            m.source
        );
    }
    let (fb, fi) = (Figures::of(&baseline), Figures::of(&iron));
    println!(
        "\nConcentration across posts (a reference, not a band: KuaiRand-Pure's ~27k-user sample caps a viral \
         video's exposures, so a whole platform is more concentrated):\n  top 20% of posts hold {:.1}% of \
         impressions (iron-fan first {:.1}%; KuaiRand-Pure 76.5%), Gini {:.3} ({:.3}; KuaiRand-Pure 0.729).",
        100.0 * fb.top20_post_share,
        100.0 * fi.top20_post_share,
        fb.impression_gini,
        fi.impression_gini
    );
    let first_pool =
        baseline.posts.iter().filter(|p| p.stages_entered <= 1).count() as f64 / baseline.posts.len().max(1) as f64;
    println!(
        "  {:.1}% of posts end in the first pool under the ladder (practitioners: most do).",
        100.0 * first_pool
    );
    if let Some(path) = research::flag(&args, "json") {
        research::write(&path, &serde_json::to_string_pretty(&fb)?)?;
    }
    if b.iter().any(|m| !m.inside) {
        eprintln!("a baseline figure is outside its band");
        std::process::exit(1);
    }
    Ok(())
}
