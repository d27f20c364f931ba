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
use crate::error::{Error, Result};
use crate::feed::{Feed, FeedSpec, FissionParams, FollowedTab, PaidTraffic};
use crate::policy::{IronFanFirst, PublicPoolLadder};
use crate::response::ResponseSpec;
use crate::world::FriendParams;

pub use crate::world::{Archetype, MAX_INTERESTS};

mod cohort;
mod dynamics;
mod feed;
mod users;
mod watch;

pub use cohort::{CohortParams, FollowerRange, MAX_EDGES, ProductParams, Quadrant, QualityParams, Sale};
pub use dynamics::{ChurnParams, DynamicsParams, EngagementPoints, FanGroupParams};
pub use feed::{AttentionMode, AttentionParams, FastLifecycle, FeedParams, WarmupParams, WarmupPolicy};
pub use users::UserParams;
pub use watch::WatchParams;

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
    /// and value. Each section checks its own bounds (its file in this
    /// folder); what spans sections (sizes, cohort names) is checked here.
    pub fn validate(&self) -> Result<()> {
        self.feed.validate(self.warmup.as_ref())?;
        if let Some(w) = self.warmup
            && let Some(fast) = w.fast
        {
            fast.validate(w.days, &self.dynamics)?;
        }
        let u = &self.users;
        u.validate(self.feed.categories)?;

        if self.cohorts.is_empty() {
            return Err(Error::invalid("cohorts", "[]", "needs at least one cohort"));
        }
        let mut creators: u64 = 0;
        let mut names = std::collections::HashSet::new();
        for (i, c) in self.cohorts.iter().enumerate() {
            c.validate(i, u)?;
            if !names.insert(c.name.as_str()) {
                return Err(Error::invalid(
                    format!("cohorts[{i}].name"),
                    &c.name,
                    "is used by an earlier cohort",
                ));
            }
            creators += u64::from(c.creators);
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
        self.attention.validate()?;
        self.watch.validate()?;
        self.dynamics.validate()?;
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
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");

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
        let file = Scenario::from_toml_str(include_str!("../../scenarios/growth_10m.toml")).unwrap();
        let mut scaled = Scenario::from_toml_str(include_str!("../../scenarios/growth.toml"))
            .unwrap()
            .scaled(10_000_000);
        scaled.name = file.name.clone();
        assert_eq!(file, scaled);
        let edges = file.expected_edges();
        assert!((7.0e8..8.0e8).contains(&edges), "{edges}");
    }

    #[test]
    fn the_ladder_sizes_file_is_growth_with_its_cohorts_at_the_ladders_balance() {
        let file = Scenario::from_toml_str(include_str!("../../scenarios/growth_ladder_sizes.toml")).unwrap();
        let growth = Scenario::from_toml_str(include_str!("../../scenarios/growth.toml")).unwrap();
        // Per cohort: each run the file's header lists (the four the
        // medians were set from, then the three of the file itself at 1M), as
        // (its median creator's followers at the switch, unfollows over
        // follows added in the measured month), whose quotient estimates
        // the balance; and the iron-fan ratio (a first run's level at its
        // end). The file's median must lie within 10% of the runs' median
        // estimate and within their range.
        type Runs = (&'static str, &'static [(f64, f64)], f64);
        let measured: [Runs; 4] = [
            (
                "KOL",
                &[
                    (1_149.0, 1.094),
                    (1_148.0, 0.946),
                    (1_754.0, 1.220),
                    (1_612.0, 1.260),
                    (1_238.0, 0.879),
                    (806.0, 0.991),
                    (1_654.0, 1.107),
                ],
                0.0093,
            ),
            (
                "waist",
                &[
                    (1_152.0, 0.943),
                    (1_064.0, 0.874),
                    (1_663.0, 1.063),
                    (1_507.0, 1.020),
                    (1_367.0, 1.087),
                    (1_525.0, 1.068),
                    (1_348.0, 1.050),
                ],
                0.0027,
            ),
            (
                "KOE",
                &[
                    (1_550.0, 1.007),
                    (1_584.0, 1.124),
                    (2_043.0, 1.180),
                    (1_626.0, 1.048),
                    (1_391.0, 1.018),
                    (1_355.0, 1.024),
                    (1_318.0, 1.004),
                ],
                0.0056,
            ),
            (
                "general",
                &[
                    (336.0, 0.966),
                    (348.0, 0.960),
                    (341.0, 0.949),
                    (379.0, 0.958),
                    (380.0, 0.952),
                    (380.0, 0.957),
                ],
                0.0001,
            ),
        ];
        let mut expected = growth.clone();
        expected.name = file.name.clone();
        for c in &mut expected.cohorts {
            let Some(&(_, runs, ratio)) = measured.iter().find(|m| m.0 == c.name) else {
                continue;
            };
            let mut balances: Vec<f64> = runs.iter().map(|(level, flows)| level / flows).collect();
            balances.sort_by(f64::total_cmp);
            let mid = balances.len() / 2;
            let estimate = if balances.len().is_multiple_of(2) {
                (balances[mid - 1] + balances[mid]) / 2.0
            } else {
                balances[mid]
            };
            let f = file.cohorts.iter().find(|x| x.name == c.name).unwrap().followers;
            let median = f.median.expect("a log-normal count");
            assert!(
                (median / estimate - 1.0).abs() < 0.1
                    && balances[0] <= median
                    && median <= balances[balances.len() - 1],
                "{}: median {median} against the balances {balances:?}",
                c.name
            );
            c.followers = f;
            c.iron_fan_ratio = ratio;
        }
        // Its own warm-up: 120 days under the ladder, the first 90 with the
        // lifecycle eleven times as fast, and the followed tab.
        let mut warmup = WarmupParams::new(120, WarmupPolicy::PublicPoolLadder);
        warmup.fast = Some(FastLifecycle { days: 90, speed: 11.0 });
        expected.warmup = Some(warmup);
        expected.followed_tab = Some(crate::feed::FollowedTab::default());
        assert_eq!(file, expected);
        // The balance does not grow with the world (fixed-size pools), and
        // neither do the file's counts when it is scaled.
        let small = file.scaled(200_000);
        for (a, b) in file.cohorts.iter().zip(&small.cohorts) {
            if measured.iter().any(|m| m.0 == a.name) {
                assert_eq!(a.followers, b.followers, "{}", a.name);
            }
        }
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
