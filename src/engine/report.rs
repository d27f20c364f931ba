//! Building the run's report from its finished posts and final state.

use super::Simulation;
use super::state::RunState;
use crate::metrics::{
    BySource, CohortReport, ContentFunnel, CreatorReport, Funnel, LiveTallies, PerTier, PlatformReport, PostReport,
    RelationshipFunnel, Report, Tally, TierTallies, gini, ratio, top_share,
};
use crate::response::ResponseModel;
use crate::tally::{Events, add_events, add_source};
use crate::world::{FollowGraph, World};

/// The sum of several per-source tallies.
fn sum_sources<'a>(parts: impl Iterator<Item = &'a BySource>) -> BySource {
    let mut sum = BySource::new();
    for part in parts {
        for (source, t) in part {
            add_source(&mut sum, source, t);
        }
    }
    sum
}

/// What policies see of a creator's finished posts
/// ([`CreatorState`](crate::policy::CreatorState)'s `finished_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) posts: u64,
    pub(crate) impressions: u64,
    pub(crate) watches: u64,
}

/// Where a finished post's report goes: into the run's report, or to a
/// sink the caller gave ([`Simulation::run_streaming`]).
pub(super) type PostSink<'a> = &'a mut dyn FnMut(PostReport) -> crate::error::Result<()>;

/// What the run keeps of its finished posts: per creator the sums the
/// report needs, each post's impressions (8 bytes a post, for the
/// concentration figures) and either the posts' reports or nothing, when
/// they go to a sink. Sums are of integers, so the order in which posts end
/// does not change them.
pub(super) struct PostLedger<'a> {
    /// Per creator, the sums over every finished post, warm-up included:
    /// what policies see.
    seen: Vec<Seen>,
    /// Posts published before this slot (in a warm-up) count in `seen`
    /// only, not in the report.
    from_slot: u32,
    creators: Vec<CreatorReport>,
    public_posts: Vec<u64>,
    /// Per cohort, its live sessions' counts.
    live: Vec<LiveTallies>,
    impressions: Vec<u64>,
    kept: Vec<PostReport>,
    sink: Option<PostSink<'a>>,
}

impl<'a> PostLedger<'a> {
    pub(super) fn new(sim: &Simulation, model: &dyn ResponseModel, sink: Option<PostSink<'a>>) -> Self {
        let world = sim.world();
        let no_events: Events = model.extra_events().iter().map(|n| (n.to_string(), 0)).collect();
        let creators = (0..world.creators().len() as u32)
            .map(|c| CreatorReport {
                id: c,
                cohort: world.creators().cohort(c),
                category: world.creators().category(c),
                followers: 0,
                iron_fans: 0,
                followers_end: 0,
                iron_fans_end: 0,
                stopped_after_day: None,
                region: None,
                local_followers_end: None,
                posts: 0,
                tally: Tally::default(),
                by_tier: TierTallies::default(),
                by_source: BySource::new(),
                events: no_events.clone(),
            })
            .collect();
        PostLedger {
            seen: vec![Seen::default(); world.creators().len()],
            from_slot: 0,
            creators,
            public_posts: vec![0; world.cohorts().len()],
            live: vec![LiveTallies::default(); world.cohorts().len()],
            impressions: Vec::new(),
            kept: if sink.is_some() {
                Vec::new()
            } else {
                Vec::with_capacity(sim.posts.len())
            },
            sink,
        }
    }

    /// Per creator, the sums over its posts that have ended so far (what
    /// policies see as a creator's finished posts).
    pub(super) fn seen(&self) -> &[Seen] {
        &self.seen
    }

    /// A ledger that goes on from `seen` (a warm-up's) and reports only
    /// the posts published from `from_slot` on.
    pub(super) fn after(mut self, seen: Vec<Seen>, from_slot: u32) -> Self {
        debug_assert_eq!(seen.len(), self.seen.len());
        self.seen = seen;
        self.from_slot = from_slot;
        self
    }

    /// A ledger for a warm-up: it keeps what policies see and no report.
    /// Every post is only seen ([`see`](Self::see)), so the report's
    /// sums stay empty.
    pub(super) fn warm_up(sim: &Simulation) -> Self {
        PostLedger {
            seen: vec![Seen::default(); sim.world().creators().len()],
            from_slot: u32::MAX,
            creators: Vec::new(),
            public_posts: Vec::new(),
            live: Vec::new(),
            impressions: Vec::new(),
            kept: Vec::new(),
            sink: None,
        }
    }

    /// What policies see of each creator's finished posts, for a checkpoint.
    pub(super) fn into_seen(self) -> Vec<Seen> {
        self.seen
    }

    /// Whether the report wants the post published in `slot`: only those
    /// of the period it covers; [`see`](Self::see) records the others.
    pub(super) fn reports(&self, slot: u32) -> bool {
        slot >= self.from_slot
    }

    /// Records a finished post of `creator` with counts `tally` in what
    /// policies see, and nowhere else.
    pub(super) fn see(&mut self, creator: u32, tally: &crate::tally::Tally) {
        let s = &mut self.seen[creator as usize];
        s.posts += 1;
        s.impressions += tally.impressions;
        s.watches += tally.watches;
    }

    /// Records a finished post the report wants ([`reports`](Self::reports)),
    /// and keeps it or hands it to the sink.
    pub(super) fn add(&mut self, p: PostReport) -> crate::error::Result<()> {
        debug_assert!(self.reports(p.slot));
        self.see(p.creator, &p.tally);
        let cr = &mut self.creators[p.creator as usize];
        cr.posts += 1;
        cr.tally.add(&p.tally);
        cr.by_tier.add(&p.by_tier);
        if p.live {
            self.live[usize::from(p.cohort)].add(&p);
            // A session counts whole under `live`; its own sources say how
            // its viewers arrived.
            add_source(&mut cr.by_source, crate::live::LIVE, &p.tally);
        } else {
            for (source, t) in &p.by_source {
                add_source(&mut cr.by_source, source, t);
            }
        }
        add_events(&mut cr.events, &p.events);
        if p.reached_public {
            self.public_posts[p.cohort as usize] += 1;
        }
        self.impressions.push(p.tally.impressions);
        match self.sink.as_mut() {
            Some(sink) => sink(p),
            None => {
                self.kept.push(p);
                Ok(())
            }
        }
    }
}

/// Creator `c`'s fans in `graph` who live in its region.
fn local_fans(world: &World, graph: &FollowGraph, c: u32) -> u32 {
    let region = world.creators().region(c);
    graph
        .fan_edges(c)
        .filter(|&e| world.users().region(graph.edge_user(e)) == region)
        .count() as u32
}

/// How local a matrix's audience is ([`crate::matrix::MatrixReport`]), from
/// its accounts' reports (already holding their regions and local
/// followers at the end).
fn matrix_report(world: &World, accounts: &[CreatorReport], st: &RunState) -> crate::matrix::MatrixReport {
    let users = world.users();
    let mut per_region = vec![0u64; crate::matrix::MAX_REGIONS];
    users.region.iter().for_each(|&r| per_region[usize::from(r)] += 1);
    let (mut generated, mut local_generated, mut end, mut local_end) = (0u64, 0u64, 0u64, 0u64);
    let (mut buyers, mut local_buyers, mut population) = (0u64, 0u64, 0.0);
    let mut regions: Vec<u8> = Vec::new();
    for a in accounts {
        let region = world.creators().region(a.id);
        regions.push(region);
        population += per_region[usize::from(region)] as f64 / users.len() as f64;
        generated += u64::from(world.graph().followers(a.id));
        local_generated += u64::from(local_fans(world, world.graph(), a.id));
        end += u64::from(a.followers_end);
        local_end += u64::from(a.local_followers_end.unwrap_or(0));
        let listed = &st.customers.buyers[a.id as usize];
        buyers += listed.len() as u64;
        local_buyers += listed.iter().filter(|&&u| users.region(u) == region).count() as u64;
    }
    regions.sort_unstable();
    regions.dedup();
    crate::matrix::MatrixReport {
        accounts: accounts.len() as u32,
        regions: regions.len() as u32,
        population_share: population / accounts.len().max(1) as f64,
        local_followers_share_generated: ratio(local_generated, generated),
        local_followers_share_end: ratio(local_end, end),
        local_buyers_share: ratio(local_buyers, buyers),
    }
}

impl Simulation<'_> {
    pub(super) fn report(
        &self,
        policy: &str,
        model: &dyn ResponseModel,
        slots: u32,
        ledger: PostLedger,
        st: RunState,
    ) -> Report {
        let world = self.world();
        let no_events: Events = model.extra_events().iter().map(|n| (n.to_string(), 0)).collect();
        let end: &FollowGraph = &st.graph;
        let PostLedger {
            mut creators,
            public_posts,
            live,
            impressions: post_impressions,
            kept: mut posts,
            ..
        } = ledger;
        posts.sort_by_key(|p| p.id);
        for cr in &mut creators {
            let c = cr.id;
            (cr.followers, cr.iron_fans) = st.start[c as usize];
            cr.followers_end = end.followers(c);
            cr.iron_fans_end = end.iron_fans(c);
            cr.stopped_after_day = st.stopped_after[c as usize];
            let region = world.creators().region(c);
            if region != crate::matrix::NO_REGION {
                cr.region = Some(region);
                cr.local_followers_end = Some(local_fans(world, end, c));
            }
            // Listings on the shelf and in search results: the creator's
            // by time, not its posts'.
            if let Some(shelf) = &st.shelf {
                for (source, t) in [crate::shelf::SEARCH, crate::shelf::SHELF]
                    .into_iter()
                    .zip(&shelf.listings[c as usize])
                {
                    if t.impressions > 0 {
                        add_source(&mut cr.by_source, source, t);
                    }
                }
            }
        }
        let cohorts: Vec<CohortReport> = world
            .cohorts()
            .iter()
            .enumerate()
            .map(|(i, co)| {
                let members = &creators[co.first_creator as usize..(co.first_creator + co.creators) as usize];
                let sum = |f: fn(&CreatorReport) -> u64| members.iter().map(f).sum::<u64>();
                let followers = sum(|c| c.followers.into());
                let iron_fans = sum(|c| c.iron_fans.into());
                let followers_end = sum(|c| c.followers_end.into());
                let iron_fans_end = sum(|c| c.iron_fans_end.into());
                let tally = members.iter().fold(Tally::default(), |a, c| a.sum(c.tally));
                let by_tier = members.iter().fold(TierTallies::default(), |mut a, c| {
                    a.add(&c.by_tier);
                    a
                });
                let by_source = sum_sources(members.iter().map(|c| &c.by_source));
                let mut events = no_events.clone();
                members.iter().for_each(|c| add_events(&mut events, &c.events));
                let unique_reach = st.reach.reached(Some(i));
                let funnel = Funnel {
                    new_viewers: st.reach.strangers(i),
                    follows: tally.follows,
                    iron_fan_promotions: st.counts[i].promotions,
                    buyers: st.counts[i].buyers,
                    repeat_buyers: st.counts[i].repeat_buyers,
                    ..Funnel::default()
                };
                CohortReport {
                    name: co.name.clone(),
                    creators: co.creators,
                    followers,
                    iron_fans,
                    iron_fan_ratio: ratio(iron_fans, followers),
                    posts: sum(|c| c.posts.into()),
                    posts_reaching_public: public_posts[i],
                    unique_reach,
                    reach_per_follower: ratio(unique_reach, followers),
                    tally,
                    rates: tally.rates(),
                    by_tier,
                    by_source,
                    events,
                    unique_reach_by_tier: PerTier::from_array(std::array::from_fn(|t| st.reach.tier(Some(i), t))),
                    followers_end,
                    iron_fans_end,
                    iron_fan_ratio_end: ratio(iron_fans_end, followers_end),
                    active_creators_end: members.iter().filter(|c| c.stopped_after_day.is_none()).count() as u32,
                    unfollows: st.counts[i].unfollows,
                    iron_fan_demotions: st.counts[i].demotions,
                    iron_fan_unfollows: st.counts[i].iron_unfollows,
                    funnel: funnel.with_rates(),
                    content_funnel: ContentFunnel::of(&tally),
                    relationship_funnel: self.relationship_funnel(i, &st),
                    matrix: co.matrix.map(|_| matrix_report(world, members, &st)),
                    live: live[i].summary_if_any(),
                }
            })
            .collect();
        let tally = creators.iter().fold(Tally::default(), |a, c| a.sum(c.tally));
        let impressions: Vec<u64> = creators.iter().map(|c| c.tally.impressions).collect();
        let gmv: Vec<u64> = creators.iter().map(|c| c.tally.gmv_fen).collect();
        let platform = PlatformReport {
            users: world.users().len() as u32,
            creators: creators.len() as u32,
            posts: post_impressions.len() as u64,
            unique_reach: st.reach.reached(None),
            tally,
            rates: tally.rates(),
            by_tier: creators.iter().fold(TierTallies::default(), |mut a, c| {
                a.add(&c.by_tier);
                a
            }),
            by_source: sum_sources(cohorts.iter().map(|c| &c.by_source)),
            events: cohorts.iter().fold(no_events.clone(), |mut a, c| {
                add_events(&mut a, &c.events);
                a
            }),
            unique_reach_by_tier: PerTier::from_array(std::array::from_fn(|t| st.reach.tier(None, t))),
            impressions_gini: gini(&impressions),
            gmv_gini: gini(&gmv),
            impressions_top1_share: top_share(&impressions, 0.01),
            gmv_top1_share: top_share(&gmv, 0.01),
            watch_ratio_median: {
                let hist = &st.ratio_hist;
                let total: u64 = hist.iter().sum();
                let mut seen = 0;
                hist.iter()
                    .position(|&n| {
                        seen += n;
                        total > 0 && 2 * seen >= total
                    })
                    .map_or(0.0, |b| b as f64 / 100.0)
            },
            post_impressions_gini: gini(&post_impressions),
            post_impressions_top20_share: top_share(&post_impressions, 0.2),
            commission_fen: st.commission_fen,
            shelf_search: st.shelf.as_ref().map(|s| s.report()),
            by_depth: depth_counts(&st.by_depth, None, &tally),
            by_source_depth: {
                let mut by = std::collections::BTreeMap::new();
                for c in &self.channels {
                    let source = c.source();
                    if by.contains_key(source) {
                        continue;
                    }
                    // Every channel of the source, against the source's total.
                    let total = sum_sources(cohorts.iter().map(|c| &c.by_source))
                        .get(source)
                        .copied()
                        .unwrap_or_default();
                    let same: Vec<u8> = self
                        .channels
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| c.source() == source)
                        .map(|(j, _)| (j + 1) as u8)
                        .collect();
                    let counts = depth_counts(&st.by_depth, Some(&same), &total);
                    if !counts.is_empty() {
                        by.insert(source.to_string(), counts);
                    }
                }
                by
            },
        };
        Report {
            scenario: self.scenario_name.clone(),
            policy: policy.to_string(),
            model: model.name().to_string(),
            seed: self.seed,
            slots,
            warmup_days: 0,
            warmup_policy: None,
            platform,
            attention: st.attention,
            daily: st.daily,
            cohorts,
            creators,
            posts,
            reach_relative_error: st.reach.relative_error(),
        }
    }

    /// The nested relationship funnel of cohort `i`: user sets as bitsets
    /// over the population, each the previous one intersected with a
    /// condition on some creator of the cohort. O(users / 64 + the cohort's
    /// edges and members).
    fn relationship_funnel(&self, i: usize, st: &RunState) -> RelationshipFunnel {
        let world = self.world();
        let graph: &FollowGraph = &st.graph;
        let co = &world.cohorts()[i];
        let words = world.users().len().div_ceil(64);
        let viewers: Vec<u64> = (0..words).map(|w| st.reach.word(Some(i), w)).collect();
        let (mut follow, mut iron, mut group) = (vec![0u64; words], vec![0u64; words], vec![0u64; words]);
        let mut member = vec![0u64; words];
        let set = |bits: &mut [u64], u: u32| bits[u as usize / 64] |= 1 << (u % 64);
        for c in co.first_creator..co.first_creator + co.creators {
            let (iron_edges, _) = graph.sections(c);
            for e in graph.fan_edges(c) {
                let u = graph.edge_user(e);
                set(&mut follow, u);
                if iron_edges.contains(&e) {
                    set(&mut iron, u);
                }
                if graph.edge_in_group(e) {
                    set(&mut group, u);
                }
            }
            for &u in &st.customers.members[c as usize] {
                set(&mut member, u);
            }
        }
        // Nest: each step within the one before.
        let mut level = viewers;
        let count = |b: &[u64]| b.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
        let mut counts = [count(&level), 0, 0, 0, 0];
        for (k, cond) in [follow, iron, group, member].iter().enumerate() {
            for (a, b) in level.iter_mut().zip(cond) {
                *a &= b;
            }
            counts[k + 1] = count(&level);
        }
        RelationshipFunnel {
            viewers: counts[0],
            followers: counts[1],
            iron_fans: counts[2],
            group_members: counts[3],
            ecommerce_members: counts[4],
            ..RelationshipFunnel::default()
        }
        .with_rates()
    }
}

/// Counts by depth from the per-channel depth counts `by_depth` (entry
/// `channel × 256 + depth`), over the channels `only` (all if `None`):
/// entry `d` sums depth `d` over those channels, entry 0 is what the deeper
/// entries leave of `total`. Empty when nothing is deeper than 0.
fn depth_counts(by_depth: &[Tally], only: Option<&[u8]>, total: &Tally) -> Vec<Tally> {
    let mut deeper = vec![Tally::default(); 256];
    for (i, t) in by_depth.iter().enumerate() {
        let (channel, depth) = ((i / 256) as u8, i % 256);
        if depth > 0 && only.is_none_or(|o| o.contains(&channel)) {
            deeper[depth].add(t);
        }
    }
    let Some(last) = deeper
        .iter()
        .rposition(|t| t.impressions + t.offers_not_shown + t.covers > 0)
    else {
        return Vec::new();
    };
    deeper.truncate(last + 1);
    let below = deeper.iter().skip(1).fold(Tally::default(), |a, t| a.sum(*t));
    let zero = total.less(&below);
    deeper[0] = zero;
    deeper
}
