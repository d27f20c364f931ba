//! Bad input is refused, never accepted and never a panic.
//!
//! Every validation rule of a scenario (and of the run-time API: policies
//! handed to `Simulation::run`, posts handed to `Simulation::with_posts`) is
//! exercised here with a value it must refuse. For `Error::Invalid` the test
//! checks the exact field path and that the message shows the refused value;
//! for TOML-level errors (unknown keys, wrong types, integers that do not fit)
//! it checks for `Error::Toml` and that the message names the key.
//!
//! Scenarios are built from a small valid base, mutated either as TOML text or
//! as a `Scenario` value. Every struct mutation is also written back to TOML
//! and parsed again, so each rule is checked both through `validate()` and
//! through `from_toml_str` (this is how NaN and infinities are tested through
//! TOML too, besides the hand-written `nan`/`inf` cases). Only the tests at the
//! end build a `World`, once, shared through a `OnceLock`.

use std::sync::OnceLock;

use feedsim::audience::{InterestTargetedPublic, OtherFans};
use feedsim::content::Post;
use feedsim::feed::{FeedSpec, SingleColumn, XMixer};
use feedsim::policy::{
    Gate, IronFanFirst, Order, Pool, PublicPoolLadder, PushContext, PushEnd, PushPolicy, Size, Stage, Step,
};
use feedsim::response::{ConstantModel, LogisticModel, ResponseSpec};
use feedsim::scenario::{CohortParams, FollowerRange, MAX_PRICE_YUAN, ProductParams};
use feedsim::{Error, Result, Scenario, Simulation, World};

/// A small valid scenario: 3,000 users, two small cohorts, default response
/// model and policies.
const BASE: &str = r#"
name = "bad-input-base"
seed = 11

[feed]
days = 1
slots_per_day = 4
categories = 5
interest_targeting = 0.5

[users]
count = 3000
interests_per_user = 2
primary_interest = 0.7
daily_activity = 0.6
activity_concentration = 4.0
purchase_propensity_sd = 1.0

[[cohorts]]
name = "small"
archetype = "waist"
creators = 3
followers = { min = 10, max = 200 }
iron_fan_ratio = 0.2
verticality = 0.8
posts_per_day = 1.0
quality = { mean = 0.1, sd = 1.0, creator_sd = 0.3 }
trust = 0.5
product = { price_yuan = 50.0, share_of_posts = 0.5 }

[[cohorts]]
name = "tiny"
archetype = "newcomer"
creators = 2
followers = { min = 0, max = 50 }
iron_fan_ratio = 0.5
verticality = 0.5
posts_per_day = 0.5
"#;

/// A full `[iron_fan_first]` table (every key it requires), to append to
/// `BASE` after edits.
const IRON_FAN_FIRST: &str = r#"
[iron_fan_first]
iron_fans = { gate = { threshold = 2.5, watch_through = 1.5, like = 10.0, min_impressions = 20 } }
fan_waves = { first = 200, growth = 2.0, max_waves = 8, gate = { threshold = 1.4, watch_through = 1.5, like = 10.0 } }
public_weight = { reference_ratio = 0.1, ratio_exponent = 0.5, max_feedback_boost = 2.0, min = 0.25, max = 4.0 }
"#;

/// A full constant-model `[response]` table.
const CONSTANT_RESPONSE: &str = r#"
[response]
model = "constant"
stranger = { watch = 0.45, like = 0.07, comment = 0.013, share = 0.004, follow = 0.006, click = 0.04, order = 0.04 }
fan = { watch = 0.69, like = 0.10, comment = 0.02, share = 0.006, follow = 0.0, click = 0.09, order = 0.06 }
iron_fan = { watch = 0.86, like = 0.26, comment = 0.09, share = 0.02, follow = 0.0, click = 0.21, order = 0.10 }
"#;

/// With `FEEDSIM_SEED_CORPUS=DIR` set, writes each refused scenario text
/// to `DIR` (named by a hash of the text): how the scenario fuzz target's
/// corpus (`fuzz/corpus/scenario/bad-*`) was seeded with these cases.
fn seed_corpus(text: &str) {
    if let Some(dir) = std::env::var_os("FEEDSIM_SEED_CORPUS") {
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        std::fs::write(std::path::Path::new(&dir).join(format!("bad-{hash:016x}")), text).unwrap();
    }
}

fn base() -> Scenario {
    Scenario::from_toml_str(BASE).expect("the base scenario is valid")
}

/// `BASE` with the one occurrence of `old` replaced by `new`.
#[track_caller]
fn edit(old: &str, new: &str) -> String {
    edit_in(BASE, old, new)
}

#[track_caller]
fn edit_in(text: &str, old: &str, new: &str) -> String {
    assert_eq!(text.matches(old).count(), 1, "{old:?} must occur exactly once");
    text.replacen(old, new, 1)
}

/// `BASE` with `extra` appended (new tables go at the end).
fn append(extra: &str) -> String {
    format!("{BASE}\n{extra}\n")
}

/// Asserts an `Error::Invalid` naming `field` whose message shows `value`.
#[track_caller]
fn assert_invalid<T>(result: Result<T>, field: &str, value: &str) {
    let Err(err) = result else {
        panic!("accepted bad input: expected {field} = {value} to be refused");
    };
    assert!(matches!(err, Error::Invalid { .. }), "not Error::Invalid: {err:?}");
    assert_eq!(err.field(), Some(field), "wrong field in: {err}");
    let msg = err.to_string();
    let prefix = format!("invalid {field} = {value}: ");
    assert!(msg.starts_with(&prefix), "{msg:?} does not start with {prefix:?}");
}

/// Asserts that TOML `text` is refused with `Error::Invalid` on `field`.
#[track_caller]
fn refuse_text(text: &str, field: &str, value: &str) {
    seed_corpus(text);
    assert_invalid(Scenario::from_toml_str(text), field, value);
}

/// Mutates the base scenario and asserts that both `validate()` and a round
/// trip through TOML text refuse it, naming `field` and showing `value`.
#[track_caller]
fn refuse(mutate: impl FnOnce(&mut Scenario), field: &str, value: &str) {
    let mut s = base();
    mutate(&mut s);
    assert_invalid(s.validate(), field, value);
    let text = s
        .to_toml_string()
        .unwrap_or_else(|e| panic!("an invalid scenario could not be written as TOML: {e}"));
    seed_corpus(&text);
    assert_invalid(Scenario::from_toml_str(&text), field, value);
}

/// Asserts an `Error::Toml` whose message contains every string of `needles`
/// (the key, and the refused value where there is one).
#[track_caller]
fn refuse_toml(text: &str, needles: &[&str]) {
    seed_corpus(text);
    let Err(err) = Scenario::from_toml_str(text) else {
        panic!("accepted bad TOML, expected an error mentioning {needles:?}");
    };
    assert!(matches!(err, Error::Toml(_)), "not Error::Toml: {err:?}");
    assert_eq!(err.field(), None);
    let msg = err.to_string();
    for n in needles {
        assert!(msg.contains(n), "{msg:?} does not mention {n:?}");
    }
}

#[test]
fn base_scenario_is_valid() {
    let s = base();
    s.validate().unwrap();
    assert_eq!(s.users.count, 3000);
    assert_eq!(s.cohorts.len(), 2);
    // The appended tables are valid on their own, so the TOML tests below
    // fail only because of their one edit.
    Scenario::from_toml_str(&append(IRON_FAN_FIRST)).unwrap();
    Scenario::from_toml_str(&append(CONSTANT_RESPONSE)).unwrap();
}

// ---------------------------------------------------------------------------
// TOML level: unknown keys.

#[test]
fn unknown_key_at_top_level() {
    refuse_toml(&edit("seed = 11\n", "seed = 11\ncolour = \"blue\"\n"), &["colour"]);
}

#[test]
fn unknown_key_in_feed() {
    refuse_toml(&edit("[feed]\n", "[feed]\nhours_per_slot = 3\n"), &["hours_per_slot"]);
}

#[test]
fn unknown_key_in_users() {
    refuse_toml(&edit("[users]\n", "[users]\nbots = 10\n"), &["bots"]);
}

#[test]
fn unknown_key_in_cohort() {
    refuse_toml(
        &edit("name = \"tiny\"\n", "name = \"tiny\"\nad_budget = 5\n"),
        &["ad_budget"],
    );
}

#[test]
fn unknown_key_in_cohort_subtables() {
    refuse_toml(&edit("max = 200 }", "max = 200, mode = 50 }"), &["mode"]);
    refuse_toml(&edit("creator_sd = 0.3 }", "creator_sd = 0.3, skew = 1.0 }"), &["skew"]);
    refuse_toml(
        &edit("share_of_posts = 0.5 }", "share_of_posts = 0.5, stock = 3 }"),
        &["stock"],
    );
}

#[test]
fn unknown_key_in_ladder_pool_and_gate() {
    refuse_toml(
        &append("[[public_pool_ladder.pools]]\nsize = 300\nttl_slots = 3\n"),
        &["ttl_slots"],
    );
    refuse_toml(
        &append("[[public_pool_ladder.pools]]\nsize = 300\ngate = { threshold = 1.0, dwell_time = 2.0 }\n"),
        &["dwell_time"],
    );
}

#[test]
fn unknown_key_in_iron_fan_first_and_its_gate() {
    refuse_toml(
        &append(&edit_in(
            IRON_FAN_FIRST,
            "max = 4.0 }\n",
            "max = 4.0, min_boost = 1.0 }\n",
        )),
        &["min_boost"],
    );
    refuse_toml(
        &append(&edit_in(
            IRON_FAN_FIRST,
            "min_impressions = 20 }",
            "min_impressions = 20, recency = 7 }",
        )),
        &["recency"],
    );
    refuse_toml(
        &append(&edit_in(
            IRON_FAN_FIRST,
            "iron_fans = { gate",
            "iron_fans = { cap = 10, gate",
        )),
        &["cap"],
    );
}

#[test]
fn unknown_key_in_logistic_response() {
    refuse_toml(
        &append("[response]\nmodel = \"logistic\"\nretention = 0.5\n"),
        &["retention"],
    );
    // Inside a coefficient table.
    refuse_toml(
        &append("[response]\nmodel = \"logistic\"\nwatch = { base = -1.0, novelty = 0.3 }\n"),
        &["novelty"],
    );
}

#[test]
fn unknown_key_in_constant_response() {
    refuse_toml(
        &append(&format!("{CONSTANT_RESPONSE}bystander = {{ watch = 0.1 }}\n")),
        &["bystander"],
    );
    refuse_toml(
        &append(&edit_in(
            CONSTANT_RESPONSE,
            "order = 0.10 }",
            "order = 0.10, refund = 0.01 }",
        )),
        &["refund"],
    );
}

#[test]
fn unknown_response_model_and_enum_values() {
    refuse_toml(&append("[response]\nmodel = \"neural\"\n"), &["neural"]);
    refuse_toml(
        &edit("archetype = \"waist\"", "archetype = \"influencer\""),
        &["influencer"],
    );
    refuse_toml(
        &append(&edit_in(
            IRON_FAN_FIRST,
            "min_impressions = 20 }",
            "min_impressions = 20, over = \"forever\" }",
        )),
        &["forever"],
    );
    refuse_toml(
        &append(&edit_in(
            IRON_FAN_FIRST,
            "max_waves = 8,",
            "max_waves = 8, order = \"loudest\",",
        )),
        &["loudest"],
    );
}

// ---------------------------------------------------------------------------
// TOML level: wrong types, missing keys, integers that do not fit.

#[test]
fn wrong_types_name_the_key() {
    refuse_toml(&edit("seed = 11", "seed = \"eleven\""), &["seed"]);
    refuse_toml(&edit("days = 1", "days = 1.5"), &["days", "1.5"]);
    refuse_toml(&edit("count = 3000", "count = true"), &["count"]);
    refuse_toml(
        &edit("iron_fan_ratio = 0.2", "iron_fan_ratio = \"high\""),
        &["iron_fan_ratio", "high"],
    );
    refuse_toml(
        &edit("followers = { min = 10, max = 200 }", "followers = 200"),
        &["followers"],
    );
    refuse_toml(&edit("name = \"bad-input-base\"", "name = 5"), &["name"]);
    refuse_toml(
        &append("[[public_pool_ladder.pools]]\nsize = \"big\"\n"),
        &["size", "big"],
    );
}

/// Wrong types inside `[response]` (an internally tagged enum) are refused as
/// TOML errors that show the refused value ...
#[test]
fn wrong_types_inside_response_are_refused() {
    refuse_toml(
        &append("[response]\nmodel = \"logistic\"\nprice_sensitivity = \"high\"\n"),
        &["[response]", "high"],
    );
    refuse_toml(
        &append("[response]\nmodel = \"logistic\"\nwatch = { base = \"low\" }\n"),
        &["[response]", "low"],
    );
    refuse_toml(
        &append(&edit_in(CONSTANT_RESPONSE, "watch = 0.45", "watch = \"often\"")),
        &["[response]", "often"],
    );
}

#[test]
fn response_table_without_model() {
    refuse_toml(&append("[response]\nprice_sensitivity = 0.3\n"), &["model"]);
}

#[test]
fn missing_required_keys_are_named() {
    refuse_toml(&edit("creators = 3\n", ""), &["creators"]);
    refuse_toml(&edit("seed = 11\n", ""), &["seed"]);
    refuse_toml(&edit("iron_fan_ratio = 0.5\n", ""), &["iron_fan_ratio"]);
}

#[test]
fn negative_number_for_unsigned_fields() {
    refuse_toml(&edit("count = 3000", "count = -5"), &["count", "-5"]);
    refuse_toml(&edit("creators = 3", "creators = -1"), &["creators", "-1"]);
    refuse_toml(&edit("seed = 11", "seed = -1"), &["seed", "-1"]);
    refuse_toml(
        &edit("followers = { min = 10,", "followers = { min = -10,"),
        &["min", "-10"],
    );
}

#[test]
fn u32_overflow() {
    refuse_toml(
        &append("[[public_pool_ladder.pools]]\nsize = 5000000000\n"),
        &["size", "5000000000"],
    );
    refuse_toml(&edit("count = 3000", "count = 5000000000"), &["count", "5000000000"]);
    refuse_toml(
        &edit("slots_per_day = 4", "slots_per_day = 4294967296"),
        &["slots_per_day", "4294967296"],
    );
}

// ---------------------------------------------------------------------------
// [feed]

#[test]
fn days_zero() {
    refuse(|s| s.feed.days = 0, "feed.days", "0");
}

#[test]
fn slots_per_day_zero() {
    refuse(|s| s.feed.slots_per_day = 0, "feed.slots_per_day", "0");
}

#[test]
fn days_times_slots_too_many() {
    refuse(
        |s| {
            s.feed.days = 1001;
            s.feed.slots_per_day = 1000;
        },
        "feed.slots_per_day",
        "1000",
    );
}

#[test]
fn days_times_slots_overflows_u32() {
    refuse(
        |s| {
            s.feed.days = 30_000;
            s.feed.slots_per_day = 200_000;
        },
        "feed.slots_per_day",
        "200000",
    );
    refuse(
        |s| {
            s.feed.days = 1;
            s.feed.slots_per_day = u32::MAX;
        },
        "feed.slots_per_day",
        "4294967295",
    );
}

#[test]
fn days_past_what_a_follow_edge_keeps() {
    refuse(|s| s.feed.days = 30_001, "feed.days", "30001");
    refuse(|s| s.feed.days = u32::MAX, "feed.days", "4294967295");
}

#[test]
fn unfollow_after_more_days_than_a_fan_counts() {
    refuse(
        |s| s.dynamics.unfollow_after_days = 256,
        "dynamics.unfollow_after_days",
        "256",
    );
}

#[test]
fn categories_zero_and_256() {
    refuse(|s| s.feed.categories = 0, "feed.categories", "0");
    refuse(|s| s.feed.categories = 256, "feed.categories", "256");
    refuse(|s| s.feed.categories = u32::MAX, "feed.categories", "4294967295");
}

#[test]
fn interest_targeting_out_of_range() {
    refuse(|s| s.feed.interest_targeting = 1.5, "feed.interest_targeting", "1.5");
    refuse(|s| s.feed.interest_targeting = -0.1, "feed.interest_targeting", "-0.1");
    refuse(
        |s| s.feed.interest_targeting = f64::NAN,
        "feed.interest_targeting",
        "NaN",
    );
}

// ---------------------------------------------------------------------------
// [users]

#[test]
fn empty_population() {
    refuse(|s| s.users.count = 0, "users.count", "0");
    refuse_text(&edit("count = 3000", "count = 0"), "users.count", "0");
}

#[test]
fn population_at_u32_max() {
    refuse(|s| s.users.count = u32::MAX, "users.count", "4294967295");
}

#[test]
fn too_many_or_too_few_interests() {
    refuse(|s| s.users.interests_per_user = 4, "users.interests_per_user", "4");
    refuse(|s| s.users.interests_per_user = 0, "users.interests_per_user", "0");
    // More interests than categories.
    refuse(
        |s| {
            s.feed.categories = 2;
            s.users.interests_per_user = 3;
        },
        "users.interests_per_user",
        "3",
    );
}

#[test]
fn primary_interest_out_of_range() {
    refuse(|s| s.users.primary_interest = 1.5, "users.primary_interest", "1.5");
    refuse(|s| s.users.primary_interest = -0.2, "users.primary_interest", "-0.2");
}

#[test]
fn daily_activity_out_of_range() {
    refuse(|s| s.users.daily_activity = 1.2, "users.daily_activity", "1.2");
    refuse(|s| s.users.daily_activity = -0.5, "users.daily_activity", "-0.5");
    refuse(|s| s.users.daily_activity = f64::NAN, "users.daily_activity", "NaN");
    refuse_text(
        &edit("daily_activity = 0.6", "daily_activity = nan"),
        "users.daily_activity",
        "NaN",
    );
}

#[test]
fn activity_concentration_not_positive() {
    refuse(
        |s| s.users.activity_concentration = 0.0,
        "users.activity_concentration",
        "0",
    );
    refuse(
        |s| s.users.activity_concentration = -4.0,
        "users.activity_concentration",
        "-4",
    );
    refuse(
        |s| s.users.activity_concentration = f64::INFINITY,
        "users.activity_concentration",
        "inf",
    );
}

#[test]
fn purchase_propensity_sd_negative_or_nan() {
    refuse(
        |s| s.users.purchase_propensity_sd = -1.0,
        "users.purchase_propensity_sd",
        "-1",
    );
    refuse(
        |s| s.users.purchase_propensity_sd = f64::NAN,
        "users.purchase_propensity_sd",
        "NaN",
    );
}

// ---------------------------------------------------------------------------
// [[cohorts]]

#[test]
fn empty_cohorts_list() {
    refuse(|s| s.cohorts.clear(), "cohorts", "[]");
    // As text: an empty array of cohorts at the top level.
    let text = BASE.split("[[cohorts]]").next().unwrap();
    let text = edit_in(text, "seed = 11\n", "seed = 11\ncohorts = []\n");
    refuse_text(&text, "cohorts", "[]");
}

#[test]
fn empty_or_blank_cohort_name() {
    refuse(|s| s.cohorts[0].name = String::new(), "cohorts[0].name", "\"\"");
    refuse(|s| s.cohorts[1].name = "  ".into(), "cohorts[1].name", "\"  \"");
}

#[test]
fn duplicate_cohort_names() {
    refuse(|s| s.cohorts[1].name = "small".into(), "cohorts[1].name", "small");
    refuse_text(&edit("name = \"tiny\"", "name = \"small\""), "cohorts[1].name", "small");
}

#[test]
fn zero_creators() {
    refuse(|s| s.cohorts[0].creators = 0, "cohorts[0].creators", "0");
    refuse(|s| s.cohorts[1].creators = 0, "cohorts[1].creators", "0");
}

#[test]
fn followers_min_above_max() {
    refuse(|s| s.cohorts[0].followers.min = 201, "cohorts[0].followers.min", "201");
}

#[test]
fn log_normal_followers_need_both_quantiles_in_order() {
    refuse(
        |s| s.cohorts[0].followers.median = Some(48.0),
        "cohorts[0].followers.p90",
        "missing",
    );
    refuse(
        |s| s.cohorts[0].followers.p90 = Some(660.0),
        "cohorts[0].followers.median",
        "missing",
    );
    refuse(
        |s| {
            s.cohorts[0].followers.median = Some(48.0);
            s.cohorts[0].followers.p90 = Some(40.0);
        },
        "cohorts[0].followers.p90",
        "40",
    );
    refuse(
        |s| {
            s.cohorts[0].followers.median = Some(f64::NAN);
            s.cohorts[0].followers.p90 = Some(40.0);
        },
        "cohorts[0].followers.median",
        "NaN",
    );
}

#[test]
fn followers_max_above_users() {
    refuse(
        |s| s.cohorts[1].followers.max = 3001,
        "cohorts[1].followers.max",
        "3001",
    );
    // followers.max equal to the population is fine.
    let mut s = base();
    s.cohorts[1].followers.max = 3000;
    s.validate().unwrap();
}

#[test]
fn iron_fans_above_fans() {
    let mut s = base();
    s.cohorts[0].iron_fan_ratio = 1.5;
    let err = s.validate().unwrap_err();
    assert!(err.to_string().contains("outnumber"), "{err}");
    refuse(
        |s| s.cohorts[0].iron_fan_ratio = 1.5,
        "cohorts[0].iron_fan_ratio",
        "1.5",
    );
    refuse(
        |s| s.cohorts[0].iron_fan_ratio = f64::INFINITY,
        "cohorts[0].iron_fan_ratio",
        "inf",
    );
}

#[test]
fn iron_fan_ratio_negative_or_nan() {
    refuse(
        |s| s.cohorts[0].iron_fan_ratio = -0.1,
        "cohorts[0].iron_fan_ratio",
        "-0.1",
    );
    refuse(
        |s| s.cohorts[0].iron_fan_ratio = f64::NAN,
        "cohorts[0].iron_fan_ratio",
        "NaN",
    );
    refuse_text(
        &edit("iron_fan_ratio = 0.2", "iron_fan_ratio = nan"),
        "cohorts[0].iron_fan_ratio",
        "NaN",
    );
    refuse_text(
        &edit("iron_fan_ratio = 0.5", "iron_fan_ratio = -nan"),
        "cohorts[1].iron_fan_ratio",
        "NaN",
    );
}

#[test]
fn verticality_out_of_range() {
    refuse(|s| s.cohorts[1].verticality = 1.01, "cohorts[1].verticality", "1.01");
    refuse(|s| s.cohorts[1].verticality = -1.0, "cohorts[1].verticality", "-1");
    refuse(|s| s.cohorts[0].verticality = f64::NAN, "cohorts[0].verticality", "NaN");
    refuse_text(
        &edit("verticality = 0.8", "verticality = inf"),
        "cohorts[0].verticality",
        "inf",
    );
}

#[test]
fn posts_per_day_negative_nan_or_huge() {
    refuse(|s| s.cohorts[0].posts_per_day = -1.0, "cohorts[0].posts_per_day", "-1");
    refuse(
        |s| s.cohorts[0].posts_per_day = f64::NAN,
        "cohorts[0].posts_per_day",
        "NaN",
    );
    refuse(
        |s| s.cohorts[0].posts_per_day = f64::INFINITY,
        "cohorts[0].posts_per_day",
        "inf",
    );
    refuse(
        |s| s.cohorts[1].posts_per_day = 1000.5,
        "cohorts[1].posts_per_day",
        "1000.5",
    );
    refuse_text(
        &edit("posts_per_day = 0.5", "posts_per_day = nan"),
        "cohorts[1].posts_per_day",
        "NaN",
    );
}

#[test]
fn quality_not_finite_or_negative_spread() {
    refuse(
        |s| s.cohorts[0].quality.mean = f64::NAN,
        "cohorts[0].quality.mean",
        "NaN",
    );
    refuse(
        |s| s.cohorts[0].quality.mean = f64::NEG_INFINITY,
        "cohorts[0].quality.mean",
        "-inf",
    );
    refuse(|s| s.cohorts[0].quality.sd = -1.0, "cohorts[0].quality.sd", "-1");
    refuse(
        |s| s.cohorts[1].quality.creator_sd = f64::NAN,
        "cohorts[1].quality.creator_sd",
        "NaN",
    );
}

/// Finite in f64 but infinite once stored as f32 in the world: must be
/// refused naming the scenario field, before or while the world and posts are
/// made. Builds three small worlds (only when run with `--ignored`).
#[test]
fn quality_beyond_f32_names_the_cohort_field() {
    for (field, mutate) in [
        (
            "cohorts[0].quality.mean",
            (|s: &mut Scenario| s.cohorts[0].quality.mean = 1e308) as fn(&mut Scenario),
        ),
        ("cohorts[0].quality.sd", |s| s.cohorts[0].quality.sd = 1e308),
        ("cohorts[0].quality.creator_sd", |s| {
            s.cohorts[0].quality.creator_sd = 1e308
        }),
    ] {
        let mut s = base();
        mutate(&mut s);
        let made = s.validate().and_then(|()| {
            let w = World::generate(&s)?;
            Simulation::new(&s, &w).map(|_| ())
        });
        let err = made.expect_err("a quality beyond f32 must be refused");
        assert_eq!(err.field(), Some(field), "{err}");
    }
}

#[test]
fn trust_not_finite() {
    refuse(|s| s.cohorts[0].trust = f64::INFINITY, "cohorts[0].trust", "inf");
    refuse(|s| s.cohorts[1].trust = f64::NAN, "cohorts[1].trust", "NaN");
}

#[test]
fn price_not_positive() {
    refuse(
        |s| s.cohorts[0].product.as_mut().unwrap().price_yuan = 0.0,
        "cohorts[0].product.price_yuan",
        "0",
    );
    refuse(
        |s| s.cohorts[0].product.as_mut().unwrap().price_yuan = -5.0,
        "cohorts[0].product.price_yuan",
        "-5",
    );
    refuse(
        |s| s.cohorts[0].product.as_mut().unwrap().price_yuan = f64::NAN,
        "cohorts[0].product.price_yuan",
        "NaN",
    );
    refuse(
        |s| s.cohorts[1].product = Some(ProductParams::online(-0.01, 0.5)),
        "cohorts[1].product.price_yuan",
        "-0.01",
    );
}

#[test]
fn price_above_max() {
    refuse(
        |s| s.cohorts[0].product.as_mut().unwrap().price_yuan = MAX_PRICE_YUAN + 1.0,
        "cohorts[0].product.price_yuan",
        "10000001",
    );
    refuse(
        |s| s.cohorts[0].product.as_mut().unwrap().price_yuan = f64::INFINITY,
        "cohorts[0].product.price_yuan",
        "inf",
    );
    // The maximum itself is accepted.
    let mut s = base();
    s.cohorts[0].product.as_mut().unwrap().price_yuan = MAX_PRICE_YUAN;
    s.validate().unwrap();
}

#[test]
fn share_of_posts_out_of_range() {
    refuse(
        |s| s.cohorts[0].product.as_mut().unwrap().share_of_posts = 2.0,
        "cohorts[0].product.share_of_posts",
        "2",
    );
    refuse(
        |s| s.cohorts[0].product.as_mut().unwrap().share_of_posts = -0.1,
        "cohorts[0].product.share_of_posts",
        "-0.1",
    );
    refuse(
        |s| s.cohorts[0].product.as_mut().unwrap().share_of_posts = f64::NAN,
        "cohorts[0].product.share_of_posts",
        "NaN",
    );
}

#[test]
fn total_creators_overflow_u32() {
    // 2 × 2^31 = 2^32 creators; no followers, so no edge overflow first.
    refuse(
        |s| {
            for c in &mut s.cohorts {
                c.creators = 1 << 31;
                c.followers.min = 0;
                c.followers.max = 0;
            }
        },
        "cohorts",
        "4294967296",
    );
}

#[test]
fn follow_edges_overflow_u32() {
    // Sizes are checked on the edges the world is expected to hold
    // (creators × mean followers), not on creators × followers.max:
    // 2 × 3,000,000,000 follow edges >= 2^32.
    refuse(
        |s| {
            s.users.count = 4_000_000_000;
            s.cohorts.truncate(1);
            s.cohorts[0].creators = 2;
            s.cohorts[0].followers = FollowerRange::fixed(3_000_000_000);
        },
        "cohorts",
        "6000000000",
    );
    // Exactly u32::MAX edges is refused too ...
    refuse(
        |s| {
            s.users.count = u32::MAX - 1;
            s.cohorts.truncate(1);
            s.cohorts[0].creators = 3;
            s.cohorts[0].followers = FollowerRange::fixed(u32::MAX / 3);
        },
        "cohorts",
        "4294967295",
    );
    // ... one fewer is not (validation only: no world is built).
    let mut s = base();
    s.users.count = u32::MAX - 1;
    s.cohorts.truncate(1);
    s.cohorts[0].creators = 1;
    s.cohorts[0].followers = FollowerRange::fixed(u32::MAX - 1);
    s.validate().unwrap();
    // A worst case far past the index is accepted when the expected count
    // fits: log-uniform up to 3e9 followers has a mean of about 1.4e8.
    let mut s = base();
    s.users.count = 4_000_000_000;
    s.cohorts.truncate(1);
    s.cohorts[0].creators = 2;
    s.cohorts[0].followers = FollowerRange::log_uniform(0, 3_000_000_000);
    s.validate().unwrap();
}

#[test]
fn too_many_expected_posts() {
    refuse(
        |s| {
            s.cohorts[0].creators = 200_000_000;
            s.cohorts[0].followers.min = 0;
            s.cohorts[0].followers.max = 0;
        },
        "cohorts",
        "200000001",
    );
}

#[test]
fn too_many_cohorts() {
    let mut s = base();
    let template = s.cohorts[1].clone();
    s.cohorts = (0..65_536)
        .map(|i| CohortParams {
            name: format!("c{i}"),
            creators: 1,
            ..template.clone()
        })
        .collect();
    assert_invalid(s.validate(), "cohorts", "65536");
}

// ---------------------------------------------------------------------------
// [response]

fn logistic(s: &mut Scenario) -> &mut LogisticModel {
    if !matches!(s.response, ResponseSpec::Logistic(_)) {
        s.response = ResponseSpec::Logistic(LogisticModel::default());
    }
    match &mut s.response {
        ResponseSpec::Logistic(m) => m,
        ResponseSpec::Constant(_) => unreachable!(),
    }
}

fn constant(s: &mut Scenario) -> &mut ConstantModel {
    s.response = ResponseSpec::Constant(ConstantModel::default());
    match &mut s.response {
        ResponseSpec::Constant(m) => m,
        ResponseSpec::Logistic(_) => unreachable!(),
    }
}

#[test]
fn logistic_coefficient_nan_or_infinite() {
    refuse(|s| logistic(s).watch.base = f64::NAN, "response.watch.base", "NaN");
    refuse(
        |s| logistic(s).order.iron_fan = f64::INFINITY,
        "response.order.iron_fan",
        "inf",
    );
    refuse(
        |s| logistic(s).click.quality = f64::NAN,
        "response.click.quality",
        "NaN",
    );
    refuse_text(
        &append("[response]\nmodel = \"logistic\"\nlike = { base = nan }\n"),
        "response.like.base",
        "NaN",
    );
}

#[test]
fn logistic_price_terms_out_of_range() {
    refuse(
        |s| logistic(s).price_sensitivity = -0.3,
        "response.price_sensitivity",
        "-0.3",
    );
    refuse(
        |s| logistic(s).reference_price_yuan = 0.0,
        "response.reference_price_yuan",
        "0",
    );
    refuse(
        |s| logistic(s).reference_price_yuan = -100.0,
        "response.reference_price_yuan",
        "-100",
    );
    refuse(|s| logistic(s).repeat_buyer = f64::NAN, "response.repeat_buyer", "NaN");
}

#[test]
fn constant_model_probabilities_out_of_range() {
    refuse(|s| constant(s).iron_fan.watch = 1.5, "response.iron_fan.watch", "1.5");
    refuse(|s| constant(s).stranger.order = -0.1, "response.stranger.order", "-0.1");
    refuse(|s| constant(s).fan.click = f64::NAN, "response.fan.click", "NaN");
    refuse(|s| constant(s).stranger.follow = 2.0, "response.stranger.follow", "2");
    refuse_text(
        &append(&edit_in(CONSTANT_RESPONSE, "watch = 0.86", "watch = 1.2")),
        "response.iron_fan.watch",
        "1.2",
    );
    refuse_text(
        &append(&edit_in(CONSTANT_RESPONSE, "like = 0.10", "like = nan")),
        "response.fan.like",
        "NaN",
    );
}

// ---------------------------------------------------------------------------
// [public_pool_ladder] and [iron_fan_first]

#[test]
fn empty_ladder_pools() {
    refuse(|s| s.public_pool_ladder.pools.clear(), "public_pool_ladder.pools", "[]");
    refuse_text(
        &append("[public_pool_ladder]\npools = []\n"),
        "public_pool_ladder.pools",
        "[]",
    );
}

#[test]
fn ladder_pool_of_size_zero() {
    refuse(
        |s| s.public_pool_ladder.pools[2].size = 0,
        "public_pool_ladder.pools[2].size",
        "0",
    );
    refuse_text(
        &append("[[public_pool_ladder.pools]]\nsize = 0\n"),
        "public_pool_ladder.pools[0].size",
        "0",
    );
}

#[test]
fn ladder_gate_threshold_negative() {
    refuse(
        |s| s.public_pool_ladder.pools[1].gate.threshold = -1.0,
        "public_pool_ladder.pools[1].gate.threshold",
        "-1",
    );
    refuse(
        |s| s.public_pool_ladder.pools[0].gate.like = f64::NAN,
        "public_pool_ladder.pools[0].gate.like",
        "NaN",
    );
    refuse(
        |s| s.public_pool_ladder.pools[0].gate.follow = -0.5,
        "public_pool_ladder.pools[0].gate.follow",
        "-0.5",
    );
    refuse_text(
        &append("[[public_pool_ladder.pools]]\nsize = 300\ngate = { threshold = -0.5 }\n"),
        "public_pool_ladder.pools[0].gate.threshold",
        "-0.5",
    );
}

#[test]
fn ladder_with_too_many_pools() {
    refuse(
        |s| {
            s.public_pool_ladder.pools = vec![
                Pool {
                    size: 10,
                    gate: Gate::default()
                };
                33
            ]
        },
        "public_pool_ladder.pools",
        "33",
    );
}

#[test]
fn fan_stage_of_size_zero() {
    refuse(
        |s| s.iron_fan_first.iron_fans.size = Some(0),
        "iron_fan_first.iron_fans.size",
        "0",
    );
    refuse(
        |s| s.iron_fan_first.fan_waves.first = 0,
        "iron_fan_first.fan_waves.first",
        "0",
    );
    refuse(
        |s| s.iron_fan_first.fan_waves.max_waves = 33,
        "iron_fan_first.fan_waves.max_waves",
        "33",
    );
    refuse(
        |s| s.iron_fan_first.fan_waves.growth = 0.5,
        "iron_fan_first.fan_waves.growth",
        "0.5",
    );
}

#[test]
fn response_coefficients_are_bounded_so_no_probability_is_nan() {
    let logistic = |f: fn(&mut LogisticModel)| {
        move |s: &mut Scenario| {
            let mut m = LogisticModel::default();
            f(&mut m);
            s.response = ResponseSpec::Logistic(m);
        }
    };
    refuse(logistic(|m| m.watch.base = 1e6), "response.watch.base", "1000000");
    refuse(
        logistic(|m| m.order.quality = -1e5),
        "response.order.quality",
        "-100000",
    );
    refuse(logistic(|m| m.coupon = 2e3), "response.coupon", "2000");
    refuse(
        logistic(|m| m.fatigue_per_impression = 5.0),
        "response.fatigue_per_impression",
        "5",
    );
    refuse(
        logistic(|m| m.reference_price_yuan = 1e-9),
        "response.reference_price_yuan",
        "0.000000001",
    );
}

#[test]
fn watch_parameters_out_of_range() {
    refuse(|s| s.watch.duration_sigma = -0.1, "watch.duration_sigma", "-0.1");
    refuse(|s| s.watch.duration_sigma = f64::NAN, "watch.duration_sigma", "NaN");
    refuse(|s| s.watch.duration_median_s = 0.0, "watch.duration_median_s", "0");
    refuse(|s| s.watch.duration_max_s = 5.0, "watch.duration_max_s", "5");
    refuse(|s| s.watch.partial_shape = 0.0, "watch.partial_shape", "0");
    refuse(|s| s.watch.replay_mean = f64::INFINITY, "watch.replay_mean", "inf");
    refuse(|s| s.watch.max_ratio = 0.5, "watch.max_ratio", "0.5");
    refuse_toml(&append("[watch]\nduration_median = 9.6\n"), &["duration_median"]);
    let late = Post {
        duration_s: -3.0,
        ..post(0)
    };
    assert_invalid(
        Simulation::with_posts(&base(), world(), vec![late]),
        "posts[0].duration_s",
        "-3",
    );
}

#[test]
fn relative_gate_quantile_outside_the_open_unit_interval() {
    for q in [0.0, 1.0, -0.5, f64::NAN] {
        let shown = if q.is_nan() { "NaN".to_string() } else { q.to_string() };
        refuse(
            |s| s.public_pool_ladder.pools[0].gate.quantile = Some(q),
            "public_pool_ladder.pools[0].gate.quantile",
            &shown,
        );
        refuse(
            |s| s.iron_fan_first.fan_waves.gate.quantile = Some(q),
            "iron_fan_first.fan_waves.gate.quantile",
            &shown,
        );
    }
}

#[test]
fn iron_fan_first_that_could_exceed_the_stage_limit() {
    // Iron fans, 32 waves and 31 pools: 64 stages, the limit; one more pool
    // could make a push of 65.
    let pools = |n| {
        vec![
            Pool {
                size: 10,
                gate: Gate::default()
            };
            n
        ]
    };
    let mut s = base();
    s.iron_fan_first.fan_waves.max_waves = 32;
    s.iron_fan_first.public_pools = Some(pools(31));
    s.validate().unwrap();
    refuse(
        |s| {
            s.iron_fan_first.fan_waves.max_waves = 32;
            s.iron_fan_first.public_pools = Some(pools(32));
        },
        "iron_fan_first.fan_waves.max_waves",
        "32",
    );
}

#[test]
fn fan_gate_threshold_negative() {
    refuse(
        |s| s.iron_fan_first.iron_fans.gate.threshold = -2.5,
        "iron_fan_first.iron_fans.gate.threshold",
        "-2.5",
    );
    refuse(
        |s| s.iron_fan_first.fan_waves.gate.watch_through = f64::NAN,
        "iron_fan_first.fan_waves.gate.watch_through",
        "NaN",
    );
    refuse_text(
        &append(&edit_in(IRON_FAN_FIRST, "threshold = 1.4", "threshold = -1.4")),
        "iron_fan_first.fan_waves.gate.threshold",
        "-1.4",
    );
}

#[test]
fn public_weight_out_of_range() {
    refuse(
        |s| s.iron_fan_first.public_weight.max_feedback_boost = 0.5,
        "iron_fan_first.public_weight.max_feedback_boost",
        "0.5",
    );
    refuse(
        |s| s.iron_fan_first.public_weight.ratio_exponent = f64::NAN,
        "iron_fan_first.public_weight.ratio_exponent",
        "NaN",
    );
    refuse(
        |s| s.iron_fan_first.public_weight.reference_ratio = 0.0,
        "iron_fan_first.public_weight.reference_ratio",
        "0",
    );
    refuse(
        |s| s.iron_fan_first.public_weight.min = 0.0,
        "iron_fan_first.public_weight.min",
        "0",
    );
    refuse(
        |s| s.iron_fan_first.public_weight.max = f64::INFINITY,
        "iron_fan_first.public_weight.max",
        "inf",
    );
    refuse_text(
        &append(&edit_in(
            IRON_FAN_FIRST,
            "min = 0.25, max = 4.0",
            "min = 0.25, max = 0.2",
        )),
        "iron_fan_first.public_weight.max",
        "0.2",
    );
}

#[test]
fn viewer_feed_weights_and_quotas() {
    let single = |f: fn(&mut SingleColumn)| {
        move |s: &mut Scenario| {
            let mut feed = SingleColumn::default();
            f(&mut feed);
            s.viewer_feed = FeedSpec::SingleColumn(feed);
        }
    };
    refuse(
        single(|f| f.tier_weights.public = f64::NAN),
        "viewer_feed.tier_weights.public",
        "NaN",
    );
    refuse(
        single(|f| f.tier_weights.iron_fan = -1.0),
        "viewer_feed.tier_weights.iron_fan",
        "-1",
    );
    refuse(
        single(|f| {
            f.quotas.iron_fan = 0.6;
            f.quotas.other_fan = 0.5;
        }),
        "viewer_feed.quotas",
        "1.1",
    );
    refuse(single(|f| f.quotas.public = 1.5), "viewer_feed.quotas.public", "1.5");
    refuse(
        single(|f| f.author_diversity.decay = 2.0),
        "viewer_feed.author_diversity.decay",
        "2",
    );
    refuse(
        |s| {
            s.viewer_feed = FeedSpec::XMixer(XMixer {
                in_network_share: -0.1,
                ..XMixer::default()
            })
        },
        "viewer_feed.in_network_share",
        "-0.1",
    );
    refuse(
        |s| {
            s.viewer_feed = FeedSpec::XMixer(XMixer {
                out_of_network_scale: f64::NAN,
                ..XMixer::default()
            })
        },
        "viewer_feed.out_of_network_scale",
        "NaN",
    );
    refuse(
        |s| {
            s.viewer_feed = FeedSpec::XMixer(XMixer {
                max_per_side: 0,
                ..XMixer::default()
            })
        },
        "viewer_feed.max_per_side",
        "0",
    );
    refuse_text(
        &append(
            "[viewer_feed]\nkind = \"single_column\"\nquotas = { group_member = 0.5, iron_fan = 0.5, other_fan = 0.5, public = 0.0 }\n",
        ),
        "viewer_feed.quotas",
        "1.5",
    );
    refuse_toml(&append("[viewer_feed]\nkind = \"triple_column\"\n"), &["triple_column"]);
}

#[test]
fn iron_fan_first_public_pools_bad() {
    refuse(
        |s| s.iron_fan_first.public_pools = Some(Vec::new()),
        "iron_fan_first.public_pools",
        "[]",
    );
    refuse(
        |s| {
            s.iron_fan_first.public_pools = Some(vec![
                Pool {
                    size: 100,
                    gate: Gate::default(),
                },
                Pool {
                    size: 0,
                    gate: Gate::default(),
                },
            ])
        },
        "iron_fan_first.public_pools[1].size",
        "0",
    );
    refuse(
        |s| {
            let gate = Gate {
                threshold: -3.0,
                ..Gate::default()
            };
            s.iron_fan_first.public_pools = Some(vec![Pool { size: 100, gate }]);
        },
        "iron_fan_first.public_pools[0].gate.threshold",
        "-3",
    );
    refuse(
        |s| {
            s.iron_fan_first.public_pools = Some(vec![
                Pool {
                    size: 10,
                    gate: Gate::default()
                };
                33
            ])
        },
        "iron_fan_first.public_pools",
        "33",
    );
}

// ---------------------------------------------------------------------------
// Run time: World::generate, Simulation::with_posts, Simulation::run.
// One small world, generated once.

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| World::generate(&base()).expect("the base world generates"))
}

fn post(creator: u32) -> Post {
    Post {
        id: 0,
        creator,
        slot: 0,
        quality: 0.0,
        category: 0,
        price_fen: 0,
        kind: Default::default(),
        duration_s: 0.0,
    }
}

#[test]
fn world_generation_refuses_invalid_scenarios() {
    let mut s = base();
    s.cohorts[1].iron_fan_ratio = 1.5;
    assert_invalid(World::generate(&s), "cohorts[1].iron_fan_ratio", "1.5");
    let mut s = base();
    s.users.count = 0;
    assert_invalid(World::generate(&s), "users.count", "0");
}

#[test]
fn with_posts_refuses_missing_creator() {
    let s = base();
    let w = world();
    let n = w.creators().len() as u32;
    assert_eq!(n, 5);
    assert_invalid(
        Simulation::with_posts(&s, w, vec![post(0), post(n)]),
        "posts[1].creator",
        "5",
    );
    assert_invalid(
        Simulation::with_posts(&s, w, vec![post(u32::MAX)]),
        "posts[0].creator",
        "4294967295",
    );
}

#[test]
fn with_posts_refuses_non_finite_quality() {
    let s = base();
    let w = world();
    let nan = Post {
        quality: f32::NAN,
        ..post(1)
    };
    assert_invalid(Simulation::with_posts(&s, w, vec![nan]), "posts[0].quality", "NaN");
    let inf = Post {
        quality: f32::NEG_INFINITY,
        ..post(1)
    };
    assert_invalid(
        Simulation::with_posts(&s, w, vec![post(0), post(2), inf]),
        "posts[2].quality",
        "-inf",
    );
}

#[test]
fn with_posts_refuses_category_out_of_range() {
    let s = base();
    let bad = Post { category: 5, ..post(0) };
    assert_invalid(Simulation::with_posts(&s, world(), vec![bad]), "posts[0].category", "5");
}

#[test]
fn with_posts_refuses_an_invalid_scenario() {
    let mut s = base();
    s.feed.interest_targeting = f64::NAN;
    assert_invalid(
        Simulation::with_posts(&s, world(), vec![post(0)]),
        "feed.interest_targeting",
        "NaN",
    );
}

/// A policy that runs the same stage, forever or `stages` times.
struct Repeat {
    size: Size,
    stages: usize,
}

impl PushPolicy for Repeat {
    fn name(&self) -> &str {
        "repeat"
    }

    fn next_stage<'p>(&'p self, ctx: &PushContext) -> Step<'p> {
        if ctx.history.len() >= self.stages {
            return Step::End(PushEnd::Completed);
        }
        Step::Stage(Stage {
            audience: &OtherFans,
            size: self.size,
            order: Order::Random,
            label: "repeat",
            source: None,
        })
    }
}

#[test]
fn run_refuses_invalid_policies() {
    let s = base();
    let sim = Simulation::with_posts(&s, world(), vec![post(0), post(3)]).unwrap();
    let model = &s.response;

    let empty = PublicPoolLadder { pools: Vec::new() };
    assert_invalid(sim.run(&empty, model), "public_pool_ladder.pools", "[]");

    let mut ladder = PublicPoolLadder::default();
    ladder.pools[1].size = 0;
    assert_invalid(sim.run(&ladder, model), "public_pool_ladder.pools[1].size", "0");

    let mut ladder = PublicPoolLadder::default();
    ladder.pools[0].gate.threshold = -1.0;
    assert_invalid(
        sim.run(&ladder, model),
        "public_pool_ladder.pools[0].gate.threshold",
        "-1",
    );

    let mut iff = IronFanFirst::default();
    iff.public_weight.max_feedback_boost = 0.5;
    assert_invalid(
        sim.run(&iff, model),
        "iron_fan_first.public_weight.max_feedback_boost",
        "0.5",
    );
    let iff = IronFanFirst {
        public_pools: Some(vec![Pool {
            size: 0,
            gate: Gate::default(),
        }]),
        ..IronFanFirst::default()
    };
    assert_invalid(sim.run(&iff, model), "iron_fan_first.public_pools[0].size", "0");

    // A relative size outside (0, 1], found when the policy asks for it.
    for share in [0.0, 1.5, f64::NAN, -0.2] {
        let bad = Repeat {
            size: Size::Share(share),
            stages: 1,
        };
        let shown = if share.is_nan() {
            "NaN".to_string()
        } else {
            share.to_string()
        };
        assert_invalid(sim.run(&bad, model), "policy stage \"repeat\" size", &shown);
    }
    // A policy that never ends is stopped at the stage limit.
    let endless = Repeat {
        size: Size::Users(1),
        stages: usize::MAX,
    };
    assert_invalid(sim.run(&endless, model), "policy", "repeat");

    // The same simulation still runs valid policies, shares included.
    let report = sim.run(&PublicPoolLadder::default(), model).unwrap();
    assert_eq!(report.posts.len(), 2);
    let half = Repeat {
        size: Size::Share(0.5),
        stages: 2,
    };
    assert_eq!(sim.run(&half, model).unwrap().posts.len(), 2);
    let _ = InterestTargetedPublic;
}

#[test]
fn run_refuses_an_invalid_response_model() {
    let s = base();
    let sim = Simulation::with_posts(&s, world(), vec![post(0)]).unwrap();
    let mut m = ConstantModel::default();
    m.stranger.watch = 1.5;
    assert_invalid(
        sim.run(&PublicPoolLadder::default(), &ResponseSpec::Constant(m)),
        "response.stranger.watch",
        "1.5",
    );
}

#[test]
fn post_slot_at_u32_max_is_refused_or_runs() {
    let s = base();
    let late = Post {
        slot: u32::MAX,
        ..post(0)
    };
    match Simulation::with_posts(&s, world(), vec![late]) {
        Err(e) => assert_eq!(e.field(), Some("posts[0].slot"), "{e}"),
        Ok(sim) => {
            // Accepted: the run must then finish (or refuse), not panic.
            let _ = sim.run(&PublicPoolLadder::default(), &s.response);
        }
    }
}

#[test]
fn renamed_feed_keys_are_refused_naming_the_new_ones() {
    // "Source" now means the traffic source of an offer; the feeds' per-tier
    // weights and X's per-side cap were renamed, and a scenario with the old
    // keys is refused with an error that names the new ones.
    let text = base().to_toml_string().unwrap();
    assert!(text.contains("tier_weights"), "{text}");
    refuse_toml(
        &text.replace("tier_weights", "source_weights"),
        &["source_weights", "tier_weights"],
    );
    let mut s = base();
    s.viewer_feed = FeedSpec::XMixer(XMixer::default());
    let text = s.to_toml_string().unwrap();
    assert!(text.contains("max_per_side"), "{text}");
    refuse_toml(
        &text.replace("max_per_side", "max_per_source"),
        &["max_per_source", "max_per_side"],
    );
}
