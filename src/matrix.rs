//! Account matrices: one brand, many store-level accounts, each in a
//! region (DOMAIN.md, "Account matrix: many store-level (location-based)
//! accounts under one brand", \[003\]; the used-car case runs "4 matrix
//! accounts", \[002\]).
//!
//! **Regions.** With `users.regions = [w₀, w₁, …]` in a scenario, every user
//! gets a region `r` with probability `w_r / Σw` (a keyed draw per chunk of
//! users, apart from every other user draw, so a scenario without regions
//! is unchanged). One byte per user, held only when the scenario has
//! regions. The weights are the scenario's; `scenarios/brand_matrix.toml`
//! uses the seven geographic regions of mainland China weighted by their
//! 2020 census populations (a user share equal to the population share is
//! our assumption).
//!
//! **A matrix is a cohort** with `matrix = { … }`: its creators are one
//! brand's store accounts, and the cohort's report is the brand's (the
//! creators' reports are the accounts'). The cohort's accounts are spread
//! over the regions in proportion to their weights: account `j` of `n` is
//! in the region that holds the quantile `(j + ½)/n` of the region
//! distribution (see [`account_region`]).
//!
//! **An account's audience leans to its region** (all our assumptions: no
//! document gives a figure):
//! - *Followers.* A share `local_fans` of an account's generated followers
//!   are users of its region (any interest); the rest are drawn as any
//!   creator's (by the cohort's `verticality`) among users of other
//!   regions. Iron fans are still taken from the interested fans first.
//! - *Public pools.* Each public draw for an account's post takes a user
//!   of its region with probability `λ + (1 − λ)·s` (`λ = local_public`,
//!   `s` the region's share of today's active users), otherwise a user of
//!   another region by the interest-targeted walk (its chance of an
//!   interested user is `τ + (1 − τ)·l/n` over all of today's active users,
//!   which is the share outside the region in expectation, since interests
//!   and regions are drawn independently). The three walks are disjoint,
//!   so a post never meets a user twice in a day.
//! - *Store visits.* A lead for an offline product (DOMAIN.md's offline
//!   quadrants: "drive visits to the store") visits the store at the
//!   product's `store_visit_rate`, times `remote_visit_factor` when the
//!   viewer lives in another region.
//!
//! **The product is shared.** Every account sells the cohort's product,
//! and a viewer's purchase history with the brand is one: an order from any
//! account starts the purchase interval, the coupon and the membership for
//! all of them, and makes the viewer a buyer (and a listed past buyer) of
//! the account that sold it first.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};

/// Marks a creator outside any matrix, or a user in a world without
/// regions.
pub const NO_REGION: u8 = u8::MAX;

/// The most regions a scenario can have (a region is a byte;
/// [`NO_REGION`] is reserved).
pub const MAX_REGIONS: usize = 255;

/// A cohort's account matrix (`matrix = { … }` in a cohort). Every field
/// is our assumption; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatrixParams {
    /// Share of an account's generated followers who live in its region
    /// (default 0.6).
    pub local_fans: f64,
    /// `λ`: how far an account's public pools lean to its region (0: not at
    /// all, the region gets its share of the population; 1: only its
    /// region while it has users left). Default 0.3.
    pub local_public: f64,
    /// An offline product's store-visit rate for a lead from another region,
    /// as a multiple of the product's `store_visit_rate` (default 0.1).
    pub remote_visit_factor: f64,
}

impl Default for MatrixParams {
    fn default() -> Self {
        MatrixParams {
            local_fans: 0.6,
            local_public: 0.3,
            remote_visit_factor: 0.1,
        }
    }
}

impl MatrixParams {
    /// Checks every field under `field` (`cohorts[i].matrix`), and that the
    /// scenario has regions.
    pub fn validate(&self, field: &str, regions: usize) -> Result<()> {
        if regions == 0 {
            return Err(Error::invalid(
                field,
                "matrix",
                "an account matrix needs regions: set users.regions",
            ));
        }
        check::probability(&format!("{field}.local_fans"), self.local_fans)?;
        check::probability(&format!("{field}.local_public"), self.local_public)?;
        check::probability(&format!("{field}.remote_visit_factor"), self.remote_visit_factor)
    }
}

/// Checks `users.regions`: at most [`MAX_REGIONS`] weights, each finite and
/// `>= 0`, not all zero (an empty list: no regions).
pub(crate) fn validate_regions(weights: &[f64]) -> Result<()> {
    if weights.len() > MAX_REGIONS {
        return Err(Error::invalid(
            "users.regions",
            weights.len(),
            format!("at most {MAX_REGIONS} regions"),
        ));
    }
    for (i, &w) in weights.iter().enumerate() {
        check::non_negative(&format!("users.regions[{i}]"), w)?;
    }
    if !weights.is_empty() && weights.iter().sum::<f64>() <= 0.0 {
        return Err(Error::invalid(
            "users.regions",
            "all 0",
            "some region must have a weight above 0",
        ));
    }
    Ok(())
}

/// The region holding the quantile `q` in `[0, 1)` of the distribution the
/// weights give: the first region whose cumulative weight exceeds `q·Σw`
/// (skipping regions of weight 0).
pub(crate) fn region_at(q: f64, weights: &[f64]) -> u8 {
    let total: f64 = weights.iter().sum();
    let target = q * total;
    let mut cumulative = 0.0;
    let mut last = 0;
    for (r, &w) in weights.iter().enumerate() {
        if w <= 0.0 {
            continue;
        }
        cumulative += w;
        last = r;
        if target < cumulative {
            return r as u8;
        }
    }
    last as u8
}

/// The region of account `j` of a matrix of `n` accounts: the one holding
/// the quantile `(j + ½)/n` of the region distribution, so the accounts
/// spread over the regions in proportion to their weights (a region with
/// a fifth of the users gets about a fifth of the accounts).
///
/// ```
/// use feedsim::matrix::account_region;
/// let weights = [1.0, 3.0];
/// let regions: Vec<u8> = (0..4).map(|j| account_region(j, 4, &weights)).collect();
/// assert_eq!(regions, [0, 1, 1, 1]);
/// ```
pub fn account_region(j: u32, n: u32, weights: &[f64]) -> u8 {
    region_at((f64::from(j) + 0.5) / f64::from(n.max(1)), weights)
}

/// How local a matrix's audience is, in its cohort's report (the brand's).
/// A share is over the accounts together: the users counted who live in
/// the region of the account they are counted for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MatrixReport {
    /// Store accounts.
    pub accounts: u32,
    /// Distinct regions the accounts are in.
    pub regions: u32,
    /// What the local shares would be with no lean at all: the mean over
    /// the accounts of their region's share of the users.
    pub population_share: f64,
    /// Share of the accounts' followers in the generated world who live in
    /// their account's region (before any warm-up).
    pub local_followers_share_generated: f64,
    /// The same at the end of the run.
    pub local_followers_share_end: f64,
    /// Share of the accounts' buyers (each listed at the account that sold
    /// them first) who live in its region; 0 without buyers.
    pub local_buyers_share: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_fall_in_the_region_that_holds_them() {
        let w = [0.2, 0.0, 0.5, 0.3];
        assert_eq!(region_at(0.0, &w), 0);
        assert_eq!(region_at(0.19, &w), 0);
        assert_eq!(region_at(0.21, &w), 2, "region 1 has no weight");
        assert_eq!(region_at(0.69, &w), 2);
        assert_eq!(region_at(0.71, &w), 3);
        assert_eq!(region_at(0.999_999, &w), 3);
        // Ten accounts: two, five and three.
        let counts = (0..10).fold([0; 4], |mut a, j| {
            a[account_region(j, 10, &w) as usize] += 1;
            a
        });
        assert_eq!(counts, [2, 0, 5, 3]);
    }

    #[test]
    fn bad_regions_and_matrices_are_refused_with_the_field() {
        assert!(validate_regions(&[]).is_ok());
        let e = validate_regions(&[1.0, -1.0]).unwrap_err().to_string();
        assert!(e.contains("users.regions[1]"), "{e}");
        let e = validate_regions(&[0.0, 0.0]).unwrap_err().to_string();
        assert!(e.contains("users.regions"), "{e}");
        assert!(validate_regions(&vec![1.0; 256]).is_err());
        let m = MatrixParams::default();
        let e = m.validate("cohorts[2].matrix", 0).unwrap_err().to_string();
        assert!(e.contains("cohorts[2].matrix") && e.contains("users.regions"), "{e}");
        let bad = MatrixParams { local_public: 1.5, ..m };
        let e = bad.validate("cohorts[2].matrix", 3).unwrap_err().to_string();
        assert!(e.contains("cohorts[2].matrix.local_public"), "{e}");
    }
}
