//! Phase 3: each viewer's feed chooses, among the round's offers, what is
//! watched within the session.

use std::sync::atomic::Ordering;

use rayon::prelude::*;

use super::Simulation;
use super::state::{LivePost, RunState, slot_allowance};
use crate::feed::Candidate;
use crate::response::ResponseModel;
use crate::rng::{key, tag};

impl Simulation<'_> {
    /// Marks which offers are shown. With a feed that shows everything, all
    /// are. Otherwise offers are counted per viewer (atomic adds, which
    /// commute); only the offers of viewers offered more than their room are
    /// grouped by viewer (a sort on unique (viewer, post, offer) keys) and
    /// ranked by the feed, in parallel over viewers. An offer the feed does
    /// not choose is not shown and is lost.
    pub(super) fn choose(&self, live: &mut [LivePost], st: &mut RunState, model: &dyn ResponseModel, slot: u32) {
        st.attention.offered += live.iter().map(|lp| lp.offers.len() as u64).sum::<u64>();
        if self.feed.shows_everything() {
            return;
        }
        let spd = self.slots_per_day;
        let users = self.world.users();
        let room = |u: u32| slot_allowance(users.attention[u as usize], slot % spd, spd);
        let counts = &st.offers_per_user;
        let view: &[LivePost] = live;
        view.par_iter().for_each(|lp| {
            for o in &lp.offers {
                counts[o.user as usize].fetch_add(1, Ordering::Relaxed);
            }
        });
        let over = |u: u32| counts[u as usize].load(Ordering::Relaxed) > room(u);
        let mut contested: Vec<(u32, u32, u32, bool)> = view
            .par_iter()
            .enumerate()
            .flat_map_iter(|(li, lp)| {
                lp.offers
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| over(o.user))
                    .map(move |(oi, o)| (o.user, li as u32, oi as u32, false))
            })
            .collect();
        contested.par_sort_unstable();
        let feed = &*self.feed;
        let state: &RunState = st;
        contested.par_chunk_by_mut(|a, b| a.0 == b.0).for_each_init(
            || (Vec::new(), Vec::new()),
            |(candidates, chosen): &mut (Vec<Candidate>, Vec<usize>), group| {
                let u = group[0].0;
                candidates.clear();
                chosen.clear();
                for &(_, li, oi, _) in group.iter() {
                    let lp = &view[li as usize];
                    let o = &lp.offers[oi as usize];
                    let post = &self.posts[lp.post as usize];
                    let ctx = self.impression_context(post, o, state);
                    candidates.push(Candidate {
                        post: post.id,
                        creator: post.creator,
                        tier: o.tier,
                        predicted: model.watch_probability(&ctx),
                        tiebreak: key(
                            self.seed,
                            tag::FEED,
                            slot.into(),
                            (u64::from(u) << 32) | u64::from(post.id),
                        ),
                    });
                }
                let room = room(u) as usize;
                feed.choose(candidates, room, chosen);
                // Whatever a feed returns, a viewer watches at most the room,
                // each offer once.
                let mut shown = 0;
                for &i in chosen.iter() {
                    if shown < room && i < group.len() && !group[i].3 {
                        group[i].3 = true;
                        shown += 1;
                    }
                }
            },
        );
        for &(_, li, oi, shown) in &contested {
            live[li as usize].offers[oi as usize].shown = shown;
        }
        let counts = &st.offers_per_user;
        live.par_iter().for_each(|lp| {
            for o in &lp.offers {
                counts[o.user as usize].store(0, Ordering::Relaxed);
            }
        });
    }
}
