//! The fuzz targets' bodies, one per input the library reads.
//!
//! Hidden from the documentation: `fuzz/fuzz_targets/*.rs` (cargo-fuzz)
//! call these, and `tests/fuzz_corpus.rs` runs them over the committed
//! corpus (`fuzz/corpus/<target>/`), so `.ci/run` replays every input the
//! fuzzer kept on every change. A body returns quietly on input the library
//! refuses with an error; it panics only where the library broke a promise:
//! a panic or an overflow inside the library (the fuzz build has overflow
//! checks and debug assertions on), or a result that contradicts what was
//! read (a scenario that does not survive being written back, a merge that
//! loses points). See the README's "Fuzzing" section for how to run them.

use std::sync::OnceLock;

use crate::cli;
use crate::engine::Simulation;
use crate::experiment::{Shard, Sweep, SweepReport};
use crate::memory::MemoryEstimate;
use crate::policy::PushPolicy;
use crate::postlog::PostLog;
use crate::scenario::Scenario;
use crate::world::{FriendGraph, World};

/// The most users a fuzzed scenario is run with (larger ones are validated
/// and estimated, not run), so that an execution takes milliseconds.
pub const MAX_USERS: u32 = 2_000;

/// The most days (warm-up included) a fuzzed scenario is run for.
pub const MAX_DAYS: u32 = 2;

/// The memory budget of a fuzzed run: far above what 2,000 users need,
/// far below what an unchecked allocation would try.
pub const BUDGET: u64 = 256 << 20;

/// The users of the fixed world the post-log and friend-graph targets use.
pub const SMALL_USERS: u32 = 1_000;

/// The fixed scenario of the post-log and sweep targets: a 1,000-user,
/// two-day world with three cohorts (one with a product), small enough that
/// a run takes a few milliseconds.
pub fn small_scenario() -> &'static Scenario {
    static S: OnceLock<Scenario> = OnceLock::new();
    S.get_or_init(|| {
        Scenario::from_toml_str(SMALL)
            .unwrap_or_else(|e| unreachable!("the fuzz targets' small scenario is valid (tested): {e}"))
    })
}

const SMALL: &str = r#"
name = "fuzz"
seed = 11
[feed]
days = 2
slots_per_day = 4
[users]
count = 1000
[[cohorts]]
name = "kol"
creators = 2
followers = { min = 200, max = 400 }
iron_fan_ratio = 0.03
verticality = 0.5
posts_per_day = 2.0
[[cohorts]]
name = "waist"
creators = 5
followers = { min = 30, max = 120 }
iron_fan_ratio = 0.15
verticality = 0.8
posts_per_day = 1.0
product = { price_yuan = 59.0, share_of_posts = 0.5 }
[[cohorts]]
name = "general"
creators = 20
followers = { min = 0, max = 20 }
iron_fan_ratio = 0.0
verticality = 0.3
posts_per_day = 0.5
[[public_pool_ladder.pools]]
size = 50
gate = { threshold = 0.0, watch_through = 1.0 }
[[public_pool_ladder.pools]]
size = 200
gate = { threshold = 0.0, watch_through = 1.0 }
"#;

fn small_world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        World::generate(small_scenario())
            .unwrap_or_else(|e| unreachable!("the fuzz targets' small world generates (tested): {e}"))
    })
}

/// Both pushes on `sim`; errors are the library refusing, not a failure.
fn run_both(s: &Scenario, sim: &Simulation) {
    let ladder = s.public_pool_ladder.clone();
    let iron = s.iron_fan_first();
    for p in [&ladder as &dyn PushPolicy, &iron] {
        if let Ok(report) = sim.run(p, &s.response) {
            let t = &report.platform.tally;
            assert!(
                t.watches <= t.impressions,
                "{} watch-throughs from {} impressions",
                t.watches,
                t.impressions
            );
        }
    }
}

/// Scenario text, two ways. As a whole file: parsed and validated; a
/// valid scenario is written back and read again (it must come back
/// equal), its memory estimated, and, when small, generated and run. And as
/// an overlay on [`small_scenario`]: the text's tables and values replace
/// the small scenario's (arrays of tables element by element, so
/// `[[cohorts]]\ncreators = 9` changes the first cohort), which puts most
/// mutations on a scenario that is valid but for the values the fuzzer
/// changed, where world generation and the run see them. A scenario is run
/// when it has at most [`MAX_USERS`] users and [`MAX_DAYS`] days, fits
/// [`BUDGET`] and names no edge-list file.
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = Scenario::from_toml_str(text) {
        round_trip(&s);
        run_if_small(&s);
    }
    if let Some(s) = overlay_on_small(text) {
        round_trip(&s);
        run_if_small(&s);
    }
}

fn round_trip(s: &Scenario) {
    let written = s
        .to_toml_string()
        .unwrap_or_else(|e| panic!("a valid scenario cannot be written back: {e}"));
    let back = Scenario::from_toml_str(&written)
        .unwrap_or_else(|e| panic!("a valid scenario written back is refused: {e}\n{written}"));
    assert!(
        back.to_toml_string().ok().as_deref() == Some(written.as_str()),
        "a scenario written back reads as another:\n{written}"
    );
}

fn run_if_small(s: &Scenario) {
    if MemoryEstimate::of(s).check(BUDGET).is_err()
        || s.users.count > MAX_USERS
        || s.total_days() > MAX_DAYS
        || s.friends.as_ref().is_some_and(|f| f.edge_list.is_some())
    {
        return;
    }
    let Ok(world) = World::generate(s) else {
        return;
    };
    let Ok(sim) = Simulation::new(s, &world) else {
        return;
    };
    run_both(s, &sim);
}

/// `text` (a TOML table) laid over [`small_scenario`], then read as a
/// scenario file; `None` when either step refuses it.
fn overlay_on_small(text: &str) -> Option<Scenario> {
    let overlay: toml::Table = toml::from_str(text).ok()?;
    if overlay.is_empty() {
        return None;
    }
    let mut base = toml::Table::try_from(small_scenario()).ok()?;
    merge(&mut base, overlay);
    Scenario::from_toml_str(&toml::to_string(&base).ok()?).ok()
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (Some(toml::Value::Array(b)), toml::Value::Array(o)) => {
                for (i, item) in o.into_iter().enumerate() {
                    match (b.get_mut(i), item) {
                        (Some(toml::Value::Table(bt)), toml::Value::Table(ot)) => merge(bt, ot),
                        (Some(slot), item) => *slot = item,
                        (None, item) => b.push(item),
                    }
                }
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Post-log text against [`small_scenario`]: load, and replay what loads.
pub fn post_log(data: &[u8]) {
    let s = small_scenario();
    let Ok(log) = PostLog::read(data, "fuzz.csv", s) else {
        return;
    };
    assert!(!log.is_empty(), "an empty post log was accepted");
    let world = small_world();
    let Ok(posts) = log.posts(world) else {
        return;
    };
    assert_eq!(posts.len(), log.len(), "a post log's rows and posts differ");
    let Ok(sim) = Simulation::with_posts(s, world, posts) else {
        return;
    };
    run_both(s, &sim);
}

/// A friend-graph edge list over [`SMALL_USERS`] users: read, and check
/// that every friendship is mutual and within the users.
pub fn friend_edges(data: &[u8]) {
    let Ok(g) = FriendGraph::read_edge_list(data, SMALL_USERS, "fuzz.edges") else {
        return;
    };
    for u in 0..SMALL_USERS {
        for &v in g.friends_of(u) {
            assert!(v < SMALL_USERS && v != u, "user {u} has friend {v}");
            assert!(g.friends_of(v).contains(&u), "{u} lists {v} but not the reverse");
        }
    }
}

/// A sweep: the first line holds `--axis` values separated by `;` (a
/// sweep definition over [`small_scenario`], built but not run); the rest,
/// split at NUL bytes, are shard reports (JSON) to merge. A merge that
/// succeeds must hold every point of its grid once.
pub fn sweep(data: &[u8]) {
    let (first, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(line) = std::str::from_utf8(first) {
        let axes: Result<Vec<_>, _> = line.split(';').filter(|a| !a.is_empty()).map(cli::axis).collect();
        if let Ok(axes) = axes
            && let Ok(sweep) = Sweep::new(small_scenario(), axes)
        {
            let d = sweep.definition();
            assert_eq!(d.points, sweep.points());
            for k in 0..sweep.points().min(64) {
                assert_eq!(sweep.point_values(k).len(), d.axes.len());
            }
        }
    }
    let shards: Vec<SweepReport> = rest
        .split(|&b| b == 0)
        .filter_map(|part| SweepReport::from_json(std::str::from_utf8(part).ok()?).ok())
        .collect();
    if shards.is_empty() {
        return;
    }
    if let Ok(merged) = SweepReport::merge(shards) {
        assert_eq!(merged.shard, None::<Shard>);
        assert_eq!(merged.points.len() as u64, merged.definition.points);
        for (k, p) in merged.points.iter().enumerate() {
            assert_eq!(p.index, k as u64, "a merged sweep's points are out of order");
        }
    }
}

/// An example's command line: the first byte picks the example
/// ([`cli::SPECS`]), the rest are its arguments separated by NUL bytes.
/// What parses is taken further as the example would: axes, metrics, the
/// shard and the memory size.
pub fn command_line(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let spec = &cli::SPECS[usize::from(pick) % cli::SPECS.len()];
    let args: Vec<String> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    };
    let Ok(parsed) = spec.parse(&args) else {
        return;
    };
    let (min, max) = spec.positional;
    assert!((min..=max).contains(&parsed.positional.len()));
    for a in parsed.all("axis") {
        let _ = cli::axis(a);
    }
    if let Some(m) = parsed.get("metrics") {
        let _ = cli::metrics(m);
    }
    if let Some(s) = parsed.get("shard") {
        let _ = s.parse::<Shard>();
    }
    if parsed.has("max-memory") {
        assert!(
            parsed.max_memory().is_some(),
            "--max-memory passed the check but is not a size"
        );
    }
    for name in ["users", "replicates", "days", "creators", "followers"] {
        if parsed.has(name) {
            assert!(
                parsed.parsed::<u32>(name, 0).is_ok_and(|n| n >= 1),
                "--{name} passed the check"
            );
        }
    }
}

/// A fuzz target's body.
pub type Body = fn(&[u8]);

/// The targets by name, as `fuzz/corpus/<name>/` holds their inputs.
pub const TARGETS: &[(&str, Body)] = &[
    ("scenario", scenario),
    ("post_log", post_log),
    ("friend_edges", friend_edges),
    ("sweep", sweep),
    ("command_line", command_line),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_small_world_runs_both_pushes() {
        let s = small_scenario();
        let sim = Simulation::new(s, small_world()).unwrap();
        let r = sim.run(&s.public_pool_ladder, &s.response).unwrap();
        assert!(r.platform.tally.impressions > 0);
        assert!(MemoryEstimate::of(s).check(BUDGET).is_ok());
    }
}
