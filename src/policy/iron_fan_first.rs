//! The new push: iron fans first, then the other fans in gated waves, then
//! public pools weighted by the account's private-domain quality.

use serde::{Deserialize, Serialize};

use super::ladder::{Pool, default_pools, next_pool, validate_pools};
use super::{Gate, MAX_STAGES, Order, PushContext, PushEnd, PushPolicy, Size, Stage, Step, Verdict};
use crate::audience::{GroupMembers, IronFans, OtherFans};
use crate::error::{Error, Result, check};
use crate::tally::Tally;

const GROUP: &str = "group members";
const IRON: &str = "iron fans";
const WAVE: &str = "fan wave";
const POOL: &str = "public pool";

/// A single fan stage of [`IronFanFirst`] (the fan group, the iron fans).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FanStage {
    /// At most this many fans of the tier are offered the post, the most
    /// engaged first; absent for all of them.
    #[serde(default)]
    pub size: Option<u32>,
    /// The gate after this stage.
    pub gate: Gate,
}

/// The other fans, in waves (issue: "not all at once").
///
/// Wave `k` (from 0) offers the post to `first · growth^k` fans who are not
/// iron fans, picked in `order` (by default the most engaged with the
/// creator first). The next wave comes only if this one passes `gate`
/// (judged over the wave just shown), the fans have not run out, and fewer
/// than `max_waves` have been shown; so how many fans a post reaches grows
/// with the fan base only while the fans keep responding well. The
/// defaults are our assumptions: a first wave of 200 mirrors the first
/// public pool of "200–500" (DOMAIN.md), doubling mirrors the ladder's
/// growth, 8 waves reach at most 51,000 fans.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FanWaves {
    /// Offers in the first wave (at least 1).
    pub first: u32,
    /// Each wave is this many times the one before (at least 1).
    pub growth: f64,
    /// The most waves (1 to 32).
    pub max_waves: u32,
    /// Which fans come first.
    #[serde(default = "engagement")]
    pub order: Order,
    /// The gate after each wave.
    pub gate: Gate,
}

fn engagement() -> Order {
    Order::Engagement
}

/// How the public traffic after the fans is weighted by the account's
/// private-domain quality (DOMAIN.md \[000\]: "the traffic password is no
/// longer the absolute fan count but the iron-fan ratio"; \[002\]: core
/// fans "raise the weight" of the account's public traffic). No source
/// gives the shape; this is our assumption, and a parameter:
///
/// ```text
/// weight = clamp( (iron_fan_ratio / reference_ratio)^ratio_exponent
///                 × clamp(fan_score / fan_threshold, 1, max_feedback_boost),
///                 min, max )
/// ```
///
/// where `fan_score` is the fan-wave gate's score over every impression of
/// the post's fan stages (the fans' feedback on this post) and
/// `fan_threshold` that gate's threshold; the feedback term is 1 when the
/// fans gave fewer impressions than that gate's `min_impressions`. Every public pool's size is
/// multiplied by the weight. The follower count never enters. With
/// `ratio_exponent = 0` the ratio term is switched off and only the fans'
/// feedback acts (the entry gate and the feedback term): the
/// `iron_fan_ratio` example reports both, so a reader sees how much of the
/// effect is assumed and how much emerges.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicWeight {
    /// The iron-fan ratio at which the ratio term is 1 (ours: 0.1, between
    /// the "seriously small" share of typical accounts and the 50% of the
    /// internal test, \[000\]).
    pub reference_ratio: f64,
    /// The ratio term's exponent (ours: 0.5); 0 switches it off.
    pub ratio_exponent: f64,
    /// The most the fans' feedback term can be (at least 1; ours: 2).
    pub max_feedback_boost: f64,
    /// The weight's lower bound (> 0; ours: 0.25).
    pub min: f64,
    /// The weight's upper bound (at least `min`; ours: 4).
    pub max: f64,
}

impl Default for PublicWeight {
    fn default() -> Self {
        PublicWeight {
            reference_ratio: 0.1,
            ratio_exponent: 0.5,
            max_feedback_boost: 2.0,
            min: 0.25,
            max: 4.0,
        }
    }
}

impl PublicWeight {
    /// The weight for an account with this iron-fan ratio whose fans gave
    /// the post this feedback, judged by `gate`.
    /// `peers` are recent posts' first fan waves, against which a relative
    /// gate sets its bar (see [`Gate::judge_among`]).
    pub fn weight<'a>(
        &self,
        iron_fan_ratio: f64,
        fans: &Tally,
        gate: &Gate,
        peers: impl IntoIterator<Item = &'a Tally>,
    ) -> f64 {
        self.weight_given(iron_fan_ratio, gate.judge_among(fans, fans, peers))
    }

    /// The weight, given the gate's verdict on the fans' feedback.
    fn weight_given(&self, iron_fan_ratio: f64, verdict: Verdict) -> f64 {
        let ratio_term = if self.ratio_exponent == 0.0 {
            1.0
        } else {
            (iron_fan_ratio.max(0.0) / self.reference_ratio).powf(self.ratio_exponent)
        };
        let feedback_term = match verdict {
            Verdict::Pass { strength, .. } => strength.clamp(1.0, self.max_feedback_boost),
            _ => 1.0,
        };
        (ratio_term * feedback_term).clamp(self.min, self.max)
    }

    fn validate(&self, field: &str) -> Result<()> {
        check::positive(&format!("{field}.reference_ratio"), self.reference_ratio)?;
        check::within(&format!("{field}.ratio_exponent"), self.ratio_exponent, 0.0, 10.0)?;
        check::within(
            &format!("{field}.max_feedback_boost"),
            self.max_feedback_boost,
            1.0,
            1e6,
        )?;
        check::within(&format!("{field}.min"), self.min, f64::MIN_POSITIVE, 1e6)?;
        check::within(&format!("{field}.max"), self.max, self.min, 1e6).map_err(|_| {
            Error::invalid(
                format!("{field}.max"),
                self.max,
                format!("must be in [min = {}, 1e6]", self.min),
            )
        })
    }
}

/// Iron-fan-first push (DOMAIN.md \[000\], \[002\] and the practitioners'
/// account of it: "new posts go to iron fans first and, on good completion
/// and interaction, to ordinary fans and then new users").
///
/// 1. Optionally the fan-group members ([`GroupMembers`]), gated;
/// 2. the iron fans ([`IronFans`], all of them unless sized), gated;
/// 3. the other fans in gated waves ([`FanWaves`], [`OtherFans`]);
/// 4. the public pools (the ladder's unless `public_pools` is given), each
///    multiplied by the [`PublicWeight`] and gated as in the ladder.
///
/// A failed gate ends the push. A stage with fewer than the gate's
/// `min_impressions` (a creator with no fans) cannot be judged and the post
/// moves on, so a newcomer without fans still reaches the public, with the
/// public weight of an iron-fan ratio of 0.
///
/// Default gates (weights as in [`Gate::default`]): relative, the iron-fan
/// stage and each fan wave must score at least the 0.3 quantile of recent
/// posts' same stage (so about 70% of fan stages pass, the worst-received
/// 30% stop), each over its own stage and needing 20 impressions; no
/// absolute threshold. The quantile is ours: practitioners say a post is
/// compared with the other posts of its pool, and give no figure for the
/// fan stages. Fans of a low-verticality KOL respond less than those of a
/// vertical account, so its posts fall in the failing share more often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IronFanFirst {
    /// An optional first stage for the creator's fan-group members (who are
    /// notified of each new post).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_members: Option<FanStage>,
    /// The iron-fan stage.
    pub iron_fans: FanStage,
    /// The other fans, in waves.
    pub fan_waves: FanWaves,
    /// How the account's private-domain quality weights its public pools.
    #[serde(default)]
    pub public_weight: PublicWeight,
    /// Public pools after the fans. Absent in a scenario file means the
    /// scenario's public-pool ladder's pools
    /// ([`Scenario::iron_fan_first`](crate::Scenario::iron_fan_first) fills
    /// them in); a value built in Rust with `None` uses the library's
    /// default pools.
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
                    threshold: 0.0,
                    min_impressions: 20,
                    quantile: Some(0.3),
                    ..Gate::default()
                },
            },
            fan_waves: FanWaves {
                first: 200,
                growth: 2.0,
                max_waves: 8,
                order: Order::Engagement,
                gate: Gate {
                    threshold: 0.0,
                    min_impressions: 20,
                    quantile: Some(0.3),
                    ..Gate::default()
                },
            },
            public_weight: PublicWeight::default(),
            public_pools: None,
        }
    }
}

impl IronFanFirst {
    /// The same push with the public weight's ratio term switched off: only
    /// the fans' feedback on the post acts.
    pub fn without_ratio_weight(&self) -> IronFanFirst {
        let mut p = self.clone();
        p.public_weight.ratio_exponent = 0.0;
        p
    }

    /// Checks the policy; errors name `iron_fan_first....`.
    pub fn validate(&self) -> Result<()> {
        let group = self.group_members.as_ref().map(|g| ("group_members", g));
        for (name, s) in group.into_iter().chain([("iron_fans", &self.iron_fans)]) {
            if s.size == Some(0) {
                return Err(Error::invalid(
                    format!("iron_fan_first.{name}.size"),
                    0,
                    "must be at least 1",
                ));
            }
            s.gate.validate(&format!("iron_fan_first.{name}.gate"))?;
        }
        let w = &self.fan_waves;
        check::at_least_one("iron_fan_first.fan_waves.first", w.first.into())?;
        check::within("iron_fan_first.fan_waves.growth", w.growth, 1.0, 1e3)?;
        if !(1..=32).contains(&w.max_waves) {
            return Err(Error::invalid(
                "iron_fan_first.fan_waves.max_waves",
                w.max_waves,
                "must be between 1 and 32",
            ));
        }
        w.gate.validate("iron_fan_first.fan_waves.gate")?;
        self.public_weight.validate("iron_fan_first.public_weight")?;
        if let Some(pools) = &self.public_pools {
            validate_pools(pools, "iron_fan_first.public_pools")?;
        }
        // The longest push: group, iron fans, every wave, every pool.
        let longest = usize::from(self.group_members.is_some()) + 1 + w.max_waves as usize + self.pools().len();
        if longest > MAX_STAGES {
            return Err(Error::invalid(
                "iron_fan_first.fan_waves.max_waves",
                w.max_waves,
                format!(
                    "with the fan stages and {} public pools a push could take {longest} stages; at most {MAX_STAGES}",
                    self.pools().len()
                ),
            ));
        }
        Ok(())
    }

    fn pools(&self) -> std::borrow::Cow<'_, [Pool]> {
        match &self.public_pools {
            Some(p) => std::borrow::Cow::Borrowed(p),
            None => std::borrow::Cow::Owned(default_pools()),
        }
    }

    fn fan_stage<'p>(
        &'p self,
        s: &FanStage,
        audience: &'p dyn crate::audience::Audience,
        label: &'static str,
    ) -> Step<'p> {
        Step::Stage(Stage {
            audience,
            size: s.size.map_or(Size::All, |n| Size::Users(n.into())),
            order: Order::Engagement,
            label,
            source: None,
        })
    }

    fn wave<'p>(&self, k: usize) -> Step<'p> {
        let w = &self.fan_waves;
        let size = f64::from(w.first) * w.growth.powi(k as i32);
        Step::Stage(Stage {
            audience: &OtherFans,
            size: Size::Users(size.round().min(u64::MAX as f64) as u64),
            order: w.order,
            label: WAVE,
            source: None,
        })
    }

    fn public<'p>(&self, ctx: &PushContext, done: usize) -> Step<'p> {
        let fans = ctx
            .history
            .iter()
            .filter(|r| !r.stage.audience.is_public())
            .fold(Tally::default(), |a, r| a.sum(r.shown));
        // The fans' feedback against recent first fan waves (the bar is
        // computed once per round: see `Peers::bar`).
        let gate = &self.fan_waves.gate;
        let verdict = gate.judge_with(&fans, &fans, ctx.peers.bar(WAVE, 0, gate));
        let weight = self.public_weight.weight_given(ctx.creator.iron_fan_ratio, verdict);
        next_pool(&self.pools(), done, ctx, weight)
    }
}

impl PushPolicy for IronFanFirst {
    fn name(&self) -> &str {
        if self.public_weight.ratio_exponent == 0.0 {
            "iron-fan first (no ratio weight)"
        } else {
            "iron-fan first"
        }
    }

    fn validate(&self) -> Result<()> {
        IronFanFirst::validate(self)
    }

    fn next_stage<'p>(&'p self, ctx: &PushContext) -> Step<'p> {
        let Some(last) = ctx.last() else {
            return match &self.group_members {
                Some(g) => self.fan_stage(g, &GroupMembers, GROUP),
                None => self.fan_stage(&self.iron_fans, &IronFans, IRON),
            };
        };
        let failed = |gate: &Gate| !ctx.judge_last(gate).advances();
        let end = Step::End(PushEnd::Gate {
            stage: (ctx.history.len() - 1) as u8,
        });
        match last.stage.label {
            GROUP => match &self.group_members {
                Some(g) if failed(&g.gate) => end,
                _ => self.fan_stage(&self.iron_fans, &IronFans, IRON),
            },
            IRON if failed(&self.iron_fans.gate) => end,
            IRON => self.wave(0),
            WAVE if failed(&self.fan_waves.gate) => end,
            WAVE => {
                let done = ctx.stages_labelled(WAVE);
                if done < self.fan_waves.max_waves as usize && !last.exhausted {
                    self.wave(done)
                } else {
                    self.public(ctx, 0)
                }
            }
            POOL => self.public(ctx, ctx.stages_labelled(POOL)),
            _ => Step::End(PushEnd::Completed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_weight_follows_its_formula_and_ignores_followers() {
        let w = PublicWeight::default();
        let gate = Gate {
            threshold: 1.0,
            watch_through: 1.0,
            like: 0.0,
            min_impressions: 10,
            ..Gate::default()
        };
        let fans = |watches| Tally {
            impressions: 100,
            watches,
            ..Tally::default()
        };
        // No fan feedback to judge: the ratio term alone, sqrt(0.4 / 0.1) = 2.
        assert!((w.weight(0.4, &Tally::default(), &gate, []) - 2.0).abs() < 1e-12);
        // Fans at 100% watch-through, threshold 1: feedback term 1 (not above).
        assert!((w.weight(0.1, &fans(100), &gate, []) - 1.0).abs() < 1e-12);
        // Ratio 0: clamped to the minimum.
        assert_eq!(w.weight(0.0, &fans(100), &gate, []), w.min);
        let off = PublicWeight {
            ratio_exponent: 0.0,
            ..w
        };
        assert_eq!(off.weight(0.0, &Tally::default(), &gate, []), 1.0);
        assert_eq!(off.weight(0.5, &Tally::default(), &gate, []), 1.0);
    }

    #[test]
    fn validation_names_fields() {
        let mut p = IronFanFirst::default();
        p.public_weight.min = 0.0;
        assert_eq!(
            p.validate().unwrap_err().field(),
            Some("iron_fan_first.public_weight.min")
        );
        let mut p = IronFanFirst::default();
        p.fan_waves.gate.like = -1.0;
        assert_eq!(
            p.validate().unwrap_err().field(),
            Some("iron_fan_first.fan_waves.gate.like")
        );
        let mut p = IronFanFirst::default();
        p.fan_waves.max_waves = 0;
        assert_eq!(
            p.validate().unwrap_err().field(),
            Some("iron_fan_first.fan_waves.max_waves")
        );
    }
}
