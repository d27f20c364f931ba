//! Fans of similar creators: the "audience pack" of paid traffic.

use std::collections::HashSet;

use super::{Audience, AudienceView, Cursor, Order};
use crate::rng::{key, tag};

/// Fans of up to `creators` other creators of the post's category
/// (DOMAIN.md, paid traffic: DOU+ targets "fans of similar creators", up to
/// 20 named creators). Which creators: those of the same category with the
/// smallest keyed hash of (seed, this creator, that creator), so each
/// creator has a fixed set of "similar" accounts. Their rows are walked in
/// that creator order, fans in row order (iron fans first); the position is
/// kept in the post's [`Cursor`] and the stage's [`Order`] is ignored.
/// Cost: O(creators in the category) to choose the set, then O(1) per fan
/// walked.
#[derive(Debug, Clone, Copy)]
pub struct FansOfSimilarCreators {
    /// How many similar creators (DOU+ allows up to 20).
    pub creators: u32,
}

impl Default for FansOfSimilarCreators {
    fn default() -> Self {
        FansOfSimilarCreators { creators: 20 }
    }
}

impl FansOfSimilarCreators {
    /// The similar creators of the post's creator, in walking order.
    pub fn similar(&self, v: &AudienceView) -> Vec<u32> {
        let me = v.post.creator;
        let mut others: Vec<(u64, u32)> = v
            .world
            .creators_in(v.post.category)
            .iter()
            .filter(|&&c| c != me)
            .map(|&c| (key(v.seed, tag::SIMILAR, me.into(), c.into()), c))
            .collect();
        let k = (self.creators as usize).min(others.len());
        if k < others.len() {
            others.select_nth_unstable(k);
            others.truncate(k);
        }
        others.sort_unstable();
        others.into_iter().map(|(_, c)| c).collect()
    }
}

impl Audience for FansOfSimilarCreators {
    fn name(&self) -> &str {
        "fans of similar creators"
    }
    fn is_public(&self) -> bool {
        true
    }
    fn checks_eligibility(&self) -> bool {
        true
    }
    fn len(&self, v: &AudienceView) -> u64 {
        self.similar(v).iter().map(|&c| u64::from(v.graph.followers(c))).sum()
    }
    fn select(
        &self,
        v: &AudienceView,
        _: Order,
        want: u64,
        eligible: &dyn Fn(u32) -> bool,
        cursor: &mut Cursor,
        out: &mut Vec<u32>,
    ) {
        let creators = self.similar(v);
        let [mut ci, mut pos, _, _] = cursor.0;
        let mut seen = HashSet::new();
        let mut taken = 0u64;
        while taken < want && (ci as usize) < creators.len() {
            let row = v.graph.fan_edges(creators[ci as usize]);
            let e = row.start as u64 + pos;
            if e >= u64::from(row.end) {
                ci += 1;
                pos = 0;
                continue;
            }
            pos += 1;
            let u = v.graph.edge_user(e as u32);
            if eligible(u) && seen.insert(u) {
                out.push(u);
                taken += 1;
            }
        }
        cursor.0 = [ci, pos, 0, 0];
    }
}
