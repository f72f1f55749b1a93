//! Liquid filters marketers need beyond the standard library: `money`
//! (amounts with a currency, two decimals and thousands separators) and
//! `local_date` (an instant shown in the contact's own time zone, read from
//! `contact.timezone`, falling back to UTC).

use liquid_core::model::ScalarCow;
use liquid_core::{
    Display_filter, Expression, Filter, FilterParameters, FilterReflection, FromFilterParameters, ParseFilter, Result,
    Runtime, Value, ValueView,
};

#[derive(Debug, FilterParameters)]
struct MoneyArgs {
    #[parameter(description = "ISO 4217 currency code, e.g. \"EUR\".", arg_type = "str")]
    currency: Option<Expression>,
}

#[derive(Clone, ParseFilter, FilterReflection)]
#[filter(
    name = "money",
    description = "Formats an amount with its currency.",
    parameters(MoneyArgs),
    parsed(MoneyFilter)
)]
pub struct Money;

#[derive(Debug, FromFilterParameters, Display_filter)]
#[name = "money"]
struct MoneyFilter {
    #[parameters]
    args: MoneyArgs,
}

impl Filter for MoneyFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<Value> {
        let args = self.args.evaluate(runtime)?;
        let Some(amount) = input.as_scalar().and_then(|s| s.to_float()) else {
            return Ok(input.to_value());
        };
        let currency = args.currency.map(|c| c.to_uppercase()).unwrap_or_else(|| "USD".into());
        Ok(Value::scalar(format_money(amount, &currency)))
    }
}

/// `1234.5, "EUR"` → `€1,234.50`; currencies without a common symbol keep
/// their code after the amount; currencies without minor units get none.
pub fn format_money(amount: f64, currency: &str) -> String {
    let decimals = if matches!(currency, "JPY" | "KRW" | "VND" | "CLP" | "ISK") { 0 } else { 2 };
    let negative = amount < 0.0;
    let fixed = format!("{:.*}", decimals, amount.abs());
    let (int, frac) = fixed.split_once('.').map(|(a, b)| (a.to_string(), Some(b.to_string()))).unwrap_or((fixed, None));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let number = match frac {
        Some(f) => format!("{grouped}.{f}"),
        None => grouped,
    };
    let sign = if negative { "-" } else { "" };
    match currency {
        "USD" => format!("{sign}${number}"),
        "EUR" => format!("{sign}€{number}"),
        "GBP" => format!("{sign}£{number}"),
        "JPY" => format!("{sign}¥{number}"),
        "INR" => format!("{sign}₹{number}"),
        other => format!("{sign}{number} {other}"),
    }
}

#[derive(Debug, FilterParameters)]
struct LocalDateArgs {
    #[parameter(description = "strftime format, e.g. \"%-d %B %Y\".", arg_type = "str")]
    format: Option<Expression>,
}

#[derive(Clone, ParseFilter, FilterReflection)]
#[filter(
    name = "local_date",
    description = "Shows an instant in the contact's time zone.",
    parameters(LocalDateArgs),
    parsed(LocalDateFilter)
)]
pub struct LocalDate;

#[derive(Debug, FromFilterParameters, Display_filter)]
#[name = "local_date"]
struct LocalDateFilter {
    #[parameters]
    args: LocalDateArgs,
}

impl Filter for LocalDateFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<Value> {
        let args = self.args.evaluate(runtime)?;
        let format = args.format.map(|f| f.to_string()).unwrap_or_else(|| "%-d %B %Y".into());
        let path = [ScalarCow::new("contact"), ScalarCow::new("timezone")];
        let tz = runtime.try_get(&path).and_then(|v| v.as_scalar().map(|s| s.to_kstr().to_string()));
        let raw = input.to_kstr().to_string();
        Ok(local_date(&raw, tz.as_deref(), &format).map(Value::scalar).unwrap_or_else(|| input.to_value()))
    }
}

/// An RFC 3339 instant (or a plain date, shown as is) formatted in `tz`.
pub fn local_date(raw: &str, tz: Option<&str>, format: &str) -> Option<String> {
    let zone = tz.and_then(|t| jiff::tz::TimeZone::get(t).ok()).unwrap_or(jiff::tz::TimeZone::UTC);
    if let Ok(ts) = raw.parse::<jiff::Timestamp>() {
        return jiff::fmt::strtime::format(format, &ts.to_zoned(zone)).ok();
    }
    if let Ok(d) = raw.parse::<jiff::civil::Date>() {
        return jiff::fmt::strtime::format(format, d).ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats() {
        assert_eq!(format_money(1234.5, "EUR"), "€1,234.50");
        assert_eq!(format_money(-5.0, "USD"), "-$5.00");
        assert_eq!(format_money(1234567.0, "JPY"), "¥1,234,567");
        assert_eq!(format_money(99.999, "CHF"), "100.00 CHF");
    }

    #[test]
    fn local_dates_follow_the_zone() {
        let s = local_date("2026-03-01T23:30:00Z", Some("Europe/Berlin"), "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(s, "2026-03-02 00:30");
        assert_eq!(local_date("2026-03-01", Some("Asia/Tokyo"), "%-d %B").unwrap(), "1 March");
        assert_eq!(local_date("2026-03-01T10:00:00Z", Some("Nowhere/Else"), "%H").unwrap(), "10");
        assert!(local_date("soon", None, "%H").is_none());
    }
}
