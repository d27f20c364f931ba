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
}

/// One task's share of the partition: its offers in bucket order, and
/// where each bucket starts.
#[derive(Default)]
struct TaskPart {
    offsets: Vec<u32>,
    items: Vec<ViewerOffer>,
}

/// The round's offers partitioned by user range; its buffers are kept from
/// round to round, so a run allocates them once, at about the size of the
/// largest round.
pub(crate) struct ByViewer {
    parts: Vec<TaskPart>,
    buckets: usize,
}

impl ByViewer {
    pub(crate) fn new(users: usize) -> Self {
        let buckets = users.div_ceil(BUCKET_USERS).max(1);
        let tasks = 4 * rayon::current_num_threads().max(1);
        ByViewer {
            parts: (0..tasks).map(|_| TaskPart::default()).collect(),
            buckets,
        }
    }

    /// Number of buckets.
    pub(crate) fn buckets(&self) -> usize {
        self.buckets
    }

    /// Partitions the offers of `live` by bucket, looking up each viewer's
    /// relation to the creator on the way. O(offers × log followers +
    /// tasks × buckets), parallel over tasks; each task counts its offers
    /// per bucket, then places them (a counting sort, stable).
    pub(crate) fn fill(&mut self, sim: &Simulation, live: &[LivePost], graph: &FollowGraph) {
        let tasks = self.parts.len();
        let total: usize = live.iter().map(|lp| lp.offers.len()).sum();
        // Task t takes a contiguous run of posts holding about a
        // `tasks`-th of the offers.
        let share = total.div_ceil(tasks).max(1);
        let mut starts = Vec::with_capacity(tasks + 1);
        let (mut li, mut prefix) = (0, 0);
        for t in 0..tasks {
            while li < live.len() && prefix < t * share {
                prefix += live[li].offers.len();
                li += 1;
            }
            starts.push(li);
        }
        starts.push(live.len());
        let buckets = self.buckets;
        self.parts.par_iter_mut().enumerate().for_each(|(t, part)| {
            let posts = &live[starts[t]..starts[t + 1]];
            part.offsets.clear();
            part.offsets.resize(buckets + 1, 0);
            for lp in posts {
                for &u in &lp.offers {
                    part.offsets[u as usize / BUCKET_USERS + 1] += 1;
                }
            }
            for b in 0..buckets {
                part.offsets[b + 1] += part.offsets[b];
            }
            let n = part.offsets[buckets] as usize;
            let blank = ViewerOffer {
                user: 0,
                live: 0,
                edge: NO_EDGE,
                relation: Relation::Stranger,
                tier: Tier::Public,
                channel: 0,
            };
            part.items.clear();
            // Exactly the largest round's size, not up to twice it.
            part.items.reserve_exact(n);
            part.items.resize(n, blank);
            let mut next = part.offsets.clone();
            for (i, lp) in posts.iter().enumerate() {
                let creator = sim.posts[lp.post as usize].creator;
                for (k, &u) in lp.offers.iter().enumerate() {
                    let (relation, edge) = graph.relation(creator, u);
                    let channel = match k.checked_sub(lp.stage_offers) {
                        None => 0,
                        Some(j) => lp.channel_of[j] + 1,
                    };
                    let at = &mut next[u as usize / BUCKET_USERS];
                    part.items[*at as usize] = ViewerOffer {
                        user: u,
                        live: (starts[t] + i) as u32,
                        edge: edge.unwrap_or(NO_EDGE),
                        relation,
                        tier: Tier::of(relation, edge.is_some_and(|e| graph.edge_in_group(e))),
                        channel,
                    };
                    *at += 1;
                }
            }
        });
    }

    /// The offers to the users of bucket `b`, in (post, offer) order: one
    /// run per task.
    pub(crate) fn bucket(&self, b: usize) -> impl Iterator<Item = &[ViewerOffer]> + Clone {
        self.parts
            .iter()
            .map(move |p| &p.items[p.offsets[b] as usize..p.offsets[b + 1] as usize])
    }
}

impl Simulation<'_> {
    /// Marks in `shown` which of one viewer's offers (`candidates`, in
    /// (post, offer) order) the feed shows within `room`; the rest are not
    /// shown and lost. `shown` starts all false. Whatever a feed returns, a viewer watches at most the
    /// room, each offer once.
    pub(super) fn choose_for_viewer(
        &self,
        candidates: &mut [Candidate],
        room: usize,
        slot: u32,
        viewer: &Viewer,
        chosen: &mut Vec<usize>,
        shown: &mut [bool],
    ) {
        let prefix = key_prefix(self.seed, tag::FEED, slot.into());
        for c in candidates.iter_mut() {
            c.tiebreak = key_from(prefix, (u64::from(viewer.user) << 32) | u64::from(c.post));
        }
        chosen.clear();
        self.feed.choose(viewer, candidates, room, chosen);
        let mut n = 0;
        for &i in chosen.iter() {
            if n < room && i < shown.len() && !shown[i] {
                shown[i] = true;
                n += 1;
            }
        }
    }
}
