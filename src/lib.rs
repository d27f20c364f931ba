//! # feedsim
//!
//! A simulator of short-video recommendation feeds, built to answer one
//! question: **when a platform moves from the legacy public-pool push to
//! iron-fan-first push, who gains reach, who loses it, and what happens to
//! conversion and GMV?**
//!
//! - Under the **legacy public-pool ladder** ([`policy::PublicPoolLadder`]) a
//!   new post goes to a small batch of public users and climbs ever larger
//!   public pools while their engagement passes a gate; follower count plays
//!   no part.
//! - Under **iron-fan-first push** ([`policy::IronFanFirst`]) a post goes to
//!   the creator's iron fans, then to the other fans in gated waves, and only
//!   if the fans respond well into public pools whose size is weighted by the
//!   account's private-domain quality (iron-fan ratio and the fans'
//!   feedback), never by its follower count.
//!
//! ## The model: four traits over plain data
//!
//! A [`World`] (users, creators, follow graph; structures of arrays with
//! `u32` ids) is generated from a [`Scenario`]. Then, slot by slot:
//!
//! - a [`PushPolicy`] decides each post's next stage from a read-only
//!   [`policy::PushContext`] (the post, the creator's state now, the
//!   feedback so far per stage and tier);
//! - the stage's [`audience::Audience`] selects whom to offer the post to
//!   (fan tiers, customers, fans of similar creators, the public); nobody is
//!   offered a post twice;
//! - each viewer's [`Feed`] ranks the round's offers and the viewer watches
//!   what the session has room for ([`feed::SingleColumn`], the X-style
//!   [`feed::XMixer`], or [`feed::Unlimited`]);
//! - a [`ResponseModel`] gives the probabilities of watch-through, like,
//!   comment, share, follow, product click and order for each impression.
//!
//! Each is a trait a researcher can implement in their own crate; the engine
//! ([`engine`]) never matches on their types. A run returns a [`Report`] of
//! reach and conversion per post, creator, cohort and for the platform,
//! split by audience tier ([`metrics::Tier`]) and by traffic source (the
//! push stage that made the offers, [`metrics::BySource`]), with the share
//! of impressions from followed accounts and the offers feeds did not show.
//!
//! Over several days, with `[dynamics] enabled = true` fans are made,
//! promoted to iron fans, grouped and lost through their own behaviour, so
//! the iron-fan ratio becomes an outcome of the policy; reports then carry
//! per-day cohort series ([`metrics::DailyCohortReport`]) and the
//! private-domain funnel ([`metrics::Funnel`]). The generated world is not
//! a steady state of any policy: a scenario's `[warmup]` runs days under the
//! legacy ladder first, and [`Simulation::warm_up`] / [`Simulation::resume`]
//! compare policies from the same warmed state ([`Checkpoint`]). Traffic
//! outside the push comes through [`channel::Channel`]s: the followed tab,
//! friends, shares, and paid traffic ([`feed::PaidTraffic`], DOU+ style:
//! a budget at a price per 1,000 plays, its spend in
//! [`metrics::Tally::spend_fen`]). Live sessions ([`live`]) are posts
//! viewers enter, stay in and buy during; shelf and search ([`shelf`])
//! harvest the purchase intent content seeds; [`metrics::BySource::by_channel`]
//! splits orders and GMV by channel. An account matrix ([`matrix`]) is one
//! brand's store accounts, each in a region its audience leans to.
//! [`experiment`] runs policies
//! side by side over replicates with confidence intervals and sweeps
//! parameters; [`postlog`] replays a posting history; [`output`] writes CSV
//! and JSON tables; [`calibration`] measures a report against the public
//! figures the default response model is fitted to (KuaiRand, KuaiRec).
//!
//! ```
//! use feedsim::{Scenario, Simulation, World};
//!
//! // The default world at 50,000 users, same per-user proportions.
//! let scenario = Scenario::default_scenario().scaled(50_000);
//! let world = World::generate(&scenario)?;
//! let sim = Simulation::new(&scenario, &world)?;
//! let legacy = sim.run(&scenario.public_pool_ladder, &scenario.response)?;
//! let iron = sim.run(&scenario.iron_fan_first(), &scenario.response)?;
//!
//! // Under the legacy push iron fans see a post only by chance;
//! // iron-fan-first shows it to them first.
//! let (old, new) = (legacy.cohort("KOE").unwrap(), iron.cohort("KOE").unwrap());
//! println!("KOE impressions on iron fans: {} → {}", old.tally.iron_fan_impressions, new.tally.iron_fan_impressions);
//! assert!(new.tally.iron_fan_impressions > old.tally.iron_fan_impressions);
//! println!("KOE GMV: {:.0} yuan before, {:.0} yuan after", old.rates.gmv_yuan, new.rates.gmv_yuan);
//! // Sessions are finite: some offers were not shown.
//! assert!(legacy.platform.tally.offers_not_shown > 0);
//! // Reports serialize with serde.
//! assert!(iron.to_json()?.contains("\"policy\": \"iron-fan first\""));
//! # Ok::<(), feedsim::Error>(())
//! ```
//!
//! ## Reproducibility
//!
//! The same scenario and seed give a bit-identical report at any thread
//! count: every random draw comes from a `Xoshiro256PlusPlus` stream (rand
//! 0.10) seeded by mixing the run seed with what is drawn (SplitMix64
//! finalizer), the parallel phases write only what they own and defer the
//! rest to one sync point per round where every effect commutes (see
//! [`engine`]); all sums are integers or taken in a fixed order.

#![deny(missing_docs)]

pub mod audience;
pub mod calibration;
pub mod category_bonus;
pub mod channel;
#[doc(hidden)]
pub mod cli;
pub mod content;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod feed;
#[doc(hidden)]
pub mod fuzz;
pub mod generate;
pub mod live;
pub mod matrix;
pub mod memory;
pub mod metrics;
pub mod output;
pub mod policy;
pub mod postlog;
pub mod response;
mod rng;
pub mod scenario;
pub mod shelf;
pub mod tally;
mod trim;
pub mod world;

pub use engine::{Checkpoint, Simulation};
pub use error::{Error, Result};
pub use experiment::{Experiment, ExperimentReport, Sweep, SweepReport};
pub use feed::Feed;
pub use metrics::Report;
pub use policy::PushPolicy;
pub use postlog::PostLog;
pub use response::ResponseModel;
pub use scenario::Scenario;
pub use world::World;
