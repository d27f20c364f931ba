//! Push policies: how a new post is pushed to audiences, stage by stage.
//!
//! A [`PushPolicy`] decides **per post**. The engine asks it for the post's
//! first stage when the post is published and for the next one each time a
//! stage has been shown, handing it a read-only [`PushContext`]: the post,
//! its creator's state at that moment ([`CreatorState`]: followers, iron
//! fans, group and e-commerce members, iron-fan ratio, how its finished
//! posts did), the day and slot, and the feedback of every stage so far,
//! in total and per audience [`Tier`]. The policy answers with a [`Step`]:
//! a [`Stage`] (an [`Audience`], a [`Size`], an [`Order`] and a label for
//! reports) or the end of the push.
//!
//! # When a stage counts as shown
//!
//! A stage's offers are made, ranked by each viewer's feed and watched (or
//! not shown) in one round (see [`crate::engine`]); offers the feed does
//! not show are lost, not carried over. So when the policy is asked for the
//! next step, the last stage is complete: every offer was either watched or
//! lost, and its [`StageRecord`] holds the final counts. A gate never judges
//! a half-shown stage.
//!
//! # Gates
//!
//! [`Gate`] is the reusable building block:
//!
//! ```text
//! score = Σ_m weight_m · count_m / impressions
//! ```
//!
//! over the metrics `m` ∈ {watch-through, like, comment, share, follow,
//! long view, watch ratio (summed per impression)},
//! counted over the stage just shown (`over = "stage"`) or over everything
//! the post has been shown so far (`over = "so_far"`). [`Gate::judge`]
//! returns [`Verdict::Pass`] (with `score / threshold`, which a policy may use
//! to enlarge what follows) iff `score >= threshold`, and
//! [`Verdict::TooFew`] when the scope holds fewer than
//! `max(min_impressions, 1)` impressions: the platform cannot judge the post,
//! and the shipped policies let it move on (a creator with no fans still
//! reaches the public).
//!
//! # Sizes larger than the audience
//!
//! A stage offers the post to eligible users of its audience (active that
//! day, not offered the post before) until it has made its size in offers or
//! the audience has no more; [`StageRecord::exhausted`] says which. No user
//! is offered a post twice, whatever the stages and their order.

mod equal_rights;
mod iron_fan_first;
mod ladder;

pub use equal_rights::EqualRights;
pub use iron_fan_first::{FanStage, FanWaves, IronFanFirst, PublicWeight};
pub use ladder::{Pool, PublicPoolLadder};

use serde::{Deserialize, Serialize};

use crate::audience::Audience;
pub use crate::audience::Order;
use crate::content::Post;
use crate::error::{Error, Result, check};
pub use crate::tally::PushEnd;
use crate::tally::{Tally, Tier, TierTallies, ratio};

/// The most stages the engine runs for one post; a policy that asks for
/// more is refused with an error naming it.
pub const MAX_STAGES: usize = 64;

/// A relative gate needs at least this many peers to compare with.
pub const MIN_PEERS: usize = 20;

/// How many recent stages the engine keeps per stage key for relative
/// gates ([`Peers`]).
pub const PEER_WINDOW: usize = 1_000;

/// The stage tallies of recent posts, per stage key (a stage's label and
/// its index among the post's stages with that label, so "the second
/// public pool" of every post is one key): what relative gates compare a
/// post with. The engine appends, after each round's decisions and in post
/// order, every stage closed that round, and keeps the last
/// [`PEER_WINDOW`] per key, so a decision sees only earlier rounds and the
/// result does not depend on threads.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    /// A handful of keys: a list is as fast as a map and keeps its order.
    recent: Vec<((&'static str, usize), std::collections::VecDeque<Tally>)>,
    /// Changes whenever `recent` does, drawn from a process-wide counter so
    /// that no two different contents of any two `Peers` share it (0: empty,
    /// never pushed): the key of each thread's memo of bars ([`Peers::bar`]).
    version: u64,
}

/// The source of [`Peers`] versions.
static PEER_VERSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// What a gate's peer bar depends on besides the peers: its weights, its
/// impression floor and its quantile (as bits).
type BarKey = (usize, [u64; 9]);

/// One thread's memo: the `Peers` version it holds bars for, and the bars.
type BarMemo = (u64, Vec<(BarKey, Option<f64>)>);

thread_local! {
    /// Per thread: the bars computed for one version of one `Peers`. Every
    /// post deciding in a round sees the same peers, so a relative gate's
    /// bar is computed once per round and stage key instead of once per
    /// decision (each a pass over up to [`PEER_WINDOW`] tallies). No lock:
    /// each thread keeps its own, and a bar is a pure function of the
    /// peers and the gate, so the result does not depend on threads.
    static BARS: std::cell::RefCell<BarMemo> =
        const { std::cell::RefCell::new((0, Vec::new())) };
}

impl Peers {
    /// The recent tallies of the `k`-th stage labelled `label` (from 0),
    /// oldest first.
    pub fn recent(&self, label: &str, k: usize) -> impl Iterator<Item = &Tally> {
        self.recent
            .iter()
            .find(|((l, i), _)| *l == label && *i == k)
            .into_iter()
            .flat_map(|(_, v)| v.iter())
    }

    /// `gate`'s bar from the recent tallies of the `k`-th stage labelled
    /// `label`: [`Gate::peer_bar`] over [`recent`](Self::recent), computed
    /// once per thread for as long as the peers do not change.
    pub fn bar(&self, label: &str, k: usize, gate: &Gate) -> Option<f64> {
        gate.quantile?;
        let Some(i) = self.recent.iter().position(|((l, j), _)| *l == label && *j == k) else {
            return gate.peer_bar(std::iter::empty());
        };
        let key: BarKey = (
            i,
            [
                gate.watch_through.to_bits(),
                gate.like.to_bits(),
                gate.comment.to_bits(),
                gate.share.to_bits(),
                gate.follow.to_bits(),
                gate.long_view.to_bits(),
                gate.watch_ratio.to_bits(),
                u64::from(gate.min_impressions),
                gate.quantile.map_or(u64::MAX, f64::to_bits),
            ],
        );
        BARS.with_borrow_mut(|(version, bars)| {
            if *version != self.version {
                *version = self.version;
                bars.clear();
            }
            if let Some(&(_, bar)) = bars.iter().find(|(k, _)| *k == key) {
                return bar;
            }
            let bar = gate.peer_bar(self.recent[i].1.iter());
            bars.push((key, bar));
            bar
        })
    }

    /// A digest of the peers' contents (not their version).
    pub(crate) fn digest(&self, h: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        for ((label, k), tallies) in &self.recent {
            (label, k).hash(h);
            tallies.hash(h);
        }
    }

    /// Records a closed stage.
    pub(crate) fn push(&mut self, label: &'static str, k: usize, shown: Tally) {
        self.version = PEER_VERSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let i = match self.recent.iter().position(|((l, i), _)| *l == label && *i == k) {
            Some(i) => i,
            None => {
                self.recent.push(((label, k), std::collections::VecDeque::new()));
                self.recent.len() - 1
            }
        };
        let v = &mut self.recent[i].1;
        if v.len() == PEER_WINDOW {
            v.pop_front();
        }
        v.push_back(shown);
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
/// use feedsim::policy::{Gate, Verdict};
/// use feedsim::metrics::Tally;
/// // "60% completion or 10% like rate", blended: either alone scores 1.
/// let gate = Gate { watch_through: 1.0 / 0.6, like: 10.0, threshold: 1.0, ..Gate::default() };
/// let shown = Tally { impressions: 300, watches: 150, likes: 12, ..Tally::default() };
/// assert!((gate.score(&shown) - (0.5 / 0.6 + 0.4)).abs() < 1e-12);
/// assert!(matches!(gate.judge(&shown, &shown), Verdict::Pass { .. }));
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
    /// Weight of the long-view rate.
    #[serde(default)]
    pub long_view: f64,
    /// Weight of the mean watch ratio (time watched / duration).
    #[serde(default)]
    pub watch_ratio: f64,
    /// Which impressions the rates are computed over.
    #[serde(default)]
    pub over: GateScope,
    /// Below this many impressions in scope the gate cannot judge
    /// ([`Verdict::TooFew`]).
    #[serde(default)]
    pub min_impressions: u32,
    /// A relative gate: the post must also score at least the `quantile`
    /// of the scores of recent posts at the same stage ([`Peers`]), in
    /// `(0, 1)`. Absent: the absolute threshold alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantile: Option<f64>,
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
            long_view: 0.0,
            watch_ratio: 0.0,
            over: GateScope::Stage,
            min_impressions: 0,
            quantile: None,
        }
    }
}

/// What a gate concluded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Too few impressions in scope to judge.
    TooFew,
    /// The score fell short of the threshold.
    Fail {
        /// The score.
        score: f64,
    },
    /// The score reached the threshold.
    Pass {
        /// The score.
        score: f64,
        /// `score / threshold` (infinite for a zero threshold and a
        /// positive score; 1 when both are zero).
        strength: f64,
    },
}

impl Verdict {
    /// Whether the post may go on: a pass, or too few impressions to judge.
    pub fn advances(&self) -> bool {
        !matches!(self, Verdict::Fail { .. })
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
            + self.follow * t.follows as f64
            + self.long_view * t.long_views as f64
            + self.watch_ratio * t.watch_ratio_milli as f64 / 1000.0)
            / n
    }

    /// Judges a post from the tally of the stage just shown and of
    /// everything shown so far (the gate's `over` picks one), by the
    /// absolute threshold alone. O(1).
    pub fn judge(&self, stage: &Tally, so_far: &Tally) -> Verdict {
        self.judge_against(stage, so_far, self.threshold)
    }

    /// Judges a post as [`judge`](Self::judge) does and, for a relative gate
    /// (`quantile` set), also against the `quantile` of the scores of
    /// `peers`: the stage tallies of recent posts at the same stage (each
    /// scored over its own stage, peers with fewer than
    /// `max(min_impressions, 1)` impressions left out). With fewer than
    /// [`MIN_PEERS`] such peers the absolute threshold alone applies (a
    /// platform's first posts have nothing to be compared with). The bar is
    /// `max(threshold, peer quantile)`; `strength` is the score over that
    /// bar. O(peers).
    pub fn judge_among<'a>(
        &self,
        stage: &Tally,
        so_far: &Tally,
        peers: impl IntoIterator<Item = &'a Tally>,
    ) -> Verdict {
        self.judge_with(stage, so_far, self.peer_bar(peers))
    }

    /// What a relative gate's peers ask of a post: the `quantile` of the
    /// peers' scores (see [`judge_among`](Self::judge_among)), or `None`
    /// for an absolute gate or with fewer than [`MIN_PEERS`] peers of at
    /// least `max(min_impressions, 1)` impressions. O(peers).
    pub fn peer_bar<'a>(&self, peers: impl IntoIterator<Item = &'a Tally>) -> Option<f64> {
        let q = self.quantile?;
        let floor = u64::from(self.min_impressions.max(1));
        let mut scores: Vec<f64> = peers
            .into_iter()
            .filter(|t| t.impressions >= floor)
            .map(|t| self.score(t))
            .collect();
        if scores.len() < MIN_PEERS {
            return None;
        }
        // The lower empirical quantile: the smallest score with at least a
        // share q of the peers at or below it, the k-th in ascending order
        // (a selection, O(peers), finds the value a full sort would put
        // there).
        let k = ((q * scores.len() as f64).ceil() as usize).clamp(1, scores.len()) - 1;
        let (_, &mut kth, _) = scores.select_nth_unstable_by(k, f64::total_cmp);
        Some(kth)
    }

    /// Judges as [`judge_among`](Self::judge_among) does, given the
    /// [`peer_bar`](Self::peer_bar) (`None`: the absolute threshold alone).
    pub fn judge_with(&self, stage: &Tally, so_far: &Tally, peer_bar: Option<f64>) -> Verdict {
        match peer_bar {
            Some(bar) => self.judge_against(stage, so_far, self.threshold.max(bar)),
            None => self.judge(stage, so_far),
        }
    }

    fn judge_against(&self, stage: &Tally, so_far: &Tally, bar: f64) -> Verdict {
        let scope = match self.over {
            GateScope::Stage => stage,
            GateScope::SoFar => so_far,
        };
        if scope.impressions < u64::from(self.min_impressions.max(1)) {
            return Verdict::TooFew;
        }
        let score = self.score(scope);
        if score < bar {
            return Verdict::Fail { score };
        }
        let strength = if bar > 0.0 {
            score / bar
        } else if score > 0.0 {
            f64::INFINITY
        } else {
            1.0
        };
        Verdict::Pass { score, strength }
    }

    /// Checks the gate; errors name fields under `field`.
    pub fn validate(&self, field: &str) -> Result<()> {
        check::non_negative(&format!("{field}.threshold"), self.threshold)?;
        check::non_negative(&format!("{field}.watch_through"), self.watch_through)?;
        check::non_negative(&format!("{field}.like"), self.like)?;
        check::non_negative(&format!("{field}.comment"), self.comment)?;
        check::non_negative(&format!("{field}.share"), self.share)?;
        check::non_negative(&format!("{field}.follow"), self.follow)?;
        check::non_negative(&format!("{field}.long_view"), self.long_view)?;
        check::non_negative(&format!("{field}.watch_ratio"), self.watch_ratio)?;
        if let Some(q) = self.quantile
            && !(q > 0.0 && q < 1.0)
        {
            return Err(Error::invalid(format!("{field}.quantile"), q, "must be in (0, 1)"));
        }
        Ok(())
    }
}

/// How many offers a stage makes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// This many users (a policy derives it from the feedback if it likes).
    Users(u64),
    /// This share of the audience's size ([`Audience::len`]), in `(0, 1]`,
    /// rounded up.
    Share(f64),
    /// Every eligible user of the audience.
    All,
}

impl Size {
    /// The number of offers wanted from an audience of `audience_len` users.
    pub fn resolve(self, audience_len: u64) -> u64 {
        match self {
            Size::Users(n) => n,
            Size::Share(s) => (s * audience_len as f64).ceil().min(u64::MAX as f64) as u64,
            Size::All => u64::MAX,
        }
    }

    /// Checks the size; errors name `field`.
    pub fn validate(&self, field: &str) -> Result<()> {
        if let Size::Share(s) = *self
            && !(s > 0.0 && s <= 1.0)
        {
            return Err(Error::invalid(field, s, "a share of the audience must be in (0, 1]"));
        }
        Ok(())
    }
}

/// One step of a push: who is offered the post, how many, in what order.
#[derive(Clone, Copy)]
pub struct Stage<'p> {
    /// Who can be offered the post.
    pub audience: &'p dyn Audience,
    /// How many offers to make.
    pub size: Size,
    /// Which eligible users come first when there are more than the size.
    pub order: Order,
    /// A short name for reports ("iron fans", "fan wave", "public pool").
    pub label: &'static str,
    /// The traffic source the stage's offers are counted under in reports'
    /// `by_source` and that the response model sees
    /// ([`ImpressionContext::source`](crate::response::ImpressionContext));
    /// `None`: the label.
    pub source: Option<&'static str>,
}

impl<'p> Stage<'p> {
    /// A stage whose source is its label.
    pub fn new(audience: &'p dyn Audience, size: Size, order: Order, label: &'static str) -> Self {
        Stage {
            audience,
            size,
            order,
            label,
            source: None,
        }
    }

    /// The source its offers are counted under: `source`, or the label.
    pub fn source(&self) -> &'static str {
        self.source.unwrap_or(self.label)
    }
}

impl std::fmt::Debug for Stage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stage")
            .field("audience", &self.audience.name())
            .field("size", &self.size)
            .field("order", &self.order)
            .field("label", &self.label)
            .field("source", &self.source())
            .finish()
    }
}

/// What a policy decides for a post.
#[derive(Debug, Clone, Copy)]
pub enum Step<'p> {
    /// Offer the post to this stage in the next round.
    Stage(Stage<'p>),
    /// The push is over.
    End(PushEnd),
}

/// One shown stage of a post, as the policy sees it afterwards.
#[derive(Clone, Copy)]
pub struct StageRecord<'p> {
    /// The stage as the policy asked for it.
    pub stage: Stage<'p>,
    /// Offers wanted (the resolved size).
    pub wanted: u64,
    /// Offers made (at most `wanted`).
    pub offered: u64,
    /// Whether the audience ran out of eligible users before `wanted`.
    pub exhausted: bool,
    /// Counts over the stage's impressions (and `offers_not_shown`).
    pub shown: Tally,
    /// The same counts per audience tier of the viewers.
    pub by_tier: TierTallies,
}

/// A creator's state when a policy is asked about one of its posts.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct CreatorState {
    /// Creator id.
    pub id: u32,
    /// Cohort index.
    pub cohort: u16,
    /// Followers now.
    pub followers: u32,
    /// Iron fans now.
    pub iron_fans: u32,
    /// Fan-group members (as of the start of the day).
    pub group_members: u32,
    /// E-commerce members now.
    pub ecommerce_members: u64,
    /// Users who have ordered from the creator in the run.
    pub past_buyers: u64,
    /// `iron_fans / followers` (0 without followers).
    pub iron_fan_ratio: f64,
    /// The creator's posts whose push has ended so far in the run.
    pub finished_posts: u64,
    /// Impressions of those posts, summed.
    pub finished_impressions: u64,
    /// Watch-throughs of those posts, summed.
    pub finished_watches: u64,
}

impl CreatorState {
    /// Mean impressions per finished post (0 before the first).
    pub fn impressions_per_finished_post(&self) -> f64 {
        ratio(self.finished_impressions, self.finished_posts)
    }
}

/// Everything a policy may read when it decides a post's next step.
#[derive(Clone, Copy)]
pub struct PushContext<'a> {
    /// The post.
    pub post: &'a Post,
    /// Its creator, now.
    pub creator: &'a CreatorState,
    /// The current day (0 is the first).
    pub day: u32,
    /// The current slot (`day × slots_per_day + slot of the day`).
    pub slot: u32,
    /// The stages shown so far, oldest first (empty when the post is new).
    pub history: &'a [StageRecord<'a>],
    /// Counts over everything shown so far.
    pub so_far: &'a Tally,
    /// The same per audience tier.
    pub so_far_by_tier: &'a TierTallies,
    /// Recent posts' stages, for relative gates.
    pub peers: &'a Peers,
}

impl PushContext<'_> {
    /// The stage just shown, if any.
    pub fn last(&self) -> Option<&StageRecord<'_>> {
        self.history.last()
    }

    /// Stages shown so far with this label.
    pub fn stages_labelled(&self, label: &str) -> usize {
        self.history.iter().filter(|r| r.stage.label == label).count()
    }

    /// Judges the stage just shown with `gate`, against the recent posts at
    /// the same stage if the gate is relative ([`Gate::judge_among`]).
    /// [`Verdict::TooFew`] when nothing has been shown yet.
    pub fn judge_last(&self, gate: &Gate) -> Verdict {
        let Some(last) = self.last() else {
            return Verdict::TooFew;
        };
        if gate.quantile.is_none() {
            return gate.judge(&last.shown, self.so_far);
        }
        let label = last.stage.label;
        let k = self.stages_labelled(label) - 1;
        gate.judge_with(&last.shown, self.so_far, self.peers.bar(label, k, gate))
    }

    /// Counts over the impressions on the creator's followers so far (group
    /// members, iron fans and other fans): "the fans' feedback".
    pub fn fans_so_far(&self) -> Tally {
        let t = self.so_far_by_tier;
        t.get(Tier::GroupMember)
            .sum(*t.get(Tier::IronFan))
            .sum(*t.get(Tier::OtherFan))
    }
}

/// A push policy. Implement it to try your own: one method decides each
/// post's next stage from its [`PushContext`].
///
/// ```
/// use feedsim::audience::{IronFans, OtherFans};
/// use feedsim::policy::{Order, PushContext, PushEnd, PushPolicy, Size, Stage, Step};
/// /// Fans only: every iron fan, then every other fan, never the public.
/// struct FansOnly;
/// impl PushPolicy for FansOnly {
///     fn name(&self) -> &str { "fans only" }
///     fn next_stage<'p>(&'p self, ctx: &PushContext) -> Step<'p> {
///         let stage = |audience, label| Step::Stage(Stage::new(audience, Size::All, Order::Random, label));
///         match ctx.history.len() {
///             0 => stage(&IronFans, "iron fans"),
///             1 => stage(&OtherFans, "other fans"),
///             _ => Step::End(PushEnd::Completed),
///         }
///     }
/// }
/// # let _ = FansOnly;
/// ```
pub trait PushPolicy: Send + Sync {
    /// A short name for reports.
    fn name(&self) -> &str;

    /// Checks the policy's parameters; the engine calls it before a run.
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// The post's next step. Called when the post is published (empty
    /// history) and after each of its stages has been shown. Must be a pure
    /// function of the context (the engine may call it from any thread).
    fn next_stage<'p>(&'p self, ctx: &PushContext) -> Step<'p>;
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
        let mut gate = Gate {
            threshold: 0.5,
            watch_through: 1.0,
            like: 0.0,
            ..Gate::default()
        };
        let good = tally(10, 8);
        let bad = tally(100, 10);
        assert!(gate.judge(&good, &bad).advances());
        gate.over = GateScope::SoFar;
        assert_eq!(gate.judge(&good, &bad), Verdict::Fail { score: 0.1 });
    }

    #[test]
    fn too_few_impressions_cannot_be_judged_and_strength_is_score_over_threshold() {
        let gate = Gate {
            threshold: 0.25,
            watch_through: 1.0,
            like: 0.0,
            min_impressions: 5,
            ..Gate::default()
        };
        assert_eq!(gate.judge(&tally(0, 0), &tally(0, 0)), Verdict::TooFew);
        assert_eq!(gate.judge(&tally(4, 0), &tally(4, 0)), Verdict::TooFew);
        assert_eq!(gate.judge(&tally(5, 0), &tally(5, 0)), Verdict::Fail { score: 0.0 });
        assert_eq!(
            gate.judge(&tally(10, 5), &tally(10, 5)),
            Verdict::Pass {
                score: 0.5,
                strength: 2.0
            }
        );
    }

    /// The memoized bar is the bar computed afresh: after every push, for
    /// two gates, two stage keys and two `Peers` read in turn on one thread
    /// (a stale memo would answer the other's or the earlier peers' bar).
    #[test]
    fn the_remembered_peer_bar_is_the_bar_of_the_peers_as_they_stand() {
        let gates = [
            Gate {
                watch_through: 1.0,
                like: 0.0,
                quantile: Some(0.6),
                ..Gate::default()
            },
            Gate {
                watch_through: 0.0,
                like: 1.0,
                quantile: Some(0.3),
                ..Gate::default()
            },
        ];
        let (mut a, mut b) = (Peers::default(), Peers::default());
        let mut checked = 0;
        for i in 0..60u64 {
            let t = Tally {
                likes: (i * 7) % 23,
                ..tally(100, (i * 37) % 101)
            };
            a.push("wave", (i % 2) as usize, t);
            if i % 3 == 0 {
                b.push("wave", 0, tally(50, i % 50));
            }
            for peers in [&a, &b] {
                for gate in &gates {
                    for k in 0..3 {
                        let fresh = gate.peer_bar(peers.recent("wave", k));
                        assert_eq!(peers.bar("wave", k, gate), fresh, "push {i}, key {k}");
                        checked += usize::from(fresh.is_some());
                    }
                }
            }
        }
        // Enough pushes that bars exist (20 peers per key).
        assert!(checked > 60, "{checked}");
        assert_eq!(a.bar("pool", 0, &gates[0]), None);
        assert_eq!(
            a.bar(
                "wave",
                0,
                &Gate {
                    quantile: None,
                    ..gates[0]
                }
            ),
            None
        );
    }

    #[test]
    fn a_relative_gate_raises_the_bar_to_the_peers_quantile() {
        let gate = Gate {
            threshold: 0.1,
            watch_through: 1.0,
            like: 0.0,
            quantile: Some(0.6),
            ..Gate::default()
        };
        // 100 peers watched through 1%, 2%, ..., 100% of 100 impressions.
        let peers: Vec<Tally> = (1..=100).map(|w| tally(100, w)).collect();
        // The 0.6 quantile is 0.60: 0.59 fails, 0.60 passes.
        assert_eq!(
            gate.judge_among(&tally(100, 59), &Tally::default(), &peers),
            Verdict::Fail { score: 0.59 }
        );
        assert!(gate.judge_among(&tally(100, 60), &Tally::default(), &peers).advances());
        // Too few peers: the absolute threshold alone.
        assert!(
            gate.judge_among(&tally(100, 20), &Tally::default(), &peers[..19])
                .advances()
        );
        // Peers below min_impressions do not count: 100 one-impression peers
        // that all watched set the bar at 1.0, unless they are left out.
        let thin: Vec<Tally> = (0..100).map(|_| tally(1, 1)).collect();
        assert!(!gate.judge_among(&tally(100, 20), &Tally::default(), &thin).advances());
        let g = Gate {
            min_impressions: 2,
            ..gate
        };
        assert!(g.judge_among(&tally(100, 20), &Tally::default(), &thin).advances());
        assert!(
            Gate {
                quantile: Some(1.0),
                ..gate
            }
            .validate("g")
            .is_err()
        );
        assert!(
            Gate {
                quantile: Some(f64::NAN),
                ..gate
            }
            .validate("g")
            .is_err()
        );
    }

    #[test]
    fn sizes_resolve_against_the_audience_and_shares_are_checked() {
        assert_eq!(Size::Users(7).resolve(3), 7);
        assert_eq!(Size::Share(0.1).resolve(95), 10);
        assert_eq!(Size::All.resolve(5), u64::MAX);
        assert!(Size::Share(0.0).validate("s").is_err());
        assert!(Size::Share(1.5).validate("s").is_err());
        assert!(Size::Share(f64::NAN).validate("s").is_err());
        assert!(Size::Share(1.0).validate("s").is_ok());
    }
}
