//! Issue 16's reproducers, written against scenario files, post-log files
//! and the command line: no silent integer overflow in `[dynamics]`, a
//! file's seed range enforced as documented, the post-log rules enforced
//! with the right line for any line ending, and command-line errors found
//! before any work and printed as sentences.

mod common;

use std::process::Command;

use feedsim::{PostLog, Scenario, Simulation, World};

/// The small growth world (fan lifecycle on) over `days`, its
/// `[dynamics]` line `from` replaced by `to`.
fn growth_with(days: u32, from: &str, to: &str) -> Scenario {
    let text = std::fs::read_to_string("scenarios/growth.toml").unwrap();
    assert!(text.contains(from), "{from}");
    let mut s = Scenario::from_toml_str(&text.replacen(from, to, 1))
        .unwrap()
        .scaled(30_000);
    s.feed.days = days;
    s.validate().unwrap();
    s
}

fn run_json(s: &Scenario) -> String {
    let world = World::generate(s).unwrap();
    let sim = Simulation::new(s, &world).unwrap();
    sim.run(&s.iron_fan_first(), &s.response).unwrap().to_json().unwrap()
}

/// `coupon_days = 4294967295` ("forever") wrapped when the coupon's last
/// day was computed, so the coupon was never valid: it must act as any
/// coupon longer than the run does.
#[test]
fn a_coupon_for_ever_is_valid_for_the_whole_run() {
    let forever = growth_with(10, "coupon_days = 7", "coupon_days = 4294967295");
    let long = growth_with(10, "coupon_days = 7", "coupon_days = 1000000");
    let none = growth_with(10, "coupon_days = 7", "coupon_days = 0");
    let (forever, long, none) = (run_json(&forever), run_json(&long), run_json(&none));
    assert!(
        long != none,
        "coupons change nothing in this run: the check could not fail"
    );
    assert!(
        forever == long,
        "a coupon of u32::MAX days is not one longer than the run"
    );
}

/// `points = { watch = 4294967295, ... }` wrapped the sum of an
/// impression's points: a watch and a like gave 0 points. Every fan of
/// this one-creator world who watches and likes its post must now reach
/// the iron-fan bar.
#[test]
fn event_points_saturate_instead_of_wrapping() {
    let text = r#"
        name = "points"
        seed = 5
        [feed]
        days = 1
        slots_per_day = 4
        categories = 4
        [users]
        count = 3000
        daily_activity = 1.0
        [[cohorts]]
        name = "one"
        creators = 1
        followers = { min = 1000, max = 1000 }
        iron_fan_ratio = 0.0
        verticality = 0.5
        posts_per_day = 3.0
        [response]
        model = "constant"
        stranger = { watch = 1.0, like = 1.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.0, order = 0.0 }
        fan      = { watch = 1.0, like = 1.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.0, order = 0.0 }
        iron_fan = { watch = 1.0, like = 1.0, comment = 0.0, share = 0.0, follow = 0.0, click = 0.0, order = 0.0 }
        [attention]
        mode = "unlimited"
        [dynamics]
        enabled = true
        points = { watch = 4294967295, like = 1, comment = 0, share = 0, click = 0, order = 0 }
        daily_decay = 0.0
        iron_fan_above = 100
        iron_fan_below = 50
        follow_score = 0
        unfollow_below = 0
        unfollow_after_days = 0
        coupon_days = 7
    "#;
    let s = Scenario::from_toml_str(text).unwrap();
    let world = World::generate(&s).unwrap();
    let r = Simulation::new(&s, &world)
        .unwrap()
        .run(&s.iron_fan_first(), &s.response)
        .unwrap();
    let c = &r.cohorts[0];
    assert_eq!(c.iron_fans, 0);
    assert!(c.tally.likes > 0 && c.by_tier.total().impressions > 0);
    assert!(
        c.iron_fans_end >= 900,
        "{} of 1,000 fans became iron fans after watching and liking",
        c.iron_fans_end
    );
}

/// `iron_fan_above = 3000000000` wrapped where twice the bound is
/// computed (the generated iron fans' scores are drawn below it), so every
/// generated iron fan started at exactly `iron_fan_below`.
#[test]
fn a_large_iron_fan_bar_spreads_the_generated_scores() {
    let s = growth_with(1, "iron_fan_above = 60", "iron_fan_above = 3000000000");
    let s = {
        let mut s = s;
        s.dynamics.iron_fan_below = 2_900_000_000;
        s.validate().unwrap();
        s
    };
    let world = World::generate(&s).unwrap();
    let g = world.graph();
    let kol = world.cohorts()[0].first_creator;
    let scores: Vec<u32> = g.iron_fans_of(kol).iter().map(|&u| g.score(kol, u).unwrap()).collect();
    assert!(scores.len() > 100);
    assert!(scores.iter().all(|&x| x >= 2_900_000_000));
    let distinct: std::collections::HashSet<u32> = scores.iter().copied().collect();
    assert!(distinct.len() > scores.len() / 2, "{} distinct scores", distinct.len());
}

/// scenarios/README.md: a file's seed is 0 to 2^63 − 1.
#[test]
fn a_file_seed_above_two_to_the_63_is_refused_by_name() {
    let text = std::fs::read_to_string("scenarios/default.toml").unwrap();
    let line = text.lines().find(|l| l.starts_with("seed = ")).unwrap();
    for (seed, ok) in [
        ("18446744073709551615", false),
        ("9223372036854775808", false),
        ("9223372036854775807", true),
    ] {
        let r = Scenario::from_toml_str(&text.replacen(line, &format!("seed = {seed}"), 1));
        match (r, ok) {
            (Ok(_), true) => {}
            (Err(e), false) => {
                let e = e.to_string();
                assert!(e.contains("seed") && e.contains(seed), "{e}");
            }
            (r, _) => panic!("seed {seed}: {:?}", r.map(|s| s.seed)),
        }
    }
}

fn log(text: &str) -> Result<PostLog, feedsim::Error> {
    let s = common::small_scenario();
    PostLog::read(text.as_bytes(), "posts.csv", &s)
}

#[test]
fn a_post_log_refuses_a_quality_just_above_100() {
    let e = log("creator,day,slot,quality\n0,0,1,100.000001\n").unwrap_err();
    assert_eq!(e.field(), Some("posts.csv:2.quality"), "{e}");
    assert!(log("creator,day,slot,quality\n0,0,1,100\n").is_ok());
}

/// A file with old-Mac line endings (a lone CR) names the right line.
#[test]
fn a_post_log_with_cr_line_endings_names_the_right_line() {
    let e = log("creator,day,slot,quality\r0,0,1,0.5\r0,0,1,high\r").unwrap_err();
    assert_eq!(e.field(), Some("posts.csv:3.quality"), "{e}");
    let ok = log("creator,day,slot,quality\r0,0,1,0.5\r# a comment\r\r0,0,2,0.1\r").unwrap();
    assert_eq!(ok.entries().len(), 2);
    assert_eq!(ok.entries()[1].line, 5);
    // And mixed endings count one line each.
    let e = log("creator,day,slot,quality\r\n0,0,1,0.5\n0,0,1,0.5\r0,0,x,0.5\r\n").unwrap_err();
    assert_eq!(e.field(), Some("posts.csv:4.slot"), "{e}");
}

/// The module docs say a field cannot span lines.
#[test]
fn a_post_log_refuses_a_quoted_field_spanning_lines() {
    let e = log("creator,day,slot,quality\n0,0,1,\"0.5\n\"\n").unwrap_err();
    assert_eq!(e.field(), Some("posts.csv:2"), "{e}");
    assert!(e.to_string().contains("span lines"), "{e}");
    // A quote written twice inside a quoted field is fine.
    let e = log("creator,day,slot,quality\n0,0,1,\"0.5\"\"\"\n").unwrap_err();
    assert_eq!(e.field(), Some("posts.csv:2.quality"), "{e}");
    assert!(log("creator,day,slot,quality\n0,0,1,\"0.5\"\n").is_ok());
}

fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(|d| d.parent()).unwrap();
    profile.join("examples").join(name)
}

/// An error from an example is a sentence naming the field and the value,
/// not a debug structure.
#[test]
fn examples_print_errors_as_sentences() {
    let file = std::env::temp_dir().join(format!("feedsim-bad-{}.toml", std::process::id()));
    let text = std::fs::read_to_string("scenarios/default.toml").unwrap();
    std::fs::write(&file, text.replacen("daily_activity = 0.62", "daily_activity = 1.5", 1)).unwrap();
    let prefix = std::env::temp_dir().join(format!("feedsim-bad-sweep-{}", std::process::id()));
    let out = Command::new(example("sweep"))
        .args(["--scenario", file.to_str().unwrap()])
        .args([
            "--axis",
            "cohorts.waist.iron_fan_ratio=0.1,0.2",
            "--out",
            prefix.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid users.daily_activity = 1.5"), "{err}");
    assert!(!err.contains("Invalid {") && !err.contains("field:"), "{err}");
}

/// `sweep --metrics` with a group the scenario does not have, or a metric
/// its group does not have (found by a probe run of the scenario shrunk to
/// 2,000 users), is refused before the sweep runs.
#[test]
fn sweep_refuses_unknown_metrics_before_running() {
    let out_prefix = std::env::temp_dir().join(format!("feedsim-sweep-bad-{}", std::process::id()));
    for (metrics, named) in [
        ("nosuch/tally.orders", "nosuch"),
        ("platform/tally.orders,waist/tally.nosuch", "waist/tally.nosuch"),
    ] {
        let out = Command::new(example("sweep"))
            .args(["--users", "20000", "--axis", "cohorts.waist.iron_fan_ratio=0.1,0.2"])
            .args([
                "--replicates",
                "1",
                "--metrics",
                metrics,
                "--out",
                out_prefix.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(named), "{err}");
        assert!(!err.contains("sweep of"), "the sweep started: {err}");
    }
}

/// [`RESULTS_VERSION`](feedsim::experiment::RESULTS_VERSION) names the
/// golden reports, so that a sweep merge can refuse shards computed by a
/// build whose figures differ: regenerating the goldens (a change that
/// moves a figure of a valid scenario) must bump it and add the new
/// digest here.
#[test]
fn the_results_version_names_the_golden_reports() {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir("tests/golden")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for b in name.bytes().chain(std::fs::read(f).unwrap()) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let digest = format!("{hash:016x}");
    // (version, digest of tests/golden/*), newest last.
    const VERSIONS: [(u32, &str); 2] = [(1, "c8f2a4cdccbe32b5"), (2, "96c1acccf01397ac")];
    let (version, pinned) = VERSIONS[VERSIONS.len() - 1];
    assert_eq!(
        (feedsim::experiment::RESULTS_VERSION, digest.as_str()),
        (version, pinned),
        "the golden reports changed: bump RESULTS_VERSION and add (version, {digest:?}) to VERSIONS"
    );
}

/// Writes `text` to a temporary scenario file and runs the `scenario`
/// example on it with `--max-memory budget`; returns (status code, stderr).
fn scenario_with_budget(tag: &str, text: &str, budget: &str) -> (Option<i32>, String) {
    let file = std::env::temp_dir().join(format!("feedsim-mem-{tag}-{}.toml", std::process::id()));
    std::fs::write(&file, text).unwrap();
    let out = Command::new(example("scenario"))
        .args([file.to_str().unwrap(), "--max-memory", budget])
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Runs that pass validation but cannot fit in memory aborted with
/// "memory allocation of ... bytes failed" (exit 134); each is now refused
/// before allocating, by the field responsible, with exit status 1.
#[test]
fn runs_beyond_the_memory_budget_are_refused_by_field() {
    let default = std::fs::read_to_string("scenarios/default.toml").unwrap();
    let replace = |from: &str, to: &str| {
        assert!(default.contains(from), "{from}");
        default.replacen(from, to, 1)
    };
    for (tag, text, budget, field) in [
        (
            "users",
            replace("count = 1_000_000", "count = 4_000_000_000"),
            "16G",
            "users.count",
        ),
        (
            "creators",
            replace(
                "creators = 40_000\nfollowers = { min = 0, max = 50_000, median = 48.0, p90 = 660.0 }\niron_fan_ratio = 0.1\nverticality = 0.5\nposts_per_day = 0.3",
                "creators = 4_000_000_000\nfollowers = { min = 0, max = 0 }\niron_fan_ratio = 0.1\nverticality = 0.5\nposts_per_day = 0.0",
            ),
            "16G",
            "cohorts[4].creators",
        ),
        (
            "posts",
            replace("posts_per_day = 0.3", "posts_per_day = 1000.0"),
            "16G",
            "cohorts[4].posts_per_day",
        ),
        // The default world itself, under a budget below it.
        ("budget", default.clone(), "64M", "cohorts[4].followers"),
    ] {
        let (code, err) = scenario_with_budget(tag, &text, budget);
        assert_eq!(code, Some(1), "{tag}: {err}");
        assert!(err.contains("above the budget") && err.contains(field), "{tag}: {err}");
        assert!(!err.contains("memory allocation"), "{tag}: {err}");
    }
    // A bad size is a usage error, before any work.
    let (code, err) = scenario_with_budget("size", &default, "lots");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--max-memory"), "{err}");
}

/// The estimate the budget is checked against is within a factor of 2 of
/// the peak a run really reaches, measured in a process of its own
/// (`throughput --row` prints both).
#[test]
fn the_memory_estimate_is_within_a_factor_of_two_of_the_measured_peak() {
    for policy in ["ladder", "iron"] {
        let out = Command::new(example("throughput"))
            .args([
                "--row",
                "--users",
                "200000",
                "--policy",
                policy,
                "--attention",
                "finite",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let estimate = row["estimated_peak_bytes"].as_f64().unwrap();
        let peak = row["peak_rss_bytes"].as_f64().unwrap();
        assert!(peak > 0.0, "no peak measured");
        let ratio = estimate / peak;
        assert!(
            (0.5..=2.0).contains(&ratio),
            "{policy}: estimate {estimate}, peak {peak}"
        );
    }
}
