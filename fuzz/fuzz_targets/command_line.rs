//! Fuzz target `command_line`: the body is `feedsim::fuzz::command_line`, which
//! `tests/fuzz_corpus.rs` also runs over `fuzz/corpus/command_line/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| feedsim::fuzz::command_line(data));
