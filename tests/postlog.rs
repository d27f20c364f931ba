//! Post logs: a written log replays to the very same run, every bad row is
//! refused with its line and column, and experiments replay a log in every
//! replicate.

mod research;

use feedsim::experiment::Experiment;
use feedsim::generate::generate_posts;
use feedsim::policy::PushPolicy;
use feedsim::postlog::{PostLog, write_post_log};
use feedsim::{Scenario, Simulation, World};

fn scenario() -> Scenario {
    research::tiny(20_000, 20, 3_000)
}

#[test]
fn a_written_log_reads_back_to_the_same_posts_and_replays_to_the_same_report() {
    let s = scenario();
    let world = World::generate(&s).unwrap();
    let posts = generate_posts(&world, &s).unwrap();
    assert!(posts.len() > 40 && posts.iter().any(|p| p.price_fen > 0) && posts.iter().any(|p| p.price_fen == 0));
    let mut file = Vec::new();
    write_post_log(&mut file, &posts, s.feed.slots_per_day).unwrap();
    let log = PostLog::read(file.as_slice(), "generated.csv", &s).unwrap();
    assert_eq!(log.len(), posts.len());
    assert_eq!(log.entries()[0].line, 2);
    assert_eq!(log.posts(&world).unwrap(), posts);

    let generated = Simulation::new(&s, &world).unwrap();
    let replayed = Simulation::with_posts(&s, &world, log.posts(&world).unwrap()).unwrap();
    for policy in [&s.public_pool_ladder as &dyn PushPolicy, &s.iron_fan_first()] {
        assert_eq!(
            generated.run(policy, &s.response).unwrap(),
            replayed.run(policy, &s.response).unwrap()
        );
    }
}

#[test]
fn columns_in_any_order_cohort_names_comments_and_defaults() {
    let s = scenario();
    let world = World::generate(&s).unwrap();
    let text = "\
# a hand-written log
quality , slot, day, creator, category, price_yuan

0.5, 3, 0, KOE/1, , 299
-1.25, 23, 0, 0, 7, 0
# the last one
2, 0, 0, newcomer/0, , 0.01
";
    let log = PostLog::read(text.as_bytes(), "hand.csv", &s).unwrap();
    let lines: Vec<u64> = log.entries().iter().map(|e| e.line).collect();
    assert_eq!(lines, [4, 5, 7]);
    let posts = log.posts(&world).unwrap();
    let koe = world.cohorts()[2].first_creator + 1;
    assert_eq!(posts[0].creator, koe);
    assert_eq!(posts[0].category, world.creators().category(koe));
    assert_eq!((posts[0].slot, posts[0].quality, posts[0].price_fen), (3, 0.5, 29_900));
    assert_eq!((posts[1].category, posts[1].price_fen, posts[1].slot), (7, 0, 23));
    assert_eq!(posts[2].creator, world.cohorts()[3].first_creator);
    assert_eq!(posts[2].price_fen, 1);
}

/// Reads `body` under a fixed header and returns the error's field.
fn refused(header: &str, body: &str) -> String {
    let s = scenario();
    let text = format!("{header}\n{body}");
    match PostLog::read(text.as_bytes(), "log.csv", &s) {
        Ok(log) => panic!("accepted {body:?}: {:?}", log.entries()),
        Err(e) => {
            assert!(e.to_string().contains("log.csv:"), "{e}");
            e.field().unwrap_or("(not an Invalid error)").to_string()
        }
    }
}

#[test]
fn bad_rows_are_refused_with_their_line_and_column() {
    let h = "creator,day,slot,quality,price_yuan,category";
    let good = "0,0,1,0.0,,";
    let cases = [
        ("0,0,1,high,,", "quality"),
        ("0,0,1,NaN,,", "quality"),
        ("0,0,1,inf,,", "quality"),
        ("0,0,1,1e3,,", "quality"),
        ("0,0,1,,,", "quality"),
        ("9999,0,1,0,,", "creator"),
        ("-1,0,1,0,,", "creator"),
        ("bob,0,1,0,,", "creator"),
        ("KOL/99,0,1,0,,", "creator"),
        ("nobody/0,0,1,0,,", "creator"),
        ("0,1,1,0,,", "day"),
        ("0,x,1,0,,", "day"),
        ("0,0,24,0,,", "slot"),
        ("0,0,-3,0,,", "slot"),
        ("0,0,1.5,0,,", "slot"),
        ("0,0,1,0,-5,", "price_yuan"),
        ("0,0,1,0,0.001,", "price_yuan"),
        ("0,0,1,0,cheap,", "price_yuan"),
        ("0,0,1,0,1e9,", "price_yuan"),
        ("0,0,1,0,,20", "category"),
        ("0,0,1,0,,x", "category"),
    ];
    for (row, column) in cases {
        // The bad row is on line 4, after two good rows.
        let field = refused(h, &format!("{good}\n{good}\n{row}\n{good}\n"));
        assert_eq!(field, format!("log.csv:4.{column}"), "row {row:?}");
    }
    // A row with too few or too many fields names its line.
    assert_eq!(refused(h, &format!("{good}\n0,0,1\n")), "log.csv:3");
    assert_eq!(refused(h, &format!("{good}\n{good},1\n")), "log.csv:3");
    // Comments and blank lines count as lines, in every kind of error.
    assert_eq!(
        refused(h, &format!("# note\n\n{good}\n0,0,1,bad,,\n")),
        "log.csv:5.quality"
    );
    assert_eq!(refused(h, &format!("# note\n\n{good}\n0,0,1\n")), "log.csv:5");
}

#[test]
fn a_byte_order_mark_does_not_hide_a_leading_comment() {
    let s = scenario();
    let body = "creator,day,slot,quality\n0,0,1,0.5\n# between\n0,0,2,-0.5\n";
    for (text, lines) in [
        (format!("\u{feff}# exported by a spreadsheet\n{body}"), [3, 5]),
        (format!("\u{feff}\n{body}"), [3, 5]),
        (format!("\u{feff}{body}"), [2, 4]),
        (format!("# no mark\n{body}"), [3, 5]),
    ] {
        let log = PostLog::read(text.as_bytes(), "bom.csv", &s).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let read: Vec<u64> = log.entries().iter().map(|e| e.line).collect();
        assert_eq!(read, lines, "{text:?}");
        assert_eq!(log.entries()[1].quality, -0.5);
    }
    // Only a mark at the very start is dropped; errors still name the line.
    let text = format!("\u{feff}# note\n{body}0,0,1,bad\n");
    let e = PostLog::read(text.as_bytes(), "bom.csv", &s).unwrap_err();
    assert_eq!(e.field(), Some("bom.csv:6.quality"), "{e}");
}

#[test]
fn bad_headers_and_empty_logs_are_refused() {
    assert_eq!(
        refused("creator,day,slot,quality,colour", "0,0,1,0,red\n"),
        "log.csv:1.colour"
    );
    assert_eq!(refused("creator,day,slot,quality,day", "0,0,1,0,0\n"), "log.csv:1.day");
    assert_eq!(refused("creator,day,quality", "0,0,1\n"), "log.csv:1");
    let s = scenario();
    let e = PostLog::read("creator,day,slot,quality\n".as_bytes(), "log.csv", &s).unwrap_err();
    assert_eq!(e.field(), Some("log.csv"));
    let e = PostLog::read("".as_bytes(), "log.csv", &s).unwrap_err();
    assert!(e.field().is_some_and(|f| f.starts_with("log.csv")), "{e}");
    let e = PostLog::read(&b"creator,day,slot,quality\n0,0,1,0\n0,0,1,\xff\n"[..], "log.csv", &s).unwrap_err();
    assert_eq!(e.field(), Some("log.csv:3"));
    let e = PostLog::from_file("/nonexistent/log.csv", &s).unwrap_err();
    assert!(matches!(e, feedsim::Error::Io { .. }), "{e}");
}

#[test]
fn an_experiment_replays_the_log_in_every_replicate() {
    let s = scenario();
    let text = "creator,day,slot,quality,price_yuan\nKOE/0,0,2,1.0,299\nKOE/1,0,5,0.0,299\nKOL/0,0,5,0.5,99\n";
    let log = PostLog::read(text.as_bytes(), "three.csv", &s).unwrap();
    let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
    let report = Experiment::new(&s, vec![&ladder as &dyn PushPolicy, &iron])
        .unwrap()
        .replicates(3)
        .post_log(&log)
        .run()
        .unwrap();
    let posts = report.metric("platform", "posts").unwrap();
    assert!(posts.samples.iter().flatten().all(|&n| n == 3.0));
    assert_eq!(report.metric("KOE", "posts").unwrap().policies[0].mean, 2.0);
    assert_eq!(report.metric("waist", "posts").unwrap().policies[0].mean, 0.0);
    // The worlds differ between replicates, so the reach does too.
    let reach = &report.metric("KOE", "unique_reach").unwrap().samples[1];
    assert!(reach.iter().any(|&r| r != reach[0]), "{reach:?}");
}

#[test]
fn with_a_warm_up_a_log_s_days_count_from_the_warm_up_s_first() {
    let mut s = scenario();
    s.feed.days = 2;
    let row = |day: u32| format!("creator,day,slot,quality\n0,{day},3,0.1\n");
    // Without a warm-up, day 2 is past the scenario's days.
    let e = PostLog::read(row(2).as_bytes(), "log.csv", &s).unwrap_err();
    assert_eq!(e.field(), Some("log.csv:2.day"));
    assert!(e.to_string().contains("feed.days"), "{e}");
    // With 3 warm-up days, days 0..5 are the run's and day 5 is not.
    s.warmup = Some(feedsim::scenario::WarmupParams::new(
        3,
        feedsim::scenario::WarmupPolicy::PublicPoolLadder,
    ));
    let log = PostLog::read(row(4).as_bytes(), "log.csv", &s).unwrap();
    let world = World::generate(&s).unwrap();
    let posts = log.posts(&world).unwrap();
    assert_eq!(posts[0].slot, 4 * s.feed.slots_per_day + 3);
    assert!(Simulation::with_posts(&s, &world, posts).is_ok());
    let e = PostLog::read(row(5).as_bytes(), "log.csv", &s).unwrap_err();
    assert_eq!(e.field(), Some("log.csv:2.day"));
    assert!(e.to_string().contains("warm-up + feed.days"), "{e}");
}

#[test]
fn live_rows_are_checked_and_replay_as_sessions() {
    let h = "creator,day,slot,quality,kind,duration_min";
    let good = "0,0,1,0.0,,";
    for (row, column) in [
        ("0,0,1,0,stream,", "kind"),
        ("0,0,1,0,video,30", "duration_min"),
        ("0,0,1,0,,30", "duration_min"),
        ("0,0,1,0,live,0", "duration_min"),
        ("0,0,1,0,live,1441", "duration_min"),
        ("0,0,1,0,live,1.5", "duration_min"),
    ] {
        let field = refused(h, &format!("{good}\n{good}\n{row}\n"));
        assert_eq!(field, format!("log.csv:4.{column}"), "row {row:?}");
    }
    // A session with its own length, one with its cohort's, and a video.
    let mut s = scenario();
    let koe = s.cohorts.iter().position(|c| c.name == "KOE").unwrap();
    s.cohorts[koe].live = Some(feedsim::live::LiveSessions {
        sessions_per_day: 1.0,
        start_slot: 20,
        duration_min: 90,
    });
    s.validate().unwrap();
    let text = format!("{h}\nKOE/0,0,20,0.5,live,45\nKOE/1,0,20,0.5,live,\nKOE/2,0,20,0.5,video,\n");
    let log = PostLog::read(text.as_bytes(), "log.csv", &s).unwrap();
    let world = World::generate(&s).unwrap();
    let sim = Simulation::with_posts(&s, &world, log.posts(&world).unwrap()).unwrap();
    let lengths: Vec<(bool, f32)> = sim.posts().iter().map(|p| (p.is_live(), p.duration_s)).collect();
    assert_eq!(lengths[0], (true, 45.0 * 60.0));
    assert_eq!(lengths[1], (true, 90.0 * 60.0));
    assert!(
        !lengths[2].0 && lengths[2].1 > 0.0 && lengths[2].1 < 400.0,
        "{lengths:?}"
    );
    // Written out and read back: the same posts.
    let mut out = Vec::new();
    write_post_log(&mut out, sim.posts(), s.feed.slots_per_day).unwrap();
    let back = PostLog::read(out.as_slice(), "back.csv", &s).unwrap();
    let again = Simulation::with_posts(&s, &world, back.posts(&world).unwrap()).unwrap();
    assert_eq!(again.posts(), sim.posts());
    // A session in a cohort without live sessions needs a length.
    let text = format!("{h}\nKOL/0,0,20,0.5,live,\n");
    let log = PostLog::read(text.as_bytes(), "log.csv", &s).unwrap();
    let e = Simulation::with_posts(&s, &world, log.posts(&world).unwrap()).unwrap_err();
    assert!(e.to_string().contains("posts[0].duration_s"), "{e}");
}
