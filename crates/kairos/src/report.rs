//! `kairos report …`: the attribution report (which campaigns, journeys and
//! ads earned a period's conversions, under a chosen model, with ROI) and
//! the marketing costs behind its ROI, on a running server through its REST
//! API (docs/reports.md).

use crate::journey::{call, ServerArgs};
use anyhow::Result;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Value};

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Conversions credited to campaigns, journeys and UTM campaigns, with ROI.
    Attribution {
        /// The conversion event (default "Order Completed").
        #[arg(long)]
        event: Option<String>,
        /// First day (YYYY-MM-DD) or instant (RFC 3339); default 30 days ago.
        #[arg(long)]
        since: Option<String>,
        /// Last day, included, or instant; default now.
        #[arg(long)]
        until: Option<String>,
        /// first_touch, last_touch (default), linear, time_decay, position_based.
        #[arg(long)]
        model: Option<String>,
        /// Time decay's half-life in days (default 7).
        #[arg(long)]
        half_life_days: Option<f64>,
        /// Look-back window in days (1-90, default 7).
        #[arg(long)]
        window_days: Option<u32>,
        /// Which moment of an email is its touch: sent, opened (default), clicked.
        #[arg(long)]
        email_touch: Option<String>,
        /// The property holding the value (default revenue, then total, then value).
        #[arg(long)]
        value: Option<String>,
        /// ISO 4217 currency of the report (default the most frequent).
        #[arg(long)]
        currency: Option<String>,
        /// Print the whole report as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The marketing costs entered per source.
    Costs,
    /// Enter or replace what a source cost.
    Cost {
        /// campaign:ID, journey:ID or utm:SOURCE/MEDIUM/NAME.
        source: String,
        #[arg(long, default_value_t = 0.0)]
        amount: f64,
        /// Charged for each message the source sends in a report's period.
        #[arg(long, default_value_t = 0.0)]
        per_message: f64,
        #[arg(long)]
        currency: String,
        #[arg(long)]
        note: Option<String>,
        /// When the amount was spent (with --until): reports charge the share in their period.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
    },
    /// Remove a source's cost.
    RemoveCost { source: String },
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    q.finish()
}

fn money(v: &Value) -> String {
    v.as_f64().map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into())
}

pub async fn report(s: &ServerArgs, command: ReportCommand) -> Result<()> {
    match command {
        ReportCommand::Attribution {
            event,
            since,
            until,
            model,
            half_life_days,
            window_days,
            email_touch,
            value,
            currency,
            json,
        } => {
            let q = query(&[
                ("event", event),
                ("since", since),
                ("until", until),
                ("model", model),
                ("half_life_days", half_life_days.map(|h| h.to_string())),
                ("window_days", window_days.map(|w| w.to_string())),
                ("email_touch", email_touch),
                ("value", value),
                ("currency", currency),
            ]);
            let r = call(s, Method::GET, &format!("/api/v1/reports/attribution?{q}"), None).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
                return Ok(());
            }
            let t = &r["totals"];
            println!(
                "{} from {} to {} ({}, {}-day window, emails when {}), in {}",
                r["event"].as_str().unwrap_or(""),
                r["since"].as_str().unwrap_or(""),
                r["until"].as_str().unwrap_or(""),
                r["model"]["name"].as_str().unwrap_or(""),
                r["window_days"],
                r["email_touch"].as_str().unwrap_or(""),
                r["currency"].as_str().unwrap_or("")
            );
            println!(
                "{} conversions by {} contacts worth {}; attributed {} ({} conversions), unattributed {}; cost {}, ROI {}",
                t["conversions"],
                t["contacts"],
                money(&t["value"]),
                money(&t["attributed_value"]),
                money(&t["attributed_conversions"]),
                money(&t["unattributed_value"]),
                money(&t["cost"]),
                money(&t["roi"])
            );
            println!(
                "{:<44} {:<6} {:>11} {:>13} {:>9} {:>11} {:>8}",
                "source", "chan.", "conversions", "value", "sent", "cost", "ROI"
            );
            for l in r["sources"].as_array().into_iter().flatten() {
                println!(
                    "{:<44} {:<6} {:>11} {:>13} {:>9} {:>11} {:>8}",
                    l["name"].as_str().unwrap_or(""),
                    l["channel"].as_str().unwrap_or(""),
                    money(&l["conversions"]),
                    money(&l["value"]),
                    l["messages_sent"],
                    money(&l["cost"]),
                    money(&l["roi"])
                );
            }
            for w in r["warnings"].as_array().into_iter().flatten() {
                eprintln!("warning: {}", w.as_str().unwrap_or(""));
            }
            Ok(())
        }
        ReportCommand::Costs => {
            let v = call(s, Method::GET, "/api/v1/reports/costs", None).await?;
            for c in v["data"].as_array().into_iter().flatten() {
                println!(
                    "{:<44} {:>11} + {:>8} per message {} {}",
                    c["source"].as_str().unwrap_or(""),
                    money(&c["amount"]),
                    money(&c["per_message"]),
                    c["currency"].as_str().unwrap_or(""),
                    c["note"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
        ReportCommand::Cost { source, amount, per_message, currency, note, since, until } => {
            let body = json!({"source": source, "amount": amount, "per_message": per_message, "currency": currency,
                              "note": note, "since": since, "until": until});
            let v = call(s, Method::PUT, "/api/v1/reports/costs", Some(body)).await?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
        ReportCommand::RemoveCost { source } => {
            call(
                s,
                Method::DELETE,
                &format!("/api/v1/reports/costs?{}", query(&[("source", Some(source.clone()))])),
                None,
            )
            .await?;
            println!("removed the cost of {source}");
            Ok(())
        }
    }
}
