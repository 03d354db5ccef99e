//! ISO 8601 durations for timer boundary events: the fixed-length subset `PnW` / `PnDTnHnMnS`
//! (fractional seconds allowed), in milliseconds.
//!
//! Years and months are refused: their length depends on the calendar, and a timer must mean the
//! same wait whenever it starts.

/// The longest timer accepted (100 years of 365 days), so adding it to a timestamp cannot overflow.
/// What a timer's `timeDuration` may be, for designers (the one home of this sentence).
pub const DURATION_HELP: &str = "An ISO 8601 duration of fixed length: PnW, or PnDTnHnMnS (any part may be left out, seconds may be fractional), e.g. PT5M, PT1H30M, P1D, P2W. P1Y and P1M are refused: their length is not fixed.";

pub const MAX_DURATION_MS: u64 = 36_500 * DAY_MS;

const SECOND_MS: u64 = 1_000;
const MINUTE_MS: u64 = 60 * SECOND_MS;
const HOUR_MS: u64 = 60 * MINUTE_MS;
const DAY_MS: u64 = 24 * HOUR_MS;
const WEEK_MS: u64 = 7 * DAY_MS;

/// Parses an ISO 8601 duration (`PT15M`, `P1DT2H`, `PT0.5S`, `P2W`) into milliseconds. The error
/// says what is wrong in words a designer can act on.
pub fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the duration is empty; write e.g. PT10M for ten minutes".into());
    }
    if t.starts_with('-') {
        return Err(format!("`{t}`: a timer duration cannot be negative"));
    }
    let upper = t.to_ascii_uppercase();
    let Some(body) = upper.strip_prefix('P') else {
        return Err(format!(
            "`{t}` is not an ISO 8601 duration: it must start with `P` (e.g. PT10M)"
        ));
    };
    if body.is_empty() {
        return Err(format!(
            "`{t}`: `P` must be followed by at least one amount"
        ));
    }
    let (date_part, time_part) = match body.split_once('T') {
        Some((d, tp)) => {
            if tp.is_empty() {
                return Err(format!(
                    "`{t}`: `T` must be followed by hours, minutes or seconds"
                ));
            }
            (d, Some(tp))
        }
        None => (body, None),
    };
    let mut total: u64 = 0;
    let date_units: &[(char, u64)] = &[('W', WEEK_MS), ('D', DAY_MS)];
    let time_units: &[(char, u64)] = &[('H', HOUR_MS), ('M', MINUTE_MS), ('S', SECOND_MS)];
    total = add_components(t, date_part, date_units, false, total)?;
    if let Some(tp) = time_part {
        total = add_components(t, tp, time_units, true, total)?;
    }
    if total == 0 {
        return Err(format!("`{t}`: a timer duration must be longer than zero"));
    }
    if total > MAX_DURATION_MS {
        return Err(format!(
            "`{t}` is longer than the 100 years a timer may wait"
        ));
    }
    Ok(total)
}

/// Adds the `<number><unit>` components of one part (before or after `T`) to `total`, checking
/// that units appear at most once and in order.
fn add_components(
    whole: &str,
    part: &str,
    units: &[(char, u64)],
    is_time: bool,
    mut total: u64,
) -> Result<u64, String> {
    let mut rest = part;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        let Some(unit) = rest[number_len..].chars().next() else {
            return Err(format!("`{whole}`: `{number}` has no unit (D, H, M or S)"));
        };
        if number.is_empty() {
            return Err(format!("`{whole}`: expected a number before `{unit}`"));
        }
        if !is_time && (unit == 'Y' || unit == 'M') {
            let what = if unit == 'Y' { "years" } else { "months" };
            let hint = if unit == 'M' {
                " (for minutes write PT…M, with a `T`)"
            } else {
                ""
            };
            return Err(format!(
                "`{whole}`: {what} have no fixed length, so a timer cannot use them; write days (P…D) instead{hint}"
            ));
        }
        let Some(pos) = units.iter().position(|(u, _)| *u == unit) else {
            let allowed: Vec<String> = units.iter().map(|(u, _)| u.to_string()).collect();
            let place = if is_time { "after `T`" } else { "before `T`" };
            return Err(format!(
                "`{whole}`: unit `{unit}` is not allowed {place} (allowed: {})",
                allowed.join(", ")
            ));
        };
        if pos < next_unit {
            return Err(format!(
                "`{whole}`: unit `{unit}` appears twice or out of order"
            ));
        }
        next_unit = pos + 1;
        let scale = units.get(pos).map_or(1, |(_, ms)| *ms);
        let ms = component_ms(whole, number, unit, scale)?;
        total = total
            .checked_add(ms)
            .ok_or_else(|| format!("`{whole}` is too long"))?;
        rest = &rest[number_len + unit.len_utf8()..];
    }
    Ok(total)
}

/// The milliseconds in `number` units of `scale` ms; only seconds may have a fraction.
fn component_ms(whole: &str, number: &str, unit: char, scale: u64) -> Result<u64, String> {
    let normalized = number.replace(',', ".");
    let (int_text, frac_text) = match normalized.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (normalized.as_str(), None),
    };
    if int_text.is_empty() || frac_text.is_some_and(|f| f.is_empty() || f.contains('.')) {
        return Err(format!("`{whole}`: `{number}` is not a number"));
    }
    let too_long = || format!("`{whole}` is longer than the 100 years a timer may wait");
    let int: u64 = int_text.parse().map_err(|_| too_long())?;
    let mut ms = int.checked_mul(scale).ok_or_else(too_long)?;
    if let Some(frac) = frac_text {
        if unit != 'S' {
            return Err(format!(
                "`{whole}`: only seconds may have a fraction (write PT1H30M, not PT1.5H)"
            ));
        }
        // Milliseconds are the timer's resolution: digits beyond the third are dropped.
        let mut frac_ms = 0u64;
        let mut weight = 100u64;
        for digit in frac.bytes().take(3) {
            frac_ms += u64::from(digit - b'0') * weight;
            weight /= 10;
        }
        ms = ms.checked_add(frac_ms).ok_or_else(too_long)?;
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_fixed_length_subset() {
        let cases: &[(&str, u64)] = &[
            ("PT15M", 15 * MINUTE_MS),
            ("PT10M", 10 * MINUTE_MS),
            ("P1D", DAY_MS),
            (
                "P1DT2H3M4S",
                DAY_MS + 2 * HOUR_MS + 3 * MINUTE_MS + 4 * SECOND_MS,
            ),
            ("PT0.5S", 500),
            ("PT1,25S", 1_250),
            ("PT0.0019S", 1),
            ("P2W", 2 * WEEK_MS),
            (" pt90s ", 90 * SECOND_MS),
            ("PT36H", 36 * HOUR_MS),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_duration_ms(text), Ok(*ms), "{text}");
        }
    }

    #[test]
    fn refuses_with_a_reason() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("P1Y", "years have no fixed length"),
            ("P1M", "months have no fixed length"),
            ("P1M", "for minutes write PT"),
            ("PT", "`T` must be followed"),
            ("P", "at least one amount"),
            ("10M", "must start with `P`"),
            ("-PT1M", "negative"),
            ("PT1.5H", "only seconds may have a fraction"),
            ("PT0S", "longer than zero"),
            ("PT5", "has no unit"),
            ("PTM", "expected a number"),
            ("PT1S1M", "out of order"),
            ("PT1M1M", "appears twice"),
            ("P1H", "not allowed before `T`"),
            ("PT1D", "not allowed after `T`"),
            ("PT1..5S", "not a number"),
            ("PT99999999999999999999S", "longer than the 100 years"),
            ("P36501D", "longer than the 100 years"),
            ("PT1S\u{e9}", "expected a number"),
        ];
        for (text, needle) in cases {
            let err = parse_duration_ms(text).expect_err(text);
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
