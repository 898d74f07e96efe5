//! Values of one grid axis (method §4): a list, or a range written as a table:
//! `{ log2 = [a, b], step = s }` (2^a, 2^(a+s), ... up to 2^b), `{ log10 = [a, b], num = n }`
//! (n values log-spaced from 10^a to 10^b), `{ linear = [a, b], num = n }` or
//! `{ linear = [a, b], step = s }` (default step 1).
//!
//! Generated floats are rounded to 12 significant digits, so the same range gives the same
//! values (and so the same run ids) on every platform, whatever its `pow`.

use toml::Value;

/// Round to 12 significant digits.
pub fn canonical(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.11e}").parse().unwrap_or(x)
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// A float that is a whole number becomes a TOML integer (so `p` or a seed can be a range).
fn value_of(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::Integer(x as i64)
    } else {
        Value::Float(x)
    }
}

fn pair(v: &Value, key: &str) -> Result<(f64, f64), String> {
    match v
        .as_array()
        .map(|a| a.iter().map(number).collect::<Option<Vec<f64>>>())
    {
        Some(Some(ab)) if ab.len() == 2 => Ok((ab[0], ab[1])),
        _ => Err(format!("`{key}` takes two numbers [start, stop]")),
    }
}

/// Inclusive arithmetic progression from `a` to `b` by `step` (tolerant to rounding at `b`).
fn progression(a: f64, b: f64, step: f64) -> Result<Vec<f64>, String> {
    if !(step.is_finite() && step > 0.0) {
        return Err(format!("step must be a positive number (got {step})"));
    }
    if b < a {
        return Err(format!(
            "the range [{a}, {b}] is empty: stop must be >= start"
        ));
    }
    // Counted in floats: a tiny step would overflow an integer count (and wrap to no runs).
    let count = ((b - a) / step + 1e-9).floor() + 1.0;
    if !count.is_finite() || count > MAX_VALUES as f64 {
        return Err(format!(
            "the range [{a}, {b}] with step {step} gives {count:.3e} values; at most 1,000,000 per axis"
        ));
    }
    Ok((0..count as usize).map(|k| a + k as f64 * step).collect())
}

/// At most this many values per axis (checked before any is allocated).
pub const MAX_VALUES: usize = 1_000_000;

fn spaced(a: f64, b: f64, num: usize) -> Vec<f64> {
    if num == 1 {
        return vec![a];
    }
    (0..num)
        .map(|k| a + (b - a) * k as f64 / (num - 1) as f64)
        .collect()
}

/// Expand one axis value (list, range table or scalar) into its values.
pub fn expand(v: &Value) -> Result<Vec<Value>, String> {
    match v {
        Value::Array(items) => {
            if items.is_empty() {
                return Err("an empty list gives no runs".into());
            }
            Ok(items.clone())
        }
        Value::Table(t) => {
            let kinds: Vec<&str> = ["log2", "log10", "linear"]
                .into_iter()
                .filter(|k| t.contains_key(*k))
                .collect();
            let [kind] = kinds[..] else {
                return Err("a range table has exactly one of `log2`, `log10`, `linear`".into());
            };
            for key in t.keys() {
                if ![kind, "step", "num"].contains(&key.as_str()) {
                    return Err(format!(
                        "unknown range key `{key}` (expected {kind}, step or num)"
                    ));
                }
            }
            let (a, b) = pair(&t[kind], kind)?;
            if !(a.is_finite() && b.is_finite()) {
                return Err(format!(
                    "the ends of a `{kind}` range must be finite numbers (got [{a}, {b}])"
                ));
            }
            let step = t
                .get("step")
                .map(|s| number(s).ok_or("`step` must be a number"));
            let num = t.get("num").map(|n| match n {
                Value::Integer(i) if *i >= 1 && *i as u64 <= MAX_VALUES as u64 => Ok(*i as usize),
                Value::Integer(i) if *i >= 1 => Err("`num` is at most 1,000,000 per axis"),
                _ => Err("`num` must be a positive integer"),
            });
            let exponents = match (step, num) {
                (Some(_), Some(_)) => return Err("give `step` or `num`, not both".into()),
                (Some(s), None) => progression(a, b, s?)?,
                (None, Some(n)) => spaced(a, b, n?),
                (None, None) if kind == "linear" => progression(a, b, 1.0)?,
                (None, None) => return Err(format!("`{kind}` needs `step` or `num`")),
            };
            Ok(exponents
                .into_iter()
                .map(|e| match kind {
                    "log2" => canonical(2f64.powf(e)),
                    "log10" => canonical(10f64.powf(e)),
                    _ => canonical(e),
                })
                .map(value_of)
                .collect())
        }
        scalar => Ok(vec![scalar.clone()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(s: &str) -> Vec<f64> {
        let v: toml::Table = toml::from_str(&format!("x = {s}")).unwrap();
        expand(&v["x"])
            .unwrap()
            .iter()
            .map(|v| number(v).unwrap())
            .collect()
    }

    fn err(s: &str) -> String {
        let v: toml::Table = toml::from_str(&format!("x = {s}")).unwrap();
        expand(&v["x"]).unwrap_err()
    }

    #[test]
    fn ranges() {
        assert_eq!(
            floats("{ log2 = [-12, -10], step = 1 }"),
            vec![2f64.powi(-12), 2f64.powi(-11), 2f64.powi(-10)]
        );
        let half = floats("{ log2 = [-12, -2], step = 0.5 }");
        assert_eq!(half.len(), 21);
        assert_eq!(half[1], canonical(2f64.powf(-11.5)));
        assert_eq!(
            floats("{ log10 = [0, 2], num = 3 }"),
            vec![1.0, 10.0, 100.0]
        );
        assert_eq!(floats("{ linear = [0, 4] }"), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(floats("{ linear = [1, 2], num = 3 }"), vec![1.0, 1.5, 2.0]);
        assert_eq!(
            floats("{ linear = [0, 1], step = 0.1 }").len(),
            11,
            "stop included despite rounding"
        );
        assert_eq!(floats("[3, 1.5]"), vec![3.0, 1.5]);
    }

    #[test]
    fn whole_numbers_become_integers() {
        let v: toml::Table = toml::from_str("x = { linear = [256, 1024], step = 256 }").unwrap();
        assert_eq!(
            expand(&v["x"]).unwrap(),
            vec![
                Value::Integer(256),
                Value::Integer(512),
                Value::Integer(768),
                Value::Integer(1024)
            ]
        );
    }

    #[test]
    fn bad_ranges_say_why() {
        assert!(err("{ log2 = [0, 1] }").contains("needs `step` or `num`"));
        assert!(err("{ log2 = [0, 1], num = 2, step = 1 }").contains("not both"));
        assert!(err("{ log2 = [1, 0], step = 1 }").contains("empty"));
        assert!(err("{ log2 = [0], step = 1 }").contains("two numbers"));
        assert!(err("{ linear = [0, 1], stride = 1 }").contains("unknown range key `stride`"));
        assert!(err("{ log2 = [0, 1], log10 = [0, 1], num = 2 }").contains("exactly one"));
        assert!(err("[]").contains("empty list"));
        assert!(err("{ linear = [0, 1], step = 0 }").contains("positive"));
        // Non-finite ends: an error, not an empty or one-run axis (issue #12, case 7).
        for bad in [
            "{ log2 = [-16, inf], step = 0.5 }",
            "{ log2 = [-16, nan], step = 0.5 }",
            "{ linear = [-inf, 0], num = 3 }",
        ] {
            assert!(err(bad).contains("must be finite"), "{bad}: {}", err(bad));
        }
        // A tiny step is too many values, not zero runs (issue #23, case 4); a huge `num` is
        // refused before anything is allocated (case 5).
        let e = err("{ linear = [0.001, 1], step = 1e-320 }");
        assert!(e.contains("at most 1,000,000 per axis"), "{e}");
        for num in ["1000000000000", "50000000", "1000001"] {
            let e = err(&format!("{{ log10 = [-3, -1], num = {num} }}"));
            assert!(e.contains("`num` is at most 1,000,000"), "{num}: {e}");
        }
        assert_eq!(
            floats("{ linear = [0, 1], num = 1000000 }").len(),
            1_000_000
        );
    }

    #[test]
    fn canonical_rounding() {
        assert_eq!(canonical(0.1 + 0.2), 0.3);
        assert_eq!(canonical(2f64.powi(-12)), 2f64.powi(-12));
    }
}
