//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! served at `/api/v1/openapi.json`.

use crate::api::{
    auth, campaigns, companies, consent_texts, consents, contacts, email, fields, forms, journeys, keys, models,
    privacy, reports, retention, scores, segments, settings, suppressions, users, workspace,
};
use crate::problem::{FieldProblem, Problem};
use crate::tracking::TrackingResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        // The UI's session: the cookie from sign-in, plus X-CSRF-Token on changes.
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Kairos API", description = "Contacts, companies, custom fields and API keys of a Kairos workspace. \
        Tracking uses the Segment HTTP Tracking API at /v1/* (track, identify, page, screen, group, alias, batch) with a write key. \
        Errors are RFC 9457 problem details."),
    paths(
        contacts::create, contacts::upsert, contacts::read, contacts::patch, contacts::remove, contacts::search,
        contacts::timeline, contacts::timeline_live, contacts::merges, contacts::merge, contacts::link, contacts::unlink,
        companies::create, companies::list, companies::read, companies::patch, companies::remove, companies::contacts,
        fields::list, fields::define, fields::remove,
        keys::list, keys::create, keys::revoke,
        auth::login, auth::session, auth::logout, auth::switch, auth::password,
        users::list, users::add, users::change, users::remove, users::unlock,
        workspace::read, workspace::activity, workspace::email_activity, workspace::event_catalog,
        segments::list, segments::create, segments::read, segments::update, segments::remove, segments::count,
        segments::members, segments::members_csv, segments::preview, segments::contact_segments,
        segments::lists, segments::create_list, segments::read_list, segments::update_list, segments::remove_list,
        segments::list_members, segments::add_list_members, segments::remove_list_members,
        consents::record, consents::read,
        forms::list, forms::create, forms::read, forms::update, forms::remove, crate::forms::submit,
        scores::list, scores::create, scores::read, scores::replace, scores::remove, scores::contact_scores,
        scores::contact_history,
        suppressions::add, suppressions::check, suppressions::list, suppressions::remove,
        privacy::erase, privacy::export, privacy::audit, privacy::audit_csv, crate::preferences::mint, settings::read, settings::write, settings::change, settings::email_transport, settings::check_email_transport, settings::set_relay, settings::remove_relay,
        consent_texts::list, consent_texts::create, consent_texts::read, consent_texts::revise, consent_texts::retire, consent_texts::reinstate,
        retention::read, retention::write, retention::run, retention::runs,
        models::train, models::read, models::contact, models::clusters, models::list, models::train_conversion,
        models::conversion_versions, models::conversion_version, models::contact_conversion,
        models::conversion_scores, models::schedules, models::schedule, models::unschedule, models::send_time,
        models::audit_conversion, models::audit_score, models::audits,
        reports::attribution, reports::attribution_csv, reports::attribution_models, reports::costs, reports::put_cost, reports::delete_cost,
        journeys::list, journeys::create, journeys::check, journeys::read, journeys::update, journeys::publish, journeys::pause,
        journeys::resume, journeys::archive, journeys::versions, journeys::stats, journeys::runs, journeys::run,
        journeys::retry, journeys::contact_runs, journeys::enter, journeys::dry_run, journeys::dead_letters,
        journeys::endpoints, journeys::create_endpoint, journeys::delete_endpoint, journeys::migrate,
        email::list_templates, email::create_template, email::check_template, email::read_template,
        email::update_template, email::delete_template, email::preview, email::test_send, email::report,
        email::list_snippets, email::read_snippet, email::put_snippet, email::delete_snippet, email::list_senders, email::create_sender,
        email::read_sender, email::send, email::list_messages, email::read_message, email::raw_message, email::inbound,
        campaigns::list, campaigns::create, campaigns::read, campaigns::update, campaigns::launch, campaigns::pause,
        campaigns::resume, campaigns::cancel, campaigns::report,
    ),
    components(schemas(Problem, FieldProblem, TrackingResponse)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;
