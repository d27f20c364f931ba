//! Scenario files: what a world and a run look like, and their validation.
//!
//! A [`Scenario`] is what a TOML file says, field by field; nothing is used
//! before [`Scenario::validate`] has accepted it (generation and the engine
//! call it for you). Unknown keys, missing keys and wrong types are refused
//! by the TOML parser, whose message names the key, line and column
//! ([`Error::Toml`]); out-of-range values are refused by `validate` with
//! their field path, such as `cohorts[1].iron_fan_ratio` ([`Error::Invalid`]).
//!
//! The format is documented field by field in `scenarios/README.md`; the
//! embedded default is `scenarios/default.toml`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::category_bonus::CategoryBonus;
use crate::error::{Error, Result, check};
use crate::feed::{Feed, FeedSpec, FissionParams, FollowedTab, PaidTraffic};
use crate::policy::{IronFanFirst, PublicPoolLadder};
use crate::response::ResponseSpec;
use crate::world::FriendParams;

pub use crate::world::{Archetype, MAX_INTERESTS};

/// A whole scenario: population, creators, response model and policies.
///
/// ```
/// use feedsim::Scenario;
/// let s = Scenario::from_toml_str(r#"
///     name = "tiny"
///     seed = 7
///     [users]
///     count = 1000
///     [[cohorts]]
///     name = "waist"
///     creators = 3
///     followers = { min = 50, max = 200 }
///     iron_fan_ratio = 0.2
///     verticality = 0.8
///     posts_per_day = 1.0
/// "#)?;
/// assert_eq!(s.users.count, 1000);
/// assert!(Scenario::from_toml_str("name = \"x\"\nseed = 1\nbogus = 2").is_err());
/// # Ok::<(), feedsim::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A name for reports.
    pub name: String,
    /// The run seed: the world, the posts and every response derive from it.
    pub seed: u64,
    /// Time and the public feed.
    #[serde(default)]
    pub feed: FeedParams,
    /// The user population.
    pub users: UserParams,
    /// Creator cohorts, in report order.
    pub cohorts: Vec<CohortParams>,
    /// The response model.
    #[serde(default)]
    pub response: ResponseSpec,
    /// The legacy push.
    #[serde(default)]
    pub public_pool_ladder: PublicPoolLadder,
    /// The iron-fan-first push.
    #[serde(default)]
    pub iron_fan_first: IronFanFirst,
    /// Users' sessions: finite (the default) or unlimited attention.
    #[serde(default)]
    pub attention: AttentionParams,
    /// The feed that ranks each viewer's offers when attention is finite.
    #[serde(default)]
    pub viewer_feed: FeedSpec,
    /// A followed tab beside the viewer feed (off when absent; see
    /// [`FollowedTab`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followed_tab: Option<FollowedTab>,
    /// Category traffic bonuses (none when absent; see
    /// [`crate::category_bonus`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_bonus: Option<CategoryBonus>,
    /// A friend graph and friend traffic (WeChat Channels; none when
    /// absent; see [`FriendParams`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friends: Option<FriendParams>,
    /// Sharing with commission (none when absent; see [`FissionParams`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fission: Option<FissionParams>,
    /// Paid traffic, DOU+ style (none when absent; see [`PaidTraffic`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid: Option<PaidTraffic>,
    /// How viewers of live sessions arrive and stay (used when a cohort
    /// holds live sessions or a post log has some; see [`crate::live`]).
    #[serde(default, skip_serializing_if = "crate::live::LiveParams::is_default")]
    pub live: crate::live::LiveParams,
    /// Shelf and search: purchase intent seeded by content and harvested
    /// by searches and shelf visits (none when absent; see
    /// [`crate::shelf`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shelf_search: Option<crate::shelf::ShelfSearchParams>,
    /// Days run before the measured ones under a policy of their own (none
    /// when absent; see [`WarmupParams`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<WarmupParams>,
    /// The fan lifecycle over days (off by default).
    #[serde(default)]
    pub dynamics: DynamicsParams,
    /// Video durations and how long viewers watch.
    #[serde(default)]
    pub watch: WatchParams,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarmupParams {
    /// Days of warm-up (0: none).
    pub days: u32,
    /// The warm-up's policy: `"public_pool_ladder"` (the default: the legacy
    /// push) or `"iron_fan_first"`, each as the scenario defines it.
    #[serde(default)]
    pub policy: WarmupPolicy,
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

/// Video durations and the time watched per impression.
///
/// A post's duration is log-normal with median `duration_median_s` and
/// log-sd `duration_sigma`, capped at `duration_max_s` (KuaiRec 2020:
/// median 9.6 s, IQR 7.4–12.2 s, so σ = ln(12.2/7.4)/1.349 = 0.371; max
/// 315 s; DOMAIN.md). The body fits the median and IQR; KuaiRec's mean of
/// 14.6 s comes from a long tail this leaves out (the model's mean is
/// 10.3 s).
///
/// Each impression's watch ratio (time watched / duration) is drawn after
/// the response model's watch-through (completion) draw, from the same
/// keyed stream: a viewer who completes watches `1 + Exp(replay_mean)`
/// durations (replays), at most `max_ratio`; one who does not leaves after
/// a fraction `U^partial_shape` (`U` uniform). A **long view** is KuaiRand's:
/// a completed view of a video no longer than `long_view_s`, or at least
/// `long_view_s` seconds watched of a longer one. The shape and replay mean
/// are fitted (with the response model's intercepts; see
/// [`LogisticModel`](crate::response::LogisticModel)) to KuaiRec's watch
/// ratio mean 0.851 and median 0.716 in the default world under the ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchParams {
    /// Median video duration, seconds.
    pub duration_median_s: f64,
    /// Log-sd of the duration.
    pub duration_sigma: f64,
    /// Longest video, seconds.
    pub duration_max_s: f64,
    /// Shape `a` of the fraction watched by a viewer who does not complete,
    /// `U^a`: larger leaves earlier.
    pub partial_shape: f64,
    /// Mean extra plays of a viewer who completes.
    pub replay_mean: f64,
    /// Largest watch ratio (KuaiRec keeps ratios up to 5).
    pub max_ratio: f64,
    /// KuaiRand's long-view length, seconds.
    pub long_view_s: f64,
}

impl Default for WatchParams {
    fn default() -> Self {
        WatchParams {
            duration_median_s: 9.6,
            duration_sigma: 0.371,
            duration_max_s: 315.0,
            partial_shape: 1.12,
            replay_mean: 0.64,
            max_ratio: 5.0,
            long_view_s: 18.0,
        }
    }
}

impl WatchParams {
    /// The parameters a response model's watch-time draw reads
    /// ([`ResponseDraw::watch_ratio`](crate::response::ResponseDraw::watch_ratio)).
    pub fn watch_time(&self) -> crate::response::WatchTime {
        crate::response::WatchTime {
            replay_mean: self.replay_mean,
            partial_shape: self.partial_shape,
            max_ratio: self.max_ratio,
        }
    }

    /// Checks every field; errors name `watch.<field>`.
    pub fn validate(&self) -> Result<()> {
        check::within("watch.duration_median_s", self.duration_median_s, 0.1, 36_000.0)?;
        check::within("watch.duration_sigma", self.duration_sigma, 0.0, 5.0)?;
        check::within(
            "watch.duration_max_s",
            self.duration_max_s,
            self.duration_median_s,
            36_000.0,
        )
        .map_err(|_| {
            Error::invalid(
                "watch.duration_max_s",
                self.duration_max_s,
                format!(
                    "must be between duration_median_s = {} and 36000",
                    self.duration_median_s
                ),
            )
        })?;
        check::within("watch.partial_shape", self.partial_shape, 0.01, 100.0)?;
        check::within("watch.replay_mean", self.replay_mean, 0.0, 100.0)?;
        check::within("watch.max_ratio", self.max_ratio, 1.0, 100.0)?;
        check::within("watch.long_view_s", self.long_view_s, 0.0, 36_000.0)
    }

    /// The duration of post `id` in seconds: a keyed draw, so the same post
    /// has the same duration under every policy.
    pub(crate) fn duration_s(&self, seed: u64, id: u32) -> f32 {
        let u = crate::rng::unit(seed, crate::rng::tag::DURATION, id.into(), 0).max(f64::MIN_POSITIVE);
        let z = crate::rng::standard_normal(u);
        (self.duration_median_s * (self.duration_sigma * z).exp()).min(self.duration_max_s) as f32
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

/// Engagement points a fan earns for each event on one of the creator's
/// posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngagementPoints {
    /// Per watch-through.
    pub watch: u32,
    /// Per like.
    pub like: u32,
    /// Per comment.
    pub comment: u32,
    /// Per share.
    pub share: u32,
    /// Per product click.
    pub click: u32,
    /// Per order.
    pub order: u32,
}

impl Default for EngagementPoints {
    fn default() -> Self {
        EngagementPoints {
            watch: 10,
            like: 20,
            comment: 30,
            share: 30,
            click: 10,
            order: 50,
        }
    }
}

/// The fan lifecycle. See [`crate::engine`] for when each rule applies.
///
/// The defaults are ours (the documents give no numbers): an iron fan is a
/// fan whose engagement score, decaying by `daily_decay` a day, reaches
/// `iron_fan_above` — about two watched-and-liked posts a week; it drops
/// back to an ordinary fan below `iron_fan_below`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DynamicsParams {
    /// Whether follows, promotions, demotions, groups, memberships,
    /// unfollows and creator churn happen at all.
    pub enabled: bool,
    /// Points per event.
    pub points: EngagementPoints,
    /// Share of each fan's engagement score lost at the end of every day.
    pub daily_decay: f64,
    /// A fan becomes an iron fan when the score reaches this.
    pub iron_fan_above: u32,
    /// An iron fan becomes an ordinary fan when the score falls below this
    /// (at most `iron_fan_above`: the gap is the hysteresis).
    pub iron_fan_below: u32,
    /// Score of a new follow.
    pub follow_score: u32,
    /// A fan whose score stays below this ...
    pub unfollow_below: u32,
    /// ... for this many consecutive days unfollows (0: never; at most 255).
    pub unfollow_after_days: u32,
    /// The chance that a fan shown one of the creator's posts who does
    /// nothing with it (no watch-through, like, comment, share, click or
    /// order) unfollows, drawn per impression (0: never). Unfollows on
    /// Twitter follow exposure to content the follower does not want (too
    /// many posts, uninteresting topics: Kwak, Chun & Moon, CHI 2011); the
    /// value is ours (see scenarios/README.md for the rate it gives).
    #[serde(default)]
    pub unfollow_per_skip: f64,
    /// Days a repurchase coupon stays valid after a purchase.
    pub coupon_days: u32,
}

impl Default for DynamicsParams {
    fn default() -> Self {
        DynamicsParams {
            enabled: false,
            points: EngagementPoints::default(),
            daily_decay: 0.15,
            iron_fan_above: 60,
            iron_fan_below: 25,
            follow_score: 20,
            unfollow_below: 2,
            unfollow_after_days: 21,
            unfollow_per_skip: 0.0,
            coupon_days: 7,
        }
    }
}

/// A creator's fan group (DOMAIN.md \[001\]): the entry threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FanGroupParams {
    /// A fan must have followed for at least this many days ...
    pub min_days: u32,
    /// ... and have at least this engagement score.
    pub min_score: u32,
}

/// When a creator gives up (DOMAIN.md \[003\]: 3%–10% of trained hosts
/// persist three months).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChurnParams {
    /// Over the last this many days ...
    pub window_days: u32,
    /// ... a creator whose posts made fewer impressions than this stops
    /// posting.
    pub min_impressions: u64,
}

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

/// The user population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserParams {
    /// Number of users.
    pub count: u32,
    /// Categories each user is interested in (1 to 3), chosen uniformly.
    #[serde(default = "default_interests")]
    pub interests_per_user: u32,
    /// Interest weight of the first category; the others share the rest
    /// equally.
    #[serde(default = "default_primary_interest")]
    pub primary_interest: f64,
    /// Mean probability that a user opens the app on a given day (KuaiRand:
    /// 62% of users return the next day).
    #[serde(default = "default_activity")]
    pub daily_activity: f64,
    /// Concentration `κ` of the Beta distribution of users' daily activity
    /// (`α = mean·κ`, `β = (1 − mean)·κ`); larger is more uniform.
    #[serde(default = "default_activity_concentration")]
    pub activity_concentration: f64,
    /// Standard deviation of users' purchase propensity on the logit scale.
    #[serde(default = "default_propensity_sd")]
    pub purchase_propensity_sd: f64,
    /// Regions and their weights: user `u` lives in region `r` with
    /// probability `regions[r] / Σ regions` (at most 255). Empty, the
    /// default: no regions. Account matrices need them ([`crate::matrix`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<f64>,
}

fn default_interests() -> u32 {
    3
}
fn default_primary_interest() -> f64 {
    0.6
}
fn default_activity() -> f64 {
    0.62
}
fn default_activity_concentration() -> f64 {
    4.0
}
fn default_propensity_sd() -> f64 {
    1.0
}

/// A cohort of similar creators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortParams {
    /// The cohort's name in reports (unique).
    pub name: String,
    /// Archetype label.
    #[serde(default)]
    pub archetype: Archetype,
    /// Number of creators.
    pub creators: u32,
    /// Follower counts: log-uniform, `exp(U(ln(min+1), ln(max+1))) − 1`, or
    /// log-normal when `median` and `p90` are given; see [`FollowerRange`].
    pub followers: FollowerRange,
    /// Share of each creator's followers who are iron fans, in `[0, 1]`.
    pub iron_fan_ratio: f64,
    /// Share of followers drawn from users interested in the creator's
    /// category; the rest have no interest in it (passer-by fans).
    pub verticality: f64,
    /// Mean posts per creator per day (Poisson).
    pub posts_per_day: f64,
    /// Post quality.
    #[serde(default)]
    pub quality: QualityParams,
    /// Creator trust (0 ordinary; KOE accounts high).
    #[serde(default)]
    pub trust: f64,
    /// What the cohort sells, if anything.
    #[serde(default)]
    pub product: Option<ProductParams>,
    /// Whether the cohort is one brand's account matrix, and how its
    /// accounts' audiences lean to their regions ([`crate::matrix`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<crate::matrix::MatrixParams>,
    /// The creators' live sessions, if they hold any ([`crate::live`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<crate::live::LiveSessions>,
    /// The creators' fan group, if they run one (dynamics only).
    #[serde(default)]
    pub fan_group: Option<FanGroupParams>,
    /// When the cohort's creators give up (dynamics only).
    #[serde(default)]
    pub churn: Option<ChurnParams>,
    /// Daily probability that an iron fan is given the creator's e-commerce
    /// membership as a perk (dynamics only; buyers always become members).
    #[serde(default)]
    pub member_perk_rate: f64,
}

/// A cohort's follower counts: within `[min, max]`, drawn log-uniformly, or
/// log-normally when `median` and `p90` are given (KuaiRand users' fan
/// counts: median 48, p90 660, which puts p99 near 5,600 against the
/// data's 4,373; DOMAIN.md).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowerRange {
    /// Smallest follower count.
    pub min: u32,
    /// Largest follower count (at most the number of users).
    pub max: u32,
    /// Median of a log-normal follower count (with `p90`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    /// 90th percentile of a log-normal follower count (with `median`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90: Option<f64>,
}

/// The most follow edges a world can hold: edges are indexed by `u32`
/// (4.29 × 10^9 edges, about 52 GB at the graph's 12 bytes per edge, far
/// beyond a 24 GiB machine).
pub const MAX_EDGES: u64 = u32::MAX as u64 - 1;

impl FollowerRange {
    /// The mean follower count: `(b − a) / ln(b / a) − 1` for the
    /// log-uniform on `[a, b] = [min + 1, max + 1]`, the log-normal's
    /// `median · exp(σ² / 2)` (at most `max`) when `median` and `p90` are
    /// given.
    pub fn mean(&self) -> f64 {
        match (self.median, self.p90) {
            (Some(m), Some(p)) => {
                let sigma = (p / m).ln() / 1.281_551_565_545;
                (m * (sigma * sigma / 2.0).exp()).min(f64::from(self.max))
            }
            _ => {
                let (a, b) = (f64::from(self.min) + 1.0, f64::from(self.max) + 1.0);
                if b - a < 1e-9 {
                    f64::from(self.min)
                } else {
                    (b - a) / (b / a).ln() - 1.0
                }
            }
        }
    }

    /// Exactly `n` followers.
    pub fn fixed(n: u32) -> Self {
        FollowerRange {
            min: n,
            max: n,
            median: None,
            p90: None,
        }
    }

    /// Log-uniform within `[min, max]`.
    pub fn log_uniform(min: u32, max: u32) -> Self {
        FollowerRange {
            min,
            max,
            median: None,
            p90: None,
        }
    }
}

/// Post quality: a creator's mean is `mean + N(0, creator_sd)`, each post
/// `N(creator mean, sd)`. Quality is a standardized score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualityParams {
    /// Cohort mean.
    pub mean: f64,
    /// Spread of posts around their creator's mean.
    pub sd: f64,
    /// Spread of creators' means around the cohort mean.
    pub creator_sd: f64,
}

impl Default for QualityParams {
    fn default() -> Self {
        QualityParams {
            mean: 0.0,
            sd: 1.0,
            creator_sd: 0.3,
        }
    }
}

/// A cohort's product.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductParams {
    /// Price in yuan (stored to the fen).
    pub price_yuan: f64,
    /// Share of posts that carry the product.
    pub share_of_posts: f64,
    /// Where the purchase happens: online (orders on the platform, the
    /// default) or offline (leads, then a store visit; DOMAIN.md's
    /// low-frequency offline quadrant: "online leads then store visit",
    /// cars, real estate, home decoration).
    #[serde(default)]
    pub sale: Sale,
    /// For an offline product: the chance that a lead visits the store (our
    /// assumption, 0.3: no public figure). Unused online.
    #[serde(default = "default_store_visit_rate")]
    pub store_visit_rate: f64,
    /// Purchase frequency (DOMAIN.md's four quadrants: high- or
    /// low-frequency): a viewer who ordered the product from this creator
    /// does not order it again within this many days (the repurchase
    /// interval; online orders only, counted from the orders recorded
    /// before the round). 0, the default: no interval.
    #[serde(default)]
    pub purchase_interval_days: u32,
}

fn default_store_visit_rate() -> f64 {
    0.3
}

impl ProductParams {
    /// A product sold online at `price_yuan` on `share_of_posts` of the
    /// cohort's posts (checked with the scenario).
    pub fn online(price_yuan: f64, share_of_posts: f64) -> Self {
        ProductParams {
            price_yuan,
            share_of_posts,
            sale: Sale::Online,
            store_visit_rate: default_store_visit_rate(),
            purchase_interval_days: 0,
        }
    }

    /// The product of a quadrant of DOMAIN.md's industries (frequency ×
    /// how online the purchase is), carried by `share_of_posts` of the
    /// posts. The quadrants' traits are the documents' ("low price, short
    /// decision" against "high price, long decision", orders against
    /// "online leads then store visit", \[002\]); the numbers are ours (no
    /// document gives them): see [`Quadrant`].
    pub fn preset(quadrant: Quadrant, share_of_posts: f64) -> Self {
        let (price_yuan, purchase_interval_days, sale) = match quadrant {
            Quadrant::HighFrequencyOnline => (59.0, 7, Sale::Online),
            Quadrant::HighFrequencyOffline => (80.0, 7, Sale::Offline),
            Quadrant::LowFrequencyOnline => (3_000.0, 365, Sale::Online),
            Quadrant::LowFrequencyOffline => (100_000.0, 1_825, Sale::Offline),
        };
        ProductParams {
            price_yuan,
            share_of_posts,
            sale,
            store_visit_rate: default_store_visit_rate(),
            purchase_interval_days,
        }
    }
}

/// DOMAIN.md's four industry quadrants (\[002\]), for
/// [`ProductParams::preset`]. Each preset's price, purchase interval and
/// sale are our assumptions in the quadrant's direction:
///
/// | quadrant | examples (DOMAIN.md) | price | interval | sale |
/// |---|---|---|---|---|
/// | high-frequency, online | food and drink, FMCG, apparel, beauty | 59 yuan | 7 days | orders |
/// | high-frequency, offline | restaurants, local services, salons | 80 yuan | 7 days | leads, store visits |
/// | low-frequency, online | electronics, education, insurance | 3,000 yuan | 365 days | orders |
/// | low-frequency, offline | real estate, cars, home decoration | 100,000 yuan | 5 years | leads, store visits |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// Low price, short decision, bought right after seeding.
    HighFrequencyOnline,
    /// Low price; drives visits to the store.
    HighFrequencyOffline,
    /// High price, long decision, long relationship.
    LowFrequencyOnline,
    /// High price, long decision; online leads, then a store visit.
    LowFrequencyOffline,
}

impl Quadrant {
    /// The four, in DOMAIN.md's order.
    pub const ALL: [Quadrant; 4] = [
        Quadrant::HighFrequencyOnline,
        Quadrant::HighFrequencyOffline,
        Quadrant::LowFrequencyOnline,
        Quadrant::LowFrequencyOffline,
    ];
}

/// Where a product's purchase happens (DOMAIN.md, "Industries: four
/// quadrants": how online the purchase is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sale {
    /// On the platform: a completed view may lead to a product click and an
    /// order (the default).
    #[default]
    Online,
    /// Off the platform: where an online product's viewer would order, the
    /// viewer leaves a **lead** (the same decision, the response model's
    /// order logit with its price term: our reading, a lead is the online
    /// step of an offline purchase); a lead visits the store with
    /// `store_visit_rate`, drawn from its own keyed stream. No order and no
    /// GMV on the platform.
    Offline,
}

pub use crate::content::MAX_PRICE_YUAN;

impl Scenario {
    /// The default scenario (`scenarios/default.toml`, embedded).
    pub fn default_scenario() -> Scenario {
        Scenario::from_toml_str(DEFAULT_SCENARIO).expect("the embedded default scenario is valid (tested)")
    }

    /// Parses and validates a scenario from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Scenario> {
        let s: Scenario = toml::from_str(text)?;
        // A file's seed is a TOML integer, at most 2^63 - 1: a larger one
        // could not be written back (`to_toml`, a sweep's shards). Seeds
        // set through the API (replicates') may use all 64 bits.
        if s.seed > i64::MAX as u64 {
            return Err(Error::invalid(
                "seed",
                s.seed,
                "must be at most 2^63 - 1 = 9223372036854775807 in a scenario file (the largest TOML integer)",
            ));
        }
        s.validate()?;
        Ok(s)
    }

    /// Reads, parses and validates a scenario file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Scenario> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Scenario::from_toml_str(&text)
    }

    /// The scenario as TOML text.
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::invalid("scenario", e, "cannot be written as TOML"))
    }

    /// The iron-fan-first policy with its public pools resolved: the
    /// ladder's pools when the file gives none.
    pub fn iron_fan_first(&self) -> IronFanFirst {
        let mut p = self.iron_fan_first.clone();
        if p.public_pools.is_none() {
            p.public_pools = Some(self.public_pool_ladder.pools.clone());
        }
        p
    }

    /// The scenario on `users` users with the same per-user proportions:
    /// creator counts, and the follower counts of log-uniform cohorts, scale
    /// with the population (at least one creator per cohort); log-normal
    /// follower counts (an absolute distribution, KuaiRand's) stay, capped
    /// at the population; public pools larger than a quarter of the
    /// population are dropped (the first is kept). Posts per user per day
    /// and the pushes' stage sizes stay as they are, so offers per active
    /// user stay close to the original's. The result is not validated.
    ///
    /// ```
    /// use feedsim::Scenario;
    /// let s = Scenario::default_scenario().scaled(20_000);
    /// assert_eq!(s.users.count, 20_000);
    /// s.validate()?;
    /// # Ok::<(), feedsim::Error>(())
    /// ```
    pub fn scaled(&self, users: u32) -> Scenario {
        let mut s = self.clone();
        let f = f64::from(users) / f64::from(self.users.count);
        s.users.count = users;
        let scale = |x: u32| (f64::from(x) * f).round() as u32;
        for c in &mut s.cohorts {
            c.creators = scale(c.creators).max(1);
            if c.followers.median.is_none() {
                c.followers.min = scale(c.followers.min);
                c.followers.max = scale(c.followers.max).max(c.followers.min);
            }
            c.followers.max = c.followers.max.min(users);
            c.followers.min = c.followers.min.min(c.followers.max);
        }
        let keep = |pools: &mut Vec<crate::policy::Pool>| {
            let first = pools.first().copied();
            pools.retain(|p| u64::from(p.size) * 4 <= u64::from(users));
            if pools.is_empty() {
                pools.extend(first);
            }
        };
        keep(&mut s.public_pool_ladder.pools);
        if let Some(p) = s.iron_fan_first.public_pools.as_mut() {
            keep(p);
        }
        s
    }

    /// The follow edges the scenario's world is expected to hold: each
    /// cohort's creators times the mean of its follower distribution (an
    /// upper bound for a log-normal, whose clamp to `[min, max]` only lowers
    /// the mean). World generation checks the drawn total exactly.
    pub fn expected_edges(&self) -> f64 {
        self.cohorts
            .iter()
            .map(|c| f64::from(c.creators) * c.followers.mean())
            .sum()
    }

    /// Warm-up days (0 without a warm-up).
    pub fn warmup_days(&self) -> u32 {
        self.warmup.map_or(0, |w| w.days)
    }

    /// Days posts are generated for: the warm-up's and the measured ones.
    pub fn total_days(&self) -> u32 {
        self.warmup_days().saturating_add(self.feed.days)
    }

    /// Checks every field; the first violation is returned, naming its field
    /// and value.
    pub fn validate(&self) -> Result<()> {
        let f = &self.feed;
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
        if let Some(w) = &self.warmup {
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

        let u = &self.users;
        if u.count == 0 {
            return Err(Error::invalid("users.count", 0, "the population is empty"));
        }
        if u.count == u32::MAX {
            return Err(Error::invalid("users.count", u.count, "must be below 2^32 - 1"));
        }
        if !(1..=MAX_INTERESTS as u32).contains(&u.interests_per_user) || u.interests_per_user > f.categories {
            return Err(Error::invalid(
                "users.interests_per_user",
                u.interests_per_user,
                "must be between 1 and 3 and at most feed.categories",
            ));
        }
        check::probability("users.primary_interest", u.primary_interest)?;
        check::probability("users.daily_activity", u.daily_activity)?;
        check::positive("users.activity_concentration", u.activity_concentration)?;
        check::non_negative("users.purchase_propensity_sd", u.purchase_propensity_sd)?;
        crate::matrix::validate_regions(&u.regions)?;

        if self.cohorts.is_empty() {
            return Err(Error::invalid("cohorts", "[]", "needs at least one cohort"));
        }
        let mut creators: u64 = 0;
        let mut names = std::collections::HashSet::new();
        for (i, c) in self.cohorts.iter().enumerate() {
            let field = |name: &str| format!("cohorts[{i}].{name}");
            if c.name.trim().is_empty() {
                return Err(Error::invalid(
                    field("name"),
                    format!("{:?}", c.name),
                    "must not be empty",
                ));
            }
            if !names.insert(c.name.as_str()) {
                return Err(Error::invalid(field("name"), &c.name, "is used by an earlier cohort"));
            }
            check::at_least_one(&field("creators"), c.creators.into())?;
            creators += u64::from(c.creators);
            if c.followers.min > c.followers.max {
                return Err(Error::invalid(
                    field("followers.min"),
                    c.followers.min,
                    format!("exceeds followers.max = {}", c.followers.max),
                ));
            }
            match (c.followers.median, c.followers.p90) {
                (None, None) => {}
                (Some(m), Some(p)) => {
                    check::within(&field("followers.median"), m, 1.0, f64::from(u.count))?;
                    if !(p.is_finite() && p > m) {
                        return Err(Error::invalid(
                            field("followers.p90"),
                            p,
                            format!("must be finite and above followers.median = {m}"),
                        ));
                    }
                }
                (Some(_), None) => {
                    return Err(Error::invalid(
                        field("followers.p90"),
                        "missing",
                        "is needed with followers.median",
                    ));
                }
                (None, Some(_)) => {
                    return Err(Error::invalid(
                        field("followers.median"),
                        "missing",
                        "is needed with followers.p90",
                    ));
                }
            }
            if c.followers.max > u.count {
                return Err(Error::invalid(
                    field("followers.max"),
                    c.followers.max,
                    format!("exceeds users.count = {}", u.count),
                ));
            }
            if !c.iron_fan_ratio.is_nan() && c.iron_fan_ratio > 1.0 {
                return Err(Error::invalid(
                    field("iron_fan_ratio"),
                    c.iron_fan_ratio,
                    "iron fans cannot outnumber fans (ratio above 1)",
                ));
            }
            check::probability(&field("iron_fan_ratio"), c.iron_fan_ratio)?;
            check::probability(&field("verticality"), c.verticality)?;
            check::non_negative(&field("posts_per_day"), c.posts_per_day)?;
            if c.posts_per_day > 1000.0 {
                return Err(Error::invalid(
                    field("posts_per_day"),
                    c.posts_per_day,
                    "must be at most 1000",
                ));
            }
            // Quality and trust are standardized scores; the bound keeps them
            // finite once stored as f32 and is far beyond any sensible value.
            check::within(&field("quality.mean"), c.quality.mean, -100.0, 100.0)?;
            check::within(&field("quality.sd"), c.quality.sd, 0.0, 100.0)?;
            check::within(&field("quality.creator_sd"), c.quality.creator_sd, 0.0, 100.0)?;
            check::within(&field("trust"), c.trust, -100.0, 100.0)?;
            if let Some(p) = &c.product {
                check::positive(&field("product.price_yuan"), p.price_yuan)?;
                if p.price_yuan > MAX_PRICE_YUAN {
                    return Err(Error::invalid(
                        field("product.price_yuan"),
                        p.price_yuan,
                        format!("must be at most {MAX_PRICE_YUAN}"),
                    ));
                }
                check::probability(&field("product.share_of_posts"), p.share_of_posts)?;
                check::probability(&field("product.store_visit_rate"), p.store_visit_rate)?;
                if p.purchase_interval_days > MAX_DAYS {
                    return Err(Error::invalid(
                        field("product.purchase_interval_days"),
                        p.purchase_interval_days,
                        format!("must be at most {MAX_DAYS} (longer than any run: use {MAX_DAYS} for \"once\")"),
                    ));
                }
            }
        }
        if creators >= u64::from(u32::MAX) {
            return Err(Error::invalid(
                "cohorts",
                creators,
                "total creators must fit in a u32 id",
            ));
        }
        let edges = self.expected_edges();
        if edges.is_nan() || edges > MAX_EDGES as f64 {
            return Err(Error::invalid(
                "cohorts",
                edges.round(),
                format!(
                    "the world would hold about this many follow edges (creators × mean followers summed over cohorts); at most {MAX_EDGES} fit the follow graph's u32 edge index"
                ),
            ));
        }
        let posts: f64 = self
            .cohorts
            .iter()
            .map(|c| f64::from(c.creators) * c.posts_per_day * f64::from(self.total_days()))
            .sum();
        if posts > 1e8 {
            return Err(Error::invalid("cohorts", posts, "expects more than 100 million posts"));
        }
        let a = &self.attention;
        check::within("attention.daily_median", a.daily_median, 1.0, 10_000.0)?;
        check::within("attention.daily_mean", a.daily_mean, a.daily_median, 10_000.0).map_err(|_| {
            Error::invalid(
                "attention.daily_mean",
                a.daily_mean,
                format!("must be between daily_median = {} and 10000", a.daily_median),
            )
        })?;
        self.watch.validate()?;
        let d = &self.dynamics;
        check::probability("dynamics.daily_decay", d.daily_decay)?;
        check::probability("dynamics.unfollow_per_skip", d.unfollow_per_skip)?;
        if d.unfollow_after_days > 255 {
            return Err(Error::invalid(
                "dynamics.unfollow_after_days",
                d.unfollow_after_days,
                "must be at most 255 (a fan's low days are counted in 8 bits)",
            ));
        }
        if d.iron_fan_below > d.iron_fan_above {
            return Err(Error::invalid(
                "dynamics.iron_fan_below",
                d.iron_fan_below,
                format!("must be at most iron_fan_above = {}", d.iron_fan_above),
            ));
        }
        for (i, c) in self.cohorts.iter().enumerate() {
            check::probability(&format!("cohorts[{i}].member_perk_rate"), c.member_perk_rate)?;
            if let Some(ch) = &c.churn {
                check::at_least_one(&format!("cohorts[{i}].churn.window_days"), ch.window_days.into())?;
            }
        }
        if self.cohorts.len() > usize::from(u16::MAX) {
            return Err(Error::invalid("cohorts", self.cohorts.len(), "at most 65535 cohorts"));
        }
        self.response.validate()?;
        self.public_pool_ladder.validate()?;
        self.viewer_feed.validate()?;
        if let Some(tab) = &self.followed_tab {
            tab.validate()?;
        }
        if let Some(bonus) = &self.category_bonus {
            bonus.validate(self.feed.categories)?;
        }
        if let Some(fission) = &self.fission {
            fission.validate(self.friends.is_some())?;
        }
        if let Some(paid) = &self.paid {
            let names: Vec<&str> = self.cohorts.iter().map(|c| c.name.as_str()).collect();
            paid.validate(&names)?;
        }
        if let Some(shelf) = &self.shelf_search {
            shelf.validate()?;
        }
        self.live.validate()?;
        for (i, c) in self.cohorts.iter().enumerate() {
            if let Some(l) = &c.live {
                l.validate(&format!("cohorts[{i}].live"), self.feed.slots_per_day)?;
            }
            if let Some(m) = &c.matrix {
                m.validate(&format!("cohorts[{i}].matrix"), self.users.regions.len())?;
            }
        }
        if let Some(friends) = &self.friends {
            friends.validate(self.users.count)?;
            let creators: u64 = self.cohorts.iter().map(|c| u64::from(c.creators)).sum();
            if creators > u64::from(self.users.count) {
                return Err(Error::invalid(
                    "friends",
                    creators,
                    format!(
                        "with a friend graph every creator's account is a user: {creators} creators, {} users",
                        self.users.count
                    ),
                ));
            }
        }
        self.iron_fan_first().validate()
    }
}

/// The most days a scenario may have: a follow edge keeps the day it was
/// made in 16 bits, with room left for pushes that outlast the last day.
pub const MAX_DAYS: u32 = 30_000;

/// The default scenario's text (`scenarios/default.toml`).
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::LogisticModel;

    #[test]
    fn sizes_are_checked_on_expected_edges_not_the_worst_case() {
        // The default world scaled to 10M users has about 10^9 edges: far
        // below the u32 edge index, though creators × followers.max is not.
        let big = Scenario::default_scenario().scaled(10_000_000);
        let edges = big.expected_edges();
        assert!((5e8..2e9).contains(&edges), "{edges}");
        let worst: f64 = big
            .cohorts
            .iter()
            .map(|c| f64::from(c.creators) * f64::from(c.followers.max))
            .sum();
        assert!(worst > MAX_EDGES as f64, "the worst case would have been refused");
        big.validate().unwrap();
        // A world that would really hold more edges than the index is refused.
        let mut s = Scenario::default_scenario();
        s.users.count = u32::MAX - 1;
        s.cohorts[0].creators = 100_000;
        s.cohorts[0].followers = FollowerRange::fixed(1_000_000);
        let e = s.validate().unwrap_err();
        assert_eq!(e.field(), Some("cohorts"));
        assert!(
            e.to_string().contains("cohorts = 1000") && e.to_string().contains("u32 edge index"),
            "{e}"
        );
    }

    #[test]
    fn the_10m_scenario_file_is_growth_scaled() {
        let file = Scenario::from_toml_str(include_str!("../scenarios/growth_10m.toml")).unwrap();
        let mut scaled = Scenario::from_toml_str(include_str!("../scenarios/growth.toml"))
            .unwrap()
            .scaled(10_000_000);
        scaled.name = file.name.clone();
        assert_eq!(file, scaled);
        let edges = file.expected_edges();
        assert!((7.0e8..8.0e8).contains(&edges), "{edges}");
    }

    #[test]
    fn follower_means_match_the_drawn_counts() {
        // Expected edges against the default world's drawn follower counts
        // (41,134 creators; the general cohort's log-normal dominates the
        // count and the KOL's the edges). Log-uniform means are exact; the
        // log-normal bound ignores the clamp at max, so it may only be high.
        let s = Scenario::default_scenario();
        let world = crate::World::generate(&s).unwrap();
        let drawn = world.graph().edges() as f64;
        let expected = s.expected_edges();
        assert!(
            expected >= 0.85 * drawn && expected <= 1.15 * drawn,
            "{expected} vs {drawn}"
        );
        let r = FollowerRange::log_uniform(0, 1000);
        // (1001 − 1) / ln 1001 − 1
        assert!((r.mean() - (1000.0 / 1001f64.ln() - 1.0)).abs() < 1e-9);
        assert_eq!(FollowerRange::fixed(7).mean(), 7.0);
    }

    #[test]
    fn default_file_spells_out_the_code_defaults() {
        // The file documents the defaults; if the code's defaults drift from
        // it, this fails.
        let s = Scenario::default_scenario();
        assert_eq!(s.response, ResponseSpec::Logistic(LogisticModel::default()));
        assert_eq!(s.public_pool_ladder, PublicPoolLadder::default());
        assert_eq!(s.iron_fan_first, IronFanFirst::default());
        assert_eq!(s.feed, FeedParams::default());
        assert_eq!(s.attention, AttentionParams::default());
        assert_eq!(s.viewer_feed, FeedSpec::default());
        assert_eq!(s.watch, WatchParams::default());
        assert_eq!(s.dynamics, DynamicsParams::default());
        assert!(s.users.count >= 200_000);
        assert_eq!(
            s.iron_fan_first().public_pools.as_ref(),
            Some(&s.public_pool_ladder.pools)
        );
    }

    #[test]
    fn durations_follow_their_log_normal() {
        // Median 9.6 s and IQR 7.4–12.2 s (KuaiRec), from keyed draws:
        // the sample quantiles of 20,000 posts land within a few percent.
        let w = WatchParams::default();
        let mut d: Vec<f32> = (0..20_000).map(|id| w.duration_s(7, id)).collect();
        d.sort_unstable_by(f32::total_cmp);
        let q = |p: f64| f64::from(d[(p * d.len() as f64) as usize]);
        assert!((q(0.5) / 9.6 - 1.0).abs() < 0.02, "median {}", q(0.5));
        assert!((q(0.25) / 7.4 - 1.0).abs() < 0.03, "p25 {}", q(0.25));
        assert!((q(0.75) / 12.2 - 1.0).abs() < 0.03, "p75 {}", q(0.75));
        assert!(d.iter().all(|&x| x > 0.0 && f64::from(x) <= w.duration_max_s));
    }

    #[test]
    fn toml_round_trip() {
        let s = Scenario::default_scenario();
        let back = Scenario::from_toml_str(&s.to_toml_string().unwrap()).unwrap();
        assert_eq!(s, back);
    }
}
