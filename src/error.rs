//! The crate's one error type.
//!
//! Every refusal of user input names the field (as a path into the scenario,
//! such as `cohorts[2].iron_fan_ratio`) and the value that was refused, so a
//! researcher can fix the file without reading the source.

use std::fmt;

/// Everything that can go wrong in feedsim. Nothing in the library panics on
/// user input; it returns one of these instead.
///
/// Its `Debug` form is its message, so that a `main` returning
/// `Result<(), Error>` (as the examples do) prints a sentence naming the
/// field and the value, not a debug structure.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value in a scenario (or a policy or model built through the API) is
    /// out of its allowed range.
    #[error("invalid {field} = {value}: {reason}")]
    Invalid {
        /// Path of the offending field, e.g. `cohorts[1].followers.max`.
        field: String,
        /// The refused value, as written.
        value: String,
        /// What the value must satisfy.
        reason: String,
    },
    /// A scenario file is not valid TOML, has an unknown key, or a value of
    /// the wrong type. The message from the TOML parser names the key, line
    /// and column.
    #[error("scenario file: {0}")]
    Toml(#[from] toml::de::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A run whose estimated peak memory exceeds the memory budget
    /// ([`crate::memory`]); refused before anything is allocated.
    #[error(
        "the run would need about {estimate} of memory, above the budget of {budget}; most of it: {breakdown}. \
         Lower these, or raise the budget (--max-memory, FEEDSIM_MAX_MEMORY or feedsim::memory::set_max_memory)"
    )]
    TooLarge {
        /// The fields that account for most of the estimate, largest first.
        fields: Vec<String>,
        /// The estimate, for people (e.g. `812.0 GB`).
        estimate: String,
        /// The budget, for people.
        budget: String,
        /// Each named field's count, bytes each and total.
        breakdown: String,
    },
    /// A report could not be serialized.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// Builds an [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, value: impl fmt::Display, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// The field an [`Error::Invalid`] names, or the largest one an
    /// [`Error::TooLarge`] names.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. } => Some(field),
            Error::TooLarge { fields, .. } => fields.first().map(String::as_str),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Small checks shared by every validator; each returns an error naming `field`.
pub(crate) mod check {
    use super::{Error, Result};

    /// A probability: finite and in `[0, 1]`.
    pub fn probability(field: &str, v: f64) -> Result<()> {
        if v.is_finite() && (0.0..=1.0).contains(&v) {
            Ok(())
        } else {
            Err(Error::invalid(field, v, "must be a probability in [0, 1]"))
        }
    }

    /// A finite number `>= 0`.
    pub fn non_negative(field: &str, v: f64) -> Result<()> {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(Error::invalid(field, v, "must be a finite number >= 0"))
        }
    }

    /// A finite number `> 0`.
    pub fn positive(field: &str, v: f64) -> Result<()> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(Error::invalid(field, v, "must be a finite number > 0"))
        }
    }

    /// A number in `[lo, hi]` (so finite).
    pub fn within(field: &str, v: f64, lo: f64, hi: f64) -> Result<()> {
        if v.is_finite() && (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err(Error::invalid(field, v, format!("must be a number in [{lo}, {hi}]")))
        }
    }

    /// An integer count `>= 1`.
    pub fn at_least_one(field: &str, v: u64) -> Result<()> {
        if v >= 1 {
            Ok(())
        } else {
            Err(Error::invalid(field, v, "must be at least 1"))
        }
    }
}
