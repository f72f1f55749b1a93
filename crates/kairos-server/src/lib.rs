//! Kairos over HTTP: the Segment-compatible tracking API (`/v1/*`), the REST
//! API (`/api/v1/*`) with its OpenAPI document, and the marketer web UI at
//! `/` (`ui.rs`).
//!
//! Invariant: this is the only crate that knows HTTP and the JSON wire
//! shapes of the API; it turns requests into calls on the engine and store
//! and their errors into RFC 9457 problem documents.

pub mod access;
pub mod api;
pub mod auth;
pub mod email_links;
pub mod forms;
pub mod openapi;
pub mod preferences;
pub mod problem;
pub mod tracking;
pub mod transparency;
pub mod ui;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use kairos_engine::Engine;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;
use utoipa::OpenApi;

pub use api::keys::issue_key;
pub use api::users::enrol;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub keys: Arc<auth::KeyCache>,
    /// Recent failed sign-ins per client address.
    pub sign_ins: Arc<api::auth::SignInLimiter>,
    /// The built web UI served at `/`; `None` serves a page saying how to build it.
    pub ui_dir: Option<Arc<PathBuf>>,
    /// Submissions of hosted forms per client address.
    pub form_limiter: Arc<forms::SubmitLimiter>,
    /// Turns true when the server starts shutting down, so streams that
    /// would otherwise stay open (live timelines) end and let it finish.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    pub fn new(engine: Engine) -> Self {
        AppState {
            engine,
            keys: Arc::new(auth::KeyCache::default()),
            sign_ins: Arc::new(api::auth::SignInLimiter::default()),
            ui_dir: None,
            form_limiter: Arc::new(forms::SubmitLimiter::default()),
            closing: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// Serve the built web UI in `dir` (the directory holding `index.html`).
    pub fn with_ui_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.ui_dir = Some(Arc::new(dir.into()));
        self
    }
}

/// Bodies above this are refused before they are read: a gzip batch can't
/// usefully be larger than the decompressed limit.
pub(crate) const BODY_LIMIT: usize = 2 * kairos_core::tracking::MAX_BATCH_BYTES;

pub fn router(state: AppState) -> Router {
    // Browsers send tracking calls from the customer's site: allow any origin
    // there (the write key authenticates), but not on the admin API.
    let tracking = tracking::routes().layer(CorsLayer::very_permissive());
    // One access check in front of every REST route; it needs the matched
    // route, so it is a route layer over the merged REST router.
    let rest = api::routes().route_layer(axum::middleware::from_fn_with_state(state.clone(), access::authorize));
    Router::new()
        .merge(tracking)
        .merge(rest)
        .merge(api::auth::public_routes())
        .merge(preferences::routes())
        .merge(forms::routes())
        .merge(email_links::routes())
        .merge(transparency::routes())
        .route("/api/v1/openapi.json", get(|| async { Json(openapi::ApiDoc::openapi()) }))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(ui::fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serve until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let closing = state.closing.clone();
    let shutdown = async move {
        shutdown.await;
        closing.send_replace(true);
    };
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
