//! Fuzz target `sweep`: the body is `feedsim::fuzz::sweep`, which
//! `tests/fuzz_corpus.rs` also runs over `fuzz/corpus/sweep/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| feedsim::fuzz::sweep(data));
