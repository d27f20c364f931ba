//! `[users]`: the population.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::world::MAX_INTERESTS;

/// The user population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserParams {
    /// Number of users.
    pub count: u32,
    /// Categories each user is interested in (1 to 3), chosen uniformly.
    #[serde(default = "default_interests")]
    pub interests_per_user: u32,
    /// Interest weight of the first category; the others share the rest
    /// equally.
    #[serde(default = "default_primary_interest")]
    pub primary_interest: f64,
    /// Mean probability that a user opens the app on a given day (KuaiRand:
    /// 62% of users return the next day).
    #[serde(default = "default_activity")]
    pub daily_activity: f64,
    /// Concentration `κ` of the Beta distribution of users' daily activity
    /// (`α = mean·κ`, `β = (1 − mean)·κ`); larger is more uniform.
    #[serde(default = "default_activity_concentration")]
    pub activity_concentration: f64,
    /// Standard deviation of users' purchase propensity on the logit scale.
    #[serde(default = "default_propensity_sd")]
    pub purchase_propensity_sd: f64,
    /// Regions and their weights: user `u` lives in region `r` with
    /// probability `regions[r] / Σ regions` (at most 255). Empty, the
    /// default: no regions. Account matrices need them ([`crate::matrix`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<f64>,
}

fn default_interests() -> u32 {
    3
}
fn default_primary_interest() -> f64 {
    0.6
}
fn default_activity() -> f64 {
    0.62
}
fn default_activity_concentration() -> f64 {
    4.0
}
fn default_propensity_sd() -> f64 {
    1.0
}

impl UserParams {
    /// Checks `[users]`; `categories` is `feed.categories`.
    pub fn validate(&self, categories: u32) -> Result<()> {
        let u = self;
        if u.count == 0 {
            return Err(Error::invalid("users.count", 0, "the population is empty"));
        }
        if u.count == u32::MAX {
            return Err(Error::invalid("users.count", u.count, "must be below 2^32 - 1"));
        }
        if !(1..=MAX_INTERESTS as u32).contains(&u.interests_per_user) || u.interests_per_user > categories {
            return Err(Error::invalid(
                "users.interests_per_user",
                u.interests_per_user,
                "must be between 1 and 3 and at most feed.categories",
            ));
        }
        check::probability("users.primary_interest", u.primary_interest)?;
        check::probability("users.daily_activity", u.daily_activity)?;
        check::positive("users.activity_concentration", u.activity_concentration)?;
        check::non_negative("users.purchase_propensity_sd", u.purchase_propensity_sd)?;
        crate::matrix::validate_regions(&u.regions)?;
        Ok(())
    }
}
