//! The one place REST routes are authorised. Every route under `/api/v1`
//! except sign-in is listed in [`ROUTES`] with the [`Permission`] it needs;
//! the [`authorize`] middleware identifies the caller, looks the matched
//! route up and refuses with 403 before the handler runs when the caller's
//! role lacks the permission. A route missing from the table is refused for
//! everyone (closed by default), and a test checks the table against the
//! OpenAPI document so a new route cannot be forgotten.

use crate::auth::identify;
use crate::problem::Problem;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kairos_core::access::Permission::{self, *};

/// Method, route pattern and the permission it needs.
pub const ROUTES: &[(&str, &str, Permission)] = &[
    // The session itself.
    ("GET", "/api/v1/auth/session", Session),
    ("POST", "/api/v1/auth/logout", Session),
    ("POST", "/api/v1/auth/switch", Session),
    ("POST", "/api/v1/auth/password", Session),
    // Members and keys.
    ("GET", "/api/v1/users", Members),
    ("POST", "/api/v1/users", Members),
    ("PATCH", "/api/v1/users/{id}", Members),
    ("DELETE", "/api/v1/users/{id}", Members),
    ("POST", "/api/v1/users/{id}/unlock", Members),
    ("GET", "/api/v1/keys", Members),
    ("POST", "/api/v1/keys", Members),
    ("DELETE", "/api/v1/keys/{id}", Members),
    // Audit trail.
    ("GET", "/api/v1/audit", AuditRead),
    ("GET", "/api/v1/audit.csv", AuditRead),
    // Companies.
    ("GET", "/api/v1/companies", PeopleRead),
    ("POST", "/api/v1/companies", PeopleWrite),
    ("GET", "/api/v1/companies/{id}", PeopleRead),
    ("PATCH", "/api/v1/companies/{id}", PeopleWrite),
    ("DELETE", "/api/v1/companies/{id}", PeopleWrite),
    ("GET", "/api/v1/companies/{id}/contacts", PeopleRead),
    // Contacts.
    ("GET", "/api/v1/contacts", PeopleRead),
    ("POST", "/api/v1/contacts", PeopleWrite),
    ("POST", "/api/v1/contacts/upsert", PeopleWrite),
    ("GET", "/api/v1/contacts/{id}", PeopleRead),
    ("PATCH", "/api/v1/contacts/{id}", PeopleWrite),
    ("DELETE", "/api/v1/contacts/{id}", PeopleWrite),
    ("GET", "/api/v1/contacts/{id}/clv", PeopleRead),
    ("POST", "/api/v1/contacts/{id}/companies/{company_id}", PeopleWrite),
    ("DELETE", "/api/v1/contacts/{id}/companies/{company_id}", PeopleWrite),
    ("GET", "/api/v1/contacts/{id}/events", PeopleRead),
    ("GET", "/api/v1/contacts/{id}/events/live", PeopleRead),
    ("GET", "/api/v1/contacts/{id}/journeys", PeopleRead),
    ("POST", "/api/v1/contacts/{id}/merge", PeopleWrite),
    ("GET", "/api/v1/contacts/{id}/merges", PeopleRead),
    ("GET", "/api/v1/contacts/{id}/segments", PeopleRead),
    ("GET", "/api/v1/contacts/{id}/scores", PeopleRead),
    ("GET", "/api/v1/contacts/{id}/scores/history", PeopleRead),
    // Consent, suppression, data-subject rights, retention.
    ("GET", "/api/v1/contacts/{id}/consents", ConsentRead),
    ("PUT", "/api/v1/contacts/{id}/consents", ConsentWrite),
    ("POST", "/api/v1/contacts/{id}/preference-link", ConsentWrite),
    // A form's wording is what subscribers consent to: changing it is a
    // consent matter, reading it is not.
    ("GET", "/api/v1/forms", ConsentRead),
    ("POST", "/api/v1/forms", ConsentWrite),
    ("GET", "/api/v1/forms/{id}", ConsentRead),
    ("PATCH", "/api/v1/forms/{id}", ConsentWrite),
    ("DELETE", "/api/v1/forms/{id}", ConsentWrite),
    ("GET", "/api/v1/suppressions", ConsentRead),
    ("GET", "/api/v1/suppressions/check", ConsentRead),
    ("POST", "/api/v1/suppressions", ConsentWrite),
    ("DELETE", "/api/v1/suppressions", ConsentWrite),
    ("POST", "/api/v1/email/inbound", ConsentWrite),
    ("POST", "/api/v1/contacts/{id}/erase", PrivacyRights),
    ("GET", "/api/v1/contacts/{id}/export", PrivacyRights),
    ("GET", "/api/v1/retention", PrivacyRights),
    ("PUT", "/api/v1/retention", PrivacyRights),
    ("POST", "/api/v1/retention/run", PrivacyRights),
    ("GET", "/api/v1/retention/runs", PrivacyRights),
    // Email: templates, snippets, messages, campaigns.
    ("GET", "/api/v1/email/templates", MarketingRead),
    ("POST", "/api/v1/email/templates", MarketingWrite),
    ("POST", "/api/v1/email/templates/check", MarketingWrite),
    ("GET", "/api/v1/email/templates/{id}", MarketingRead),
    ("PUT", "/api/v1/email/templates/{id}", MarketingWrite),
    ("DELETE", "/api/v1/email/templates/{id}", MarketingWrite),
    // A preview is personalised for a chosen contact.
    ("POST", "/api/v1/email/templates/{id}/preview", PeopleRead),
    ("GET", "/api/v1/email/templates/{id}/report", ReportsRead),
    ("POST", "/api/v1/email/templates/{id}/test-send", MarketingWrite),
    ("GET", "/api/v1/email/snippets", MarketingRead),
    ("GET", "/api/v1/email/snippets/{name}", MarketingRead),
    ("PUT", "/api/v1/email/snippets/{name}", MarketingWrite),
    ("DELETE", "/api/v1/email/snippets/{name}", MarketingWrite),
    ("POST", "/api/v1/email/send", MarketingWrite),
    ("GET", "/api/v1/email/messages", PeopleRead),
    ("GET", "/api/v1/email/messages/{id}", PeopleRead),
    ("GET", "/api/v1/email/messages/{id}/raw", PeopleRead),
    ("GET", "/api/v1/email/campaigns", MarketingRead),
    ("POST", "/api/v1/email/campaigns", MarketingWrite),
    ("GET", "/api/v1/email/campaigns/{id}", MarketingRead),
    ("PATCH", "/api/v1/email/campaigns/{id}", MarketingWrite),
    ("POST", "/api/v1/email/campaigns/{id}/launch", MarketingWrite),
    ("POST", "/api/v1/email/campaigns/{id}/pause", MarketingWrite),
    ("POST", "/api/v1/email/campaigns/{id}/resume", MarketingWrite),
    ("POST", "/api/v1/email/campaigns/{id}/cancel", MarketingWrite),
    ("GET", "/api/v1/email/campaigns/{id}/report", ReportsRead),
    // Senders and other settings.
    ("GET", "/api/v1/email/senders", SettingsRead),
    ("POST", "/api/v1/email/senders", SettingsWrite),
    ("GET", "/api/v1/email/senders/{id}", SettingsRead),
    ("GET", "/api/v1/settings", SettingsRead),
    ("PUT", "/api/v1/settings", SettingsWrite),
    ("PATCH", "/api/v1/settings", SettingsWrite),
    ("GET", "/api/v1/consent-texts", MarketingRead),
    ("POST", "/api/v1/consent-texts", SettingsWrite),
    ("GET", "/api/v1/consent-texts/{key}", MarketingRead),
    ("PUT", "/api/v1/consent-texts/{key}", SettingsWrite),
    ("POST", "/api/v1/consent-texts/{key}/retire", SettingsWrite),
    ("POST", "/api/v1/consent-texts/{key}/reinstate", SettingsWrite),
    ("GET", "/api/v1/settings/email-transport", SettingsRead),
    ("POST", "/api/v1/settings/email-transport/check", SettingsWrite),
    ("PUT", "/api/v1/settings/email-transport/relay", SettingsWrite),
    ("DELETE", "/api/v1/settings/email-transport/relay", SettingsWrite),
    ("GET", "/api/v1/webhook-endpoints", SettingsRead),
    ("POST", "/api/v1/webhook-endpoints", SettingsWrite),
    ("DELETE", "/api/v1/webhook-endpoints/{id}", SettingsWrite),
    // Custom fields.
    ("GET", "/api/v1/fields", MarketingRead),
    ("POST", "/api/v1/fields", MarketingWrite),
    ("DELETE", "/api/v1/fields/{entity}/{name}", MarketingWrite),
    // Journeys.
    ("GET", "/api/v1/journeys", MarketingRead),
    ("POST", "/api/v1/journeys", MarketingWrite),
    ("POST", "/api/v1/journeys/check", MarketingRead),
    ("GET", "/api/v1/journeys/{id}", MarketingRead),
    ("PATCH", "/api/v1/journeys/{id}", MarketingWrite),
    ("POST", "/api/v1/journeys/{id}/archive", MarketingWrite),
    ("POST", "/api/v1/journeys/{id}/dry-run", MarketingWrite),
    ("POST", "/api/v1/journeys/{id}/entries", MarketingWrite),
    ("POST", "/api/v1/journeys/{id}/migrate", MarketingWrite),
    ("POST", "/api/v1/journeys/{id}/pause", MarketingWrite),
    ("POST", "/api/v1/journeys/{id}/publish", MarketingWrite),
    ("POST", "/api/v1/journeys/{id}/resume", MarketingWrite),
    ("GET", "/api/v1/journeys/{id}/versions", MarketingRead),
    ("GET", "/api/v1/journeys/{id}/stats", ReportsRead),
    ("GET", "/api/v1/journeys/{id}/runs", PeopleRead),
    ("GET", "/api/v1/journey-runs/{run}", PeopleRead),
    ("POST", "/api/v1/journey-runs/{run}/retry", MarketingWrite),
    ("GET", "/api/v1/outbox/dead-letters", PeopleRead),
    // Segments and lists.
    ("GET", "/api/v1/segments", MarketingRead),
    ("POST", "/api/v1/segments", MarketingWrite),
    ("POST", "/api/v1/segments/preview", ReportsRead),
    ("GET", "/api/v1/segments/{id}", MarketingRead),
    ("PATCH", "/api/v1/segments/{id}", MarketingWrite),
    ("DELETE", "/api/v1/segments/{id}", MarketingWrite),
    ("GET", "/api/v1/segments/{id}/count", ReportsRead),
    ("GET", "/api/v1/segments/{id}/members", PeopleRead),
    ("GET", "/api/v1/segments/{id}/members.csv", PeopleRead),
    ("GET", "/api/v1/lists", MarketingRead),
    ("POST", "/api/v1/lists", MarketingWrite),
    ("GET", "/api/v1/lists/{id}", MarketingRead),
    ("PATCH", "/api/v1/lists/{id}", MarketingWrite),
    ("DELETE", "/api/v1/lists/{id}", MarketingWrite),
    ("GET", "/api/v1/lists/{id}/members", PeopleRead),
    ("POST", "/api/v1/lists/{id}/members", PeopleWrite),
    ("DELETE", "/api/v1/lists/{id}/members", PeopleWrite),
    // Models.
    ("GET", "/api/v1/scores", MarketingRead),
    ("POST", "/api/v1/scores", MarketingWrite),
    ("GET", "/api/v1/scores/{name}", MarketingRead),
    ("PUT", "/api/v1/scores/{name}", MarketingWrite),
    ("DELETE", "/api/v1/scores/{name}", MarketingWrite),
    ("GET", "/api/v1/models", ReportsRead),
    ("GET", "/api/v1/models/conversion", ReportsRead),
    ("POST", "/api/v1/models/conversion", MarketingWrite),
    ("GET", "/api/v1/models/conversion/{id}", ReportsRead),
    ("GET", "/api/v1/models/conversion/scores", PeopleRead),
    ("GET", "/api/v1/models/conversion/schedules", ReportsRead),
    ("PUT", "/api/v1/models/conversion/schedules", MarketingWrite),
    ("DELETE", "/api/v1/models/conversion/schedules/{event}", MarketingWrite),
    ("GET", "/api/v1/contacts/{id}/conversion", PeopleRead),
    ("GET", "/api/v1/contacts/{id}/send-time", PeopleRead),
    ("POST", "/api/v1/models/conversion/{id}/fairness", ReportsRead),
    ("POST", "/api/v1/scores/{name}/fairness", ReportsRead),
    ("GET", "/api/v1/fairness-audits", ReportsRead),
    ("GET", "/api/v1/models/clv", ReportsRead),
    ("POST", "/api/v1/models/clv", MarketingWrite),
    ("POST", "/api/v1/models/clusters", MarketingWrite),
    // The workspace at a glance.
    ("GET", "/api/v1/workspace", ReportsRead),
    ("GET", "/api/v1/reports/attribution", ReportsRead),
    ("GET", "/api/v1/reports/attribution.csv", ReportsRead),
    ("GET", "/api/v1/reports/attribution/models", ReportsRead),
    ("GET", "/api/v1/reports/costs", ReportsRead),
    ("PUT", "/api/v1/reports/costs", MarketingWrite),
    ("DELETE", "/api/v1/reports/costs", MarketingWrite),
    ("GET", "/api/v1/workspace/activity", ReportsRead),
    ("GET", "/api/v1/workspace/email-activity", ReportsRead),
    ("GET", "/api/v1/workspace/events", MarketingRead),
];

/// The permission a route needs; `None` for a route nobody may use.
pub fn required(method: &Method, route: &str) -> Option<Permission> {
    let method = if *method == Method::HEAD { "GET" } else { method.as_str() };
    ROUTES.iter().find(|(m, r, _)| *m == method && *r == route).map(|(_, _, p)| *p)
}

/// The middleware in front of every authenticated REST route.
pub async fn authorize(
    State(state): State<AppState>,
    route: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let caller = match identify(&state, req.method(), req.headers()).await {
        Ok(c) => c,
        Err(p) => return p.into_response(),
    };
    let route = route.as_ref().map(|r| r.as_str()).unwrap_or_else(|| req.uri().path());
    let Some(needed) = required(req.method(), route) else {
        tracing::error!(method = %req.method(), route, "route has no access rule; refused");
        return Problem::forbidden(format!("{} {route} has no access rule; nobody may use it", req.method()))
            .into_response();
    };
    if !caller.role.allows(needed) {
        return Problem::forbidden(format!(
            "the {} role may not do this ({} {route} needs {})",
            caller.role.as_str(),
            req.method(),
            needed.as_str()
        ))
        .into_response();
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn each_route_is_listed_once() {
        let mut seen = HashSet::new();
        for (m, r, _) in ROUTES {
            assert!(seen.insert((m, r)), "{m} {r} listed twice");
            assert!(r.starts_with("/api/v1/"), "{r}");
        }
    }

    #[test]
    fn unknown_routes_need_the_impossible() {
        assert_eq!(required(&Method::GET, "/api/v1/nothing"), None);
        assert_eq!(required(&Method::GET, "/api/v1/contacts"), Some(PeopleRead));
        assert_eq!(required(&Method::HEAD, "/api/v1/contacts"), Some(PeopleRead));
        assert_eq!(required(&Method::POST, "/api/v1/contacts/{id}/erase"), Some(PrivacyRights));
    }
}
