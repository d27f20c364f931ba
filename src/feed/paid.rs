//! Paid traffic, the commercial domain (DOMAIN.md, "The three traffic
//! domains" and "Paid traffic"): a creator buys plays for a post, DOU+
//! style, with a budget at a price per 1,000 plays, targeted at an
//! interest audience, at its own fans or at fans of similar creators.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Candidate, Feed, reweighted::Reweighted};
use crate::audience::FansOfSimilarCreators;
use crate::channel::{Channel, ChannelView};
use crate::error::{Error, Result, check};

/// The source of bought offers in `by_source`.
pub const PAID: &str = "paid";

/// Whom bought plays go to (DOU+'s targeting modes, DOMAIN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaidTarget {
    /// Today's active users interested in the post's category (the
    /// "system-chosen" and interest audiences), in the day's keyed order.
    #[default]
    Interest,
    /// The creator's own fans: paid traffic aimed at the private domain.
    OwnFans,
    /// Fans of the 20 most similar creators of the post's category
    /// ([`FansOfSimilarCreators`], the "audience pack" of up to 20 named
    /// creators).
    SimilarFans,
}

/// When a promoted post starts buying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaidStart {
    /// From the slot it is published.
    #[default]
    Published,
    /// Once its push offers it to the public: at once under the ladder,
    /// under iron-fan first only after the post passed its fans' gates (a
    /// platform that buys traffic only for posts its fans approved).
    PublicPools,
}

/// The scenario's `[paid]`: DOU+-style paid traffic.
///
/// - **Who buys.** Each post of a creator of `cohorts` (every cohort if
///   empty) is promoted with chance `share_of_posts`, decided by a keyed
///   draw per post (the same under every policy: common random numbers).
/// - **What it buys.** A promoted post's budget buys
///   `⌊budget × 1,000 / price per 1,000⌋` shown impressions. In each round
///   while its push is under way (a channel offers only then; see
///   [`crate::channel`]) and, with `start = "public_pools"`, only while its
///   stage is public, it offers the post to at most
///   `⌈bought / delivery_slots⌉` users of its `target`, never more than
///   the impressions its budget has left. Offers go through the viewer's
///   feed like any other, under source [`PAID`], ranked with weight
///   `feed_weight`; an offer the feed does not show costs nothing and the
///   budget carries to the next round.
/// - **What it costs.** Every shown impression costs the price per 1,000 ÷
///   1,000: the post's spend is its paid impressions × the price per 1,000
///   (in fen) ÷ 1,000, **rounded down to the fen**, charged when its push
///   ends in its `spend_fen` (never more than the budget). At the default
///   20 yuan per 1,000 that is exactly 2 fen a play.
/// - **What it brings.** The post's `by_source["paid"]` counts the bought
///   impressions and what they brought: follows deposited (strangers who
///   followed), orders and GMV; ROI is GMV over spend.
///
/// Defaults: a budget of 100 yuan (DOU+'s minimum order, "≈ 5,000 plays")
/// at 20 yuan per 1,000 plays (practitioners' figure, DOMAIN.md; a
/// parameter: no public CPM exists, DOMAIN.md lists it under "no credible
/// figure"); the rest is our assumption: 10% of posts promoted, interest
/// targeting, buying from publication, the whole remaining budget offered
/// each round (`delivery_slots = 1`), and paid candidates ranked like any
/// (`feed_weight = 1`). A campaign ends with the post's push: the engine's
/// channels offer only while it is under way, so a post whose push stops
/// early leaves its budget unspent (`spend_fen` says what was spent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaidTraffic {
    /// The cohorts (by name) whose creators buy; empty: every cohort.
    pub cohorts: Vec<String>,
    /// The chance that a post of those creators is promoted, in `[0, 1]`.
    pub share_of_posts: f64,
    /// Budget per promoted post, yuan (0.01 to 1e9).
    pub budget_yuan: f64,
    /// Price per 1,000 shown impressions, yuan (0.01 to 1e6).
    pub price_per_mille_yuan: f64,
    /// Whom bought plays go to.
    pub target: PaidTarget,
    /// When a promoted post starts buying.
    pub start: PaidStart,
    /// Rounds the budget is spread over: a round offers at most
    /// `⌈bought / delivery_slots⌉` users (1 to 10,000).
    pub delivery_slots: u32,
    /// Multiplies a paid candidate's ranking weight in the viewer's feed
    /// (0 to 1e12).
    pub feed_weight: f64,
}

impl Default for PaidTraffic {
    fn default() -> Self {
        PaidTraffic {
            cohorts: Vec::new(),
            share_of_posts: 0.1,
            budget_yuan: 100.0,
            price_per_mille_yuan: 20.0,
            target: PaidTarget::Interest,
            start: PaidStart::Published,
            delivery_slots: 1,
            feed_weight: 1.0,
        }
    }
}

impl PaidTraffic {
    /// Checks every field; errors name it (`paid.budget_yuan`, ...).
    /// `cohorts` are the scenario's cohort names.
    pub fn validate(&self, cohorts: &[&str]) -> Result<()> {
        for (i, name) in self.cohorts.iter().enumerate() {
            if !cohorts.contains(&name.as_str()) {
                return Err(Error::invalid(
                    format!("paid.cohorts[{i}]"),
                    format!("{name:?}"),
                    format!("the scenario's cohorts are {}", cohorts.join(", ")),
                ));
            }
        }
        self.validate_values()
    }

    /// Checks every field but `cohorts`.
    fn validate_values(&self) -> Result<()> {
        check::probability("paid.share_of_posts", self.share_of_posts)?;
        check::within("paid.budget_yuan", self.budget_yuan, 0.01, 1e9)?;
        check::within("paid.price_per_mille_yuan", self.price_per_mille_yuan, 0.01, 1e6)?;
        if !(1..=10_000).contains(&self.delivery_slots) {
            return Err(Error::invalid(
                "paid.delivery_slots",
                self.delivery_slots,
                "must be 1 to 10000",
            ));
        }
        check::within("paid.feed_weight", self.feed_weight, 0.0, 1e12)
    }

    /// The budget per promoted post in fen (rounded to the fen).
    pub fn budget_fen(&self) -> u64 {
        (self.budget_yuan * 100.0).round() as u64
    }

    /// The price per 1,000 shown impressions in fen (rounded to the fen).
    pub fn price_per_mille_fen(&self) -> u64 {
        (self.price_per_mille_yuan * 100.0).round().max(1.0) as u64
    }

    /// The shown impressions one promoted post's budget buys:
    /// `⌊budget_fen × 1,000 / price_per_mille_fen⌋`.
    pub fn impressions_bought(&self) -> u64 {
        (u128::from(self.budget_fen()) * 1000 / u128::from(self.price_per_mille_fen())) as u64
    }

    /// What `impressions` shown paid impressions of one post cost, in fen:
    /// `⌊impressions × price_per_mille_fen / 1,000⌋`.
    pub fn spend_fen(&self, impressions: u64) -> u64 {
        (u128::from(impressions) * u128::from(self.price_per_mille_fen()) / 1000) as u64
    }

    /// The channel that buys for a scenario whose cohorts are named
    /// `cohorts`, in order.
    pub fn channel<'n>(&self, cohorts: impl IntoIterator<Item = &'n str>) -> PaidChannel {
        let bought = self.impressions_bought();
        PaidChannel {
            buys: cohorts
                .into_iter()
                .map(|name| self.cohorts.is_empty() || self.cohorts.iter().any(|c| c == name))
                .collect(),
            bought,
            per_round: bought.div_ceil(u64::from(self.delivery_slots.max(1))),
            params: self.clone(),
        }
    }

    /// `feed` with paid candidates' ranking weight multiplied by
    /// `feed_weight` (itself if 1).
    pub fn around(&self, feed: Arc<dyn Feed>) -> Arc<dyn Feed> {
        if self.feed_weight == 1.0 {
            return feed;
        }
        let weight = self.feed_weight as f32;
        Arc::new(Reweighted {
            factor: move |c: &Candidate| if c.source == PAID { weight } else { 1.0 },
            inner: feed,
        })
    }
}

/// The channel of [`PaidTraffic`], for one scenario's cohorts (built by
/// [`PaidTraffic::channel`]).
#[derive(Debug, Clone)]
pub struct PaidChannel {
    params: PaidTraffic,
    /// Per cohort (by index): whether its creators buy.
    buys: Vec<bool>,
    /// Shown impressions a promoted post's budget buys.
    bought: u64,
    /// The most users offered in one round.
    per_round: u64,
}

/// The keys of a post's own draws (users are below 2^32, so these never
/// meet a user's key).
const PROMOTED: u64 = u64::MAX;
const START: u64 = u64::MAX - 1;

impl PaidChannel {
    /// Whether the post `v` shows is promoted: its creator's cohort buys and
    /// the post's keyed draw falls below `share_of_posts`.
    pub fn promotes(&self, v: &ChannelView) -> bool {
        let cohort = v.audience.world.creators().cohort(v.audience.post.creator) as usize;
        self.buys.get(cohort).copied().unwrap_or(false) && v.unit(PROMOTED) < self.params.share_of_posts
    }
}

impl Channel for PaidChannel {
    fn source(&self) -> &'static str {
        PAID
    }

    fn offer(&self, v: &ChannelView, out: &mut Vec<u32>) {
        if !self.promotes(v) || (self.params.start == PaidStart::PublicPools && !v.stage_is_public()) {
            return;
        }
        let left = self.bought.saturating_sub(v.shown(PAID).impressions);
        let n = left.min(self.per_round);
        if n == 0 {
            return;
        }
        let a = &v.audience;
        let post = a.post;
        // Round r (from publication) takes the r-th window of `per_round`
        // places of the target list, from a keyed start, wrapping round the
        // list (at most the whole list once): a user is offered again only
        // once the list has gone round, and the engine drops a user already
        // offered the post.
        let r = u64::from(v.slot.saturating_sub(post.slot));
        let window = |len: u64, user: &dyn Fn(u64) -> u32, out: &mut Vec<u32>| {
            if len == 0 {
                return;
            }
            let start = (v.unit(START) * len as f64) as u64 % len;
            let from = (start + r.wrapping_mul(self.per_round) % len) % len;
            for i in 0..n.min(len) {
                out.push(user((from + i) % len));
            }
        };
        match self.params.target {
            PaidTarget::Interest => {
                let list = a.today.interested_in(post.category);
                window(list.len() as u64, &|i| list[i as usize], out);
            }
            PaidTarget::OwnFans => {
                let row = a.graph.fan_edges(post.creator);
                window(
                    u64::from(row.end - row.start),
                    &|i| a.graph.edge_user(row.start + i as u32),
                    out,
                );
            }
            PaidTarget::SimilarFans => {
                let rows: Vec<std::ops::Range<u32>> = FansOfSimilarCreators::default()
                    .similar(a)
                    .into_iter()
                    .map(|c| a.graph.fan_edges(c))
                    .collect();
                let len = rows.iter().map(|r| u64::from(r.end - r.start)).sum();
                window(
                    len,
                    &|mut i| {
                        for row in &rows {
                            let l = u64::from(row.end - row.start);
                            if i < l {
                                return a.graph.edge_user(row.start + i as u32);
                            }
                            i -= l;
                        }
                        unreachable!("i < the rows' total length")
                    },
                    out,
                );
            }
        }
    }

    fn validate(&self) -> Result<()> {
        // The cohort names were resolved when the channel was built.
        self.params.validate_values()
    }

    fn spend_fen(&self, impressions: u64) -> u64 {
        self.params.spend_fen(impressions)
    }
}
