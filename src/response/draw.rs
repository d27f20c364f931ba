//! Drawing one impression's outcome: the model's, not the engine's.
//!
//! The engine hands [`ResponseModel::draw`](super::ResponseModel::draw) the
//! impression's context and a [`ResponseDraw`]: the impression's own random
//! stream (keyed `(seed, post, user)`), what is needed for the time
//! watched (the post's duration and the scenario's [`WatchTime`]), and the
//! viewer's purchase history with the creator, looked up only when asked
//! for (a binary search over the run's buyers, so a model asks only after a
//! click, as the standard sequence does). The model returns an [`Outcome`]; the engine
//! counts it. A new event, or a changed order of events, is therefore a
//! change to a response model, never to the engine: a model names its own
//! events in [`ResponseModel::extra_events`](super::ResponseModel::extra_events)
//! and sets their bits from [`event::FIRST_EXTRA`] on; reports count each
//! under its name (`events` in the JSON report of posts, creators, cohorts
//! and the platform).

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

use super::{ImpressionContext, Relation, ResponseModel};

/// The watch-time draw's parameters: the scenario's `[watch]` section
/// (`WatchParams::watch_time` in [`crate::scenario`], where each is
/// documented with its source).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WatchTime {
    /// Mean of the exponential replay beyond one full view, in durations.
    pub replay_mean: f64,
    /// An abandoned view stops at `u^partial_shape` of the duration.
    pub partial_shape: f64,
    /// The largest watch ratio.
    pub max_ratio: f64,
}

/// The bits of [`Outcome::events`].
pub mod event {
    /// Liked.
    pub const LIKE: u32 = 1 << 0;
    /// Commented.
    pub const COMMENT: u32 = 1 << 1;
    /// Shared.
    pub const SHARE: u32 = 1 << 2;
    /// Followed the creator (strangers only; the engine ignores the bit for
    /// a fan).
    pub const FOLLOW: u32 = 1 << 3;
    /// Clicked the product (only for a post with a product; the engine
    /// ignores the bit otherwise).
    pub const CLICK: u32 = 1 << 4;
    /// Ordered (counted only with [`CLICK`]: an order follows a click).
    pub const ORDER: u32 = 1 << 5;
    /// The first bit of a model's own events: extra event `i` (the `i`-th
    /// name of [`ResponseModel::extra_events`](crate::response::ResponseModel::extra_events))
    /// is bit `FIRST_EXTRA + i`.
    pub const FIRST_EXTRA: u32 = 8;
    /// The most events a model may add.
    pub const MAX_EXTRA: usize = 24;
}

/// One impression's outcome, as a model draws it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Outcome {
    /// Watched through (completed): KuaiRand's `is_click`-free completion,
    /// the event the feed ranks by.
    pub completed: bool,
    /// Time watched over the post's duration (above 1 for a replay).
    pub watch_ratio: f64,
    /// The events, as bits of [`event`].
    pub events: u32,
}

impl Outcome {
    /// Whether bit `bit` of the events is set.
    pub fn has(&self, bit: u32) -> bool {
        self.events & bit != 0
    }
}

/// What a viewer has done with the creator before this impression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurchaseHistory {
    /// Has ordered from the creator before in the run.
    pub bought_before: bool,
    /// Holds the creator's e-commerce membership.
    pub ecommerce_member: bool,
    /// Holds an unexpired repurchase coupon from the creator.
    pub coupon: bool,
}

/// The randomness and lookups one impression's draw may use; see the
/// [module docs](crate::response).
pub struct ResponseDraw<'a> {
    rng: Xoshiro256PlusPlus,
    watch: WatchTime,
    duration_s: f64,
    history: Option<PurchaseHistory>,
    lookup: &'a dyn Fn() -> PurchaseHistory,
}

impl<'a> ResponseDraw<'a> {
    /// A draw from `rng` for a post of `duration_s` seconds, with the
    /// viewer's purchase history given by `lookup` (called at most once).
    /// The engine builds these; a test of a model can too.
    pub fn new(
        rng: Xoshiro256PlusPlus,
        watch: WatchTime,
        duration_s: f64,
        lookup: &'a dyn Fn() -> PurchaseHistory,
    ) -> Self {
        ResponseDraw {
            rng,
            watch,
            duration_s,
            history: None,
            lookup,
        }
    }

    /// A uniform number in `[0, 1)`, the next of the impression's stream.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        self.rng.random()
    }

    /// Whether an event of probability `p` happens (one draw).
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// The post's duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.duration_s
    }

    /// The scenario's watch-time parameters.
    pub fn watch_time(&self) -> WatchTime {
        self.watch
    }

    /// The time watched over the duration, from one uniform `u` (see
    /// [`WatchTime`]): a completed view replays with mean `replay_mean`
    /// (exponential, capped at `max_ratio`), an abandoned one stops at
    /// `u^partial_shape`.
    #[inline]
    pub fn watch_ratio(&self, completed: bool, u: f64) -> f64 {
        let w = self.watch;
        if completed {
            (1.0 - w.replay_mean * (1.0 - u).ln()).min(w.max_ratio)
        } else {
            u.powf(w.partial_shape)
        }
    }

    /// The viewer's history with the creator (looked up once, when first
    /// asked for).
    pub fn purchase_history(&mut self) -> PurchaseHistory {
        match self.history {
            Some(h) => h,
            None => {
                let h = (self.lookup)();
                self.history = Some(h);
                h
            }
        }
    }

    /// The documented event sequence (see [`crate::response`]), with each
    /// decision made by the caller: `watched` decides the watch-through;
    /// then the time watched is drawn; then, only for a completed view,
    /// `decide` is asked in turn about like, comment, share, follow
    /// (strangers only), a product click (posts with a product) and, after
    /// a click, an order (with the viewer's purchase history with the
    /// creator, looked up then). Each decision must draw from `self`, so
    /// that every model that keeps this order draws the same stream the
    /// same way.
    pub fn sequence(
        &mut self,
        ctx: &ImpressionContext,
        watched: impl FnOnce(&mut Self) -> bool,
        mut decide: impl FnMut(&mut Self, Decision) -> bool,
    ) -> Outcome {
        let completed = watched(self);
        let u = self.unit();
        let mut out = Outcome {
            completed,
            watch_ratio: self.watch_ratio(completed, u),
            events: 0,
        };
        if !completed {
            return out;
        }
        let mut flag = |d: &mut Self, decision: Decision, bit: u32| {
            let hit = decide(d, decision);
            if hit {
                out.events |= bit;
            }
            hit
        };
        flag(self, Decision::Like, event::LIKE);
        flag(self, Decision::Comment, event::COMMENT);
        flag(self, Decision::Share, event::SHARE);
        if ctx.relation == Relation::Stranger {
            flag(self, Decision::Follow, event::FOLLOW);
        }
        if let Some(price_yuan) = ctx.price_yuan
            && flag(self, Decision::Click, event::CLICK)
        {
            let history = self.purchase_history();
            flag(self, Decision::Order { price_yuan, history }, event::ORDER);
        }
        out
    }

    /// The documented event sequence ([`sequence`](Self::sequence)) with
    /// each event drawn at the model's probability: completion with the
    /// model's watch probability for `ctx` (`p_watch`, or computed here
    /// when `None`), then the events at
    /// [`event_probabilities`](ResponseModel::event_probabilities), the
    /// order's recomputed with the viewer's purchase history if the viewer
    /// has one with the creator.
    pub fn standard(
        &mut self,
        model: &(impl ResponseModel + ?Sized),
        ctx: &ImpressionContext,
        p_watch: Option<f64>,
    ) -> Outcome {
        let mut p = None;
        self.sequence(
            ctx,
            |d| d.chance(p_watch.unwrap_or_else(|| model.watch_probability(ctx))),
            |d, decision| {
                let p = *p.get_or_insert_with(|| model.event_probabilities(ctx));
                let chance = match decision {
                    Decision::Like => p.like,
                    Decision::Comment => p.comment,
                    Decision::Share => p.share,
                    Decision::Follow => p.follow,
                    Decision::Click => p.click,
                    Decision::Order { history, .. } if history == PurchaseHistory::default() => p.order,
                    Decision::Order { history, .. } => {
                        model
                            .event_probabilities(&ImpressionContext {
                                bought_before: history.bought_before,
                                ecommerce_member: history.ecommerce_member,
                                coupon: history.coupon,
                                ..*ctx
                            })
                            .order
                    }
                };
                d.chance(chance)
            },
        )
    }
}

/// One decision of the documented sequence after the watch
/// ([`ResponseDraw::sequence`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Like, given watch-through.
    Like,
    /// Comment, given watch-through.
    Comment,
    /// Share, given watch-through.
    Share,
    /// Follow, given watch-through (asked for strangers only).
    Follow,
    /// Product click, given watch-through (asked for posts with a product).
    Click,
    /// Order, given a click.
    Order {
        /// The product's price in yuan.
        price_yuan: f64,
        /// The viewer's history with the creator.
        history: PurchaseHistory,
    },
}
