//! `[[cohorts]]`: creators, their followers, quality and product.

use serde::{Deserialize, Serialize};

use super::{ChurnParams, FanGroupParams, MAX_DAYS, MAX_PRICE_YUAN, UserParams};
use crate::error::{Error, Result, check};
use crate::world::Archetype;

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

impl CohortParams {
    /// Checks cohort `i` (`cohorts[i]`) against the population.
    pub fn validate(&self, i: usize, u: &UserParams) -> Result<()> {
        let c = self;
        let field = |name: &str| format!("cohorts[{i}].{name}");
        if c.name.trim().is_empty() {
            return Err(Error::invalid(
                field("name"),
                format!("{:?}", c.name),
                "must not be empty",
            ));
        }
        check::at_least_one(&field("creators"), c.creators.into())?;
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
        check::probability(&field("member_perk_rate"), c.member_perk_rate)?;
        if let Some(ch) = &c.churn {
            check::at_least_one(&field("churn.window_days"), ch.window_days.into())?;
        }
        Ok(())
    }
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
