//! Phase 3: the round's offers are grouped by viewer, and each viewer's feed
//! chooses what is watched within the session.
//!
//! Grouping is a counting sort, never a hash map or a comparison sort of the
//! whole round: offers are partitioned by user range into buckets of
//! [`BUCKET_USERS`] users (one sequential pass over every post's offers,
//! split over tasks by contiguous runs of posts, each task writing its own
//! bucket lists), and the respond phase sorts each bucket by user in cache.
//! Within a bucket the offers keep their (post, offer) order, whatever the
//! number of tasks: task `t`'s lists hold earlier posts than task `t + 1`'s.

use rayon::prelude::*;

use super::Simulation;
use super::state::{LivePost, NO_EDGE};
use crate::feed::{Candidate, Viewer};
use crate::response::Relation;
use crate::rng::{key_from, key_prefix, tag};
use crate::tally::Tier;
use crate::world::FollowGraph;

/// Users per bucket: a multiple of 64, so that a bucket owns whole words of
/// every per-user bitset, and small enough that a bucket's users, offers and
/// counters stay in a core's cache.
pub(crate) const BUCKET_USERS: usize = 4096;

/// A round with more than this many offers per user (or per 2^20 users in
/// a smaller world) is partitioned and answered in passes over ranges of
/// users (see [`ByViewer::passes`]).
pub(crate) const PASS_OFFERS_PER_USER: usize = 2;

/// One offer as the respond phase reads it: the viewer, the post and how
/// the viewer stands to its creator. 16 bytes. (The viewer's interest is
/// not carried: the respond phase reads it from the user's record, which it
/// reads in user order, rather than the partition reading it at random.)
#[derive(Debug, Clone, Copy)]
pub(crate) struct ViewerOffer {
    pub(crate) user: u32,
    /// Index of the post in the round's live posts.
    pub(crate) live: u32,
    /// The follow edge, or `NO_EDGE` for a stranger.
    pub(crate) edge: u32,
    pub(crate) relation: Relation,
    pub(crate) tier: Tier,
    /// 0 for the stage's offer, `k + 1` for channel `k`'s.
    pub(crate) channel: u8,
    /// The offer's depth: 0 for the stage's, the channel's for a channel's
    /// (friend hops, share generations; see [`crate::channel`]).
    pub(crate) depth: u8,
}

/// One task's share of the partition: its offers in bucket order, and
/// where each bucket starts.
#[derive(Default)]
struct TaskPart {
    /// Where each bucket starts in the task's offers of the whole round.
    offsets: Vec<u32>,
    /// The offers of the current pass: those of its buckets, from
    /// `offsets[first bucket] = base` on.
    items: Vec<ViewerOffer>,
    base: u32,
    /// One post's offers to the pass's users, by index (scratch).
    picked: Vec<u32>,
    /// A bitset over users marking one creator's fans at a time, all zero
    /// between posts (see [`FollowGraph::mark_fans`]).
    marks: Vec<u64>,
}

/// The round's offers partitioned by user range; its buffers are kept from
/// round to round, so a run allocates them once, at about the size of the
/// largest pass (a round holds at most a few passes' worth of offers per
/// user; see [`ByViewer::passes`]).
pub(crate) struct ByViewer {
    parts: Vec<TaskPart>,
    buckets: usize,
    /// Task t's posts are `live[starts[t]..starts[t + 1]]` this round.
    starts: Vec<usize>,
}

impl ByViewer {
    pub(crate) fn new(users: usize) -> Self {
        let buckets = users.div_ceil(BUCKET_USERS).max(1);
        let tasks = 4 * rayon::current_num_threads().max(1);
        ByViewer {
            parts: (0..tasks).map(|_| TaskPart::default()).collect(),
            buckets,
            starts: Vec::new(),
        }
    }

    /// How many passes a round of `offers` offers takes: enough that a
    /// pass holds about `per_pass` offers (by default
    /// [`PASS_OFFERS_PER_USER`] per user, so that the partition, 16 bytes
    /// an offer, stays within about 32 bytes per user however large the
    /// round). One pass for most rounds.
    pub(crate) fn passes(&self, offers: usize, per_pass: Option<usize>) -> usize {
        let per_pass = per_pass.unwrap_or(PASS_OFFERS_PER_USER * (self.buckets * BUCKET_USERS).max(1 << 20));
        offers.div_ceil(per_pass.max(1)).clamp(1, self.buckets)
    }

    /// The buckets of pass `k` of `passes`: a contiguous run, the passes
    /// in order covering every bucket.
    pub(crate) fn pass_buckets(&self, k: usize, passes: usize) -> std::ops::Range<usize> {
        (k * self.buckets / passes)..((k + 1) * self.buckets / passes)
    }

    /// Partitions the offers of `live` to users of `buckets` by bucket,
    /// looking up each viewer's relation to the creator on the way; `first`
    /// for the round's first pass (which counts the round's offers per
    /// bucket once, for every pass). O(offers in range × log followers +
    /// tasks × buckets; a post with many offers in a small row marks the
    /// creator's fans and tests a bit per offer instead, O(offers +
    /// followers)), plus O(offers) to pick out the range's offers when
    /// the round takes more than one pass; parallel over tasks, each a
    /// contiguous run of posts (a counting sort, stable).
    pub(crate) fn fill(
        &mut self,
        sim: &Simulation,
        live: &[LivePost],
        graph: &FollowGraph,
        buckets: std::ops::Range<usize>,
        first: bool,
    ) {
        let tasks = self.parts.len();
        let all = buckets.len() == self.buckets;
        let n_buckets = self.buckets;
        if first {
            // Task t takes a contiguous run of posts holding about a
            // `tasks`-th of the offers.
            let total: usize = live.iter().map(|lp| lp.offers.len()).sum();
            let share = total.div_ceil(tasks).max(1);
            self.starts.clear();
            let (mut li, mut prefix) = (0, 0);
            for t in 0..tasks {
                while li < live.len() && prefix < t * share {
                    prefix += live[li].offers.len();
                    li += 1;
                }
                self.starts.push(li);
            }
            self.starts.push(live.len());
            let starts = &self.starts;
            self.parts.par_iter_mut().enumerate().for_each(|(t, part)| {
                part.offsets.clear();
                part.offsets.resize(n_buckets + 1, 0);
                for lp in &live[starts[t]..starts[t + 1]] {
                    for &u in &lp.offers {
                        part.offsets[u as usize / BUCKET_USERS + 1] += 1;
                    }
                }
                for b in 0..n_buckets {
                    part.offsets[b + 1] += part.offsets[b];
                }
            });
        }
        let (lo, hi) = (
            (buckets.start * BUCKET_USERS) as u64,
            (buckets.end * BUCKET_USERS) as u64,
        );
        let starts = &self.starts;
        self.parts.par_iter_mut().enumerate().for_each(|(t, part)| {
            let posts = &live[starts[t]..starts[t + 1]];
            part.base = part.offsets[buckets.start];
            let n = (part.offsets[buckets.end] - part.base) as usize;
            let blank = ViewerOffer {
                user: 0,
                live: 0,
                edge: NO_EDGE,
                relation: Relation::Stranger,
                tier: Tier::Public,
                channel: 0,
                depth: 0,
            };
            part.items.clear();
            // Exactly the largest pass's size, not up to twice it.
            part.items.reserve_exact(n);
            part.items.resize(n, blank);
            let mut next: Vec<u32> = part.offsets[buckets.clone()].iter().map(|&o| o - part.base).collect();
            let words = n_buckets * BUCKET_USERS / 64;
            if part.marks.len() < words {
                part.marks.resize(words, 0);
            }
            for (i, lp) in posts.iter().enumerate() {
                let creator = sim.posts[lp.post as usize].creator;
                // The post's offers to the range's users, by index: all of
                // them in a one-pass round; else picked out without a
                // branch per offer (the range holds a random part of them).
                let picked = &mut part.picked;
                picked.clear();
                if all {
                    picked.extend(0..lp.offers.len() as u32);
                } else {
                    picked.resize(lp.offers.len(), 0);
                    let mut m = 0;
                    for (k, &u) in lp.offers.iter().enumerate() {
                        picked[m] = k as u32;
                        m += usize::from((lo..hi).contains(&u64::from(u)));
                    }
                    picked.truncate(m);
                }
                // Many look-ups in a small row: through its fans' marks.
                let marked = graph.worth_marking(creator, picked.len());
                if marked {
                    graph.mark_fans(creator, &mut part.marks, true);
                }
                for &k in picked.iter() {
                    let k = k as usize;
                    let u = lp.offers[k];
                    let (relation, edge) = if marked {
                        graph.relation_marked(creator, u, &part.marks)
                    } else {
                        graph.relation(creator, u)
                    };
                    let (channel, depth) = match k.checked_sub(lp.stage_offers) {
                        None => (0, 0),
                        Some(j) => (lp.channel_of[j] + 1, lp.depth_of[j]),
                    };
                    let at = &mut next[u as usize / BUCKET_USERS - buckets.start];
                    part.items[*at as usize] = ViewerOffer {
                        user: u,
                        live: (starts[t] + i) as u32,
                        edge: edge.unwrap_or(NO_EDGE),
                        relation,
                        tier: Tier::of(relation, edge.is_some_and(|e| graph.edge_in_group(e))),
                        channel,
                        depth,
                    };
                    *at += 1;
                }
                if marked {
                    graph.mark_fans(creator, &mut part.marks, false);
                }
            }
        });
    }

    /// The offers to the users of bucket `b`, in (post, offer) order: one
    /// run per task.
    pub(crate) fn bucket(&self, b: usize) -> impl Iterator<Item = &[ViewerOffer]> + Clone {
        self.parts
            .iter()
            .map(move |p| &p.items[(p.offsets[b] - p.base) as usize..(p.offsets[b + 1] - p.base) as usize])
    }
}

impl Simulation<'_> {
    /// Marks in `choice.shown` which of one viewer's offers (`candidates`,
    /// in (post, offer) order) the feed shows within `room`; the rest are
    /// not shown and lost. `shown` starts all false. Whatever a feed
    /// returns, a viewer watches at most the room, each offer once. The
    /// feed's covers, if it shows any, are left in `choice.covers`.
    pub(super) fn choose_for_viewer(
        &self,
        candidates: &mut [Candidate],
        room: usize,
        slot: u32,
        viewer: &Viewer,
        choice: &mut Choice,
    ) {
        let prefix = key_prefix(self.seed, tag::FEED, slot.into());
        for c in candidates.iter_mut() {
            c.tiebreak = key_from(prefix, (u64::from(viewer.user) << 32) | u64::from(c.post));
        }
        let Choice { chosen, covers, shown } = choice;
        chosen.clear();
        covers.clear();
        self.feed.choose_covers(viewer, candidates, room, chosen, covers);
        let mut n = 0;
        for &i in chosen.iter() {
            if n < room && i < shown.len() && !shown[i] {
                shown[i] = true;
                n += 1;
            }
        }
    }
}

/// What a viewer's feed chose in one round, in buffers reused from viewer
/// to viewer.
#[derive(Default)]
pub(super) struct Choice {
    /// The feed's picks, in the order watched.
    pub(super) chosen: Vec<usize>,
    /// The candidates shown as covers (a feed of covers), clicked or not.
    pub(super) covers: Vec<usize>,
    /// Per candidate: shown (a play), from the first `room` distinct valid
    /// picks.
    pub(super) shown: Vec<bool>,
}
