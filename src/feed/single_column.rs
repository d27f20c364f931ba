//! Douyin's single-column feed: one ranked autoplay column.

use serde::{Deserialize, Serialize};

use super::{AuthorDiversity, Candidate, Feed, TierValues, Viewer, greedy};
use crate::error::{Error, Result, check};
use crate::tally::Tier;

/// A ranked single column (DOMAIN.md \[003\]: Douyin's "single-column
/// autoplay waterfall, fully algorithmic"). A candidate's score is its
/// predicted engagement (the response model's watch-through probability)
/// times its tier's `tier_weights`, discounted for repeated authors as in
/// X's home mixer ([`AuthorDiversity`]). First each tier's `quotas` share of
/// the room is filled with that tier's best candidates (rounded to the
/// nearest impression, as far as the tier has candidates), then the rest of
/// the room with the best remaining ones.
///
/// Defaults (ours): every tier weight 1 and no quotas, so the column ranks
/// by predicted engagement alone ("fully algorithmic"); X's diversity
/// discount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SingleColumn {
    /// Multiplies the predicted engagement per tier (in `[0, 1e12]`).
    pub tier_weights: TierValues,
    /// Share of the room reserved per tier, each in `[0, 1]`, summing to at
    /// most 1 (a quota cannot reserve more than the session).
    pub quotas: TierValues,
    /// The repeated-author discount.
    pub author_diversity: AuthorDiversity,
}

impl Default for SingleColumn {
    fn default() -> Self {
        SingleColumn {
            tier_weights: TierValues::all(1.0),
            quotas: TierValues::all(0.0),
            author_diversity: AuthorDiversity::default(),
        }
    }
}

impl Feed for SingleColumn {
    fn name(&self) -> &str {
        "single column"
    }

    fn validate(&self) -> Result<()> {
        for (tier, w) in self.tier_weights.each() {
            check::within(&format!("viewer_feed.tier_weights.{tier}"), w, 0.0, 1e12)?;
        }
        let mut sum = 0.0;
        for (tier, q) in self.quotas.each() {
            check::probability(&format!("viewer_feed.quotas.{tier}"), q)?;
            sum += q;
        }
        if sum > 1.0 + 1e-9 {
            return Err(Error::invalid(
                "viewer_feed.quotas",
                sum,
                "the quotas sum past the session (must sum to at most 1)",
            ));
        }
        self.author_diversity.validate("viewer_feed.author_diversity")
    }

    fn choose(&self, _: &Viewer, candidates: &[Candidate], room: usize, chosen: &mut Vec<usize>) {
        // The weights by tier index, read once per viewer rather than
        // matched per candidate scored.
        let w = self.tier_weights.by_index();
        let score = |c: &Candidate| c.predicted * w[c.tier as usize] * f64::from(c.bonus);
        let d = &self.author_diversity;
        let start = chosen.len();
        for tier in Tier::ALL {
            let q = self.quotas.get(tier);
            if q > 0.0 {
                let reserve = ((q * room as f64).round() as usize).min(start + room - chosen.len());
                let until = chosen.len() + reserve;
                greedy(candidates, until, score, d, |i, _| candidates[i].tier == tier, chosen);
            }
        }
        greedy(candidates, start + room, score, d, |_, _| true, chosen);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{candidate, viewer};
    use super::*;

    #[test]
    fn ranks_by_weighted_prediction_and_honours_quotas() {
        let c = [
            candidate(0, 1, Tier::Public, 0.9),
            candidate(1, 2, Tier::Public, 0.8),
            candidate(2, 3, Tier::OtherFan, 0.3),
            candidate(3, 4, Tier::Public, 0.7),
        ];
        let mut feed = SingleColumn::default();
        let mut chosen = Vec::new();
        feed.choose(&viewer(), &c, 2, &mut chosen);
        assert_eq!(chosen, vec![0, 1]);
        // Half the room reserved for other fans: the fan post gets a place.
        feed.quotas.other_fan = 0.5;
        chosen.clear();
        feed.choose(&viewer(), &c, 2, &mut chosen);
        assert_eq!(chosen, vec![2, 0]);
        // A weight of 3 on fans ranks the fan post first without a quota.
        feed.quotas.other_fan = 0.0;
        feed.tier_weights.other_fan = 3.0;
        chosen.clear();
        feed.choose(&viewer(), &c, 2, &mut chosen);
        assert_eq!(chosen, vec![0, 2]);
    }

    #[test]
    fn quotas_past_the_session_and_bad_weights_are_refused() {
        let mut feed = SingleColumn::default();
        feed.quotas.public = 0.7;
        feed.quotas.iron_fan = 0.4;
        assert_eq!(feed.validate().unwrap_err().field(), Some("viewer_feed.quotas"));
        let mut feed = SingleColumn::default();
        feed.tier_weights.public = f64::NAN;
        assert_eq!(
            feed.validate().unwrap_err().field(),
            Some("viewer_feed.tier_weights.public")
        );
        feed.tier_weights.public = -1.0;
        assert!(feed.validate().is_err());
    }
}
