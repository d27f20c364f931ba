//! A warm-up before the measured days: its checkpoint, the switch, and
//! what the reports cover.

mod common;

use feedsim::metrics::Report;
use feedsim::policy::PushPolicy;
use feedsim::scenario::{WarmupParams, WarmupPolicy};
use feedsim::{Scenario, Simulation, World};

const WARM: u32 = 2;
const MEASURED: u32 = 3;

/// The small growth world over `WARM + MEASURED` days, with a warm-up of
/// `WARM` days under `policy`.
fn warmed(policy: WarmupPolicy) -> Scenario {
    let mut s = common::small_growth_scenario(MEASURED);
    // Short enough for the lifecycle to act within the run.
    s.dynamics.unfollow_after_days = 2;
    s.dynamics.unfollow_below = 5;
    s.dynamics.coupon_days = 3;
    s.warmup = Some(WarmupParams::new(WARM, policy));
    s.validate().unwrap();
    s
}

/// The same world run straight through all the days.
fn straight(s: &Scenario) -> Scenario {
    let mut t = s.clone();
    t.feed.days = s.total_days();
    t.warmup = None;
    t
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn a_warm_up_then_the_same_policy_is_the_run_that_never_stopped() {
    for warm in [WarmupPolicy::PublicPoolLadder, WarmupPolicy::IronFanFirst] {
        let s = warmed(warm);
        let iron = s.iron_fan_first();
        let p: &dyn PushPolicy = match warm {
            WarmupPolicy::PublicPoolLadder => &s.public_pool_ladder,
            WarmupPolicy::IronFanFirst => &iron,
        };
        let world = World::generate(&s).unwrap();
        let (warmed, trace) = Simulation::new(&s, &world).unwrap().trace(p, &s.response).unwrap();
        let t = straight(&s);
        let (whole, whole_trace) = Simulation::new(&t, &world).unwrap().trace(p, &t.response).unwrap();
        let switch = WARM * s.feed.slots_per_day;
        assert_eq!(warmed.warmup_days, WARM);
        // Day by day, the measured days are the straight run's.
        let later: Vec<_> = whole.daily.iter().filter(|d| d.day >= WARM).cloned().collect();
        assert!(!later.is_empty());
        assert_eq!(warmed.daily, later, "{}", p.name());
        // So are the posts published in them, and every impression from the switch on.
        let posts: Vec<_> = whole.posts.iter().filter(|q| q.slot >= switch).cloned().collect();
        assert_eq!(warmed.posts, posts);
        let impressions: Vec<_> = whole_trace.into_iter().filter(|r| r.slot >= switch).collect();
        assert_eq!(trace, impressions);
        // The report's start is the straight run's state at the switch.
        for (c, cohort) in warmed.cohorts.iter().enumerate() {
            let eve = whole
                .daily
                .iter()
                .find(|d| d.day == WARM - 1 && d.cohort == cohort.name)
                .unwrap();
            assert_eq!((cohort.followers, cohort.iron_fans), (eve.followers, eve.iron_fans));
            assert_eq!(cohort.followers_end, whole.cohorts[c].followers_end);
        }
        // The check needs the lifecycle to have acted in both parts.
        let moved = |r: &Report, from: u32| {
            r.daily
                .iter()
                .filter(|d| d.day >= from)
                .map(|d| d.unfollows + d.promotions)
                .sum::<u64>()
        };
        assert!(moved(&whole, 0) > moved(&warmed, WARM) && moved(&warmed, WARM) > 0);
    }
}

#[test]
fn warmup_of_zero_days_is_no_warm_up() {
    let mut s = common::small_growth_scenario(2);
    let world = World::generate(&s).unwrap();
    let none = Simulation::new(&s, &world)
        .unwrap()
        .run(&s.public_pool_ladder, &s.response)
        .unwrap();
    s.warmup = Some(WarmupParams::new(0, WarmupPolicy::IronFanFirst));
    let zero = Simulation::new(&s, &world)
        .unwrap()
        .run(&s.public_pool_ladder, &s.response)
        .unwrap();
    assert_eq!(zero, none);
    assert!(!zero.to_json().unwrap().contains("warmup"));
}

#[test]
fn every_arm_starts_from_the_same_checkpoint_at_any_thread_count() {
    let s = warmed(WarmupPolicy::PublicPoolLadder);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let (ladder, iron) = (&s.public_pool_ladder, s.iron_fan_first());
    let (one, reports_one) = in_pool(1, || {
        let warm = sim.warm_up(&s.response).unwrap();
        let digest = warm.digest();
        let a = sim.resume(&warm, ladder, &s.response).unwrap();
        let b = sim.resume(&warm, &iron, &s.response).unwrap();
        // Resuming does not touch the checkpoint.
        assert_eq!(warm.digest(), digest);
        assert_eq!(warm.clone().digest(), digest);
        (digest, (a, b))
    });
    let (many, reports_many) = in_pool(3, || {
        let warm = sim.warm_up(&s.response).unwrap();
        let a = sim.resume(&warm, ladder, &s.response).unwrap();
        let b = sim.resume(&warm, &iron, &s.response).unwrap();
        (warm.digest(), (a, b))
    });
    assert_eq!(one, many, "the warm-up depends on the thread count");
    assert_eq!(reports_one, reports_many, "a measured run depends on the thread count");
    let (a, b) = reports_one;
    // Both arms start from the same followers and iron fans, and differ after.
    for (x, y) in a.cohorts.iter().zip(&b.cohorts) {
        assert_eq!((x.followers, x.iron_fans), (y.followers, y.iron_fans));
    }
    assert_ne!(a.daily, b.daily);
    assert_eq!((a.policy.as_str(), b.policy.as_str()), (ladder.name(), iron.name()));
    assert_eq!(a.warmup_policy.as_deref(), Some(ladder.name()));
    // A different world gives a different checkpoint: the digest can tell.
    let mut t = s.clone();
    t.seed += 1;
    let other = World::generate(&t).unwrap();
    let sim_t = Simulation::new(&t, &other).unwrap();
    assert_ne!(sim_t.warm_up(&t.response).unwrap().digest(), one);
}

#[test]
fn a_warm_up_reports_each_of_its_days_and_leaves_the_same_checkpoint() {
    let s = warmed(WarmupPolicy::PublicPoolLadder);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let days = std::cell::RefCell::new(Vec::new());
    let warm = sim
        .warm_up_with_progress(&s.response, &|d| days.borrow_mut().push(d))
        .unwrap();
    let days = days.into_inner();
    // One call per warm-up day, in order, none for the measured days.
    assert_eq!(
        days.iter().map(|d| d.day).collect::<Vec<_>>(),
        (0..WARM).collect::<Vec<_>>()
    );
    assert!(days.iter().all(|d| d.days == s.total_days()));
    // Running totals: they grow from day to day.
    assert!(days[0].impressions > 0);
    assert!(
        days.windows(2)
            .all(|w| w[1].impressions > w[0].impressions && w[1].offers > w[0].offers)
    );
    // Watching the warm-up changes nothing in it.
    assert_eq!(warm.digest(), sim.warm_up(&s.response).unwrap().digest());
}

#[test]
fn the_report_covers_the_measured_days_only() {
    let mut s = warmed(WarmupPolicy::PublicPoolLadder);
    // Buyers often enough to buy again within the run.
    if let feedsim::response::ResponseSpec::Logistic(m) = &mut s.response {
        m.click.base += 2.0;
        m.order.base += 2.0;
    }
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let warm = sim.warm_up(&s.response).unwrap();
    assert_eq!(warm.day(), WARM);
    assert!(warm.live_posts() > 0, "the check needs posts live at the switch");
    let iron = s.iron_fan_first();
    let (r, trace) = sim.trace(&iron, &s.response).unwrap();
    let switch = WARM * s.feed.slots_per_day;
    assert!(r.daily.iter().all(|d| d.day >= WARM));
    assert!(r.posts.iter().all(|p| p.slot >= switch));
    assert_eq!(
        r.daily.iter().map(|d| d.impressions).sum::<u64>(),
        r.attention.served,
        "counts by time are the measured days'"
    );
    assert_eq!(r.attention.served, trace.len() as u64);
    // Posts live at the switch go on under the warm-up policy (the
    // ladder's public pools), never into iron-fan-first's fan stages.
    let late: Vec<_> = trace
        .iter()
        .filter(|i| sim.posts()[i.post as usize].slot < switch)
        .collect();
    assert!(!late.is_empty());
    let ladder_sources = ["public pool"];
    assert!(late.iter().all(|i| ladder_sources.contains(&i.source)), "{:?}", late[0]);
    assert!(trace.iter().any(|i| !ladder_sources.contains(&i.source)));
    // Buyers of the period and repeat buyers among them: a rate in [0, 1],
    // with pairs who bought in the warm-up buying again.
    let (buyers, repeat): (u64, u64) = r
        .cohorts
        .iter()
        .map(|c| (c.funnel.buyers, c.funnel.repeat_buyers))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!(repeat > 0 && repeat <= buyers, "{repeat} repeat buyers of {buyers}");
    for c in &r.cohorts {
        assert!(c.funnel.repeat_buyers <= c.funnel.buyers, "{}", c.name);
    }
}

#[test]
fn bad_warm_ups_and_foreign_checkpoints_are_refused() {
    let mut s = warmed(WarmupPolicy::PublicPoolLadder);
    s.warmup = Some(WarmupParams::new(
        feedsim::scenario::MAX_DAYS,
        WarmupPolicy::PublicPoolLadder,
    ));
    assert_eq!(s.validate().unwrap_err().field(), Some("warmup.days"));
    let text = "[warmup]\ndays = 3\npolicy = \"tiktok\"\n";
    let base = toml::to_string(&common::small_scenario()).unwrap();
    let err = Scenario::from_toml_str(&format!("{base}\n{text}")).unwrap_err();
    assert!(err.to_string().contains("tiktok"), "{err}");

    let s = warmed(WarmupPolicy::PublicPoolLadder);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let ladder = std::sync::Arc::new(s.public_pool_ladder.clone());
    let err = sim.clone().with_warmup(s.total_days(), ladder).unwrap_err();
    assert_eq!(err.field(), Some("warmup.days"));
    // A checkpoint of one simulation does not resume another.
    let mut t = s.clone();
    t.seed += 1;
    let sim_t = Simulation::new(&t, &world).unwrap();
    let warm = sim.warm_up(&s.response).unwrap();
    let err = sim_t.resume(&warm, &t.public_pool_ladder, &t.response).unwrap_err();
    assert_eq!(err.field(), Some("checkpoint"));
    // Without a warm-up there is nothing to warm up.
    let plain = common::small_growth_scenario(2);
    let sim_p = Simulation::new(&plain, &world).unwrap();
    assert_eq!(sim_p.warm_up(&plain.response).unwrap_err().field(), Some("warmup"));
}

#[test]
fn an_experiment_warms_up_once_and_compares_from_the_same_state() {
    let s = warmed(WarmupPolicy::PublicPoolLadder);
    let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
    let exp = feedsim::experiment::Experiment::new(&s, vec![&ladder as &dyn PushPolicy, &iron, &ladder])
        .unwrap()
        .replicates(2);
    let report = exp.run().unwrap();
    // Each replicate is the plain simulation's warm-up and resumes.
    let r1 = exp.replicate_scenario(1);
    let world = World::generate(&r1).unwrap();
    let sim = Simulation::new(&r1, &world).unwrap();
    let warm = sim.warm_up(&r1.response).unwrap();
    let alone = sim.resume(&warm, &iron, &r1.response).unwrap();
    let m = report.metric("KOE", "tally.impressions").unwrap();
    assert_eq!(m.samples[1][1], alone.cohorts[2].tally.impressions as f64);
    // The same policy twice: a difference of exactly 0; followers at the
    // start equal under every policy.
    assert_eq!(
        report.metric("KOE", "tally.impressions").unwrap().differences[2].mean,
        0.0
    );
    let f = report.metric("KOE", "followers").unwrap();
    assert_eq!(f.samples[0], f.samples[1]);
}

#[test]
fn a_bad_measured_policy_is_refused_before_the_warm_up_runs() {
    let s = warmed(WarmupPolicy::PublicPoolLadder);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let mut bad = s.public_pool_ladder.clone();
    bad.pools[0].size = 0;
    let err = sim
        .run_with_progress(&bad, &s.response, &|d| panic!("day {} ran", d.day))
        .unwrap_err();
    assert_eq!(err.field(), Some("public_pool_ladder.pools[0].size"));
}

/// The category pool weights act on every policy's steps, the warm-up's
/// and the drained posts' included: a warm-up then the same policy is still
/// the run that never stopped, and the weights change that run.
#[test]
fn pool_weights_act_through_the_warm_up_and_the_switch() {
    let mut s = warmed(WarmupPolicy::PublicPoolLadder);
    let mut bonus = feedsim::category_bonus::CategoryBonus::default();
    bonus.pools.insert("3".into(), 3.0);
    bonus.pools.insert("4".into(), 0.2);
    s.category_bonus = Some(bonus);
    s.validate().unwrap();
    let world = World::generate(&s).unwrap();
    let warmed = Simulation::new(&s, &world)
        .unwrap()
        .run(&s.public_pool_ladder, &s.response)
        .unwrap();
    let t = straight(&s);
    let whole = Simulation::new(&t, &world)
        .unwrap()
        .run(&t.public_pool_ladder, &t.response)
        .unwrap();
    let later: Vec<_> = whole.daily.iter().filter(|d| d.day >= WARM).cloned().collect();
    assert_eq!(warmed.daily, later);
    let mut plain = t.clone();
    plain.category_bonus = None;
    let neutral = Simulation::new(&plain, &world)
        .unwrap()
        .run(&plain.public_pool_ladder, &plain.response)
        .unwrap();
    assert_ne!(neutral.daily, whole.daily, "the weights changed nothing");
}

/// The small growth world with only the skip unfollows (the low-score
/// rule off, as a fast lifecycle needs), warmed up `WARM` days of which
/// the first `fast_days` at `speed`.
fn fast(fast_days: u32, speed: f64) -> Scenario {
    let mut s = common::small_growth_scenario(MEASURED);
    s.dynamics.unfollow_after_days = 0;
    // Fans see their creators' posts in the tab, as in `policy_switch`.
    s.followed_tab = Some(feedsim::feed::FollowedTab::default());
    let mut w = WarmupParams::new(WARM, WarmupPolicy::PublicPoolLadder);
    w.fast = Some(feedsim::scenario::FastLifecycle { days: fast_days, speed });
    s.warmup = Some(w);
    s.validate().unwrap();
    s
}

/// Follow edges gained (negative: lost) over a warm-up of `s` from its
/// generated world: (without the fast days, with them).
fn edges_gained_slow_and_fast(s: &Scenario) -> (f64, f64) {
    let world = World::generate(s).unwrap();
    let mut slow = s.clone();
    slow.warmup.as_mut().unwrap().fast = None;
    let before = world.graph().edges() as f64;
    let after = |t: &Scenario| {
        let sim = Simulation::new(t, &world).unwrap();
        sim.warm_up(&t.response).unwrap().graph().edges() as f64
    };
    (after(&slow) - before, after(s) - before)
}

#[test]
fn a_fast_warm_up_multiplies_follows_and_unfollows_by_its_speed() {
    const SPEED: f64 = 4.0;
    // Follows only: no unfollow chance, so edges added are follows (less
    // the few repeat follows of one day, merged).
    let mut s = fast(WARM, SPEED);
    s.dynamics.unfollow_per_skip = 0.0;
    let (base, sped) = edges_gained_slow_and_fast(&s);
    assert!(base > 500.0, "too few follows to compare: {base}");
    // The model's follows are the same draws in both runs; the sped-up run
    // adds about (SPEED − 1)·base of its own, a Poisson count: five
    // standard errors of the ratio, plus 5% for the follows' own feedback
    // (a new fan is no longer a stranger to the creator's later posts).
    let tol = 5.0 * ((SPEED - 1.0) * base).sqrt() / base + 0.05 * SPEED;
    assert!(
        (sped / base - SPEED).abs() < tol,
        "{sped} / {base} against {SPEED} ± {tol}"
    );

    // Unfollows only: the model never follows (an intercept of −30 puts
    // the follow's logit far below any draw), and a skip unfollows.
    let mut s = fast(WARM, SPEED);
    s.dynamics.unfollow_per_skip = 0.05;
    if let feedsim::response::ResponseSpec::Logistic(m) = &mut s.response {
        m.follow.base = -30.0;
    } else {
        panic!("growth.toml's model is the logistic one");
    }
    let (lost_slow, lost_fast) = edges_gained_slow_and_fast(&s);
    let (base, sped) = (-lost_slow, -lost_fast);
    assert!(base > 500.0, "too few unfollows to compare: {base}");
    // Five standard errors of a Poisson count over `base`, plus 5% for
    // the fans who have left and so skip no more.
    let tol = 5.0 * sped.sqrt() / base + 0.05 * SPEED;
    assert!(
        (sped / base - SPEED).abs() < tol,
        "{sped} / {base} against {SPEED} ± {tol}"
    );
}

#[test]
fn a_fast_warm_up_is_the_same_at_any_thread_count_and_only_on_its_days() {
    let s = fast(1, 3.0);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let one = in_pool(1, || sim.warm_up(&s.response).unwrap().digest());
    let many = in_pool(3, || sim.warm_up(&s.response).unwrap().digest());
    assert_eq!(one, many, "the fast warm-up depends on the thread count");
    // It changes the warm-up, and its checkpoint is not the slow one's.
    let mut slow = s.clone();
    slow.warmup.as_mut().unwrap().fast = None;
    let slow_sim = Simulation::new(&slow, &world).unwrap();
    let slow_warm = slow_sim.warm_up(&slow.response).unwrap();
    assert_ne!(slow_warm.digest(), one);
    let warm = sim.warm_up(&s.response).unwrap();
    assert!(slow_sim.resume(&warm, &s.public_pool_ladder, &s.response).is_err());
    // Zero fast days, or a speed of 1, is no fast lifecycle at all.
    for (days, speed) in [(0, 3.0), (WARM, 1.0)] {
        let t = fast(days, speed);
        let sim_t = Simulation::new(&t, &world).unwrap();
        let digest = sim_t.warm_up(&t.response).unwrap().digest();
        assert_eq!(digest, slow_warm.digest(), "days {days}, speed {speed}");
    }
}

#[test]
fn bad_fast_lifecycles_are_refused_naming_their_field() {
    use feedsim::scenario::FastLifecycle;
    let cases: [(u32, f64, f64, u32, &str); 4] = [
        (WARM + 1, 2.0, 0.09, 0, "warmup.fast.days"),
        (1, 0.5, 0.09, 0, "warmup.fast.speed"),
        (1, 12.0, 0.09, 0, "warmup.fast.speed"),
        (1, 2.0, 0.09, 21, "warmup.fast"),
    ];
    for (days, speed, per_skip, after_days, field) in cases {
        let mut s = fast(0, 1.0);
        s.warmup.as_mut().unwrap().fast = Some(FastLifecycle { days, speed });
        s.dynamics.unfollow_per_skip = per_skip;
        s.dynamics.unfollow_after_days = after_days;
        let err = s.validate().unwrap_err();
        assert_eq!(
            err.field(),
            Some(field),
            "{days} {speed} {per_skip} {after_days}: {err}"
        );
    }
    // The same checks through the Rust API, and none without a warm-up.
    let s = fast(0, 1.0);
    let world = World::generate(&s).unwrap();
    let sim = || Simulation::new(&s, &world).unwrap();
    let err = sim()
        .with_fast_lifecycle(FastLifecycle { days: 1, speed: 20.0 })
        .err()
        .unwrap();
    assert_eq!(err.field(), Some("warmup.fast.speed"));
    let mut t = s.clone();
    t.warmup = None;
    let err = Simulation::new(&t, &world)
        .unwrap()
        .with_fast_lifecycle(FastLifecycle { days: 1, speed: 2.0 })
        .err()
        .unwrap();
    assert_eq!(err.field(), Some("warmup"));
    let text = "[warmup]\ndays = 3\nfast = { days = 2, speed = 5.0, pace = 1 }\n";
    let base = toml::to_string(&common::small_scenario()).unwrap();
    let err = Scenario::from_toml_str(&format!("{base}\n{text}")).unwrap_err();
    assert!(err.to_string().contains("pace"), "{err}");
}
