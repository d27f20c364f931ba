//! # feedsim
//!
//! A simulator of a short-video recommendation feed, built to answer one
//! question: **when a platform moves from the legacy public-pool push to
//! iron-fan-first push, who gains reach, who loses it, and what happens to
//! conversion and GMV?**
//!
//! - Under the **legacy public-pool ladder** ([`policy::PublicPoolLadder`]) a
//!   new post goes to a small batch of public users and climbs ever larger
//!   public pools while their engagement passes a gate; follower count plays
//!   no part.
//! - Under **iron-fan-first push** ([`policy::IronFanFirst`]) a post goes to
//!   the creator's iron fans, then the other fans, and only if the fans
//!   respond well into the public pools, enlarged by strong fan feedback.
//!
//! A run generates a [`World`] (users, creators, follow graph) from a
//! [`Scenario`], pushes the creators' posts through a policy with a
//! bulk-synchronous, rayon-parallel engine ([`sim`]), draws each user's
//! response from a [`response::ResponseModel`], and returns a [`Report`] of
//! reach and conversion per post, creator, cohort and for the platform.
//!
//! Over several days, with `[attention] mode = "finite"` users have daily
//! attention budgets and posts compete for them, and with
//! `[dynamics] enabled = true` fans are made, promoted to iron fans, grouped
//! and lost through their own behaviour, so the iron-fan ratio becomes an
//! outcome of the policy; reports then carry per-day cohort series
//! ([`metrics::DailyCohortReport`]) and the private-domain funnel
//! ([`metrics::Funnel`]). [`experiment`] runs policies side by side over
//! replicates with confidence intervals and sweeps parameters; [`postlog`]
//! replays a posting history; [`output`] writes CSV and JSON tables.
//!
//! ```
//! use feedsim::{Scenario, Simulation, World};
//! use feedsim::policy::{IronFanFirst, PublicPoolLadder};
//!
//! // A small world: the default scenario scaled down.
//! let mut scenario = Scenario::from_toml_str(feedsim::scenario::DEFAULT_SCENARIO)?;
//! scenario.users.count = 50_000;
//! for c in &mut scenario.cohorts {
//!     c.creators = c.creators.min(30);
//!     c.followers.max = c.followers.max.min(20_000);
//!     c.followers.min = c.followers.min.min(c.followers.max);
//! }
//! let world = World::generate(&scenario)?;
//! let sim = Simulation::new(&scenario, &world)?;
//! let legacy = sim.run(&scenario.public_pool_ladder, &scenario.response)?;
//! let iron = sim.run(&scenario.iron_fan_first(), &scenario.response)?;
//!
//! // Under the legacy push iron fans see a post only by chance;
//! // iron-fan-first shows it to all of them first.
//! let (old, new) = (legacy.cohort("KOL").unwrap(), iron.cohort("KOL").unwrap());
//! assert!(new.rates.iron_fan_share > old.rates.iron_fan_share);
//! println!("KOL GMV: {:.0} yuan before, {:.0} yuan after", old.rates.gmv_yuan, new.rates.gmv_yuan);
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
//! finalizer; see [`sim`] for the keys), and all sums are integers or taken
//! in a fixed order.

#![deny(missing_docs)]

pub mod audience;
pub mod content;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod feed;
pub mod generate;
pub mod metrics;
pub mod output;
pub mod policy;
pub mod postlog;
pub mod response;
mod rng;
pub mod scenario;
pub mod tally;
pub mod world;

pub use engine::Simulation;
pub use error::{Error, Result};
pub use experiment::{Experiment, ExperimentReport, Sweep, SweepReport};
pub use feed::Feed;
pub use metrics::Report;
pub use policy::PushPolicy;
pub use postlog::PostLog;
pub use response::ResponseModel;
pub use scenario::Scenario;
pub use world::World;
