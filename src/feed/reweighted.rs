//! A feed whose candidates' ranking weights ([`Candidate::bonus`]) are
//! multiplied by a factor of each candidate: how a platform favours some
//! traffic (a promoted category, friends' posts) without touching the feed.

use std::cell::RefCell;
use std::sync::Arc;

use super::{Candidate, Feed, Viewer};
use crate::error::Result;

/// `inner` ranking each candidate with its `bonus` multiplied by
/// `factor(candidate)`; the candidates are otherwise unchanged, so a feed
/// that draws from the prediction (the double column's clicks) draws as
/// before. Built by [`CategoryBonus::around`](crate::category_bonus::CategoryBonus::around)
/// and [`FriendsWeight::around`](super::FriendsWeight::around).
pub(crate) struct Reweighted<W> {
    pub(crate) factor: W,
    pub(crate) inner: Arc<dyn Feed>,
}

thread_local! {
    /// The reweighted copy of a viewer's candidates, reused.
    static WEIGHTED: RefCell<Vec<Candidate>> = const { RefCell::new(Vec::new()) };
}

impl<W: Fn(&Candidate) -> f32 + Send + Sync> Feed for Reweighted<W> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn validate(&self) -> Result<()> {
        self.inner.validate()
    }

    fn shows_everything(&self) -> bool {
        self.inner.shows_everything()
    }

    fn runs_for_every_viewer(&self) -> bool {
        self.inner.runs_for_every_viewer()
    }

    fn runs_for(&self, room: usize, has_source: &dyn Fn(&str) -> bool) -> bool {
        self.inner.runs_for(room, has_source)
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
        // Taken, not borrowed, so that a wrapper around a wrapper finds an
        // empty buffer rather than a borrowed one.
        let mut weighted = WEIGHTED.take();
        weighted.clear();
        weighted.extend(candidates.iter().map(|c| Candidate {
            bonus: c.bonus * (self.factor)(c),
            ..*c
        }));
        self.inner.choose_covers(viewer, &weighted, room, chosen, covers);
        WEIGHTED.set(weighted);
    }
}
