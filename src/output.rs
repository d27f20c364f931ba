//! Report files: tables per post, per creator, per cohort and for the
//! platform as CSV and JSON, and the tables of experiments and sweeps.
//!
//! # Run reports
//!
//! A run's [`Report`] becomes seven tables ([`Table`]): one row per post,
//! creator, cohort, or the platform, one per day and cohort, one per
//! audience tier and one per traffic source of the platform, each cohort
//! and each creator. A row of
//! every table but the per-day one is a [`Row`]: identifying columns (`K`,
//! one struct per table: [`PostKey`], [`CreatorKey`], [`CohortKey`],
//! [`PlatformKey`], [`TierKey`], [`SourceKey`]), then
//! every field of the row's [`Tally`] (counts), then every field of its
//! [`Rates`]. A row of the per-day table is a [`Tagged`]
//! [`DailyCohortReport`]: `policy` and `seed`, then the record's fields. Several reports
//! (one per policy, or per replicate) go into the same files, told apart by
//! the `policy` and `seed` columns. The unit of every column is in each
//! field's documentation here and in the table of `docs/output.md`.
//!
//! - **CSV**: a header row of column names, then one line per row; numbers
//!   are written in the shortest form that reads back to the same value, an
//!   absent value (a post without a product) is an empty field.
//!   [`read_csv`] reads such a file back into the same rows.
//! - **JSON**: an array of objects, one per row, with the identifying
//!   columns at the top level and the counts and rates nested under `tally`
//!   and `rates`, as in the report's own JSON.
//!
//! [`write_report_files`] writes all seven tables in both formats (14
//! files) into a directory. Files are written to a temporary name and renamed when
//! complete, so a failed write never leaves a partial file under the final
//! name.
//!
//! Adding a table takes a [`Table`] variant and its rows. A
//! counts-and-rates table is a `Row<K>` with a new key struct; a series of
//! flat records (as the per-day table is) is a [`Tagged`] row, written by
//! [`write_tagged_csv`] and read by [`read_tagged_csv`] with no new code.
//!
//! # Experiments and sweeps
//!
//! [`write_experiment_csv`] writes an [`ExperimentReport`] in long form (one
//! row per group and metric); [`write_sweep_csv`] writes a [`SweepReport`]
//! in wide form (one row per grid point), and [`write_sweep_long_csv`] in
//! long form (one row per point, group and metric), which plotting tools
//! prefer.
//!
//! ```
//! use feedsim::output::{Table, cohort_rows, read_csv, write_csv, CohortKey};
//! use feedsim::{Scenario, Simulation, World};
//! let mut s = Scenario::default_scenario();
//! s.users.count = 10_000;
//! for c in &mut s.cohorts {
//!     c.creators = c.creators.min(5);
//!     c.followers.max = c.followers.max.min(1_000);
//!     c.followers.min = c.followers.min.min(c.followers.max);
//! }
//! let world = World::generate(&s)?;
//! let report = Simulation::new(&s, &world)?.run(&s.public_pool_ladder, &s.response)?;
//! let rows = cohort_rows(&report);
//! let mut csv = Vec::new();
//! write_csv(&mut csv, &rows)?;
//! let back = read_csv::<_, CohortKey>(csv.as_slice(), "cohorts.csv")?;
//! assert_eq!(back, rows);
//! assert_eq!(Table::Cohorts.file_stem(), "cohorts");
//! # Ok::<(), feedsim::Error>(())
//! ```

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::experiment::{Estimate, ExperimentReport, MetricSummary, SweepPoint, SweepReport};
use crate::metrics::{DailyCohortReport, PerTier, PushEnd, Rates, Report, Tally, Tier, TierTallies};
use crate::postlog::csv_error;

/// One row of a run table: identifying columns, then counts, then rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row<K> {
    /// Identifying columns (and measures that are neither counts nor rates).
    #[serde(flatten)]
    pub key: K,
    /// Event counts (see [`Tally`]): impressions, watches, likes, comments,
    /// shares, follows, clicks, orders, repurchases (counts of events);
    /// `gmv_fen` and `fan_gmv_fen` in fen (0.01 yuan).
    pub tally: Tally,
    /// Rates derived from the counts (see [`Rates`]): per impression unless
    /// the name says otherwise (`orders_per_mille` per 1,000 impressions,
    /// `click_to_order` per click, `repurchase_share` and `fan_gmv_share`
    /// shares of orders and GMV); `gmv_yuan` in yuan,
    /// `gmv_per_mille_yuan` in yuan per 1,000 impressions.
    pub rates: Rates,
}

/// How a post's push ended, as a table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// A gate stopped it (the stage is in `end_stage`).
    #[default]
    Gate,
    /// It went through every stage.
    Completed,
    /// The public audience ran out.
    Exhausted,
    /// A live session ended.
    SessionEnded,
}

/// Identifying columns of the post table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PostKey {
    /// Policy name.
    pub policy: String,
    /// Run seed.
    pub seed: u64,
    /// Post id (index in the run's post list).
    pub post: u32,
    /// Creator id.
    pub creator: u32,
    /// The creator's cohort name.
    pub cohort: String,
    /// Publish slot since the start (`day × slots_per_day + slot_of_day`).
    pub slot: u32,
    /// Publish day, from 0.
    pub day: u32,
    /// Publish slot within the day, from 0.
    pub slot_of_day: u32,
    /// Content category (its creator's).
    pub category: u8,
    /// Post quality, a standardized score.
    pub quality: f32,
    /// Product price in yuan; empty if the post carries no product.
    pub price_yuan: Option<f64>,
    /// Stages the post entered (1 = only the first).
    pub stages_entered: u8,
    /// How the push ended.
    pub end: End,
    /// The stage (from 0) whose gate stopped the post; empty otherwise.
    pub end_stage: Option<u8>,
    /// Whether the post entered a public pool.
    pub reached_public: bool,
    /// Impressions of each stage entered, in order, separated by spaces.
    pub stage_impressions: String,
}

/// Identifying columns of the creator table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CreatorKey {
    /// Policy name.
    pub policy: String,
    /// Run seed.
    pub seed: u64,
    /// Creator id.
    pub creator: u32,
    /// Cohort name.
    pub cohort: String,
    /// Content category id.
    pub category: u8,
    /// Followers at the start (users).
    pub followers: u32,
    /// Iron fans at the start (users).
    pub iron_fans: u32,
    /// Posts published.
    pub posts: u32,
}

/// Identifying columns (and reach measures) of the cohort table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CohortKey {
    /// Policy name.
    pub policy: String,
    /// Run seed.
    pub seed: u64,
    /// Cohort name.
    pub cohort: String,
    /// Creators in the cohort.
    pub creators: u32,
    /// Followers at the start, summed over the cohort's creators (users,
    /// counted once per creator followed).
    pub followers: u64,
    /// Iron fans at the start, summed likewise.
    pub iron_fans: u64,
    /// `iron_fans / followers`.
    pub iron_fan_ratio: f64,
    /// Posts published.
    pub posts: u64,
    /// Posts that entered at least one public pool.
    pub posts_reaching_public: u64,
    /// Distinct users who saw at least one of the cohort's posts.
    pub unique_reach: u64,
    /// `unique_reach / followers`.
    pub reach_per_follower: f64,
    /// Followers at the end of the run (differs from `followers` only with
    /// dynamics on).
    pub followers_end: u64,
    /// Iron fans at the end of the run.
    pub iron_fans_end: u64,
    /// `iron_fans_end / followers_end`.
    pub iron_fan_ratio_end: f64,
    /// Creators still posting at the end.
    pub active_creators_end: u32,
    /// Fans who unfollowed during the run.
    pub unfollows: u64,
    /// Iron fans demoted during the run.
    pub iron_fan_demotions: u64,
    /// Iron fans who unfollowed during the run (part of `unfollows`).
    pub iron_fan_unfollows: u64,
    /// Funnel: distinct users reached as strangers.
    pub funnel_new_viewers: u64,
    /// Funnel: fans promoted to iron fan.
    pub funnel_iron_fan_promotions: u64,
    /// Funnel: distinct (creator, user) buyer pairs.
    pub funnel_buyers: u64,
    /// Funnel: buyer pairs who ordered again.
    pub funnel_repeat_buyers: u64,
}

/// Identifying columns (and concentration measures) of the platform table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PlatformKey {
    /// Policy name.
    pub policy: String,
    /// Run seed.
    pub seed: u64,
    /// Users.
    pub users: u32,
    /// Creators.
    pub creators: u32,
    /// Posts.
    pub posts: u64,
    /// Distinct users who saw anything.
    pub unique_reach: u64,
    /// Gini coefficient of impressions across creators (0 equal, 1 one
    /// creator has everything).
    pub impressions_gini: f64,
    /// Gini coefficient of GMV across creators.
    pub gmv_gini: f64,
    /// Share of impressions going to the top 1% of creators.
    pub impressions_top1_share: f64,
    /// Share of GMV going to the top 1% of creators.
    pub gmv_top1_share: f64,
    /// Median watch ratio over impressions, to 0.01.
    pub watch_ratio_median: f64,
    /// Gini coefficient of impressions across posts.
    pub post_impressions_gini: f64,
    /// Share of impressions going to the top 20% of posts.
    pub post_impressions_top20_share: f64,
    /// Empty when every reach figure is exact (up to 8 cohorts); else the
    /// relative standard error of the estimated ones (each cohort's reach by
    /// tier and new viewers, each day's per-cohort reach; see
    /// [`Report::reach_relative_error`]).
    pub reach_relative_error: Option<f64>,
}

/// What a row of the tier table describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The whole platform.
    #[default]
    Platform,
    /// One cohort.
    Cohort,
    /// One creator.
    Creator,
}

/// Identifying columns of the tier table: reach and conversion of the
/// platform, a cohort or a creator among the viewers of one audience tier.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TierKey {
    /// Policy name.
    pub policy: String,
    /// Run seed.
    pub seed: u64,
    /// Platform, cohort or creator.
    pub level: Level,
    /// The cohort's name (the creator's cohort for a creator row); empty for
    /// the platform.
    pub cohort: String,
    /// Creator id; empty unless `level` is `creator`.
    pub creator: Option<u32>,
    /// The viewers' tier: `group_member`, `iron_fan`, `other_fan` or `public`.
    pub tier: Tier,
    /// Distinct users reached in this tier; empty for a creator (not
    /// tracked per creator).
    pub tier_unique_reach: Option<u64>,
}

/// Identifying columns of the source table: reach and conversion of the
/// platform, a cohort or a creator from the offers of one traffic source.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SourceKey {
    /// Policy name.
    pub policy: String,
    /// Run seed.
    pub seed: u64,
    /// Platform, cohort or creator.
    pub level: Level,
    /// The cohort's name (the creator's cohort for a creator row); empty for
    /// the platform.
    pub cohort: String,
    /// Creator id; empty unless `level` is `creator`.
    pub creator: Option<u32>,
    /// The traffic source (the source of the push stage that made the
    /// offers: by default the stage's label, e.g. `public pool`).
    pub source: String,
}

/// A row of the post table.
pub type PostRow = Row<PostKey>;
/// A row of the source table.
pub type SourceRow = Row<SourceKey>;
/// A row of the tier table.
pub type TierRow = Row<TierKey>;
/// A row of the creator table.
pub type CreatorRow = Row<CreatorKey>;
/// A row of the cohort table.
pub type CohortRow = Row<CohortKey>;
/// A row of the platform table.
pub type PlatformRow = Row<PlatformKey>;

fn cohort_name(report: &Report, cohort: u16) -> String {
    report
        .cohorts
        .get(usize::from(cohort))
        .map_or_else(|| cohort.to_string(), |c| c.name.clone())
}

/// The post table of a run: one row per post, by id. `slots_per_day` is
/// the scenario's `feed.slots_per_day`, to split each post's slot into day
/// and slot of the day. O(posts).
pub fn post_rows(report: &Report, slots_per_day: u32) -> Vec<PostRow> {
    let spd = slots_per_day.max(1);
    report
        .posts
        .iter()
        .map(|p| {
            let (end, end_stage) = match p.end {
                PushEnd::Gate { stage } => (End::Gate, Some(stage)),
                PushEnd::Completed => (End::Completed, None),
                PushEnd::Exhausted => (End::Exhausted, None),
                PushEnd::SessionEnded => (End::SessionEnded, None),
            };
            Row {
                key: PostKey {
                    policy: report.policy.clone(),
                    seed: report.seed,
                    post: p.id,
                    creator: p.creator,
                    cohort: cohort_name(report, p.cohort),
                    slot: p.slot,
                    day: p.slot / spd,
                    slot_of_day: p.slot % spd,
                    category: p.category,
                    quality: p.quality,
                    price_yuan: p.price_yuan,
                    stages_entered: p.stages_entered,
                    end,
                    end_stage,
                    reached_public: p.reached_public,
                    stage_impressions: p
                        .stage_impressions
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                },
                tally: p.tally,
                rates: p.tally.rates(),
            }
        })
        .collect()
}

/// The tier table of a run: four rows (one per [`Tier`]) for the platform,
/// for each cohort, and for each creator that posted, in that order.
/// O(creators).
pub fn tier_rows(report: &Report) -> Vec<TierRow> {
    let mut rows = Vec::new();
    let mut push =
        |level: Level, cohort: String, creator: Option<u32>, by_tier: &TierTallies, reach: Option<&PerTier<u64>>| {
            for tier in Tier::ALL {
                let t = *by_tier.get(tier);
                rows.push(Row {
                    key: TierKey {
                        policy: report.policy.clone(),
                        seed: report.seed,
                        level,
                        cohort: cohort.clone(),
                        creator,
                        tier,
                        tier_unique_reach: reach.map(|r| r.get(tier)),
                    },
                    tally: t,
                    rates: t.rates(),
                });
            }
        };
    let p = &report.platform;
    push(
        Level::Platform,
        String::new(),
        None,
        &p.by_tier,
        Some(&p.unique_reach_by_tier),
    );
    for c in &report.cohorts {
        push(
            Level::Cohort,
            c.name.clone(),
            None,
            &c.by_tier,
            Some(&c.unique_reach_by_tier),
        );
    }
    for c in report.creators.iter().filter(|c| c.posts > 0) {
        push(
            Level::Creator,
            cohort_name(report, c.cohort),
            Some(c.id),
            &c.by_tier,
            None,
        );
    }
    rows
}

/// The source table of a run: one row per traffic source (in name order)
/// for the platform, for each cohort, and for each creator that posted, in
/// that order; each level's rows sum to its tally. O(creators × sources).
pub fn source_rows(report: &Report) -> Vec<SourceRow> {
    let mut rows = Vec::new();
    let mut push = |level: Level, cohort: String, creator: Option<u32>, by_source: &crate::metrics::BySource| {
        for (source, t) in by_source {
            rows.push(Row {
                key: SourceKey {
                    policy: report.policy.clone(),
                    seed: report.seed,
                    level,
                    cohort: cohort.clone(),
                    creator,
                    source: source.clone(),
                },
                tally: *t,
                rates: t.rates(),
            });
        }
    };
    push(Level::Platform, String::new(), None, &report.platform.by_source);
    for c in &report.cohorts {
        push(Level::Cohort, c.name.clone(), None, &c.by_source);
    }
    for c in report.creators.iter().filter(|c| c.posts > 0) {
        push(Level::Creator, cohort_name(report, c.cohort), Some(c.id), &c.by_source);
    }
    rows
}

/// The creator table of a run: one row per creator, by id. O(creators).
pub fn creator_rows(report: &Report) -> Vec<CreatorRow> {
    report
        .creators
        .iter()
        .map(|c| Row {
            key: CreatorKey {
                policy: report.policy.clone(),
                seed: report.seed,
                creator: c.id,
                cohort: cohort_name(report, c.cohort),
                category: c.category,
                followers: c.followers,
                iron_fans: c.iron_fans,
                posts: c.posts,
            },
            tally: c.tally,
            rates: c.tally.rates(),
        })
        .collect()
}

/// The cohort table of a run: one row per cohort, in scenario order.
pub fn cohort_rows(report: &Report) -> Vec<CohortRow> {
    report
        .cohorts
        .iter()
        .map(|c| Row {
            key: CohortKey {
                policy: report.policy.clone(),
                seed: report.seed,
                cohort: c.name.clone(),
                creators: c.creators,
                followers: c.followers,
                iron_fans: c.iron_fans,
                iron_fan_ratio: c.iron_fan_ratio,
                posts: c.posts,
                posts_reaching_public: c.posts_reaching_public,
                unique_reach: c.unique_reach,
                reach_per_follower: c.reach_per_follower,
                followers_end: c.followers_end,
                iron_fans_end: c.iron_fans_end,
                iron_fan_ratio_end: c.iron_fan_ratio_end,
                active_creators_end: c.active_creators_end,
                unfollows: c.unfollows,
                iron_fan_demotions: c.iron_fan_demotions,
                iron_fan_unfollows: c.iron_fan_unfollows,
                funnel_new_viewers: c.funnel.new_viewers,
                funnel_iron_fan_promotions: c.funnel.iron_fan_promotions,
                funnel_buyers: c.funnel.buyers,
                funnel_repeat_buyers: c.funnel.repeat_buyers,
            },
            tally: c.tally,
            rates: c.rates,
        })
        .collect()
}

/// The platform table of a run: one row.
pub fn platform_rows(report: &Report) -> Vec<PlatformRow> {
    let p = &report.platform;
    vec![Row {
        key: PlatformKey {
            policy: report.policy.clone(),
            seed: report.seed,
            users: p.users,
            creators: p.creators,
            posts: p.posts,
            unique_reach: p.unique_reach,
            impressions_gini: p.impressions_gini,
            gmv_gini: p.gmv_gini,
            impressions_top1_share: p.impressions_top1_share,
            gmv_top1_share: p.gmv_top1_share,
            watch_ratio_median: p.watch_ratio_median,
            post_impressions_gini: p.post_impressions_gini,
            post_impressions_top20_share: p.post_impressions_top20_share,
            reach_relative_error: report.reach_relative_error,
        },
        tally: p.tally,
        rates: p.rates,
    }]
}

/// The column names of a flat struct, from serializing its default value.
fn columns_of<T: Serialize + Default>() -> Vec<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // A flat struct of scalars always serializes; an empty header would show
    // in the tests of every table.
    if w.serialize(T::default()).is_err() {
        return Vec::new();
    }
    let bytes = w.into_inner().unwrap_or_default();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    r.headers()
        .map(|h| h.iter().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The CSV columns of `Row<K>`, in order: `K`'s, then [`Tally`]'s, then
/// [`Rates`]'s.
pub fn columns<K: Serialize + Default>() -> Vec<String> {
    let mut c = columns_of::<K>();
    c.extend(columns_of::<Tally>());
    c.extend(columns_of::<Rates>());
    c
}

fn write_error(e: csv::Error) -> Error {
    csv_error(e, "csv output")
}

/// Writes rows as CSV with a header row. O(rows × columns).
pub fn write_csv<W: Write, K: Serialize + Default>(writer: W, rows: &[Row<K>]) -> Result<()> {
    let mut w = csv::Writer::from_writer(writer);
    if rows.is_empty() {
        w.write_record(columns::<K>()).map_err(write_error)?;
    }
    for row in rows {
        w.serialize((&row.key, &row.tally, &row.rates)).map_err(write_error)?;
    }
    w.flush().map_err(|source| Error::Io {
        path: "csv output".into(),
        source,
    })
}

/// Reads rows written by [`write_csv`]. `source` names the input in errors.
///
/// Errors: [`Error::Invalid`] naming `source:1.column` if the header is not
/// exactly `Row<K>`'s columns, or `source:line.column` for a value that
/// does not parse.
pub fn read_csv<R: Read, K: DeserializeOwned + Serialize + Default>(reader: R, source: &str) -> Result<Vec<Row<K>>> {
    let parts = [columns_of::<K>(), columns_of::<Tally>(), columns_of::<Rates>()];
    let expected: Vec<&String> = parts.iter().flatten().collect();
    let mut r = csv::Reader::from_reader(reader);
    let header = r.headers().map_err(|e| csv_error(e, source))?.clone();
    for (i, want) in expected.iter().enumerate() {
        match header.get(i) {
            Some(got) if got == want.as_str() => {}
            got => {
                return Err(Error::invalid(
                    format!("{source}:1.{}", i + 1),
                    got.unwrap_or("(missing)"),
                    format!("column {} must be `{want}`", i + 1),
                ));
            }
        }
    }
    if header.len() != expected.len() {
        return Err(Error::invalid(
            format!("{source}:1"),
            header.len(),
            format!("the table has {} columns", expected.len()),
        ));
    }
    let headers: Vec<csv::StringRecord> = parts.iter().map(|p| csv::StringRecord::from(p.clone())).collect();
    let mut rows = Vec::new();
    for record in r.records() {
        let record = record.map_err(|e| csv_error(e, source))?;
        let line = record.position().map_or(0, |p| p.line());
        let mut start = 0;
        let mut sub = Vec::with_capacity(3);
        for h in &headers {
            sub.push(record.iter().skip(start).take(h.len()).collect::<csv::StringRecord>());
            start += h.len();
        }
        let parse_error = |e: csv::Error, part: usize| deserialize_error(e, source, line, &headers[part], &sub[part]);
        let key: K = sub[0].deserialize(Some(&headers[0])).map_err(|e| parse_error(e, 0))?;
        let tally: Tally = sub[1].deserialize(Some(&headers[1])).map_err(|e| parse_error(e, 1))?;
        let rates: Rates = sub[2].deserialize(Some(&headers[2])).map_err(|e| parse_error(e, 2))?;
        rows.push(Row { key, tally, rates });
    }
    Ok(rows)
}

/// The run a row of a flat table comes from: the first columns of a
/// [`Tagged`] row.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RunKey {
    /// Policy name.
    pub policy: String,
    /// Run seed.
    pub seed: u64,
}

impl RunKey {
    /// The policy and seed of `report`.
    pub fn of(report: &Report) -> RunKey {
        RunKey {
            policy: report.policy.clone(),
            seed: report.seed,
        }
    }
}

/// A row of a flat table of some report series (a struct of scalars, such
/// as a per-day record), tagged with its run: columns `policy`, `seed`, then
/// the struct's fields. This is how a table that is not counts-and-rates
/// joins the files: build `Tagged { run: RunKey::of(report), row }` for each
/// record and write them with [`write_tagged_csv`] and [`write_json`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tagged<T> {
    /// The run.
    #[serde(flatten)]
    pub run: RunKey,
    /// The record.
    #[serde(flatten)]
    pub row: T,
}

/// The CSV columns of `Tagged<T>`: `policy`, `seed`, then `T`'s fields.
pub fn tagged_columns<T: Serialize + Default>() -> Vec<String> {
    let mut c = columns_of::<RunKey>();
    c.extend(columns_of::<T>());
    c
}

/// Writes tagged rows as CSV with a header row (`policy`, `seed`, then the
/// record's field names, [`tagged_columns`]). `T` must be a struct of
/// scalars. An empty table is the header alone, the same header as a full
/// one (taken from `T::default()`).
pub fn write_tagged_csv<W: Write, T: Serialize + Default>(writer: W, rows: &[Tagged<T>]) -> Result<()> {
    let mut w = csv::Writer::from_writer(writer);
    if rows.is_empty() {
        w.write_record(tagged_columns::<T>()).map_err(write_error)?;
    }
    for r in rows {
        w.serialize((&r.run, &r.row)).map_err(write_error)?;
    }
    w.flush().map_err(|source| Error::Io {
        path: "csv output".into(),
        source,
    })
}

/// Reads rows written by [`write_tagged_csv`]: the first two columns must be
/// `policy` and `seed`, the rest are `T`'s fields by name. Errors name
/// `source:line.column`.
pub fn read_tagged_csv<R: Read, T: DeserializeOwned>(reader: R, source: &str) -> Result<Vec<Tagged<T>>> {
    let key = csv::StringRecord::from(columns_of::<RunKey>());
    let mut r = csv::Reader::from_reader(reader);
    let header = r.headers().map_err(|e| csv_error(e, source))?.clone();
    for (i, want) in key.iter().enumerate() {
        if header.get(i) != Some(want) {
            return Err(Error::invalid(
                format!("{source}:1.{}", i + 1),
                header.get(i).unwrap_or("(missing)"),
                format!("column {} must be `{want}`", i + 1),
            ));
        }
    }
    let rest: csv::StringRecord = header.iter().skip(key.len()).collect();
    let headers = [key, rest];
    let mut rows = Vec::new();
    for record in r.records() {
        let record = record.map_err(|e| csv_error(e, source))?;
        let line = record.position().map_or(0, |p| p.line());
        let sub: Vec<csv::StringRecord> = [(0, headers[0].len()), (headers[0].len(), headers[1].len())]
            .iter()
            .map(|&(skip, take)| record.iter().skip(skip).take(take).collect())
            .collect();
        let parse_error = |e: csv::Error, part: usize| deserialize_error(e, source, line, &headers[part], &sub[part]);
        let run: RunKey = sub[0].deserialize(Some(&headers[0])).map_err(|e| parse_error(e, 0))?;
        let row: T = sub[1].deserialize(Some(&headers[1])).map_err(|e| parse_error(e, 1))?;
        rows.push(Tagged { run, row });
    }
    Ok(rows)
}

/// A deserialization error of one part of a record, naming the line and
/// column.
fn deserialize_error(
    e: csv::Error,
    source: &str,
    line: u64,
    header: &csv::StringRecord,
    fields: &csv::StringRecord,
) -> Error {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let f = err.field().map_or(0, |f| f as usize);
            Error::invalid(
                format!("{source}:{line}.{}", header.get(f).unwrap_or("?")),
                format!("{:?}", fields.get(f).unwrap_or("")),
                err.kind().to_string(),
            )
        }
        _ => csv_error(e, source),
    }
}

/// Writes any serializable rows as a pretty JSON array.
pub fn write_json<W: Write, T: Serialize>(writer: W, rows: &[T]) -> Result<()> {
    serde_json::to_writer_pretty(writer, rows)?;
    Ok(())
}

/// Reads a JSON array written by [`write_json`].
pub fn read_json<R: Read, T: DeserializeOwned>(reader: R) -> Result<Vec<T>> {
    Ok(serde_json::from_reader(reader)?)
}

/// The tables of a run report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One row per post ([`PostKey`] columns).
    Posts,
    /// One row per creator ([`CreatorKey`] columns).
    Creators,
    /// One row per cohort ([`CohortKey`] columns).
    Cohorts,
    /// One row for the platform ([`PlatformKey`] columns).
    Platform,
    /// One row per day and cohort ([`DailyCohortReport`] columns, tagged
    /// with `policy` and `seed`).
    Daily,
    /// Four rows (one per audience tier) for the platform, each cohort and
    /// each creator that posted ([`TierKey`] columns).
    Tiers,
    /// One row per traffic source for the platform, each cohort and each
    /// creator that posted ([`SourceKey`] columns).
    Sources,
}

impl Table {
    /// Every table.
    pub const ALL: [Table; 7] = [
        Table::Posts,
        Table::Creators,
        Table::Cohorts,
        Table::Platform,
        Table::Daily,
        Table::Tiers,
        Table::Sources,
    ];

    /// The file name without extension: `posts`, `creators`, `cohorts`,
    /// `platform`, `daily`, `tiers`, `sources`.
    pub fn file_stem(self) -> &'static str {
        match self {
            Table::Posts => "posts",
            Table::Creators => "creators",
            Table::Cohorts => "cohorts",
            Table::Platform => "platform",
            Table::Daily => "daily",
            Table::Tiers => "tiers",
            Table::Sources => "sources",
        }
    }

    /// The table's CSV columns, in order.
    pub fn columns(self) -> Vec<String> {
        match self {
            Table::Posts => columns::<PostKey>(),
            Table::Creators => columns::<CreatorKey>(),
            Table::Cohorts => columns::<CohortKey>(),
            Table::Platform => columns::<PlatformKey>(),
            Table::Daily => tagged_columns::<DailyCohortReport>(),
            Table::Tiers => columns::<TierKey>(),
            Table::Sources => columns::<SourceKey>(),
        }
    }

    /// Writes the rows of every report, report after report, as CSV.
    /// `slots_per_day` is the scenario's (see [`post_rows`]).
    pub fn write_csv<W: Write>(self, writer: W, reports: &[&Report], slots_per_day: u32) -> Result<()> {
        self.write(Format::Csv, writer, reports, slots_per_day)
    }

    /// Writes the rows of every report as one JSON array.
    pub fn write_json<W: Write>(self, writer: W, reports: &[&Report], slots_per_day: u32) -> Result<()> {
        self.write(Format::Json, writer, reports, slots_per_day)
    }

    fn write<W: Write>(self, format: Format, writer: W, reports: &[&Report], slots_per_day: u32) -> Result<()> {
        fn rows<K>(reports: &[&Report], f: impl Fn(&Report) -> Vec<Row<K>>) -> Vec<Row<K>> {
            reports.iter().flat_map(|r| f(r)).collect()
        }
        fn emit<W: Write, K: Serialize + Default>(format: Format, writer: W, rows: &[Row<K>]) -> Result<()> {
            match format {
                Format::Csv => write_csv(writer, rows),
                Format::Json => write_json(writer, rows),
            }
        }
        match self {
            Table::Posts => emit(format, writer, &rows(reports, |r| post_rows(r, slots_per_day))),
            Table::Creators => emit(format, writer, &rows(reports, creator_rows)),
            Table::Cohorts => emit(format, writer, &rows(reports, cohort_rows)),
            Table::Platform => emit(format, writer, &rows(reports, platform_rows)),
            Table::Tiers => emit(format, writer, &rows(reports, tier_rows)),
            Table::Sources => emit(format, writer, &rows(reports, source_rows)),
            Table::Daily => match format {
                Format::Csv => write_tagged_csv(writer, &daily_rows(reports)),
                Format::Json => write_json(writer, &daily_rows(reports)),
            },
        }
    }
}

/// The file formats a [`Table`] is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

/// The per-day table of runs: one row per day and cohort, tagged with the
/// run's policy and seed.
pub fn daily_rows(reports: &[&Report]) -> Vec<Tagged<DailyCohortReport>> {
    reports
        .iter()
        .flat_map(|r| {
            r.daily.iter().map(|d| Tagged {
                run: RunKey::of(r),
                row: d.clone(),
            })
        })
        .collect()
}

/// Writes `path` through a temporary file (`path.partial`), synced to disk
/// and renamed into place when `write` succeeds, so that a failure or a
/// crash leaves no partial file under the final name.
pub fn write_file(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(io)?;
        let mut w = std::io::BufWriter::new(file);
        write(&mut w)?;
        w.flush().map_err(io)?;
        w.get_ref().sync_all().map_err(io)?;
        Ok(())
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(io),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes `text` to `path` as [`write_file`] does: the whole text or
/// nothing under that name.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_file(path, |w| {
        w.write_all(text.as_bytes()).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })
    })
}

/// Writes every table of `reports` into `dir` (created if needed) as
/// `posts.csv`, `posts.json`, `creators.csv`, ... `sources.json` (14 files,
/// [`Table::ALL`] in both formats) and returns the paths written. `slots_per_day` is the scenario's `feed.slots_per_day` (to
/// split post slots into days).
pub fn write_report_files(dir: &Path, reports: &[&Report], slots_per_day: u32) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let mut paths = Vec::new();
    for table in Table::ALL {
        let csv = dir.join(format!("{}.csv", table.file_stem()));
        write_file(&csv, |w| table.write_csv(w, reports, slots_per_day))?;
        paths.push(csv);
        let json = dir.join(format!("{}.json", table.file_stem()));
        write_file(&json, |w| table.write_json(w, reports, slots_per_day))?;
        paths.push(json);
    }
    Ok(paths)
}

/// A column-name form of a policy or group name: ASCII letters and digits
/// kept, everything else `_`.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Unique slugs for policy names (a repeated name gets `_2`, `_3`, ...).
fn policy_slugs(policies: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(policies.len());
    for p in policies {
        let base = slug(p);
        let mut s = base.clone();
        let mut n = 1;
        while out.contains(&s) {
            n += 1;
            s = format!("{base}_{n}");
        }
        out.push(s);
    }
    out
}

fn number(x: f64) -> String {
    // Debug is the shortest form that reads back to the same f64.
    format!("{x:?}")
}

fn optional(x: Option<f64>) -> String {
    x.map_or_else(String::new, number)
}

fn estimate_fields(e: &Estimate, out: &mut Vec<String>) {
    out.push(number(e.mean));
    out.push(optional(e.low));
    out.push(optional(e.high));
}

/// Column names for the estimates of one metric: per policy
/// `{policy}_mean/_low/_high`, then per other policy
/// `{policy}_minus_{baseline}_mean/_low/_high`, each prefixed by `prefix`.
fn estimate_columns(prefix: &str, slugs: &[String], out: &mut Vec<String>) {
    for s in slugs {
        for part in ["mean", "low", "high"] {
            out.push(format!("{prefix}{s}_{part}"));
        }
    }
    for s in slugs.iter().skip(1) {
        for part in ["mean", "low", "high"] {
            out.push(format!("{prefix}{s}_minus_{}_{part}", slugs[0]));
        }
    }
}

fn metric_fields(m: &crate::experiment::MetricSummary, out: &mut Vec<String>) {
    for e in &m.policies {
        estimate_fields(e, out);
    }
    for e in m.differences.iter().skip(1) {
        estimate_fields(e, out);
    }
}

fn csv_out<W: Write>(writer: W) -> csv::Writer<W> {
    csv::Writer::from_writer(writer)
}

fn finish<W: Write>(mut w: csv::Writer<W>) -> Result<()> {
    w.flush().map_err(|source| Error::Io {
        path: "csv output".into(),
        source,
    })
}

/// Writes an experiment in long form: one row per group (`platform`, then
/// the cohorts) and metric, with columns `group`, `metric`, then per policy
/// `{policy}_mean`, `{policy}_low`, `{policy}_high` (the mean over
/// replicates and its interval), then per non-baseline policy
/// `{policy}_minus_{baseline}_mean`, `_low`, `_high` (the paired
/// difference). Policy names are slugged ([`slug`]). An interval that does
/// not exist (one replicate) is an empty field. Units are the metric's.
pub fn write_experiment_csv<W: Write>(writer: W, report: &ExperimentReport) -> Result<()> {
    let slugs = policy_slugs(&report.policies);
    let mut w = csv_out(writer);
    let mut header = vec!["group".to_string(), "metric".to_string()];
    estimate_columns("", &slugs, &mut header);
    w.write_record(&header).map_err(write_error)?;
    for g in report.groups() {
        for m in &g.metrics {
            let mut row = vec![g.name.clone(), m.name.clone()];
            metric_fields(m, &mut row);
            w.write_record(&row).map_err(write_error)?;
        }
    }
    finish(w)
}

/// Which (group, metric) pairs a sweep table holds: the listed ones, or
/// all of the first point's when `metrics` is empty.
fn selected(report: &SweepReport, metrics: &[(&str, &str)]) -> Result<Vec<(String, String)>> {
    let Some(first) = report.points.first() else {
        return Ok(metrics.iter().map(|(g, m)| (g.to_string(), m.to_string())).collect());
    };
    if metrics.is_empty() {
        return Ok(first
            .experiment
            .groups()
            .flat_map(|g| g.metrics.iter().map(|m| (g.name.clone(), m.name.clone())))
            .collect());
    }
    metrics
        .iter()
        .map(|&(g, m)| {
            if first.experiment.metric(g, m).is_none() {
                Err(Error::invalid(
                    "sweep.metrics",
                    format!("{g}/{m}"),
                    "no such group and metric in the sweep",
                ))
            } else {
                Ok((g.to_string(), m.to_string()))
            }
        })
        .collect()
}

/// Writes a sweep in wide form: one row per grid point, by index. Columns:
/// `point`, one per axis (named by its path), then for each selected
/// `(group, metric)` (all when `metrics` is empty, in report order) the
/// estimate columns of [`write_experiment_csv`] prefixed by
/// `{group}/{metric}/`, e.g. `KOE/reach_per_follower/iron_fan_first_mean`.
///
/// Errors name `sweep.metrics` for a (group, metric) the sweep does not
/// have.
pub fn write_sweep_csv<W: Write>(writer: W, report: &SweepReport, metrics: &[(&str, &str)]) -> Result<()> {
    let chosen = selected(report, metrics)?;
    let slugs = policy_slugs(&report.definition.policies);
    let mut w = csv_out(writer);
    let mut header = vec!["point".to_string()];
    header.extend(report.definition.axes.iter().map(|a| a.path.clone()));
    for (g, m) in &chosen {
        estimate_columns(&format!("{g}/{m}/"), &slugs, &mut header);
    }
    w.write_record(&header).map_err(write_error)?;
    for p in &report.points {
        let mut row = vec![p.index.to_string()];
        row.extend(p.values.iter().map(|v| number(*v)));
        for (g, m) in &chosen {
            let metric = point_metric(p, g, m)?;
            metric_fields(metric, &mut row);
        }
        w.write_record(&row).map_err(write_error)?;
    }
    finish(w)
}

/// Metric `m` of group `g` at sweep point `p`; an error names both if absent.
fn point_metric<'r>(p: &'r SweepPoint, g: &str, m: &str) -> Result<&'r MetricSummary> {
    p.experiment.metric(g, m).ok_or_else(|| {
        Error::invalid(
            "sweep.metrics",
            format!("{g}/{m}"),
            format!("missing at point {}", p.index),
        )
    })
}

/// Writes a sweep in long form: one row per grid point, group and metric.
/// Columns: `point`, one per axis, `group`, `metric`, then the estimate
/// columns of [`write_experiment_csv`]. `metrics` selects as in
/// [`write_sweep_csv`].
pub fn write_sweep_long_csv<W: Write>(writer: W, report: &SweepReport, metrics: &[(&str, &str)]) -> Result<()> {
    let chosen = selected(report, metrics)?;
    let slugs = policy_slugs(&report.definition.policies);
    let mut w = csv_out(writer);
    let mut header = vec!["point".to_string()];
    header.extend(report.definition.axes.iter().map(|a| a.path.clone()));
    header.extend(["group".to_string(), "metric".to_string()]);
    estimate_columns("", &slugs, &mut header);
    w.write_record(&header).map_err(write_error)?;
    for p in &report.points {
        for (g, m) in &chosen {
            let metric = point_metric(p, g, m)?;
            let mut row = vec![p.index.to_string()];
            row.extend(p.values.iter().map(|v| number(*v)));
            row.extend([g.clone(), m.clone()]);
            metric_fields(metric, &mut row);
            w.write_record(&row).map_err(write_error)?;
        }
    }
    finish(w)
}
