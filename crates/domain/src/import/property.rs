//! Custom property definitions as the importer needs them, and reading a cell as a
//! property value of the definition's type.

use chrono::NaiveDate;
use serde::Serialize;

pub use crate::wire::{PropertyDefinition, PropertyKind};

/// A property value read from a file, typed by its definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PropertyValue {
    /// Text, or the chosen option of a one-of list (in the definition's spelling).
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
}

impl PropertyValue {
    /// The value as a cell would show it: dates as YYYY-MM-DD, whole numbers without `.0`.
    pub fn to_cell(&self) -> String {
        match self {
            PropertyValue::Text(text) => text.clone(),
            PropertyValue::Number(n) => format_number(*n),
            PropertyValue::Date(date) => date.to_string(),
            PropertyValue::Bool(b) => b.to_string(),
        }
    }

    /// The value as JSON, for the wire types.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            PropertyValue::Text(text) => serde_json::Value::String(text.clone()),
            PropertyValue::Number(n) => serde_json::Number::from_f64(*n)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            PropertyValue::Date(date) => serde_json::Value::String(date.to_string()),
            PropertyValue::Bool(b) => serde_json::Value::Bool(*b),
        }
    }
}

/// A number the way a person writes it: `3`, not `3.0`.
pub(crate) fn format_number(n: f64) -> String {
    // 2^53: beyond it an f64 no longer holds every integer, so print it as it is.
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A date as people and spreadsheets write it: `2026-12-31`, `2026/12/31`, or a
/// date-time whose date part is one of those.
pub(crate) fn parse_date(cell: &str) -> Option<NaiveDate> {
    let date_part = cell
        .get(..10)
        .filter(|_| cell.len() == 10 || matches!(cell.as_bytes().get(10), Some(b'T' | b' ')))?;
    NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(date_part, "%Y/%m/%d"))
        .ok()
}

/// Reads a non-empty cell as a value of `kind`, or says why it is not one.
pub(crate) fn parse_value(kind: &PropertyKind, cell: &str) -> Result<PropertyValue, String> {
    match kind {
        PropertyKind::Text => {
            crate::validate::text("property", cell, crate::validate::PROFILE_FIELD_MAX_CHARS)
                .map(|text| PropertyValue::Text(text.unwrap_or_default()))
                .map_err(|invalid| invalid.reason)
        }
        PropertyKind::Number => cell
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(PropertyValue::Number)
            .ok_or_else(|| format!("'{cell}' is not a number (use a dot for decimals, e.g. 3.5)")),
        PropertyKind::Date => parse_date(cell)
            .map(PropertyValue::Date)
            .ok_or_else(|| format!("'{cell}' is not a date in the form YYYY-MM-DD")),
        PropertyKind::Bool => parse_bool(cell)
            .map(PropertyValue::Bool)
            .ok_or_else(|| format!("'{cell}' is not yes/no (true, false, yes, no, 1, 0)")),
        PropertyKind::OneOf { options } => options
            .iter()
            .find(|option| option.trim().eq_ignore_ascii_case(cell))
            .map(|option| PropertyValue::Text(option.clone()))
            .ok_or_else(|| format!("'{cell}' is not one of: {}", options.join(", "))),
    }
}

fn parse_bool(cell: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["true", "yes", "y", "1"];
    const FALSE: [&str; 4] = ["false", "no", "n", "0"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(cell)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(cell)) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_accept_iso_slashes_and_date_times() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 31);
        assert_eq!(parse_date("2026-12-31"), day);
        assert_eq!(parse_date("2026/12/31"), day);
        assert_eq!(parse_date("2026-12-31T00:00:00"), day);
        assert_eq!(parse_date("2026-12-31 08:00"), day);
        assert_eq!(parse_date("12/31/2026"), None);
        assert_eq!(parse_date("2026-12-31x"), None);
        assert_eq!(parse_date("2026-02-30"), None);
    }

    #[test]
    fn values_are_read_by_the_definitions_type() {
        let options = PropertyKind::OneOf {
            options: vec!["Red".into(), "Blue".into()],
        };
        assert_eq!(
            parse_value(&options, "blue"),
            Ok(PropertyValue::Text("Blue".into()))
        );
        assert!(parse_value(&options, "green").is_err());
        assert_eq!(
            parse_value(&PropertyKind::Number, "3.5"),
            Ok(PropertyValue::Number(3.5))
        );
        assert!(parse_value(&PropertyKind::Number, "3,5").is_err());
        assert!(parse_value(&PropertyKind::Number, "NaN").is_err());
        assert_eq!(
            parse_value(&PropertyKind::Bool, "Yes"),
            Ok(PropertyValue::Bool(true))
        );
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(-2.5), "-2.5");
    }
}
