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
use super::state::LivePost;
use crate::feed::Candidate;
use crate::response::Relation;
use crate::rng::{key, tag};
use crate::tally::Tier;

/// Users per bucket: a multiple of 64, so that a bucket owns whole words of
/// every per-user bitset, and small enough that a bucket's users, offers and
/// counters stay in a core's cache.
pub(crate) const BUCKET_USERS: usize = 4096;

/// One offer as the respond phase reads it: the offer and where it came
/// from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ViewerOffer {
    pub(crate) user: u32,
    /// Index of the post in the round's live posts.
    pub(crate) live: u32,
    /// Index of the offer in the post's offers (for the trace).
    pub(crate) offer: u32,
    pub(crate) edge: u32,
    pub(crate) interest: f32,
    pub(crate) relation: Relation,
    pub(crate) tier: Tier,
}

/// The round's offers partitioned by user range; its lists are kept from
/// round to round, so a run allocates them once.
pub(crate) struct ByViewer {
    /// `parts[task][bucket]`: the offers task `task` found for the users of
    /// `bucket`, in (post, offer) order.
    parts: Vec<Vec<Vec<ViewerOffer>>>,
    buckets: usize,
}

impl ByViewer {
    pub(crate) fn new(users: usize) -> Self {
        let buckets = users.div_ceil(BUCKET_USERS).max(1);
        let tasks = 4 * rayon::current_num_threads().max(1);
        ByViewer {
            parts: vec![vec![Vec::new(); buckets]; tasks],
            buckets,
        }
    }

    /// Number of buckets.
    pub(crate) fn buckets(&self) -> usize {
        self.buckets
    }

    /// Partitions the offers of `live` by bucket. O(offers + tasks ×
    /// buckets), parallel over tasks.
    pub(crate) fn fill(&mut self, live: &[LivePost]) {
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
        self.parts.par_iter_mut().enumerate().for_each(|(t, lists)| {
            lists.iter_mut().for_each(Vec::clear);
            for (li, lp) in live.iter().enumerate().take(starts[t + 1]).skip(starts[t]) {
                for (oi, o) in lp.offers.iter().enumerate() {
                    lists[o.user as usize / BUCKET_USERS].push(ViewerOffer {
                        user: o.user,
                        live: li as u32,
                        offer: oi as u32,
                        edge: o.edge,
                        interest: o.interest,
                        relation: o.relation,
                        tier: o.tier,
                    });
                }
            }
        });
    }

    /// The offers to the users of bucket `b`, in (post, offer) order.
    pub(crate) fn bucket(&self, b: usize) -> impl Iterator<Item = &ViewerOffer> {
        self.parts.iter().flat_map(move |p| p[b].iter())
    }
}

impl Simulation<'_> {
    /// Marks in `shown` which of one viewer's offers (`candidates`, in
    /// (post, offer) order) the feed shows within `room`; the rest are not
    /// shown and lost. Whatever a feed returns, a viewer watches at most the
    /// room, each offer once.
    pub(super) fn choose_for_viewer(
        &self,
        candidates: &mut [Candidate],
        room: usize,
        slot: u32,
        viewer: u32,
        chosen: &mut Vec<usize>,
        shown: &mut [bool],
    ) {
        for c in candidates.iter_mut() {
            c.tiebreak = key(
                self.seed,
                tag::FEED,
                slot.into(),
                (u64::from(viewer) << 32) | u64::from(c.post),
            );
        }
        chosen.clear();
        self.feed.choose(candidates, room, chosen);
        let mut n = 0;
        for &i in chosen.iter() {
            if n < room && i < shown.len() && !shown[i] {
                shown[i] = true;
                n += 1;
            }
        }
    }
}
