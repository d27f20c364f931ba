//! The new push: iron fans first, then the other fans, then public pools.

use serde::{Deserialize, Serialize};

use super::ladder::{Pool, default_pools, pool_stages, validate_pools};
use super::{Audience, Gate, GateScope, MAX_STAGES, PushPolicy, Stage};
use crate::error::{Error, Result, check};

/// A fan stage of [`IronFanFirst`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FanStage {
    /// At most this many fans of the tier are offered the post (a random
    /// subset); absent for all of them.
    #[serde(default)]
    pub size: Option<u32>,
    /// The gate after this stage.
    pub gate: Gate,
}

/// Iron-fan-first push (DOMAIN.md, \[000\], \[002\]): a post goes first to the
/// creator's iron fans; if they respond well, to the other fans; if the fans
/// respond well, into the public pools, whose first pool is enlarged in
/// proportion to how well the fans responded.
///
/// Defaults (gate weights as in [`Gate::default`]):
/// - iron fans: all of them; gate over that stage, threshold 2.5;
/// - other fans: all of them; gate over **all fan impressions so far** (iron
///   fans and other fans together, "the fans' feedback"), threshold 1.4;
/// - fan feedback scoring `s` above the threshold `t` multiplies the first
///   public pool by `clamp(s / t, 1, max_public_boost)`, default up to 3×;
/// - public pools: in a scenario, the scenario's ladder pools unless
///   `public_pools` is given ([`Scenario::iron_fan_first`](crate::Scenario::iron_fan_first)
///   fills them in); a value built in Rust with `public_pools: None` uses
///   the library's default pools.
///
/// Both gates need at least 20 impressions (`min_impressions`); below that
/// the fans are too few to judge and the post moves on unboosted, so a
/// newcomer without fans still reaches the public pools.
///
/// The thresholds are ours. They sit between what vertical and off-topic
/// fans produce for an ordinary post under the default response model: a
/// fan with interest 0.6 in the category watches through 69% of the time and
/// likes 6.9% of impressions (score ≈ 1.84), one with interest 0.2 scores
/// ≈ 1.30, a fan with no interest ≈ 1.06; an iron fan at interest 0.6 scores
/// ≈ 3.6. So the fans of a vertical account (mostly interested, some iron
/// fans) pass 1.4, those of a low-verticality KOL mostly do not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IronFanFirst {
    /// An optional first stage for the creator's fan-group members (who are
    /// notified of each new post); the iron-fan stage then skips them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_members: Option<FanStage>,
    /// The iron-fan stage.
    pub iron_fans: FanStage,
    /// The other-fans stage.
    pub other_fans: FanStage,
    /// Most the fans' feedback can multiply the first public pool by (>= 1).
    pub max_public_boost: f64,
    /// Public pools after the fans; absent in a scenario file means the
    /// scenario's public-pool ladder's pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_pools: Option<Vec<Pool>>,
}

impl Default for IronFanFirst {
    fn default() -> Self {
        IronFanFirst {
            group_members: None,
            iron_fans: FanStage {
                size: None,
                gate: Gate {
                    threshold: 2.5,
                    min_impressions: 20,
                    ..Gate::default()
                },
            },
            other_fans: FanStage {
                size: None,
                gate: Gate {
                    threshold: 1.4,
                    over: GateScope::SoFar,
                    min_impressions: 20,
                    ..Gate::default()
                },
            },
            max_public_boost: 3.0,
            public_pools: None,
        }
    }
}

impl IronFanFirst {
    /// Checks the policy; errors name `iron_fan_first....`.
    pub fn validate(&self) -> Result<()> {
        let group = self.group_members.as_ref().map(|g| ("group_members", g));
        for (name, s) in group
            .into_iter()
            .chain([("iron_fans", &self.iron_fans), ("other_fans", &self.other_fans)])
        {
            if s.size == Some(0) {
                return Err(Error::invalid(
                    format!("iron_fan_first.{name}.size"),
                    0,
                    "must be at least 1",
                ));
            }
            s.gate.validate(&format!("iron_fan_first.{name}.gate"))?;
        }
        check::finite("iron_fan_first.max_public_boost", self.max_public_boost)?;
        if self.max_public_boost < 1.0 {
            return Err(Error::invalid(
                "iron_fan_first.max_public_boost",
                self.max_public_boost,
                "must be at least 1",
            ));
        }
        if let Some(pools) = &self.public_pools {
            validate_pools(pools, "iron_fan_first.public_pools")?;
            if pools.len() + 3 > MAX_STAGES {
                return Err(Error::invalid(
                    "iron_fan_first.public_pools",
                    pools.len(),
                    format!("at most {} pools", MAX_STAGES - 3),
                ));
            }
        }
        Ok(())
    }
}

impl PushPolicy for IronFanFirst {
    fn name(&self) -> &str {
        "iron-fan first"
    }

    fn stages(&self) -> Vec<Stage> {
        let group = self.group_members.as_ref().map(|g| (Audience::GroupMembers, g, None));
        let fans = group
            .into_iter()
            .chain([
                (Audience::IronFans, &self.iron_fans, None),
                (Audience::OtherFans, &self.other_fans, Some(self.max_public_boost)),
            ])
            .map(|(audience, s, boost_next)| Stage {
                audience,
                size: s.size,
                gate: Some(s.gate),
                boost_next,
            });
        let pools = self.public_pools.clone().unwrap_or_else(default_pools);
        fans.chain(pool_stages(&pools)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_iron_fans_then_fans_then_public() {
        let s = IronFanFirst::default().stages();
        assert_eq!(s[0].audience, Audience::IronFans);
        assert_eq!(s[1].audience, Audience::OtherFans);
        assert!(s[2..].iter().all(|s| s.audience == Audience::Public));
        assert_eq!(s[1].boost_next, Some(3.0));
        assert_eq!(s[1].gate.unwrap().over, GateScope::SoFar);
    }

    #[test]
    fn validation_names_fields() {
        let p = IronFanFirst {
            max_public_boost: 0.5,
            ..IronFanFirst::default()
        };
        assert_eq!(
            p.validate().unwrap_err().field(),
            Some("iron_fan_first.max_public_boost")
        );
        let mut p = IronFanFirst::default();
        p.other_fans.gate.like = -1.0;
        assert_eq!(
            p.validate().unwrap_err().field(),
            Some("iron_fan_first.other_fans.gate.like")
        );
    }
}
