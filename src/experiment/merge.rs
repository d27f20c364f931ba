//! Sweep reports and their merge, which proves the result whole: every
//! point on the grid, once, from one results version, unedited.

use serde::{Deserialize, Serialize};

use super::{Axis, ExperimentReport, Shard};
use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// Everything that defines a sweep's results; shards of one sweep share it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepDefinition {
    /// The base scenario.
    pub scenario: Scenario,
    /// The axes; the grid is their Cartesian product, the last axis varying
    /// fastest.
    pub axes: Vec<Axis>,
    /// Policy names, baseline first.
    pub policies: Vec<String>,
    /// Replicates per point.
    pub replicates: u32,
    /// Confidence level.
    pub confidence: f64,
    /// Points in the whole grid.
    pub points: u64,
}

/// One grid point's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The point's index in the grid.
    pub index: u64,
    /// The value of each axis at this point.
    pub values: Vec<f64>,
    /// The experiment at this point.
    pub experiment: ExperimentReport,
}

/// What a [`Sweep`](super::Sweep) (or one shard of it) found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    /// The results version of the build that wrote it
    /// ([`RESULTS_VERSION`]); 0 in a file written before versions were
    /// kept.
    #[serde(default)]
    pub version: u32,
    /// A checksum of everything else in the report
    /// ([`SweepReport::content_checksum`]), so that a merge finds an edited
    /// or damaged shard. Empty in a file written before checksums were
    /// kept.
    #[serde(default)]
    pub checksum: String,
    /// The sweep.
    pub definition: SweepDefinition,
    /// The shard these points are, or `None` for the whole grid.
    pub shard: Option<Shard>,
    /// The points, by index.
    pub points: Vec<SweepPoint>,
}

/// The version of the results this build computes, bumped whenever the
/// golden reports are regenerated (a change that moves any figure of a
/// valid scenario): a sweep merge refuses shards of another version, whose
/// points would not be comparable.
pub const RESULTS_VERSION: u32 = 2;

/// The axis values at grid point `k` (row-major: the last axis varies
/// fastest); `k` must be below the product of the axes' lengths.
pub(super) fn grid_values(axes: &[Axis], k: u64) -> Vec<f64> {
    let mut rest = k;
    let mut values = vec![0.0; axes.len()];
    for (i, a) in axes.iter().enumerate().rev() {
        let n = a.values.len() as u64;
        values[i] = a.values[(rest % n) as usize];
        rest /= n;
    }
    values
}

impl SweepReport {
    /// A report of this build's [`RESULTS_VERSION`], sealed with its
    /// checksum.
    pub fn new(definition: SweepDefinition, shard: Option<Shard>, points: Vec<SweepPoint>) -> Result<SweepReport> {
        let mut r = SweepReport {
            version: RESULTS_VERSION,
            checksum: String::new(),
            definition,
            shard,
            points,
        };
        r.checksum = r.content_checksum()?;
        Ok(r)
    }

    /// The checksum of the report's content (its version, definition,
    /// shard and points, as JSON): 64-bit FNV-1a, in hex. It finds an edited
    /// or damaged file; it is not a signature.
    pub fn content_checksum(&self) -> Result<String> {
        let text = serde_json::to_string(&(self.version, &self.definition, &self.shard, &self.points))?;
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        Ok(format!("{hash:016x}"))
    }

    /// The report as pretty JSON (numbers written so that they read back
    /// exactly).
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Reads a report written by [`to_json`](Self::to_json).
    pub fn from_json(text: &str) -> Result<SweepReport> {
        Ok(serde_json::from_str(text)?)
    }

    /// Joins the reports of every shard of one sweep into the report of the
    /// whole sweep: equal (and so serialized byte for byte the same) to the
    /// report an unsharded run gives. The shards may come in any order.
    ///
    /// A complete report counts as shard `0/1`, so merging it alone gives
    /// it back.
    ///
    /// Errors ([`Error::Invalid`], field `sweep.shards`): no shards, shards of different sweeps or shard
    /// counts, a shard missing or given twice, a shard whose points are
    /// not exactly the ones it owns or whose values are not the grid's, a
    /// shard of another [`RESULTS_VERSION`], or one that does not match its
    /// checksum (edited or damaged); field `sweep.definition.points`: a
    /// point count that is not the product of the axes' lengths.
    pub fn merge(shards: Vec<SweepReport>) -> Result<SweepReport> {
        let bad = |value: String, reason: &str| Error::invalid("sweep.shards", value, reason);
        let Some(first) = shards.first() else {
            return Err(bad("[]".into(), "no shard reports to merge"));
        };
        let definition = first.definition.clone();
        let count = first.shard.unwrap_or(Shard::ALL).count;
        // The grid: as many points as the axes make, none of them empty.
        let product = definition
            .axes
            .iter()
            .try_fold(1u64, |n, a| n.checked_mul(a.values.len() as u64));
        if definition.axes.is_empty() || product != Some(definition.points) {
            return Err(Error::invalid(
                "sweep.definition.points",
                definition.points,
                format!(
                    "must be the product of the axes' lengths ({})",
                    definition
                        .axes
                        .iter()
                        .map(|a| a.values.len().to_string())
                        .collect::<Vec<_>>()
                        .join(" × ")
                ),
            ));
        }
        // Checked against the shards given, never allocated by `count`: a
        // report's shard may come from a hand-edited file, or be built with
        // its public fields.
        let mut seen = std::collections::BTreeSet::new();
        for s in &shards {
            // A complete report is shard 0 of 1.
            let shard = s.shard.unwrap_or(Shard::ALL);
            if Shard::new(shard.index, shard.count).is_err() {
                return Err(bad(shard.to_string(), "is not a shard i/n with 0 <= i < n"));
            }
            if s.version != RESULTS_VERSION {
                return Err(bad(
                    shard.to_string(),
                    &format!(
                        "holds results of version {} and this build computes version {RESULTS_VERSION}: run the shard again",
                        s.version
                    ),
                ));
            }
            if s.checksum != s.content_checksum()? {
                return Err(bad(
                    shard.to_string(),
                    "does not match its checksum: the file was edited or damaged",
                ));
            }
            if s.definition != definition {
                return Err(bad(
                    shard.to_string(),
                    "belongs to a different sweep than the first shard",
                ));
            }
            if shard.count != count {
                return Err(bad(
                    shard.to_string(),
                    &format!("the first shard says there are {count} shards"),
                ));
            }
            if !seen.insert(shard.index) {
                return Err(bad(shard.to_string(), "is given twice"));
            }
        }
        // Every index is below `count` and given once, so this looks at no
        // more than `shards.len() + 1` indices.
        if let Some(missing) = (0..count).find(|i| !seen.contains(i)) {
            return Err(bad(format!("{missing}/{count}"), "is missing"));
        }
        for s in &shards {
            let shard = s.shard.unwrap_or(Shard::ALL);
            let owned = (0..definition.points).filter(|&k| shard.owns(k));
            if !s.points.iter().map(|p| p.index).eq(owned) {
                return Err(bad(shard.to_string(), "does not hold exactly the points it owns"));
            }
            if let Some(p) = s
                .points
                .iter()
                .find(|p| p.values != grid_values(&definition.axes, p.index))
            {
                return Err(bad(
                    shard.to_string(),
                    &format!(
                        "point {} has values {:?}, not the grid's {:?}",
                        p.index,
                        p.values,
                        grid_values(&definition.axes, p.index)
                    ),
                ));
            }
        }
        let mut points: Vec<SweepPoint> = shards.into_iter().flat_map(|s| s.points).collect();
        points.sort_by_key(|p| p.index);
        SweepReport::new(definition, None, points)
    }
}
