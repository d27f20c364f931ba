//! Scenario parameters by dotted path, for sweeps.

use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// Sets the number at `path` in a scenario and returns the changed,
/// validated scenario.
///
/// The path is a dotted path into the scenario as its TOML file spells it:
/// `users.count`, `feed.interest_targeting`,
/// `public_pool_ladder.pools.0.gate.threshold`. An array element is its
/// index (`cohorts.2`, or `cohorts[2]`), or for arrays of named tables
/// (cohorts) its name (`cohorts.KOE.iron_fan_ratio`). The field must exist
/// in the scenario and hold a number; an integer field takes only whole
/// values.
///
/// Errors: [`Error::Invalid`] naming `path` when the path does not lead to a
/// number or the value does not fit the field; the scenario's own
/// validation error (naming the field, e.g. `cohorts[2].iron_fan_ratio`)
/// when the value is out of range. Integers in the scenario must fit in
/// `i64` (TOML's integers), which excludes seeds of 2^63 and above.
///
/// ```
/// use feedsim::experiment::set_path;
/// use feedsim::Scenario;
/// let s = Scenario::default_scenario();
/// let t = set_path(&s, "cohorts.KOE.iron_fan_ratio", 0.25)?;
/// assert_eq!(t.cohorts[2].iron_fan_ratio, 0.25);
/// let t = set_path(&s, "public_pool_ladder.pools[0].size", 500.0)?;
/// assert_eq!(t.public_pool_ladder.pools[0].size, 500);
/// assert!(set_path(&s, "cohorts.KOE.iron_fan_ratio", 1.5).is_err());
/// assert_eq!(set_path(&s, "users.bogus", 1.0).unwrap_err().field(), Some("users.bogus"));
/// # Ok::<(), feedsim::Error>(())
/// ```
pub fn set_path(scenario: &Scenario, path: &str, value: f64) -> Result<Scenario> {
    let mut root = scenario_value(scenario, path, value)?;
    set_number(&mut root, path, value)?;
    let s = scenario_from_value(root, path, value)?;
    s.validate()?;
    Ok(s)
}

/// The scenario as a TOML value; errors name `path` and `value`, the
/// setting that needed it.
pub(super) fn scenario_value(scenario: &Scenario, path: &str, value: f64) -> Result<toml::Value> {
    toml::Value::try_from(scenario)
        .map_err(|e| Error::invalid(path, value, format!("the scenario cannot be written as TOML: {e}")))
}

/// The scenario a TOML value holds, not yet validated; errors name `path`
/// and `value`, the setting that made the value.
pub(super) fn scenario_from_value(root: toml::Value, path: &str, value: f64) -> Result<Scenario> {
    root.try_into()
        .map_err(|e: toml::de::Error| Error::invalid(path, value, e.message().to_string()))
}

/// Sets the number at `path` in a scenario's TOML value (see [`set_path`]),
/// checking only that the path leads to a number of the right kind.
pub(super) fn set_number(root: &mut toml::Value, path: &str, value: f64) -> Result<()> {
    let bad = |reason: String| Error::invalid(path, value, reason);
    let normalized = path.replace('[', ".").replace(']', "");
    let segments: Vec<&str> = normalized.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(bad("is not a dotted path such as `cohorts.2.iron_fan_ratio`".into()));
    }
    let mut node = root;
    for (depth, seg) in segments.iter().enumerate() {
        let here = if depth == 0 {
            "the scenario".to_string()
        } else {
            format!("`{}`", segments[..depth].join("."))
        };
        node = match node {
            toml::Value::Table(t) => {
                let keys = t.keys().cloned().collect::<Vec<_>>().join(", ");
                t.get_mut(*seg)
                    .ok_or_else(|| bad(format!("{here} has no field `{seg}` (it has: {keys})")))?
            }
            toml::Value::Array(a) => {
                let len = a.len();
                let i = match seg.parse::<usize>() {
                    Ok(i) if i < len => i,
                    Ok(i) => return Err(bad(format!("{here} has {len} elements, not {}", i + 1))),
                    Err(_) => a
                        .iter()
                        .position(|v| v.get("name").and_then(|n| n.as_str()) == Some(*seg))
                        .ok_or_else(|| bad(format!("{here} has no element named `{seg}`")))?,
                };
                &mut a[i]
            }
            _ => return Err(bad(format!("{here} is a value, not a table or array"))),
        };
    }
    *node = match node {
        toml::Value::Integer(_) => {
            if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e18 {
                toml::Value::Integer(value as i64)
            } else {
                return Err(bad("is a whole-number field".into()));
            }
        }
        toml::Value::Float(_) => toml::Value::Float(value),
        other => return Err(bad(format!("holds {}, not a number", other.type_str()))),
    };
    Ok(())
}
