//! X's home mixer: in-network and out-of-network candidates, mixed.

use serde::{Deserialize, Serialize};

use super::{AuthorDiversity, Candidate, Feed, Viewer, greedy};
use crate::error::{Result, check};

/// A feed after X's open-sourced home mixer (DOMAIN.md, "Real systems"): a
/// viewer's candidates are split into in-network (from accounts the viewer
/// follows: every fan tier) and out-of-network (the public); at most
/// `max_per_side` of each are scored (the best by predicted engagement);
/// out-of-network scores are multiplied by `out_of_network_scale`; the
/// list is filled about `in_network_share` in-network and the rest
/// out-of-network (when one side runs short the other fills in), best
/// score first with X's author-diversity discount.
///
/// Defaults are X's: half in-network, 60 per side (in-network, out-of-network), scale 1.0, discount
/// `0.75·0.5^k + 0.25`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct XMixer {
    /// Target share of the list from followed accounts, in `[0, 1]`.
    pub in_network_share: f64,
    /// Most candidates scored per side, in-network and out-of-network (at least 1).
    pub max_per_side: u32,
    /// Multiplies out-of-network scores (in `[0, 1e12]`).
    pub out_of_network_scale: f64,
    /// The repeated-author discount.
    pub author_diversity: AuthorDiversity,
}

impl Default for XMixer {
    fn default() -> Self {
        XMixer {
            in_network_share: 0.5,
            max_per_side: 60,
            out_of_network_scale: 1.0,
            author_diversity: AuthorDiversity::default(),
        }
    }
}

impl XMixer {
    fn score(&self, c: &Candidate) -> f64 {
        let score = if c.tier.follows_creator() {
            c.predicted
        } else {
            c.predicted * self.out_of_network_scale
        };
        score * f64::from(c.bonus)
    }
}

impl Feed for XMixer {
    fn name(&self) -> &str {
        "x mixer"
    }

    fn validate(&self) -> Result<()> {
        check::probability("viewer_feed.in_network_share", self.in_network_share)?;
        check::at_least_one("viewer_feed.max_per_side", self.max_per_side.into())?;
        check::within("viewer_feed.out_of_network_scale", self.out_of_network_scale, 0.0, 1e12)?;
        self.author_diversity.validate("viewer_feed.author_diversity")
    }

    fn choose(&self, _: &Viewer, candidates: &[Candidate], room: usize, chosen: &mut Vec<usize>) {
        // Keep the best `max_per_side` of each side.
        let mut kept = vec![false; candidates.len()];
        let mut counts = [0usize; 2];
        for side in [true, false] {
            let mut idx: Vec<usize> = (0..candidates.len())
                .filter(|&i| candidates[i].tier.follows_creator() == side)
                .collect();
            idx.sort_by(|&a, &b| {
                let (ca, cb) = (&candidates[a], &candidates[b]);
                self.score(cb)
                    .total_cmp(&self.score(ca))
                    .then(ca.tiebreak.cmp(&cb.tiebreak))
            });
            idx.truncate(self.max_per_side as usize);
            counts[usize::from(side)] = idx.len();
            for i in idx {
                kept[i] = true;
            }
        }
        let (have_out, have_in) = (counts[0], counts[1]);
        let mut want_in = ((self.in_network_share * room as f64).round() as usize).min(have_in);
        let want_out = (room - want_in).min(have_out);
        want_in = (room - want_out).min(have_in);
        let start = chosen.len();
        greedy(
            candidates,
            start + room,
            |c| self.score(c),
            &self.author_diversity,
            |i, picked| {
                let side = candidates[i].tier.follows_creator();
                let n = picked[start..]
                    .iter()
                    .filter(|&&j| candidates[j].tier.follows_creator() == side)
                    .count();
                kept[i] && n < if side { want_in } else { want_out }
            },
            chosen,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{candidate, viewer};
    use super::*;
    use crate::tally::Tier;

    #[test]
    fn mixes_half_in_network_even_when_out_of_network_scores_higher() {
        let c = [
            candidate(0, 1, Tier::Public, 0.9),
            candidate(1, 2, Tier::Public, 0.8),
            candidate(2, 3, Tier::Public, 0.7),
            candidate(3, 4, Tier::OtherFan, 0.2),
            candidate(4, 5, Tier::IronFan, 0.3),
        ];
        let feed = XMixer::default();
        let mut chosen = Vec::new();
        feed.choose(&viewer(), &c, 4, &mut chosen);
        chosen.sort_unstable();
        assert_eq!(chosen, vec![0, 1, 3, 4]);
        // With no in-network candidates, out-of-network fills the room.
        let mut chosen = Vec::new();
        feed.choose(&viewer(), &c[..3], 2, &mut chosen);
        assert_eq!(chosen, vec![0, 1]);
    }

    #[test]
    fn caps_each_source() {
        let c: Vec<Candidate> = (0..10).map(|i| candidate(i, i, Tier::Public, 0.5)).collect();
        let feed = XMixer {
            max_per_side: 3,
            ..XMixer::default()
        };
        let mut chosen = Vec::new();
        feed.choose(&viewer(), &c, 8, &mut chosen);
        assert_eq!(chosen.len(), 3);
    }
}
