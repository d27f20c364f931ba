//! Fuzz target `scenario`: the body is `feedsim::fuzz::scenario`, which
//! `tests/fuzz_corpus.rs` also runs over `fuzz/corpus/scenario/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| feedsim::fuzz::scenario(data));
