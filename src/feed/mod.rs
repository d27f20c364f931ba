//! Feeds: what a viewer actually watches.
//!
//! Each round, the engine gathers every offer made to a viewer (from every
//! post's push stage) and hands them to the scenario's [`Feed`] as
//! [`Candidate`]s, with the room the viewer's session has left in that
//! round. The feed chooses which are watched and in what order; the rest are
//! **not shown and lost** (not carried over to a later round): the offer
//! counts in `offers_not_shown`, the viewer is never offered that post
//! again (no user is offered a post twice), and the stage that made it is
//! judged on what was shown.
//!
//! Sessions: each user's daily session length (impressions) is drawn once
//! from the scenario's `[attention]` (log-normal; KuaiRec: median 42, mean
//! 66.5 plays per user per day) and spread evenly over the day's slots, so
//! slot `s` of `S` has room for `⌊(s+1)·B/S⌋ − ⌊s·B/S⌋` impressions; room
//! a slot leaves unused is not carried over. Only viewers offered more than
//! their room are ranked; the others watch everything they are offered,
//! unless the feed [runs for every viewer](Feed::runs_for_every_viewer) (a
//! feed in which the viewer chooses). A feed sees the [`Viewer`] and may
//! draw from the viewer's keyed stream for each post ([`Viewer::stream`]),
//! so its choices stay bit-identical at any thread count.
//!
//! Shipped feeds: [`SingleColumn`] (Douyin's ranked autoplay column:
//! predicted engagement × tier weight, quotas, an author-diversity
//! discount), [`XMixer`] (X's open-sourced home mixer: in-network and
//! out-of-network candidates mixed about half and half), [`DoubleColumn`]
//! (Kuaishou's screens of covers, played only when clicked) and [`Unlimited`]
//! (every offer is watched: the closed-form mode, which
//! `[attention] mode = "unlimited"` selects).

mod double_column;
mod fission;
mod followed_tab;
mod friends;
mod mixer;
mod paid;
mod reweighted;
mod single_column;
mod unlimited;

pub use double_column::DoubleColumn;
pub use fission::{FissionParams, SHARE, ShareAudience, Shares};
pub use followed_tab::{FOLLOWED_TAB, FollowedTab, TabbedFeed};
pub use friends::{FRIENDS, FRIENDS_LIKED, Friends, FriendsLiked, FriendsWeight};
pub use mixer::XMixer;
pub use paid::{PAID, PaidChannel, PaidStart, PaidTarget, PaidTraffic};
pub(crate) use reweighted::Reweighted;
pub use single_column::SingleColumn;
pub use unlimited::Unlimited;

use serde::{Deserialize, Serialize};

use crate::error::{Result, check};
use crate::tally::Tier;

/// One offer as a viewer's feed sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// The post.
    pub post: u32,
    /// Its creator (the "author" of the diversity discount).
    pub creator: u32,
    /// The viewer's tier towards the creator; fan tiers are in-network.
    pub tier: Tier,
    /// The response model's watch-through probability for this viewer and
    /// post: the feed's prediction of engagement.
    pub predicted: f64,
    /// A keyed hash of (seed, slot, viewer, post) that breaks ties.
    pub tiebreak: u64,
    /// The traffic source that made the offer: its stage's
    /// [`source`](crate::policy::Stage::source) or its channel's
    /// ([`crate::channel`]).
    pub source: &'static str,
    /// The post's category.
    pub category: u8,
    /// The platform's ranking weight for the post's category (a "traffic
    /// bonus", [`CategoryBonus`](crate::category_bonus::CategoryBonus)): every shipped feed multiplies its
    /// ranking score by it. 1 unless a category bonus is on.
    pub bonus: f32,
}

/// The viewer a feed chooses for, in one round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewer {
    /// The user.
    pub user: u32,
    /// Impressions the viewer watched earlier that day, before this slot.
    pub seen_today: u32,
    /// The response model's watch-through probability for a neutral
    /// impression (`ImpressionContext::new(Relation::Stranger, 0.0, 0.0)`:
    /// a stranger with no interest, an ordinary post and creator, nothing
    /// watched yet). `logit(predicted) − logit(neutral_watch)` is then the
    /// sum of the model's own terms for a candidate (quality, interest,
    /// trust, relation, ...), which a feed may reuse for a decision of its
    /// own ([`DoubleColumn`]'s cover clicks). 0.5 unless the engine sets it.
    pub neutral_watch: f64,
    /// The round's slot (0 unless the engine sets it).
    pub slot: u32,
    seed: u64,
}

impl Viewer {
    /// Viewer `user` in a run seeded `seed` (the engine builds these; a test
    /// of a feed can too).
    pub fn new(user: u32, seen_today: u32, seed: u64) -> Self {
        Viewer {
            user,
            seen_today,
            neutral_watch: 0.5,
            slot: 0,
            seed,
        }
    }

    /// A uniform number in `[0, 1)` keyed `(seed, viewer, slot)`: one draw
    /// per viewer and round that is not about one post (how a session is
    /// split between tabs, say), the same at any thread count.
    pub fn slot_unit(&self) -> f64 {
        crate::rng::unit(
            self.seed,
            crate::rng::tag::FEED_SLOT,
            self.slot.into(),
            self.user.into(),
        )
    }

    /// The viewer's random stream for `post`, keyed `(seed, viewer, post)`
    /// as response streams are: the same whatever the slot, the policy or
    /// the thread count, so a feed that draws (a viewer clicking covers)
    /// stays bit-identical at any thread count and gives common random
    /// numbers across policies. A post is offered to a viewer at most once,
    /// so each stream serves one decision.
    pub fn stream(&self, post: u32) -> rand::rngs::Xoshiro256PlusPlus {
        crate::rng::stream(self.seed, crate::rng::tag::FEED_DRAW, post.into(), self.user.into())
    }
}

/// A viewer's feed. Implementations are immutable values shared by all
/// threads and must be pure functions of their arguments (drawing only from
/// [`Viewer::stream`]).
///
/// ```
/// use feedsim::feed::{Candidate, Feed, Viewer};
/// /// Shows the freshest posts first (highest post id), whatever they are.
/// struct Chronological;
/// impl Feed for Chronological {
///     fn name(&self) -> &str { "chronological" }
///     fn choose(&self, _: &Viewer, c: &[Candidate], room: usize, chosen: &mut Vec<usize>) {
///         let mut order: Vec<usize> = (0..c.len()).collect();
///         order.sort_by_key(|&i| std::cmp::Reverse(c[i].post));
///         chosen.extend(order.into_iter().take(room));
///     }
/// }
/// ```
pub trait Feed: Send + Sync {
    /// A short name for reports.
    fn name(&self) -> &str;

    /// Checks the feed's parameters; the engine calls it before a run.
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Whether every offer is watched, whatever the session (the engine then
    /// skips grouping offers by viewer).
    fn shows_everything(&self) -> bool {
        false
    }

    /// Whether the engine calls [`choose`](Self::choose) for every viewer
    /// with offers, not only for those offered more than their room (a feed
    /// in which the viewer chooses, such as Kuaishou's covers, must; the
    /// default is false).
    fn runs_for_every_viewer(&self) -> bool {
        false
    }

    /// Whether the engine asks this feed about a viewer whose candidates
    /// all fit in `room`, or whose `room` is 0 (a viewer offered more than a
    /// room of at least one is always asked about); `has_source` tells
    /// whether any candidate has a given source. When it does not ask, the
    /// engine shows every candidate that fits, or none when the room is 0,
    /// without ranking them. The default is
    /// [`runs_for_every_viewer`](Self::runs_for_every_viewer); a wrapper
    /// that needs a say only for some candidates (the followed tab, for its
    /// posts) answers for those, so the engine ranks no more than it must.
    fn runs_for(&self, room: usize, has_source: &dyn Fn(&str) -> bool) -> bool {
        let _ = (room, has_source);
        self.runs_for_every_viewer()
    }

    /// Appends to `chosen` the indices of at most `room` distinct
    /// `candidates` to show to `viewer`, in the order watched; the rest are
    /// not shown. Called when the viewer has more candidates than room and
    /// some room (a viewer with none is shown nothing), and for any other
    /// viewer with candidates that [`runs_for`](Self::runs_for) asks about
    /// (every viewer, room or not, if
    /// [`runs_for_every_viewer`](Self::runs_for_every_viewer)).
    fn choose(&self, viewer: &Viewer, candidates: &[Candidate], room: usize, chosen: &mut Vec<usize>);

    /// [`choose`](Self::choose) for a feed that shows covers the viewer
    /// clicks to play (Kuaishou's double column, [`DoubleColumn`]): also
    /// appends to `covers` (empty on entry) the indices of the candidates
    /// shown as covers, clicked or not, and to `chosen` the clicked ones
    /// (plays, at most `room`). The engine counts each cover in the
    /// offer's `covers` and each cover played in its `cover_clicks`. The
    /// engine calls this method; the default shows no covers and calls
    /// `choose`.
    fn choose_covers(
        &self,
        viewer: &Viewer,
        candidates: &[Candidate],
        room: usize,
        chosen: &mut Vec<usize>,
        covers: &mut Vec<usize>,
    ) {
        let _ = covers;
        self.choose(viewer, candidates, room, chosen)
    }
}

/// One number per audience tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierValues {
    /// Fan-group members.
    pub group_member: f64,
    /// Iron fans.
    pub iron_fan: f64,
    /// Other fans.
    pub other_fan: f64,
    /// The public.
    pub public: f64,
}

impl TierValues {
    /// The same value for every tier.
    pub const fn all(v: f64) -> Self {
        TierValues {
            group_member: v,
            iron_fan: v,
            other_fan: v,
            public: v,
        }
    }

    /// The value of one tier.
    pub fn get(&self, t: Tier) -> f64 {
        match t {
            Tier::GroupMember => self.group_member,
            Tier::IronFan => self.iron_fan,
            Tier::OtherFan => self.other_fan,
            Tier::Public => self.public,
        }
    }

    /// The values indexed by `Tier as usize`.
    #[inline]
    pub(crate) fn by_index(&self) -> [f64; 4] {
        let mut v = [0.0; 4];
        for t in Tier::ALL {
            v[t as usize] = self.get(t);
        }
        v
    }

    fn each(&self) -> [(&'static str, f64); 4] {
        [
            ("group_member", self.group_member),
            ("iron_fan", self.iron_fan),
            ("other_fan", self.other_fan),
            ("public", self.public),
        ]
    }
}

/// The author-diversity discount of X's home mixer: the `k`-th post of the
/// same author in a viewer's list (from `k = 0`) has its score multiplied by
/// `(1 − floor)·decay^k + floor` (X: decay 0.5, floor 0.25, so
/// `0.75·0.5^k + 0.25`; DOMAIN.md).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorDiversity {
    /// Per earlier post of the same author, in `[0, 1]`.
    pub decay: f64,
    /// The factor's limit, in `[0, 1]`.
    pub floor: f64,
}

impl Default for AuthorDiversity {
    fn default() -> Self {
        AuthorDiversity {
            decay: 0.5,
            floor: 0.25,
        }
    }
}

impl AuthorDiversity {
    /// The factor for an author's `k`-th post (from 0).
    pub fn factor(&self, k: u32) -> f64 {
        (1.0 - self.floor) * self.decay.powi(k as i32) + self.floor
    }

    fn validate(&self, field: &str) -> Result<()> {
        check::probability(&format!("{field}.decay"), self.decay)?;
        check::probability(&format!("{field}.floor"), self.floor)
    }
}

/// Greedy ranking shared by the shipped feeds: appends to `chosen` the
/// candidate with the highest `score × author factor` (ties: smaller
/// tiebreak) among those not yet chosen and `allowed` (given the picks so
/// far), until `chosen` holds `until` picks or none is allowed. The author
/// factor counts every earlier pick in `chosen`. O(n · until).
pub(crate) fn greedy(
    candidates: &[Candidate],
    until: usize,
    score: impl Fn(&Candidate) -> f64,
    diversity: &AuthorDiversity,
    allowed: impl Fn(usize, &[usize]) -> bool,
    chosen: &mut Vec<usize>,
) {
    // A first pick with nothing chosen before it takes no bookkeeping: no
    // candidate is taken and every author's factor is `factor(0)`. (The
    // common case in a finite session is a single pick: one place left in
    // the round.) The same scores as below, so the same pick.
    if chosen.is_empty() && until > 0 {
        let first = diversity.factor(0);
        let Some(i) = best_candidate(candidates, |i, c| allowed(i, chosen).then(|| score(c) * first)) else {
            return;
        };
        chosen.push(i);
        if chosen.len() >= until {
            return;
        }
    }
    // Which candidates are taken, and each candidate's count of picks by
    // its author, kept up to date (on the stack for up to 64 candidates,
    // the common case), so a pick costs O(n), not O(n · picks).
    let n = candidates.len();
    let (mut taken_stack, mut same_stack) = ([false; 64], [0u32; 64]);
    let (mut taken_heap, mut same_heap) = (Vec::new(), Vec::new());
    let (taken, same_author): (&mut [bool], &mut [u32]) = if n <= 64 {
        (&mut taken_stack[..n], &mut same_stack[..n])
    } else {
        taken_heap.resize(n, false);
        same_heap.resize(n, 0);
        (&mut taken_heap, &mut same_heap)
    };
    // The author factors of no and one earlier pick, computed once per call
    // (the same expression; more picks by one author are rare).
    let factors = [diversity.factor(0), diversity.factor(1)];
    let factor = |k: u32| match factors.get(k as usize) {
        Some(&f) => f,
        None => diversity.factor(k),
    };
    let mark = |i: usize, taken: &mut [bool], same_author: &mut [u32]| {
        taken[i] = true;
        let creator = candidates[i].creator;
        for (k, c) in candidates.iter().enumerate() {
            same_author[k] += u32::from(c.creator == creator);
        }
    };
    for &j in chosen.iter() {
        mark(j, taken, same_author);
    }
    while chosen.len() < until {
        let best = best_candidate(candidates, |i, c| {
            (!taken[i] && allowed(i, chosen)).then(|| score(c) * factor(same_author[i]))
        });
        let Some(i) = best else { break };
        chosen.push(i);
        mark(i, taken, same_author);
    }
}

/// The candidate with the highest score (ties: the smaller tiebreak, then
/// the earlier one) among those `scored` gives a score.
#[inline]
fn best_candidate(candidates: &[Candidate], scored: impl Fn(usize, &Candidate) -> Option<f64>) -> Option<usize> {
    let mut best: Option<(f64, u64, usize)> = None;
    for (i, c) in candidates.iter().enumerate() {
        let Some(s) = scored(i, c) else { continue };
        let better = match best {
            None => true,
            Some((bs, bt, _)) => s > bs || (s == bs && c.tiebreak < bt),
        };
        if better {
            best = Some((s, c.tiebreak, i));
        }
    }
    best.map(|(_, _, i)| i)
}

/// The viewer feed a scenario file names in `[viewer_feed]`: `kind =
/// "single_column"` (the default), `"x_mixer"`, `"double_column"` or
/// `"unlimited"`, with that feed's fields beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeedSpec {
    /// [`SingleColumn`].
    SingleColumn(SingleColumn),
    /// [`XMixer`].
    XMixer(XMixer),
    /// [`DoubleColumn`].
    DoubleColumn(DoubleColumn),
    /// [`Unlimited`].
    Unlimited(Unlimited),
}

impl Default for FeedSpec {
    fn default() -> Self {
        FeedSpec::SingleColumn(SingleColumn::default())
    }
}

impl FeedSpec {
    /// The chosen feed as a trait object.
    pub fn as_feed(&self) -> &dyn Feed {
        match self {
            FeedSpec::SingleColumn(f) => f,
            FeedSpec::XMixer(f) => f,
            FeedSpec::DoubleColumn(f) => f,
            FeedSpec::Unlimited(f) => f,
        }
    }
}

impl Feed for FeedSpec {
    fn name(&self) -> &str {
        self.as_feed().name()
    }
    fn validate(&self) -> Result<()> {
        self.as_feed().validate()
    }
    fn shows_everything(&self) -> bool {
        self.as_feed().shows_everything()
    }
    fn runs_for_every_viewer(&self) -> bool {
        self.as_feed().runs_for_every_viewer()
    }
    fn runs_for(&self, room: usize, has_source: &dyn Fn(&str) -> bool) -> bool {
        self.as_feed().runs_for(room, has_source)
    }
    fn choose(&self, viewer: &Viewer, candidates: &[Candidate], room: usize, chosen: &mut Vec<usize>) {
        self.as_feed().choose(viewer, candidates, room, chosen)
    }
    fn choose_covers(
        &self,
        viewer: &Viewer,
        candidates: &[Candidate],
        room: usize,
        chosen: &mut Vec<usize>,
        covers: &mut Vec<usize>,
    ) {
        self.as_feed().choose_covers(viewer, candidates, room, chosen, covers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn viewer() -> Viewer {
        Viewer::new(0, 0, 1)
    }

    pub(crate) fn candidate(post: u32, creator: u32, tier: Tier, predicted: f64) -> Candidate {
        Candidate {
            post,
            creator,
            tier,
            predicted,
            tiebreak: u64::from(post),
            source: "public pool",
            category: 0,
            bonus: 1.0,
        }
    }

    /// The definition [`greedy`] keeps: each pick rescans the candidates
    /// and counts the author's earlier picks, O(n · picks) per pick.
    fn reference(
        candidates: &[Candidate],
        until: usize,
        score: impl Fn(&Candidate) -> f64,
        diversity: &AuthorDiversity,
        allowed: impl Fn(usize, &[usize]) -> bool,
        chosen: &mut Vec<usize>,
    ) {
        while chosen.len() < until {
            let best = best_candidate(candidates, |i, c| {
                if chosen.contains(&i) || !allowed(i, chosen) {
                    return None;
                }
                let k = chosen.iter().filter(|&&j| candidates[j].creator == c.creator).count();
                Some(score(c) * diversity.factor(k as u32))
            });
            let Some(i) = best else { break };
            chosen.push(i);
        }
    }

    #[test]
    fn the_greedy_pick_is_the_definition_s_pick() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(5);
        let d = AuthorDiversity::default();
        for case in 0..2_000 {
            // Up to 64 candidates on the stack, more on the heap.
            let n = rng.random_range(1..=100usize);
            // Few authors (repeats) or many, coarse predictions (ties), a
            // prefix of earlier picks, a tier filter for half the cases.
            let authors = if case % 3 == 0 {
                6
            } else {
                rng.random_range(1..=n as u32)
            };
            let c: Vec<Candidate> = (0..n)
                .map(|i| Candidate {
                    post: i as u32,
                    creator: rng.random_range(0..authors),
                    tier: Tier::ALL[rng.random_range(0..4usize)],
                    predicted: f64::from(rng.random_range(0..5u32)) / 4.0,
                    tiebreak: rng.random_range(0..8),
                    source: "",
                    category: 0,
                    bonus: 1.0,
                })
                .collect();
            let mut start: Vec<usize> = (0..n).filter(|_| rng.random_range(0..8) == 0).collect();
            start.truncate(3);
            let until = start.len() + rng.random_range(0..=n);
            let filter = case % 2 == 0;
            let allowed = |i: usize, _: &[usize]| !filter || c[i].tier != Tier::Public;
            let (mut fast, mut definition) = (start.clone(), start.clone());
            greedy(&c, until, |c| c.predicted, &d, allowed, &mut fast);
            reference(&c, until, |c| c.predicted, &d, allowed, &mut definition);
            assert_eq!(fast, definition, "case {case}");
        }
    }

    #[test]
    fn a_candidate_stays_within_48_bytes() {
        // Every ranked viewer's offers are copied into candidates and
        // scanned once per pick: the category and bonus fit in the padding.
        assert!(
            std::mem::size_of::<Candidate>() <= 48,
            "{}",
            std::mem::size_of::<Candidate>()
        );
    }

    #[test]
    fn author_diversity_is_x_s_formula() {
        let d = AuthorDiversity::default();
        assert_eq!(d.factor(0), 1.0);
        assert_eq!(d.factor(1), 0.75 * 0.5 + 0.25);
        assert_eq!(d.factor(2), 0.75 * 0.25 + 0.25);
    }

    #[test]
    fn greedy_discounts_an_author_s_second_post() {
        // Author 1 has the two best posts (0.9, 0.8); author 2 has 0.7.
        // With the discount the second pick is author 2 (0.7 > 0.8 × 0.625).
        let c = [
            candidate(0, 1, Tier::Public, 0.9),
            candidate(1, 1, Tier::Public, 0.8),
            candidate(2, 2, Tier::Public, 0.7),
        ];
        let mut chosen = Vec::new();
        greedy(
            &c,
            2,
            |c| c.predicted,
            &AuthorDiversity::default(),
            |_, _| true,
            &mut chosen,
        );
        assert_eq!(chosen, vec![0, 2]);
    }
}
