//! Experiments and sweeps: intervals that cover a difference known in closed
//! form, common random numbers, determinism across thread counts, and
//! shards that merge into exactly the unsharded sweep.

mod research;

use std::collections::HashSet;
use std::sync::Mutex;

use feedsim::experiment::{
    Axis, Estimate, Experiment, ExperimentReport, MAX_SWEEP_POINTS, Shard, Sweep, SweepReport, set_path, t_critical,
};
use feedsim::output::{write_sweep_csv, write_sweep_long_csv};
use feedsim::policy::{Gate, Pool, PublicPoolLadder, PushPolicy};
use feedsim::{Report, Scenario, Simulation, World};

/// A ladder whose first gate always passes (threshold 0): every post gets
/// exactly `first + 200` impressions while the population lasts.
fn ladder(first: u32) -> PublicPoolLadder {
    let pass = Gate {
        threshold: 0.0,
        ..Gate::default()
    };
    PublicPoolLadder {
        pools: vec![
            Pool {
                size: first,
                gate: pass,
            },
            Pool { size: 200, gate: pass },
        ],
    }
}

/// The closed-form case: 100 creators posting Poisson(2) posts each (200
/// expected), every user active, no fans; strangers watch with p = 0.3.
/// Ladder A shows each post to 100 + 200 users, ladder B to 150 + 200. The
/// public walk is keyed by the post, so B's users are A's plus the next 50
/// of the same walk, and with common random numbers the paired difference
/// in watches is the watches of those 50: per post Binomial(50, 0.3).
/// Over N ~ Poisson(200) posts:
///   E[Δ impressions] = 50 · 200 = 10,000
///   E[Δ watches]     = 0.3 · 10,000 = 3,000
///   Var[Δ watches]   = E[N]·Var(X) + Var(N)·E[X]² = 200·10.5 + 200·15² = 47,100.
const TRUE_IMPRESSIONS_DIFF: f64 = 10_000.0;
const TRUE_WATCHES_DIFF: f64 = 3_000.0;
const TRUE_WATCHES_DIFF_SD: f64 = 217.025_344; // sqrt(47,100)

fn closed_form_experiment(seed: u64, replicates: u32) -> ExperimentReport {
    let mut s = research::closed_form(20_000, 100, 2.0);
    s.seed = seed;
    let (a, b) = (ladder(100), ladder(150));
    Experiment::new(&s, vec![&a as &dyn PushPolicy, &b])
        .unwrap()
        .replicates(replicates)
        .run()
        .unwrap()
}

#[test]
fn interval_covers_the_closed_form_difference_and_shrinks_with_replicates() {
    let small = closed_form_experiment(4, 5);
    let large = closed_form_experiment(4, 40);
    // Replicates 0..5 are the same in both: the seeds depend only on r.
    assert_eq!(small.seeds[..], large.seeds[..5]);

    for report in [&small, &large] {
        let imp = report.metric("platform", "tally.impressions").unwrap();
        let watches = report.metric("platform", "tally.watches").unwrap();
        // Every replicate's impression difference is exactly 50 per post.
        let posts = &report.metric("platform", "posts").unwrap().samples[0];
        for (r, d) in imp.samples[1]
            .iter()
            .zip(&imp.samples[0])
            .map(|(b, a)| b - a)
            .enumerate()
        {
            assert_eq!(d, 50.0 * posts[r], "replicate {r}");
        }
        assert!(
            imp.differences[1].covers(TRUE_IMPRESSIONS_DIFF),
            "{} misses {TRUE_IMPRESSIONS_DIFF}",
            imp.differences[1]
        );
        assert!(
            watches.differences[1].covers(TRUE_WATCHES_DIFF),
            "{} misses {TRUE_WATCHES_DIFF}",
            watches.differences[1]
        );
        // Per-policy means: 300 · 0.3 · 200 = 18,000 watches under A.
        assert!(watches.policies[0].covers(18_000.0), "{}", watches.policies[0]);
        // The baseline's difference with itself is exactly zero.
        assert_eq!(watches.differences[0].mean, 0.0);
        assert_eq!(watches.differences[0].sd, Some(0.0));
    }

    let d_small = small.metric("platform", "tally.watches").unwrap().differences[1];
    let d_large = large.metric("platform", "tally.watches").unwrap().differences[1];
    // The spread of the paired difference matches the closed form.
    let sd = d_large.sd.unwrap();
    assert!(
        (0.75..1.3).contains(&(sd / TRUE_WATCHES_DIFF_SD)),
        "sd {sd:.1} vs exact {TRUE_WATCHES_DIFF_SD:.1}"
    );
    // Half width t · sd / √R: 8 times the replicates, about 0.26 of the width.
    let (w5, w40) = (d_small.half_width().unwrap(), d_large.half_width().unwrap());
    let expected = t_critical(0.95, 39) * TRUE_WATCHES_DIFF_SD / 40f64.sqrt();
    assert!(w40 < 0.6 * w5, "half width {w40:.1} at R = 40 vs {w5:.1} at R = 5");
    assert!(
        (0.75..1.3).contains(&(w40 / expected)),
        "half width {w40:.1} vs {expected:.1} expected"
    );
}

#[test]
fn intervals_cover_the_true_difference_at_about_the_nominal_rate() {
    // 40 independent experiments of 4 replicates; a 95% interval should miss
    // about 2 of them. Binomial(40, 0.05) exceeds 6 misses with probability
    // 0.003. A z interval instead of t would cover only about 86% at 3 df
    // and miss about 6 of 40, often no more than 6: this test alone does not
    // tell z from t; `the_half_width_uses_t_with_r_minus_1_degrees_of_freedom`
    // does.
    let misses = (0..40)
        .filter(|&k| {
            let report = closed_form_experiment(1_000 + k, 4);
            !report.metric("platform", "tally.watches").unwrap().differences[1].covers(TRUE_WATCHES_DIFF)
        })
        .count();
    assert!(misses <= 6, "{misses} of 40 intervals missed the true difference");
}

#[test]
fn the_half_width_uses_t_with_r_minus_1_degrees_of_freedom() {
    // sd 1 over 3 samples: the half width is t(0.95, 2) / √3 = 2.484, where
    // a z interval would give 1.132 and t with 3 df 1.838.
    let e = Estimate::from_samples(&[1.0, 2.0, 3.0], 0.95);
    let expected = t_critical(0.95, 2) / 3f64.sqrt();
    assert!((e.half_width().unwrap() - expected).abs() < 1e-12, "{e}");
    assert!((t_critical(0.95, 2) - 4.302_65).abs() < 1e-4);
    // The same in an experiment's report: each estimate's half width is
    // t(R − 1) · sd / √R.
    let report = closed_form_experiment(4, 5);
    let d = report.metric("platform", "tally.watches").unwrap().differences[1];
    let expected = t_critical(0.95, 4) * d.sd.unwrap() / 5f64.sqrt();
    assert!((d.half_width().unwrap() - expected).abs() < 1e-9 * expected, "{d}");
}

#[test]
fn one_replicate_gives_means_without_intervals_and_zero_replicates_are_refused() {
    let s = research::tiny(5_000, 2, 500);
    let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
    let report = Experiment::new(&s, vec![&ladder as &dyn PushPolicy, &iron])
        .unwrap()
        .replicates(1)
        .run()
        .unwrap();
    assert_eq!((report.replicates, report.seeds.len()), (1, 1));
    let mut checked = 0;
    for group in report.groups() {
        for m in &group.metrics {
            assert!(m.samples.iter().all(|s| s.len() == 1), "{}/{}", group.name, m.name);
            for (k, e) in m.policies.iter().enumerate() {
                assert_eq!(e.mean, m.samples[k][0], "{}/{}", group.name, m.name);
                assert_eq!((e.sd, e.low, e.high, e.half_width()), (None, None, None, None));
                assert!(!e.covers(e.mean));
            }
            let d = m.differences[1];
            assert_eq!(d.mean, m.samples[1][0] - m.samples[0][0]);
            assert_eq!((d.sd, d.low, d.high), (None, None, None));
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} metrics");
    let imp = report.metric("platform", "tally.impressions").unwrap();
    assert!(imp.policies[0].mean > 0.0);
    // Printed without an interval.
    assert!(!imp.policies[0].to_string().contains('['));

    for replicates in [0, 1] {
        let sweep = Sweep::new(&s, vec![Axis::new("cohorts.KOE.iron_fan_ratio", [0.1])])
            .unwrap()
            .replicates(replicates)
            .run();
        match replicates {
            0 => assert_eq!(sweep.unwrap_err().field(), Some("experiment.replicates")),
            _ => assert!(
                sweep.unwrap().points[0].experiment.platform.metrics[0].policies[0]
                    .low
                    .is_none()
            ),
        }
    }
    let e = Experiment::new(&s, vec![&ladder as &dyn PushPolicy]).unwrap();
    assert_eq!(
        e.replicates(0).run().unwrap_err().field(),
        Some("experiment.replicates")
    );
}

#[test]
fn identical_policies_differ_by_exactly_zero_in_every_metric_and_replicate() {
    let s = research::tiny(20_000, 20, 3_000);
    let iron = s.iron_fan_first();
    let twin = s.iron_fan_first();
    let ladder = s.public_pool_ladder.clone();
    let report = Experiment::new(&s, vec![&iron as &dyn PushPolicy, &twin, &ladder])
        .unwrap()
        .replicates(3)
        .run()
        .unwrap();
    let mut checked = 0;
    for group in report.groups() {
        for m in &group.metrics {
            for (r, (a, b)) in m.samples[0].iter().zip(&m.samples[1]).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "{}/{} replicate {r}", group.name, m.name);
            }
            let d = m.differences[1];
            assert_eq!((d.mean, d.sd, d.low, d.high), (0.0, Some(0.0), Some(0.0), Some(0.0)));
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} metrics");
    // The check can fail: a different policy does differ.
    let imp = report.metric("KOE", "tally.impressions").unwrap();
    assert!(imp.samples[2] != imp.samples[0]);
    assert!(imp.differences[2].sd.unwrap() > 0.0);
}

fn experiment_in_pool(threads: usize, s: &Scenario) -> ExperimentReport {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| {
            let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
            Experiment::new(s, vec![&ladder as &dyn PushPolicy, &iron])
                .unwrap()
                .replicates(4)
                .run()
                .unwrap()
        })
}

#[test]
fn experiment_reports_are_identical_at_one_and_many_threads() {
    let s = research::tiny(20_000, 20, 3_000);
    let one = experiment_in_pool(1, &s);
    let many = experiment_in_pool(3, &s);
    assert!(one.metric("platform", "tally.impressions").unwrap().policies[0].mean > 1_000.0);
    assert_eq!(one, many);
    assert_eq!(one.to_json().unwrap(), many.to_json().unwrap());
    // Sequential replicates give the same report.
    let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
    let sequential = Experiment::new(&s, vec![&ladder as &dyn PushPolicy, &iron])
        .unwrap()
        .replicates(4)
        .parallel_replicates(false)
        .run()
        .unwrap();
    assert_eq!(one, sequential);
}

#[test]
fn a_replicate_is_a_plain_run_of_its_scenario_and_the_observer_sees_each_run_once() {
    let s = research::tiny(20_000, 20, 3_000);
    let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
    let exp = Experiment::new(&s, vec![&ladder as &dyn PushPolicy, &iron])
        .unwrap()
        .replicates(3);
    // (replicate, policy, finished, total, seed) of each event.
    type Event = (u32, usize, usize, usize, u64);
    let seen: Mutex<Vec<Event>> = Mutex::new(Vec::new());
    let kept: Mutex<Option<Report>> = Mutex::new(None);
    let report = exp
        .run_with(|e| {
            seen.lock()
                .unwrap()
                .push((e.replicate, e.policy, e.finished, e.total, e.seed));
            if (e.replicate, e.policy) == (1, 1) {
                *kept.lock().unwrap() = Some(e.report.clone());
            }
        })
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 6);
    let runs: HashSet<(u32, usize)> = seen.iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(runs.len(), 6);
    let finished: HashSet<usize> = seen.iter().map(|e| e.2).collect();
    assert_eq!(finished, (1..=6).collect());
    assert!(seen.iter().all(|e| e.3 == 6 && e.4 == exp.replicate_seed(e.0)));

    // Replicate 1 under iron-fan-first, rerun by hand.
    let scenario = exp.replicate_scenario(1);
    assert_eq!(scenario.seed, report.seeds[1]);
    let world = World::generate(&scenario).unwrap();
    let by_hand = Simulation::new(&scenario, &world)
        .unwrap()
        .run(&iron, &scenario.response)
        .unwrap();
    let kept = kept.into_inner().unwrap().unwrap();
    assert_eq!(kept, by_hand);
    let koe = report.metric("KOE", "rates.gmv_yuan").unwrap();
    assert_eq!(koe.samples[1][1], by_hand.cohort("KOE").unwrap().rates.gmv_yuan);
    // The report's other run-level object joins the platform group under
    // its name; its arrays and scalars do not.
    for (name, value) in [
        ("attention.served", by_hand.attention.served),
        ("attention.offered", by_hand.attention.offered),
        ("attention.declined", by_hand.attention.declined),
    ] {
        assert_eq!(
            report.metric("platform", name).unwrap().samples[1][1],
            value as f64,
            "{name}"
        );
    }
    assert!(report.platform.metrics.iter().all(|m| {
        !["seed", "slots", "daily", "posts.", "creators."]
            .iter()
            .any(|p| m.name.starts_with(p))
    }));
}

#[test]
fn derived_metrics_divide_by_creators_and_followers() {
    let s = research::tiny(20_000, 20, 3_000);
    let ladder = s.public_pool_ladder.clone();
    let report = Experiment::new(&s, vec![&ladder as &dyn PushPolicy])
        .unwrap()
        .replicates(2)
        .run()
        .unwrap();
    let koe = report.cohort("KOE").unwrap();
    for r in 0..2 {
        let v = |name: &str| koe.metric(name).unwrap().samples[0][r];
        assert_eq!(v("per_creator.gmv_yuan"), v("tally.gmv_fen") / 100.0 / v("creators"));
        assert_eq!(v("per_follower.impressions"), v("tally.impressions") / v("followers"));
    }
    let p = &report.platform;
    let v = |name: &str| p.metric(name).unwrap().samples[0][0];
    assert_eq!(v("reach_share"), v("unique_reach") / v("users"));
}

#[test]
fn student_t_critical_values_match_the_tables() {
    for (df, t) in [
        (1, 12.7062),
        (2, 4.3027),
        (4, 2.7764),
        (9, 2.2622),
        (29, 2.0452),
        (1000, 1.9623),
    ] {
        assert!(
            (t_critical(0.95, df) - t).abs() < 5e-4,
            "df {df}: {}",
            t_critical(0.95, df)
        );
    }
    assert!((t_critical(0.90, 9) - 1.8331).abs() < 5e-4);
    assert!(t_critical(0.95, 0).is_nan());
    let one = Estimate::from_samples(&[3.0], 0.95);
    assert_eq!((one.mean, one.sd, one.low), (3.0, None, None));
    assert!(Estimate::paired_difference(&[1.0], &[1.0, 2.0], 0.95).is_err());
}

/// Katz's interval for a ratio of two Poisson counts covers the true
/// ratio at about its nominal rate: 4,000 pairs of counts drawn with means
/// 600 and 540 (a ratio of 1.111, about the KOL's month in the README) and
/// 40 and 50 (few events), fixed seeds. The tolerance is four standard
/// errors of a binomial proportion over 4,000 trials (about ±0.014 at
/// 95%); a log interval with the wrong variance (say 1/a alone) covers
/// about 83% and fails.
#[test]
fn count_ratio_intervals_cover_the_true_ratio_at_about_the_nominal_rate() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Poisson};
    let trials = 4_000;
    for (seed, (m_num, m_den)) in [(1u64, (600.0, 540.0)), (2, (40.0, 50.0))] {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
        let (num, den) = (Poisson::new(m_num).unwrap(), Poisson::new(m_den).unwrap());
        let truth = m_num / m_den;
        let mut covered = 0;
        for _ in 0..trials {
            let (a, b) = (num.sample(&mut rng) as u64, den.sample(&mut rng) as u64);
            let e = Estimate::count_ratio(a, b, 0.95);
            assert!(e.low.unwrap() < e.mean && e.mean < e.high.unwrap());
            covered += usize::from(e.covers(truth));
        }
        let rate = covered as f64 / trials as f64;
        let tolerance = 4.0 * (0.95f64 * 0.05 / trials as f64).sqrt();
        assert!(
            (rate - 0.95).abs() < tolerance,
            "means {m_num}, {m_den}: covered {rate}"
        );
    }
    // No interval without events on either side.
    let e = Estimate::count_ratio(0, 10, 0.95);
    assert_eq!((e.mean, e.low, e.high), (0.0, None, None));
    assert!(Estimate::count_ratio(5, 0, 0.95).mean.is_nan());
    assert_eq!(Estimate::count_ratio(5, 4, 1.0).low, None);
}

#[test]
fn experiment_refuses_bad_settings() {
    let s = research::tiny(5_000, 2, 500);
    let ladder = s.public_pool_ladder.clone();
    assert_eq!(
        Experiment::new(&s, vec![]).err().unwrap().field(),
        Some("experiment.policies")
    );
    let e = Experiment::new(&s, vec![&ladder as &dyn PushPolicy]).unwrap();
    assert_eq!(
        e.replicates(0).run().unwrap_err().field(),
        Some("experiment.replicates")
    );
    let e = Experiment::new(&s, vec![&ladder as &dyn PushPolicy]).unwrap();
    assert_eq!(
        e.confidence(1.0).run().unwrap_err().field(),
        Some("experiment.confidence")
    );
}

#[test]
fn set_path_changes_one_number_and_names_bad_paths() {
    let s = Scenario::default_scenario();
    let t = set_path(&s, "cohorts.waist.iron_fan_ratio", 0.4).unwrap();
    assert_eq!(t.cohorts[1].iron_fan_ratio, 0.4);
    let mut back = t.clone();
    back.cohorts[1].iron_fan_ratio = s.cohorts[1].iron_fan_ratio;
    assert_eq!(back, s, "nothing else changed");
    assert_eq!(
        set_path(&s, "public_pool_ladder.pools.1.gate.threshold", 1.7)
            .unwrap()
            .public_pool_ladder
            .pools[1]
            .gate
            .threshold,
        1.7
    );
    assert_eq!(set_path(&s, "users.count", 5e6).unwrap().users.count, 5_000_000);

    for path in [
        "cohorts.NOPE.iron_fan_ratio",
        "cohorts.9.iron_fan_ratio",
        "users.bogus",
        "name",
        "users",
        "users..count",
    ] {
        let e = set_path(&s, path, 0.5).unwrap_err();
        assert_eq!(e.field(), Some(path), "{e}");
    }
    // A whole-number field refuses a fraction.
    assert_eq!(
        set_path(&s, "users.count", 1.5).unwrap_err().field(),
        Some("users.count")
    );
    // An out-of-range value is refused by the scenario's validation.
    let e = set_path(&s, "cohorts.KOE.iron_fan_ratio", 1.5).unwrap_err();
    assert_eq!(e.field(), Some("cohorts[2].iron_fan_ratio"));
}

#[test]
fn sweep_points_are_row_major_and_a_bad_point_fails_before_running() {
    let s = research::tiny(5_000, 3, 500);
    let sweep = Sweep::new(
        &s,
        vec![
            Axis::new("cohorts.KOE.iron_fan_ratio", [0.1, 0.2, 0.3]),
            Axis::linspace("feed.interest_targeting", 0.0, 1.0, 2).unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(sweep.points(), 6);
    assert_eq!(sweep.point_values(0), [0.1, 0.0]);
    assert_eq!(sweep.point_values(1), [0.1, 1.0]);
    assert_eq!(sweep.point_values(5), [0.3, 1.0]);
    let p = sweep.point_scenario(3).unwrap();
    assert_eq!((p.cohorts[2].iron_fan_ratio, p.feed.interest_targeting), (0.2, 1.0));

    let e = Sweep::new(&s, vec![Axis::new("cohorts.KOE.iron_fan_ratio", [0.5, 2.0])])
        .err()
        .unwrap();
    assert_eq!(e.field(), Some("cohorts[2].iron_fan_ratio"));
    assert!(e.to_string().contains("sweep point 1"), "{e}");
    assert!(Sweep::new(&s, vec![]).is_err());
    assert!(Sweep::new(&s, vec![Axis::new("feed.days", [])]).is_err());
}

#[test]
fn a_point_is_validated_with_all_its_axes_set() {
    // The waist cohort's followers run from at most 150 to at most 300 here:
    // min = 400 alone is invalid, but not with max = 500, in either order.
    let s = research::tiny(5_000, 2, 300);
    assert!(s.cohorts[1].followers.max <= 300);
    assert!(set_path(&s, "cohorts.waist.followers.min", 400.0).is_err());
    for axes in [
        [
            ("cohorts.waist.followers.min", 400.0),
            ("cohorts.waist.followers.max", 500.0),
        ],
        [
            ("cohorts.waist.followers.max", 500.0),
            ("cohorts.waist.followers.min", 400.0),
        ],
    ] {
        let sweep = Sweep::new(&s, axes.iter().map(|&(p, v)| Axis::new(p, [v])).collect()).unwrap();
        let p = sweep.point_scenario(0).unwrap();
        assert_eq!((p.cohorts[1].followers.min, p.cohorts[1].followers.max), (400, 500));
        let mut back = p.clone();
        back.cohorts[1].followers = s.cohorts[1].followers;
        assert_eq!(back, s, "nothing else changed");
    }

    // A point that is invalid as a whole is still refused, naming the
    // scenario's field and the point.
    let e = Sweep::new(
        &s,
        vec![
            Axis::new("cohorts.waist.followers.min", [400.0, 600.0]),
            Axis::new("cohorts.waist.followers.max", [500.0]),
        ],
    )
    .err()
    .unwrap();
    assert!(e.field().is_some_and(|f| f.starts_with("cohorts[1]")), "{e}");
    assert!(e.to_string().contains("sweep point 1"), "{e}");
    assert!(e.to_string().contains("cohorts.waist.followers.min = 600"), "{e}");
    // A value the field cannot hold names its path, whichever axis it is on.
    let e = Sweep::new(
        &s,
        vec![
            Axis::new("cohorts.waist.followers.max", [500.0]),
            Axis::new("cohorts.waist.followers.min", [-1.0]),
        ],
    )
    .err()
    .unwrap();
    assert_eq!(e.field(), Some("cohorts.waist.followers.min"), "{e}");
    assert!(e.to_string().contains("sweep point 0"), "{e}");
    // A path that does not exist names itself.
    let e = Sweep::new(
        &s,
        vec![
            Axis::new("cohorts.waist.followers.max", [500.0]),
            Axis::new("cohorts.waist.bogus", [1.0]),
        ],
    )
    .err()
    .unwrap();
    assert_eq!(e.field(), Some("cohorts.waist.bogus"), "{e}");
}

#[test]
fn linspace_refuses_more_values_than_a_sweep_takes_before_making_them() {
    let a = Axis::linspace("feed.interest_targeting", 0.0, 1.0, 5).unwrap();
    assert_eq!(a.values, [0.0, 0.25, 0.5, 0.75, 1.0]);
    assert_eq!(Axis::linspace("p", 2.0, 9.0, 1).unwrap().values, [2.0]);
    let limit = MAX_SWEEP_POINTS as usize;
    assert_eq!(Axis::linspace("p", 0.0, 1.0, limit).unwrap().values.len(), limit);
    // Five billion values would be 40 GB: refused without trying.
    for n in [limit + 1, 5_000_000_000, usize::MAX] {
        let e = Axis::linspace("feed.interest_targeting", 0.0, 1.0, n).unwrap_err();
        assert_eq!(e.field(), Some("sweep.axes"), "{e}");
        assert!(e.to_string().contains("feed.interest_targeting"), "{e}");
    }
}

fn sweep_scenario() -> Scenario {
    research::tiny(10_000, 4, 1_000)
}

fn sweep(s: &Scenario) -> Sweep<'static> {
    Sweep::new(
        s,
        vec![
            Axis::new("cohorts.KOE.iron_fan_ratio", [0.1, 0.5, 0.9]),
            Axis::new("public_pool_ladder.pools.0.size", [100.0, 300.0]),
        ],
    )
    .unwrap()
    .replicates(2)
}

fn bytes(report: &SweepReport) -> (String, Vec<u8>, Vec<u8>) {
    let mut wide = Vec::new();
    write_sweep_csv(&mut wide, report, &[]).unwrap();
    let mut long = Vec::new();
    write_sweep_long_csv(&mut long, report, &[("KOE", "reach_per_follower")]).unwrap();
    (report.to_json().unwrap(), wide, long)
}

#[test]
fn shard_outputs_merge_to_the_unsharded_output_byte_for_byte() {
    let s = sweep_scenario();
    let whole = sweep(&s).run().unwrap();
    assert_eq!(whole.points.len(), 6);
    assert!(whole.shard.is_none());
    // The swept value reaches the world: the cohort's measured ratio follows.
    for p in &whole.points {
        let ratio = p.experiment.metric("KOE", "iron_fan_ratio").unwrap().policies[0].mean;
        assert!((ratio - p.values[0]).abs() < 0.02, "{ratio} at {:?}", p.values);
    }

    // Shards as a job array would write them: JSON files, read back.
    let dir = std::env::temp_dir().join(format!("feedsim-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for i in 0..4 {
        let shard = sweep(&s).shard(Shard::new(i, 4).unwrap()).run().unwrap();
        assert_eq!(shard.shard, Some(Shard::new(i, 4).unwrap()));
        assert!(shard.points.iter().all(|p| p.index % 4 == u64::from(i)));
        let path = dir.join(format!("shard-{i}.json"));
        std::fs::write(&path, shard.to_json().unwrap()).unwrap();
        files.push(path);
    }
    files.reverse(); // any order
    let shards: Vec<SweepReport> = files
        .iter()
        .map(|f| SweepReport::from_json(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    let merged = SweepReport::merge(shards).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(merged, whole);
    let (a, b) = (bytes(&merged), bytes(&whole));
    assert!(a.0 == b.0, "JSON differs");
    assert!(a.1 == b.1, "wide CSV differs");
    assert!(a.2 == b.2, "long CSV differs");
    assert_eq!(String::from_utf8(a.1).unwrap().lines().count(), 7);
}

#[test]
fn merge_refuses_missing_repeated_and_foreign_shards() {
    let s = research::tiny(5_000, 2, 300);
    let make = |r: u32, i: u32, n: u32| {
        Sweep::new(&s, vec![Axis::new("cohorts.KOE.iron_fan_ratio", [0.1, 0.5, 0.9])])
            .unwrap()
            .replicates(r)
            .shard(Shard::new(i, n).unwrap())
            .run()
            .unwrap()
    };
    let (a, b) = (make(2, 0, 2), make(2, 1, 2));
    let field = |r: feedsim::Result<SweepReport>| r.unwrap_err().field().map(str::to_string);
    let shards = Some("sweep.shards".to_string());
    assert_eq!(field(SweepReport::merge(vec![a.clone()])), shards, "missing shard");
    assert_eq!(
        field(SweepReport::merge(vec![a.clone(), a.clone()])),
        shards,
        "repeated"
    );
    assert_eq!(
        field(SweepReport::merge(vec![a.clone(), make(3, 1, 2)])),
        shards,
        "foreign"
    );
    assert_eq!(
        field(SweepReport::merge(vec![a.clone(), make(2, 1, 3)])),
        shards,
        "counts"
    );
    let mut tampered = b.clone();
    tampered.points.pop();
    assert_eq!(
        field(SweepReport::merge(vec![a.clone(), tampered.clone()])),
        shards,
        "checksum"
    );
    tampered.checksum = tampered.content_checksum().unwrap();
    let e = SweepReport::merge(vec![a.clone(), tampered]).unwrap_err();
    assert!(e.to_string().contains("exactly the points it owns"), "{e}");
    assert_eq!(field(SweepReport::merge(vec![])), shards, "none");
    let merged = SweepReport::merge(vec![b.clone(), a.clone()]).unwrap();
    assert_eq!(merged.points.iter().map(|p| p.index).collect::<Vec<_>>(), [0, 1, 2]);
    // A complete report is shard 0/1: merging it alone gives it back.
    assert_eq!(SweepReport::merge(vec![merged.clone()]).unwrap(), merged);

    // Shards built with their public fields, not through `Shard::new`, are
    // refused rather than indexed or allocated by.
    for (index, count) in [(5, 2), (0, 0), (2, 2)] {
        let mut odd = b.clone();
        odd.shard = Some(Shard { index, count });
        odd.checksum = odd.content_checksum().unwrap();
        assert_eq!(field(SweepReport::merge(vec![odd.clone()])), shards, "{index}/{count}");
        assert_eq!(
            field(SweepReport::merge(vec![a.clone(), odd])),
            shards,
            "{index}/{count}"
        );
    }
    let mut huge = a.clone();
    huge.shard = Some(Shard {
        index: 0,
        count: u32::MAX,
    });
    huge.checksum = huge.content_checksum().unwrap();
    let e = SweepReport::merge(vec![huge]).unwrap_err();
    assert!(e.to_string().contains("1/4294967295"), "{e}");
}

/// Issue 16's edited shards: values off the grid, a lowered point count
/// with the points beyond it deleted, an edited metric, another results
/// version and a file from before checksums are refused, each naming why.
#[test]
fn merge_refuses_edited_shards() {
    let s = research::tiny(5_000, 2, 300);
    let make = |i: u32| {
        Sweep::new(
            &s,
            vec![Axis::new("cohorts.KOE.iron_fan_ratio", [0.1, 0.5, 0.9, 0.7, 0.3])],
        )
        .unwrap()
        .replicates(2)
        .shard(Shard::new(i, 2).unwrap())
        .run()
        .unwrap()
    };
    let (a, b) = (make(0), make(1));
    assert!(SweepReport::merge(vec![a.clone(), b.clone()]).is_ok());
    let seal = |mut r: SweepReport| {
        r.checksum = r.content_checksum().unwrap();
        r
    };
    let refused = |shards: Vec<SweepReport>, why: &str| {
        let e = SweepReport::merge(shards).unwrap_err().to_string();
        assert!(e.contains(why), "{why}: {e}");
    };
    // A point's values moved off the grid (resealed: only the grid check
    // can find it).
    let mut off = b.clone();
    off.points[0].values = vec![0.45];
    refused(vec![a.clone(), seal(off)], "not the grid's");
    // points = 3 with points 3 and 4 deleted.
    let (mut a3, mut b3) = (a.clone(), b.clone());
    for r in [&mut a3, &mut b3] {
        r.definition.points = 3;
        r.points.retain(|p| p.index < 3);
    }
    let e = SweepReport::merge(vec![seal(a3), seal(b3)]).unwrap_err();
    assert_eq!(e.field(), Some("sweep.definition.points"), "{e}");
    // An edited metric value, through the JSON file, not resealed.
    let mut value: serde_json::Value = serde_json::from_str(&b.to_json().unwrap()).unwrap();
    let mean = &mut value["points"][0]["experiment"]["platform"]["metrics"][0]["policies"][0]["mean"];
    assert!(mean.is_number(), "{value:.200}");
    *mean = serde_json::json!(mean.as_f64().unwrap() + 1.0);
    let edited = SweepReport::from_json(&value.to_string()).unwrap();
    refused(vec![a.clone(), edited], "checksum");
    // Another results version.
    let mut old = b.clone();
    old.version = feedsim::experiment::RESULTS_VERSION + 1;
    refused(vec![a.clone(), seal(old)], "version");
    // A file written before versions and checksums.
    let mut value: serde_json::Value = serde_json::from_str(&b.to_json().unwrap()).unwrap();
    let map = value.as_object_mut().unwrap();
    map.remove("version");
    map.remove("checksum");
    let before = SweepReport::from_json(&value.to_string()).unwrap();
    assert_eq!((before.version, before.checksum.as_str()), (0, ""));
    refused(vec![a.clone(), before], "version 0");
}

#[test]
fn shards_are_checked_when_parsed_and_when_read_from_json() {
    for text in ["a/b", "1/0", "", "0/0", "3/2", "2", "1/2/3", "-1/2"] {
        assert_eq!(text.parse::<Shard>().unwrap_err().field(), Some("shard"), "{text:?}");
    }
    assert_eq!(" 1 / 2 ".parse::<Shard>().unwrap(), Shard::new(1, 2).unwrap());

    assert_eq!(
        serde_json::from_str::<Shard>(r#"{"index": 1, "count": 2}"#).unwrap(),
        Shard::new(1, 2).unwrap()
    );
    for json in [
        r#"{"index": 5, "count": 2}"#,
        r#"{"index": 2, "count": 2}"#,
        r#"{"index": 0, "count": 0}"#,
        r#"{"index": 0}"#,
    ] {
        assert!(serde_json::from_str::<Shard>(json).is_err(), "{json}");
    }

    // A hand-edited shard file is refused when read, before any merge.
    let s = research::tiny(5_000, 2, 300);
    let report = Sweep::new(&s, vec![Axis::new("cohorts.KOE.iron_fan_ratio", [0.1, 0.5])])
        .unwrap()
        .replicates(2)
        .shard(Shard::new(1, 2).unwrap())
        .run()
        .unwrap();
    let json = report.to_json().unwrap();
    assert_eq!(SweepReport::from_json(&json).unwrap(), report);
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    for (index, count) in [(7, 2), (0, 0)] {
        value["shard"] = serde_json::json!({ "index": index, "count": count });
        let e = SweepReport::from_json(&value.to_string()).unwrap_err();
        assert!(e.to_string().contains("must be i/n"), "{index}/{count}: {e}");
    }
}

#[test]
fn sweep_observer_sees_every_run_and_point() {
    let s = research::tiny(5_000, 2, 300);
    let sweep = Sweep::new(&s, vec![Axis::new("cohorts.KOE.iron_fan_ratio", [0.1, 0.5, 0.9])])
        .unwrap()
        .replicates(2)
        .shard("1/2".parse().unwrap());
    let runs = Mutex::new(0usize);
    let points = Mutex::new(Vec::new());
    let report = sweep
        .run_with(|e| match e {
            feedsim::experiment::SweepEvent::Run { run, .. } => {
                assert_eq!(run.total, 4);
                *runs.lock().unwrap() += 1;
            }
            feedsim::experiment::SweepEvent::Point { point, total, .. } => {
                assert_eq!(*total, 1);
                points.lock().unwrap().push(*point);
            }
        })
        .unwrap();
    assert_eq!(*runs.lock().unwrap(), 4);
    assert_eq!(*points.lock().unwrap(), [1]);
    assert_eq!(report.points.len(), 1);
}
