//! Counts over impressions, and the audience tiers they are split by: plain
//! data shared by policies (which read feedback), the engine (which counts)
//! and reports (which show it).

use serde::{Deserialize, Serialize};

use crate::response::Relation;

/// `n / d`, or 0 when `d` is 0: every rate in a report.
pub(crate) fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

/// Event counts over a set of impressions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tally {
    /// Impressions (each is a distinct user–post pair).
    pub impressions: u64,
    /// Impressions on iron fans of the post's creator.
    pub iron_fan_impressions: u64,
    /// Impressions on the creator's other fans.
    pub fan_impressions: u64,
    /// Impressions on users who do not follow the creator.
    pub public_impressions: u64,
    /// Watch-throughs: impressions watched to the end (completions).
    pub watches: u64,
    /// Long views (KuaiRand's: a completed view of a video of at most
    /// `watch.long_view_s` seconds, or at least that long watched of a
    /// longer one).
    pub long_views: u64,
    /// Time watched, milliseconds (each impression rounded to the ms).
    pub watch_time_ms: u64,
    /// Sum of the impressions' watch ratios (time watched / duration), in
    /// thousandths (each rounded).
    pub watch_ratio_milli: u64,
    /// Likes.
    pub likes: u64,
    /// Comments.
    pub comments: u64,
    /// Shares.
    pub shares: u64,
    /// Follows gained (strangers who followed).
    pub follows: u64,
    /// Product clicks.
    pub clicks: u64,
    /// Orders.
    pub orders: u64,
    /// Orders by viewers who had ordered from the same creator earlier in
    /// the run (in an earlier slot).
    pub repurchases: u64,
    /// Gross merchandise value in fen.
    pub gmv_fen: u64,
    /// GMV from orders placed by fans (iron fans included), in fen.
    pub fan_gmv_fen: u64,
    /// Offers made to active users that their feed did not show, for lack of
    /// attention in the round (lost, not carried over; see the engine docs).
    /// Not impressions: no response was drawn.
    pub offers_not_shown: u64,
    /// Covers shown by a feed of covers (Kuaishou's double column,
    /// [`DoubleColumn`](crate::feed::DoubleColumn)), clicked or not. A
    /// cover is an offer: a clicked one is also an impression (a play), an
    /// unclicked one is also in `offers_not_shown`. 0 in a feed without
    /// covers.
    #[serde(default)]
    pub covers: u64,
    /// Covers clicked: each became a play (an impression).
    #[serde(default)]
    pub cover_clicks: u64,
    /// What paid traffic charged for these impressions, in fen
    /// ([`PaidTraffic`](crate::feed::PaidTraffic)): set on a post's tally
    /// and its paid source when the post's push ends
    /// ([`Channel::spend_fen`](crate::channel::Channel::spend_fen)), and
    /// summed into its creator's, cohort's and the platform's. 0 without
    /// paid traffic; not split by tier or by day.
    #[serde(default)]
    pub spend_fen: u64,
    /// Leads left on a post whose product sells offline
    /// ([`Sale::Offline`](crate::scenario::Sale::Offline)): the viewer's
    /// would-be order; such a post has no orders and no GMV.
    #[serde(default)]
    pub leads: u64,
    /// Leads that visited the store.
    #[serde(default)]
    pub store_visits: u64,
    /// GMV from orders placed by viewers who followed the creator in the
    /// same impression (in a live session, a *new fan*'s; see
    /// [`crate::live`]), in fen. Not in `fan_gmv_fen`, which counts fans at
    /// the time of the impression.
    #[serde(default)]
    pub new_fan_gmv_fen: u64,
}

impl Tally {
    /// Applies `f` to each count of `self` with the same count of `o`: the
    /// one list of the counts, so that adding or subtracting a tally cannot
    /// forget a field.
    #[inline]
    fn each_count(&mut self, o: &Tally, f: impl Fn(&mut u64, u64)) {
        f(&mut self.impressions, o.impressions);
        f(&mut self.iron_fan_impressions, o.iron_fan_impressions);
        f(&mut self.fan_impressions, o.fan_impressions);
        f(&mut self.public_impressions, o.public_impressions);
        f(&mut self.watches, o.watches);
        f(&mut self.long_views, o.long_views);
        f(&mut self.watch_time_ms, o.watch_time_ms);
        f(&mut self.watch_ratio_milli, o.watch_ratio_milli);
        f(&mut self.likes, o.likes);
        f(&mut self.comments, o.comments);
        f(&mut self.shares, o.shares);
        f(&mut self.follows, o.follows);
        f(&mut self.clicks, o.clicks);
        f(&mut self.orders, o.orders);
        f(&mut self.repurchases, o.repurchases);
        f(&mut self.gmv_fen, o.gmv_fen);
        f(&mut self.fan_gmv_fen, o.fan_gmv_fen);
        f(&mut self.offers_not_shown, o.offers_not_shown);
        f(&mut self.covers, o.covers);
        f(&mut self.cover_clicks, o.cover_clicks);
        f(&mut self.spend_fen, o.spend_fen);
        f(&mut self.leads, o.leads);
        f(&mut self.store_visits, o.store_visits);
        f(&mut self.new_fan_gmv_fen, o.new_fan_gmv_fen);
    }

    /// Adds `o` into `self`.
    pub fn add(&mut self, o: &Tally) {
        self.each_count(o, |a, b| *a += b);
    }

    /// `self` less `o`, count by count, for a part `o` of `self` (each of
    /// its counts at most `self`'s).
    pub(crate) fn less(mut self, o: &Tally) -> Tally {
        self.each_count(o, |a, b| *a -= b);
        self
    }

    /// The sum of two tallies.
    pub fn sum(mut self, o: Tally) -> Tally {
        self.add(&o);
        self
    }

    #[inline]
    pub(crate) fn count_impression(&mut self, relation: Relation) {
        self.impressions += 1;
        match relation {
            Relation::Stranger => self.public_impressions += 1,
            Relation::Fan => self.fan_impressions += 1,
            Relation::IronFan => self.iron_fan_impressions += 1,
        }
    }

    /// Rates derived from the counts.
    pub fn rates(&self) -> Rates {
        Rates {
            watch_through_rate: ratio(self.watches, self.impressions),
            long_view_rate: ratio(self.long_views, self.impressions),
            mean_watch_ratio: ratio(self.watch_ratio_milli, self.impressions) / 1000.0,
            mean_watch_time_s: ratio(self.watch_time_ms, self.impressions) / 1000.0,
            like_rate: ratio(self.likes, self.impressions),
            comment_rate: ratio(self.comments, self.impressions),
            share_rate: ratio(self.shares, self.impressions),
            follow_rate: ratio(self.follows, self.impressions),
            click_rate: ratio(self.clicks, self.impressions),
            orders_per_mille: 1000.0 * ratio(self.orders, self.impressions),
            click_to_order: ratio(self.orders, self.clicks),
            repurchase_share: ratio(self.repurchases, self.orders),
            iron_fan_share: ratio(self.iron_fan_impressions, self.impressions),
            fan_share: ratio(self.fan_impressions, self.impressions),
            public_share: ratio(self.public_impressions, self.impressions),
            followed_share: ratio(self.iron_fan_impressions + self.fan_impressions, self.impressions),
            not_shown_share: ratio(self.offers_not_shown, self.offers_not_shown + self.impressions),
            gmv_yuan: self.gmv_fen as f64 / 100.0,
            fan_gmv_share: ratio(self.fan_gmv_fen, self.gmv_fen),
            gmv_per_mille_yuan: 1000.0 * ratio(self.gmv_fen, self.impressions) / 100.0,
            cover_click_through: ratio(self.cover_clicks, self.covers),
        }
    }
}

/// How a post's push ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushEnd {
    /// It failed the gate after the stage with this index.
    Gate {
        /// The stage whose gate failed.
        stage: u8,
    },
    /// It went through every stage.
    Completed,
    /// The public audience ran out before the next public stage.
    Exhausted,
    /// A live session ended ([`crate::live`]): its push ends with it.
    SessionEnded,
}

/// Rates derived from a [`Tally`]; every rate is 0 when its denominator is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// Watch-throughs (completions) per impression.
    pub watch_through_rate: f64,
    /// Long views per impression (KuaiRand's `long_view`).
    pub long_view_rate: f64,
    /// Mean watch ratio (time watched / duration) per impression.
    pub mean_watch_ratio: f64,
    /// Mean seconds watched per impression.
    pub mean_watch_time_s: f64,
    /// Likes per impression.
    pub like_rate: f64,
    /// Comments per impression.
    pub comment_rate: f64,
    /// Shares per impression.
    pub share_rate: f64,
    /// Follows per impression.
    pub follow_rate: f64,
    /// Product clicks per impression.
    pub click_rate: f64,
    /// Conversion: orders per 1,000 impressions.
    pub orders_per_mille: f64,
    /// Orders per click.
    pub click_to_order: f64,
    /// Share of orders that were repurchases.
    pub repurchase_share: f64,
    /// Share of impressions on iron fans.
    pub iron_fan_share: f64,
    /// Share of impressions on other fans.
    pub fan_share: f64,
    /// Share of impressions on non-fans.
    pub public_share: f64,
    /// Share of impressions from accounts the viewer follows (iron fans and
    /// other fans): `1 − public_share` when there are impressions.
    pub followed_share: f64,
    /// Share of offers the viewers' feeds did not show:
    /// `offers_not_shown / (offers_not_shown + impressions)`.
    pub not_shown_share: f64,
    /// GMV in yuan.
    pub gmv_yuan: f64,
    /// Share of GMV bought by fans.
    pub fan_gmv_share: f64,
    /// GMV per 1,000 impressions, in yuan.
    pub gmv_per_mille_yuan: f64,
    /// Covers clicked per cover shown (0 in a feed without covers).
    #[serde(default)]
    pub cover_click_through: f64,
}

/// The audience tier of a viewer, as reports and policies split feedback:
/// a fan-group member (iron fan or not), another iron fan, another fan, or
/// the public (a viewer who does not follow the creator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// In the creator's fan group (DOMAIN.md \[001\]).
    GroupMember = 0,
    /// An iron fan outside the fan group.
    IronFan = 1,
    /// A fan who is neither an iron fan nor a group member.
    OtherFan = 2,
    /// Does not follow the creator.
    #[default]
    Public = 3,
}

impl Tier {
    /// All tiers, in the order of their codes.
    pub const ALL: [Tier; 4] = [Tier::GroupMember, Tier::IronFan, Tier::OtherFan, Tier::Public];

    /// The tier of a viewer with this relation to the creator.
    #[inline]
    pub fn of(relation: Relation, group_member: bool) -> Tier {
        match (relation, group_member) {
            (Relation::Stranger, _) => Tier::Public,
            (_, true) => Tier::GroupMember,
            (Relation::IronFan, false) => Tier::IronFan,
            (Relation::Fan, false) => Tier::OtherFan,
        }
    }

    /// Whether the viewer follows the creator (in-network, in X's terms).
    pub fn follows_creator(self) -> bool {
        self != Tier::Public
    }
}

/// One [`Tally`] per traffic source (the [`Stage::source`](crate::policy::Stage::source)
/// of the stage that made the offers, by default its label, such as
/// `iron fans`, `fan wave` or `public pool`, or a
/// [`Channel`](crate::channel::Channel)'s source), keyed by the source's
/// name; serialized as an object with one key per source, in name order.
/// Over a report's posts the sources sum to the total tally.
///
/// A sorted list rather than a `BTreeMap`: a post has one to four sources,
/// and a map's first node holds room for eleven (about 1.9 KB per post,
/// which was most of a long run's report); read it as a map (`get`,
/// `["name"]`, `keys`, `values`, `iter`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BySource(Vec<(String, Tally)>);

impl BySource {
    /// No sources.
    pub fn new() -> Self {
        BySource(Vec::new())
    }

    fn find(&self, source: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(source))
    }

    /// The tally of `source`, if it made offers. O(log sources).
    pub fn get(&self, source: &str) -> Option<&Tally> {
        self.find(source).ok().map(|i| &self.0[i].1)
    }

    /// The tally of `source`, to change it (the engine's spend charge).
    pub(crate) fn get_mut(&mut self, source: &str) -> Option<&mut Tally> {
        self.find(source).ok().map(|i| &mut self.0[i].1)
    }

    /// Whether `source` made offers.
    pub fn contains_key(&self, source: &str) -> bool {
        self.find(source).is_ok()
    }

    /// The sources' names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    /// The sources' tallies, in name order.
    pub fn values(&self) -> impl Iterator<Item = &Tally> {
        self.0.iter().map(|(_, t)| t)
    }

    /// (name, tally) pairs, in name order.
    pub fn iter(&self) -> SourceIter<'_> {
        self.0.iter().map(|(k, t)| (k, t))
    }

    /// Number of sources.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no source made offers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The sources grouped by sales channel (DOMAIN.md's traffic domains
    /// and "people find goods"): `paid`, `shelf`, `search` and `live` by
    /// their names, every other source (push stages, followed tab,
    /// friends, shares) as the feed.
    pub fn by_channel(&self) -> ByChannel {
        let mut out = ByChannel::default();
        for (name, t) in &self.0 {
            match name.as_str() {
                "paid" => out.paid.add(t),
                "shelf" => out.shelf.add(t),
                "search" => out.search.add(t),
                "live" => out.live.add(t),
                _ => out.feed.add(t),
            }
        }
        out
    }
}

/// A report's sources grouped by sales channel ([`BySource::by_channel`]):
/// where the orders and GMV came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ByChannel {
    /// Posts offered by the push and the feed's other sources.
    pub feed: Tally,
    /// Paid traffic (`"paid"`).
    pub paid: Tally,
    /// Shelf listings (`"shelf"`; impressions are listings).
    pub shelf: Tally,
    /// Search listings (`"search"`; impressions are listings).
    pub search: Tally,
    /// Live sessions (`"live"`).
    pub live: Tally,
}

impl ByChannel {
    /// The channels by name, in the order feed, paid, shelf, search, live.
    pub fn iter(&self) -> [(&'static str, &Tally); 5] {
        [
            ("feed", &self.feed),
            ("paid", &self.paid),
            ("shelf", &self.shelf),
            ("search", &self.search),
            ("live", &self.live),
        ]
    }

    /// GMV over every channel, in fen.
    pub fn gmv_fen(&self) -> u64 {
        self.iter().iter().map(|(_, t)| t.gmv_fen).sum()
    }

    /// `t`'s share of the GMV over every channel (0 when there is none).
    pub fn gmv_share(&self, t: &Tally) -> f64 {
        ratio(t.gmv_fen, self.gmv_fen())
    }
}

/// The iterator of [`BySource::iter`]: (name, tally) pairs in name order.
pub type SourceIter<'a> =
    std::iter::Map<std::slice::Iter<'a, (String, Tally)>, fn(&(String, Tally)) -> (&String, &Tally)>;

impl std::ops::Index<&str> for BySource {
    type Output = Tally;
    /// The tally of `source`; panics if it made no offers (as a map does).
    fn index(&self, source: &str) -> &Tally {
        self.get(source)
            .unwrap_or_else(|| panic!("no traffic source {source:?} in this report"))
    }
}

impl<'a> IntoIterator for &'a BySource {
    type Item = (&'a String, &'a Tally);
    type IntoIter = SourceIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<(String, Tally)> for BySource {
    /// Sums the tallies of a name given twice.
    fn from_iter<I: IntoIterator<Item = (String, Tally)>>(iter: I) -> Self {
        let mut all: Vec<(String, Tally)> = iter.into_iter().collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, Tally)> = Vec::with_capacity(all.len());
        for (k, t) in all {
            match out.last_mut() {
                Some((last, sum)) if *last == k => sum.add(&t),
                _ => out.push((k, t)),
            }
        }
        out.shrink_to_fit();
        BySource(out)
    }
}

impl Serialize for BySource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, t) in &self.0 {
            m.serialize_entry(k, t)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for BySource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, Tally>::deserialize(d)?;
        Ok(BySource(map.into_iter().collect()))
    }
}

/// Counts of a response model's own events, keyed by the event's name.
pub type Events = std::collections::BTreeMap<String, u64>;

/// Adds every count of `from` to `to`.
pub(crate) fn add_events(to: &mut Events, from: &Events) {
    for (name, n) in from {
        *to.entry(name.clone()).or_default() += n;
    }
}

/// Adds `t` to `source`'s entry of `map`.
pub(crate) fn add_source(map: &mut BySource, source: &str, t: &Tally) {
    match map.find(source) {
        Ok(i) => map.0[i].1.add(t),
        Err(i) => map.0.insert(i, (source.to_string(), *t)),
    }
}

/// One [`Tally`] per [`Tier`], indexed by the tier's code; serialized as
/// an object with one key per tier (`group_member`, `iron_fan`,
/// `other_fan`, `public`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TierTallies(pub [Tally; 4]);

/// One value per tier, by name: how [`TierTallies`] and per-tier reach are
/// written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerTier<T> {
    /// Fan-group members.
    pub group_member: T,
    /// Iron fans outside the group.
    pub iron_fan: T,
    /// Other fans.
    pub other_fan: T,
    /// The public.
    pub public: T,
}

impl<T: Copy> PerTier<T> {
    /// The value of one tier.
    pub fn get(&self, tier: Tier) -> T {
        match tier {
            Tier::GroupMember => self.group_member,
            Tier::IronFan => self.iron_fan,
            Tier::OtherFan => self.other_fan,
            Tier::Public => self.public,
        }
    }

    /// From values indexed by tier code.
    pub fn from_array([group_member, iron_fan, other_fan, public]: [T; 4]) -> Self {
        PerTier {
            group_member,
            iron_fan,
            other_fan,
            public,
        }
    }
}

impl Serialize for TierTallies {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PerTier::from_array(self.0).serialize(s)
    }
}

impl<'de> Deserialize<'de> for TierTallies {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = PerTier::<Tally>::deserialize(d)?;
        Ok(TierTallies([p.group_member, p.iron_fan, p.other_fan, p.public]))
    }
}

impl TierTallies {
    /// The tally of one tier.
    pub fn get(&self, tier: Tier) -> &Tally {
        &self.0[tier as usize]
    }

    /// Adds `o` into `self`, tier by tier.
    pub fn add(&mut self, o: &TierTallies) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            a.add(b);
        }
    }

    /// The sum over tiers.
    pub fn total(&self) -> Tally {
        self.0.iter().fold(Tally::default(), |a, t| a.sum(*t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_as_a_map_and_serialize_as_an_object() {
        let t = |n: u64| Tally {
            impressions: n,
            ..Tally::default()
        };
        let by: BySource = [
            ("public pool".to_string(), t(3)),
            ("iron fans".to_string(), t(2)),
            ("public pool".to_string(), t(4)),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            by.keys().map(String::as_str).collect::<Vec<_>>(),
            ["iron fans", "public pool"]
        );
        assert_eq!(by["public pool"].impressions, 7);
        assert_eq!(by.get("paid"), None);
        assert!(by.contains_key("iron fans") && !by.contains_key("iron"));
        let json = serde_json::to_string(&by).unwrap();
        assert!(json.starts_with(r#"{"iron fans":{"impressions":2"#), "{json}");
        let back: BySource = serde_json::from_str(&json).unwrap();
        assert_eq!(back, by);
        let mut sum = BySource::new();
        for (k, v) in &by {
            add_source(&mut sum, k, v);
            add_source(&mut sum, k, v);
        }
        assert_eq!(sum["iron fans"].impressions, 4);
        assert_eq!(sum.len(), 2);
    }
}
