//! The examples' command lines, parsed and checked before any work.
//!
//! Hidden from the documentation: this is the examples' interface, kept in
//! the library so that a fuzz target (`fuzz/fuzz_targets/command_line.rs`) and the
//! tests can call the same parsers. Each example has a [`Spec`]: its
//! positional arguments and its options, each with the kind of value it
//! takes. [`Spec::parse`] refuses an unknown option, a missing or repeated
//! value and a value of the wrong kind with an error that names the option
//! and the value, so a typo (`--replicate 3`) stops the example at once
//! instead of running with the default. Every spec also takes
//! `--max-memory SIZE` ([`crate::memory`]).

use std::str::FromStr;

use crate::error::{Error, Result};
use crate::experiment::Axis;

/// What an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any text (a file name, a prefix, a list parsed later).
    Text,
    /// A whole number of at least 1 that fits a `u32` (users, days,
    /// replicates).
    Count,
    /// A whole number of at least 0 that fits a `u32`.
    Index,
    /// A finite number.
    Number,
    /// A memory size ([`crate::memory::parse_size`]).
    Size,
    /// No value: present or not.
    Switch,
    /// Every following argument up to the next option (`--merge a.json
    /// b.json`).
    Files,
    /// One of the listed words.
    OneOf(&'static [&'static str]),
}

/// One option: `--name`, its kind, and whether it may be given more than
/// once.
#[derive(Debug, Clone, Copy)]
pub struct Opt {
    /// The name without the leading `--`.
    pub name: &'static str,
    /// What it takes.
    pub kind: Kind,
    /// May appear more than once (`--axis`).
    pub repeat: bool,
}

const fn opt(name: &'static str, kind: Kind) -> Opt {
    Opt {
        name,
        kind,
        repeat: false,
    }
}

/// An example's command line.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The example.
    pub name: &'static str,
    /// The fewest and the most positional arguments.
    pub positional: (usize, usize),
    /// Its options (`--max-memory` is added to every spec).
    pub options: &'static [Opt],
    /// The usage line printed with an error.
    pub usage: &'static str,
}

/// The option every example takes.
pub const MAX_MEMORY: Opt = opt("max-memory", Kind::Size);

/// The parsed command line: values in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    /// Positional arguments.
    pub positional: Vec<String>,
    /// `(option, value)` pairs; a switch's value is empty, and `Files`
    /// gives one pair per file.
    pub values: Vec<(&'static str, String)>,
}

impl Args {
    /// The value of an option given once (the last, for a repeated one).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of an option, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether an option (a switch, say) is present.
    pub fn has(&self, name: &str) -> bool {
        self.values.iter().any(|(n, _)| *n == name)
    }

    /// An option's value parsed as `T`, or `default` when absent.
    pub fn parsed<T: FromStr>(&self, name: &str, default: T) -> Result<T> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| Error::invalid(format!("--{name}"), v, "is not a valid value")),
        }
    }

    /// The `--max-memory` budget, if given.
    pub fn max_memory(&self) -> Option<u64> {
        self.get(MAX_MEMORY.name).and_then(crate::memory::parse_size)
    }
}

impl Spec {
    fn find(&self, name: &str) -> Option<Opt> {
        self.options
            .iter()
            .copied()
            .chain(std::iter::once(MAX_MEMORY))
            .find(|o| o.name == name)
    }

    /// Parses and checks `args` (without the program name).
    pub fn parse<S: AsRef<str>>(&self, args: &[S]) -> Result<Args> {
        let mut out = Args::default();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_ref();
            i += 1;
            let Some(body) = arg.strip_prefix("--") else {
                out.positional.push(arg.to_string());
                continue;
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let Some(o) = self.find(name) else {
                let known: Vec<String> = self
                    .options
                    .iter()
                    .chain(std::iter::once(&MAX_MEMORY))
                    .map(|o| format!("--{}", o.name))
                    .collect();
                return Err(Error::invalid(
                    "option",
                    arg,
                    format!("{} takes {}", self.name, known.join(", ")),
                ));
            };
            if !o.repeat && out.has(o.name) {
                return Err(Error::invalid(format!("--{name}"), arg, "is given more than once"));
            }
            match o.kind {
                Kind::Switch => {
                    if let Some(v) = inline {
                        return Err(Error::invalid(format!("--{name}"), v, "takes no value"));
                    }
                    out.values.push((o.name, String::new()));
                }
                Kind::Files => {
                    let start = out.values.len();
                    out.values.extend(inline.map(|v| (o.name, v.to_string())));
                    while i < args.len() && !args[i].as_ref().starts_with("--") {
                        out.values.push((o.name, args[i].as_ref().to_string()));
                        i += 1;
                    }
                    if out.values.len() == start {
                        return Err(Error::invalid(
                            format!("--{name}"),
                            "nothing",
                            "needs at least one file",
                        ));
                    }
                }
                kind => {
                    let value = match inline {
                        Some(v) => v,
                        None if i < args.len() => {
                            i += 1;
                            args[i - 1].as_ref()
                        }
                        None => return Err(Error::invalid(format!("--{name}"), "nothing", "needs a value")),
                    };
                    check_value(name, kind, value)?;
                    out.values.push((o.name, value.to_string()));
                }
            }
        }
        let (min, max) = self.positional;
        if out.positional.len() < min || out.positional.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(Error::invalid(
                "arguments",
                out.positional.join(" "),
                format!("{} takes {want} argument(s) besides its options", self.name),
            ));
        }
        Ok(out)
    }
}

fn check_value(name: &str, kind: Kind, value: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid(format!("--{name}"), value, why));
    match kind {
        Kind::Text | Kind::Switch | Kind::Files => {
            if value.is_empty() {
                return bad("must not be empty");
            }
        }
        Kind::Count => match value.parse::<u32>() {
            Ok(n) if n >= 1 => {}
            _ => return bad("must be a whole number from 1 to 4294967295"),
        },
        Kind::Index => {
            if value.parse::<u32>().is_err() {
                return bad("must be a whole number from 0 to 4294967295");
            }
        }
        Kind::Number => match value.parse::<f64>() {
            Ok(x) if x.is_finite() => {}
            _ => return bad("must be a finite number"),
        },
        Kind::Size => {
            if crate::memory::parse_size(value).is_none() {
                return bad("must be a size in bytes, or with K, M, G or T (powers of 1024), above 0");
            }
        }
        Kind::OneOf(words) => {
            if !words.contains(&value) {
                return bad(&format!("must be one of {}", words.join(", ")));
            }
        }
    }
    Ok(())
}

/// A sweep axis as the `sweep` example takes it: `PATH=V1,V2,...` or
/// `PATH=FIRST:LAST:COUNT`.
pub fn axis(text: &str) -> Result<Axis> {
    let field = "--axis";
    let Some((path, values)) = text.split_once('=') else {
        return Err(Error::invalid(field, text, "expected PATH=VALUES"));
    };
    let number = |v: &str| -> Result<f64> {
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(Error::invalid(field, text, format!("{v:?} is not a finite number"))),
        }
    };
    let parts: Vec<&str> = values.split(':').collect();
    match parts[..] {
        [first, last, count] => {
            let n = count
                .trim()
                .parse::<usize>()
                .map_err(|_| Error::invalid(field, text, format!("{count:?} is not a count")))?;
            // Checked against the sweep's limit before any value is made.
            Axis::linspace(path, number(first)?, number(last)?, n)
        }
        [list] => Ok(Axis::new(
            path,
            list.split(',').map(number).collect::<Result<Vec<_>>>()?,
        )),
        _ => Err(Error::invalid(field, text, "expected V1,V2,... or FIRST:LAST:COUNT")),
    }
}

/// The `sweep` example's `--metrics GROUP/METRIC,...`.
pub fn metrics(list: &str) -> Result<Vec<(String, String)>> {
    list.split(',')
        .map(|gm| match gm.split_once('/') {
            Some((g, m)) if !g.is_empty() && !m.is_empty() => Ok((g.to_string(), m.to_string())),
            _ => Err(Error::invalid("--metrics", gm, "expected GROUP/METRIC")),
        })
        .collect()
}

const USERS: Opt = opt("users", Kind::Count);
const REPLICATES: Opt = opt("replicates", Kind::Count);
const JSON: Opt = opt("json", Kind::Text);
const SCENARIO: Opt = opt("scenario", Kind::Text);
const DAYS: Opt = opt("days", Kind::Count);
/// The warm-up's fast days (`[warmup] fast.days`; 0 for none).
const FAST_DAYS: Opt = opt("fast-days", Kind::Index);
/// The fast days' speed (`[warmup] fast.speed`).
const FAST_SPEED: Opt = opt("fast-speed", Kind::Number);
const POLICY: Opt = opt("policy", Kind::OneOf(&["ladder", "iron", "both"]));

/// The examples that compare the ladder with iron-fan first on a scenario
/// file over replicates (`live_rooms`, `paid_traffic`, `shelf_search`).
pub const LADDER_AGAINST_IRON: &[Opt] = &[REPLICATES, USERS, SCENARIO, JSON];

/// Every example's command line, for the fuzz target and the tests.
pub const SPECS: &[Spec] = &[
    Spec {
        name: "calibrate",
        positional: (0, 0),
        options: &[USERS, JSON],
        usage: "calibrate [--users N] [--json FILE]",
    },
    Spec {
        name: "charts",
        positional: (0, 0),
        options: &[
            opt("out", Kind::Text),
            USERS,
            REPLICATES,
            opt("metric", Kind::Text),
            opt("sweep", Kind::Text),
        ],
        usage: "charts [--out DIR] [--users N] [--replicates R] [--metric GROUP/METRIC] [--sweep FILE]",
    },
    Spec {
        name: "compare_feeds",
        positional: (0, 0),
        options: &[REPLICATES, USERS, JSON],
        usage: "compare_feeds [--replicates R] [--users N] [--json FILE]",
    },
    Spec {
        name: "compare_policies",
        positional: (0, 0),
        options: &[],
        usage: "compare_policies",
    },
    Spec {
        name: "custom_policy",
        positional: (0, 0),
        options: &[USERS],
        usage: "custom_policy [--users N]",
    },
    Spec {
        name: "hosts_90_days",
        positional: (0, 1),
        options: &[],
        usage: "hosts_90_days [SCENARIO.toml]",
    },
    Spec {
        name: "iron_fan_growth",
        positional: (0, 1),
        options: &[],
        usage: "iron_fan_growth [SCENARIO.toml]",
    },
    Spec {
        name: "iron_fan_ratio",
        positional: (0, 0),
        options: &[
            USERS,
            opt("creators", Kind::Count),
            opt("followers", Kind::Count),
            REPLICATES,
            JSON,
        ],
        usage: "iron_fan_ratio [--users N] [--creators C] [--followers F] [--replicates R] [--json FILE]",
    },
    Spec {
        name: "koe_vs_kol",
        positional: (0, 0),
        options: &[REPLICATES, USERS, JSON, opt("csv", Kind::Text)],
        usage: "koe_vs_kol [--replicates R] [--users N] [--json FILE] [--csv FILE]",
    },
    Spec {
        name: "live_rooms",
        positional: (0, 0),
        options: LADDER_AGAINST_IRON,
        usage: "live_rooms [--scenario FILE] [--users N] [--replicates R] [--json FILE]",
    },
    Spec {
        name: "paid_traffic",
        positional: (0, 0),
        options: LADDER_AGAINST_IRON,
        usage: "paid_traffic [--scenario FILE] [--users N] [--replicates R] [--json FILE]",
    },
    Spec {
        name: "fan_bases",
        positional: (0, 0),
        options: &[
            SCENARIO,
            USERS,
            opt("warmup-days", Kind::Index),
            FAST_DAYS,
            FAST_SPEED,
            JSON,
        ],
        usage: "fan_bases [--scenario FILE] [--users N] [--warmup-days W] [--fast-days F] [--fast-speed S] [--json FILE]",
    },
    Spec {
        name: "policy_switch",
        positional: (0, 0),
        options: &[
            REPLICATES,
            SCENARIO,
            USERS,
            opt("warmup-days", Kind::Index),
            FAST_DAYS,
            FAST_SPEED,
            DAYS,
            opt("arms", Kind::OneOf(&["all", "ladder"])),
            JSON,
        ],
        usage: "policy_switch [--scenario FILE] [--users N] [--replicates R] [--warmup-days W] [--fast-days F] \
                [--fast-speed S] [--days D] [--arms all|ladder] [--json FILE]",
    },
    Spec {
        name: "scale",
        positional: (0, 0),
        options: &[USERS, DAYS, POLICY, SCENARIO, opt("save-scenario", Kind::Text)],
        usage: "scale [--users N] [--days D] [--policy ladder|iron|both] [--scenario FILE] [--save-scenario FILE]",
    },
    Spec {
        name: "scenario",
        positional: (1, 1),
        options: &[opt("posts", Kind::Text), JSON],
        usage: "scenario FILE.toml [--posts POSTS.csv] [--json REPORT.json]",
    },
    Spec {
        name: "shelf_search",
        positional: (0, 0),
        options: LADDER_AGAINST_IRON,
        usage: "shelf_search [--scenario FILE] [--users N] [--replicates R] [--json FILE]",
    },
    Spec {
        name: "sweep",
        positional: (0, 0),
        options: &[
            opt("out", Kind::Text),
            opt("metrics", Kind::Text),
            opt("merge", Kind::Files),
            SCENARIO,
            USERS,
            Opt {
                name: "axis",
                kind: Kind::Text,
                repeat: true,
            },
            opt("shard", Kind::Text),
            REPLICATES,
            opt("confidence", Kind::Number),
        ],
        usage: "sweep [--scenario FILE | --users N] --axis PATH=V1,V2,... [--axis ...] [--replicates R] \
                [--confidence C] [--shard i/n] [--metrics GROUP/METRIC,...] --out PREFIX\n       \
                sweep --merge SHARD.json... --out PREFIX [--metrics ...]",
    },
    Spec {
        name: "throughput",
        positional: (0, 0),
        options: &[
            SCENARIO,
            USERS,
            DAYS,
            opt("attention", Kind::OneOf(&["unlimited", "finite", "both"])),
            POLICY,
            JSON,
            opt("row", Kind::Switch),
        ],
        usage: "throughput [--scenario FILE] [--users N] [--days D] [--attention unlimited|finite|both] \
                [--policy ladder|iron|both] [--json FILE]",
    },
];

/// The spec of example `name`.
pub fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, args: &[&str]) -> Result<Args> {
        spec(name).unwrap().parse(args)
    }

    #[test]
    fn options_are_checked_by_kind() {
        let a = parse(
            "sweep",
            &["--users=300000", "--axis", "a=1,2", "--axis", "b=0:1:3", "--out", "x"],
        )
        .unwrap();
        assert_eq!(a.get("users"), Some("300000"));
        assert_eq!(a.all("axis"), ["a=1,2", "b=0:1:3"]);
        let m = parse("sweep", &["--merge", "a.json", "b.json", "--out", "p"]).unwrap();
        assert_eq!(m.all("merge"), ["a.json", "b.json"]);
        for (name, args, field) in [
            ("sweep", &["--replicate", "3"][..], "option"),
            ("sweep", &["--users", "0"], "--users"),
            ("sweep", &["--users", "-5"], "--users"),
            ("sweep", &["--users"], "--users"),
            ("sweep", &["--confidence", "nan"], "--confidence"),
            ("sweep", &["--merge", "--out", "x"], "--merge"),
            ("sweep", &["--out", "a", "--out", "b"], "--out"),
            ("throughput", &["--row=yes"], "--row"),
            ("throughput", &["--policy", "fast"], "--policy"),
            ("scenario", &[], "arguments"),
            ("scenario", &["a.toml", "b.toml"], "arguments"),
            ("calibrate", &["--max-memory", "lots"], "--max-memory"),
            ("calibrate", &["stray"], "arguments"),
        ] {
            let e = parse(name, args).unwrap_err();
            assert_eq!(e.field(), Some(field), "{name} {args:?}: {e}");
        }
        let a = parse("scenario", &["s.toml", "--max-memory", "2G"]).unwrap();
        assert_eq!(a.max_memory(), Some(2 << 30));
        assert_eq!(a.positional, ["s.toml"]);
    }

    #[test]
    fn axes_and_metrics_parse_or_name_the_flag() {
        assert_eq!(axis("a.b=1,2.5").unwrap().values, [1.0, 2.5]);
        assert_eq!(axis("a=0:1:3").unwrap().values, [0.0, 0.5, 1.0]);
        for bad in ["a", "a=x", "a=1:2", "a=1:2:x", "a=1:2:3:4", "a=inf", "a=0:1:1000000000"] {
            assert_eq!(
                axis(bad)
                    .unwrap_err()
                    .field()
                    .map(|f| f.starts_with("--axis") || f == "sweep.axes"),
                Some(true),
                "{bad}"
            );
        }
        assert_eq!(metrics("platform/gmv,waist/x").unwrap().len(), 2);
        assert!(metrics("platform").is_err());
        assert!(metrics("/x").is_err());
    }

    #[test]
    fn every_example_has_one_spec() {
        let mut names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SPECS.len());
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
        let mut examples: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".rs").map(str::to_string))
            .collect();
        examples.sort();
        assert_eq!(names, examples);
    }
}
