//! The friend graph: symmetric user–user friendships (WeChat's), in
//! compressed sparse rows.

use std::io::BufRead;

use rand_distr::{Distribution, LogNormal};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::rng::{Permutation, stream, tag};

/// User → friends, symmetric (`v` is among `u`'s friends exactly when `u`
/// is among `v`'s), without self-friendships or repeats; each row sorted by
/// user id.
///
/// **Memory**: 4 bytes per user (the row offsets) and 8 bytes per
/// friendship (its two directed entries of 4 bytes), so at most
/// 2^32 − 1 directed entries (about 2.1 billion friendships).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FriendGraph {
    offsets: Vec<u32>,
    friends: Vec<u32>,
}

impl FriendGraph {
    /// Number of users (rows).
    pub fn users(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Number of friendships (each counted once).
    pub fn friendships(&self) -> usize {
        self.friends.len() / 2
    }

    /// User `u`'s friends, ascending ids (empty for an id past the last
    /// user). O(1).
    pub fn friends_of(&self, u: u32) -> &[u32] {
        let u = u as usize;
        if u + 1 >= self.offsets.len() {
            return &[];
        }
        &self.friends[self.offsets[u] as usize..self.offsets[u + 1] as usize]
    }

    /// Whether `u` and `v` are friends. O(log friends).
    pub fn are_friends(&self, u: u32, v: u32) -> bool {
        self.friends_of(u).binary_search(&v).is_ok()
    }

    /// Bytes the graph holds: 4 per user and 4 per directed entry.
    pub fn bytes(&self) -> usize {
        4 * (self.offsets.len() + self.friends.len())
    }

    /// The graph of `users` users with the friendships `pairs` (either
    /// order; self-friendships and repeats are dropped). O(pairs log).
    ///
    /// Errors if a user id is not below `users` (naming `what[i]`) or the
    /// graph would pass 2^32 − 1 directed entries.
    pub fn from_pairs(users: u32, pairs: &[(u32, u32)], what: &str) -> Result<FriendGraph> {
        let mut directed: Vec<(u32, u32)> = Vec::with_capacity(2 * pairs.len());
        for (i, &(a, b)) in pairs.iter().enumerate() {
            for x in [a, b] {
                if x >= users {
                    return Err(Error::invalid(
                        format!("{what}[{i}]"),
                        x,
                        format!("a user id must be below the user count, {users}"),
                    ));
                }
            }
            if a != b {
                directed.push((a, b));
                directed.push((b, a));
            }
        }
        directed.sort_unstable();
        directed.dedup();
        if directed.len() > u32::MAX as usize {
            return Err(Error::invalid(
                what,
                directed.len(),
                "more directed friend entries than the u32 row offsets hold (2^32 - 1)",
            ));
        }
        let mut offsets = vec![0u32; users as usize + 1];
        for &(a, _) in &directed {
            offsets[a as usize + 1] += 1;
        }
        for i in 0..users as usize {
            offsets[i + 1] += offsets[i];
        }
        Ok(FriendGraph {
            offsets,
            friends: directed.into_iter().map(|(_, b)| b).collect(),
        })
    }

    /// The graph whose friendships are the consecutive pairs of `stubs`
    /// (ids below `users`, at most 2^32 − 1 of them), built in place: 8
    /// bytes per stub at the peak (the stubs and the rows), where sorting
    /// directed pairs would take 12. O(stubs · log friends).
    fn from_stub_pairs(users: u32, stubs: &[u32]) -> FriendGraph {
        let n = users as usize;
        let mut offsets = vec![0u32; n + 1];
        for p in stubs.chunks_exact(2) {
            if p[0] != p[1] {
                offsets[p[0] as usize + 1] += 1;
                offsets[p[1] as usize + 1] += 1;
            }
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut friends = vec![0u32; offsets[n] as usize];
        let mut fill = offsets.clone();
        for p in stubs.chunks_exact(2) {
            let (a, b) = (p[0] as usize, p[1] as usize);
            if a != b {
                friends[fill[a] as usize] = p[1];
                fill[a] += 1;
                friends[fill[b] as usize] = p[0];
                fill[b] += 1;
            }
        }
        drop(fill);
        // Each row sorted and without repeats, moved down over the repeats
        // removed before it.
        let mut write = 0usize;
        let mut start = 0usize;
        for u in 0..n {
            let end = offsets[u + 1] as usize;
            friends[start..end].sort_unstable();
            let row_start = write;
            for i in start..end {
                let v = friends[i];
                if write == row_start || friends[write - 1] != v {
                    friends[write] = v;
                    write += 1;
                }
            }
            offsets[u] = row_start as u32;
            start = end;
        }
        offsets[n] = write as u32;
        friends.truncate(write);
        friends.shrink_to_fit();
        FriendGraph { offsets, friends }
    }

    /// Reads an edge list: one friendship per line, two user ids separated
    /// by a comma, tab or spaces (`12,40`); blank lines and lines starting
    /// with `#` are skipped. A bad line is refused with its number
    /// (`source:line`). O(lines log lines).
    pub fn read_edge_list(reader: impl BufRead, users: u32, source: &str) -> Result<FriendGraph> {
        let mut pairs = Vec::new();
        for (i, line) in reader.lines().enumerate() {
            let at = format!("{source}:{}", i + 1);
            let line = line.map_err(|e| Error::invalid(&at, "(unreadable)", e.to_string()))?;
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = t
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|f| !f.is_empty())
                .collect();
            let [a, b] = fields.as_slice() else {
                return Err(Error::invalid(
                    &at,
                    t,
                    "a line holds two user ids (`a,b`, `a b` or `a<tab>b`)",
                ));
            };
            let id = |f: &str| -> Result<u32> {
                match f.parse::<u32>() {
                    Ok(u) if u < users => Ok(u),
                    _ => Err(Error::invalid(
                        &at,
                        f,
                        format!("a user id is an integer from 0 to {}", users.saturating_sub(1)),
                    )),
                }
            };
            pairs.push((id(a)?, id(b)?));
        }
        FriendGraph::from_pairs(users, &pairs, source)
    }
}

/// The scenario's `[friends]`: a friend graph over the users (WeChat
/// Channels' friends, DOMAIN.md \[003\]) and how posts travel on it.
///
/// **Generated graph (our assumptions; DOMAIN.md has no public figure for
/// WeChat friend counts).** Each user's number of friends is drawn
/// log-normal with median `degree_median` and log-sd `degree_sigma`, capped
/// at `degree_max`; the friendships are then a configuration model: every
/// user holds as many stubs as friends, the stubs are put in a keyed random
/// order and paired in turn, and self-friendships and repeats are dropped
/// (so a few users end with slightly fewer friends than drawn). Defaults:
/// median 60 and log-sd 0.8 (mean about 83), in the order of the ~100
/// friends under which, at KuaiRand's like rate, each like spawns about one
/// new offer.
///
/// **Loaded graph.** With `edge_list = "file"` the friendships are read
/// from that file instead ([`FriendGraph::read_edge_list`]; the path is
/// taken as written, relative to the working directory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FriendParams {
    /// Median friends per user (at least 1).
    pub degree_median: f64,
    /// Log-sd of friends per user, in `[0, 3]`.
    pub degree_sigma: f64,
    /// The most friends one user draws (at least 1; a world's user count
    /// less one caps it too).
    pub degree_max: u32,
    /// An edge-list file to read instead of generating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge_list: Option<String>,
    /// The most friend hops a view may come through: a post reaches its
    /// creator's friends at hop 1, a liker's friends at the liker's hop
    /// plus one (our assumption; at least 1, at most 16).
    pub max_hops: u8,
    /// The weight of friend traffic in the one waterfall: the feed's
    /// ranking score of an offer through friends is multiplied by it (in
    /// `[0, 1000]`; ours: 2, the feed favouring what friends post and like).
    pub weight: f64,
}

impl Default for FriendParams {
    fn default() -> Self {
        FriendParams {
            degree_median: 60.0,
            degree_sigma: 0.8,
            degree_max: 5_000,
            edge_list: None,
            max_hops: 3,
            weight: 2.0,
        }
    }
}

impl FriendParams {
    /// Checks every field against a world of `users` users; errors name
    /// the field (`friends.degree_median`, ...).
    pub fn validate(&self, users: u32) -> Result<()> {
        check::within("friends.degree_median", self.degree_median, 1.0, f64::from(users))?;
        check::within("friends.degree_sigma", self.degree_sigma, 0.0, 3.0)?;
        if self.degree_max == 0 {
            return Err(Error::invalid(
                "friends.degree_max",
                self.degree_max,
                "must be at least 1",
            ));
        }
        if !(1..=16).contains(&self.max_hops) {
            return Err(Error::invalid("friends.max_hops", self.max_hops, "must be 1 to 16"));
        }
        check::within("friends.weight", self.weight, 0.0, 1_000.0)
    }

    /// The expected directed entries of the generated graph (users × mean
    /// friends), for the size check before generating.
    pub fn expected_entries(&self, users: u32) -> f64 {
        let mean = self.degree_median * (self.degree_sigma * self.degree_sigma / 2.0).exp();
        f64::from(users) * mean.min(f64::from(self.degree_max))
    }

    /// The graph over `users` users: read from `edge_list`, or generated
    /// from `seed`. O(users + friendships · log).
    pub fn build(&self, users: u32, seed: u64) -> Result<FriendGraph> {
        self.validate(users)?;
        if let Some(path) = &self.edge_list {
            let file = std::fs::File::open(path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            return FriendGraph::read_edge_list(std::io::BufReader::new(file), users, path);
        }
        if self.expected_entries(users) > f64::from(u32::MAX) {
            return Err(Error::invalid(
                "friends.degree_median",
                self.degree_median,
                "the graph would hold more directed entries than 2^32 - 1",
            ));
        }
        let degree = LogNormal::new(self.degree_median.ln(), self.degree_sigma)
            .map_err(|e| Error::invalid("friends.degree_sigma", self.degree_sigma, e.to_string()))?;
        let cap = u64::from(self.degree_max.min(users.saturating_sub(1)).max(1));
        // Stubs: user u appears once per friend drawn.
        let mut stubs: Vec<u32> = Vec::new();
        let mut rng = stream(seed, tag::FRIENDS, 0, 0);
        for u in 0..users {
            let d = (degree.sample(&mut rng).round() as u64).clamp(1, cap);
            stubs.extend(std::iter::repeat_n(u, d as usize));
        }
        if stubs.len() > u32::MAX as usize {
            return Err(Error::invalid(
                "friends.degree_median",
                self.degree_median,
                "the graph would hold more directed entries than 2^32 - 1",
            ));
        }
        // A keyed random order of the stubs, then pairs in turn.
        let order = Permutation::new(stubs.len() as u64, crate::rng::key(seed, tag::FRIENDS, 1, 0));
        let mut shuffled = vec![0u32; stubs.len()];
        for (i, s) in shuffled.iter_mut().enumerate() {
            *s = stubs[order.at(i as u64) as usize];
        }
        drop(stubs);
        Ok(FriendGraph::from_stub_pairs(users, &shuffled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_make_a_symmetric_graph_without_loops_or_repeats() {
        let g = FriendGraph::from_pairs(5, &[(0, 1), (1, 0), (2, 2), (3, 1), (4, 0)], "t").unwrap();
        assert_eq!(g.friends_of(0), &[1, 4]);
        assert_eq!(g.friends_of(1), &[0, 3]);
        assert_eq!(g.friends_of(2), &[] as &[u32]);
        assert_eq!(g.friendships(), 3);
        assert!(g.are_friends(3, 1) && g.are_friends(1, 3) && !g.are_friends(0, 3));
        assert_eq!(g.bytes(), 4 * (6 + 6));
        let e = FriendGraph::from_pairs(5, &[(0, 1), (1, 5)], "t").unwrap_err();
        assert_eq!(e.field(), Some("t[1]"));
    }

    #[test]
    fn an_edge_list_is_read_and_bad_lines_are_refused_with_their_number() {
        let text = "# friends\n0,1\n\n2 3\n1\t2\n";
        let g = FriendGraph::read_edge_list(text.as_bytes(), 4, "f.csv").unwrap();
        assert_eq!(g.friends_of(1), &[0, 2]);
        for (bad, line) in [
            ("0,1\n1,9\n", 2),
            ("0,1,2\n", 1),
            ("0;1\n", 1),
            ("a,b\n", 1),
            ("0,1\n\n-1,2\n", 3),
        ] {
            let e = FriendGraph::read_edge_list(bad.as_bytes(), 4, "f.csv").unwrap_err();
            assert_eq!(e.field(), Some(format!("f.csv:{line}").as_str()), "{bad:?}: {e}");
        }
    }

    #[test]
    fn a_generated_graph_follows_its_degree_distribution() {
        let p = FriendParams::default();
        let n = 50_000;
        let g = p.build(n, 7).unwrap();
        assert_eq!(g.users(), n as usize);
        for u in [0, 17, 49_999] {
            for &v in g.friends_of(u) {
                assert!(g.are_friends(v, u) && v != u);
            }
        }
        let mut degrees: Vec<usize> = (0..n).map(|u| g.friends_of(u).len()).collect();
        degrees.sort_unstable();
        let median = degrees[degrees.len() / 2] as f64;
        // The drawn median is 60; repeats and loops drop a few.
        assert!((55.0..=61.0).contains(&median), "{median}");
        let mean = 2.0 * g.friendships() as f64 / f64::from(n);
        let expected = p.expected_entries(n) / f64::from(n);
        assert!((mean / expected - 1.0).abs() < 0.03, "{mean} against {expected}");
        // The in-place build is the plain one.
        let mut pairs = Vec::new();
        for u in 0..n {
            pairs.extend(g.friends_of(u).iter().map(|&v| (u, v)));
        }
        assert_eq!(g, FriendGraph::from_pairs(n, &pairs, "t").unwrap());
        let stubs = [0, 1, 1, 0, 2, 2, 3, 1, 0, 3, 3, 0];
        let pairs: Vec<(u32, u32)> = stubs.chunks(2).map(|p| (p[0], p[1])).collect();
        assert_eq!(
            FriendGraph::from_stub_pairs(4, &stubs),
            FriendGraph::from_pairs(4, &pairs, "t").unwrap()
        );
        // Deterministic.
        assert_eq!(g, p.build(n, 7).unwrap());
        assert_ne!(g, p.build(n, 8).unwrap());
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        let field = |p: FriendParams| p.validate(1_000).unwrap_err().field().map(str::to_owned);
        let d = FriendParams::default;
        assert_eq!(
            field(FriendParams {
                degree_median: 0.5,
                ..d()
            })
            .as_deref(),
            Some("friends.degree_median")
        );
        assert_eq!(
            field(FriendParams { degree_max: 0, ..d() }).as_deref(),
            Some("friends.degree_max")
        );
        assert_eq!(
            field(FriendParams { max_hops: 0, ..d() }).as_deref(),
            Some("friends.max_hops")
        );
        assert_eq!(
            field(FriendParams {
                weight: f64::NAN,
                ..d()
            })
            .as_deref(),
            Some("friends.weight")
        );
    }
}
