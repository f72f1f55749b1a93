//! RFC 9457 problem details: the one error shape every endpoint returns.
//! A problem says what was wrong (`title`, `detail`) and, for validation
//! errors, which input (`errors[].path`), so clients and people can fix the
//! request without reading server logs.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use kairos_core::contact::ContactError;
use kairos_engine::{ContactWriteError, IngestError};
use kairos_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid input.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// JSON path or field name of the offending input.
    pub path: String,
    pub message: String,
}

/// An RFC 9457 problem details document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("https://kairos.dev/problems/{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "The request is malformed", detail)
    }

    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        let (path, message) = (path.into(), message.into());
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "The request contains invalid values",
            format!("{path}: {message}"),
        );
        p.errors.push(FieldProblem { path, message });
        p
    }

    /// A validation problem naming every invalid input at once.
    pub fn invalid_all(errors: Vec<FieldProblem>) -> Self {
        let detail = errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect::<Vec<_>>().join("; ");
        let mut p =
            Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "The request contains invalid values", detail);
        p.errors = errors;
        p
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Authentication required", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail)
    }

    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "too-many", "Too many attempts", detail)
    }

    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "The request body is too large", detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Temporarily unavailable; retry later", detail)
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed to handle the request; it has been logged",
        )
    }
}

/// Collects the invalid inputs of one request, so the answer names all of
/// them instead of the first: a client fixes its request once, not once per
/// mistake.
#[derive(Debug, Default)]
pub struct Invalid(Vec<FieldProblem>);

impl Invalid {
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldProblem { path: path.into(), message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a problem with `path` is noted already.
    pub fn names(&self, path: &str) -> bool {
        self.0.iter().any(|p| p.path == path)
    }

    /// The value of a check, or `None` with its problems noted. A problem
    /// that is not a validation problem is returned at once.
    pub fn check<T>(&mut self, result: ApiResult<T>) -> ApiResult<Option<T>> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(p) if p.status == StatusCode::UNPROCESSABLE_ENTITY.as_u16() && !p.errors.is_empty() => {
                self.0.extend(p.errors);
                Ok(None)
            }
            Err(p) => Err(p),
        }
    }

    /// The 422 naming each (path, message) a domain check found.
    pub fn of<P: Into<String>, M: Into<String>>(problems: impl IntoIterator<Item = (P, M)>) -> Problem {
        let mut bad = Invalid::default();
        for (path, message) in problems {
            bad.push(path, message);
        }
        bad.finish().err().unwrap_or_else(|| Problem::bad_request("the request is not valid"))
    }

    /// Fail with every problem noted, if there is one.
    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Problem::invalid_all(self.0))
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response()
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Problem::conflict(format!("{what} already exists")),
            other => Problem::internal(other),
        }
    }
}

impl From<IngestError> for Problem {
    fn from(e: IngestError) -> Self {
        // 503 makes SDKs retry: nothing of the batch was acknowledged.
        tracing::error!(error = %e, "ingest failed");
        Problem::unavailable(format!("the batch was not stored ({e}); retry it"))
    }
}

impl From<ContactWriteError> for Problem {
    fn from(e: ContactWriteError) -> Self {
        match e {
            ContactWriteError::Invalid(err) => Problem::invalid_all(
                err.each()
                    .into_iter()
                    .map(|e| FieldProblem {
                        path: e.field().unwrap_or_else(|| "body".into()),
                        // The path already names the field.
                        message: match e {
                            ContactError::Invalid { reason, .. } => reason.clone(),
                            other => other.to_string(),
                        },
                    })
                    .collect(),
            ),
            ContactWriteError::Conflict(what) => Problem::conflict(what),
            ContactWriteError::NotFound(id) => Problem::not_found(format!("no contact with id {id}")),
            ContactWriteError::Store(s) => s.into(),
        }
    }
}

pub type ApiResult<T> = Result<T, Problem>;
