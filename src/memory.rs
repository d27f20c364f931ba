//! The memory budget: a run's peak memory, estimated from its scenario
//! before anything is allocated, and a refusal when it exceeds the budget.
//!
//! A scenario that validates can still describe a world no machine holds
//! (`users.count = 4000000000` is a valid population). Without a check the
//! run would allocate until the system refuses and the process aborts. So
//! [`World::generate`](crate::World::generate),
//! [`Simulation`](crate::Simulation)'s constructors,
//! [`PostLog::read`](crate::PostLog::read) and
//! [`Experiment::run_with`](crate::Experiment::run_with) first estimate the
//! peak ([`MemoryEstimate`]) and refuse a run above [`max_memory`] with
//! [`Error::TooLarge`], which names the fields that account for most of the
//! estimate.
//!
//! # The estimate
//! A linear model in what the scenario says, with bytes per item fitted to
//! the peak resident memory (`VmHWM`) of whole runs (`throughput --row`,
//! which prints the estimate beside the measured peak), and the fields each
//! item comes from:
//!
//! | item | bytes | field |
//! |---|---|---|
//! | the process | [`BASE_BYTES`] | |
//! | a user, world / run | [`WORLD_BYTES_PER_USER`] / [`RUN_BYTES_PER_USER`] | `users.count` |
//! | a creator, world / run | [`WORLD_BYTES_PER_CREATOR`] / [`RUN_BYTES_PER_CREATOR`] | `cohorts[i].creators` |
//! | a follow edge (expected, [`Scenario::expected_edges`], not the worst case) | [`BYTES_PER_EDGE`]; as much again when the fan lifecycle runs on a borrowed world, which copies the graph | `cohorts[i].followers`, `dynamics.enabled` |
//! | a post under way, one day's worth | [`BYTES_PER_LIVE_POST`] | `cohorts[i].posts_per_day` or the post log's rows |
//! | a post over the run, report kept / streamed | [`BYTES_PER_KEPT_POST`] / [`BYTES_PER_STREAMED_POST`] | the same |
//! | a user's region | 1 | `users.regions` |
//! | a friend-graph row / entry | 4 / 8 | `friends` ([`crate::world::FriendGraph`]) |
//!
//! Measured against it on this project's machine (estimate / measured
//! peak, `throughput --row`): the default world's one-day runs at 300k and
//! 1M users, both pushes, 0.94–1.22; 20,000 users with 24,000 posts a day
//! over one and three days, 0.84 and 0.93; 1M users with 2M creators, 1.00;
//! `growth.toml` over three days on a borrowed world (the graph copied),
//! 1.14 and 1.04; a 2,000-user world, 1.65–1.73 (the process's own few
//! megabytes dominate). For `growth_10m.toml`'s month (posts streamed) the
//! estimate, 11.9 GB, is 0.98–1.04 of the README's measured 11.5–12.2 GB
//! (not rerun). `tests/hardening.rs` checks the estimate against a
//! run in a child process within a factor of 2.
//!
//! # The budget
//! [`max_memory`] is, in order: what [`set_max_memory`] set; the
//! environment variable `FEEDSIM_MAX_MEMORY` (bytes, or with a suffix `K`,
//! `M`, `G` or `T`, powers of 1024); otherwise [`DEFAULT_SHARE`] of the
//! machine's total memory (`MemTotal` in `/proc/meminfo`); where that cannot
//! be read, no limit. The examples take `--max-memory SIZE`, which sets it.
//! A test that wants a fixed budget calls [`MemoryEstimate::check`] with it
//! rather than setting the process-wide value.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// The process itself: code, rayon's threads and fixed tables (measured:
/// a 2,000-user run peaks at 5 MB).
pub const BASE_BYTES: u64 = 8 << 20;

/// A user in the world: interests, activity, propensity and attention
/// columns (13 bytes), the per-category user lists and the follow graph's
/// row offsets (measured: the default world less its edges, 70 MB at 1M
/// users).
pub const WORLD_BYTES_PER_USER: u64 = 72;

/// A user in a run: the day's index of active users, sessions, reach sets,
/// the round's offers (about two per user at a time, 16 bytes each) and
/// buyers (fitted with the other run figures below on one-day runs of the
/// default world at 300k and 1M users).
pub const RUN_BYTES_PER_USER: u64 = 80;

/// A follow edge: the fan (4 bytes) and the edge's packed score, tier and
/// counters (8 bytes) in the follow graph's columns.
pub const BYTES_PER_EDGE: u64 = 12;

/// A creator in the world: its columns and its row of the follow graph
/// (fitted: a world of 2M creators with about 3 followers each).
pub const WORLD_BYTES_PER_CREATOR: u64 = 80;

/// A creator in a run: its state (history, churn, gate peers) and its
/// report with tallies by tier and source (fitted: 2M creators add about
/// 1.2 kB each to a one-day run's peak).
pub const RUN_BYTES_PER_CREATOR: u64 = 1_200;

/// A post whose push is under way, counted for one day's posts: its set of
/// offered users (a table or a bitset), stage history and running tallies
/// (fitted: a world of 20,000 users with 24,000 posts a day peaks at about
/// 8 kB per post over one day, the default world at 1M users nearer 3 kB).
pub const BYTES_PER_LIVE_POST: u64 = 5_000;

/// A post over the whole run: the post itself (28 bytes) and, unless the
/// run streams its posts ([`Simulation::run_streaming`](crate::Simulation::run_streaming)),
/// its kept report with tallies by tier and source (fitted: the same world
/// over three days adds about 1.5 kB per post of the later days).
pub const BYTES_PER_KEPT_POST: u64 = 1_500;

/// A post that is streamed: the post itself.
pub const BYTES_PER_STREAMED_POST: u64 = 28;

/// The default budget's share of the machine's total memory: the rest is
/// left to the system and to other processes.
pub const DEFAULT_SHARE: f64 = 0.75;

/// 0 means "not set".
static BUDGET: AtomicU64 = AtomicU64::new(0);

/// Sets the process-wide memory budget in bytes (`None`: back to the
/// environment's or the default). Every run started afterwards is checked
/// against it.
pub fn set_max_memory(bytes: Option<u64>) {
    let stored = match bytes {
        None => 0,
        Some(b) => b.max(1),
    };
    BUDGET.store(stored, Ordering::Relaxed);
}

/// The process-wide memory budget in bytes (see the [module docs](self));
/// `u64::MAX` when no limit applies.
pub fn max_memory() -> u64 {
    match BUDGET.load(Ordering::Relaxed) {
        0 => {}
        b => return b,
    }
    if let Ok(text) = std::env::var("FEEDSIM_MAX_MEMORY")
        && let Some(b) = parse_size(&text)
    {
        return b;
    }
    total_memory().map_or(u64::MAX, |t| (t as f64 * DEFAULT_SHARE) as u64)
}

/// The machine's total memory in bytes, where the system says.
pub fn total_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// A size in bytes: digits, optionally followed by `K`, `M`, `G` or `T`
/// (powers of 1024; an optional `B` or `iB` after it is accepted). `None`
/// for anything else, zero and sizes beyond `u64`.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t)
        .trim_end();
    let (digits, shift) = match t.char_indices().last()? {
        (i, 'K' | 'k') => (&t[..i], 10),
        (i, 'M' | 'm') => (&t[..i], 20),
        (i, 'G' | 'g') => (&t[..i], 30),
        (i, 'T' | 't') => (&t[..i], 40),
        _ => (t, 0),
    };
    let digits = digits.trim_end();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    n.checked_mul(1u64 << shift).filter(|&b| b > 0)
}

/// `bytes` for people: `1.5 GB` (powers of 1000, as `ls -h --si` prints).
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    match b {
        _ if b >= 1e12 => format!("{:.1} TB", b / 1e12),
        _ if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        _ if b >= 1e6 => format!("{:.0} MB", b / 1e6),
        _ => format!("{:.0} kB", b / 1e3),
    }
}

/// One item of an estimate: what it is, which field sets its count, and
/// its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryPart {
    /// The scenario field (or input) that sets the count, e.g. `users.count`.
    pub field: String,
    /// The item, e.g. "follow edges".
    pub what: &'static str,
    /// How many (expected).
    pub count: f64,
    /// Bytes each.
    pub bytes_each: u64,
}

impl MemoryPart {
    /// The part's bytes, as a float (absurd sizes overflow `u64`;
    /// [`MemoryEstimate::bytes`] saturates).
    pub fn bytes(&self) -> f64 {
        self.count * self.bytes_each as f64
    }
}

/// A run's estimated peak memory (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEstimate {
    /// The items, largest first once built.
    pub parts: Vec<MemoryPart>,
    /// Runs held at once (an experiment's parallel replicates): every part
    /// but the process counts this many times.
    pub concurrent: u32,
}

impl MemoryEstimate {
    /// The world of `scenario` alone: what [`World::generate`](crate::World::generate)
    /// allocates.
    pub fn world(scenario: &Scenario) -> MemoryEstimate {
        let users = f64::from(scenario.users.count);
        let mut parts = vec![MemoryPart {
            field: "users.count".into(),
            what: "users (world)",
            count: users,
            bytes_each: WORLD_BYTES_PER_USER,
        }];
        for (i, c) in scenario.cohorts.iter().enumerate() {
            parts.push(MemoryPart {
                field: format!("cohorts[{i}].creators"),
                what: "creators (world)",
                count: f64::from(c.creators),
                bytes_each: WORLD_BYTES_PER_CREATOR,
            });
            parts.push(MemoryPart {
                field: format!("cohorts[{i}].followers"),
                what: "follow edges",
                count: f64::from(c.creators) * c.followers.mean(),
                bytes_each: BYTES_PER_EDGE,
            });
        }
        if !scenario.users.regions.is_empty() {
            parts.push(MemoryPart {
                field: "users.regions".into(),
                what: "users' regions",
                count: users,
                bytes_each: 1,
            });
        }
        if let Some(f) = &scenario.friends {
            parts.push(MemoryPart {
                field: "friends".into(),
                what: "friend-graph entries",
                count: if f.edge_list.is_some() {
                    users
                } else {
                    f.expected_entries(scenario.users.count)
                },
                bytes_each: 8,
            });
            parts.push(MemoryPart {
                field: "friends".into(),
                what: "friend-graph rows",
                count: users,
                bytes_each: 4,
            });
        }
        MemoryEstimate { parts, concurrent: 1 }
    }

    /// The peak of one run of `scenario` that keeps every post's report,
    /// on a world it borrows (with the fan lifecycle on, the run copies the
    /// follow graph), with the scenario's generated posts.
    pub fn of(scenario: &Scenario) -> MemoryEstimate {
        let mut e = MemoryEstimate::world(scenario);
        e.parts.push(MemoryPart {
            field: "users.count".into(),
            what: "users (run)",
            count: f64::from(scenario.users.count),
            bytes_each: RUN_BYTES_PER_USER,
        });
        if scenario.dynamics.enabled {
            e.parts.push(MemoryPart {
                field: "dynamics.enabled".into(),
                what: "follow edges copied by the lifecycle",
                count: scenario.expected_edges(),
                bytes_each: BYTES_PER_EDGE,
            });
        }
        let days = f64::from(scenario.total_days());
        for (i, c) in scenario.cohorts.iter().enumerate() {
            e.parts.push(MemoryPart {
                field: format!("cohorts[{i}].creators"),
                what: "creators (run)",
                count: f64::from(c.creators),
                bytes_each: RUN_BYTES_PER_CREATOR,
            });
            let per_day = f64::from(c.creators) * c.posts_per_day;
            e.parts.push(MemoryPart {
                field: format!("cohorts[{i}].posts_per_day"),
                what: "posts under way (one day's)",
                count: per_day,
                bytes_each: BYTES_PER_LIVE_POST,
            });
            e.parts.push(MemoryPart {
                field: format!("cohorts[{i}].posts_per_day"),
                what: "posts",
                count: per_day * days,
                bytes_each: BYTES_PER_KEPT_POST,
            });
        }
        e
    }

    /// The same run on a world it owns ([`Simulation::owning`](crate::Simulation::owning)):
    /// the lifecycle rebuilds the graph in place instead of copying it.
    pub fn owning(mut self) -> MemoryEstimate {
        self.parts.retain(|p| p.field != "dynamics.enabled");
        self
    }

    /// The same run streaming its posts instead of keeping their reports.
    pub fn streaming(mut self) -> MemoryEstimate {
        for p in &mut self.parts {
            if p.what == "posts" {
                p.bytes_each = BYTES_PER_STREAMED_POST;
            }
        }
        self
    }

    /// The least any run of these posts needs (the graph owned, posts
    /// streamed): what is checked before a run's mode is known (a
    /// simulation's constructors, a post log's loading).
    pub fn least_run(self) -> MemoryEstimate {
        self.owning().streaming()
    }

    /// The same run with `posts` posts from a post log instead of the
    /// generated ones (spread over the days as the generated ones are).
    pub fn with_posts(mut self, posts: usize) -> MemoryEstimate {
        let generated: f64 = self.parts.iter().filter(|p| p.what == "posts").map(|p| p.count).sum();
        let live: f64 = self
            .parts
            .iter()
            .filter(|p| p.what == "posts under way (one day's)")
            .map(|p| p.count)
            .sum();
        let per_day = if generated > 0.0 { live / generated } else { 1.0 };
        self.parts.retain(|p| !p.what.starts_with("posts"));
        let n = posts as f64;
        self.parts.push(MemoryPart {
            field: "the post log's rows".into(),
            what: "posts under way (one day's)",
            count: (n * per_day).min(n),
            bytes_each: BYTES_PER_LIVE_POST,
        });
        self.parts.push(MemoryPart {
            field: "the post log's rows".into(),
            what: "posts",
            count: n,
            bytes_each: BYTES_PER_KEPT_POST,
        });
        self
    }

    /// `runs` such runs held at once.
    pub fn concurrent(mut self, runs: u32) -> MemoryEstimate {
        self.concurrent = runs.max(1);
        self
    }

    /// The estimated peak in bytes (saturating at `u64::MAX`).
    pub fn bytes(&self) -> u64 {
        let runs: f64 = self.parts.iter().map(MemoryPart::bytes).sum::<f64>() * f64::from(self.concurrent);
        let total = BASE_BYTES as f64 + runs;
        if total >= u64::MAX as f64 {
            u64::MAX
        } else {
            total as u64
        }
    }

    /// Refuses the run when its estimate exceeds `budget` bytes, naming the
    /// fields that account for most of the estimate (the largest parts
    /// that together make at least half of it).
    pub fn check(&self, budget: u64) -> Result<()> {
        let bytes = self.bytes();
        if bytes <= budget {
            return Ok(());
        }
        // By field, largest first: a field's parts (a user's world and run
        // bytes, say) count together.
        let mut by_field: Vec<(&str, f64, Vec<String>)> = Vec::new();
        for p in &self.parts {
            let item = format!("{:.3e} {} × {} B", p.count, p.what, p.bytes_each);
            match by_field.iter_mut().find(|(f, _, _)| *f == p.field) {
                Some((_, bytes, items)) => {
                    *bytes += p.bytes();
                    items.push(item);
                }
                None => by_field.push((&p.field, p.bytes(), vec![item])),
            }
        }
        by_field.sort_by(|a, b| b.1.total_cmp(&a.1));
        let total: f64 = by_field.iter().map(|f| f.1).sum();
        let (mut fields, mut named) = (Vec::new(), Vec::new());
        let mut covered = 0.0;
        for (field, bytes, items) in by_field {
            if covered >= total / 2.0 {
                break;
            }
            covered += bytes;
            fields.push(field.to_string());
            named.push(format!(
                "{field} ({} = {})",
                items.join(" + "),
                human(bytes.min(u64::MAX as f64) as u64)
            ));
        }
        let mut breakdown = named.join(", ");
        if self.concurrent > 1 {
            breakdown += &format!("; × {} runs held at once", self.concurrent);
        }
        Err(Error::TooLarge {
            fields,
            estimate: human(bytes),
            budget: human(budget),
            breakdown,
        })
    }

    /// [`check`](Self::check) against the process-wide [`max_memory`].
    pub fn check_budget(&self) -> Result<()> {
        self.check(max_memory())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_and_without_units() {
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("8 GiB"), Some(8 << 30));
        assert_eq!(parse_size("512m"), Some(512 << 20));
        assert_eq!(parse_size("2TB"), Some(2 << 40));
        for bad in [
            "",
            "G",
            "-1",
            "1.5G",
            "0",
            "99999999999999999999",
            "20000000T",
            "8X",
            " ",
        ] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn refusal_names_the_largest_parts() {
        let mut s = Scenario::default_scenario();
        s.users.count = 4_000_000_000;
        let e = MemoryEstimate::of(&s);
        assert!(e.bytes() > 500_000_000_000, "{}", e.bytes());
        let err = e.check(16 << 30).unwrap_err();
        assert_eq!(err.field(), Some("users.count"), "{err}");
        // The default world passes a 1 GiB budget, and 4 parallel copies of
        // it do not.
        let d = MemoryEstimate::of(&Scenario::default_scenario());
        d.check(1 << 30).unwrap();
        assert!(d.clone().concurrent(4).check(1 << 30).is_err());
    }
}
