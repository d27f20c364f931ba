//! `[feed]`, `[attention]` and `[warmup]`: time, sessions and the warm-up.

use serde::{Deserialize, Serialize};

use super::MAX_DAYS;
use crate::error::{Error, Result, check};

/// Time and the public feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedParams {
    /// Days during which creators publish. After the last day the engine
    /// keeps running until every post has finished its push.
    pub days: u32,
    /// Slots per day; a post runs one stage per slot.
    pub slots_per_day: u32,
    /// Number of content categories (1 to 255).
    pub categories: u32,
    /// How strongly public pools are aimed at users interested in the
    /// post's category: each public draw comes from the interested users
    /// with probability `τ + (1 − τ)·share`, where `share` is the interested
    /// users' share of the population. 0 is a uniform draw, 1 only
    /// interested users (until they run out).
    pub interest_targeting: f64,
}

impl Default for FeedParams {
    fn default() -> Self {
        FeedParams {
            days: 1,
            slots_per_day: 24,
            categories: 20,
            interest_targeting: 0.5,
        }
    }
}

impl FeedParams {
    /// Checks `[feed]` and, with the feed's days, `[warmup]`.
    pub fn validate(&self, warmup: Option<&WarmupParams>) -> Result<()> {
        let f = self;
        check::at_least_one("feed.days", f.days.into())?;
        check::at_least_one("feed.slots_per_day", f.slots_per_day.into())?;
        if f.days > MAX_DAYS {
            return Err(Error::invalid(
                "feed.days",
                f.days,
                format!("must be at most {MAX_DAYS} (a follow's day is kept in 16 bits)"),
            ));
        }
        if f.days.checked_mul(f.slots_per_day).is_none_or(|s| s > 1_000_000) {
            return Err(Error::invalid(
                "feed.slots_per_day",
                f.slots_per_day,
                format!("days × slots_per_day must be at most 1,000,000 (days = {})", f.days),
            ));
        }
        if !(1..=255).contains(&f.categories) {
            return Err(Error::invalid(
                "feed.categories",
                f.categories,
                "must be between 1 and 255",
            ));
        }
        check::probability("feed.interest_targeting", f.interest_targeting)?;
        if let Some(w) = warmup {
            let total = u64::from(w.days) + u64::from(f.days);
            if total > u64::from(MAX_DAYS) {
                return Err(Error::invalid(
                    "warmup.days",
                    w.days,
                    format!(
                        "warm-up and measured days must be at most {MAX_DAYS} together (feed.days = {})",
                        f.days
                    ),
                ));
            }
            if total * u64::from(f.slots_per_day) > 1_000_000 {
                return Err(Error::invalid(
                    "warmup.days",
                    w.days,
                    format!(
                        "(warm-up + measured days) × slots_per_day must be at most 1,000,000 (feed.days = {}, slots_per_day = {})",
                        f.days, f.slots_per_day
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Whether users' attention is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionMode {
    /// An active user watches every offer (the [`Unlimited`](crate::feed::Unlimited)
    /// feed): the closed-form mode.
    Unlimited,
    /// An active user watches at most the session's room in each round,
    /// chosen by the scenario's `[viewer_feed]`.
    #[default]
    Finite,
}

/// Users' daily sessions, in impressions.
///
/// Each user's daily session length is drawn once, log-normal with the given
/// median and mean (KuaiRec: 42 and 66.5 plays per user per day), rounded,
/// at least one. It is spread evenly over the day's slots: slot `s` of `S`
/// has room for `⌊(s+1)·B/S⌋ − ⌊s·B/S⌋` impressions, and room a slot leaves
/// unused is not carried over. With `mode = "finite"` (the default), a
/// viewer offered more than the room in a round has the offers ranked by
/// the scenario's `[viewer_feed]` and watches the top ones; the rest are
/// not shown and lost (see [`crate::feed`]). With `mode = "unlimited"`
/// every offer is watched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttentionParams {
    /// `finite` (default) or `unlimited`.
    pub mode: AttentionMode,
    /// Median daily budget, impressions.
    pub daily_median: f64,
    /// Mean daily budget, impressions (at least the median).
    pub daily_mean: f64,
}

impl Default for AttentionParams {
    fn default() -> Self {
        AttentionParams {
            mode: AttentionMode::Finite,
            daily_median: 42.0,
            daily_mean: 66.5,
        }
    }
}

impl AttentionParams {
    /// Checks `[attention]`.
    pub fn validate(&self) -> Result<()> {
        let a = self;
        check::within("attention.daily_median", a.daily_median, 1.0, 10_000.0)?;
        check::within("attention.daily_mean", a.daily_mean, a.daily_median, 10_000.0).map_err(|_| {
            Error::invalid(
                "attention.daily_mean",
                a.daily_mean,
                format!("must be between daily_median = {} and 10000", a.daily_median),
            )
        })?;
        Ok(())
    }
}

/// A warm-up: `days` days run before the scenario's `feed.days` measured
/// ones, under `policy`, on one clock (the measured days are days
/// `days..days + feed.days`, and draw fresh random numbers). Posts are
/// generated for every day; the warm-up's are pushed under the warm-up
/// policy (those still live at the switch go on under it until their push
/// ends), the measured days' under the policy being run. Reports cover the
/// measured days only (see [`Simulation::warm_up`](crate::Simulation::warm_up)).
///
/// Why: the generated world is not a steady state of any policy (issue
/// 14's measurements: under the ladder the iron fans of every cohort
/// collapse within ten days), so a multi-day comparison from the generated
/// world mixes the policy's effect with the world relaxing. A warm-up under
/// the legacy ladder, the push the platforms ran before the switch, gives
/// the world the switch was made on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarmupParams {
    /// Days of warm-up (0: none).
    pub days: u32,
    /// The warm-up's policy: `"public_pool_ladder"` (the default: the legacy
    /// push) or `"iron_fan_first"`, each as the scenario defines it.
    #[serde(default)]
    pub policy: WarmupPolicy,
    /// The warm-up's first days with follows and unfollows sped up
    /// (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast: Option<FastLifecycle>,
}

impl WarmupParams {
    /// `days` of warm-up under `policy`, at the lifecycle's own pace.
    pub fn new(days: u32, policy: WarmupPolicy) -> Self {
        WarmupParams {
            days,
            policy,
            fast: None,
        }
    }
}

/// The first `days` of a warm-up with the fan lifecycle's follows and
/// unfollows `speed` times as likely: a numerical device to reach the
/// lifecycle's steady state sooner, not a model of anything.
///
/// On those days a stranger's watched-through view ends in a follow with
/// `speed` times the model's follow probability (at most 1; the model
/// draws its follow as always, and a view it leaves unfollowed follows on
/// a keyed draw of its own, so the response streams are untouched), and a
/// fan's skip unfollows with `speed × dynamics.unfollow_per_skip`. Both
/// flows of follow edges scale by `speed`, so where they balance does not
/// move, and the fan bases (how many fans, which users: by interest,
/// attention, followings) relax `speed` times faster. What is not sped up
/// relaxes at its own pace: engagement scores and so iron fans (days, at
/// the default 15% daily decay), fan groups, coupons, churn. Leave normal
/// days after the fast ones for those to settle (the fast days' turnover
/// cuts iron fans short); newcomers who stop posting in the fast days keep
/// the fans they gained at `speed` times the rate.
///
/// Measured (`fan_bases`, `scenarios/growth_ladder_sizes.toml` as it was
/// before its general cohort started at the ladder's balance, at 200,000
/// users under the ladder with the followed tab): 150 days at speed 10
/// give the general cohort a median of 325 followers and a 90th
/// percentile of 900, with 75.1% of its fans interested in the creator's
/// category; 1,500 days at speed 1 give 345, 796 and 75.2% (generated:
/// 49, 653 and 50.1%; scenarios/README.md, `[warmup]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FastLifecycle {
    /// How many of the warm-up's first days run fast (at most the
    /// warm-up's `days`).
    pub days: u32,
    /// The factor on the follow and unfollow chances, at least 1 (with
    /// `dynamics.unfollow_per_skip × speed` at most 1).
    pub speed: f64,
}

impl FastLifecycle {
    /// Checks the fast days against a warm-up of `warmup_days` and the
    /// lifecycle's `dynamics`; errors name `warmup.fast.days` (more fast
    /// days than warm-up days), `warmup.fast.speed` (below 1, or an
    /// unfollow chance above 1) or `warmup.fast` (the low-score unfollow
    /// rule, which is not sped up, is on).
    pub fn validate(&self, warmup_days: u32, dynamics: &super::DynamicsParams) -> Result<()> {
        if self.days > warmup_days {
            return Err(Error::invalid(
                "warmup.fast.days",
                self.days,
                format!("must be at most the warm-up's days = {warmup_days}"),
            ));
        }
        check::within("warmup.fast.speed", self.speed, 1.0, 1e6)?;
        if dynamics.unfollow_per_skip * self.speed > 1.0 {
            return Err(Error::invalid(
                "warmup.fast.speed",
                self.speed,
                format!(
                    "times dynamics.unfollow_per_skip = {} must be at most 1 (a chance)",
                    dynamics.unfollow_per_skip
                ),
            ));
        }
        if dynamics.enabled && dynamics.unfollow_after_days > 0 && self.days > 0 && self.speed > 1.0 {
            return Err(Error::invalid(
                "warmup.fast",
                format!("{{ days = {}, speed = {} }}", self.days, self.speed),
                format!(
                    "does not speed up the low-score unfollow rule: set dynamics.unfollow_after_days = 0 (it is {})",
                    dynamics.unfollow_after_days
                ),
            ));
        }
        Ok(())
    }
}

/// The policy a warm-up runs ([`WarmupParams`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarmupPolicy {
    /// The scenario's `[public_pool_ladder]`.
    #[default]
    PublicPoolLadder,
    /// The scenario's `[iron_fan_first]`.
    IronFanFirst,
}
