//! Table printing shared by the examples.

#![allow(dead_code)]

use feedsim::Scenario;
use feedsim::metrics::{CohortReport, Report};

/// The example's command line, checked against its spec
/// ([`feedsim::cli::SPECS`]) before any work: an unknown option, a repeated
/// one or a value of the wrong kind prints the error and the usage and
/// exits with status 2. `--max-memory SIZE` sets the memory budget
/// ([`feedsim::memory`]).
pub fn args(example: &str) -> feedsim::cli::Args {
    let Some(spec) = feedsim::cli::spec(example) else {
        eprintln!("error: no command-line spec for the example {example}");
        std::process::exit(2)
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    match spec.parse(&raw) {
        Ok(args) => {
            if let Some(bytes) = args.max_memory() {
                feedsim::memory::set_max_memory(Some(bytes));
            }
            args
        }
        Err(e) => {
            eprintln!("error: {e}\nusage: {}", spec.usage);
            std::process::exit(2)
        }
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

type Row = (&'static str, fn(&CohortReport) -> String);

const ROWS: &[Row] = &[
    ("posts", |c| thousands(c.posts)),
    ("posts reaching public pools", |c| thousands(c.posts_reaching_public)),
    ("impressions", |c| thousands(c.tally.impressions)),
    ("unique reach (users)", |c| thousands(c.unique_reach)),
    ("reach per follower", |c| format!("{:.3}", c.reach_per_follower)),
    ("watch-through rate", |c| pct(c.rates.watch_through_rate)),
    ("likes", |c| thousands(c.tally.likes)),
    ("comments", |c| thousands(c.tally.comments)),
    ("shares", |c| thousands(c.tally.shares)),
    ("follows gained", |c| thousands(c.tally.follows)),
    ("product clicks", |c| thousands(c.tally.clicks)),
    ("orders", |c| thousands(c.tally.orders)),
    ("GMV (yuan)", |c| thousands((c.tally.gmv_fen + 50) / 100)),
    ("GMV bought by fans", |c| pct(c.rates.fan_gmv_share)),
    ("conversion (orders / 1k impr.)", |c| {
        format!("{:.3}", c.rates.orders_per_mille)
    }),
    ("impressions on iron fans", |c| pct(c.rates.iron_fan_share)),
    ("impressions on other fans", |c| pct(c.rates.fan_share)),
    ("impressions on the public", |c| pct(c.rates.public_share)),
    ("impressions from followed accounts", |c| pct(c.rates.followed_share)),
    ("offers not shown (no room)", |c| thousands(c.tally.offers_not_shown)),
    ("share of offers not shown", |c| pct(c.rates.not_shown_share)),
];

/// Prints one block per cohort with a column per report (policy).
pub fn print_comparison(scenario: &Scenario, reports: &[Report]) {
    println!(
        "scenario \"{}\", seed {}, {} day(s); response model: {}",
        scenario.name,
        scenario.seed,
        scenario.feed.days,
        reports.first().map_or("", |r| r.model.as_str())
    );
    if let Some(r) = reports.first().filter(|r| r.warmup_days > 0) {
        println!(
            "after a {}-day warm-up under {} (every policy from the same state); the figures cover the {} measured day(s)",
            r.warmup_days,
            r.warmup_policy.as_deref().unwrap_or("?"),
            scenario.feed.days
        );
    }
    for (i, first) in reports[0].cohorts.iter().enumerate() {
        println!(
            "\n== {} ({} creators, {} followers, {} iron fans) ==",
            first.name,
            thousands(first.creators.into()),
            thousands(first.followers),
            pct(first.iron_fan_ratio)
        );
        print!("{:<36}", "");
        for r in reports {
            print!("{:>34}", r.policy);
        }
        println!();
        for (label, f) in ROWS {
            print!("{label:<36}");
            for r in reports {
                print!("{:>34}", f(&r.cohorts[i]));
            }
            println!();
        }
    }
    println!("\n== platform ==");
    for r in reports {
        let p = &r.platform;
        println!(
            "{:<34} offers {:>13}  impressions {:>13}  from followed accounts {}  unique reach {:>11}  orders {:>9}  \
             GMV {:>12} yuan  Gini impressions {:.3}  top-1% creators hold {} of impressions, {} of GMV; \
             top-20% posts hold {} of impressions (KuaiRand-Pure 76.5%), Gini over posts {:.3} (0.729)",
            r.policy,
            thousands(r.attention.offered),
            thousands(p.tally.impressions),
            pct(p.rates.followed_share),
            thousands(p.unique_reach),
            thousands(p.tally.orders),
            thousands((p.tally.gmv_fen + 50) / 100),
            p.impressions_gini,
            pct(p.impressions_top1_share),
            pct(p.gmv_top1_share),
            pct(p.post_impressions_top20_share),
            p.post_impressions_gini,
        );
    }
    println!(
        "\nWhat the figures mean: an impression is one user shown one post; no user sees a post twice, \
         so a post's impressions are its reach, and a cohort's unique reach counts distinct users across its \
         posts. Reach per follower is that unique reach over the cohort's followers at the start. Watch-through \
         is completions per impression; conversion is orders per 1,000 impressions; GMV is orders × price. \
         The last three rows split impressions by the viewer's relation to the creator: under the legacy ladder \
         fans are reached only when the public draw happens to pick them. A push stage makes offers; each \
         viewer's feed ({feed}) ranks the offers of a round and the viewer watches what the session has room for \
         (sessions: KuaiRec's median 42 and mean 66.5 plays a day, spread over the day's slots); offers not shown \
         are lost, never impressions. Responses follow the scenario's response model, whose intercepts are fitted \
         to KuaiRand's per-impression rates under the legacy ladder (cargo run --release --example calibrate).",
        feed = if scenario.attention.mode == feedsim::scenario::AttentionMode::Unlimited {
            "unlimited: every offer watched".to_string()
        } else {
            format!("{:?}", scenario.viewer_feed)
                .split('(')
                .next()
                .unwrap_or("")
                .to_string()
        }
    );
}

/// This process's peak resident memory (Linux `VmHWM`), or 0 where the
/// kernel does not say.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// What a category bonus did: impressions by category and by cohort, with
/// the bonus (`with`) against the same scenario and world without it
/// (`without`), one column pair per policy. A category the bonus names is
/// marked with its ranking and pool weights.
pub fn print_bonus_effect(scenario: &Scenario, with: &[Report], without: &[Report]) {
    let Some(bonus) = &scenario.category_bonus else { return };
    let categories = scenario.feed.categories;
    let (ranking, pools) = (bonus.ranking_weights(categories), bonus.pool_weights(categories));
    let change = |a: u64, b: u64| {
        if b == 0 {
            "–".to_string()
        } else {
            format!("{:+.1}%", 100.0 * (a as f64 / b as f64 - 1.0))
        }
    };
    println!("\n== category bonus: impressions with the bonus against the same world without it ==");
    print!("{:<28}", "category (ranking × pools)");
    for r in with {
        print!(" {:>38}", r.policy);
    }
    println!();
    let by: Vec<(Vec<_>, Vec<_>)> = with
        .iter()
        .zip(without)
        .map(|(a, b)| (a.by_category(categories as usize), b.by_category(categories as usize)))
        .collect();
    for c in 0..categories as usize {
        let w = if ranking[c] != 1.0 || pools[c] != 1.0 {
            format!("{c} ({} × {})", ranking[c], pools[c])
        } else {
            format!("{c}")
        };
        print!("{w:<28}");
        for (a, b) in &by {
            let (x, y) = (a[c].impressions, b[c].impressions);
            print!(
                " {:>38}",
                format!("{} vs {} ({})", thousands(x), thousands(y), change(x, y))
            );
        }
        println!();
    }
    for (i, cohort) in scenario.cohorts.iter().enumerate() {
        print!("{:<28}", format!("cohort {}", cohort.name));
        for (a, b) in with.iter().zip(without) {
            let (x, y) = (a.cohorts[i].tally.impressions, b.cohorts[i].tally.impressions);
            print!(
                " {:>38}",
                format!("{} vs {} ({})", thousands(x), thousands(y), change(x, y))
            );
        }
        println!();
    }
}

/// Where the impressions came from when some offers carry a depth (friend
/// hops): the share through each source, then per depth the impressions,
/// likes, and the branching factor (impressions through likes at depth
/// `d + 1` per like at depth `d`), per policy.
pub fn print_depths(reports: &[Report]) {
    if reports.iter().all(|r| r.platform.by_depth.is_empty()) {
        return;
    }
    println!("\n== where the impressions came from ==");
    for r in reports {
        let p = &r.platform;
        let total = p.tally.impressions.max(1) as f64;
        let shares: Vec<String> = p
            .by_source
            .iter()
            .map(|(k, t)| format!("{k} {:.2}%", 100.0 * t.impressions as f64 / total))
            .collect();
        println!("{}: {}", r.policy, shares.join(", "));
        let friends = p.by_source.get("friends").map_or(0, |t| t.impressions);
        for (d, t) in p.by_depth.iter().enumerate() {
            // At depth 1 the creator's friends are not spawned by likes.
            let through_likes =
                |d: usize| p.by_depth.get(d).map_or(0, |t| t.impressions) - if d == 1 { friends } else { 0 };
            let branching = if t.likes > 0 && d + 1 < p.by_depth.len() {
                format!("{:.2}", through_likes(d + 1) as f64 / t.likes as f64)
            } else {
                "–".to_string()
            };
            println!(
                "  {d} hops: {:>12} impressions, {:>9} likes, {} impressions through likes per like",
                thousands(t.impressions),
                thousands(t.likes),
                branching
            );
        }
    }
}

/// Sharing with commission: per share generation the impressions, shares,
/// orders and GMV through shares, the orders per order of the generation
/// before (the new buyers each buyer's generation brings), and the
/// commission paid and GMV net of it, per policy.
pub fn print_fission(reports: &[Report]) {
    if reports
        .iter()
        .all(|r| !r.platform.by_source_depth.contains_key("share"))
    {
        return;
    }
    println!("\n== sharing with commission ==");
    for r in reports {
        let p = &r.platform;
        let Some(by) = p.by_source_depth.get("share") else {
            continue;
        };
        println!(
            "{}: commission paid {} yuan, GMV {} yuan, net of commission {} yuan",
            r.policy,
            thousands(p.commission_fen / 100),
            thousands(p.tally.gmv_fen / 100),
            thousands((p.tally.gmv_fen - p.commission_fen) / 100)
        );
        // Generation 0: the orders not through shares.
        let orders_before = |g: usize| {
            if g == 1 {
                p.tally.orders - by.iter().skip(1).map(|t| t.orders).sum::<u64>()
            } else {
                by[g - 1].orders
            }
        };
        for (g, t) in by.iter().enumerate().skip(1) {
            let per = if orders_before(g) > 0 {
                format!("{:.4}", t.orders as f64 / orders_before(g) as f64)
            } else {
                "–".to_string()
            };
            println!(
                "  generation {g}: {:>10} impressions, {:>7} shares, {:>6} orders, {:>10} yuan GMV; {per} orders per order of generation {}",
                thousands(t.impressions),
                thousands(t.shares),
                thousands(t.orders),
                thousands(t.gmv_fen / 100),
                g - 1
            );
        }
    }
}

/// Paid traffic's results per policy and cohort, when a report has any:
/// promoted posts, spend, plays bought, follows deposited, orders, GMV and
/// ROI (GMV through bought plays over spend). Counts and yuan, not rates,
/// except the ROI, which is GMV per yuan spent.
pub fn print_paid(reports: &[Report]) {
    if reports.iter().all(|r| !r.platform.by_source.contains_key("paid")) {
        return;
    }
    println!("\n== paid traffic (the commercial domain) ==");
    println!(
        "{:<22} {:<10} {:>9} {:>12} {:>12} {:>9} {:>8} {:>12} {:>8}",
        "policy", "cohort", "promoted", "spend yuan", "plays", "follows", "orders", "GMV yuan", "ROI"
    );
    for r in reports {
        for (i, c) in r.cohorts.iter().enumerate() {
            let Some(t) = c.by_source.get("paid") else { continue };
            // Posts that made paid offers (kept unless posts were streamed).
            let promoted = r
                .posts
                .iter()
                .filter(|p| usize::from(p.cohort) == i)
                .filter(|p| {
                    p.by_source
                        .get("paid")
                        .is_some_and(|t| t.impressions + t.offers_not_shown > 0)
                })
                .count();
            let roi = if t.spend_fen > 0 {
                format!("{:.2}", t.gmv_fen as f64 / t.spend_fen as f64)
            } else {
                "–".to_string()
            };
            println!(
                "{:<22} {:<10} {:>9} {:>12} {:>12} {:>9} {:>8} {:>12} {:>8}",
                r.policy,
                c.name,
                thousands(promoted as u64),
                format!("{:.2}", t.spend_fen as f64 / 100.0),
                thousands(t.impressions),
                thousands(t.follows),
                thousands(t.orders),
                format!("{:.2}", t.gmv_fen as f64 / 100.0),
                roi
            );
        }
    }
    println!(
        "(spend: each post's bought plays × the price, rounded down to the fen; ROI: GMV of the orders placed on bought plays / spend; a campaign ends with its post's push)"
    );
}

/// Per policy and cohort whose product has a purchase interval
/// (`purchase_interval_days`, the industries of DOMAIN.md [002]): orders,
/// repurchases, leads, store visits, fans' share of GMV, fan-group
/// members' share of orders and leads per 30 days, beside the documents'
/// career-education (94% of GMV from fans; over 40% of purchases above
/// 1,000 yuan by members) and used-car (15k leads a month from the private
/// domain, 4 accounts) figures.
pub fn print_industries(scenario: &feedsim::Scenario, reports: &[Report]) {
    let products: Vec<_> = scenario.cohorts.iter().map(|c| c.product).collect();
    // A world with regions prints the brands' table (print_brands) instead.
    if !scenario.users.regions.is_empty() || products.iter().all(|p| p.is_none_or(|p| p.purchase_interval_days == 0)) {
        return;
    }
    let days = f64::from(scenario.feed.days.max(1));
    println!("\n== industries: price, purchase frequency, online or offline (DOMAIN.md [002]) ==");
    println!(
        "{:<22} {:<18} {:>10} {:>9} {:>8} {:>8} {:>11} {:>9} {:>9} {:>11} {:>10} {:>13}",
        "policy",
        "cohort",
        "price",
        "interval",
        "sale",
        "orders",
        "repurchases",
        "leads",
        "visits",
        "fans GMV %",
        "members %",
        "leads / 30 d"
    );
    for r in reports {
        for (c, p) in r.cohorts.iter().zip(&products) {
            let Some(p) = p.filter(|p| p.purchase_interval_days > 0) else {
                continue;
            };
            let t = &c.tally;
            let members = c.by_tier.get(feedsim::metrics::Tier::GroupMember).orders;
            let pct = |n: u64, d: u64| {
                if d == 0 {
                    "–".to_string()
                } else {
                    format!("{:.1}", 100.0 * n as f64 / d as f64)
                }
            };
            println!(
                "{:<22} {:<18} {:>10.0} {:>9} {:>8} {:>8} {:>11} {:>9} {:>9} {:>11} {:>10} {:>13.0}",
                r.policy,
                c.name,
                p.price_yuan,
                p.purchase_interval_days,
                if p.sale == feedsim::scenario::Sale::Online {
                    "online"
                } else {
                    "offline"
                },
                thousands(t.orders),
                thousands(t.repurchases),
                thousands(t.leads),
                thousands(t.store_visits),
                pct(t.fan_gmv_fen + t.new_fan_gmv_fen, t.gmv_fen),
                pct(members, t.orders),
                t.leads as f64 * 30.0 / days,
            );
        }
    }
    println!(
        "(the documents: career education, fans 94% of GMV and, above 1,000 yuan, fan-group members over 40% of purchases; used cars, 4 accounts, 15k leads a month from the private domain, 160k in 14 months. fans GMV: orders by fans and by viewers who followed in the same impression; members: orders by fan-group members; leads / 30 d: leads over the {} posting days, per 30. Outputs, not fitted)",
        scenario.feed.days
    );
}

/// Per policy, every brand (a cohort with a product) in a world with
/// regions: an account matrix ([`feedsim::matrix`]) beside single accounts,
/// with how local each matrix's audience is.
pub fn print_brands(scenario: &feedsim::Scenario, reports: &[Report]) {
    if scenario.users.regions.is_empty() {
        return;
    }
    println!("\n== brands: single accounts and account matrices (feedsim::matrix) ==");
    println!(
        "{:<22} {:<16} {:>8} {:>7} {:>9} {:>11} {:>7} {:>7} {:>7} {:>12} {:>10} {:>9} {:>13} {:>9} {:>8}",
        "policy",
        "brand",
        "accounts",
        "posts",
        "reach",
        "impressions",
        "orders",
        "leads",
        "visits",
        "GMV yuan",
        "GMV/post",
        "iron end",
        "local fans %",
        "buyers %",
        "pop. %"
    );
    for r in reports {
        for (c, params) in r.cohorts.iter().zip(&scenario.cohorts) {
            if params.product.is_none() || (params.matrix.is_none() && c.creators > 1) {
                continue;
            }
            let t = &c.tally;
            let pct = |x: f64| format!("{:.1}", 100.0 * x);
            let (local, buyers, population) = match &c.matrix {
                Some(m) => (
                    format!(
                        "{} → {}",
                        pct(m.local_followers_share_generated),
                        pct(m.local_followers_share_end)
                    ),
                    pct(m.local_buyers_share),
                    pct(m.population_share),
                ),
                None => ("–".into(), "–".into(), "–".into()),
            };
            println!(
                "{:<22} {:<16} {:>8} {:>7} {:>9} {:>11} {:>7} {:>7} {:>7} {:>12} {:>10.0} {:>8.1}% {:>13} {:>9} {:>8}",
                r.policy,
                c.name,
                c.creators,
                thousands(c.posts),
                thousands(c.unique_reach),
                thousands(t.impressions),
                thousands(t.orders),
                thousands(t.leads),
                thousands(t.store_visits),
                thousands(t.gmv_fen / 100),
                t.gmv_fen as f64 / 100.0 / c.posts.max(1) as f64,
                100.0 * c.iron_fan_ratio_end,
                local,
                buyers,
                population,
            );
        }
    }
    println!(
        "(single accounts: cohorts of one account with a product. local fans: followers living in their account's region, generated → end; buyers %: buyers in their account's region; pop. %: the same share with no lean at all (the accounts' regions' share of users). The documents give no figure for matrices: every lean is our assumption, and these are the model's outputs)"
    );
}

/// The live sessions' ratios per policy and hosting cohort, beside the
/// liquor-brand case's (DOMAIN.md [002]), when the run had live sessions.
pub fn print_live(reports: &[Report]) {
    if reports.iter().all(|r| r.posts.iter().all(|p| !p.live)) {
        return;
    }
    println!("\n== live sessions: the model's ratios beside the liquor-brand case (DOMAIN.md [002]) ==");
    println!(
        "{:<22} {:<14} {:>8} {:>9} {:>9} {:>10} {:>10} {:>11} {:>10} {:>10} {:>9} {:>12}",
        "policy",
        "cohort",
        "sessions",
        "viewers",
        "fans %",
        "members %",
        "stay ×",
        "interact ×",
        "fans GMV %",
        "old fans %",
        "orders",
        "GMV yuan"
    );
    println!(
        "{:<22} {:<14} {:>8} {:>9} {:>9} {:>10} {:>10} {:>11} {:>10} {:>10} {:>9} {:>12}",
        "the document", "liquor brand", "", "", "50.0", "", "6.00", "1.50", "83.0", "59.0", "", ""
    );
    for r in reports {
        for c in &r.cohorts {
            let l = feedsim::metrics::LiveSummary::of_report(r, Some(&c.name));
            if l.sessions == 0 {
                continue;
            }
            let x = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}"));
            println!(
                "{:<22} {:<14} {:>8} {:>9} {:>9.1} {:>10.1} {:>10} {:>11} {:>10.1} {:>10.1} {:>9} {:>12.0}",
                r.policy,
                c.name,
                l.sessions,
                thousands(l.viewers),
                100.0 * l.fan_share_of_viewers,
                100.0 * l.member_share_of_viewers,
                x(l.fan_stay_ratio),
                x(l.fan_interaction_ratio),
                100.0 * l.fan_share_of_gmv,
                100.0 * l.old_fan_share_of_gmv,
                thousands(l.orders),
                l.gmv_fen as f64 / 100.0,
            );
        }
    }
    println!(
        "(fans: followed the host when they entered; – : no non-fan viewer; stay ×: a fan's mean stay over a non-fan's (\"500% longer\" = 6); interact ×: likes, comments and shares per viewer, fans over non-fans (\"50% more\" = 1.5); fans GMV: orders by fans and by viewers who followed in the session; old fans: followed before the session's day. Every ratio is the model's output: nothing is fitted to the document)"
    );
}

/// Where the orders and GMV came from, per policy and cohort, when the
/// scenario has shelf and search (`[shelf_search]`): the feed, paid
/// traffic, the shelf and search, with each channel's share of GMV beside
/// Douyin's reported shelf-scene shares (a reference, not a target); then
/// the searches, shelf visits and the lag from seeding to order.
pub fn print_channels(reports: &[Report]) {
    if reports.iter().all(|r| r.platform.shelf_search.is_none()) {
        return;
    }
    println!("\n== orders and GMV by channel (shelf and search: \"people find goods\") ==");
    println!(
        "{:<22} {:<10} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8} {:>8} {:>8} {:>14}",
        "policy", "cohort", "feed", "paid", "shelf", "search", "GMV yuan", "feed %", "shelf %", "search %", "listings"
    );
    for r in reports {
        let rows = r
            .cohorts
            .iter()
            .map(|c| (c.name.as_str(), &c.by_source))
            .chain(std::iter::once(("all", &r.platform.by_source)));
        for (name, by) in rows {
            let ch = by.by_channel();
            let pct = |t: &feedsim::metrics::Tally| format!("{:.1}", 100.0 * ch.gmv_share(t));
            println!(
                "{:<22} {:<10} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8} {:>8} {:>8} {:>14}",
                r.policy,
                name,
                thousands(ch.feed.orders),
                thousands(ch.paid.orders),
                thousands(ch.shelf.orders),
                thousands(ch.search.orders),
                format!("{:.0}", ch.gmv_fen() as f64 / 100.0),
                pct(&ch.feed),
                pct(&ch.shelf),
                pct(&ch.search),
                thousands(ch.shelf.impressions + ch.search.impressions),
            );
        }
    }
    println!(
        "(orders per channel; GMV shares of the feed (posts of every unpaid source), the shelf and search; Douyin reported shelf scenes at ~30% of GMV in 2023 and ~40% in 2024, DOMAIN.md: a reference, not a target)"
    );
    println!(
        "\n{:<22} {:>10} {:>12} {:>14} {:>16} {:>16}  orders by days from seeding to order (0, 1, 2, ...)",
        "policy", "searches", "shelf visits", "median lag d", "standing orders", "users w/ intent"
    );
    for r in reports {
        let Some(s) = &r.platform.shelf_search else { continue };
        let lags: Vec<String> = s.orders_by_lag_days.iter().map(|&n| thousands(n)).collect();
        println!(
            "{:<22} {:>10} {:>12} {:>14} {:>16} {:>16}  {}",
            r.policy,
            thousands(s.searches),
            thousands(s.shelf_visits),
            s.median_lag_days().map_or("–".to_string(), |d| d.to_string()),
            thousands(s.standing_orders),
            thousands(s.users_with_intent_end),
            lags.join(", ")
        );
    }
}

/// Leads and store visits per policy and cohort, when a cohort's product
/// sells offline (`sale = "offline"`): counts, and store visits per lead.
pub fn print_offline(reports: &[Report]) {
    if reports.iter().all(|r| r.platform.tally.leads == 0) {
        return;
    }
    println!("\n== products sold offline: leads, then store visits ==");
    println!(
        "{:<22} {:<10} {:>10} {:>10} {:>14}",
        "policy", "cohort", "leads", "visits", "visits / lead"
    );
    for r in reports {
        for c in r.cohorts.iter().filter(|c| c.tally.leads > 0) {
            let t = &c.tally;
            println!(
                "{:<22} {:<10} {:>10} {:>10} {:>14}",
                r.policy,
                c.name,
                thousands(t.leads),
                thousands(t.store_visits),
                format!("{:.3}", t.store_visits as f64 / t.leads as f64)
            );
        }
    }
}
