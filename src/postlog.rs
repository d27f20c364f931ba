//! Post logs: replay a posting history instead of generated posts.
//!
//! A post log is a CSV file with a header row and one post per row. Columns
//! may come in any order; unknown or repeated columns are refused.
//!
//! | column | required | unit / form | meaning |
//! |---|---|---|---|
//! | `creator` | yes | creator id, or `cohort/k` | who publishes: a creator id of the world (cohort `i`'s creators follow cohort `i − 1`'s, in scenario order), or the `k`-th creator (from 0) of the cohort named `cohort`, e.g. `KOE/3` |
//! | `day` | yes | day, from 0 | the day of publication, below `feed.days`; with a `[warmup]`, day 0 is the warm-up's first day and days go below warm-up + `feed.days` |
//! | `slot` | yes | slot of the day, from 0 | the slot within the day, below `feed.slots_per_day` (hours with the default 24 slots) |
//! | `quality` | yes | standardized score | post quality as the response model reads it (0 ordinary, +1 one standard deviation better), in `[-100, 100]` |
//! | `price_yuan` | no | yuan | the product the post carries; empty or `0` for none; at least one fen (0.01), at most [`MAX_PRICE_YUAN`] |
//! | `category` | no | category id | content category, below `feed.categories`; empty or absent for the creator's own |
//! | `kind` | no | `video` or `live` | what the post is; empty or absent for a video. A live session ([`crate::live`]) starts at the start of its slot |
//! | `duration_min` | no | minutes | a live session's length, 1 to 1,440; empty or absent for its cohort's `live.duration_min`. Only a live session takes one |
//!
//! A byte-order mark at the start is ignored. Surrounding spaces are
//! trimmed, lines whose first non-blank character is `#` are comments, and
//! blank lines are ignored; line numbers in errors
//! count them all, as an editor does. A line ends at a line feed, a
//! carriage return and line feed, or a lone carriage return. A field cannot
//! span lines: a line that opens a quoted field without closing it is
//! refused. Everything else must parse: a bad row is an
//! [`Error::Invalid`] whose field is `source:line.column` (for example
//! `posts.csv:7.quality`), with the value as written and what it must be.
//! Nothing is skipped.
//!
//! ```
//! use feedsim::postlog::PostLog;
//! use feedsim::{Scenario, Simulation, World};
//! let mut s = Scenario::default_scenario();
//! s.users.count = 20_000;
//! for c in &mut s.cohorts {
//!     c.creators = c.creators.min(10);
//!     c.followers.max = c.followers.max.min(2_000);
//!     c.followers.min = c.followers.min.min(c.followers.max);
//! }
//! let csv = "creator,day,slot,quality,price_yuan\n\
//!            KOE/3,0,9,0.5,299\n\
//!            0,0,20,-0.2,\n";
//! let log = PostLog::read(csv.as_bytes(), "inline.csv", &s)?;
//! let world = World::generate(&s)?;
//! let sim = Simulation::with_posts(&s, &world, log.posts(&world)?)?;
//! assert_eq!(sim.posts().len(), 2);
//! assert_eq!(sim.posts()[0].price_fen, 29_900);
//!
//! let bad = "creator,day,slot,quality\n0,0,3,high\n";
//! let e = PostLog::read(bad.as_bytes(), "bad.csv", &s).unwrap_err();
//! assert_eq!(e.field(), Some("bad.csv:2.quality"));
//! # Ok::<(), feedsim::Error>(())
//! ```

use std::io::{Read, Write};
use std::path::Path;

use crate::content::{Post, PostKind};
use crate::error::{Error, Result};
use crate::scenario::{MAX_PRICE_YUAN, Scenario};
use crate::world::World;

/// The columns a post log may have, in the order [`write_post_log`] writes
/// them.
pub const COLUMNS: [&str; 8] = [
    "creator",
    "day",
    "slot",
    "quality",
    "price_yuan",
    "category",
    "kind",
    "duration_min",
];
const REQUIRED: [&str; 4] = ["creator", "day", "slot", "quality"];

/// One row of a post log, checked against the scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoggedPost {
    /// The line of the file the row is on, from 1, counting comment and
    /// blank lines as an editor does (the header's line is 1 only when no
    /// comment or blank line precedes it).
    pub line: u64,
    /// Creator id.
    pub creator: u32,
    /// Day of publication.
    pub day: u32,
    /// Slot within the day.
    pub slot: u32,
    /// Standardized quality.
    pub quality: f32,
    /// Product price in fen (0.01 yuan); 0 for none.
    pub price_fen: u32,
    /// Content category; `None` for the creator's own.
    pub category: Option<u8>,
    /// A video or a live session.
    pub kind: PostKind,
    /// A live session's length in minutes; `None` for its cohort's (and
    /// for a video).
    pub duration_min: Option<u32>,
}

/// A parsed post log: the rows of the file, checked against a scenario (its
/// cohorts, days, slots and categories). Turn it into posts for a world with
/// [`PostLog::posts`].
#[derive(Debug, Clone, PartialEq)]
pub struct PostLog {
    source: String,
    slots_per_day: u32,
    entries: Vec<LoggedPost>,
}

/// Where a cohort's creators sit in the id range: (name, first id, count).
fn cohort_ranges(scenario: &Scenario) -> Vec<(&str, u32, u32)> {
    let mut first = 0u32;
    scenario
        .cohorts
        .iter()
        .map(|c| {
            let r = (c.name.as_str(), first, c.creators);
            first = first.saturating_add(c.creators);
            r
        })
        .collect()
}

impl PostLog {
    /// Reads and checks a post log. `source` names the input in errors (a
    /// file name, say). O(rows).
    ///
    /// Errors: [`Error::Io`] if the input cannot be read; [`Error::Invalid`]
    /// naming `source:line.column` for a bad header, a row with the wrong
    /// number of fields, a value that does not parse, a creator, day, slot
    /// or category the scenario does not have, a price below one fen or
    /// above the maximum, a quality that is not a finite number in
    /// `[-100, 100]`, or a log with no posts.
    pub fn read<R: Read>(reader: R, source: &str, scenario: &Scenario) -> Result<PostLog> {
        scenario.validate()?;
        // Comments and blank lines are taken out before the CSV parser sees
        // the text, keeping each remaining line's number: the parser's own
        // positions do not count lines it skipped before a record.
        let (text, lines) = content_lines(reader, source)?;
        // Every row is a post: a log too long for any run is refused before
        // its rows are parsed ([`crate::memory`]; what a particular run
        // adds is checked when it starts).
        crate::memory::MemoryEstimate::of(scenario)
            .with_posts(lines.len().saturating_sub(1))
            .least_run()
            .check_budget()?;
        let original = |line: u64| lines.get(line.saturating_sub(1) as usize).copied().unwrap_or(0);
        let header_line = original(1);
        let mut csv = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(text.as_bytes());
        let at = |line: u64, column: &str| format!("{source}:{line}.{column}");
        let remap = |e: csv::Error| csv_error_at(e, source, original);
        let headers = csv.headers().map_err(remap)?.clone();
        if headers.is_empty() {
            return Err(Error::invalid(source, "empty", "the post log has no header row"));
        }
        let mut index = [None::<usize>; COLUMNS.len()];
        for (i, h) in headers.iter().enumerate() {
            let Some(k) = COLUMNS.iter().position(|c| *c == h) else {
                return Err(Error::invalid(
                    at(header_line, h),
                    h,
                    format!("unknown column (a post log has {})", COLUMNS.join(", ")),
                ));
            };
            if index[k].replace(i).is_some() {
                return Err(Error::invalid(at(header_line, h), h, "column appears twice"));
            }
        }
        for (k, name) in COLUMNS.iter().enumerate() {
            if REQUIRED.contains(name) && index[k].is_none() {
                return Err(Error::invalid(
                    format!("{source}:{header_line}"),
                    headers.iter().collect::<Vec<_>>().join(","),
                    format!("missing column `{name}` (required: {})", REQUIRED.join(", ")),
                ));
            }
        }
        let cohorts = cohort_ranges(scenario);
        let creators: u64 = scenario.cohorts.iter().map(|c| u64::from(c.creators)).sum();
        let feed = &scenario.feed;
        let mut entries = Vec::new();
        let mut record = csv::StringRecord::new();
        loop {
            match csv.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(remap(e)),
            }
            let line = original(record.position().map_or(0, |p| p.line()));
            let get = |k: usize| index[k].map(|i| &record[i]);
            let uint = |k: usize, below: u64, what: &str| -> Result<u32> {
                let text = get(k).unwrap_or("");
                match text.parse::<u64>() {
                    Ok(v) if v < below => Ok(v as u32),
                    Ok(v) => Err(Error::invalid(
                        at(line, COLUMNS[k]),
                        v,
                        format!("must be below {below} ({what})"),
                    )),
                    Err(_) => Err(Error::invalid(
                        at(line, COLUMNS[k]),
                        format!("{text:?}"),
                        "must be a whole number >= 0",
                    )),
                }
            };

            let creator_text = get(0).unwrap_or("");
            let creator = match creator_text.rsplit_once('/') {
                Some((name, k)) => {
                    let Some(&(_, first, count)) = cohorts.iter().find(|c| c.0 == name) else {
                        return Err(Error::invalid(
                            at(line, "creator"),
                            creator_text,
                            format!(
                                "no cohort named {name:?} (cohorts: {})",
                                cohorts.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    };
                    match k.parse::<u32>() {
                        Ok(k) if k < count => first + k,
                        _ => {
                            return Err(Error::invalid(
                                at(line, "creator"),
                                creator_text,
                                format!("cohort {name:?} has creators 0 to {}", count.saturating_sub(1)),
                            ));
                        }
                    }
                }
                None => uint(0, creators, "the scenario's number of creators")?,
            };
            let day = uint(
                1,
                scenario.total_days().into(),
                if scenario.warmup_days() > 0 {
                    "the scenario's days: warm-up + feed.days"
                } else {
                    "feed.days"
                },
            )?;
            let slot = uint(2, feed.slots_per_day.into(), "feed.slots_per_day")?;

            let quality_text = get(3).unwrap_or("");
            // Checked before the cast to f32, which would round
            // 100.000001 to 100.
            let quality = match quality_text.parse::<f64>() {
                Ok(q) if q.is_finite() && (-100.0..=100.0).contains(&q) => q as f32,
                _ => {
                    return Err(Error::invalid(
                        at(line, "quality"),
                        format!("{quality_text:?}"),
                        "must be a number in [-100, 100]",
                    ));
                }
            };

            let price_text = get(4).unwrap_or("");
            let price_fen = if price_text.is_empty() {
                0
            } else {
                match price_text.parse::<f64>() {
                    Ok(0.0) => 0,
                    Ok(p) if p.is_finite() && p > 0.0 && p <= MAX_PRICE_YUAN && (p * 100.0).round() >= 1.0 => {
                        (p * 100.0).round() as u32
                    }
                    _ => {
                        return Err(Error::invalid(
                            at(line, "price_yuan"),
                            format!("{price_text:?}"),
                            format!("must be empty, 0, or a price from 0.01 to {MAX_PRICE_YUAN} yuan"),
                        ));
                    }
                }
            };

            let category = match get(5) {
                None | Some("") => None,
                Some(_) => Some(uint(5, feed.categories.into(), "feed.categories")? as u8),
            };
            let kind = match get(6) {
                None | Some("") | Some("video") => PostKind::Video,
                Some("live") => PostKind::Live,
                Some(other) => {
                    return Err(Error::invalid(
                        at(line, "kind"),
                        format!("{other:?}"),
                        "must be empty, video or live",
                    ));
                }
            };
            let duration_min = match get(7) {
                None | Some("") => None,
                Some(text) if kind == PostKind::Video => {
                    return Err(Error::invalid(
                        at(line, "duration_min"),
                        format!("{text:?}"),
                        "only a live session takes a duration (kind = live)",
                    ));
                }
                Some(_) => match uint(7, 1441, "a day's minutes")? {
                    0 => return Err(Error::invalid(at(line, "duration_min"), 0, "must be 1 to 1440")),
                    m => Some(m),
                },
            };
            entries.push(LoggedPost {
                line,
                creator,
                day,
                slot,
                quality,
                price_fen,
                category,
                kind,
                duration_min,
            });
        }
        if entries.is_empty() {
            return Err(Error::invalid(source, 0, "the post log has no posts"));
        }
        Ok(PostLog {
            source: source.to_string(),
            slots_per_day: feed.slots_per_day,
            entries,
        })
    }

    /// Reads and checks a post log file; errors name the file's path.
    pub fn from_file(path: impl AsRef<Path>, scenario: &Scenario) -> Result<PostLog> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        PostLog::read(std::io::BufReader::new(file), &path.display().to_string(), scenario)
    }

    /// The rows, in file order.
    pub fn entries(&self) -> &[LoggedPost] {
        &self.entries
    }

    /// Number of posts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the log has no posts (never true for a log that was read).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The posts for `world`, in file order, ready for
    /// [`Simulation::with_posts`](crate::Simulation::with_posts) (which
    /// numbers them in publication order). A row without a category takes
    /// its creator's category in this world. O(rows).
    ///
    /// Errors name `source:line.creator` if the world has fewer creators
    /// than the scenario the log was checked against.
    pub fn posts(&self, world: &World) -> Result<Vec<Post>> {
        let creators = world.creators();
        self.entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                if e.creator as usize >= creators.len() {
                    return Err(Error::invalid(
                        format!("{}:{}.creator", self.source, e.line),
                        e.creator,
                        format!("the world has {} creators", creators.len()),
                    ));
                }
                Ok(Post {
                    id: i as u32,
                    creator: e.creator,
                    slot: e.day * self.slots_per_day + e.slot,
                    quality: e.quality,
                    category: e.category.unwrap_or_else(|| creators.category(e.creator)),
                    price_fen: e.price_fen,
                    kind: e.kind,
                    // A live session without a length takes its cohort's
                    // when the simulation is built.
                    duration_s: e.duration_min.map_or(0.0, |m| (m * 60) as f32),
                })
            })
            .collect()
    }
}

/// The input without a leading byte-order mark, comment and blank lines,
/// and the original number of each line kept. Refuses input that is not
/// UTF-8, naming the line.
fn content_lines<R: Read>(mut reader: R, source: &str) -> Result<(String, Vec<u64>)> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| Error::Io {
        path: source.to_string(),
        source: e,
    })?;
    // A byte-order mark (as some spreadsheets write) is not whitespace: left
    // in, it would hide a leading comment's `#` or make a blank first line
    // look like the header.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut text = String::with_capacity(bytes.len());
    let mut lines = Vec::new();
    for (i, raw) in split_lines(bytes).enumerate() {
        let line = std::str::from_utf8(raw)
            .map_err(|_| Error::invalid(format!("{source}:{}", i + 1), "bytes", "is not valid UTF-8"))?;
        let content = line.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        // A quoted field cannot span lines (the module docs): a line with
        // an odd number of quotes opens one it does not close (a quote
        // inside a quoted field is written twice, which keeps the count
        // even).
        if line.bytes().filter(|&b| b == b'"').count() % 2 == 1 {
            return Err(Error::invalid(
                format!("{source}:{}", i + 1),
                format!("{line:?}"),
                "opens a quoted field it does not close: a field cannot span lines",
            ));
        }
        text.push_str(line);
        text.push('\n');
        lines.push(i as u64 + 1);
    }
    Ok((text, lines))
}

/// The lines of `bytes`, without their endings: a line ends at `\n`,
/// `\r\n` or a lone `\r` (old Mac files), so line numbers are right for
/// any of them.
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let b = rest?;
        match b.iter().position(|&c| c == b'\n' || c == b'\r') {
            Some(k) => {
                let skip = if b[k] == b'\r' && b.get(k + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                rest = Some(&b[k + skip..]);
                Some(&b[..k])
            }
            None => {
                rest = None;
                Some(b)
            }
        }
    })
}

/// A CSV-level error (wrong number of fields, bad UTF-8, I/O) as a crate
/// error naming the line.
pub(crate) fn csv_error(e: csv::Error, source: &str) -> Error {
    csv_error_at(e, source, |line| line)
}

/// [`csv_error`] for a parser that saw a filtered text: `line` maps the
/// parser's line numbers to the input's.
fn csv_error_at(e: csv::Error, source: &str, line: impl Fn(u64) -> u64) -> Error {
    let line = e.position().map(|p| line(p.line()));
    match e.into_kind() {
        csv::ErrorKind::Io(err) => Error::Io {
            path: source.to_string(),
            source: err,
        },
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => Error::invalid(
            format!("{source}:{}", line.unwrap_or(0)),
            format!("{len} fields"),
            format!("every row needs the header's {expected_len} fields"),
        ),
        csv::ErrorKind::Utf8 { err, .. } => Error::invalid(
            format!("{source}:{}", line.unwrap_or(0)),
            format!("field {}", err.field() + 1),
            "is not valid UTF-8",
        ),
        other => Error::invalid(format!("{source}:{}", line.unwrap_or(0)), "row", format!("{:?}", other)),
    }
}

/// Writes posts as a post log (all eight columns; price with two decimals,
/// quality in the shortest form that reads back to the same `f32`), so a
/// generated posting history can be edited and replayed. Reading the output
/// back with [`PostLog::read`] and [`PostLog::posts`] gives the same posts.
/// O(posts).
pub fn write_post_log<W: Write>(writer: W, posts: &[Post], slots_per_day: u32) -> Result<()> {
    let io = |e: csv::Error| csv_error(e, "post log");
    let mut w = csv::Writer::from_writer(writer);
    w.write_record(COLUMNS).map_err(io)?;
    for p in posts {
        let price = if p.price_fen == 0 {
            String::new()
        } else {
            format!("{}.{:02}", p.price_fen / 100, p.price_fen % 100)
        };
        w.write_record([
            p.creator.to_string(),
            (p.slot / slots_per_day).to_string(),
            (p.slot % slots_per_day).to_string(),
            p.quality.to_string(),
            price,
            p.category.to_string(),
            if p.is_live() { "live" } else { "video" }.to_string(),
            if p.is_live() {
                ((p.duration_s / 60.0).round() as u32).to_string()
            } else {
                String::new()
            },
        ])
        .map_err(io)?;
    }
    w.flush().map_err(|source| Error::Io {
        path: "post log".into(),
        source,
    })
}
