//! Fuzz target `friend_edges`: the body is `feedsim::fuzz::friend_edges`, which
//! `tests/fuzz_corpus.rs` also runs over `fuzz/corpus/friend_edges/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| feedsim::fuzz::friend_edges(data));
