//! Report files: written CSV and JSON read back to the same values, every
//! column is documented, bad files are refused with line and column, and
//! the experiment and sweep tables carry the report's numbers.

mod research;

use feedsim::experiment::{Axis, Experiment, Sweep};
use feedsim::metrics::{Tally, Tier};
use feedsim::output::{
    CohortKey, CreatorKey, Level, PlatformKey, PostKey, RunKey, Table, Tagged, cohort_rows, creator_rows,
    platform_rows, post_rows, read_csv, read_json, read_tagged_csv, source_rows, tagged_columns, tier_rows, write_csv,
    write_experiment_csv, write_json, write_report_files, write_sweep_csv, write_tagged_csv,
};
use feedsim::policy::PushPolicy;
use feedsim::{Report, Scenario, Simulation, World};
use serde::{Deserialize, Serialize};

fn reports() -> (Scenario, Vec<Report>) {
    let s = research::tiny(20_000, 20, 3_000);
    let world = World::generate(&s).unwrap();
    let sim = Simulation::new(&s, &world).unwrap();
    let reports = vec![
        sim.run(&s.public_pool_ladder, &s.response).unwrap(),
        sim.run(&s.iron_fan_first(), &s.response).unwrap(),
    ];
    (s, reports)
}

fn csv_round_trip<K>(rows: Vec<feedsim::output::Row<K>>)
where
    K: Serialize + serde::de::DeserializeOwned + Default + PartialEq + std::fmt::Debug,
{
    assert!(!rows.is_empty());
    let mut csv = Vec::new();
    write_csv(&mut csv, &rows).unwrap();
    let back = read_csv::<_, K>(csv.as_slice(), "table.csv").unwrap();
    assert_eq!(back, rows);
    let mut json = Vec::new();
    write_json(&mut json, &rows).unwrap();
    let back: Vec<feedsim::output::Row<K>> = read_json(json.as_slice()).unwrap();
    assert_eq!(back, rows);
}

#[test]
fn tiers_split_every_count_and_add_up_to_the_whole() {
    let (_, reports) = reports();
    for r in &reports {
        let whole =
            |t: &feedsim::metrics::TierTallies| Tier::ALL.iter().fold(Tally::default(), |a, &k| a.sum(*t.get(k)));
        assert_eq!(whole(&r.platform.by_tier), r.platform.tally);
        for c in &r.cohorts {
            assert_eq!(whole(&c.by_tier), c.tally, "{}", c.name);
            for tier in Tier::ALL {
                let t = c.by_tier.get(tier);
                // Distinct users in a tier: at most its impressions, at least one if any.
                let reach = c.unique_reach_by_tier.get(tier);
                assert!(
                    reach <= t.impressions && (reach > 0) == (t.impressions > 0),
                    "{} {tier:?}",
                    c.name
                );
            }
            let public = c.by_tier.get(Tier::Public);
            assert_eq!(public.impressions, c.tally.public_impressions);
            assert_eq!(public.public_impressions, public.impressions);
        }
        for p in &r.posts {
            assert_eq!(whole(&p.by_tier), p.tally, "post {}", p.id);
        }
        // No fan groups without the lifecycle.
        assert_eq!(r.platform.by_tier.get(Tier::GroupMember).impressions, 0);
        let rows = tier_rows(r);
        let creators = r.creators.iter().filter(|c| c.posts > 0).count();
        assert_eq!(rows.len(), 4 * (1 + r.cohorts.len() + creators));
        assert!(rows[..4].iter().all(|row| row.key.level == Level::Platform));
        assert_eq!(rows[4].key.level, Level::Cohort);
        let fans: u64 = rows
            .iter()
            .filter(|row| row.key.level == Level::Creator && row.key.tier != Tier::Public)
            .map(|row| row.tally.orders)
            .sum();
        let fan_orders: u64 = [Tier::GroupMember, Tier::IronFan, Tier::OtherFan]
            .iter()
            .map(|&k| r.platform.by_tier.get(k).orders)
            .sum();
        assert_eq!(fans, fan_orders);
    }
}

#[test]
fn every_table_reads_back_to_the_same_values() {
    let (s, reports) = reports();
    for r in &reports {
        csv_round_trip(post_rows(r, s.feed.slots_per_day));
        csv_round_trip(creator_rows(r));
        csv_round_trip(cohort_rows(r));
        csv_round_trip(platform_rows(r));
        csv_round_trip(tier_rows(r));
        csv_round_trip(source_rows(r));
    }
    // The rows carry the report's numbers.
    let r = &reports[1];
    let cohorts = cohort_rows(r);
    for (row, c) in cohorts.iter().zip(&r.cohorts) {
        assert_eq!(row.tally, c.tally);
        assert_eq!(row.rates, c.rates);
        assert_eq!(
            (row.key.unique_reach, row.key.reach_per_follower),
            (c.unique_reach, c.reach_per_follower)
        );
    }
    let posts = post_rows(r, s.feed.slots_per_day);
    assert_eq!(posts.len(), r.posts.len());
    let p = &posts[posts.len() / 2];
    let src = &r.posts[posts.len() / 2];
    assert_eq!(p.key.slot, p.key.day * s.feed.slots_per_day + p.key.slot_of_day);
    assert_eq!(p.key.price_yuan, src.price_yuan);
    let stages: Vec<u64> = p.key.stage_impressions.split(' ').map(|x| x.parse().unwrap()).collect();
    assert_eq!(stages, src.stage_impressions);
    assert!(posts.iter().any(|p| p.key.price_yuan.is_none()) && posts.iter().any(|p| p.key.end_stage.is_some()));
}

#[test]
fn report_files_hold_every_policy_and_no_partial_files() {
    let (s, reports) = reports();
    let dir = std::env::temp_dir().join(format!("feedsim-output-{}", std::process::id()));
    let refs: Vec<&Report> = reports.iter().collect();
    let paths = write_report_files(&dir, &refs, s.feed.slots_per_day).unwrap();
    assert_eq!(paths.len(), 14);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
    let file = std::fs::File::open(dir.join("cohorts.csv")).unwrap();
    let back = read_csv::<_, CohortKey>(file, "cohorts.csv").unwrap();
    let expected: Vec<_> = reports.iter().flat_map(cohort_rows).collect();
    assert_eq!(back, expected);
    assert_eq!(back[0].key.policy, "public-pool ladder");
    assert_eq!(back[back.len() - 1].key.policy, "iron-fan first");
    let file = std::fs::File::open(dir.join("posts.json")).unwrap();
    let back: Vec<feedsim::output::Row<PostKey>> = read_json(file).unwrap();
    assert_eq!(back.len(), reports[0].posts.len() + reports[1].posts.len());
    let file = std::fs::File::open(dir.join("platform.csv")).unwrap();
    assert_eq!(read_csv::<_, PlatformKey>(file, "platform.csv").unwrap().len(), 2);
    let file = std::fs::File::open(dir.join("tiers.csv")).unwrap();
    let tiers = read_csv::<_, feedsim::output::TierKey>(file, "tiers.csv").unwrap();
    assert_eq!(tiers, reports.iter().flat_map(tier_rows).collect::<Vec<_>>());
    let file = std::fs::File::open(dir.join("sources.csv")).unwrap();
    let sources = read_csv::<_, feedsim::output::SourceKey>(file, "sources.csv").unwrap();
    assert_eq!(sources, reports.iter().flat_map(source_rows).collect::<Vec<_>>());
    // Each level's sources sum to its tally: the platform's impressions.
    for r in &reports {
        let platform: u64 = source_rows(r)
            .iter()
            .filter(|row| row.key.policy == r.policy && row.key.level == feedsim::output::Level::Platform)
            .map(|row| row.tally.impressions)
            .sum();
        assert_eq!(platform, r.platform.tally.impressions, "{}", r.policy);
    }
    // The per-day table reads back to the reports' daily series.
    let file = std::fs::File::open(dir.join("daily.csv")).unwrap();
    let daily: Vec<feedsim::output::Tagged<feedsim::metrics::DailyCohortReport>> =
        feedsim::output::read_tagged_csv(file, "daily.csv").unwrap();
    let expected: Vec<_> = reports.iter().flat_map(|r| r.daily.clone()).collect();
    assert!(!expected.is_empty());
    assert_eq!(daily.iter().map(|t| t.row.clone()).collect::<Vec<_>>(), expected);
    assert_eq!(daily[0].run.policy, "public-pool ladder");
    let file = std::fs::File::open(dir.join("creators.csv")).unwrap();
    assert_eq!(
        read_csv::<_, CreatorKey>(file, "creators.csv").unwrap().len(),
        2 * reports[0].creators.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn empty_tables_have_the_full_header() {
    let (s, reports) = reports();
    // A run without daily rows, and no runs at all: every table is its
    // header alone, the same header as when it has rows.
    let mut no_days = reports[0].clone();
    no_days.daily.clear();
    for runs in [vec![], vec![&no_days]] {
        for table in Table::ALL {
            if table != Table::Daily && !runs.is_empty() {
                continue;
            }
            let mut csv = Vec::new();
            table.write_csv(&mut csv, &runs, s.feed.slots_per_day).unwrap();
            assert_eq!(
                String::from_utf8(csv).unwrap(),
                format!("{}\n", table.columns().join(",")),
                "{}",
                table.file_stem()
            );
            let mut json = Vec::new();
            table.write_json(&mut json, &runs, s.feed.slots_per_day).unwrap();
            assert_eq!(String::from_utf8(json).unwrap(), "[]");
        }
    }
    // The same header as a table with rows, which reads back empty.
    let mut full = Vec::new();
    Table::Daily
        .write_csv(&mut full, &[&reports[0]], s.feed.slots_per_day)
        .unwrap();
    let full = String::from_utf8(full).unwrap();
    let header = format!("{}\n", Table::Daily.columns().join(","));
    assert!(full.starts_with(&header), "{full}");
    let rows: Vec<Tagged<feedsim::metrics::DailyCohortReport>> =
        read_tagged_csv(header.as_bytes(), "daily.csv").unwrap();
    assert!(rows.is_empty());

    let mut csv = Vec::new();
    write_tagged_csv::<_, DayRecord>(&mut csv, &[]).unwrap();
    assert_eq!(
        String::from_utf8(csv).unwrap(),
        "policy,seed,day,cohort,impressions,iron_fan_ratio\n"
    );
}

#[test]
fn every_column_is_unique_and_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/output.md")).unwrap();
    for table in Table::ALL {
        let columns = table.columns();
        let minimum = if table == Table::Daily { 14 } else { 30 };
        assert!(columns.len() > minimum, "{}: {columns:?}", table.file_stem());
        let mut unique = columns.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), columns.len(), "{} repeats a column", table.file_stem());
        for c in &columns {
            assert!(
                doc.contains(&format!("| `{c}` |")),
                "docs/output.md does not document column `{c}` of {}",
                table.file_stem()
            );
        }
    }
}

#[test]
fn bad_csv_tables_are_refused_with_line_and_column() {
    let (_, reports) = reports();
    let mut csv = Vec::new();
    write_csv(&mut csv, &cohort_rows(&reports[0])).unwrap();
    let text = String::from_utf8(csv).unwrap();

    let renamed = text.replacen("unique_reach", "reach", 1);
    let e = read_csv::<_, CohortKey>(renamed.as_bytes(), "c.csv").unwrap_err();
    assert_eq!(e.field(), Some("c.csv:1.10"), "{e}");

    // Corrupt the `watches` count of the second data row (line 3).
    let column = text
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "watches")
        .unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    fields[column] = "many".into();
    lines[2] = fields.join(",");
    let e = read_csv::<_, CohortKey>(lines.join("\n").as_bytes(), "c.csv").unwrap_err();
    assert_eq!(e.field(), Some("c.csv:3.watches"), "{e}");

    let short = format!("{}\n{}\n", text.lines().next().unwrap(), "KOE,1");
    let e = read_csv::<_, CohortKey>(short.as_bytes(), "c.csv").unwrap_err();
    assert_eq!(e.field(), Some("c.csv:2"), "{e}");
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
struct DayRecord {
    day: u32,
    cohort: String,
    impressions: u64,
    iron_fan_ratio: f64,
}

#[test]
fn flat_record_tables_read_back_tagged_with_their_run() {
    // The shape of a per-day table: flat records tagged with policy and seed.
    let rows: Vec<Tagged<DayRecord>> = (0..3)
        .map(|d| Tagged {
            run: RunKey {
                policy: "iron-fan first".into(),
                seed: 7,
            },
            row: DayRecord {
                day: d,
                cohort: "KOE, vertical".into(),
                impressions: 1000 + u64::from(d),
                iron_fan_ratio: 0.1 / f64::from(d + 3),
            },
        })
        .collect();
    let mut csv = Vec::new();
    write_tagged_csv(&mut csv, &rows).unwrap();
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(
        text.starts_with("policy,seed,day,cohort,impressions,iron_fan_ratio\n"),
        "{text}"
    );
    assert_eq!(
        tagged_columns::<DayRecord>().join(","),
        "policy,seed,day,cohort,impressions,iron_fan_ratio"
    );
    assert_eq!(
        read_tagged_csv::<_, DayRecord>(csv.as_slice(), "days.csv").unwrap(),
        rows
    );
    let bad = text.replacen("1001", "x", 1);
    let e = read_tagged_csv::<_, DayRecord>(bad.as_bytes(), "days.csv").unwrap_err();
    assert_eq!(e.field(), Some("days.csv:3.impressions"), "{e}");
    let mut json = Vec::new();
    write_json(&mut json, &rows).unwrap();
    assert!(
        String::from_utf8(json.clone())
            .unwrap()
            .contains("\"policy\": \"iron-fan first\"")
    );
    assert_eq!(read_json::<_, Tagged<DayRecord>>(json.as_slice()).unwrap(), rows);
}

/// Parses a CSV into (header, rows of fields).
fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn experiment_and_sweep_tables_carry_the_estimates() {
    let s = research::tiny(10_000, 4, 1_000);
    let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
    let report = Experiment::new(&s, vec![&ladder as &dyn PushPolicy, &iron])
        .unwrap()
        .replicates(3)
        .run()
        .unwrap();
    let mut out = Vec::new();
    write_experiment_csv(&mut out, &report).unwrap();
    let (header, rows) = parse(&out);
    assert_eq!(
        header[..8],
        [
            "group",
            "metric",
            "public_pool_ladder_mean",
            "public_pool_ladder_low",
            "public_pool_ladder_high",
            "iron_fan_first_mean",
            "iron_fan_first_low",
            "iron_fan_first_high"
        ]
    );
    assert_eq!(header.len(), 2 + 6 + 3);
    let metrics: usize = report.groups().map(|g| g.metrics.len()).sum();
    assert_eq!(rows.len(), metrics);
    let row = rows
        .iter()
        .find(|r| r[0] == "KOE" && r[1] == "per_follower.gmv_yuan")
        .unwrap();
    let m = report.metric("KOE", "per_follower.gmv_yuan").unwrap();
    assert_eq!(row[5].parse::<f64>().unwrap(), m.policies[1].mean);
    assert_eq!(row[8].parse::<f64>().unwrap(), m.differences[1].mean);
    assert_eq!(row[9].parse::<f64>().unwrap(), m.differences[1].low.unwrap());

    let sweep = Sweep::new(&s, vec![Axis::new("cohorts.waist.iron_fan_ratio", [0.05, 0.3])])
        .unwrap()
        .replicates(2)
        .run()
        .unwrap();
    let mut out = Vec::new();
    write_sweep_csv(
        &mut out,
        &sweep,
        &[("waist", "reach_per_follower"), ("platform", "rates.gmv_yuan")],
    )
    .unwrap();
    let (header, rows) = parse(&out);
    assert_eq!(header.len(), 2 + 2 * 9);
    assert_eq!(header[1], "cohorts.waist.iron_fan_ratio");
    assert_eq!(header[2], "waist/reach_per_follower/public_pool_ladder_mean");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][1], "0.3");
    let m = sweep.points[1]
        .experiment
        .metric("waist", "reach_per_follower")
        .unwrap();
    assert_eq!(rows[1][5].parse::<f64>().unwrap(), m.policies[1].mean);
    let e = write_sweep_csv(Vec::new(), &sweep, &[("waist", "bogus")]).unwrap_err();
    assert_eq!(e.field(), Some("sweep.metrics"));
}
