//! Push policies: how a new post is pushed to audiences, stage by stage.
//!
//! A [`PushPolicy`] gives an ordered list of [`Stage`]s. Each stage names an
//! [`Audience`] and a size; after the stage has been shown, its [`Gate`]
//! decides whether the post enters the next stage. The engine runs one stage
//! per slot per post (see [`crate::sim`]).
//!
//! # The gate rule, exactly
//!
//! After stage `k` has been shown, the engine computes
//!
//! ```text
//! score = Σ_m weight_m · count_m / impressions
//! ```
//!
//! over the metrics `m` ∈ {watch-through, like, comment, share, follow},
//! where `count_m` and `impressions` are taken over **this stage only**
//! (`over = "stage"`) or over **everything the post has been shown so far**
//! (`over = "so_far"`). The post advances to stage `k + 1` iff
//! `score >= threshold`. Two edge cases:
//!
//! - **Too little evidence.** If the scope holds fewer than
//!   `max(min_impressions, 1)` impressions (a creator with no iron fans, a
//!   pool that found nobody active), the gate passes without boost: the
//!   platform cannot judge the post, so it moves on to the next audience.
//! - **Boost.** If the stage has `boost_next = Some(max)` and the gate
//!   passes, the next stage's size is multiplied by
//!   `clamp(score / threshold, 1, max)`: strong feedback enlarges the next
//!   pool. This is how [`IronFanFirst`] lets the fans "raise the weight" of
//!   the post's public traffic (DOMAIN.md, white paper \[002\]).
//!
//! The gate after the last stage is never evaluated; the post simply ends.
//!
//! # Stage sizes larger than the audience
//!
//! A stage offers the post to users of its audience who are active that
//! day and have not been offered the post before, until it has made `size`
//! offers or the audience is exhausted. Public stages walk the population in
//! a shuffled order keyed by the post; a fan stage with a size takes the
//! fans with the smallest hash of (seed, post, user), a fan stage without
//! one takes all of them. A stage larger than what remains shows the post to
//! everyone who remains and the gate is evaluated on what was shown. No
//! user is offered a post twice, whatever the order of the stages.

mod iron_fan_first;
mod ladder;

pub use iron_fan_first::{FanStage, IronFanFirst};
pub use ladder::{Pool, PublicPoolLadder};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::metrics::Tally;

/// The most stages a policy may have.
pub const MAX_STAGES: usize = 16;

/// Who a stage shows the post to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Members of the creator's fan group (dynamics only; empty otherwise).
    GroupMembers,
    /// The creator's iron fans.
    IronFans,
    /// The creator's fans who are not iron fans.
    OtherFans,
    /// Public-domain users drawn from the whole population (interest-targeted
    /// as the scenario's `feed.interest_targeting` says), excluding users who
    /// were already offered the post.
    Public,
}

impl Audience {
    /// Priority when a user's attention cannot take every offer: lower wins.
    pub fn priority(self) -> u8 {
        match self {
            Audience::GroupMembers => 0,
            Audience::IronFans => 1,
            Audience::OtherFans => 2,
            Audience::Public => 3,
        }
    }
}

/// Whether a gate looks at the last stage only or at everything shown so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateScope {
    /// Only the impressions of the stage just shown.
    #[default]
    Stage,
    /// All impressions of the post so far, over all its stages.
    SoFar,
}

/// A rule over observed engagement that decides whether a post advances.
/// See the [module docs](self) for the exact rule.
///
/// ```
/// use feedsim::policy::Gate;
/// use feedsim::metrics::Tally;
/// // "60% completion or 10% like rate", blended: either alone scores 1.
/// let gate = Gate { watch_through: 1.0 / 0.6, like: 10.0, threshold: 1.0, ..Gate::default() };
/// let shown = Tally { impressions: 300, watches: 150, likes: 12, ..Tally::default() };
/// assert!((gate.score(&shown) - (0.5 / 0.6 + 0.4)).abs() < 1e-12);
/// assert!(gate.score(&shown) >= gate.threshold);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// The post advances iff the score is at least this.
    pub threshold: f64,
    /// Weight of the watch-through rate.
    #[serde(default)]
    pub watch_through: f64,
    /// Weight of the like rate (likes per impression).
    #[serde(default)]
    pub like: f64,
    /// Weight of the comment rate.
    #[serde(default)]
    pub comment: f64,
    /// Weight of the share rate.
    #[serde(default)]
    pub share: f64,
    /// Weight of the follow rate.
    #[serde(default)]
    pub follow: f64,
    /// Which impressions the rates are computed over.
    #[serde(default)]
    pub over: GateScope,
    /// Below this many impressions in scope the gate passes unboosted.
    #[serde(default)]
    pub min_impressions: u32,
}

impl Default for Gate {
    /// The advance rule practitioners quote, "60% completion or 10% like
    /// rate", as a linear blend in which either alone scores 1.0; threshold
    /// 1.0, over the stage just shown.
    fn default() -> Self {
        Gate {
            threshold: 1.0,
            watch_through: 1.0 / 0.6,
            like: 10.0,
            comment: 0.0,
            share: 0.0,
            follow: 0.0,
            over: GateScope::Stage,
            min_impressions: 0,
        }
    }
}

impl Gate {
    /// The gate's score over a tally: the weighted sum of per-impression
    /// rates (0 when the tally is empty). O(1).
    pub fn score(&self, t: &Tally) -> f64 {
        if t.impressions == 0 {
            return 0.0;
        }
        let n = t.impressions as f64;
        (self.watch_through * t.watches as f64
            + self.like * t.likes as f64
            + self.comment * t.comments as f64
            + self.share * t.shares as f64
            + self.follow * t.follows as f64)
            / n
    }

    /// Checks the gate; errors name fields under `field`.
    pub fn validate(&self, field: &str) -> Result<()> {
        check::non_negative(&format!("{field}.threshold"), self.threshold)?;
        check::non_negative(&format!("{field}.watch_through"), self.watch_through)?;
        check::non_negative(&format!("{field}.like"), self.like)?;
        check::non_negative(&format!("{field}.comment"), self.comment)?;
        check::non_negative(&format!("{field}.share"), self.share)?;
        check::non_negative(&format!("{field}.follow"), self.follow)
    }
}

/// One step of a push.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// Who is shown the post.
    pub audience: Audience,
    /// How many offers to make; `None` for the whole audience.
    pub size: Option<u32>,
    /// The gate evaluated after this stage; `None` always advances.
    pub gate: Option<Gate>,
    /// If set, a passed gate multiplies the next stage's size by
    /// `clamp(score / threshold, 1, boost_next)`.
    pub boost_next: Option<f64>,
}

impl Stage {
    /// Applies this stage's gate: the default rule of every policy.
    pub fn decide(&self, stage: &Tally, so_far: &Tally) -> Decision {
        let Some(gate) = &self.gate else {
            return Decision::Advance {
                next_size_multiplier: 1.0,
            };
        };
        let scope = match gate.over {
            GateScope::Stage => stage,
            GateScope::SoFar => so_far,
        };
        if scope.impressions < u64::from(gate.min_impressions.max(1)) {
            return Decision::Advance {
                next_size_multiplier: 1.0,
            };
        }
        let score = gate.score(scope);
        if score < gate.threshold {
            return Decision::Stop;
        }
        let next_size_multiplier = match self.boost_next {
            Some(max) if gate.threshold > 0.0 => (score / gate.threshold).clamp(1.0, max),
            _ => 1.0,
        };
        Decision::Advance { next_size_multiplier }
    }
}

/// What happens after a stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// The post stops spreading.
    Stop,
    /// The post enters the next stage, whose size is multiplied by this
    /// factor (1.0 for no boost).
    Advance {
        /// Factor on the next stage's size.
        next_size_multiplier: f64,
    },
}

/// A push policy. Implement it to try your own; the engine calls
/// [`stages`](PushPolicy::stages) once per run and
/// [`decide`](PushPolicy::decide) after every stage of every post.
///
/// ```
/// use feedsim::policy::{Audience, Decision, PushPolicy, Stage};
/// /// Fans only: show every post to all fans, never to the public.
/// struct FansOnly;
/// impl PushPolicy for FansOnly {
///     fn name(&self) -> &str { "fans only" }
///     fn stages(&self) -> Vec<Stage> {
///         [Audience::IronFans, Audience::OtherFans]
///             .map(|audience| Stage { audience, size: None, gate: None, boost_next: None })
///             .to_vec()
///     }
/// }
/// assert_eq!(FansOnly.stages().len(), 2);
/// ```
pub trait PushPolicy: Send + Sync {
    /// A short name for reports.
    fn name(&self) -> &str;

    /// The stages every post goes through, in order (at most
    /// [`MAX_STAGES`]).
    fn stages(&self) -> Vec<Stage>;

    /// Whether a post advances after `stages[index]`, given the tally of that
    /// stage and of everything shown so far. The default applies the stage's
    /// gate ([`Stage::decide`]).
    fn decide(&self, stages: &[Stage], index: usize, stage: &Tally, so_far: &Tally) -> Decision {
        stages[index].decide(stage, so_far)
    }
}

/// Checks a policy's stages before a run; errors name `policy.stages[i]`.
pub(crate) fn validate_stages(stages: &[Stage]) -> Result<()> {
    if stages.is_empty() || stages.len() > MAX_STAGES {
        return Err(Error::invalid(
            "policy.stages",
            stages.len(),
            format!("a policy needs 1 to {MAX_STAGES} stages"),
        ));
    }
    for (i, s) in stages.iter().enumerate() {
        if s.size == Some(0) {
            return Err(Error::invalid(
                format!("policy.stages[{i}].size"),
                0,
                "must be at least 1",
            ));
        }
        if let Some(g) = &s.gate {
            g.validate(&format!("policy.stages[{i}].gate"))?;
        }
        if let Some(b) = s.boost_next
            && !(b.is_finite() && b >= 1.0)
        {
            return Err(Error::invalid(
                format!("policy.stages[{i}].boost_next"),
                b,
                "must be a finite number >= 1",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(impressions: u64, watches: u64) -> Tally {
        Tally {
            impressions,
            watches,
            ..Tally::default()
        }
    }

    #[test]
    fn gate_uses_the_scope_it_names() {
        let gate = Gate {
            threshold: 0.5,
            watch_through: 1.0,
            like: 0.0,
            ..Gate::default()
        };
        let mut stage = Stage {
            audience: Audience::Public,
            size: Some(10),
            gate: Some(gate),
            boost_next: None,
        };
        let good = tally(10, 8);
        let bad = tally(100, 10);
        assert_eq!(
            stage.decide(&good, &bad),
            Decision::Advance {
                next_size_multiplier: 1.0
            }
        );
        stage.gate.as_mut().unwrap().over = GateScope::SoFar;
        assert_eq!(stage.decide(&good, &bad), Decision::Stop);
    }

    #[test]
    fn empty_scope_passes_unboosted_and_boost_is_clamped() {
        let stage = Stage {
            audience: Audience::IronFans,
            size: None,
            gate: Some(Gate {
                threshold: 0.25,
                watch_through: 1.0,
                like: 0.0,
                min_impressions: 5,
                ..Gate::default()
            }),
            boost_next: Some(3.0),
        };
        let one = Decision::Advance {
            next_size_multiplier: 1.0,
        };
        assert_eq!(stage.decide(&tally(0, 0), &tally(0, 0)), one);
        assert_eq!(stage.decide(&tally(4, 0), &tally(4, 0)), one);
        assert_eq!(stage.decide(&tally(5, 0), &tally(5, 0)), Decision::Stop);
        // score 0.5 = 2x threshold
        assert_eq!(
            stage.decide(&tally(10, 5), &tally(10, 5)),
            Decision::Advance {
                next_size_multiplier: 2.0
            }
        );
        // score 1.0 = 4x threshold, clamped to 3
        assert_eq!(
            stage.decide(&tally(10, 10), &tally(10, 10)),
            Decision::Advance {
                next_size_multiplier: 3.0
            }
        );
    }

    #[test]
    fn stage_validation_names_the_stage() {
        let mut stages = PublicPoolLadder::default().stages();
        stages[2].size = Some(0);
        assert_eq!(
            validate_stages(&stages).unwrap_err().field(),
            Some("policy.stages[2].size")
        );
        assert_eq!(validate_stages(&[]).unwrap_err().field(), Some("policy.stages"));
    }
}
