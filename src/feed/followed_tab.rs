//! The followed tab: the new posts of the accounts a viewer follows, in a
//! share of the viewer's session, beside whichever feed the scenario uses.

use std::cell::RefCell;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Candidate, Feed, Viewer};
use crate::channel::{Channel, ChannelView};
use crate::error::{Result, check};

/// The source of the followed tab's offers in `by_source`.
pub const FOLLOWED_TAB: &str = "followed_tab";

/// A followed tab (Douyin and Kuaishou both have one; DOMAIN.md \[003\]
/// contrasts their main feeds, the tab sits beside either): a viewer opens
/// it for `share` of each round's session and sees there the new posts of
/// the accounts they follow. The scenario's `[followed_tab]` table turns it
/// on (it is off when the table is absent, so default results do not
/// change).
///
/// It is two pieces, registered together by the scenario
/// ([`Simulation::new`](crate::Simulation::new)) or by hand
/// ([`with_channel`](crate::Simulation::with_channel) and
/// [`around`](Self::around)):
/// - a **channel** (source [`FOLLOWED_TAB`]): in the slot a post is
///   published, it offers the post to every follower of its creator (the
///   engine keeps only followers active that day and not already offered
///   the post by its push stage, which comes first). It reads the follow
///   graph's creator → fans rows, so the tab needs no user → followings
///   index: it adds no bytes per edge or per user;
/// - a **feed wrapper** ([`TabbedFeed`]): of a round's room of `r` plays,
///   `⌊share·r + u⌋` (`u` the viewer's uniform draw for the round,
///   [`Viewer::slot_unit`], so the tab's room is `share·r` on average
///   however small `r` is) go to the tab's candidates, the rest of the room
///   to the wrapped feed, which chooses among the other candidates as it
///   would without the tab (for every viewer, even one with room for every
///   offer). The tab shows its posts newest first: a post
///   reaches the tab in the slot it is published, so a round's tab
///   candidates are equally new, and the tab takes them in the order of
///   their keyed tie-breaks (a random order, the same at any thread count).
///   Tab candidates beyond its room are lost, like any offer not shown;
///   room the tab leaves unused goes to the wrapped feed.
///
/// How the tab meets the push (our reading, from the engine's rule that a
/// user is offered a post once, whoever offers it): under iron-fan-first a
/// post's first stage takes its iron fans, and the tab then offers the post
/// to the other followers active that day, so the later fan waves find
/// fewer fans to offer (a wave with too few impressions to judge passes its
/// gate, as any). Under the ladder the tab is the fans' only way to the
/// post besides a chance public draw.
///
/// **Default share (our assumption).** 0.077, one part in 13: WeChat's head
/// expected the Following, Friends and Recommended tabs of Channels to be
/// clicked 1 : 2 : 10 (a hypothesis stated in 2021, not a measured split;
/// DOMAIN.md). No public figure gives Douyin's or Kuaishou's split (TikTok
/// reports 0.3% of views from Following).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FollowedTab {
    /// The share of each round's session the tab takes, in `[0, 1]`.
    pub share: f64,
}

impl Default for FollowedTab {
    fn default() -> Self {
        FollowedTab { share: 0.077 }
    }
}

impl FollowedTab {
    /// Checks the share; the error names `followed_tab.share`.
    pub fn validate(&self) -> Result<()> {
        check::probability("followed_tab.share", self.share)
    }

    /// `feed` with this tab beside it.
    pub fn around(&self, feed: Arc<dyn Feed>) -> Arc<dyn Feed> {
        Arc::new(TabbedFeed {
            share: self.share,
            name: format!("{} with a followed tab", feed.name()),
            inner: feed,
        })
    }
}

impl Channel for FollowedTab {
    fn source(&self) -> &'static str {
        FOLLOWED_TAB
    }

    fn offer(&self, v: &ChannelView, out: &mut Vec<u32>) {
        let a = &v.audience;
        if v.slot != a.post.slot {
            return;
        }
        let (iron, other) = a.graph.sections(a.post.creator);
        out.extend(iron.chain(other).map(|e| a.graph.edge_user(e)));
    }

    fn validate(&self) -> Result<()> {
        FollowedTab::validate(self)
    }
}

/// A feed with the followed tab beside it ([`FollowedTab::around`]).
pub struct TabbedFeed {
    share: f64,
    name: String,
    inner: Arc<dyn Feed>,
}

/// Per-thread scratch of [`TabbedFeed`]: the candidates handed to the
/// wrapped feed, their indices, the tab's order and the wrapped feed's
/// picks, reused from viewer to viewer.
#[derive(Default)]
struct Scratch {
    rest: Vec<Candidate>,
    index: Vec<usize>,
    tab: Vec<usize>,
    chosen: Vec<usize>,
    covers: Vec<usize>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Feed for TabbedFeed {
    fn name(&self) -> &str {
        &self.name
    }

    fn validate(&self) -> Result<()> {
        check::probability("followed_tab.share", self.share)?;
        self.inner.validate()
    }

    fn shows_everything(&self) -> bool {
        self.inner.shows_everything()
    }

    /// Always: a viewer with room for every offer still gives the tab only
    /// its share (with a share of 0 the tab shows nothing), so the split is
    /// made for every viewer. This ranks every viewer's offers, which costs
    /// time only while the tab is on.
    fn runs_for_every_viewer(&self) -> bool {
        true
    }

    /// For a viewer offered tab posts and some room (the tab takes its
    /// share), and for whomever the wrapped feed asks about: a viewer with
    /// no tab post gets the wrapped feed's choice, which shows every offer
    /// that fits (or asks about them itself).
    fn runs_for(&self, room: usize, has_source: &dyn Fn(&str) -> bool) -> bool {
        (room > 0 && has_source(FOLLOWED_TAB)) || self.inner.runs_for(room, has_source)
    }

    fn choose(&self, viewer: &Viewer, candidates: &[Candidate], room: usize, chosen: &mut Vec<usize>) {
        let mut covers = Vec::new();
        self.choose_covers(viewer, candidates, room, chosen, &mut covers);
    }

    fn choose_covers(
        &self,
        viewer: &Viewer,
        candidates: &[Candidate],
        room: usize,
        chosen: &mut Vec<usize>,
        covers: &mut Vec<usize>,
    ) {
        if !candidates.iter().any(|c| c.source == FOLLOWED_TAB) {
            return self.inner.choose_covers(viewer, candidates, room, chosen, covers);
        }
        // Taken, not borrowed: a tab wrapped around a tab finds the scratch
        // empty rather than borrowed.
        let mut s = SCRATCH.take();
        s.tab.clear();
        s.tab
            .extend((0..candidates.len()).filter(|&i| candidates[i].source == FOLLOWED_TAB));
        s.tab.sort_by_key(|&i| (candidates[i].tiebreak, i));
        let tab_room = ((self.share * room as f64 + viewer.slot_unit()).floor() as usize).min(room);
        let taken = tab_room.min(s.tab.len());
        chosen.extend_from_slice(&s.tab[..taken]);
        s.rest.clear();
        s.index.clear();
        for (i, c) in candidates.iter().enumerate() {
            if c.source != FOLLOWED_TAB {
                s.rest.push(*c);
                s.index.push(i);
            }
        }
        if !s.rest.is_empty() {
            s.chosen.clear();
            s.covers.clear();
            self.inner
                .choose_covers(viewer, &s.rest, room - taken, &mut s.chosen, &mut s.covers);
            chosen.extend(s.chosen.iter().map(|&j| s.index[j]));
            covers.extend(s.covers.iter().map(|&j| s.index[j]));
        }
        SCRATCH.set(s);
    }
}

#[cfg(test)]
mod tests {
    use super::super::SingleColumn;
    use super::super::tests::{candidate, viewer};
    use super::*;
    use crate::tally::Tier;

    fn tab(post: u32) -> Candidate {
        Candidate {
            source: FOLLOWED_TAB,
            ..candidate(post, post, Tier::OtherFan, 0.01)
        }
    }

    #[test]
    fn the_tab_takes_its_share_of_the_room_and_the_feed_the_rest() {
        let feed = FollowedTab { share: 0.5 }.around(Arc::new(SingleColumn::default()));
        // Four tab posts (predicted low) and four public ones (high).
        let mut c: Vec<Candidate> = (0..4).map(tab).collect();
        c.extend((4..8).map(|p| candidate(p, p, Tier::Public, 0.9)));
        let (mut tab_plays, mut rounds) = (0, 0);
        for user in 0..2_000 {
            let v = Viewer { user, ..viewer() };
            let mut chosen = Vec::new();
            feed.choose(&v, &c, 4, &mut chosen);
            assert_eq!(chosen.len(), 4);
            let in_tab = chosen.iter().filter(|&&i| c[i].source == FOLLOWED_TAB).count();
            // A room of 4 at share 0.5: exactly 2 to the tab.
            assert_eq!(in_tab, 2);
            tab_plays += in_tab;
            rounds += 1;
        }
        assert_eq!(tab_plays, 2 * rounds);
        // A room of 3: 1.5 on average, 1 or 2 each round.
        let mut total = 0;
        let n = 20_000;
        for user in 0..n {
            let v = Viewer { user, ..viewer() };
            let mut chosen = Vec::new();
            feed.choose(&v, &c, 3, &mut chosen);
            let in_tab = chosen.iter().filter(|&&i| c[i].source == FOLLOWED_TAB).count();
            assert!((1..=2).contains(&in_tab));
            total += in_tab;
        }
        let mean = total as f64 / f64::from(n);
        assert!((mean - 1.5).abs() < 5.0 * (0.25 / f64::from(n)).sqrt(), "{mean}");
    }

    #[test]
    fn unused_tab_room_goes_to_the_feed_and_no_tab_means_the_feed_alone() {
        let inner: Arc<dyn Feed> = Arc::new(SingleColumn::default());
        let feed = FollowedTab { share: 0.9 }.around(inner.clone());
        let mut c = vec![tab(0)];
        c.extend((1..6).map(|p| candidate(p, p, Tier::Public, 0.5 + f64::from(p) / 100.0)));
        let mut chosen = Vec::new();
        feed.choose(&viewer(), &c, 4, &mut chosen);
        assert_eq!(chosen, vec![0, 5, 4, 3]);
        // Without tab candidates, the wrapped feed's own choice.
        let public = &c[1..];
        let (mut a, mut b) = (Vec::new(), Vec::new());
        feed.choose(&viewer(), public, 2, &mut a);
        inner.choose(&viewer(), public, 2, &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn a_share_outside_zero_to_one_is_refused() {
        for bad in [-0.1, 1.5, f64::NAN] {
            let e = FollowedTab { share: bad }.validate().unwrap_err();
            assert_eq!(e.field(), Some("followed_tab.share"));
        }
    }
}
