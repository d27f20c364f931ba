//! SVG charts of a policy comparison and of a sweep.
//!
//! Writes three charts into `--out DIR` (default `target/charts`):
//!
//! - `cohorts.svg`: unique reach and GMV of each cohort under each policy,
//!   means over replicates with 95% intervals (log scale: the cohorts
//!   differ by orders of magnitude; a whisker whose lower end is below the
//!   axis is cut there);
//! - `funnel.svg`: the platform's conversion funnel, impressions → watches →
//!   product clicks → orders, under each policy (log scale);
//! - `sweep.svg`: a sweep curve per policy with its 95% band. From
//!   `--sweep FILE.json` (written by the `sweep` example)
//!   and `--metric GROUP/METRIC` (default
//!   `waist/per_follower.gmv_yuan`), or, without `--sweep`, from a small
//!   built-in sweep of the waist cohort's iron-fan ratio. For a sweep of
//!   several axes, the curve runs along the first axis with the others at
//!   their first values. The file must be a whole sweep: a shard's file is
//!   refused (merge the shards first with `sweep --merge`).
//!
//! `--metric` and `--sweep` are checked before anything long runs (without
//! `--sweep`, on one run of a tiny copy of the built-in sweep's scenario).
//!
//! ```sh
//! cargo run --release --example charts
//! cargo run --release --example sweep -- --users 300000 --axis cohorts.waist.iron_fan_ratio=0.05,0.3,0.6 --out target/ifr
//! cargo run --release --example charts -- --sweep target/ifr.json --metric waist/reach_per_follower
//! ```
//!
//! The comparison runs the default scenario scaled to `--users` users
//! (default 300,000) with `--replicates` replicates (default 4).

use std::path::{Path, PathBuf};

use feedsim::Scenario;
use feedsim::experiment::{Axis, Estimate, Experiment, ExperimentReport, MetricSummary, Sweep, SweepReport};
use feedsim::policy::PushPolicy;
use plotters::coord::Shift;
use plotters::prelude::*;

#[path = "research/mod.rs"]
mod research;

const COLORS: [RGBColor; 4] = [
    RGBColor(0x44, 0x77, 0xaa),
    RGBColor(0xee, 0x66, 0x77),
    RGBColor(0x22, 0x88, 0x33),
    RGBColor(0xcc, 0xbb, 0x44),
];

type Draw<T> = Result<T, Box<dyn std::error::Error>>;

/// Grouped bars on a log scale with interval whiskers: `values[group][policy]`.
fn grouped_bars(
    area: &DrawingArea<SVGBackend, Shift>,
    title: &str,
    y_label: &str,
    groups: &[String],
    policies: &[String],
    values: &[Vec<Estimate>],
) -> Draw<()> {
    let positive = |x: f64| x.max(1e-9);
    let all = values.iter().flatten();
    let hi = all.clone().map(|e| e.high.unwrap_or(e.mean)).fold(1.0, f64::max) * 2.0;
    let lo = all
        .map(|e| e.mean)
        .filter(|&m| m > 0.0)
        .fold(f64::INFINITY, f64::min)
        .min(hi / 10.0)
        / 2.0;
    let n = groups.len();
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, (lo..hi).log_scale())?;
    let names = groups.to_vec();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&move |x| {
            let i = x.round();
            if (x - i).abs() < 0.05 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(y_label)
        .y_label_formatter(&|y| research::thousands(*y as u64))
        .draw()?;
    let width = 0.8 / policies.len() as f64;
    for (k, policy) in policies.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let bars = values.iter().enumerate().map(|(i, v)| {
            let x0 = i as f64 - 0.4 + k as f64 * width;
            Rectangle::new([(x0, lo), (x0 + width * 0.9, positive(v[k].mean))], color.filled())
        });
        chart
            .draw_series(bars)?
            .label(policy.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
        for (i, v) in values.iter().enumerate() {
            if let (Some(l), Some(h)) = (v[k].low, v[k].high) {
                let x = i as f64 - 0.4 + (k as f64 + 0.45) * width;
                let (l, h) = (positive(l.max(lo)), positive(h));
                chart.draw_series([
                    PathElement::new(vec![(x, l), (x, h)], BLACK.stroke_width(1)),
                    PathElement::new(
                        vec![(x - width * 0.15, h), (x + width * 0.15, h)],
                        BLACK.stroke_width(1),
                    ),
                    PathElement::new(
                        vec![(x - width * 0.15, l), (x + width * 0.15, l)],
                        BLACK.stroke_width(1),
                    ),
                ])?;
            }
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}

fn cohort_chart(report: &ExperimentReport, path: &Path) -> Draw<()> {
    let root = SVGBackend::new(path, (1100, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(550);
    let groups: Vec<String> = report.cohorts.iter().map(|c| c.name.clone()).collect();
    for (area, metric, title, unit) in [
        (
            &left,
            "unique_reach",
            "Unique reach by cohort",
            "distinct users reached per run",
        ),
        (&right, "rates.gmv_yuan", "GMV by cohort", "GMV per run (yuan)"),
    ] {
        let title = format!(
            "{title} ({} replicates, {:.0}% CI)",
            report.replicates,
            100.0 * report.confidence
        );
        let values: Vec<Vec<Estimate>> = report
            .cohorts
            .iter()
            .map(|c| Ok(find_metric(report, &c.name, metric)?.policies.clone()))
            .collect::<Result<_, String>>()?;
        grouped_bars(area, &title, unit, &groups, &report.policies, &values)?;
    }
    root.present()?;
    Ok(())
}

fn funnel_chart(report: &ExperimentReport, path: &Path) -> Draw<()> {
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let steps = [
        ("impressions", "tally.impressions"),
        ("watches", "tally.watches"),
        ("product clicks", "tally.clicks"),
        ("orders", "tally.orders"),
    ];
    let groups: Vec<String> = steps.iter().map(|s| s.0.to_string()).collect();
    let values: Vec<Vec<Estimate>> = steps
        .iter()
        .map(|(_, m)| Ok(find_metric(report, "platform", m)?.policies.clone()))
        .collect::<Result<_, String>>()?;
    grouped_bars(
        &root,
        &format!(
            "Conversion funnel, whole platform ({} replicates, {:.0}% CI)",
            report.replicates,
            100.0 * report.confidence
        ),
        "events per run",
        &groups,
        &report.policies,
        &values,
    )?;
    root.present()?;
    Ok(())
}

/// `group/metric` of an experiment report, or what the report has instead.
fn find_metric<'r>(report: &'r ExperimentReport, group: &str, metric: &str) -> Result<&'r MetricSummary, String> {
    let Some(g) = report.group(group) else {
        let groups: Vec<&str> = report.groups().map(|g| g.name.as_str()).collect();
        return Err(format!("no group {group:?} (groups: {})", groups.join(", ")));
    };
    g.metric(metric).ok_or_else(|| {
        let metrics: Vec<&str> = g.metrics.iter().map(|m| m.name.as_str()).collect();
        format!(
            "group {group} has no metric {metric:?} (metrics: {})",
            metrics.join(", ")
        )
    })
}

/// Whether `report` is a whole sweep that [`sweep_chart`] can draw for
/// `group/metric`: cheap, so a bad `--sweep` or `--metric` fails before
/// any long run.
fn check_sweep(report: &SweepReport, group: &str, metric: &str) -> Result<(), String> {
    if let Some(shard) = report.shard {
        return Err(format!(
            "this is shard {shard} of a sweep, not the whole sweep: merge every shard first \
             (`sweep --merge SHARD.json... --out PREFIX`) and chart the merged file"
        ));
    }
    let d = &report.definition;
    if d.axes.is_empty() || report.points.is_empty() {
        return Err("the sweep has no axes or no points".into());
    }
    for p in &report.points {
        if p.values.len() != d.axes.len() {
            return Err(format!(
                "point {} has {} values for {} axes",
                p.index,
                p.values.len(),
                d.axes.len()
            ));
        }
        let m = find_metric(&p.experiment, group, metric).map_err(|e| format!("point {}: {e}", p.index))?;
        if m.policies.len() != d.policies.len() {
            return Err(format!(
                "point {} has {} policies for the sweep's {}",
                p.index,
                m.policies.len(),
                d.policies.len()
            ));
        }
    }
    Ok(())
}

/// Checks that runs of `scenario` report `group/metric`, from one run of a
/// tiny copy of it (same cohorts and settings, a few thousand users): the
/// metric names depend only on the scenario's shape, not its size.
fn check_metric(scenario: &Scenario, group: &str, metric: &str) -> Draw<()> {
    let mut tiny = scenario.clone();
    tiny.users.count = tiny.users.count.min(5_000);
    for c in &mut tiny.cohorts {
        c.creators = c.creators.min(2);
        c.followers.max = c.followers.max.min(500);
        c.followers.min = c.followers.min.min(c.followers.max / 2);
    }
    let ladder = tiny.public_pool_ladder.clone();
    let probe = Experiment::new(&tiny, vec![&ladder as &dyn PushPolicy])?
        .replicates(1)
        .run()?;
    find_metric(&probe, group, metric)?;
    Ok(())
}

fn sweep_chart(report: &SweepReport, group: &str, metric: &str, path: &Path) -> Draw<()> {
    // Every point has the metric and one value per axis.
    check_sweep(report, group, metric)?;
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let axis = &report.definition.axes[0];
    // With more than one axis, the curve along the first axis with the
    // other axes at their values in the first point.
    let first = &report.points[0];
    let slice: Vec<_> = report
        .points
        .iter()
        .filter(|p| p.values[1..] == first.values[1..])
        .collect();
    let fixed: Vec<String> = report.definition.axes[1..]
        .iter()
        .zip(&first.values[1..])
        .map(|(a, v)| format!("{} = {v}", a.path))
        .collect();
    let xs: Vec<f64> = slice.iter().map(|p| p.values[0]).collect();
    let series: Vec<Vec<Estimate>> = (0..report.definition.policies.len())
        .map(|k| {
            slice
                .iter()
                .map(|p| Ok(find_metric(&p.experiment, group, metric)?.policies[k]))
                .collect::<Result<_, String>>()
        })
        .collect::<Result<_, _>>()?;
    let ys = series
        .iter()
        .flatten()
        .flat_map(|e| [e.low.unwrap_or(e.mean), e.high.unwrap_or(e.mean)]);
    let (y0, y1) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
    let pad = (y1 - y0).abs().max(1e-9) * 0.08;
    let (x0, x1) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    let mut chart = ChartBuilder::on(&root)
        .caption(
            if fixed.is_empty() {
                format!("{group}: {metric}")
            } else {
                format!("{group}: {metric} ({})", fixed.join(", "))
            },
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1.max(x0 + 1e-9), (y0 - pad)..(y1 + pad))?;
    chart
        .configure_mesh()
        .x_desc(axis.path.as_str())
        .y_desc(format!(
            "mean over {} replicates, {:.0}% band",
            report.definition.replicates,
            100.0 * report.definition.confidence
        ))
        .draw()?;
    for (k, policy) in report.definition.policies.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let s = &series[k];
        if s.iter().all(|e| e.low.is_some()) {
            let band: Vec<(f64, f64)> = xs
                .iter()
                .zip(s)
                .map(|(&x, e)| (x, e.high.unwrap_or(e.mean)))
                .chain(xs.iter().zip(s).rev().map(|(&x, e)| (x, e.low.unwrap_or(e.mean))))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.2).filled())))?;
        }
        chart
            .draw_series(LineSeries::new(
                xs.iter().zip(s).map(|(&x, e)| (x, e.mean)),
                color.stroke_width(2),
            ))?
            .label(policy.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
        chart.draw_series(
            xs.iter()
                .zip(s)
                .map(|(&x, e)| Circle::new((x, e.mean), 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() -> Draw<()> {
    let args = research::args("charts");
    let out = PathBuf::from(research::flag(&args, "out").unwrap_or_else(|| "target/charts".into()));
    std::fs::create_dir_all(&out)?;
    let users: u32 = research::parsed(&args, "users", 300_000);
    let replicates: u32 = research::parsed(&args, "replicates", 4);
    let s = research::scaled_default(users)?;
    let small = research::scaled_default(users.min(100_000))?;

    // The sweep's inputs are checked before the long runs.
    let metric = research::flag(&args, "metric").unwrap_or_else(|| "waist/per_follower.gmv_yuan".into());
    let Some((group, metric)) = metric.split_once('/') else {
        return Err(format!("--metric {metric}: expected GROUP/METRIC").into());
    };
    let loaded = match research::flag(&args, "sweep") {
        Some(file) => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("--sweep {file}: {e}"))?;
            let report = SweepReport::from_json(&text).map_err(|e| format!("--sweep {file}: {e}"))?;
            check_sweep(&report, group, metric).map_err(|e| format!("--sweep {file}: {e}"))?;
            Some(report)
        }
        None => {
            check_metric(&small, group, metric).map_err(|e| format!("--metric {group}/{metric}: {e}"))?;
            None
        }
    };

    let (ladder, iron) = (s.public_pool_ladder.clone(), s.iron_fan_first());
    let experiment = Experiment::new(&s, vec![&ladder as &dyn PushPolicy, &iron])?.replicates(replicates);
    let bar = research::progress(2 * replicates as usize, "comparison");
    let report = experiment.run_with(research::on_run(&bar))?;
    bar.finish_and_clear();
    cohort_chart(&report, &out.join("cohorts.svg"))?;
    funnel_chart(&report, &out.join("funnel.svg"))?;

    let sweep = match loaded {
        Some(report) => report,
        None => {
            let sweep = Sweep::new(
                &small,
                vec![Axis::new("cohorts.waist.iron_fan_ratio", [0.05, 0.2, 0.4, 0.6])],
            )?
            .replicates(replicates);
            let bar = research::progress(4 * 2 * replicates as usize, "sweep");
            let report = sweep.run_with(research::on_sweep(&bar))?;
            bar.finish_and_clear();
            report
        }
    };
    sweep_chart(&sweep, group, metric, &out.join("sweep.svg"))?;
    for f in ["cohorts.svg", "funnel.svg", "sweep.svg"] {
        println!("{}", out.join(f).display());
    }
    Ok(())
}
