//! How a user responds to one impression.
//!
//! A [`ResponseModel`] maps the context of an impression (who sees what,
//! through which relation) to the probabilities of each event, and draws
//! the impression's [`Outcome`] from the impression's own random stream
//! ([`ResponseModel::draw`]; the engine only counts what it returns). The
//! shipped models draw a fixed order of events ([`ResponseDraw::standard`];
//! [`LogisticModel`] decides each from its logit, with the same outcomes
//! from the same draws and fewer exponentials):
//!
//! 1. **watch-through** with probability `watch`;
//! 2. only if watched through: **like**, **comment**, **share**, **follow**
//!    (strangers only) and, if the post carries a product, **product click**,
//!    each an independent draw with its probability;
//! 3. only if clicked: **order** with probability `order`.
//!
//! So the probabilities of like, comment, share, follow and click are
//! *conditional on watching through*, and `order` is conditional on a click.
//! This makes `orders <= clicks <= watches <= impressions` hold by
//! construction.
//!
//! Two models ship: [`LogisticModel`], the default, and [`ConstantModel`], a
//! table of probabilities per relation, the null model for calibration and
//! closed-form checks.

use serde::{Deserialize, Serialize};

use crate::error::{Result, check};

mod draw;
pub use draw::{Decision, Outcome, PurchaseHistory, ResponseDraw, WatchTime, event};

/// How the viewer stands to the post's creator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// Does not follow the creator (a public-domain user).
    Stranger = 0,
    /// Follows the creator but is not an iron fan.
    Fan = 1,
    /// A fan who interacts with the creator often and recently.
    IronFan = 2,
}

impl Relation {
    /// All relations, in the order of their numeric codes.
    pub const ALL: [Relation; 3] = [Relation::Stranger, Relation::Fan, Relation::IronFan];
}

/// Everything a response model may look at for one impression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpressionContext {
    /// The viewer's relation to the creator.
    pub relation: Relation,
    /// Post quality, a standardized score (0 is an ordinary post, +1 one
    /// standard deviation better).
    pub quality: f64,
    /// The viewer's interest in the post's category, in `[0, 1]` (for a fan
    /// this is the edge's verticality).
    pub interest: f64,
    /// The creator's trust score (0 ordinary; KOE accounts are high).
    pub trust: f64,
    /// The viewer's purchase propensity, on the logit scale (0 is average).
    pub purchase_propensity: f64,
    /// Product price in yuan, or `None` when the post sells nothing.
    pub price_yuan: Option<f64>,
    /// Whether the viewer has ordered from this creator before in the run.
    pub bought_before: bool,
    /// Whether the viewer is in the creator's fan group (and so was notified
    /// of the post).
    pub group_member: bool,
    /// Whether the viewer holds the creator's e-commerce membership.
    pub ecommerce_member: bool,
    /// Whether the viewer holds an unexpired repurchase coupon from the
    /// creator.
    pub coupon: bool,
    /// Impressions the viewer has already watched today, before this slot.
    pub seen_today: u32,
    /// The traffic source that made the offer (the push stage's
    /// [`source`](crate::policy::Stage::source), e.g. `"public pool"`), so
    /// a model can respond to paid or searched traffic differently. The
    /// shipped models ignore it.
    pub source: &'static str,
    /// The commission rate a viewer who shares the post earns on the orders
    /// the share brings, in `[0, 1]` (the scenario's `[fission]`; 0 when
    /// there is none or the post sells nothing).
    pub commission: f64,
}

impl ImpressionContext {
    /// A context with no memberships, coupons or fatigue: a first-time
    /// viewer early in the day.
    pub fn new(relation: Relation, quality: f64, interest: f64) -> Self {
        ImpressionContext {
            relation,
            quality,
            interest,
            trust: 0.0,
            purchase_propensity: 0.0,
            price_yuan: None,
            bought_before: false,
            group_member: false,
            ecommerce_member: false,
            coupon: false,
            seen_today: 0,
            source: "",
            commission: 0.0,
        }
    }
}

/// Event probabilities for one impression; see the module docs for which
/// are conditional on what.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probabilities {
    /// Watch-through (completion), per impression.
    pub watch: f64,
    /// Like, given watch-through.
    pub like: f64,
    /// Comment, given watch-through.
    pub comment: f64,
    /// Share, given watch-through.
    pub share: f64,
    /// Follow, given watch-through; only strangers can follow.
    pub follow: f64,
    /// Product click, given watch-through; only for posts with a product.
    pub click: f64,
    /// Order, given a product click.
    pub order: f64,
}

impl Probabilities {
    fn validate(&self, field: &str) -> Result<()> {
        check::probability(&format!("{field}.watch"), self.watch)?;
        check::probability(&format!("{field}.like"), self.like)?;
        check::probability(&format!("{field}.comment"), self.comment)?;
        check::probability(&format!("{field}.share"), self.share)?;
        check::probability(&format!("{field}.follow"), self.follow)?;
        check::probability(&format!("{field}.click"), self.click)?;
        check::probability(&format!("{field}.order"), self.order)
    }
}

/// A model of how users respond to impressions.
///
/// Implementations are immutable values shared by all threads; they must be
/// pure functions of the context (the engine owns the randomness).
///
/// ```
/// use feedsim::response::{ConstantModel, ImpressionContext, Relation, ResponseModel};
/// let model = ConstantModel::default();
/// let ctx = ImpressionContext { price_yuan: Some(99.0), ..ImpressionContext::new(Relation::IronFan, 0.0, 0.5) };
/// assert_eq!(model.probabilities(&ctx), model.iron_fan);
/// // Without a product there is nothing to click.
/// let no_product = ImpressionContext { price_yuan: None, ..ctx };
/// assert_eq!(model.probabilities(&no_product).click, 0.0);
/// ```
pub trait ResponseModel: Send + Sync {
    /// The event probabilities for one impression.
    fn probabilities(&self, ctx: &ImpressionContext) -> Probabilities;

    /// The watch-through probability alone: what a viewer's feed ranks by
    /// (see [`crate::feed`]). Must equal `probabilities(ctx).watch`; the
    /// default computes exactly that, a model may compute it more cheaply.
    fn watch_probability(&self, ctx: &ImpressionContext) -> f64 {
        self.probabilities(ctx).watch
    }

    /// The probabilities of the events that follow a completed view: what
    /// [`ResponseDraw::standard`] reads after its watch draw. Every field
    /// but `watch` must equal `probabilities(ctx)`'s; `watch` may be left
    /// at 0, so a model need not compute it twice (the draw already has
    /// it). The default is `probabilities(ctx)`.
    fn event_probabilities(&self, ctx: &ImpressionContext) -> Probabilities {
        self.probabilities(ctx)
    }

    /// Draws the impression's outcome. `p_watch` is
    /// [`watch_probability`](Self::watch_probability) of `ctx` when the
    /// engine has computed it (the viewer's feed ranked by it), else `None`
    /// (the viewer had room for every offer, so nothing was ranked): the
    /// model computes what it needs. The default is the documented
    /// sequence, [`ResponseDraw::standard`]; a model with events of its own
    /// or another order overrides it, drawing only from `draw` (which keeps
    /// the run bit-identical at any thread count and gives common random
    /// numbers across policies).
    fn draw(&self, ctx: &ImpressionContext, p_watch: Option<f64>, draw: &mut ResponseDraw) -> Outcome {
        draw.standard(self, ctx, p_watch)
    }

    /// Names of the model's own events, beyond the built-in ones: event `i`
    /// is bit [`event::FIRST_EXTRA`]` + i` of [`Outcome::events`], counted
    /// under its name in the reports' `events`. At most
    /// [`event::MAX_EXTRA`], each named once. None by default.
    fn extra_events(&self) -> &[&'static str] {
        &[]
    }

    /// A short name for reports.
    fn name(&self) -> &str {
        "custom"
    }

    /// Checks the model's parameters; the engine calls it before a run.
    /// The default accepts everything.
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// One event's logistic coefficients:
/// `logit p = base + quality·q + interest·i + trust·t + fan·[fan] + iron_fan·[iron fan]`.
///
/// `fan` applies to ordinary fans, `iron_fan` to iron fans (it is not added
/// on top of `fan`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coefficients {
    /// Intercept: the logit for a stranger with no interest, an ordinary post
    /// and an ordinary creator.
    pub base: f64,
    /// Per standard deviation of post quality.
    #[serde(default)]
    pub quality: f64,
    /// Per unit of interest (0 = none, 1 = the user's only interest).
    #[serde(default)]
    pub interest: f64,
    /// Per unit of creator trust.
    #[serde(default)]
    pub trust: f64,
    /// Added for ordinary fans.
    #[serde(default)]
    pub fan: f64,
    /// Added for iron fans (instead of `fan`).
    #[serde(default)]
    pub iron_fan: f64,
}

impl Coefficients {
    #[inline]
    fn logit(&self, ctx: &ImpressionContext) -> f64 {
        let relation = match ctx.relation {
            Relation::Stranger => 0.0,
            Relation::Fan => self.fan,
            Relation::IronFan => self.iron_fan,
        };
        self.base + self.quality * ctx.quality + self.interest * ctx.interest + self.trust * ctx.trust + relation
    }

    fn validate(&self, field: &str) -> Result<()> {
        // Bounded, so that no logit can overflow to an infinity (or
        // infinity minus infinity, NaN) with the scenario's bounded inputs.
        let c = |name: &str, v: f64| check::within(&format!("{field}.{name}"), v, -MAX_LOGIT, MAX_LOGIT);
        c("base", self.base)?;
        c("quality", self.quality)?;
        c("interest", self.interest)?;
        c("trust", self.trust)?;
        c("fan", self.fan)?;
        c("iron_fan", self.iron_fan)
    }
}

/// The largest magnitude a logistic coefficient may have: far beyond any
/// sensible value (a logit of 1,000 is a probability of 1 to machine
/// precision), and small enough that no sum of coefficients times the
/// scenario's bounded inputs overflows.
pub const MAX_LOGIT: f64 = 1_000.0;

#[inline]
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The grid of [`below_logistic`]'s table: logits from `-GRID_HALF_WIDTH`
/// to `+GRID_HALF_WIDTH` in steps of `1 / GRID_PER_UNIT`.
const GRID_HALF_WIDTH: f64 = 32.0;
const GRID_PER_UNIT: f64 = 8.0;
const GRID_STEPS: usize = (2.0 * GRID_HALF_WIDTH * GRID_PER_UNIT) as usize;

/// For each grid logit `x_k`: `sigmoid(x_k)` made a little smaller and a
/// little larger (by a relative 1e-9, far more than the few units in the
/// last place by which the computed `sigmoid` can miss being monotone), so
/// that `lo(k) <= sigmoid(x) <= hi(k + 1)` for every computed logit `x` in
/// `[x_k, x_(k+1)]`.
static LOGISTIC_GRID: std::sync::LazyLock<Vec<(f64, f64)>> = std::sync::LazyLock::new(|| {
    (0..=GRID_STEPS)
        .map(|k| {
            let s = sigmoid(k as f64 / GRID_PER_UNIT - GRID_HALF_WIDTH);
            (s * (1.0 - 1e-9), s * (1.0 + 1e-9))
        })
        .collect()
});

/// Exactly `u < sigmoid(x)`, the decision of an event of logit `x` drawn
/// with the uniform `u`, but without the exponential when the table of the
/// logistic function on a grid of step 1/8 settles it: `u` at or above the
/// bound at the grid point above `x` is a miss, `u` below the bound at the
/// grid point below is a hit. Only a `u` between the two (a band of width
/// below 3%, and about 13% of `p` for a rare event of probability `p`) or a
/// logit off the grid computes `sigmoid(x)`.
#[inline]
fn below_logistic(u: f64, x: f64) -> bool {
    // Within rounding of the exact position: the margins cover a grid cell
    // taken one off at a boundary (an error of 1e-14 in x).
    let t = (x + GRID_HALF_WIDTH) * GRID_PER_UNIT;
    if (0.0..GRID_STEPS as f64).contains(&t) {
        // (Through i64: one instruction, where f64 to usize takes a branch.)
        let k = t as i64 as usize;
        let grid = &*LOGISTIC_GRID;
        if u >= grid[k + 1].1 {
            return false;
        }
        if u < grid[k].0 {
            return true;
        }
    }
    u < sigmoid(x)
}

/// The default response model: each event's probability is logistic in post
/// quality, the viewer's interest in the category, creator trust and the
/// relation; clicks and orders also in the viewer's purchase propensity,
/// orders in the price and in whether the viewer bought from the creator
/// before.
///
/// **Calibration.** The intercepts (`base`) of watch, like, comment, share,
/// follow and order are *fitted* so that the default world under the legacy
/// ladder, with the default single-column feed and finite sessions,
/// reproduces per impression KuaiRand-Pure's long view 33%, like 1.85%,
/// comment 0.26%, share 0.10%, follow 0.11% and practitioners' click-to-order
/// 3% (the middle of "1–5%"); `cargo run --release --example calibrate`
/// prints target beside realized value. The fit was a damped fixed point
/// (each intercept moved by 0.8 × (logit target − logit realized), five
/// rounds, in the default world scaled to 300,000 users). Everything else
/// (the other coefficients, the relation effects) is ours and was not
/// fitted; the iron-fan-first push's rates are results, not targets. At
/// the fitted values an ordinary post to a stranger with no interest:
///
/// | event | stranger, no interest, ordinary post | target (per impression, DOMAIN.md) |
/// |---|---|---|
/// | watch-through | 10.8% | long view 33% (KuaiRand-Pure) |
/// | like \| watch | 1.8% | like 1.85% |
/// | comment \| watch | 0.31% | comment 0.26% |
/// | share \| watch | 0.094% | share 0.10% |
/// | follow \| watch | 0.091% | follow 0.11% |
/// | click \| watch | 2.0% (not fitted) | practitioners: add-to-cart 15–25% of interested viewers |
/// | order \| click | 0.42% at 100 yuan | click-to-order 1–5% |
///
/// Realized rates are higher than these base rates because feeds show the
/// offers with the highest predicted engagement and public pools lean to
/// interested users.
///
/// Relation effects follow the documents' direction: fans watch through far
/// more (the liquor case: fans watch 500% longer), interact about 50% more
/// (fan `like` +0.4 on the logit ≈ ×1.5), and iron fans buy at several times
/// the rate of other viewers (reported ">6×"). Low-verticality fans have low
/// `interest`, so they watch, click and buy less.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogisticModel {
    /// Watch-through, per impression.
    pub watch: Coefficients,
    /// Like, given watch-through.
    pub like: Coefficients,
    /// Comment, given watch-through.
    pub comment: Coefficients,
    /// Share, given watch-through.
    pub share: Coefficients,
    /// Follow, given watch-through (strangers only; relation terms unused).
    pub follow: Coefficients,
    /// Product click, given watch-through; the viewer's purchase propensity
    /// is added to this logit.
    pub click: Coefficients,
    /// Order, given a click; the viewer's purchase propensity is added.
    pub order: Coefficients,
    /// Subtracted from the order logit per natural-log unit of
    /// `price / reference_price_yuan` (dearer goods sell less often).
    pub price_sensitivity: f64,
    /// The price at which the price term is zero, in yuan.
    pub reference_price_yuan: f64,
    /// Added to the order logit when the viewer has bought from this creator
    /// before (repurchase).
    pub repeat_buyer: f64,
    /// Added to the watch logit for fan-group members, who are notified of
    /// every new post (DOMAIN.md \[001\]: "instant notification").
    pub group_notification: f64,
    /// Added to the order logit for the creator's e-commerce members, who
    /// "buy again more readily" (DOMAIN.md \[000\]).
    pub ecommerce_member: f64,
    /// Added to the order logit while the viewer holds an unexpired
    /// repurchase coupon from the creator.
    pub coupon: f64,
    /// Fatigue: subtracted from the watch logit per impression the viewer has
    /// already watched that day (before the current slot). 0.005 lowers
    /// watch-through by about a tenth after KuaiRec's mean of 66.5 plays.
    pub fatigue_per_impression: f64,
    /// Added to the share logit per unit of commission rate
    /// ([`ImpressionContext::commission`]): sharing pays, so viewers share
    /// more (our assumption, for want of a public figure: 3.0, so a 10%
    /// commission multiplies the odds of a share by e^0.3 ≈ 1.35). Nothing
    /// changes without a commission.
    pub share_commission: f64,
}

impl Default for LogisticModel {
    fn default() -> Self {
        let c = |base, quality, interest, trust, fan, iron_fan| Coefficients {
            base,
            quality,
            interest,
            trust,
            fan,
            iron_fan,
        };
        LogisticModel {
            watch: c(-2.11, 0.8, 1.5, 0.3, 1.0, 2.0),
            like: c(-3.98, 0.5, 1.0, 0.2, 0.4, 1.5),
            comment: c(-5.77, 0.4, 0.8, 0.2, 0.4, 1.8),
            share: c(-6.97, 0.6, 0.5, 0.2, 0.4, 1.5),
            follow: c(-7.0, 0.6, 1.0, 0.3, 0.0, 0.0),
            click: c(-3.9, 0.3, 1.2, 0.4, 0.8, 1.8),
            order: c(-5.48, 0.2, 0.5, 0.5, 0.5, 1.0),
            price_sensitivity: 0.3,
            reference_price_yuan: 100.0,
            repeat_buyer: 1.0,
            group_notification: 0.5,
            ecommerce_member: 0.7,
            coupon: 1.0,
            fatigue_per_impression: 0.005,
            share_commission: 3.0,
        }
    }
}

impl LogisticModel {
    /// The watch's logit: the watch coefficients', the fan group's
    /// notification and the day's fatigue.
    #[inline]
    fn watch_logit(&self, ctx: &ImpressionContext) -> f64 {
        let notified = if ctx.group_member { self.group_notification } else { 0.0 };
        let fatigue = self.fatigue_per_impression * f64::from(ctx.seen_today);
        self.watch.logit(ctx) + notified - fatigue
    }

    /// The share's logit: the share coefficients' plus the commission's
    /// pull (exactly the coefficients' without a commission).
    #[inline]
    fn share_logit(&self, ctx: &ImpressionContext) -> f64 {
        self.share.logit(ctx) + self.share_commission * ctx.commission
    }

    /// The click's logit: the click coefficients' plus the viewer's
    /// purchase propensity.
    #[inline]
    fn click_logit(&self, ctx: &ImpressionContext) -> f64 {
        self.click.logit(ctx) + ctx.purchase_propensity
    }

    /// The order's logit for a product at `price` yuan: the order
    /// coefficients', the purchase propensity, the price term and the
    /// viewer's history with the creator.
    #[inline]
    fn order_logit(&self, ctx: &ImpressionContext, price: f64) -> f64 {
        let price_term = self.price_sensitivity * (price.max(0.01) / self.reference_price_yuan).ln();
        let flag = |on: bool, v: f64| if on { v } else { 0.0 };
        let repeat = flag(ctx.bought_before, self.repeat_buyer)
            + flag(ctx.ecommerce_member, self.ecommerce_member)
            + flag(ctx.coupon, self.coupon);
        self.order.logit(ctx) + ctx.purchase_propensity - price_term + repeat
    }

    /// Checks every coefficient; errors name the field under `field`
    /// (e.g. `response.watch.base`).
    pub fn validate(&self, field: &str) -> Result<()> {
        self.watch.validate(&format!("{field}.watch"))?;
        self.like.validate(&format!("{field}.like"))?;
        self.comment.validate(&format!("{field}.comment"))?;
        self.share.validate(&format!("{field}.share"))?;
        self.follow.validate(&format!("{field}.follow"))?;
        self.click.validate(&format!("{field}.click"))?;
        self.order.validate(&format!("{field}.order"))?;
        check::within(
            &format!("{field}.price_sensitivity"),
            self.price_sensitivity,
            0.0,
            MAX_LOGIT,
        )?;
        check::within(
            &format!("{field}.reference_price_yuan"),
            self.reference_price_yuan,
            0.01,
            crate::content::MAX_PRICE_YUAN,
        )?;
        for (name, v) in [
            ("repeat_buyer", self.repeat_buyer),
            ("group_notification", self.group_notification),
            ("ecommerce_member", self.ecommerce_member),
            ("coupon", self.coupon),
        ] {
            check::within(&format!("{field}.{name}"), v, -MAX_LOGIT, MAX_LOGIT)?;
        }
        check::within(
            &format!("{field}.fatigue_per_impression"),
            self.fatigue_per_impression,
            0.0,
            1.0,
        )?;
        check::within(
            &format!("{field}.share_commission"),
            self.share_commission,
            -MAX_LOGIT,
            MAX_LOGIT,
        )
    }
}

impl ResponseModel for LogisticModel {
    fn name(&self) -> &str {
        "logistic"
    }

    #[inline]
    fn watch_probability(&self, ctx: &ImpressionContext) -> f64 {
        sigmoid(self.watch_logit(ctx))
    }

    fn validate(&self) -> Result<()> {
        LogisticModel::validate(self, "response")
    }

    #[inline]
    fn probabilities(&self, ctx: &ImpressionContext) -> Probabilities {
        Probabilities {
            watch: self.watch_probability(ctx),
            ..self.event_probabilities(ctx)
        }
    }

    /// Every event's probability but the watch's (left at 0).
    #[inline]
    fn event_probabilities(&self, ctx: &ImpressionContext) -> Probabilities {
        let (click, order) = match ctx.price_yuan {
            Some(price) => (sigmoid(self.click_logit(ctx)), sigmoid(self.order_logit(ctx, price))),
            None => (0.0, 0.0),
        };
        Probabilities {
            watch: 0.0,
            like: sigmoid(self.like.logit(ctx)),
            comment: sigmoid(self.comment.logit(ctx)),
            share: sigmoid(self.share_logit(ctx)),
            follow: if ctx.relation == Relation::Stranger {
                sigmoid(self.follow.logit(ctx))
            } else {
                0.0
            },
            click,
            order,
        }
    }

    /// The documented sequence ([`ResponseDraw::sequence`]) with the
    /// outcome [`ResponseDraw::standard`] draws from the same stream, but
    /// each event (and the watch, when the feed did not compute its
    /// probability) decided from its logit: a table of the logistic
    /// function settles most draws, so the exponential is computed only
    /// for the few it leaves undecided, and the order's logit (with its
    /// price term) only after a click.
    fn draw(&self, ctx: &ImpressionContext, p_watch: Option<f64>, d: &mut ResponseDraw) -> Outcome {
        d.sequence(
            ctx,
            // The watch, too, from its logit when the feed did not need its
            // probability.
            |d| match p_watch {
                Some(p) => d.chance(p),
                None => below_logistic(d.unit(), self.watch_logit(ctx)),
            },
            |d, decision| {
                let x = match decision {
                    Decision::Like => self.like.logit(ctx),
                    Decision::Comment => self.comment.logit(ctx),
                    Decision::Share => self.share_logit(ctx),
                    Decision::Follow => self.follow.logit(ctx),
                    Decision::Click => self.click_logit(ctx),
                    Decision::Order { price_yuan, history } if history == PurchaseHistory::default() => {
                        self.order_logit(ctx, price_yuan)
                    }
                    Decision::Order { price_yuan, history } => {
                        let with_history = ImpressionContext {
                            bought_before: history.bought_before,
                            ecommerce_member: history.ecommerce_member,
                            coupon: history.coupon,
                            ..*ctx
                        };
                        self.order_logit(&with_history, price_yuan)
                    }
                };
                below_logistic(d.unit(), x)
            },
        )
    }
}

/// The null model: fixed probabilities per relation, whatever the post,
/// viewer or creator. Results under it can be computed in closed form, which
/// is what the crate's statistical tests do.
///
/// `follow` is used for strangers only and `click`/`order` only for posts
/// with a product, as in every model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConstantModel {
    /// Probabilities for strangers.
    pub stranger: Probabilities,
    /// Probabilities for ordinary fans.
    pub fan: Probabilities,
    /// Probabilities for iron fans.
    pub iron_fan: Probabilities,
}

impl Default for ConstantModel {
    /// Round numbers of the order of version 1's logistic model at an
    /// ordinary post, an ordinary creator and interest 0.6 (not calibrated:
    /// the null model for closed-form checks).
    fn default() -> Self {
        let p = |watch, like, comment, share, follow, click, order| Probabilities {
            watch,
            like,
            comment,
            share,
            follow,
            click,
            order,
        };
        ConstantModel {
            stranger: p(0.45, 0.07, 0.013, 0.004, 0.006, 0.04, 0.04),
            fan: p(0.69, 0.10, 0.02, 0.006, 0.0, 0.09, 0.06),
            iron_fan: p(0.86, 0.26, 0.09, 0.02, 0.0, 0.21, 0.10),
        }
    }
}

impl ConstantModel {
    /// Checks that every entry is a probability; errors name the field under
    /// `field` (e.g. `response.iron_fan.watch`).
    pub fn validate(&self, field: &str) -> Result<()> {
        self.stranger.validate(&format!("{field}.stranger"))?;
        self.fan.validate(&format!("{field}.fan"))?;
        self.iron_fan.validate(&format!("{field}.iron_fan"))
    }
}

impl ResponseModel for ConstantModel {
    fn name(&self) -> &str {
        "constant"
    }

    fn validate(&self) -> Result<()> {
        ConstantModel::validate(self, "response")
    }

    #[inline]
    fn probabilities(&self, ctx: &ImpressionContext) -> Probabilities {
        let mut p = match ctx.relation {
            Relation::Stranger => self.stranger,
            Relation::Fan => self.fan,
            Relation::IronFan => self.iron_fan,
        };
        if ctx.relation != Relation::Stranger {
            p.follow = 0.0;
        }
        if ctx.price_yuan.is_none() {
            p.click = 0.0;
            p.order = 0.0;
        }
        p
    }
}

/// The response model a scenario file names: `model = "logistic"` (the
/// default) or `model = "constant"`, with that model's fields beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
// A handful of these exist per run; boxing would only cost an indirection
// in the hot loop.
#[allow(clippy::large_enum_variant)]
pub enum ResponseSpec {
    /// [`LogisticModel`].
    Logistic(LogisticModel),
    /// [`ConstantModel`].
    Constant(ConstantModel),
}

impl Default for ResponseSpec {
    fn default() -> Self {
        ResponseSpec::Logistic(LogisticModel::default())
    }
}

impl ResponseSpec {
    /// Checks the chosen model's parameters; fields are named under `response`.
    pub fn validate(&self) -> Result<()> {
        match self {
            ResponseSpec::Logistic(m) => m.validate("response"),
            ResponseSpec::Constant(m) => m.validate("response"),
        }
    }

    /// The model's name as reports show it.
    pub fn name(&self) -> &'static str {
        match self {
            ResponseSpec::Logistic(_) => "logistic",
            ResponseSpec::Constant(_) => "constant",
        }
    }
}

impl ResponseModel for ResponseSpec {
    fn name(&self) -> &str {
        ResponseSpec::name(self)
    }

    fn validate(&self) -> Result<()> {
        ResponseSpec::validate(self)
    }

    #[inline]
    fn probabilities(&self, ctx: &ImpressionContext) -> Probabilities {
        match self {
            ResponseSpec::Logistic(m) => m.probabilities(ctx),
            ResponseSpec::Constant(m) => m.probabilities(ctx),
        }
    }

    #[inline]
    fn watch_probability(&self, ctx: &ImpressionContext) -> f64 {
        match self {
            ResponseSpec::Logistic(m) => m.watch_probability(ctx),
            ResponseSpec::Constant(m) => m.watch_probability(ctx),
        }
    }

    #[inline]
    fn event_probabilities(&self, ctx: &ImpressionContext) -> Probabilities {
        match self {
            ResponseSpec::Logistic(m) => m.event_probabilities(ctx),
            ResponseSpec::Constant(m) => m.event_probabilities(ctx),
        }
    }

    #[inline]
    fn draw(&self, ctx: &ImpressionContext, p_watch: Option<f64>, d: &mut ResponseDraw) -> Outcome {
        match self {
            ResponseSpec::Logistic(m) => m.draw(ctx, p_watch, d),
            ResponseSpec::Constant(m) => m.draw(ctx, p_watch, d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(relation: Relation, interest: f64) -> ImpressionContext {
        ImpressionContext {
            price_yuan: Some(100.0),
            ..ImpressionContext::new(relation, 0.0, interest)
        }
    }

    #[test]
    fn logistic_defaults_land_on_the_documented_stranger_rates() {
        let m = LogisticModel::default();
        let p = m.probabilities(&ctx(Relation::Stranger, 0.0));
        // The table in LogisticModel's docs.
        assert!((p.watch - 0.108).abs() < 0.001, "{}", p.watch);
        assert!((p.like - 0.0183).abs() < 0.0005, "{}", p.like);
        assert!((p.follow - 0.00091).abs() < 0.00003, "{}", p.follow);
        assert!((p.order - 0.0042).abs() < 0.0002, "{}", p.order);
        let interested = m.probabilities(&ctx(Relation::Stranger, 0.6));
        assert!((interested.watch - 0.230).abs() < 0.002, "{}", interested.watch);
    }

    /// The table-decided comparison is the comparison, on the grid's
    /// points, just off them, in every cell and off the grid.
    #[test]
    fn below_logistic_is_exactly_u_below_the_sigmoid() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut xs = vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1e300,
            1e300,
            -32.0,
            32.0,
            0.0,
        ];
        for k in 0..=GRID_STEPS {
            let g = k as f64 / GRID_PER_UNIT - GRID_HALF_WIDTH;
            xs.extend([g, g.next_up(), g.next_down(), g + 1e-12, g - 1e-12]);
        }
        for _ in 0..200_000 {
            xs.push(next() * 80.0 - 40.0);
        }
        let mut undecided = 0usize;
        for &x in &xs {
            let p = sigmoid(x);
            // Draws at the probability itself and next to it, where the
            // table cannot decide, and anywhere.
            for u in [p, p.next_up(), p.next_down(), next(), next(), 0.0, 1.0 - f64::EPSILON] {
                if !(0.0..1.0).contains(&u) {
                    continue;
                }
                assert_eq!(below_logistic(u, x), u < p, "u = {u:e}, x = {x:e}");
                undecided += usize::from((u - p).abs() < 0.03);
            }
        }
        assert!(
            undecided > 1000,
            "the cases next to the probability were tried: {undecided}"
        );
    }

    /// The logistic model's own draw gives the standard sequence's outcome
    /// from the same stream, for every relation, with and without a
    /// product and a purchase history, and at extreme logits.
    #[test]
    fn the_logistic_draw_is_the_standard_sequence() {
        use rand::SeedableRng;
        use rand::rngs::Xoshiro256PlusPlus;
        let mut models = vec![LogisticModel::default()];
        // Every event likely, so that clicks and orders are drawn often.
        let mut eager = LogisticModel::default();
        for c in [
            &mut eager.like,
            &mut eager.comment,
            &mut eager.share,
            &mut eager.follow,
            &mut eager.click,
            &mut eager.order,
        ] {
            c.base = 1.5;
        }
        models.push(eager);
        let mut extreme = LogisticModel::default();
        extreme.like.base = 900.0;
        extreme.comment.base = -900.0;
        extreme.click.base = 35.0;
        extreme.order.base = -35.0;
        models.push(extreme);
        let watch = WatchTime {
            replay_mean: 0.5,
            partial_shape: 0.8,
            max_ratio: 5.0,
        };
        let histories = [
            PurchaseHistory::default(),
            PurchaseHistory {
                bought_before: true,
                ecommerce_member: false,
                coupon: true,
            },
        ];
        let (mut draws, mut clicks) = (0u32, 0u32);
        for (mi, m) in models.iter().enumerate() {
            for (i, relation) in Relation::ALL.into_iter().enumerate() {
                for (j, price) in [None, Some(0.5), Some(100.0), Some(5000.0)].into_iter().enumerate() {
                    for (h, history) in histories.iter().enumerate() {
                        for n in 0..2_000u64 {
                            let c = ImpressionContext {
                                trust: (n % 3) as f64,
                                purchase_propensity: (n % 5) as f64 - 2.0,
                                price_yuan: price,
                                group_member: n % 2 == 0,
                                seen_today: (n % 50) as u32,
                                ..ImpressionContext::new(relation, (n % 7) as f64 - 3.0, (n % 11) as f64 / 10.0)
                            };
                            let p_watch = (n % 2 == 1).then(|| m.watch_probability(&c));
                            let lookup = || *history;
                            let seed = (mi as u64) << 40 | (i as u64) << 32 | (j as u64) << 24 | (h as u64) << 20 | n;
                            let mut a =
                                ResponseDraw::new(Xoshiro256PlusPlus::seed_from_u64(seed), watch, 30.0, &lookup);
                            let mut b =
                                ResponseDraw::new(Xoshiro256PlusPlus::seed_from_u64(seed), watch, 30.0, &lookup);
                            let ours = m.draw(&c, p_watch, &mut a);
                            let standard = b.standard(m, &c, p_watch);
                            assert_eq!(ours, standard, "model {mi}, {c:?}");
                            // The streams are left at the same place.
                            assert_eq!(a.unit(), b.unit());
                            draws += 1;
                            clicks += u32::from(ours.has(event::CLICK));
                        }
                    }
                }
            }
        }
        assert!(
            clicks > 10_000,
            "clicks, and so orders, were drawn: {clicks} of {draws}"
        );
    }

    /// The events' probabilities after a view are `probabilities`' own,
    /// bit for bit, whatever the context; only the watch is left out.
    #[test]
    fn event_probabilities_are_the_probabilities_without_the_watch() {
        let m = ResponseSpec::Logistic(LogisticModel::default());
        for k in 0..2_000u64 {
            let u = |i: u64| crate::rng::unit(5, 0, k, i);
            let relation = [Relation::Stranger, Relation::Fan, Relation::IronFan][k as usize % 3];
            let c = ImpressionContext {
                quality: u(1),
                trust: u(2),
                purchase_propensity: u(3) * 4.0 - 2.0,
                price_yuan: (k % 4 != 0).then(|| 1.0 + u(4) * 300.0),
                bought_before: k % 5 == 0,
                ecommerce_member: k % 7 == 0,
                coupon: k % 11 == 0,
                group_member: k % 13 == 0,
                seen_today: (k % 50) as u32,
                ..ImpressionContext::new(relation, u(5), u(6))
            };
            let (all, events) = (m.probabilities(&c), m.event_probabilities(&c));
            assert_eq!(Probabilities { watch: 0.0, ..all }, events, "{c:?}");
            assert!(all.watch > 0.0);
        }
    }

    #[test]
    fn logistic_orders_relations_as_the_documents_do() {
        let m = LogisticModel::default();
        let s = m.probabilities(&ctx(Relation::Stranger, 0.6));
        let f = m.probabilities(&ctx(Relation::Fan, 0.6));
        let i = m.probabilities(&ctx(Relation::IronFan, 0.6));
        assert!(s.watch < f.watch && f.watch < i.watch);
        // Fans interact about 50% more than non-fans.
        let ratio = f.like / s.like;
        assert!((1.3..1.7).contains(&ratio), "{ratio}");
        // Iron fans pay at several times the rate of ordinary viewers.
        let pay = |p: Probabilities| p.watch * p.click * p.order;
        assert!(pay(i) > 6.0 * pay(s), "{} vs {}", pay(i), pay(s));
        // Only strangers follow.
        assert_eq!(f.follow, 0.0);
        // A low-verticality fan converts less than a vertical one.
        let low = m.probabilities(&ctx(Relation::Fan, 0.0));
        assert!(pay(low) < pay(f));
    }

    #[test]
    fn price_and_repeat_purchase_move_orders() {
        let m = LogisticModel::default();
        let mut c = ctx(Relation::Fan, 0.6);
        let base = m.probabilities(&c).order;
        c.price_yuan = Some(1000.0);
        assert!(m.probabilities(&c).order < base);
        c.price_yuan = Some(100.0);
        c.bought_before = true;
        assert!(m.probabilities(&c).order > base);
        c.price_yuan = None;
        let none = m.probabilities(&c);
        assert_eq!((none.click, none.order), (0.0, 0.0));
    }

    #[test]
    fn members_coupons_notification_and_fatigue_move_the_right_events() {
        let m = LogisticModel::default();
        let base = ctx(Relation::Fan, 0.6);
        let p0 = m.probabilities(&base);
        let member = m.probabilities(&ImpressionContext {
            ecommerce_member: true,
            ..base
        });
        assert!(member.order > p0.order);
        assert_eq!(member.watch, p0.watch);
        let coupon = m.probabilities(&ImpressionContext { coupon: true, ..base });
        assert!(coupon.order > p0.order);
        let group = m.probabilities(&ImpressionContext {
            group_member: true,
            ..base
        });
        assert!(group.watch > p0.watch);
        let tired = m.probabilities(&ImpressionContext {
            seen_today: 200,
            ..base
        });
        assert!(tired.watch < p0.watch);
        assert_eq!(tired.order, p0.order);
    }

    #[test]
    fn validation_names_the_field() {
        let mut m = ConstantModel::default();
        m.fan.like = 1.5;
        let e = m.validate("response").unwrap_err();
        assert_eq!(e.field(), Some("response.fan.like"));
        let mut l = LogisticModel::default();
        l.order.trust = f64::NAN;
        assert_eq!(
            l.validate("response").unwrap_err().field(),
            Some("response.order.trust")
        );
    }
}
