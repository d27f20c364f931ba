//! Fuzz target `post_log`: the body is `feedsim::fuzz::post_log`, which
//! `tests/fuzz_corpus.rs` also runs over `fuzz/corpus/post_log/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| feedsim::fuzz::post_log(data));
