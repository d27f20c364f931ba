//! Phases 1 and 6: a post enters, and after each shown stage its policy
//! decides the next step.

use rayon::prelude::*;

use super::report::{PostLedger, Seen};
use super::state::{LivePost, RunState};
use super::{Simulation, context};
use crate::error::{Error, Result};
use crate::metrics::PostReport;
use crate::policy::{CreatorState, MAX_STAGES, PushPolicy, Size, StageRecord, Step};
use crate::tally::{PushEnd, TierTallies, ratio};

impl LivePost<'_> {
    /// Adds `shown` to the post's counts for `source`.
    pub(crate) fn add_source(&mut self, source: &'static str, shown: &crate::tally::Tally) {
        match self.by_source.iter_mut().find(|(s, _)| *s == source) {
            Some((_, t)) => t.add(shown),
            None => self.by_source.push((source, *shown)),
        }
    }

    /// Records the stage just shown (every offer watched or lost) in the
    /// post's history.
    pub(crate) fn close_stage(&mut self) {
        self.closed = false;
        let Some(stage) = self.stage.take() else {
            return;
        };
        self.closed = true;
        let shown = self.round.total();
        self.so_far.add(&shown);
        self.so_far_by_tier.add(&self.round);
        self.add_source(stage.source(), &shown);
        self.entered_public |= stage.audience.is_public();
        self.history.push(StageRecord {
            stage,
            wanted: self.wanted,
            offered: self.stage_offers as u64,
            exhausted: self.exhausted,
            shown,
            by_tier: self.round,
        });
        self.offers.clear();
        self.round = TierTallies::default();
    }
}

impl Simulation<'_> {
    /// The first slot after live session `post`'s end: its push runs in
    /// the slots `post.slot..session_end_slot` (at least its own).
    pub(super) fn session_end_slot(&self, post: &crate::content::Post) -> u32 {
        let slot_s = 86_400.0 / f64::from(self.slots_per_day);
        post.slot + ((f64::from(post.duration_s) / slot_s).ceil() as u32).max(1)
    }

    /// The state, as policies see it after this round's effects, of every
    /// creator with a post still deciding (the only states a policy reads:
    /// [`PushContext::creator`](crate::policy::PushContext::creator));
    /// other creators' entries keep an older state. O(live posts), not
    /// O(creators): twice a round over every creator cost a pass over
    /// 72 bytes per creator, and at 10M users a fresh 29 MB vector, each
    /// time.
    pub(super) fn refresh_creators(&self, st: &mut RunState, finished: &[Seen], live: &[LivePost]) {
        let graph = &*st.graph;
        let cohorts = &self.world().creators().cohort;
        let (customers, group) = (&st.customers, &st.group_members);
        if st.creators.len() != cohorts.len() {
            st.creators = vec![CreatorState::default(); cohorts.len()];
        }
        for lp in live.iter().filter(|lp| lp.end.is_none()) {
            let id = self.posts[lp.post as usize].creator;
            let c = id as usize;
            let (followers, iron_fans) = (graph.followers(id), graph.iron_fans(id));
            st.creators[c] = CreatorState {
                id,
                cohort: cohorts[c],
                followers,
                iron_fans,
                group_members: group[c],
                ecommerce_members: customers.members[c].len() as u64,
                past_buyers: customers.buyers[c].len() as u64,
                iron_fan_ratio: ratio(iron_fans.into(), followers.into()),
                finished_posts: finished[c].posts,
                finished_impressions: finished[c].impressions,
                finished_watches: finished[c].watches,
            };
        }
    }

    /// Asks the policy for the next step of every live post that has not
    /// ended (in parallel: the policy only reads), for a stage that would
    /// run in slot `runs_in` (the round's own slot at entry, the next one
    /// at the gate). A live session whose end is at or before the start of
    /// `runs_in` ends instead ([`PushEnd::SessionEnded`]).
    pub(super) fn decide<'p>(
        &self,
        policy: &'p dyn PushPolicy,
        live: &mut [LivePost<'p>],
        st: &RunState,
        slot: u32,
        runs_in: u32,
    ) -> Result<()> {
        live.par_iter_mut().try_for_each(|lp| {
            if lp.end.is_some() {
                return Ok(());
            }
            let post = &self.posts[lp.post as usize];
            if post.is_live() && runs_in >= self.session_end_slot(post) {
                lp.end = Some(PushEnd::SessionEnded);
                return Ok(());
            }
            let ctx = context(post, lp, st, slot, self.slots_per_day);
            let step = match &self.pool_bonus {
                Some(weights) => crate::category_bonus::weigh(policy.next_stage(&ctx), weights, &ctx),
                None => policy.next_stage(&ctx),
            };
            match step {
                Step::End(end) => lp.end = Some(end),
                Step::Stage(stage) => {
                    if lp.history.len() >= MAX_STAGES {
                        return Err(Error::invalid(
                            "policy",
                            policy.name(),
                            format!("asked for more than {MAX_STAGES} stages for post {}", post.id),
                        ));
                    }
                    if matches!(stage.size, Size::Share(_)) {
                        stage.size.validate(&format!("policy stage \"{}\" size", stage.label))?;
                    }
                    lp.stage = Some(stage);
                }
            }
            Ok(())
        })
    }

    /// Adds the stages closed this round to the peers of relative gates, in
    /// post order (after the round's decisions, so that a decision sees
    /// only earlier rounds).
    pub(super) fn record_peers(&self, live: &[LivePost], st: &mut RunState) {
        for lp in live.iter().filter(|lp| lp.closed) {
            let Some(last) = lp.history.last() else { continue };
            let label = last.stage.label;
            let k = lp.history.iter().filter(|r| r.stage.label == label).count() - 1;
            st.peers.push(label, k, last.shown);
        }
    }

    /// Reports the posts whose push has ended, in post order, and drops them.
    pub(super) fn finish(
        &self,
        live: &mut Vec<LivePost>,
        finished: &mut PostLedger,
        extra_events: &[&'static str],
    ) -> Result<()> {
        for lp in live.iter() {
            let Some(end) = lp.end else { continue };
            let post = &self.posts[lp.post as usize];
            if finished.reports(post.slot) {
                finished.add(self.post_report(lp, end, extra_events))?;
            } else {
                // A warm-up's post: no report is built for it.
                finished.see(post.creator, &lp.so_far.sum(lp.channels_so_far));
            }
        }
        live.retain(|lp| lp.end.is_none());
        Ok(())
    }

    pub(super) fn post_report(&self, lp: &LivePost, end: PushEnd, extra_events: &[&'static str]) -> PostReport {
        let post = &self.posts[lp.post as usize];
        // Paid channels charge for the post's impressions through them, once
        // (the first channel of a source charges for it).
        let mut by_source: crate::tally::BySource = lp.by_source.iter().map(|(s, t)| (s.to_string(), *t)).collect();
        let mut tally = lp.so_far.sum(lp.channels_so_far);
        for (k, c) in self.channels.iter().enumerate() {
            let source = c.source();
            if self.channels[..k].iter().any(|e| e.source() == source) {
                continue;
            }
            if let Some(t) = by_source.get_mut(source) {
                let spend = c.spend_fen(t.impressions);
                t.spend_fen += spend;
                tally.spend_fen += spend;
            }
        }
        PostReport {
            id: post.id,
            creator: post.creator,
            cohort: self.world().creators().cohort(post.creator),
            slot: post.slot,
            category: post.category,
            quality: post.quality,
            price_yuan: post.price_yuan(),
            stages_entered: lp.history.len() as u8,
            end,
            stage_impressions: lp.history.iter().map(|r| r.shown.impressions).collect(),
            stage_offers: lp.history.iter().map(|r| r.offered).collect(),
            reached_public: lp.entered_public,
            tally,
            by_tier: {
                let mut t = lp.so_far_by_tier;
                t.add(&lp.channels_by_tier);
                t
            },
            by_source,
            events: extra_events
                .iter()
                .enumerate()
                .map(|(i, name)| (name.to_string(), lp.extra_events.get(i).copied().unwrap_or(0)))
                .collect(),
            live: post.is_live(),
        }
    }
}
