//! The public transparency page of a workspace, `/transparency/{workspace
//! id}`: who is responsible, what Kairos collects about people (profile
//! fields, custom fields with their labels, the kinds of activity recorded,
//! email engagement), why (the purposes people can consent to, and the
//! privacy signals honoured), how long it is kept (the retention policy), and
//! how to exercise one's rights. Written from the workspace's live
//! configuration, so it cannot drift from what is actually collected. Served
//! only when the workspace publishes it (settings → transparency.public_page);
//! plain HTML, readable without JavaScript.

use crate::preferences::escape;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Duration;
use kairos_core::consent::Purpose;
use kairos_core::fields::FieldEntity;
use kairos_core::ids::WorkspaceId;
use kairos_core::retention::EventAction;

pub fn routes() -> Router<AppState> {
    Router::new().route("/transparency/{workspace}", get(page))
}

fn shell(title: &str, body: &str, status: StatusCode) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:16px/1.55 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}
h2{{margin-top:2rem;border-bottom:1px solid #ddd}}table{{border-collapse:collapse;width:100%}}
th,td{{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee;vertical-align:top}}
.muted{{color:#555}}:focus{{outline:3px solid #f7b500;outline-offset:2px}}</style>
</head><body><main>{body}</main></body></html>"#,
        title = escape(title)
    );
    // A published page may be kept a minute; a "not published" answer not
    // at all, or publishing would stay invisible for as long as it is cached.
    let cache = if status.is_success() { "public, max-age=60" } else { "no-store" };
    (status, [(header::CACHE_CONTROL, cache)], Html(html)).into_response()
}

fn not_published() -> Response {
    shell(
        "Not found",
        "<h1>No transparency page here</h1><p>This organisation has not published one at this address.</p>",
        StatusCode::NOT_FOUND,
    )
}

fn purpose_text(p: Purpose) -> (&'static str, &'static str) {
    match p {
        Purpose::Marketing => {
            ("Marketing", "Newsletters, offers and other promotional messages, only with your consent.")
        }
        Purpose::ProductUpdates => ("Product updates", "News about products and services you use."),
        Purpose::Profiling => (
            "Profiling and analytics",
            "Grouping people by what they do, to choose what to show or send them and to measure what works.",
        ),
        Purpose::ThirdPartySharing => (
            "Sharing with third parties",
            "Passing data to other organisations, for example for advertising. Global Privacy Control opts you out.",
        ),
    }
}

fn days(n: u32) -> String {
    let (count, unit) = if n.is_multiple_of(365) {
        (n / 365, "year")
    } else if n.is_multiple_of(30) {
        (n / 30, "month")
    } else {
        (n, "day")
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// The page.
pub async fn page(State(s): State<AppState>, Path(raw): Path<String>) -> Result<Response, crate::problem::Problem> {
    let Ok(ws) = raw.parse::<WorkspaceId>() else { return Ok(not_published()) };
    let mut tx = s.engine.store().begin().await?;
    let Some(workspace) = tx.workspace(ws).await? else { return Ok(not_published()) };
    let policy = tx.workspace_policy(ws).await?;
    let Some(t) = policy.transparency.filter(|t| t.public_page) else { return Ok(not_published()) };
    let fields = tx.list_fields(ws).await?;
    let since = s.engine.clock().now() - Duration::days(365);
    // Segment changes are Kairos's own bookkeeping, not something a person did.
    let activity: Vec<(String, i64)> = tx
        .top_event_names(ws, since, 30)
        .await?
        .into_iter()
        .filter(|(name, _)| !name.starts_with("Segment "))
        .collect();
    let retention = tx.retention_policy(ws).await?;
    let forms = tx.forms(ws).await?;
    drop(tx);

    let org = escape(&t.organisation);
    let mut b = format!(
        "<h1>What {org} collects about you, and why</h1>\
         <p class=\"muted\">{org} uses Kairos to send messages and to understand how people use its services. \
         This page is generated from its live configuration of {}.</p>",
        escape(&workspace.name)
    );
    if let Some(st) = &t.statement {
        b.push_str(&format!("<p>{}</p>", escape(st).replace('\n', "<br>")));
    }

    b.push_str("<h2>Your profile</h2><table><thead><tr><th scope=\"col\">What</th><th scope=\"col\">Why</th></tr></thead><tbody>");
    for (what, why) in [
        ("Email address and phone number", "To send the messages you agreed to, and to recognise you."),
        ("First and last name", "To address you personally."),
        ("Country, time zone and language", "To send at a sensible local time and in your language."),
        ("When your profile was created and last changed", "To keep it accurate and to apply retention."),
    ] {
        b.push_str(&format!("<tr><td>{what}</td><td>{why}</td></tr>"));
    }
    for f in fields.iter().filter(|f| f.entity == FieldEntity::Contact) {
        let label = f.label.clone().unwrap_or_else(|| f.name.clone());
        b.push_str(&format!(
            "<tr><td>{} <span class=\"muted\">({})</span></td><td>Additional information {org} keeps on profiles.</td></tr>",
            escape(&label),
            escape(f.field_type.as_str())
        ));
    }
    b.push_str("</tbody></table>");

    b.push_str("<h2>Your activity</h2>");
    if activity.is_empty() {
        b.push_str("<p>No activity has been recorded in the last year.</p>");
    } else {
        b.push_str(&format!(
            "<p>When you use {org}'s websites and apps, these kinds of activity are recorded with their time, \
             the page or screen, and your device's address and browser:</p><ul>"
        ));
        for (name, _) in &activity {
            b.push_str(&format!("<li>{}</li>", escape(name)));
        }
        b.push_str("</ul>");
    }
    b.push_str(
        "<p>Emails record whether they were delivered, opened and which links were clicked, to measure them and \
         to stop sending to addresses that do not want them.</p>",
    );

    b.push_str("<h2>What it is used for, and your choices</h2><dl>");
    for p in [Purpose::Marketing, Purpose::ProductUpdates, Purpose::Profiling, Purpose::ThirdPartySharing] {
        let (name, what) = purpose_text(p);
        b.push_str(&format!("<dt><strong>{name}</strong></dt><dd>{what}</dd>"));
    }
    b.push_str(
        "</dl><p>Each is recorded separately per channel (email, SMS, push, in-app, phone), with when and how you \
         agreed. Every marketing email has a one-click unsubscribe link and a link to change your preferences. \
         Your browser's Global Privacy Control signal is honoured as an opt-out of sharing, and a consent banner's \
         IAB TCF choices are recorded as given.</p>",
    );
    if !forms.is_empty() {
        let double_opt_in = forms.iter().any(|f| {
            serde_json::from_str::<serde_json::Value>(&f.definition)
                .is_ok_and(|d| d.get("double_opt_in").and_then(serde_json::Value::as_bool) == Some(true))
        });
        b.push_str(&format!(
            "<p>When you subscribe with one of {org}'s forms, the exact wording you agreed to is kept, with when \
             you agreed and your device's address and browser.{}</p>",
            if double_opt_in {
                " You are subscribed only once you confirm with the link emailed to you; until then nothing but \
                 that confirmation and its reminders is sent."
            } else {
                ""
            }
        ));
    }
    if t.disclose_automation {
        b.push_str("<p>Messages are sent automatically, triggered by what you do; each says so.</p>");
    }

    b.push_str("<h2>How long it is kept</h2><ul>");
    match &retention {
        Some(r) if r.events_max_age_days.is_some() || r.inactive_contacts_days.is_some() => {
            if let Some(n) = r.events_max_age_days {
                let what = match r.events_action {
                    EventAction::Delete => "deleted",
                    EventAction::Anonymise => "anonymised (no longer linked to you)",
                };
                b.push_str(&format!("<li>Activity older than {} is {what}.</li>", days(n)));
            }
            if let Some(n) = r.inactive_contacts_days {
                b.push_str(&format!("<li>Profiles without any activity for {} are deleted.</li>", days(n)));
            }
        }
        _ => b.push_str("<li>Your data is kept until you ask for it to be deleted.</li>"),
    }
    b.push_str("</ul>");

    b.push_str(&format!(
        "<h2>Your rights</h2><p>You can ask {org} for a copy of everything it holds about you, to correct it, or \
         to delete it; a deletion removes you everywhere and keeps only a scrambled form of your address so you \
         are not added again by mistake."
    ));
    if let Some(c) = &t.privacy_contact {
        let c = escape(c);
        let link = if c.contains('@') && !c.contains("://") { format!("mailto:{c}") } else { c.clone() };
        b.push_str(&format!(" Contact: <a href=\"{link}\">{c}</a>."));
    }
    b.push_str("</p>");
    Ok(shell(&format!("Privacy at {}", t.organisation), &b, StatusCode::OK))
}
