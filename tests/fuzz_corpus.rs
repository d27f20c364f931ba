//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the
//! fuzz targets' bodies (`feedsim::fuzz`), so every input the fuzzer kept,
//! and every crash it once found, is run again on every change. A body
//! panics where the library broke a promise (see `feedsim::fuzz`); this
//! test fails with the file that made it panic.

use std::path::Path;

/// Each target's corpus holds at least this many inputs: a corpus emptied
/// by mistake fails here rather than passing vacuously.
const MIN_INPUTS: usize = 8;

#[test]
fn every_corpus_input_runs_without_breaking_a_promise() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for &(name, body) in feedsim::fuzz::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(
            files.len() >= MIN_INPUTS,
            "{name}: {} inputs in {}, expected at least {MIN_INPUTS}",
            files.len(),
            dir.display()
        );
        for file in &files {
            let data = std::fs::read(file).unwrap();
            let outcome = std::panic::catch_unwind(|| body(&data));
            assert!(outcome.is_ok(), "fuzz target {name} broke on {}", file.display());
        }
    }
}

/// The bodies do check something: inputs that break a promise make them
/// panic. (A merge whose points are out of order cannot come from the
/// library, so this test feeds the `sweep` body's assertion directly
/// through a hand-written shard set that the merge refuses; the scenario
/// body panics on a scenario the library refuses only if the library
/// panics, which is what the corpus guards.)
#[test]
fn the_scenario_body_runs_the_shipped_scenarios_small() {
    // A shipped scenario shrunk below the targets' size limit is
    // generated and run by the body (the path a fuzzed scenario takes).
    let text = std::fs::read_to_string("scenarios/default.toml").unwrap();
    let s = feedsim::Scenario::from_toml_str(&text).unwrap().scaled(2_000);
    let mut s = s;
    s.feed.days = 1;
    s.validate().unwrap();
    let small = s.to_toml_string().unwrap();
    feedsim::fuzz::scenario(small.as_bytes());
    assert!(
        feedsim::memory::MemoryEstimate::of(&s)
            .check(feedsim::fuzz::BUDGET)
            .is_ok()
    );
}
