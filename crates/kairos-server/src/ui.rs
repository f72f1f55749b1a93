//! The marketer web UI at `/`: the built single-page app (`ui/dist`, or the
//! directory given with `--ui-dir`) served from disk, with every unknown
//! client route answered by its `index.html` so deep links work. Paths of
//! the APIs (`/api`, `/v1`) and of other server routes are never answered
//! with the app: an unknown API path stays a 404 problem document. When the
//! app is not built, `/` explains how to build it.

use crate::problem::Problem;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use std::path::{Component, Path, PathBuf};

/// Path prefixes that belong to the server, never to the app: the APIs, the
/// health check, the preference centre, the transparency page, the email
/// channel's open, click (`/t`) and unsubscribe (`/u`) links, hosted forms
/// (`/f`) and their confirmation links.
const SERVER_PREFIXES: &[&str] =
    &["/api", "/v1", "/healthz", "/preferences", "/transparency", "/t", "/u", "/f", "/confirm"];

/// Whether `path` belongs to the server's own routes.
fn is_server_path(path: &str) -> bool {
    SERVER_PREFIXES.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
}

/// The content type of a built asset, by extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// The file under `root` a request path names, if the path is plain:
/// only normal segments, no dot-files, no `..`, no escapes or backslashes.
fn file_for(root: &Path, path: &str) -> Option<PathBuf> {
    let rel = path.trim_start_matches('/');
    if rel.contains(['\\', '%', '\0']) {
        return None;
    }
    let mut out = root.to_path_buf();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(s) if !s.to_string_lossy().starts_with('.') => out.push(s),
            _ => return None,
        }
    }
    Some(out)
}

async fn file_response(path: &Path, cache: &'static str, head: bool) -> Option<Response> {
    let bytes = tokio::fs::read(path).await.ok()?;
    let mut resp = if head { Body::empty() } else { Body::from(bytes) }.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Some(resp)
}

/// The router's fallback: the app's files, the app for client routes, and
/// problem documents for everything that belongs to the server.
pub async fn fallback(State(s): State<AppState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if is_server_path(path) || (method != Method::GET && method != Method::HEAD) {
        return Problem::not_found("no such endpoint; see /api/v1/openapi.json").into_response();
    }
    let head = method == Method::HEAD;
    let Some(root) = s.ui_dir.as_deref() else { return not_built(path, None) };
    let index = root.join("index.html");
    if !index.is_file() {
        return not_built(path, Some(root));
    }
    if let Some(file) = file_for(root, path).filter(|f| f.is_file()) {
        // Vite names built assets by content hash: they never change.
        let cache = if path.starts_with("/assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        if let Some(r) = file_response(&file, cache, head).await {
            return r;
        }
    }
    // A missing file with an extension is a missing asset, not a page.
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return Problem::not_found(format!("no file {path} in the web UI")).into_response();
    }
    match file_response(&index, "no-cache", head).await {
        Some(r) => r,
        None => not_built(path, Some(root)),
    }
}

/// The page shown when the app is not built: the API entry points, and how
/// to build the UI.
fn not_built(path: &str, dir: Option<&Path>) -> Response {
    let status = if path == "/" { StatusCode::OK } else { StatusCode::NOT_FOUND };
    let dir = dir.map(|d| d.display().to_string()).unwrap_or_else(|| "ui/dist".into());
    let notice = format!(
        "<p class=\"notice\">The web UI is not built: there is no <code>{}</code>. Build it with \
         <code>npm ci &amp;&amp; npm run build</code> in <code>ui/</code>, or start the server with \
         <code>--ui-dir DIR</code> (or <code>KAIROS_UI_DIR</code>) naming a built UI.</p>",
        html_escape(&format!("{dir}/index.html"))
    );
    let page = include_str!("landing.html").replace("<!-- UI NOTICE -->", &notice);
    (status, Html(page)).into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_paths_are_never_the_app() {
        for p in [
            "/api",
            "/api/v1/nope",
            "/v1",
            "/v1/track",
            "/healthz",
            "/preferences/abc",
            "/t/o/x",
            "/u/x",
            "/f/x",
            "/confirm/x",
        ] {
            assert!(is_server_path(p), "{p}");
        }
        for p in ["/", "/apiary", "/contacts", "/v10", "/segments/new", "/tools", "/users", "/forms", "/confirmations"]
        {
            assert!(!is_server_path(p), "{p}");
        }
    }

    #[test]
    fn only_plain_paths_name_files() {
        let root = Path::new("/srv/ui");
        assert_eq!(file_for(root, "/assets/app.js"), Some(PathBuf::from("/srv/ui/assets/app.js")));
        for bad in ["/../etc/passwd", "/assets/../../x", "/.env", "/a/%2e%2e/b", "/a\\b"] {
            assert_eq!(file_for(root, bad), None, "{bad}");
        }
    }
}
