//! Shards: the part of a sweep one process of a job array runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Shard `index` of `count`: the points `k` with `k mod count == index`.
/// Written and parsed as `index/count`.
///
/// ```
/// use feedsim::experiment::Shard;
/// let s: Shard = "2/8".parse()?;
/// assert_eq!((s.index, s.count), (2, 8));
/// assert!(s.owns(10) && !s.owns(11));
/// assert!("8/8".parse::<Shard>().is_err());
/// # Ok::<(), feedsim::Error>(())
/// ```
///
/// Read from JSON (a shard report's `shard`), it is checked as
/// [`Shard::new`] checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ShardFields")]
pub struct Shard {
    /// This shard, from 0.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// The whole sweep as one shard.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`; errors unless `index < count`.
    pub fn new(index: u32, count: u32) -> Result<Shard> {
        if count == 0 || index >= count {
            return Err(Error::invalid(
                "shard",
                format!("{index}/{count}"),
                "must be i/n with 0 <= i < n",
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether point `k` belongs to this shard.
    pub fn owns(&self, k: u64) -> bool {
        k % u64::from(self.count) == u64::from(self.index)
    }
}

/// A shard as written, before [`Shard::new`] checks it.
#[derive(Deserialize)]
struct ShardFields {
    index: u32,
    count: u32,
}

impl TryFrom<ShardFields> for Shard {
    type Error = Error;
    fn try_from(f: ShardFields) -> Result<Shard> {
        Shard::new(f.index, f.count)
    }
}

impl FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Shard> {
        let parse = |t: &str| t.trim().parse::<u32>().ok();
        match s.split_once('/').map(|(i, n)| (parse(i), parse(n))) {
            Some((Some(i), Some(n))) => Shard::new(i, n),
            _ => Err(Error::invalid("shard", s, "must be i/n with 0 <= i < n")),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}
