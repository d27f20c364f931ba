//! Shelf and search: "people find goods" beside the feed's "goods find
//! people" (DOMAIN.md, "Other feeds the documents contrast", \[004\]), and
//! "seeding and weeding" (\[003\]\[004\]): content plants a purchase intent,
//! a later search or visit to the shop harvests it.
//!
//! **Intent.** A user carries a purchase intent for at most two categories
//! (a category, a level in `[0, 1]` and the day it was first seeded, per
//! slot: 10 bytes per user, allocated only when the scenario has
//! `[shelf_search]`). A completed view of a post whose product sells online
//! raises the intent for the creator's category by `seed_per_view`, or by
//! `seed_per_click` when the viewer clicked the product without ordering
//! (levels saturate at 1). A category not held yet takes a free slot or
//! replaces the weaker one (ties: the second). Each night every level
//! decays by `daily_decay`. With `standing_intent` above 0 every user also
//! holds a standing intent at that level in their first interest category,
//! in the first slot, that never decays below it (a steady need); by
//! default no one has any intent at the start.
//!
//! **Searches and shelf visits.** At the end of each day every user who was
//! active and holds an intent may, for each of its categories, search (with
//! chance `level × search_rate`) and visit the shelf (the mall's
//! recommendations, `level × shelf_rate`). A search shows `search_listings`
//! listings, a shelf visit `shelf_listings` (fewer when draws repeat): each
//! drawn among the creators of the category whose product sells online,
//! with weight `(1 + exposure / 1,000)^exposure_exponent × (1 +
//! sales)^sales_exponent`, where exposure is the impressions of the
//! creator's product posts and sales its orders through every channel, so
//! far in the run (warm-up included): a product is found with a probability
//! that grows with its past exposure and sales. The user considers the
//! listings in the order drawn: each is clicked and ordered with the
//! response model's click and order probabilities for a completed view of
//! a post with the product (the viewer's relation to the creator, interest,
//! trust, purchase propensity, price, history and membership; quality 0;
//! source `"search"` or `"shelf"`), both on the log-odds scale raised by
//! `intent_lift × level`. The first order ends the visit and uses the
//! intent up (the level falls to the standing level in the standing
//! category, else to 0). A user who bought the product within its
//! purchase interval (`product.purchase_interval_days`) does not order it.
//!
//! Every rate and weight here is our assumption, marked as such on each
//! field: no public figure gives them. The reported shares of Douyin's GMV
//! through shelf scenes (~30% in 2023, ~40% in 2024, DOMAIN.md) are a
//! reference for the model's output, never a target.
//!
//! **Reports.** Listings count as impressions of source `"search"` or
//! `"shelf"` in the creators', cohorts' and platform's `by_source` (with
//! their clicks, orders, GMV and repurchases), apart from post impressions:
//! they are not in any `tally`, which counts posts. The platform's
//! [`ShelfSearchReport`] gives the searches, shelf visits and the lag from
//! the first seeding impression to each order. Orders through shelf and
//! search make buyers, members and coupons as feed orders do. Offline
//! products (leads, [`Sale::Offline`](crate::scenario::Sale::Offline)) are
//! neither seeded nor listed.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};
use crate::response::{ImpressionContext, PurchaseHistory, Relation, ResponseModel};
use crate::rng::{key, tag, unit_at};
use crate::tally::Tally;
use crate::world::{FollowGraph, NO_CATEGORY, World};

/// The source of search listings in `by_source`.
pub const SEARCH: &str = "search";
/// The source of shelf listings in `by_source`.
pub const SHELF: &str = "shelf";

/// Shelf and search (`[shelf_search]` in a scenario); see the
/// [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShelfSearchParams {
    /// Intent added by a completed view of a post with an online product
    /// (our assumption: 0.05).
    #[serde(default = "default_seed_per_view")]
    pub seed_per_view: f64,
    /// Intent added instead when the viewer clicked the product and did not
    /// order (our assumption: 0.3).
    #[serde(default = "default_seed_per_click")]
    pub seed_per_click: f64,
    /// Share of every intent lost each night (our assumption: 0.2, so an
    /// intent halves in about three days; the documents call
    /// interest-driven buying "unstable", \[004\]).
    #[serde(default = "default_daily_decay")]
    pub daily_decay: f64,
    /// Every user's standing intent in their first interest category, a
    /// floor the intent never decays below (0, the default: no intent at
    /// the start).
    #[serde(default)]
    pub standing_intent: f64,
    /// Chance per active day that a user at full intent searches the
    /// category (our assumption: 0.3; scaled by the level).
    #[serde(default = "default_search_rate")]
    pub search_rate: f64,
    /// Chance per active day that a user at full intent visits the shelf
    /// for the category (our assumption: 0.15; scaled by the level).
    #[serde(default = "default_shelf_rate")]
    pub shelf_rate: f64,
    /// Listings one search shows (our assumption: 10, a results page).
    #[serde(default = "default_search_listings")]
    pub search_listings: u32,
    /// Listings one shelf visit shows (our assumption: 6).
    #[serde(default = "default_shelf_listings")]
    pub shelf_listings: u32,
    /// How a listing's weight grows with its creator's product impressions
    /// (our assumption: 0.5).
    #[serde(default = "default_exposure_exponent")]
    pub exposure_exponent: f64,
    /// How a listing's weight grows with its creator's orders (our
    /// assumption: 1.0).
    #[serde(default = "default_sales_exponent")]
    pub sales_exponent: f64,
    /// Added at full intent to a listing's click and order log-odds (our
    /// assumption: 1.5, so a searcher at full intent clicks and orders at
    /// about e^1.5 ≈ 4.5 times the odds of a feed viewer).
    #[serde(default = "default_intent_lift")]
    pub intent_lift: f64,
}

fn default_seed_per_view() -> f64 {
    0.05
}
fn default_seed_per_click() -> f64 {
    0.3
}
fn default_daily_decay() -> f64 {
    0.2
}
fn default_search_rate() -> f64 {
    0.3
}
fn default_shelf_rate() -> f64 {
    0.15
}
fn default_search_listings() -> u32 {
    10
}
fn default_shelf_listings() -> u32 {
    6
}
fn default_exposure_exponent() -> f64 {
    0.5
}
fn default_sales_exponent() -> f64 {
    1.0
}
fn default_intent_lift() -> f64 {
    1.5
}

impl Default for ShelfSearchParams {
    fn default() -> Self {
        ShelfSearchParams {
            seed_per_view: default_seed_per_view(),
            seed_per_click: default_seed_per_click(),
            daily_decay: default_daily_decay(),
            standing_intent: 0.0,
            search_rate: default_search_rate(),
            shelf_rate: default_shelf_rate(),
            search_listings: default_search_listings(),
            shelf_listings: default_shelf_listings(),
            exposure_exponent: default_exposure_exponent(),
            sales_exponent: default_sales_exponent(),
            intent_lift: default_intent_lift(),
        }
    }
}

/// Most listings one search or shelf visit may show.
pub const MAX_LISTINGS: u32 = 100;

impl ShelfSearchParams {
    /// Checks every field; errors name it (`shelf_search.search_rate`).
    pub fn validate(&self) -> Result<()> {
        check::probability("shelf_search.seed_per_view", self.seed_per_view)?;
        check::probability("shelf_search.seed_per_click", self.seed_per_click)?;
        check::probability("shelf_search.daily_decay", self.daily_decay)?;
        check::probability("shelf_search.standing_intent", self.standing_intent)?;
        check::probability("shelf_search.search_rate", self.search_rate)?;
        check::probability("shelf_search.shelf_rate", self.shelf_rate)?;
        for (field, n) in [
            ("shelf_search.search_listings", self.search_listings),
            ("shelf_search.shelf_listings", self.shelf_listings),
        ] {
            if !(1..=MAX_LISTINGS).contains(&n) {
                return Err(Error::invalid(field, n, format!("must be 1 to {MAX_LISTINGS}")));
            }
        }
        check::within("shelf_search.exposure_exponent", self.exposure_exponent, 0.0, 4.0)?;
        check::within("shelf_search.sales_exponent", self.sales_exponent, 0.0, 4.0)?;
        check::within("shelf_search.intent_lift", self.intent_lift, 0.0, 10.0)
    }
}

/// What the platform's report says of shelf and search (absent without
/// `[shelf_search]`). Listings, clicks, orders and GMV are in `by_source`
/// under `"search"` and `"shelf"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShelfSearchReport {
    /// Searches made.
    pub searches: u64,
    /// Shelf visits made.
    pub shelf_visits: u64,
    /// Orders through shelf and search by the days from the first seeding
    /// impression of the intent they used to the order (entry `d`: `d`
    /// days; 0: seeded the same day).
    pub orders_by_lag_days: Vec<u64>,
    /// Orders through shelf and search on a standing intent never seeded
    /// (not in `orders_by_lag_days`).
    pub standing_orders: u64,
    /// Users holding some intent at the end of the run.
    pub users_with_intent_end: u64,
}

impl ShelfSearchReport {
    /// The median lag in days of the seeded orders, if any.
    pub fn median_lag_days(&self) -> Option<u32> {
        let total: u64 = self.orders_by_lag_days.iter().sum();
        let mut seen = 0;
        self.orders_by_lag_days
            .iter()
            .position(|&n| {
                seen += n;
                total > 0 && 2 * seen >= total
            })
            .map(|d| d as u32)
    }
}

/// A level of 1 in the intent's fixed point.
const FULL: u32 = u16::MAX as u32;
/// The day of a standing intent never seeded.
const STANDING: u16 = u16::MAX;

fn level_q(x: f64) -> u16 {
    (x * f64::from(FULL)).round() as u16
}

/// One seeding impression: its viewer, the creator's category and whether
/// the viewer clicked the product.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seed {
    pub(crate) user: u32,
    pub(crate) category: u8,
    pub(crate) clicked: bool,
}

/// One listing shown, as the day's step hands it to be counted.
#[derive(Debug, Clone, Copy)]
struct Listing {
    creator: u32,
    user: u32,
    /// 0 search, 1 shelf.
    kind: u8,
    /// The intent slot the visit came from.
    slot: u8,
    relation: Relation,
    fan: bool,
    clicked: bool,
    ordered: bool,
    bought_before: bool,
}

/// The run's shelf-and-search state: what the world carries (intents,
/// exposure, sales) and what the report counts.
#[derive(Debug, Clone)]
pub(crate) struct ShelfState {
    params: ShelfSearchParams,
    category: Vec<[u8; 2]>,
    level: Vec<[u16; 2]>,
    since: Vec<[u16; 2]>,
    /// Per creator: impressions of its product posts so far.
    exposure: Vec<u64>,
    /// Per creator: orders so far, every channel.
    sales: Vec<u64>,
    /// Per creator: the listings' counts, search then shelf.
    pub(crate) listings: Vec<[Tally; 2]>,
    report: ShelfSearchReport,
}

impl ShelfState {
    /// The state at a run's start: no intent but the standing one.
    pub(crate) fn new(params: ShelfSearchParams, world: &World) -> Self {
        let n = world.users().len();
        let standing = level_q(params.standing_intent);
        let (category, level, since) = if standing > 0 {
            let cats = &world.users().interest_categories;
            (
                cats.iter().map(|c| [c[0], NO_CATEGORY]).collect(),
                vec![[standing, 0]; n],
                vec![[STANDING, 0]; n],
            )
        } else {
            (vec![[NO_CATEGORY; 2]; n], vec![[0; 2]; n], vec![[0; 2]; n])
        };
        let creators = world.creators().len();
        ShelfState {
            params,
            category,
            level,
            since,
            exposure: vec![0; creators],
            sales: vec![0; creators],
            listings: vec![[Tally::default(); 2]; creators],
            report: ShelfSearchReport::default(),
        }
    }

    /// Starts the period a report covers: the counts start from zero, the
    /// intents, exposure and sales stay.
    pub(crate) fn start_period(&mut self) {
        self.listings.iter_mut().for_each(|l| *l = Default::default());
        self.report = ShelfSearchReport::default();
    }

    /// The floor of each slot: the standing level in the first (the
    /// standing slot), 0 in the second.
    fn floors(&self) -> [u16; 2] {
        [level_q(self.params.standing_intent), 0]
    }

    /// Applies the round's seeding impressions on `day`, in order.
    pub(crate) fn seed(&mut self, seeds: &[Seed], day: u32) {
        let (view, click) = (level_q(self.params.seed_per_view), level_q(self.params.seed_per_click));
        let standing = self.params.standing_intent > 0.0;
        for s in seeds {
            let add = if s.clicked { click } else { view };
            if add == 0 {
                continue;
            }
            let u = s.user as usize;
            let (cats, levels, since) = (&mut self.category[u], &mut self.level[u], &mut self.since[u]);
            let slot = if let Some(k) = cats.iter().position(|&c| c == s.category) {
                k
            } else {
                // A free slot, else the weaker (never the standing one).
                let k = if standing {
                    1
                } else if levels[0] == 0 {
                    0
                } else if levels[1] <= levels[0] {
                    1
                } else {
                    0
                };
                cats[k] = s.category;
                levels[k] = 0;
                k
            };
            if levels[slot] == 0 || since[slot] == STANDING {
                since[slot] = day as u16;
            }
            levels[slot] = (u32::from(levels[slot]) + u32::from(add)).min(FULL) as u16;
        }
    }

    /// Counts `impressions` of `creator`'s posts with a product.
    pub(crate) fn expose(&mut self, creator: u32, impressions: u64) {
        self.exposure[creator as usize] += impressions;
    }

    /// Counts an order of `creator`'s product through any channel.
    pub(crate) fn sold(&mut self, creator: u32) {
        self.sales[creator as usize] += 1;
    }

    /// The night's decay: every level falls by `daily_decay`, never below
    /// its floor; a slot at 0 is free.
    pub(crate) fn decay(&mut self) {
        let keep = ((1.0 - self.params.daily_decay) * 65536.0).round() as u32;
        let floors = self.floors();
        for (levels, cats) in self.level.iter_mut().zip(&mut self.category) {
            for (k, l) in levels.iter_mut().enumerate() {
                *l = ((u32::from(*l) * keep) >> 16).max(u32::from(floors[k])) as u16;
                if *l == 0 {
                    cats[k] = NO_CATEGORY;
                }
            }
        }
    }

    /// The day's searches and shelf visits, drawn in parallel over users
    /// (each user's from its own keyed stream) and counted in user order.
    /// Returns the orders as `(creator, user)`, in user order, for the
    /// engine to record as buyers.
    pub(crate) fn shop(&mut self, day: Day<'_>) -> Vec<(u32, u32)> {
        use rayon::prelude::*;
        let world = day.world;
        let p = self.params;
        let tables = Tables::new(world, &self.exposure, &self.sales, &p, day.online);
        let n = world.users().len();
        const CHUNK: usize = 4096;
        let this = &*self;
        let parts: Vec<(Vec<Listing>, u64, u64)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|k| {
                let mut out = (Vec::new(), 0, 0);
                for u in (k * CHUNK) as u32..((k + 1) * CHUNK).min(n) as u32 {
                    if (day.active)(u) {
                        this.visits(u, &day, &tables, &mut out);
                    }
                }
                out
            })
            .collect();
        let mut orders = Vec::new();
        for (listings, searches, shelf) in parts {
            self.report.searches += searches;
            self.report.shelf_visits += shelf;
            for l in listings {
                let price = u64::from(world.creators().price_fen[l.creator as usize]);
                let t = &mut self.listings[l.creator as usize][usize::from(l.kind)];
                t.count_impression(l.relation);
                t.clicks += u64::from(l.clicked);
                if l.ordered {
                    t.orders += 1;
                    t.gmv_fen += price;
                    t.fan_gmv_fen += if l.fan { price } else { 0 };
                    t.repurchases += u64::from(l.bought_before);
                    let (u, s) = (l.user as usize, usize::from(l.slot));
                    match self.since[u][s] {
                        STANDING => self.report.standing_orders += 1,
                        seeded => {
                            let lag = (day.day - u32::from(seeded)) as usize;
                            let h = &mut self.report.orders_by_lag_days;
                            if h.len() <= lag {
                                h.resize(lag + 1, 0);
                            }
                            h[lag] += 1;
                        }
                    }
                    // The intent is used up.
                    let floor = self.floors()[s];
                    self.level[u][s] = floor;
                    if floor == 0 {
                        self.category[u][s] = NO_CATEGORY;
                    } else {
                        self.since[u][s] = STANDING;
                    }
                    self.sold(l.creator);
                    orders.push((l.creator, l.user));
                }
            }
        }
        orders
    }

    /// User `u`'s visits of the day, appended to `out` (listings, searches,
    /// shelf visits).
    fn visits(&self, u: u32, day: &Day<'_>, tables: &Tables, out: &mut (Vec<Listing>, u64, u64)) {
        let p = &self.params;
        let users = day.world.users();
        for s in 0..2 {
            let level = self.level[u as usize][s];
            let cat = self.category[u as usize][s];
            if level == 0 || cat == NO_CATEGORY {
                continue;
            }
            let x = f64::from(level) / f64::from(FULL);
            let Some((creators, cum)) = tables.of(cat) else {
                continue;
            };
            for (kind, rate, n) in [
                (0u8, p.search_rate, p.search_listings),
                (1, p.shelf_rate, p.shelf_listings),
            ] {
                let base = key(
                    day.seed,
                    tag::SHOP,
                    u64::from(day.day),
                    u64::from(u) << 2 | (s as u64) << 1 | u64::from(kind),
                );
                if unit_at(base, 0) >= x * rate {
                    continue;
                }
                if kind == 0 {
                    out.1 += 1;
                } else {
                    out.2 += 1;
                }
                let total = *cum.last().expect("a table is never empty");
                let mut shown: [u32; MAX_LISTINGS as usize] = [0; MAX_LISTINGS as usize];
                let mut len = 0;
                for i in 0..u64::from(n) {
                    let r = unit_at(base, 1 + i) * total;
                    let j = cum.partition_point(|&c| c <= r).min(creators.len() - 1);
                    let c = creators[j];
                    if !shown[..len].contains(&c) {
                        shown[len] = c;
                        len += 1;
                    }
                }
                let mut draw = 1 + u64::from(n);
                let mut bought = false;
                for &c in &shown[..len] {
                    let (relation, edge) = day.graph.relation(c, u);
                    let group_member = edge.is_some_and(|e| day.graph.edge_in_group(e));
                    let h = if bought {
                        PurchaseHistory::default()
                    } else {
                        (day.history)(c, u)
                    };
                    let mut l = Listing {
                        creator: c,
                        user: u,
                        kind,
                        slot: s as u8,
                        relation,
                        fan: edge.is_some(),
                        clicked: false,
                        ordered: false,
                        bought_before: h.bought_before,
                    };
                    // The user stops considering listings after an order.
                    if !bought {
                        let price = day.world.creators().price_fen[c as usize];
                        let ctx = ImpressionContext {
                            relation,
                            quality: 0.0,
                            interest: f64::from(users.interest(u, cat)),
                            trust: f64::from(day.world.creators().trust[c as usize]),
                            purchase_propensity: f64::from(users.purchase_propensity[u as usize]),
                            price_yuan: Some(f64::from(price) / 100.0),
                            bought_before: h.bought_before,
                            group_member,
                            ecommerce_member: h.ecommerce_member,
                            coupon: h.coupon,
                            seen_today: 0,
                            source: if kind == 0 { SEARCH } else { SHELF },
                            commission: 0.0,
                        };
                        let probs = day.model.event_probabilities(&ctx);
                        let lift = p.intent_lift * x;
                        l.clicked = unit_at(base, draw) < lifted(probs.click, lift);
                        l.ordered =
                            l.clicked && unit_at(base, draw + 1) < lifted(probs.order, lift) && !(day.too_soon)(c, u);
                        draw += 2;
                        bought = l.ordered;
                    }
                    out.0.push(l);
                }
            }
        }
    }

    /// A digest of what the world carries (intents, exposure, sales), for
    /// the checkpoint's digest.
    pub(crate) fn digest(&self, h: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        self.category.hash(h);
        self.level.hash(h);
        self.since.hash(h);
        self.exposure.hash(h);
        self.sales.hash(h);
    }

    /// The platform's report of the period, with the users holding an
    /// intent now.
    pub(crate) fn report(&self) -> ShelfSearchReport {
        let mut r = self.report.clone();
        r.users_with_intent_end = self.level.iter().filter(|l| l[0] > 0 || l[1] > 0).count() as u64;
        r
    }
}

/// `p` with its log-odds raised by `lift` (0 and 1 stay).
fn lifted(p: f64, lift: f64) -> f64 {
    if p <= 0.0 || p >= 1.0 || lift == 0.0 {
        return p;
    }
    let odds = p / (1.0 - p) * lift.exp();
    odds / (1.0 + odds)
}

/// What a day's shopping reads of the run.
pub(crate) struct Day<'a> {
    pub(crate) world: &'a World,
    pub(crate) graph: &'a FollowGraph,
    pub(crate) model: &'a dyn ResponseModel,
    pub(crate) seed: u64,
    pub(crate) day: u32,
    /// Whether user `u` was active today.
    pub(crate) active: &'a (dyn Fn(u32) -> bool + Sync),
    /// What user `u` has done with creator `c` before.
    pub(crate) history: &'a (dyn Fn(u32, u32) -> PurchaseHistory + Sync),
    /// Whether creator `c`'s product sells online.
    pub(crate) online: &'a (dyn Fn(u32) -> bool + Sync),
    /// Whether user `u` bought creator `c`'s product within its purchase
    /// interval (and so does not buy it again).
    pub(crate) too_soon: &'a (dyn Fn(u32, u32) -> bool + Sync),
}

/// Per category, the listed creators and their cumulative weights.
struct Tables {
    tables: Vec<(Vec<u32>, Vec<f64>)>,
}

impl Tables {
    fn new(
        world: &World,
        exposure: &[u64],
        sales: &[u64],
        p: &ShelfSearchParams,
        online: &(dyn Fn(u32) -> bool + Sync),
    ) -> Self {
        let tables = (0..world.categories())
            .map(|k| {
                let mut creators = Vec::new();
                let mut cum = Vec::new();
                let mut total = 0.0;
                for &c in world.creators_in(k as u8) {
                    if world.creators().price_fen[c as usize] == 0 || !online(c) {
                        continue;
                    }
                    let e = (1.0 + exposure[c as usize] as f64 / 1000.0).powf(p.exposure_exponent);
                    let s = (1.0 + sales[c as usize] as f64).powf(p.sales_exponent);
                    total += e * s;
                    creators.push(c);
                    cum.push(total);
                }
                (creators, cum)
            })
            .collect();
        Tables { tables }
    }

    fn of(&self, category: u8) -> Option<(&[u32], &[f64])> {
        let (c, w) = self.tables.get(usize::from(category))?;
        (!c.is_empty()).then_some((c.as_slice(), w.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state of `users` users with no intent (no standing one), as a
    /// world without standing intent starts.
    fn state(params: ShelfSearchParams, users: usize) -> ShelfState {
        ShelfState {
            params,
            category: vec![[NO_CATEGORY; 2]; users],
            level: vec![[0; 2]; users],
            since: vec![[0; 2]; users],
            exposure: Vec::new(),
            sales: Vec::new(),
            listings: Vec::new(),
            report: ShelfSearchReport::default(),
        }
    }

    fn seed(user: u32, category: u8, clicked: bool) -> Seed {
        Seed {
            user,
            category,
            clicked,
        }
    }

    #[test]
    fn seeding_adds_saturates_and_remembers_the_first_day() {
        let p = ShelfSearchParams::default();
        let mut s = state(p, 2);
        s.seed(&[seed(0, 3, false), seed(0, 3, true)], 4);
        assert_eq!(s.category[0], [3, NO_CATEGORY]);
        assert_eq!(
            u32::from(s.level[0][0]),
            u32::from(level_q(0.05)) + u32::from(level_q(0.3))
        );
        assert_eq!(s.since[0][0], 4);
        // A later seed keeps the first day; levels stop at 1.
        s.seed(&[seed(0, 3, true); 5], 6);
        assert_eq!((s.level[0][0], s.since[0][0]), (u16::MAX, 4));
        // The other user is untouched.
        assert_eq!(s.level[1], [0, 0]);
    }

    #[test]
    fn a_third_category_replaces_the_weaker_slot() {
        let mut s = state(ShelfSearchParams::default(), 1);
        s.seed(&[seed(0, 1, true), seed(0, 2, false), seed(0, 7, false)], 0);
        // 2 (0.05) was weaker than 1 (0.3): 7 took its slot.
        assert_eq!(s.category[0], [1, 7]);
        assert_eq!(s.level[0][1], level_q(0.05));
        // Equal levels: the second slot goes.
        let mut s = state(ShelfSearchParams::default(), 1);
        s.seed(&[seed(0, 1, false), seed(0, 2, false), seed(0, 9, true)], 0);
        assert_eq!(s.category[0], [1, 9]);
    }

    #[test]
    fn decay_multiplies_each_level_and_frees_empty_slots() {
        let p = ShelfSearchParams {
            daily_decay: 0.5,
            ..Default::default()
        };
        let mut s = state(p, 1);
        s.seed(&[seed(0, 1, true), seed(0, 2, false)], 0);
        let before = s.level[0];
        s.decay();
        for (k, &b) in before.iter().enumerate() {
            let want = f64::from(b) / 2.0;
            assert!(
                (f64::from(s.level[0][k]) - want).abs() <= 1.0,
                "{k}: {} vs {want}",
                s.level[0][k]
            );
        }
        for _ in 0..20 {
            s.decay();
        }
        assert_eq!(s.level[0], [0, 0]);
        assert_eq!(s.category[0], [NO_CATEGORY; 2], "an empty slot holds no category");
    }

    #[test]
    fn a_standing_intent_never_decays_below_its_level_nor_is_replaced() {
        let p = ShelfSearchParams {
            standing_intent: 0.25,
            daily_decay: 0.9,
            ..Default::default()
        };
        let mut s = state(p, 1);
        s.category[0] = [5, NO_CATEGORY];
        s.level[0] = [level_q(0.25), 0];
        s.since[0] = [STANDING, 0];
        s.seed(&[seed(0, 1, true), seed(0, 2, true)], 3);
        assert_eq!(s.category[0], [5, 2], "the standing slot stays");
        s.decay();
        s.decay();
        assert_eq!(s.level[0][0], level_q(0.25));
        assert_eq!(s.since[0][0], STANDING);
        // Seeding the standing category dates it.
        s.seed(&[seed(0, 5, false)], 8);
        assert_eq!(s.since[0][0], 8);
    }

    #[test]
    fn lifting_raises_the_log_odds_and_keeps_the_ends() {
        assert_eq!(lifted(0.0, 2.0), 0.0);
        assert_eq!(lifted(1.0, 2.0), 1.0);
        assert_eq!(lifted(0.3, 0.0), 0.3);
        let p = lifted(0.5, 1.0_f64.ln() + 2.0_f64.ln());
        assert!((p - 2.0 / 3.0).abs() < 1e-12, "{p}");
    }

    #[test]
    fn the_median_lag_is_the_middle_order_s() {
        let r = ShelfSearchReport {
            orders_by_lag_days: vec![1, 0, 3, 1],
            ..Default::default()
        };
        assert_eq!(r.median_lag_days(), Some(2));
        assert_eq!(ShelfSearchReport::default().median_lag_days(), None);
    }
}
