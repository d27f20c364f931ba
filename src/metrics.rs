//! Reports: per post, per creator, per cohort and for the platform.
//!
//! Counts are exact integers ([`Tally`]), summed in a fixed order, so a
//! report is bit-identical at any thread count. GMV is counted in fen
//! (0.01 yuan) for the same reason and shown in yuan. Every report type is
//! `serde::Serialize`.

use serde::{Deserialize, Serialize};

use crate::scenario::AttentionMode;
pub(crate) use crate::tally::ratio;
pub use crate::tally::{BySource, Events, PerTier, PushEnd, Rates, Tally, Tier, TierTallies};

/// One post's push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostReport {
    /// Post id.
    pub id: u32,
    /// Creator id.
    pub creator: u32,
    /// Cohort index.
    pub cohort: u16,
    /// Publish slot.
    pub slot: u32,
    /// Content category (its creator's).
    #[serde(default)]
    pub category: u8,
    /// Post quality.
    pub quality: f32,
    /// Product price in yuan, if any.
    pub price_yuan: Option<f64>,
    /// Stages the post entered (1 = only the first).
    pub stages_entered: u8,
    /// How the push ended.
    pub end: PushEnd,
    /// Impressions per stage entered.
    pub stage_impressions: Vec<u64>,
    /// Offers per stage entered (impressions plus offers the viewers' feeds
    /// did not show).
    pub stage_offers: Vec<u64>,
    /// Whether the post entered a public stage.
    pub reached_public: bool,
    /// Counts over the whole push. `impressions` is also the post's unique
    /// reach: no user sees a post twice.
    pub tally: Tally,
    /// The same counts per audience tier of the viewers.
    pub by_tier: TierTallies,
    /// The same counts per traffic source (sums to `tally`).
    pub by_source: BySource,
    /// Counts of the response model's own events, by name (see
    /// [`ResponseModel::extra_events`](crate::response::ResponseModel::extra_events));
    /// absent when the model names none.
    #[serde(default, skip_serializing_if = "Events::is_empty")]
    pub events: Events,
    /// Whether the post is a live session ([`crate::live`]; absent for a
    /// video): its impressions are entries into the room, its watch time
    /// the viewers' stays. Its creator, cohort and the platform count it
    /// under the source `"live"`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub live: bool,
}

/// One creator over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatorReport {
    /// Creator id.
    pub id: u32,
    /// Cohort index.
    pub cohort: u16,
    /// Content category.
    pub category: u8,
    /// Followers at the start.
    pub followers: u32,
    /// Iron fans at the start.
    pub iron_fans: u32,
    /// Followers at the end.
    pub followers_end: u32,
    /// Iron fans at the end.
    pub iron_fans_end: u32,
    /// The day after which the creator stopped posting, if it did.
    pub stopped_after_day: Option<u32>,
    /// A matrix account's region ([`crate::matrix`]); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<u8>,
    /// A matrix account's followers at the end who live in its region;
    /// absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_followers_end: Option<u32>,
    /// Posts published.
    pub posts: u32,
    /// Counts over all the creator's posts.
    pub tally: Tally,
    /// The same counts per audience tier of the viewers.
    pub by_tier: TierTallies,
    /// The same counts per traffic source: the posts' sources sum to `tally`; with
    /// [`crate::shelf`], `"search"` and `"shelf"` count listings of the
    /// creators' products (impressions are listings) and their orders,
    /// which no post carries and `tally` leaves out (see
    /// [`BySource::by_channel`]).
    pub by_source: BySource,
    /// Counts of the response model's own events, by name (see
    /// [`ResponseModel::extra_events`](crate::response::ResponseModel::extra_events));
    /// absent when the model names none.
    #[serde(default, skip_serializing_if = "Events::is_empty")]
    pub events: Events,
}

/// Lifecycle counts of a cohort over the run along the private-domain loop
/// (DOMAIN.md \[002\]: new → retained → active → converted → repurchase).
/// The counts are aggregates over the run, not one tracked group of users,
/// so a "rate" here can exceed 1; the nested funnels are
/// [`ContentFunnel`] and [`RelationshipFunnel`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    /// New: distinct users reached as strangers (estimated when the
    /// scenario has more than 8 cohorts; see [`Report::reach_relative_error`]).
    pub new_viewers: u64,
    /// Retained: follows gained.
    pub follows: u64,
    /// Active: fans promoted to iron fan.
    pub iron_fan_promotions: u64,
    /// Converted: distinct (creator, user) buyer pairs.
    pub buyers: u64,
    /// Repurchase: buyer pairs who ordered again.
    pub repeat_buyers: u64,
    /// `follows / new_viewers`.
    pub follow_rate: f64,
    /// `iron_fan_promotions / follows`.
    pub promotion_rate: f64,
    /// `buyers / iron_fan_promotions`.
    pub buy_rate: f64,
    /// `repeat_buyers / buyers`.
    pub repeat_rate: f64,
}

impl Funnel {
    pub(crate) fn with_rates(mut self) -> Self {
        self.follow_rate = ratio(self.follows, self.new_viewers);
        self.promotion_rate = ratio(self.iron_fan_promotions, self.follows);
        self.buy_rate = ratio(self.buyers, self.iron_fan_promotions);
        self.repeat_rate = ratio(self.repeat_buyers, self.buyers);
        self
    }
}

/// The content side of a nested funnel, over impressions: impression →
/// long view → product click → order → repurchase. Each step is a subset of
/// the one before (a click needs a completed view, which is a long view; an
/// order needs a click; a repurchase is an order), so every rate, a count
/// over the step before, lies in `[0, 1]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentFunnel {
    /// Impressions.
    pub impressions: u64,
    /// Long views.
    pub long_views: u64,
    /// Product clicks.
    pub clicks: u64,
    /// Orders.
    pub orders: u64,
    /// Repurchases.
    pub repurchases: u64,
    /// `long_views / impressions`.
    pub long_view_per_impression: f64,
    /// `clicks / long_views`.
    pub click_per_long_view: f64,
    /// `orders / clicks`.
    pub order_per_click: f64,
    /// `repurchases / orders`.
    pub repurchase_per_order: f64,
}

impl ContentFunnel {
    pub(crate) fn of(t: &Tally) -> Self {
        ContentFunnel {
            impressions: t.impressions,
            long_views: t.long_views,
            clicks: t.clicks,
            orders: t.orders,
            repurchases: t.repurchases,
            long_view_per_impression: ratio(t.long_views, t.impressions),
            click_per_long_view: ratio(t.clicks, t.long_views),
            order_per_click: ratio(t.orders, t.clicks),
            repurchase_per_order: ratio(t.repurchases, t.orders),
        }
    }
}

/// The relationship side of a nested funnel, over distinct users at the end
/// of the run: viewers (reached by the cohort's posts) → of them, followers
/// of one of the cohort's creators → of those, iron fans of one → of those,
/// fan-group members of one → of those, e-commerce members of one. Each
/// step is the previous set intersected with a condition, so every rate
/// lies in `[0, 1]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RelationshipFunnel {
    /// Distinct users reached.
    pub viewers: u64,
    /// Of them, following one of the cohort's creators at the end.
    pub followers: u64,
    /// Of those, an iron fan of one of them.
    pub iron_fans: u64,
    /// Of those, a fan-group member of one of them.
    pub group_members: u64,
    /// Of those, an e-commerce member of one of them.
    pub ecommerce_members: u64,
    /// `followers / viewers`.
    pub follower_per_viewer: f64,
    /// `iron_fans / followers`.
    pub iron_fan_per_follower: f64,
    /// `group_members / iron_fans`.
    pub group_member_per_iron_fan: f64,
    /// `ecommerce_members / group_members`.
    pub ecommerce_member_per_group_member: f64,
}

impl RelationshipFunnel {
    pub(crate) fn with_rates(mut self) -> Self {
        self.follower_per_viewer = ratio(self.followers, self.viewers);
        self.iron_fan_per_follower = ratio(self.iron_fans, self.followers);
        self.group_member_per_iron_fan = ratio(self.group_members, self.iron_fans);
        self.ecommerce_member_per_group_member = ratio(self.ecommerce_members, self.group_members);
        self
    }
}

/// One cohort at the end of one day.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DailyCohortReport {
    /// Day (0 is the first).
    pub day: u32,
    /// Cohort name.
    pub cohort: String,
    /// Followers at the end of the day.
    pub followers: u64,
    /// Iron fans at the end of the day.
    pub iron_fans: u64,
    /// `iron_fans / followers`.
    pub iron_fan_ratio: f64,
    /// Fan-group members at the end of the day.
    pub group_members: u64,
    /// E-commerce members at the end of the day.
    pub ecommerce_members: u64,
    /// Impressions of the cohort's posts during the day.
    pub impressions: u64,
    /// Distinct users reached by the cohort's posts during the day
    /// (estimated when the scenario has more than 8 cohorts; see
    /// [`Report::reach_relative_error`]).
    pub unique_reach: u64,
    /// Orders during the day.
    pub orders: u64,
    /// GMV during the day, fen.
    pub gmv_fen: u64,
    /// Repurchases during the day.
    pub repurchases: u64,
    /// `repurchases / orders`.
    pub repurchase_rate: f64,
    /// Creators still posting at the end of the day.
    pub active_creators: u32,
    /// Follow edges added at the day's end (distinct new follows; with
    /// dynamics on). `followers` is the day before's plus `follows_added`
    /// minus `unfollows`.
    #[serde(default)]
    pub follows_added: u64,
    /// Follow edges removed at the day's end (with dynamics on).
    #[serde(default)]
    pub unfollows: u64,
    /// Fans promoted to iron fan at the day's end (with dynamics on).
    #[serde(default)]
    pub promotions: u64,
    /// Iron fans demoted at the day's end (with dynamics on).
    #[serde(default)]
    pub demotions: u64,
    /// Iron fans who unfollowed at the day's end (with dynamics on; part
    /// of `unfollows`). With new follows entering as ordinary fans (the
    /// default, `follow_score < iron_fan_above`), `iron_fans` is the day
    /// before's plus `promotions` minus `demotions` minus `iron_unfollows`:
    /// in a steady state promotions balance demotions and iron unfollows
    /// together, not demotions alone.
    #[serde(default)]
    pub iron_unfollows: u64,
}

/// Attention over the run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AttentionReport {
    /// Finite or unlimited.
    pub mode: AttentionMode,
    /// Impressions the active users could have watched (sum of the daily
    /// budgets of the users active each day); `None` when unlimited.
    pub supply: Option<u64>,
    /// Offers made to active users.
    pub offered: u64,
    /// Offers accepted: impressions served.
    pub served: u64,
    /// Offers declined for lack of attention.
    pub declined: u64,
}

/// A cohort over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortReport {
    /// Cohort name.
    pub name: String,
    /// Creators.
    pub creators: u32,
    /// Followers at the start, summed over creators.
    pub followers: u64,
    /// Iron fans at the start, summed.
    pub iron_fans: u64,
    /// Iron fans / followers.
    pub iron_fan_ratio: f64,
    /// Posts published.
    pub posts: u64,
    /// Posts that reached at least one public pool stage.
    pub posts_reaching_public: u64,
    /// Distinct users who saw at least one of the cohort's posts.
    pub unique_reach: u64,
    /// `unique_reach / followers`.
    pub reach_per_follower: f64,
    /// Counts over the cohort's posts.
    pub tally: Tally,
    /// Rates over the cohort's posts.
    pub rates: Rates,
    /// The cohort's counts per audience tier of the viewers.
    pub by_tier: TierTallies,
    /// The cohort's counts per traffic source: the posts' sources sum to `tally`; with
    /// [`crate::shelf`], `"search"` and `"shelf"` count listings of the
    /// creators' products (impressions are listings) and their orders,
    /// which no post carries and `tally` leaves out (see
    /// [`BySource::by_channel`]).
    pub by_source: BySource,
    /// Counts of the response model's own events, by name (see
    /// [`ResponseModel::extra_events`](crate::response::ResponseModel::extra_events));
    /// absent when the model names none.
    #[serde(default, skip_serializing_if = "Events::is_empty")]
    pub events: Events,
    /// Distinct users reached in each tier (a user who is an iron fan of one
    /// creator and a stranger to another counts in both; estimated when the
    /// scenario has more than 8 cohorts, see [`Report::reach_relative_error`]).
    pub unique_reach_by_tier: PerTier<u64>,
    /// Followers at the end of the run.
    pub followers_end: u64,
    /// Iron fans at the end of the run.
    pub iron_fans_end: u64,
    /// Iron fans / followers at the end.
    pub iron_fan_ratio_end: f64,
    /// Creators still posting at the end.
    pub active_creators_end: u32,
    /// Fans who unfollowed.
    pub unfollows: u64,
    /// Iron fans demoted to ordinary fans.
    pub iron_fan_demotions: u64,
    /// Iron fans who unfollowed (part of `unfollows`): with `demotions`,
    /// the iron tier's exits.
    #[serde(default)]
    pub iron_fan_unfollows: u64,
    /// Lifecycle counts (not nested; see the two funnels below).
    pub funnel: Funnel,
    /// The nested content funnel.
    pub content_funnel: ContentFunnel,
    /// The nested relationship funnel.
    pub relationship_funnel: RelationshipFunnel,
    /// For an account matrix, how local its audience is (the cohort is
    /// the brand; [`crate::matrix`]). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<crate::matrix::MatrixReport>,
    /// The cohort's live sessions' figures beside the liquor-brand case's
    /// ([`LiveSummary`]; [`crate::live`]). Absent without sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveSummary>,
}

/// The whole platform over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformReport {
    /// Users.
    pub users: u32,
    /// Creators.
    pub creators: u32,
    /// Posts.
    pub posts: u64,
    /// Distinct users who saw anything.
    pub unique_reach: u64,
    /// Counts over all posts.
    pub tally: Tally,
    /// Rates over all posts.
    pub rates: Rates,
    /// The platform's counts per audience tier of the viewers.
    pub by_tier: TierTallies,
    /// The platform's counts per traffic source: the posts' sources sum to `tally`; with
    /// [`crate::shelf`], `"search"` and `"shelf"` count listings of the
    /// creators' products (impressions are listings) and their orders,
    /// which no post carries and `tally` leaves out (see
    /// [`BySource::by_channel`]).
    pub by_source: BySource,
    /// Counts of the response model's own events, by name (see
    /// [`ResponseModel::extra_events`](crate::response::ResponseModel::extra_events));
    /// absent when the model names none.
    #[serde(default, skip_serializing_if = "Events::is_empty")]
    pub events: Events,
    /// Distinct users reached in each tier.
    pub unique_reach_by_tier: PerTier<u64>,
    /// Median watch ratio over impressions, to 0.01 (the lower edge of the
    /// 0.01-wide bin holding the median; KuaiRec: 0.716).
    pub watch_ratio_median: f64,
    /// Gini coefficient of impressions across creators (0 equal, 1 one
    /// creator has everything).
    pub impressions_gini: f64,
    /// Gini coefficient of GMV across creators.
    pub gmv_gini: f64,
    /// Share of impressions going to the top 1% of creators by impressions.
    pub impressions_top1_share: f64,
    /// Share of GMV going to the top 1% of creators by GMV.
    pub gmv_top1_share: f64,
    /// Gini coefficient of impressions across posts (KuaiRand-Pure's
    /// exposures across videos: 0.729, a reference, not a target: its
    /// ~27,000-user sample caps a viral video's exposures).
    pub post_impressions_gini: f64,
    /// Share of impressions going to the top 20% of posts (KuaiRand-Pure:
    /// 76.5%, same caveat).
    pub post_impressions_top20_share: f64,
    /// Counts by the offers' depth (friend hops, share generations; see
    /// [`Channel::offer_with_depth`](crate::channel::Channel::offer_with_depth)):
    /// entry `d` over the impressions at depth `d`, entry 0 the rest (the
    /// stages' offers and channels' offers of depth 0). Empty, and absent
    /// from the JSON, when every impression is at depth 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_depth: Vec<Tally>,
    /// [`by_depth`](Self::by_depth) per channel source that made offers
    /// deeper than 0 (e.g. `share`: entry `g` over the views of share
    /// generation `g`, entry 0 the source's offers of depth 0). Absent when
    /// empty.
    #[serde(default, skip_serializing_if = "BySourceDepth::is_empty")]
    pub by_source_depth: BySourceDepth,
    /// Commission paid to sharers, in fen (`[fission]`: the rate times the
    /// price of each order a share brought, each rounded down to the fen);
    /// `gmv_fen` less this is the GMV net of commission. Absent when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub commission_fen: u64,
    /// Shelf and search ([`crate::shelf`]): searches, shelf visits and the
    /// lag from seeding to order. Absent without `[shelf_search]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shelf_search: Option<crate::shelf::ShelfSearchReport>,
}

/// Counts by depth per source ([`PlatformReport::by_source_depth`]).
pub type BySourceDepth = std::collections::BTreeMap<String, Vec<Tally>>;

fn is_zero(x: &u64) -> bool {
    *x == 0
}

fn is_zero_u32(x: &u32) -> bool {
    *x == 0
}

/// Everything one run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Policy name.
    pub policy: String,
    /// Response model name.
    pub model: String,
    /// Run seed.
    pub seed: u64,
    /// Slots simulated, including the drain after the last posting day
    /// (and the warm-up's, if any: slots count on one clock).
    pub slots: u32,
    /// Days of warm-up before the period the report covers (absent: none).
    /// With a warm-up the report covers the measured days only: the daily
    /// rows are days `warmup_days..` (the clock keeps counting), counts by
    /// time (attention, reach, lifecycle counts, buyers, daily rows) are
    /// the measured days', and counts by post (posts, creators' and
    /// cohorts' tallies, the platform's tally) are those of the posts
    /// published in the measured days. A post published in the warm-up and
    /// still live at the switch goes on under the warm-up policy; its
    /// later impressions count by time but it is not one of the report's
    /// posts. See [`Simulation::warm_up`](crate::Simulation::warm_up).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub warmup_days: u32,
    /// The warm-up's policy (absent without a warm-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_policy: Option<String>,
    /// Platform totals.
    pub platform: PlatformReport,
    /// Attention supply and use.
    pub attention: AttentionReport,
    /// Per day and cohort (day-major).
    pub daily: Vec<DailyCohortReport>,
    /// Per cohort, in scenario order.
    pub cohorts: Vec<CohortReport>,
    /// Per creator, by id.
    pub creators: Vec<CreatorReport>,
    /// Per post, by id.
    pub posts: Vec<PostReport>,
    /// Absent when every reach figure is exact (up to 8 cohorts). With more
    /// cohorts, the relative standard error (1.6%) of the reach figures
    /// estimated by sketches: each cohort's `unique_reach_by_tier` and
    /// `funnel.new_viewers` (and so its `funnel.follow_rate`), and each day's per-cohort `unique_reach` (a cohort's
    /// `unique_reach` and every platform figure stay exact; see the engine's
    /// memory notes in the README).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach_relative_error: Option<f64>,
}

impl Report {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> crate::Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// The tally of each content category's posts, indexed by category (as
    /// many entries as the largest category seen plus one, or
    /// `categories` if more): how a category traffic bonus
    /// ([`crate::category_bonus`]) moves traffic between categories.
    /// Sums the per-post tallies, so it needs `posts` (empty when the run
    /// streamed its posts to disk). O(posts).
    pub fn by_category(&self, categories: usize) -> Vec<Tally> {
        let n = self
            .posts
            .iter()
            .map(|p| usize::from(p.category) + 1)
            .max()
            .unwrap_or(0)
            .max(categories);
        let mut out = vec![Tally::default(); n];
        for p in &self.posts {
            out[usize::from(p.category)].add(&p.tally);
        }
        out
    }

    /// The cohort with this name.
    pub fn cohort(&self, name: &str) -> Option<&CohortReport> {
        self.cohorts.iter().find(|c| c.name == name)
    }
}

/// Gini coefficient of non-negative values (0 for an empty or all-zero
/// list). O(n log n).
pub fn gini(values: &[u64]) -> f64 {
    let mut v: Vec<u64> = values.to_vec();
    v.sort_unstable();
    let n = v.len() as f64;
    let total: f64 = v.iter().map(|&x| x as f64).sum();
    if v.is_empty() || total == 0.0 {
        return 0.0;
    }
    let weighted: f64 = v.iter().enumerate().map(|(i, &x)| (i as f64 + 1.0) * x as f64).sum();
    (2.0 * weighted) / (n * total) - (n + 1.0) / n
}

/// Share of the total held by the top `fraction` of values (at least one
/// value).
pub fn top_share(values: &[u64], fraction: f64) -> f64 {
    let mut v: Vec<u64> = values.to_vec();
    v.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = v.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let k = ((v.len() as f64 * fraction).ceil() as usize).max(1);
    v[..k].iter().sum::<u64>() as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_of_known_distributions() {
        assert_eq!(gini(&[5, 5, 5, 5]), 0.0);
        // One of n holds everything: G = (n-1)/n.
        assert!((gini(&[0, 0, 0, 10]) - 0.75).abs() < 1e-12);
        assert_eq!(gini(&[]), 0.0);
    }

    #[test]
    fn top_share_takes_at_least_one() {
        assert!((top_share(&[1, 1, 8], 0.01) - 0.8).abs() < 1e-12);
        assert_eq!(top_share(&[0, 0], 0.01), 0.0);
    }

    #[test]
    fn rates_are_zero_on_empty_tallies() {
        let r = Tally::default().rates();
        assert_eq!(r.watch_through_rate, 0.0);
        assert_eq!(r.orders_per_mille, 0.0);
    }
}

/// The counts a [`LiveSummary`] is computed from, summed over live
/// sessions as they finish (so a cohort's summary needs no kept posts).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct LiveTallies {
    sessions: u64,
    all: Tally,
    fans: Tally,
    others: Tally,
    members: u64,
}

impl LiveTallies {
    /// Adds a post if it is a live session.
    pub(crate) fn add(&mut self, p: &PostReport) {
        if !p.live {
            return;
        }
        self.sessions += 1;
        self.all.add(&p.tally);
        for tier in [Tier::GroupMember, Tier::IronFan, Tier::OtherFan] {
            self.fans.add(p.by_tier.get(tier));
        }
        self.members += p.by_tier.get(Tier::GroupMember).impressions;
        self.others.add(p.by_tier.get(Tier::Public));
    }

    /// The summary; `None` without sessions.
    pub(crate) fn summary_if_any(&self) -> Option<LiveSummary> {
        (self.sessions > 0).then(|| self.summary())
    }

    fn summary(&self) -> LiveSummary {
        let (fans, others, all) = (&self.fans, &self.others, &self.all);
        let stay = |t: &Tally| t.watch_time_ms as f64 / 60_000.0 / t.impressions.max(1) as f64;
        let interactions = |t: &Tally| (t.likes + t.comments + t.shares) as f64 / t.impressions.max(1) as f64;
        let both = fans.impressions > 0 && others.impressions > 0;
        let per = |a: f64, b: f64| (both && b > 0.0).then(|| a / b);
        LiveSummary {
            sessions: self.sessions,
            viewers: all.impressions,
            fan_share_of_viewers: ratio(fans.impressions, all.impressions),
            member_share_of_viewers: ratio(self.members, all.impressions),
            fan_stay_ratio: per(stay(fans), stay(others)),
            fan_stay_min: stay(fans),
            non_fan_stay_min: stay(others),
            fan_interaction_ratio: per(interactions(fans), interactions(others)),
            fan_share_of_gmv: ratio(all.fan_gmv_fen + all.new_fan_gmv_fen, all.gmv_fen),
            old_fan_share_of_gmv: ratio(all.fan_gmv_fen, all.gmv_fen),
            gmv_fen: all.gmv_fen,
            orders: all.orders,
        }
    }
}

/// A set of live sessions' figures ([`crate::live`]) beside the liquor-brand case's
/// (DOMAIN.md \[002\]), from the sessions' reports: each ratio is the
/// model's output, never fitted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveSummary {
    /// Sessions.
    pub sessions: u64,
    /// Viewers (entries).
    pub viewers: u64,
    /// Fans' share of viewers (the case: 50%).
    pub fan_share_of_viewers: f64,
    /// Fan-group members' share of viewers.
    pub member_share_of_viewers: f64,
    /// A fan's mean stay over a non-fan's (the case: "500% longer", 6);
    /// `None` without both fans and non-fans among the viewers.
    pub fan_stay_ratio: Option<f64>,
    /// Mean stay of a fan, minutes.
    pub fan_stay_min: f64,
    /// Mean stay of a non-fan, minutes.
    pub non_fan_stay_min: f64,
    /// A fan's interactions (likes, comments, shares) per viewer over a
    /// non-fan's (the case: "50% more", 1.5); `None` as the stay's.
    pub fan_interaction_ratio: Option<f64>,
    /// Share of GMV from fans, old and new (the case: 83%).
    pub fan_share_of_gmv: f64,
    /// Share of GMV from old fans, who followed before the session's day
    /// (the case: 59%).
    pub old_fan_share_of_gmv: f64,
    /// GMV, fen.
    pub gmv_fen: u64,
    /// Orders.
    pub orders: u64,
}

impl LiveSummary {
    /// The summary of the live sessions among `posts`.
    pub fn of<'a>(posts: impl IntoIterator<Item = &'a PostReport>) -> LiveSummary {
        let mut sessions = LiveTallies::default();
        posts.into_iter().for_each(|p| sessions.add(p));
        sessions.summary()
    }

    /// The summary of a report's live sessions, of one cohort if named
    /// (needs the report's posts: not a streamed run's).
    pub fn of_report(report: &Report, cohort: Option<&str>) -> LiveSummary {
        let index = cohort.and_then(|name| report.cohorts.iter().position(|c| c.name == name));
        LiveSummary::of(
            report
                .posts
                .iter()
                .filter(|p| index.is_none_or(|i| usize::from(p.cohort) == i)),
        )
    }
}
