//! A push policy written outside the crate, run beside the shipped ones.
//!
//! `TenPercentWave`: one wave to 10% of the creator's fans (iron fans and the
//! others together, the most engaged first); if they watch through at least
//! 40% of the time, one public pool of 1,000 users scaled by the account's
//! iron-fan ratio (× ratio / 0.1). The policy is the `impl` below: it reads
//! the creator's state and the fans' feedback from the context it is handed
//! and returns the next stage. The audience is one written here too.
//!
//! ```sh
//! cargo run --release --example custom_policy
//! cargo run --release --example custom_policy -- --users 20000
//! ```

use feedsim::audience::{Audience, AudienceView, Cursor, InterestTargetedPublic, Order, ordered_pick};
use feedsim::policy::{Gate, PushContext, PushEnd, PushPolicy, Size, Stage, Step};
use feedsim::{Error, Simulation, World};

#[path = "research/mod.rs"]
mod research;

/// Every follower of the creator, iron fans included.
struct AllFans;

impl Audience for AllFans {
    fn name(&self) -> &str {
        "all fans"
    }
    fn is_public(&self) -> bool {
        false
    }
    fn len(&self, v: &AudienceView) -> u64 {
        v.graph.followers(v.post.creator).into()
    }
    fn select(
        &self,
        v: &AudienceView,
        order: Order,
        want: u64,
        eligible: &dyn Fn(u32) -> bool,
        _: &mut Cursor,
        out: &mut Vec<u32>,
    ) {
        let fans = v
            .graph
            .fan_edges(v.post.creator)
            .map(|e| (v.graph.edge_user(e), Some(e)));
        ordered_pick(v, order, want, fans, eligible, out);
    }
}

/// A tenth of the fans, then one public pool scaled by the iron-fan ratio.
pub struct TenPercentWave {
    pub gate: Gate,
}

impl PushPolicy for TenPercentWave {
    fn name(&self) -> &str {
        "10% fan wave"
    }

    fn next_stage<'p>(&'p self, ctx: &PushContext) -> Step<'p> {
        match ctx.history.len() {
            0 => Step::Stage(Stage {
                audience: &AllFans,
                size: Size::Share(0.1),
                order: Order::Engagement,
                label: "fan wave",
                source: None,
            }),
            1 if !self.gate.judge(&ctx.history[0].shown, ctx.so_far).advances() => {
                Step::End(PushEnd::Gate { stage: 0 })
            }
            1 => {
                let size = 1_000.0 * ctx.creator.iron_fan_ratio / 0.1;
                Step::Stage(Stage {
                    audience: &InterestTargetedPublic,
                    size: Size::Users(size.round().max(1.0) as u64),
                    order: Order::Random,
                    label: "public pool",
                    source: None,
                })
            }
            _ => Step::End(PushEnd::Completed),
        }
    }
}

fn main() -> Result<(), Error> {
    let args = research::args("custom_policy");
    let users: u32 = research::parsed(&args, "users", 200_000);
    let s = research::scaled_default(users)?;
    let world = World::generate(&s)?;
    let sim = Simulation::new(&s, &world)?;
    let custom = TenPercentWave {
        gate: Gate {
            threshold: 0.4,
            watch_through: 1.0,
            like: 0.0,
            min_impressions: 5,
            ..Gate::default()
        },
    };
    let ladder = s.public_pool_ladder.clone();
    let iron = s.iron_fan_first();
    let mut reports = Vec::new();
    for p in [&ladder as &dyn PushPolicy, &iron, &custom] {
        reports.push(sim.run(p, &s.response)?);
    }
    research::print_comparison(&s, &reports);
    Ok(())
}
