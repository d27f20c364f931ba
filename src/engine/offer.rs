//! Phase 2: every live post's stage offers it to users of its audience.

use rayon::prelude::*;

use super::Simulation;
use super::state::{LivePost, RunState, UserSet};
use crate::audience::AudienceView;
use crate::channel::{ChannelView, channel_key};
use crate::rng::{tag, unit};

impl<'w> Simulation<'w> {
    /// Which users open the app on `day`: bit `u` is set with probability
    /// `activity[u]`, from the draw keyed `(seed, day, u)`.
    pub(super) fn active_users(&self, day: u32) -> Vec<u64> {
        let users = self.world().users();
        let n = users.len();
        (0..n.div_ceil(64))
            .into_par_iter()
            .map(|w| {
                let mut word = 0u64;
                for b in 0..64 {
                    let u = w * 64 + b;
                    if u < n && unit(self.seed, tag::ACTIVITY, day.into(), u as u64) < f64::from(users.activity[u]) {
                        word |= 1 << b;
                    }
                }
                word
            })
            .collect()
    }

    /// Fills every live post's offers for its current stage, then its
    /// channels' offers (in parallel: each post reads the shared state and
    /// writes only its own offers).
    ///
    /// Posts are split one by one (`with_max_len(1)`): their costs differ
    /// by orders of magnitude (a fan wave over a KOL's row against a pool of
    /// 300), and under rayon's default split, a few contiguous runs per
    /// thread, two threads were busy only 84% of the phase's wall time
    /// (iron-fan first on `growth.toml`; split post by post, the phase is
    /// about 15% faster). A split costs well under a post's work.
    pub(super) fn offer(&self, live: &mut [LivePost], st: &RunState, slot: u32) {
        let channel_keys: Vec<u64> = self.channels.iter().map(|c| channel_key(c.source())).collect();
        live.par_iter_mut()
            .with_max_len(1)
            .for_each(|lp| self.offer_post(lp, st, slot, &channel_keys));
    }

    fn offer_post<'p>(&self, lp: &mut LivePost<'p>, st: &RunState, slot: u32, channel_keys: &[u64]) {
        lp.offers.clear();
        lp.channel_of.clear();
        lp.depth_of.clear();
        lp.stage_offers = 0;
        let Some(stage) = lp.stage else {
            return;
        };
        let post = &self.posts[lp.post as usize];
        let c = post.creator as usize;
        let graph = &*st.graph;
        let view = AudienceView {
            world: self.world(),
            graph,
            post,
            seed: self.seed,
            interest_targeting: self.interest_targeting,
            buyers: &st.customers.buyers[c],
            members: &st.customers.members[c],
            day_points: &st.day_points,
            today: &st.today,
        };
        let want = match stage.size {
            crate::policy::Size::Share(_) => stage.size.resolve(stage.audience.len(&view)),
            size => size.resolve(0),
        };
        let mut users = std::mem::take(&mut lp.offers);
        let mut offered = std::mem::take(&mut lp.offered);
        let name = stage.audience.name();
        // An audience that draws distinct users keeps its offers out of the
        // set while it is the post's audience. Within a day only: a new
        // day's walk may meet earlier days' users. A channel's offers must
        // be tested against every earlier offer, so they join the set when
        // a channel names users for the post (below): the followed tab does
        // so only in the post's first round.
        let distinct = stage.audience.draws_distinct();
        let day = slot / self.slots_per_day;
        if lp
            .excluded
            .is_some_and(|x| x != name || !distinct || lp.excluded_day != day)
        {
            include_excluded(lp, &mut offered);
        }
        if distinct && lp.excluded.is_none() {
            lp.excluded = Some(name);
            lp.excluded_day = day;
        }
        {
            let offered = &offered;
            let n = st.seen_today.len();
            let eligible = |u: u32| (u as usize) < n && st.is_active(u) && !offered.contains(u);
            let cursor = lp.cursor(name);
            stage
                .audience
                .select(&view, stage.order, want, &eligible, cursor, &mut users);
            // The rule is the engine's to keep, whatever an audience returns:
            // at most `want`, each eligible, none twice (an audience that
            // checks its picks itself is trusted, see
            // `Audience::checks_eligibility`).
            if !stage.audience.checks_eligibility() {
                users.retain(|&u| eligible(u));
            }
        }
        users.truncate(want.min(usize::MAX as u64) as usize);
        if lp.excluded == Some(name) {
            // Its own earlier offers it never repeats; others' are in the set.
            lp.excluded_offers.extend_from_slice(&users);
        } else {
            users.retain(|&u| offered.insert(u));
        }
        lp.exhausted = (users.len() as u64) < want;
        lp.stage_offers = users.len();
        lp.wanted = want;
        if !self.channels.is_empty() {
            let n = st.seen_today.len();
            let (mut extra, mut depths) = (Vec::new(), Vec::new());
            for (k, (channel, &key)) in self.channels.iter().zip(channel_keys).enumerate() {
                let cv = ChannelView::keyed(view, slot, day, key)
                    .with_likers(&lp.likers)
                    .with_sharers(&lp.sharers)
                    .with_progress(&lp.by_source, stage.audience.is_public());
                extra.clear();
                depths.clear();
                channel.offer_with_depth(&cv, &mut extra, &mut depths);
                if !extra.is_empty() && lp.excluded.is_some() {
                    include_excluded(lp, &mut offered);
                }
                for (i, &u) in extra.iter().enumerate() {
                    if (u as usize) < n && st.is_active(u) && offered.insert(u) {
                        users.push(u);
                        lp.channel_of.push(k as u8);
                        lp.depth_of.push(depths.get(i).copied().unwrap_or(0));
                    }
                }
            }
        }
        lp.offers = users;
        lp.offered = offered;
    }
}

/// Puts the offers kept out of the post's set by its distinct audience
/// into the set (see [`LivePost::excluded`]).
fn include_excluded(lp: &mut LivePost, offered: &mut UserSet) {
    for &u in &lp.excluded_offers {
        offered.insert(u);
    }
    lp.excluded_offers = Vec::new();
    lp.excluded = None;
}
