//! Kuaishou's double-column feed: screens of covers the viewer clicks.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::{AuthorDiversity, Candidate, Feed, TierValues, Viewer, greedy};
use crate::error::{Error, Result, check};

/// A double-column feed of covers (DOMAIN.md \[003\]: Kuaishou's
/// "double-column" feed, "where the user clicks to choose a video").
///
/// Each round the viewer scrolls through screens of `covers_per_screen`
/// covers, at most `screens_per_slot` screens, and clicks the covers they
/// choose; only a clicked cover becomes a play (an impression, with the
/// response drawn as in any feed). The viewer stops scrolling when the
/// round's room is full of plays; a screen once shown counts whole (every
/// cover on it was seen), so its covers after the room filled are seen and
/// not clicked. Covers shown and not clicked are lost like any offer not
/// shown: counted in `offers_not_shown`, and apart in `covers`, beside
/// `cover_clicks` (see [`Tally`](crate::metrics::Tally)).
///
/// **Which covers.** The platform orders the covers as the single column
/// orders plays: the response model's watch-through probability times
/// `tier_weights`, with X's repeated-author discount ([`AuthorDiversity`])
/// counted over the covers already shown.
///
/// **Which are clicked.** Each cover is clicked with probability
/// `sigmoid(logit(click_through) + logit(predicted) − logit(neutral))`:
/// the base rate `click_through` (the click-through of a cover whose terms
/// are all zero), plus the watch model's own terms for this viewer and post
/// (quality, interest, trust, the relation, the fan group's notification
/// and the day's fatigue: the watch logit less its intercept, as
/// [`Viewer::neutral_watch`] gives it). Nothing is added for followers
/// beyond what the watch model already gives them, so what the extra click
/// does to a creator's fans is an output of the model, not an assumption.
/// Each click is drawn from the viewer's keyed stream for the post
/// ([`Viewer::stream`]): bit-identical at any thread count, and the same
/// draw under every policy that offers the post.
///
/// **Defaults (our assumptions; no credible public figure exists,
/// DOMAIN.md).** `click_through = 0.3`: with the default world's terms the
/// mean cover click-through comes out near KuaiRand's 46% "click" per
/// exposure, which mixes cover taps with single-column valid plays
/// (DOMAIN.md), a plausibility check rather than a fit. Four covers per
/// screen (two columns of two), ten screens per slot (with the default
/// sessions, 1.75 plays per slot at the median, the cap binds only for the
/// heaviest viewers). Every tier weight 1 and X's diversity discount, as in
/// [`SingleColumn`](super::SingleColumn).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DoubleColumn {
    /// Covers on one screen (at least 1, at most 1,000).
    pub covers_per_screen: u32,
    /// The most screens a viewer scrolls through in one slot (at least 1,
    /// at most 1,000,000).
    pub screens_per_slot: u32,
    /// The base click-through of a cover, in `(0, 1)`.
    pub click_through: f64,
    /// Multiplies the predicted engagement per tier when ordering covers
    /// (in `[0, 1e12]`).
    pub tier_weights: TierValues,
    /// The repeated-author discount when ordering covers.
    pub author_diversity: AuthorDiversity,
}

impl Default for DoubleColumn {
    fn default() -> Self {
        DoubleColumn {
            covers_per_screen: 4,
            screens_per_slot: 10,
            click_through: 0.3,
            tier_weights: TierValues::all(1.0),
            author_diversity: AuthorDiversity::default(),
        }
    }
}

/// Probabilities are kept this far from 0 and 1 before taking a logit, so
/// a prediction of exactly 0 or 1 gives a finite logit.
const EDGE: f64 = 1e-15;

fn logit(p: f64) -> f64 {
    let p = p.clamp(EDGE, 1.0 - EDGE);
    (p / (1.0 - p)).ln()
}

impl DoubleColumn {
    /// The probability that `viewer` clicks the cover of `c`.
    pub fn click_probability(&self, viewer: &Viewer, c: &Candidate) -> f64 {
        let x = logit(self.click_through) + logit(c.predicted) - logit(viewer.neutral_watch);
        1.0 / (1.0 + (-x).exp())
    }
}

impl Feed for DoubleColumn {
    fn name(&self) -> &str {
        "double column"
    }

    fn validate(&self) -> Result<()> {
        check::within(
            "viewer_feed.covers_per_screen",
            f64::from(self.covers_per_screen),
            1.0,
            1_000.0,
        )?;
        check::within(
            "viewer_feed.screens_per_slot",
            f64::from(self.screens_per_slot),
            1.0,
            1_000_000.0,
        )?;
        if !(self.click_through > 0.0 && self.click_through < 1.0) {
            return Err(Error::invalid(
                "viewer_feed.click_through",
                self.click_through,
                "must be strictly between 0 and 1",
            ));
        }
        for (tier, w) in self.tier_weights.each() {
            check::within(&format!("viewer_feed.tier_weights.{tier}"), w, 0.0, 1e12)?;
        }
        self.author_diversity.validate("viewer_feed.author_diversity")
    }

    fn runs_for_every_viewer(&self) -> bool {
        true
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
        let w = self.tier_weights.by_index();
        let score = |c: &Candidate| c.predicted * w[c.tier as usize] * f64::from(c.bonus);
        let per_screen = self.covers_per_screen as usize;
        let mut plays = 0;
        for _ in 0..self.screens_per_slot {
            if plays >= room {
                break;
            }
            let before = covers.len();
            // The next screen: the best covers not yet shown, the author
            // discount counting every cover shown before.
            greedy(
                candidates,
                before + per_screen,
                score,
                &self.author_diversity,
                |_, _| true,
                covers,
            );
            if covers.len() == before {
                break;
            }
            for &i in &covers[before..] {
                if plays >= room {
                    break;
                }
                let c = &candidates[i];
                if viewer.stream(c.post).random::<f64>() < self.click_probability(viewer, c) {
                    chosen.push(i);
                    plays += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{candidate, viewer};
    use super::*;
    use crate::tally::Tier;

    fn many(n: u32, predicted: f64) -> Vec<Candidate> {
        (0..n).map(|i| candidate(i, i, Tier::Public, predicted)).collect()
    }

    #[test]
    fn plays_are_clicked_covers_within_the_room_and_the_screens() {
        let feed = DoubleColumn::default();
        let c = many(200, 0.5);
        for room in [0, 1, 3, 50] {
            let (mut chosen, mut covers) = (Vec::new(), Vec::new());
            feed.choose_covers(&viewer(), &c, room, &mut chosen, &mut covers);
            assert!(chosen.len() <= room);
            assert!(chosen.iter().all(|i| covers.contains(i)), "a play without a cover");
            assert!(covers.len() <= 40, "{} covers past ten screens of four", covers.len());
            assert_eq!(covers.len() % 4, 0, "whole screens");
            let mut distinct = covers.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), covers.len(), "a cover shown twice");
            if room == 0 {
                assert!(covers.is_empty());
            }
        }
    }

    #[test]
    fn the_click_through_is_the_base_rate_at_the_neutral_prediction() {
        // A candidate predicted at the neutral watch probability: its terms
        // sum to zero, so the base rate is its click-through. Over 100,000
        // viewers, within five standard errors.
        let feed = DoubleColumn::default();
        let mut v = viewer();
        v.neutral_watch = 0.2;
        let c = [candidate(7, 1, Tier::Public, 0.2)];
        assert!((feed.click_probability(&v, &c[0]) - 0.3).abs() < 1e-12);
        let n = 100_000;
        let clicks = (0..n)
            .filter(|&u| {
                let v = Viewer { user: u, ..v };
                let (mut chosen, mut covers) = (Vec::new(), Vec::new());
                feed.choose_covers(&v, &c, 1, &mut chosen, &mut covers);
                !chosen.is_empty()
            })
            .count();
        let rate = clicks as f64 / f64::from(n);
        assert!((rate - 0.3).abs() < 5.0 * (0.21 / f64::from(n)).sqrt(), "{rate}");
        // Better predictions are clicked more.
        let better = candidate(7, 1, Tier::Public, 0.6);
        assert!(feed.click_probability(&v, &better) > 0.3);
    }

    #[test]
    fn covers_are_shown_best_first() {
        let feed = DoubleColumn {
            covers_per_screen: 2,
            screens_per_slot: 1,
            ..DoubleColumn::default()
        };
        let c = [
            candidate(0, 1, Tier::Public, 0.1),
            candidate(1, 2, Tier::Public, 0.9),
            candidate(2, 3, Tier::Public, 0.5),
        ];
        let (mut chosen, mut covers) = (Vec::new(), Vec::new());
        feed.choose_covers(&viewer(), &c, 5, &mut chosen, &mut covers);
        assert_eq!(covers, vec![1, 2]);
    }

    #[test]
    fn bad_parameters_are_refused_with_their_field() {
        let field = |f: DoubleColumn| f.validate().unwrap_err().field().map(str::to_owned);
        let d = DoubleColumn::default;
        assert_eq!(
            field(DoubleColumn {
                covers_per_screen: 0,
                ..d()
            })
            .as_deref(),
            Some("viewer_feed.covers_per_screen")
        );
        assert_eq!(
            field(DoubleColumn {
                screens_per_slot: 0,
                ..d()
            })
            .as_deref(),
            Some("viewer_feed.screens_per_slot")
        );
        for bad in [0.0, 1.0, f64::NAN, -0.5] {
            assert_eq!(
                field(DoubleColumn {
                    click_through: bad,
                    ..d()
                })
                .as_deref(),
                Some("viewer_feed.click_through")
            );
        }
        let mut w = d();
        w.tier_weights.iron_fan = f64::NAN;
        assert_eq!(field(w).as_deref(), Some("viewer_feed.tier_weights.iron_fan"));
        assert!(d().validate().is_ok());
    }
}
