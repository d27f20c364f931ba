//! `[dynamics]`: the fan lifecycle.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};

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

impl DynamicsParams {
    /// Checks `[dynamics]`.
    pub fn validate(&self) -> Result<()> {
        let d = self;
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
        Ok(())
    }
}
