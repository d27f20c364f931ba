//! Live sessions (`live = { ... }` in a cohort, `[live]`): a session's push
//! ends with it, notified fan-group members arrive in its first minutes,
//! stays end with the session, new fans' GMV is counted apart from old
//! fans', the summary's ratios are the trace's, reports group sessions
//! under `live`, results are the same at any thread count, and bad values
//! are refused by name.

mod common;

use feedsim::engine::ImpressionRecord;
use feedsim::live::{LIVE, LIVE_NOTICE, LiveSessions};
use feedsim::metrics::{LiveSummary, Report};
use feedsim::policy::PushPolicy;
use feedsim::tally::{PushEnd, Tally};
use feedsim::{Scenario, Simulation, World};

/// The small growth world (fan lifecycle on, so fan groups form at the
/// first night) over `days` days, the KOE cohort (fan group, low bar)
/// live every day at 8 pm for `minutes` minutes.
fn scenario(days: u32, minutes: u32) -> Scenario {
    let mut s = common::small_growth_scenario(days);
    let koe = s.cohorts.iter_mut().find(|c| c.name == "KOE").unwrap();
    assert!(koe.fan_group.is_some());
    koe.live = Some(LiveSessions {
        sessions_per_day: 1.0,
        start_slot: 20,
        duration_min: minutes,
    });
    s.validate().unwrap();
    s
}

fn traced(s: &Scenario, policy: &dyn PushPolicy) -> (Report, Vec<ImpressionRecord>) {
    let world = World::generate(s).unwrap();
    Simulation::new(s, &world).unwrap().trace(policy, &s.response).unwrap()
}

#[test]
fn a_session_s_push_and_its_viewers_stays_end_with_it() {
    let s = scenario(3, 150);
    // Iron-fan first: more stages than a session has slots.
    let (r, trace) = traced(&s, &s.iron_fan_first());
    let sessions: Vec<_> = r.posts.iter().filter(|p| p.live).collect();
    let koe = r.cohorts.iter().position(|c| c.name == "KOE").unwrap() as u16;
    assert_eq!(
        sessions.len() as u32,
        3 * r.cohorts[koe as usize].creators,
        "one session a day each"
    );
    for p in &sessions {
        assert_eq!(p.cohort, koe);
        assert_eq!(p.slot % 24, 20);
        // 150 minutes over hourly slots: three slots at most.
        assert!(p.stages_entered <= 3, "post {}: {} stages", p.id, p.stages_entered);
    }
    // A session the policy did not stop first ends with it.
    assert!(sessions.iter().any(|p| p.end == PushEnd::SessionEnded));
    assert!(
        sessions
            .iter()
            .filter(|p| p.end == PushEnd::SessionEnded)
            .all(|p| p.stages_entered == 3)
    );
    let live: std::collections::HashMap<u32, u32> = sessions.iter().map(|p| (p.id, p.slot)).collect();
    let mut entries = 0;
    for i in &trace {
        match live.get(&i.post) {
            Some(&start) => {
                entries += 1;
                assert!(
                    i.slot >= start && i.slot < start + 3,
                    "entry in slot {} of a session from {start}",
                    i.slot
                );
                let arrival = i.live_arrival_s.expect("a live entry has an arrival") as u64;
                assert!(arrival <= 150 * 60);
                assert!(arrival * 1000 + i.watch_time_ms <= 150 * 60 * 1000 + 1, "{i:?}");
            }
            None => assert_eq!(i.live_arrival_s, None),
        }
    }
    assert!(entries > 100, "{entries} entries");
}

#[test]
fn notified_members_arrive_in_the_first_minutes() {
    let s = scenario(3, 180);
    let (_, trace) = traced(&s, &s.public_pool_ladder);
    let arrivals = |notified: bool| -> Vec<f64> {
        trace
            .iter()
            .filter(|i| i.live_arrival_s.is_some() && (i.source == LIVE_NOTICE) == notified)
            .map(|i| f64::from(i.live_arrival_s.unwrap()) / 60.0)
            .collect()
    };
    let (members, others) = (arrivals(true), arrivals(false));
    assert!(
        members.len() > 50 && others.len() > 50,
        "{} {}",
        members.len(),
        others.len()
    );
    // Every notified viewer is a fan-group member.
    assert!(
        trace
            .iter()
            .filter(|i| i.source == LIVE_NOTICE)
            .all(|i| i.tier == feedsim::tally::Tier::GroupMember)
    );
    // Exp(3 minutes): mean 3, sd 3; the tolerance is four standard errors.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let m = mean(&members);
    let se = 3.0 / (members.len() as f64).sqrt();
    assert!(
        (m - 3.0).abs() < 4.0 * se,
        "members arrive at {m} min on average (n = {})",
        members.len()
    );
    // The push's viewers arrive over the session's slots: much later.
    assert!(mean(&others) > 20.0, "others arrive at {} min", mean(&others));
}

#[test]
fn new_fans_gmv_and_the_summary_are_the_trace_s() {
    let s = scenario(3, 180);
    let (r, trace) = traced(&s, &s.public_pool_ladder);
    let live: std::collections::HashMap<u32, u64> = r
        .posts
        .iter()
        .filter(|p| p.live)
        .map(|p| (p.id, (p.price_yuan.unwrap_or(0.0) * 100.0).round() as u64))
        .collect();
    let (mut new_fan, mut old_fan, mut gmv) = (0, 0, 0);
    let (mut fan_ms, mut fans, mut other_ms, mut others) = (0u64, 0u64, 0u64, 0u64);
    for i in trace.iter().filter(|i| live.contains_key(&i.post)) {
        let price = live[&i.post];
        let fan = i.relation != feedsim::response::Relation::Stranger;
        if fan {
            (fan_ms, fans) = (fan_ms + i.watch_time_ms, fans + 1);
        } else {
            (other_ms, others) = (other_ms + i.watch_time_ms, others + 1);
        }
        if i.ordered {
            gmv += price;
            if fan {
                old_fan += price;
            } else if i.followed {
                new_fan += price;
            }
        }
    }
    let t: Tally = r
        .posts
        .iter()
        .filter(|p| p.live)
        .fold(Tally::default(), |a, p| a.sum(p.tally));
    assert_eq!((t.gmv_fen, t.fan_gmv_fen, t.new_fan_gmv_fen), (gmv, old_fan, new_fan));
    assert!(gmv > 0, "the sessions sold nothing");
    let sum = LiveSummary::of_report(&r, Some("KOE"));
    assert_eq!(sum.viewers, fans + others);
    let ratio = (fan_ms as f64 / fans as f64) / (other_ms as f64 / others as f64);
    let stay = sum.fan_stay_ratio.expect("fans and non-fans entered");
    assert!((stay - ratio).abs() < 1e-9, "{stay} vs {ratio}");
    assert!((sum.fan_share_of_viewers - fans as f64 / (fans + others) as f64).abs() < 1e-12);
    assert!((sum.old_fan_share_of_gmv - old_fan as f64 / gmv as f64).abs() < 1e-12);
    // The cohort's report carries the same summary, summed as sessions
    // end (no kept posts needed); a cohort without sessions has none.
    assert_eq!(r.cohort("KOE").unwrap().live, Some(sum));
    assert_eq!(r.cohort("general").unwrap().live, None);
    // No other cohort holds sessions.
    assert_eq!(LiveSummary::of_report(&r, Some("general")).sessions, 0);
    // Creators and cohorts count their sessions under `live`, whole.
    let koe = r.cohort("KOE").unwrap();
    assert_eq!(koe.by_source[LIVE], t);
    assert!(
        !koe.by_source.contains_key(LIVE_NOTICE),
        "arrival paths stay in the sessions' reports"
    );
    assert!(
        r.posts
            .iter()
            .filter(|p| p.live)
            .any(|p| p.by_source.contains_key(LIVE_NOTICE))
    );
    assert_eq!(
        koe.by_source.values().fold(Tally::default(), |a, t| a.sum(*t)),
        koe.tally
    );
}

#[test]
fn live_sessions_are_the_same_at_any_thread_count() {
    let s = scenario(2, 120);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    for policy in [&s.public_pool_ladder as &dyn PushPolicy, &s.iron_fan_first()] {
        let one = common::same_at_any_thread_count(&sim, &s, policy).to_json().unwrap();
        assert!(one.contains("\"live\": true"), "{}: no session", policy.name());
    }
}

#[test]
fn bad_live_values_are_refused_by_name() {
    let text = std::fs::read_to_string("scenarios/live_liquor_brand.toml").unwrap();
    for (from, to, field) in [
        ("start_slot = 20", "start_slot = 24", "cohorts[0].live.start_slot"),
        ("duration_min = 180", "duration_min = 0", "cohorts[0].live.duration_min"),
        (
            "sessions_per_day = 1.0",
            "sessions_per_day = 2.0",
            "cohorts[0].live.sessions_per_day",
        ),
        ("view_minutes = 5.0", "view_minutes = -1.0", "live.view_minutes"),
        (
            "notified_arrival_mean_min = 3.0",
            "notified_arrival_mean_min = 1e9",
            "live.notified_arrival_mean_min",
        ),
        (
            "view_minutes = 5.0",
            "view_minutes = 5.0\nviewing_minutes = 2.0",
            "viewing_minutes",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let e = Scenario::from_toml_str(&text.replacen(from, to, 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
    assert!(Scenario::from_toml_str(&text).is_ok());
}
