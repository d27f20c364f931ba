//! Audiences: who a push stage can offer a post to, and in what order.
//!
//! An [`Audience`] is a selector over the world as it stands in the round:
//! the creator's fan tiers ([`GroupMembers`], [`IronFans`], [`OtherFans`]),
//! the creator's customers ([`PastBuyers`], [`EcommerceMembers`]), the fans
//! of similar creators ([`FansOfSimilarCreators`], the "audience pack" of
//! paid traffic, DOMAIN.md), and the public ([`InterestTargetedPublic`],
//! [`UniformPublic`]). A library user writes a new one by implementing the
//! trait in their own crate; the engine never matches on audience types.
//!
//! # The rule every audience keeps: no user is offered a post twice
//!
//! The engine owns it. It passes [`Audience::select`] an `eligible` test
//! that is false for users who are inactive today or were already offered
//! the post (by any stage, of any audience); an audience only has to offer
//! each user at most once within one call. A stateful audience (a walk over
//! the population) keeps its position in the [`Cursor`] the engine holds
//! for it per post, so a later stage of the same audience continues where
//! the last one stopped.
//!
//! An audience that never returns, for one post, a user it returned before
//! that day (a walk whose cursor consumes its positions, as the public walks
//! do) says so with [`Audience::draws_distinct`]; the engine then does not
//! record that audience's offers in the post's set while it is the post's
//! current audience, only in a list, and inserts them when another audience
//! takes over or a new day starts (a hash insertion per offer saved on the
//! path most offers take).

mod commerce;
mod fans;
mod public;
mod similar;
mod today;

pub use commerce::{EcommerceMembers, PastBuyers};
pub use fans::{GroupMembers, IronFans, OtherFans};
pub use public::{InterestTargetedPublic, UniformPublic};
pub use similar::FansOfSimilarCreators;
pub use today::Today;

use serde::{Deserialize, Serialize};

use crate::content::Post;
use crate::rng::{key_from, key_prefix, tag};
use crate::world::{FollowGraph, World};

/// What an audience may read when it selects users for a post: the world,
/// the follow graph as it stands in this round (fans come and go with the
/// lifecycle), the post, and the creator's customers so far.
#[derive(Clone, Copy)]
pub struct AudienceView<'a> {
    /// The population.
    pub world: &'a World,
    /// The follow graph now.
    pub graph: &'a FollowGraph,
    /// The post being pushed.
    pub post: &'a Post,
    /// The run seed (for keyed orders).
    pub seed: u64,
    /// The scenario's `feed.interest_targeting` (see
    /// [`InterestTargetedPublic`]).
    pub interest_targeting: f64,
    /// Users who have ordered from the post's creator in the run, ascending.
    pub buyers: &'a [u32],
    /// The creator's e-commerce members, ascending.
    pub members: &'a [u32],
    /// Engagement points gained today and not yet in `graph`'s scores, per
    /// edge (on a run's first day with dynamics on, while the graph is
    /// still the world's; empty otherwise). Read scores through
    /// [`score`](Self::score), which adds them.
    pub day_points: &'a [u32],
    /// Today's active users in the day's keyed order, and by interest (what
    /// the public walks read; see [`Today`]).
    pub today: &'a Today,
}

impl AudienceView<'_> {
    /// The engagement score of edge `e` as it stands now (see the fan
    /// lifecycle in [`crate::engine`]).
    #[inline]
    pub fn score(&self, e: u32) -> u32 {
        let s = self.graph.edge_score(e);
        match self.day_points.get(e as usize) {
            Some(&p) => s.saturating_add(p),
            None => s,
        }
    }
}

/// How a stage picks among more eligible users than it may offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// A keyed random order (a hash of seed, post and user).
    #[default]
    Random,
    /// Fans with the highest engagement score with the creator first (the
    /// score the fan lifecycle keeps; see the engine docs); non-fans last.
    Engagement,
    /// Users with the highest interest in the post's category first.
    Interest,
}

/// Per-post state of an audience that walks the population; the engine
/// keeps one per post and audience name, zeroed at first use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor(pub [u64; 4]);

/// A set of users a stage can offer a post to. See the [module docs](self)
/// for the one rule it must keep.
///
/// ```
/// use feedsim::audience::{Audience, AudienceView, Cursor, Order, ordered_pick};
/// /// The creator's fans whose verticality is at least one half.
/// struct VerticalFans;
/// impl Audience for VerticalFans {
///     fn name(&self) -> &str { "vertical fans" }
///     fn is_public(&self) -> bool { false }
///     fn len(&self, v: &AudienceView) -> u64 { v.graph.followers(v.post.creator).into() }
///     fn select(&self, v: &AudienceView, order: Order, want: u64,
///               eligible: &dyn Fn(u32) -> bool, _: &mut Cursor, out: &mut Vec<u32>) {
///         let row = v.graph.fan_edges(v.post.creator);
///         let fans = row.filter(|&e| v.world.verticality(v.post.creator, v.graph.edge_user(e)) >= 0.5)
///                       .map(|e| (v.graph.edge_user(e), Some(e)));
///         ordered_pick(v, order, want, fans, eligible, out);
///     }
/// }
/// ```
pub trait Audience: Send + Sync {
    /// A short name for reports; also the key of the audience's cursor.
    fn name(&self) -> &str;

    /// Whether the audience reaches beyond the creator's followers (a post
    /// that enters such a stage counts as having reached the public).
    fn is_public(&self) -> bool;

    /// How many users the audience holds for this post, before inactive or
    /// already-offered users are excluded: the base of a stage sized as a
    /// share of its audience. Should be O(1) or close.
    fn len(&self, view: &AudienceView) -> u64;

    /// Appends to `out` up to `want` distinct users for whom `eligible` is
    /// true, in `order` where the audience has a choice (a walk over the
    /// population has its own order and may ignore it). Fewer than `want`
    /// means the audience has no more eligible users.
    fn select(
        &self,
        view: &AudienceView,
        order: Order,
        want: u64,
        eligible: &dyn Fn(u32) -> bool,
        cursor: &mut Cursor,
        out: &mut Vec<u32>,
    );

    /// Whether `select` never returns, for one post, a user it returned in
    /// an earlier call of the same day with the same cursor (nor one twice
    /// in a call), so the engine need not test its offers against its own
    /// earlier ones that day (see the [module docs](self)); at a day's
    /// start the engine adds them to the post's set. The engine trusts the
    /// answer: an audience that says true and repeats a user within a day
    /// offers the post twice. False by default; the public walks say true.
    fn draws_distinct(&self) -> bool {
        false
    }

    /// Whether `select` keeps the contract by itself: it appends only users
    /// for which `eligible` returned true, at most `want`, none twice. The
    /// engine then does not test its picks again (a second lookup in the
    /// post's set per offer). The engine trusts the answer: an audience
    /// that says true and returns an ineligible user offers the post to an
    /// inactive user, or twice. False by default; every audience the
    /// library ships says true (and a test checks it).
    fn checks_eligibility(&self) -> bool {
        false
    }
}

/// The sort key of user `u` (with follow edge `edge`, if a fan of the post's
/// creator) under `order`: smaller comes first; ties are broken by a keyed
/// hash, so the order is a pure function of (seed, post, user).
#[inline]
pub fn order_key(view: &AudienceView, order: Order, u: u32, edge: Option<u32>) -> u64 {
    order_key_from(
        view,
        key_prefix(view.seed, tag::FAN_ORDER, view.post.id.into()),
        order,
        u,
        edge,
    )
}

/// [`order_key`] with the post's part of the hash computed once.
#[inline]
fn order_key_from(view: &AudienceView, prefix: u64, order: Order, u: u32, edge: Option<u32>) -> u64 {
    ranked_key(order_rank(view, order, u, edge), key_from(prefix, u.into()))
}

/// The key from a user's rank ([`order_rank`]) and keyed hash `h`: the rank
/// in the high half and the hash's high half below it, or the hash alone
/// for the random order.
#[inline]
fn ranked_key(rank: Option<u64>, h: u64) -> u64 {
    match rank {
        None => h,
        Some(high) => (high << 32) | (h >> 32),
    }
}

/// The high 32 bits of [`order_key`] under an order by score (`None` for
/// the random order, whose key is the hash alone): a key whose rank is
/// higher than another key's high bits comes after it, whatever its hash.
#[inline]
fn order_rank(view: &AudienceView, order: Order, u: u32, edge: Option<u32>) -> Option<u64> {
    match order {
        Order::Random => None,
        Order::Engagement => Some(edge.map_or(u64::from(u32::MAX), |e| {
            u64::from(u32::MAX - view.score(e).min(u32::MAX - 1))
        })),
        Order::Interest => {
            // A fan's verticality (the creator's category); anyone else's
            // interest in the post's category.
            let i = match edge {
                Some(_) => view.world.verticality(view.post.creator, u),
                None => view.world.users().interest(u, view.post.category),
            };
            Some(u64::from(u32::MAX) - (f64::from(i.clamp(0.0, 1.0)) * f64::from(u32::MAX - 1)) as u64)
        }
    }
}

/// Picks up to `want` eligible users from a finite list of `(user, edge)`
/// candidates, smallest [`order_key`] first (ties by user id), and appends
/// them to `out` in that order. The list must not repeat a user.
///
/// The picks so far are kept in a heap of at most `want`: a candidate whose
/// key cannot enter it is passed over without testing its eligibility (the
/// test reads the engine's sets at random, the key only the candidate's
/// edge and a hash), so a fan wave of 200 over a row of 800,000 fans tests
/// few of them; under an order by score, a candidate ranked below the
/// heap's last is passed over before its hash is computed. O(n) ranks plus
/// O(k log k) for the `k` that enter the heap (about `want · ln(n / want)`
/// for keys in random order).
pub fn ordered_pick(
    view: &AudienceView,
    order: Order,
    want: u64,
    candidates: impl Iterator<Item = (u32, Option<u32>)>,
    eligible: &dyn Fn(u32) -> bool,
    out: &mut Vec<u32>,
) {
    let Some(mut picks) = Picks::new(view, want) else {
        return;
    };
    for (u, e) in candidates {
        picks.consider(order_rank(view, order, u, e), u, eligible);
    }
    picks.finish(out);
}

/// [`ordered_pick`] under [`Order::Engagement`] of the fans on a range of
/// the post creator's row (`edges`, as [`FollowGraph::sections`] gives
/// them): the same picks, in the same order. Once the picks are full, a
/// block of 16 edges whose scores all rank below the last pick is passed
/// over in a few vector instructions, without reading its fans: a fan wave
/// of 200 over a row of millions reads little more than the row's scores.
pub(crate) fn ordered_pick_by_score(
    view: &AudienceView,
    want: u64,
    edges: std::ops::Range<u32>,
    eligible: &dyn Fn(u32) -> bool,
    out: &mut Vec<u32>,
) {
    let Some(mut picks) = Picks::new(view, want) else {
        return;
    };
    let graph = view.graph;
    let consider = |e: u32, picks: &mut Picks| {
        let u = graph.edge_user(e);
        picks.consider(order_rank(view, Order::Engagement, u, Some(e)), u, eligible);
    };
    if !view.day_points.is_empty() {
        // Scores still split between the graph and the day's points (a
        // borrowed world's first day): edge by edge.
        for e in edges {
            consider(e, &mut picks);
        }
        picks.finish(out);
        return;
    }
    const BLOCK: u32 = 16;
    let scores = &graph.score;
    let mut e = edges.start;
    while e < edges.end {
        let end = edges.end.min(e.saturating_add(BLOCK));
        if let Some(last) = picks.full_rank()
            && end - e == BLOCK
        {
            // A score `s` ranks `u32::MAX - min(s, u32::MAX - 1)`
            // ([`order_rank`]): below the last pick's rank `last` exactly
            // when `min(s, u32::MAX - 1) < u32::MAX - last`.
            let top = scores[e as usize..end as usize].iter().fold(0u32, |m, &s| m.max(s));
            if u64::from(top.min(u32::MAX - 1)) < u64::from(u32::MAX) - last {
                e = end;
                continue;
            }
        }
        for e in e..end {
            consider(e, &mut picks);
        }
        e = end;
    }
    picks.finish(out);
}

/// The picks so far of [`ordered_pick`]: a heap of at most `want` (key,
/// user) pairs, the worst on top.
struct Picks {
    best: std::collections::BinaryHeap<(u64, u32)>,
    want: usize,
    /// The post's part of the keyed hash.
    prefix: u64,
}

impl Picks {
    /// None for `want == 0`.
    fn new(view: &AudienceView, want: u64) -> Option<Self> {
        (want > 0).then(|| Picks {
            best: std::collections::BinaryHeap::new(),
            want: usize::try_from(want).unwrap_or(usize::MAX),
            prefix: key_prefix(view.seed, tag::FAN_ORDER, view.post.id.into()),
        })
    }

    /// The rank part of the last pick's key, once `want` are picked.
    #[inline]
    fn full_rank(&self) -> Option<u64> {
        (self.best.len() == self.want)
            .then(|| self.best.peek().map(|top| top.0 >> 32))
            .flatten()
    }

    /// Offers user `u` of rank `rank` ([`order_rank`]).
    #[inline]
    fn consider(&mut self, rank: Option<u64>, u: u32, eligible: &dyn Fn(u32) -> bool) {
        // Once the heap is full, a candidate ranked below its last (by
        // score, before the hash) cannot enter: passed over without its
        // hash.
        if let (Some(rank), Some(last)) = (rank, self.full_rank())
            && rank > last
        {
            return;
        }
        let k = (ranked_key(rank, key_from(self.prefix, u.into())), u);
        if self.best.len() < self.want {
            if eligible(u) {
                self.best.push(k);
            }
        } else if let Some(mut top) = self.best.peek_mut()
            && k < *top
            && eligible(u)
        {
            *top = k;
        }
    }

    /// Appends the picks to `out`, best first.
    fn finish(self, out: &mut Vec<u32>) {
        let mut picked = self.best.into_vec();
        picked.sort_unstable();
        out.extend(picked.into_iter().map(|(_, u)| u));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;

    /// The definition: every eligible candidate keyed, sorted, the first `want`.
    fn naive(
        v: &AudienceView,
        order: Order,
        want: u64,
        c: &[(u32, Option<u32>)],
        eligible: &dyn Fn(u32) -> bool,
    ) -> Vec<u32> {
        let mut keyed: Vec<(u64, u32)> = c
            .iter()
            .filter(|&&(u, _)| eligible(u))
            .map(|&(u, e)| (order_key(v, order, u, e), u))
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().take(want as usize).map(|(_, u)| u).collect()
    }

    #[test]
    fn the_heap_pick_is_the_sorted_pick() {
        let s = Scenario::default_scenario().scaled(20_000);
        let world = World::generate(&s).unwrap();
        let today = Today::default();
        let g = world.graph();
        // A post of the creator with the most followers: a long row.
        let c = (0..g.creators() as u32).max_by_key(|&c| g.followers(c)).unwrap();
        let post = &Post {
            id: 3,
            creator: c,
            slot: 0,
            quality: 0.5,
            category: world.creators().category(c),
            price_fen: 0,
            kind: Default::default(),
            duration_s: 10.0,
        };
        // Scores with many ties (engagement order), so ties are exercised.
        let points: Vec<u32> = (0..g.edges() as u32)
            .map(|e| crate::rng::mix(e.into()) as u32 % 4)
            .collect();
        let v = AudienceView {
            world: &world,
            graph: g,
            post,
            seed: 9,
            interest_targeting: 0.5,
            buyers: &[],
            members: &[],
            day_points: &points,
            today: &today,
        };
        let row: Vec<(u32, Option<u32>)> = g.fan_edges(c).map(|e| (g.edge_user(e), Some(e))).collect();
        assert!(row.len() > 1_000, "{}", row.len());
        // The same scores in the graph itself (no day's points): the
        // block path of the pick by score.
        // Most scores small and tied, one edge in ten higher, so that most
        // blocks rank below a small pick's last and are passed over.
        let mut scored = g.clone();
        for (e, s) in scored.score.iter_mut().enumerate() {
            let h = crate::rng::mix(e as u64 ^ 0x5eed);
            *s = if h.is_multiple_of(10) {
                (h >> 8) as u32 % 50
            } else {
                (h >> 8) as u32 % 4
            };
        }
        // A few scores at the top of the range, where the rank saturates.
        let row_range = g.fan_edges(c);
        scored.score[row_range.start as usize + 3] = u32::MAX;
        scored.score[row_range.start as usize + 40] = u32::MAX - 1;
        let v_scored = AudienceView {
            graph: &scored,
            day_points: &[],
            ..v
        };
        let (iron, other) = scored.sections(c);
        for order in [Order::Random, Order::Engagement, Order::Interest] {
            for want in [1u64, 7, 200, row.len() as u64 / 2, row.len() as u64 + 5] {
                for modulus in [1u32, 3] {
                    let eligible = |u: u32| u.is_multiple_of(modulus);
                    let mut out = Vec::new();
                    ordered_pick(&v, order, want, row.iter().copied(), &eligible, &mut out);
                    assert_eq!(
                        out,
                        naive(&v, order, want, &row, &eligible),
                        "{order:?}, want {want}, every {modulus}"
                    );
                    if order != Order::Engagement {
                        continue;
                    }
                    // By score over the row and each section, with the
                    // scores in the day's points or in the graph.
                    for (view, edges) in [
                        (&v, row_range.clone()),
                        (&v_scored, row_range.clone()),
                        (&v_scored, iron.clone()),
                        (&v_scored, other.clone()),
                    ] {
                        let list: Vec<(u32, Option<u32>)> = edges.clone().map(|e| (g.edge_user(e), Some(e))).collect();
                        let mut out = Vec::new();
                        ordered_pick_by_score(view, want, edges.clone(), &eligible, &mut out);
                        assert_eq!(
                            out,
                            naive(view, order, want, &list, &eligible),
                            "by score over {edges:?}, want {want}, every {modulus}"
                        );
                    }
                }
            }
        }
    }
}
