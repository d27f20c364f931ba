//! What happens to creators when the platform switches from the legacy
//! ladder to iron-fan-first, starting from a world that has lived under the
//! ladder: `scenarios/growth.toml` (the default world with the fan
//! lifecycle) with the followed tab on, warmed up for `--warmup-days` days
//! (default 45) under the ladder, then `--days` measured days (default 30)
//! under three arms from the same checkpoint: the ladder (no switch),
//! iron-fan-first, and iron-fan-first without its iron-fan-ratio weight
//! (only the fans' feedback on the post acts).
//!
//! ```sh
//! cargo run --release --example policy_switch
//! cargo run --release --example policy_switch -- --users 200000 --replicates 3 --json switch.json
//! ```
//!
//! `--arms ladder` runs the ladder arm alone: its weekly levels and its
//! steady-state check, in a third of the measured days' time.
//!
//! Progress goes to standard error: a bar over every replicate's warm-up
//! and arms on a terminal, else (a log file) a line every tenth warm-up day
//! and every measured week, then each part's wall time.
//!
//! Each replicate is a new world, posts and responses (the replicate seeds
//! of [`feedsim::experiment::replicate_seed`]); within a replicate every arm
//! starts from a copy of one warm-up's checkpoint and draws the same
//! responses where it makes the same impressions (common random numbers).
//! For each cohort and measured week the example prints the ladder arm's
//! level and each switched arm's difference from it, with 95% Student-t
//! intervals over replicates (paired by replicate):
//! - **followers** and **iron-fan ratio** at the week's end;
//! - **impressions per post** of the posts published in the week (a post
//!   counts in the week it was published, whenever its push ends);
//! - **GMV** (yuan) of the orders made in the week.
//!
//! Then the ladder arm's steady state: the followers' and iron-fan ratio's
//! slope over the measured days relative to their level, follows added
//! against unfollows, promotions against demotions (and against demotions
//! plus iron fans' unfollows, the iron tier's exits), and the move of the
//! creators' median and 90th-percentile followers, each with its interval,
//! and those two levels at the switch (means over replicates). Last, the
//! same flows pooled over the replicates: the month's counts summed, each
//! ratio with the interval the Poisson chance on its counts alone puts on
//! it ([`Estimate::count_ratio`]), so that a cohort with few events (a
//! KOL's few hundred follows a month) shows how closely its counts can
//! judge a balance at all.
//!
//! `--json FILE` writes rows `{"arm", "cohort", "week", "metric", "mean",
//! "lo", "hi"}`: levels per arm and week (not differences) of `followers`,
//! `iron_fan_ratio`, `impressions_per_post`, `gmv_yuan`, `follows_added`,
//! `unfollows`, `promotions`, `demotions` and `iron_unfollows` (iron fans
//! who unfollowed, part of `unfollows`). `--scenario FILE` runs
//! another scenario (its own `[warmup]`, fast days included, and
//! `[followed_tab]` are kept if it has them; `--warmup-days` overrides the
//! warm-up's days only): `scenarios/growth_ladder_sizes.toml` starts from
//! the cohort sizes the ladder holds (at any `--users`: they do not scale)
//! and warms up 120 days, the first 90 with a fast lifecycle (README, "Is
//! the warmed world a steady state?").
//! `--fast-days F` and `--fast-speed S` set the warm-up's fast start
//! (`[warmup] fast`; `--fast-days 0` turns it off). The default world
//! reaches the ladder's steady state with a long fast start:
//!
//! ```sh
//! cargo run --release --example policy_switch -- --users 200000 --replicates 5 \
//!     --warmup-days 260 --fast-days 200 --fast-speed 10
//! ```

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use feedsim::engine::DayDone;
use feedsim::experiment::{Estimate, replicate_seed};
use feedsim::metrics::{PostReport, Report};
use feedsim::policy::PushPolicy;
use feedsim::{Error, Scenario, Simulation, World};

#[path = "research/mod.rs"]
mod research;
use research::thousands;

const GROWTH: &str = include_str!("../scenarios/growth.toml");
const CONFIDENCE: f64 = 0.95;

/// The weekly metrics, as the JSON names them.
const METRICS: [&str; 9] = [
    "followers",
    "iron_fan_ratio",
    "impressions_per_post",
    "gmv_yuan",
    "follows_added",
    "unfollows",
    "promotions",
    "demotions",
    "iron_unfollows",
];

/// One run's weekly figures: `[cohort][week][metric]`.
type Weekly = Vec<Vec<[f64; METRICS.len()]>>;

/// What one arm of one replicate leaves: its weekly figures and what the
/// steady-state check needs.
struct ArmRun {
    weekly: Weekly,
    /// Per cohort: (followers, iron-fan ratio) per measured day.
    series: Vec<Vec<(f64, f64)>>,
    /// Per cohort: (median, p90) of the creators' followers at the start
    /// and at the end.
    quantiles: Vec<[(f64, f64); 2]>,
}

fn main() -> Result<(), Error> {
    let args = research::args("policy_switch");
    let replicates: u32 = research::parsed(&args, "replicates", 3);
    let mut scenario = research::lifecycle_scenario(&args, GROWTH)?;
    let warmup_days = scenario.warmup_days();
    scenario.feed.days = research::parsed(&args, "days", scenario.feed.days);
    scenario.validate()?;
    if replicates == 0 {
        eprintln!("--replicates 0: at least one replicate is needed");
        std::process::exit(2);
    }
    let json = research::flag(&args, "json");

    let ladder = scenario.public_pool_ladder.clone();
    let iron = scenario.iron_fan_first();
    let no_ratio = iron.without_ratio_weight();
    let all: [(&str, &dyn PushPolicy); 3] = [
        ("ladder", &ladder),
        ("iron_fan_first", &iron),
        ("iron_fan_first_without_ratio_weight", &no_ratio),
    ];
    // `--arms ladder`: the ladder arm alone, for its steady-state check.
    let arms = match research::flag(&args, "arms").as_deref() {
        Some("ladder") => &all[..1],
        _ => &all[..],
    };
    eprintln!(
        "{} users, {} warm-up days under {:?}{}, {} measured days, {} replicates × {} arms",
        thousands(scenario.users.count.into()),
        warmup_days,
        scenario.warmup.map(|w| w.policy).unwrap_or_default(),
        match scenario.warmup.and_then(|w| w.fast) {
            Some(f) => format!(" (the first {} with follows and unfollows ×{})", f.days, f.speed),
            None => String::new(),
        },
        scenario.feed.days,
        replicates,
        arms.len()
    );
    // runs[replicate][arm]
    let mut runs: Vec<Vec<ArmRun>> = Vec::new();
    let progress = Progress::new(replicates, warmup_days, arms.len() as u32, scenario.feed.days);
    for r in 0..replicates {
        let mut s = scenario.clone();
        s.seed = replicate_seed(scenario.seed, r);
        let t = Instant::now();
        let world = World::generate(&s)?;
        let sim = Simulation::new(&s, &world)?;
        let warm = sim.warm_up_with_progress(&s.response, &|d| progress.day(r, None, d, &t))?;
        progress.say(&format!(
            "replicate {r}: warmed up {} days in {:.1?} ({} posts still live at the switch)",
            warm.day(),
            t.elapsed(),
            warm.live_posts()
        ));
        let mut row = Vec::new();
        for (a, &(name, policy)) in arms.iter().enumerate() {
            let t = Instant::now();
            let mut posts = PostWeeks::new(&s);
            let report = sim.resume_streaming(
                &warm,
                policy,
                &s.response,
                &mut |p| posts.add(&p),
                Some(&|d| progress.day(r, Some((a as u32, name)), d, &t)),
            )?;
            progress.say(&format!("replicate {r}: {name} in {:.1?}", t.elapsed()));
            row.push(arm_run(&s, &report, &posts));
        }
        runs.push(row);
    }
    progress.finish();
    print_weeks(&scenario, arms, &runs);
    print_steady_state(&scenario, &runs);
    if let Some(path) = json {
        research::write(&path, &json_rows(&scenario, arms, &runs)?)?;
        eprintln!("wrote {path}");
    }
    Ok(())
}

/// The run's progress over every replicate's warm-up and arms, in days: a
/// bar on a terminal; otherwise (a log file) a line every tenth warm-up
/// day and every measured week.
struct Progress {
    bar: ProgressBar,
    warmup_days: u32,
    days: u32,
    /// Days per replicate: the warm-up's and every arm's.
    per_replicate: u64,
}

impl Progress {
    fn new(replicates: u32, warmup_days: u32, arms: u32, days: u32) -> Self {
        let per_replicate = u64::from(warmup_days) + u64::from(arms) * u64::from(days);
        let bar = ProgressBar::new(u64::from(replicates) * per_replicate);
        bar.set_style(
            ProgressStyle::with_template("[{elapsed_precise}] {bar:30} day {pos}/{len} {msg} (eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress {
            bar,
            warmup_days,
            days,
            per_replicate,
        }
    }

    /// Day `d` of replicate `r` ended: in its warm-up (`arm` `None`), or
    /// in arm `arm` (its index and name), `t` after that part began.
    fn day(&self, r: u32, arm: Option<(u32, &str)>, d: DayDone, t: &Instant) {
        // The part's day from 1; measured days count from the switch, and
        // drain days after the last posting day count as the last.
        let (part, day, of, before) = match arm {
            None => ("warm-up", d.day + 1, self.warmup_days, 0),
            Some((a, name)) => (
                name,
                d.day + 1 - self.warmup_days,
                self.days,
                u64::from(self.warmup_days) + u64::from(a) * u64::from(self.days),
            ),
        };
        let shown = day.min(of);
        self.bar
            .set_position(u64::from(r) * self.per_replicate + before + u64::from(shown));
        self.bar.set_message(format!("replicate {r}, {part} day {shown}/{of}"));
        let every = if arm.is_none() { 10 } else { 7 };
        if self.bar.is_hidden() && day <= of && (day.is_multiple_of(every) || day == of) {
            eprintln!(
                "replicate {r}: {part} day {day}/{of}, {:.1?}, {:.0}M impressions",
                t.elapsed(),
                d.impressions as f64 / 1e6
            );
        }
    }

    /// A line above the bar.
    fn say(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Measured weeks: the measured days in weeks of 7 from the switch; the
/// drain days after the last posting day join the last week.
fn week_of(s: &Scenario, day: u32) -> usize {
    (((day - s.warmup_days()) / 7) as usize).min(weeks(s) - 1)
}

fn weeks(s: &Scenario) -> usize {
    s.feed.days.div_ceil(7) as usize
}

/// Posts and their impressions per cohort and week of publication.
struct PostWeeks<'s> {
    scenario: &'s Scenario,
    /// `[cohort][week]`: (posts, impressions).
    counts: Vec<Vec<(u64, u64)>>,
}

impl<'s> PostWeeks<'s> {
    fn new(s: &'s Scenario) -> Self {
        PostWeeks {
            scenario: s,
            counts: vec![vec![(0, 0); weeks(s)]; s.cohorts.len()],
        }
    }

    fn add(&mut self, p: &PostReport) -> Result<(), Error> {
        let w = week_of(self.scenario, p.slot / self.scenario.feed.slots_per_day);
        let c = &mut self.counts[p.cohort as usize][w];
        c.0 += 1;
        c.1 += p.tally.impressions;
        Ok(())
    }
}

/// Median and 90th percentile of `xs`.
fn median_p90(mut xs: Vec<u32>) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    xs.sort_unstable();
    let q = |p: f64| f64::from(xs[((xs.len() - 1) as f64 * p).round() as usize]);
    (q(0.5), q(0.9))
}

fn arm_run(s: &Scenario, r: &Report, posts: &PostWeeks) -> ArmRun {
    let n = s.cohorts.len();
    let mut weekly: Weekly = vec![vec![[0.0; METRICS.len()]; weeks(s)]; n];
    let mut series = vec![Vec::new(); n];
    for (ci, cohort) in s.cohorts.iter().enumerate() {
        for d in r.daily.iter().filter(|d| d.cohort == cohort.name) {
            let w = &mut weekly[ci][week_of(s, d.day)];
            // Levels at the week's end: the last day seen wins.
            w[0] = d.followers as f64;
            w[1] = d.iron_fan_ratio;
            w[3] += d.gmv_fen as f64 / 100.0;
            w[4] += d.follows_added as f64;
            w[5] += d.unfollows as f64;
            w[6] += d.promotions as f64;
            w[7] += d.demotions as f64;
            w[8] += d.iron_unfollows as f64;
            if d.day < s.total_days() {
                series[ci].push((d.followers as f64, d.iron_fan_ratio));
            }
        }
        for (w, &(count, impressions)) in posts.counts[ci].iter().enumerate() {
            weekly[ci][w][2] = if count == 0 {
                0.0
            } else {
                impressions as f64 / count as f64
            };
        }
    }
    let quantiles = (0..n)
        .map(|ci| {
            let members = r.creators.iter().filter(|c| c.cohort as usize == ci);
            let start = median_p90(members.clone().map(|c| c.followers).collect());
            let end = median_p90(members.map(|c| c.followers_end).collect());
            [start, end]
        })
        .collect();
    ArmRun {
        weekly,
        series,
        quantiles,
    }
}

fn estimate(samples: &[f64]) -> Estimate {
    Estimate::from_samples(samples, CONFIDENCE)
}

fn print_weeks(s: &Scenario, arms: &[(&str, &dyn PushPolicy)], runs: &[Vec<ArmRun>]) {
    println!(
        "Policy switch after a {}-day warm-up under the ladder: {} measured days, {} replicates, 95% intervals \
         (paired by replicate for the differences)",
        s.warmup_days(),
        s.feed.days,
        runs.len()
    );
    let shown = [
        (0, "followers", 0),
        (1, "iron-fan ratio %", 2),
        (2, "impressions/post", 0),
        (3, "GMV yuan", 0),
    ];
    for (ci, cohort) in s.cohorts.iter().enumerate() {
        println!("\n== {} ==", cohort.name);
        for &(m, label, digits) in &shown {
            let scale = if m == 1 { 100.0 } else { 1.0 };
            print!("{:<18} {:<6} | {:^28}", label, "week", arms[0].0);
            for (name, _) in &arms[1..] {
                print!(" | {:^40}", format!("{name} − ladder"));
            }
            println!();
            for w in 0..weeks(s) {
                let sample =
                    |k: usize| -> Vec<f64> { runs.iter().map(|rep| scale * rep[k].weekly[ci][w][m]).collect() };
                let base = sample(0);
                print!(
                    "{:<18} {:<6} | {:>28}",
                    "",
                    w + 1,
                    research::ci(&estimate(&base), digits)
                );
                for k in 1..arms.len() {
                    let diff =
                        Estimate::paired_difference(&sample(k), &base, CONFIDENCE).expect("one sample per replicate");
                    print!(" | {:>40}", research::ci(&diff, digits));
                }
                println!();
            }
        }
    }
    println!(
        "\nWeeks count from the switch (week 1 = the first 7 measured days; the drain days after the last posting \
         day join the last week). Followers and the iron-fan ratio are end-of-week levels; impressions per post are \
         those of the posts published in the week, whenever their push ended; GMV is the week's orders. A difference \
         whose interval excludes 0 is a change the replicates agree on."
    );
}

/// Least-squares slope of `ys` against `0, 1, 2, ...`.
fn slope(ys: &[f64]) -> f64 {
    let n = ys.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mx = (n - 1.0) / 2.0;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let dx = i as f64 - mx;
        sxy += dx * (y - my);
        sxx += dx * dx;
    }
    sxy / sxx
}

fn print_steady_state(s: &Scenario, runs: &[Vec<ArmRun>]) {
    println!(
        "\nThe ladder arm's steady state over the {} measured days (the world after the warm-up, under the policy it \
         was warmed up with); 95% intervals over replicates:",
        s.feed.days
    );
    println!(
        "{:<10} | {:>26} | {:>26} | {:>24} | {:>24} | {:>24} | {:>22} | {:>22} | {:>24}",
        "cohort",
        "followers slope/level",
        "iron-ratio slope/level",
        "unfollows/follows added",
        "demotions/promotions",
        "iron exits/promotions",
        "median followers move",
        "p90 followers move",
        "median / p90 at switch"
    );
    let days = f64::from(s.feed.days);
    for (ci, cohort) in s.cohorts.iter().enumerate() {
        let per_rep = |f: &dyn Fn(&ArmRun) -> f64| estimate(&runs.iter().map(|rep| f(&rep[0])).collect::<Vec<_>>());
        // The change a slope makes over the measured days, over the mean level.
        let relative = |pick: fn(&(f64, f64)) -> f64| {
            move |a: &ArmRun| {
                let ys: Vec<f64> = a.series[ci].iter().map(pick).collect();
                let mean = ys.iter().sum::<f64>() / ys.len().max(1) as f64;
                if mean == 0.0 { 0.0 } else { slope(&ys) * days / mean }
            }
        };
        let sum = |a: &ArmRun, m: usize| a.weekly[ci].iter().map(|w| w[m]).sum::<f64>();
        let ratio = |num: f64, den: f64| if den == 0.0 { f64::NAN } else { num / den };
        let moved = |q: fn(&(f64, f64)) -> f64| {
            move |a: &ArmRun| {
                let [start, end] = &a.quantiles[ci];
                if q(start) == 0.0 { 0.0 } else { q(end) / q(start) - 1.0 }
            }
        };
        let at_switch = |q: fn(&(f64, f64)) -> f64| per_rep(&|a| q(&a.quantiles[ci][0])).mean;
        println!(
            "{:<10} | {:>26} | {:>26} | {:>24} | {:>24} | {:>24} | {:>22} | {:>22} | {:>24}",
            cohort.name,
            research::ci(&per_rep(&relative(|p| p.0)), 3),
            research::ci(&per_rep(&relative(|p| p.1)), 3),
            research::ci(&per_rep(&|a| ratio(sum(a, 5), sum(a, 4))), 3),
            research::ci(&per_rep(&|a| ratio(sum(a, 7), sum(a, 6))), 3),
            research::ci(&per_rep(&|a| ratio(sum(a, 7) + sum(a, 8), sum(a, 6))), 3),
            research::ci(&per_rep(&moved(|q| q.0)), 3),
            research::ci(&per_rep(&moved(|q| q.1)), 3),
            format!("{:.0} / {:.0}", at_switch(|q| q.0), at_switch(|q| q.1)),
        );
    }
    println!(
        "\nslope/level: the least-squares slope of the daily level times the measured days, over its mean (the \
         relative change the trend makes over the period; 0 is flat). unfollows/follows added: 1 is a balance. \
         demotions/promotions counts only the iron fans who fall below the bar; iron exits/promotions adds the \
         iron fans who unfollow, the iron tier's other way out: it is 1 where the tier balances. The followers moves are the creators' median and 90th percentile \
         at the end over those at the start, minus 1; median / p90 at switch: their levels at the start, means over \
         replicates."
    );
    print_pooled_flows(s, runs);
}

/// The ladder arm's month of follow and iron-tier flows summed over the
/// replicates, each ratio with the interval chance alone puts on a ratio of
/// two Poisson counts ([`Estimate::count_ratio`]): whether these worlds'
/// counts could come from a balance, and how many events a cohort has to
/// judge one by.
fn print_pooled_flows(s: &Scenario, runs: &[Vec<ArmRun>]) {
    println!(
        "\nThe same flows pooled over the {} replicates (the counts of the measured days summed; 95% intervals from \
         the Poisson chance on each count alone, not the variation between worlds):",
        runs.len()
    );
    println!(
        "{:<10} | {:>13} | {:>13} | {:>24} | {:>13} | {:>13} | {:>24}",
        "cohort",
        "follows added",
        "unfollows",
        "unfollows/follows added",
        "promotions",
        "iron exits",
        "iron exits/promotions"
    );
    for (ci, cohort) in s.cohorts.iter().enumerate() {
        let total = |ms: &[usize]| -> u64 {
            runs.iter()
                .map(|rep| {
                    rep[0].weekly[ci]
                        .iter()
                        .map(|w| ms.iter().map(|&m| w[m]).sum::<f64>())
                        .sum::<f64>()
                })
                .sum::<f64>()
                .round() as u64
        };
        let (follows, unfollows) = (total(&[4]), total(&[5]));
        let (promotions, exits) = (total(&[6]), total(&[7, 8]));
        println!(
            "{:<10} | {:>13} | {:>13} | {:>24} | {:>13} | {:>13} | {:>24}",
            cohort.name,
            thousands(follows),
            thousands(unfollows),
            research::ci(&Estimate::count_ratio(unfollows, follows, CONFIDENCE), 3),
            thousands(promotions),
            thousands(exits),
            research::ci(&Estimate::count_ratio(exits, promotions, CONFIDENCE), 3),
        );
    }
}

fn json_rows(s: &Scenario, arms: &[(&str, &dyn PushPolicy)], runs: &[Vec<ArmRun>]) -> Result<String, Error> {
    let mut rows = Vec::new();
    for (k, (arm, _)) in arms.iter().enumerate() {
        for (ci, cohort) in s.cohorts.iter().enumerate() {
            for w in 0..weeks(s) {
                for (m, metric) in METRICS.iter().enumerate() {
                    let e = estimate(&runs.iter().map(|rep| rep[k].weekly[ci][w][m]).collect::<Vec<_>>());
                    rows.push(serde_json::json!({
                        "arm": arm,
                        "cohort": cohort.name,
                        "week": w + 1,
                        "metric": metric,
                        "mean": e.mean,
                        "lo": e.low,
                        "hi": e.high,
                    }));
                }
            }
        }
    }
    Ok(serde_json::to_string_pretty(&rows)?)
}
