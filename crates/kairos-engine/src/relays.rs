//! A workspace's own SMTP relay and the choice every send makes. A
//! workspace admin sets the relay on the settings page (host, port,
//! security, login); it is checked before it is stored, its password is
//! sealed under the server's master key and never shown again, and every
//! change is audited. A send from the workspace then goes through that
//! relay; without one it takes the transport the operator started the
//! server with (capture, SMTP or none). The relay row is read on every send
//! (one primary-key read), so a change made through any node applies to
//! the next message everywhere; the relay itself, with its open
//! connections, is kept while the row stays exactly the same.

use crate::email::EmailTransportView;
use crate::smtp::{RelayCheck, RelaySettings, Security, SmtpRelay};
use crate::Engine;
use kairos_core::ids::WorkspaceId;
use kairos_store::{RelayRecord, StoreError};
use serde_json::json;
use std::sync::Arc;

/// Where one send goes.
pub(crate) enum Route {
    /// Kept in the store, nothing sent.
    Capture,
    Smtp(Arc<SmtpRelay>),
    /// Nothing can be sent, and why (for the message record and the caller).
    Unusable(String),
}

/// A workspace's relay as its settings page shows it (never the password).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WorkspaceRelayView {
    pub host: String,
    pub port: u16,
    /// `none`, `starttls`, `starttls_if_offered` or `tls`.
    pub security: &'static str,
    pub user: Option<String>,
    pub password_set: bool,
    pub updated_at: i64,
    pub updated_by: String,
    /// What keeps this relay from being used, if anything.
    pub problem: Option<String>,
}

/// A relay to store or to check: its settings, where `password: None`
/// keeps the stored password (the settings page never has it to send back)
/// when the rules of [`keeps_password`] allow.
pub type RelayChange = RelaySettings;

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Each wrong field with what is wrong with it.
    #[error("the relay settings are not usable")]
    Invalid(Vec<(&'static str, String)>),
    #[error("{FORBIDDEN}")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a workspace relay is refused or left unused on this server.
pub const FORBIDDEN: &str = "this server's operator does not let workspaces send through their own SMTP relay \
     (the server runs with --no-workspace-relays): email goes through the server's transport";

const UNDECRYPTABLE: &str = "the workspace's SMTP password cannot be decrypted (the server's master key is not \
     the one it was saved with): set the relay again with its password";

impl Engine {
    fn relay_view(&self, r: &RelayRecord) -> WorkspaceRelayView {
        let settings = self.relay_settings(r);
        WorkspaceRelayView {
            host: r.host.clone(),
            port: u16::try_from(r.port).unwrap_or_default(),
            security: Security::parse(&r.security).map(Security::as_str).unwrap_or("none"),
            user: r.username.clone(),
            password_set: r.password.is_some(),
            updated_at: r.updated_at,
            updated_by: r.updated_by.clone(),
            problem: settings.err(),
        }
    }

    /// The settings a stored row says, password opened.
    fn relay_settings(&self, r: &RelayRecord) -> Result<RelaySettings, String> {
        let security = Security::parse(&r.security)
            .ok_or_else(|| format!("the stored relay has an unknown security {:?}: save it again", r.security))?;
        let password = r.password.as_deref().map(|sealed| self.open_password(sealed)).transpose()?;
        Ok(RelaySettings {
            host: r.host.clone(),
            port: u16::try_from(r.port).unwrap_or_default(),
            security,
            user: r.username.clone(),
            password,
        })
    }

    /// A stored (sealed) relay password in clear, or why it cannot be.
    fn open_password(&self, sealed: &str) -> Result<String, String> {
        self.inner.master_key.open(sealed).map_err(|_| UNDECRYPTABLE.to_string())
    }

    /// `change` made whole: the stored password kept when none is given and
    /// the relay still logs in as the same user to the same host, never over
    /// a weaker connection (otherwise a changed host would be sent the
    /// stored password, or a changed security send it in clear); every
    /// problem named.
    fn complete(&self, change: RelayChange, stored: Option<&RelayRecord>) -> Result<RelaySettings, RelayError> {
        let mut problems = Vec::new();
        let password = match (&change.user, change.password) {
            (Some(user), None) => match stored.filter(|r| r.password.is_some()) {
                None => None,
                Some(r) if !keeps_password(r, &change.host, user, change.security) => {
                    problems.push((
                        "password",
                        "is required: the stored password is only used for the same user on the same host over \
                         a connection at least as protected; enter it again"
                            .to_string(),
                    ));
                    None
                }
                Some(r) => match self.open_password(r.password.as_deref().unwrap_or_default()) {
                    Ok(p) => Some(p),
                    Err(why) => {
                        problems.push(("password", why));
                        None
                    }
                },
            },
            (_, p) => p,
        };
        let settings = RelaySettings { password, ..change };
        for (field, message) in settings.problems() {
            if !problems.iter().any(|(f, _)| *f == field) {
                problems.push((field, message));
            }
        }
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(RelayError::Invalid(problems))
        }
    }

    /// Store the workspace's relay: every send from it goes there from now on.
    pub async fn set_workspace_relay(
        &self,
        ws: WorkspaceId,
        change: RelayChange,
        actor: &str,
    ) -> Result<WorkspaceRelayView, RelayError> {
        if self.email().options.forbid_workspace_relays {
            return Err(RelayError::Forbidden);
        }
        let now = self.clock().now().timestamp_millis();
        let mut tx = self.store().begin_write().await?;
        let stored = tx.workspace_relay(ws).await?;
        let password_given = change.password.is_some();
        let s = self.complete(change, stored.as_ref())?;
        let record = RelayRecord {
            host: s.host.clone(),
            port: i64::from(s.port),
            security: s.security.as_str().to_string(),
            username: s.user.clone(),
            password: s.password.as_deref().map(|p| self.inner.master_key.seal(p)),
            updated_at: now,
            updated_by: actor.to_string(),
        };
        tx.set_workspace_relay(ws, &record).await?;
        let detail = json!({
            "host": s.host, "port": s.port, "security": s.security.as_str(), "user": s.user,
            "password_changed": password_given,
        });
        tx.audit(ws, now, actor, "email_relay.set", &ws.to_string(), &detail).await?;
        tx.commit().await?;
        Ok(self.relay_view(&record))
    }

    /// Go back to the server's transport. Whether there was a relay.
    pub async fn remove_workspace_relay(&self, ws: WorkspaceId, actor: &str) -> Result<bool, StoreError> {
        let now = self.clock().now().timestamp_millis();
        let mut tx = self.store().begin_write().await?;
        let removed = tx.delete_workspace_relay(ws).await?;
        if removed {
            tx.audit(ws, now, actor, "email_relay.removed", &ws.to_string(), &json!({})).await?;
        }
        tx.commit().await?;
        self.email().forget_relay(ws);
        Ok(removed)
    }

    /// Connect as a send would and hang up, sending nothing: to `change`
    /// (not yet saved) when given, otherwise to wherever the workspace's
    /// email goes now. The inner error says what failed.
    pub async fn check_email_transport(
        &self,
        ws: WorkspaceId,
        change: Option<RelayChange>,
    ) -> Result<Result<RelayCheck, String>, RelayError> {
        let relay = match change {
            Some(_) if self.email().options.forbid_workspace_relays => return Err(RelayError::Forbidden),
            Some(change) => {
                let stored = self.store_relay(ws).await?;
                let s = self.complete(change, stored.as_ref())?;
                match self.workspace_smtp(&s, 0) {
                    Ok(r) => Arc::new(r),
                    Err(e) => return Ok(Err(e)),
                }
            }
            None => match self.email_route(ws).await? {
                Route::Smtp(r) => r,
                Route::Capture => {
                    return Ok(Err("email is captured, not sent: set an SMTP relay for this workspace, or start \
                                   the server with --email-transport smtp --smtp-url URL"
                        .to_string()))
                }
                Route::Unusable(why) => return Ok(Err(why)),
            },
        };
        Ok(relay.check().await)
    }

    /// A workspace's relay, kept off the server's own network unless the
    /// operator allows it.
    fn workspace_smtp(&self, s: &RelaySettings, max_idle: usize) -> Result<SmtpRelay, String> {
        let o = &self.email().options;
        let relay = SmtpRelay::from_settings(s, max_idle, o.smtp_ca_pem.as_deref())?;
        Ok(if o.allow_private_relays { relay } else { relay.public_only() })
    }

    async fn store_relay(&self, ws: WorkspaceId) -> Result<Option<RelayRecord>, StoreError> {
        let mut tx = self.store().begin().await?;
        let row = tx.workspace_relay(ws).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// How the workspace's email leaves this server, for the settings page.
    pub async fn email_transport(&self, ws: WorkspaceId) -> Result<EmailTransportView, StoreError> {
        let mut view = self.email().transport_view();
        if let Some(r) = self.store_relay(ws).await? {
            let mut w = self.relay_view(&r);
            if self.email().options.forbid_workspace_relays {
                // Kept (an admin can remove it), shown as unused.
                w.problem = Some(FORBIDDEN.to_string());
                view.workspace_relay = Some(w);
                return Ok(view);
            }
            view.source = "workspace";
            view.kind = "smtp";
            view.relay = Some(crate::smtp::RelayInfo {
                host: w.host.clone(),
                port: w.port,
                security: w.security,
                user: w.user.clone(),
            });
            view.problem = w.problem.clone();
            view.workspace_relay = Some(w);
        }
        Ok(view)
    }

    /// Where a send from `ws` goes now.
    pub(crate) async fn email_route(&self, ws: WorkspaceId) -> Result<Route, StoreError> {
        if self.email().options.forbid_workspace_relays {
            return Ok(self.email().server_route());
        }
        let Some(r) = self.store_relay(ws).await? else { return Ok(self.email().server_route()) };
        if let Some(relay) = self.email().cached_relay(ws, &r) {
            return Ok(Route::Smtp(relay));
        }
        let settings = match self.relay_settings(&r) {
            Ok(s) => s,
            Err(why) => return Ok(Route::Unusable(why)),
        };
        match self.workspace_smtp(&settings, self.email().options.pool_size as usize) {
            Ok(relay) => Ok(Route::Smtp(self.email().keep_relay(ws, r, relay))),
            Err(e) => Ok(Route::Unusable(format!("the workspace's SMTP relay is not usable: {e}"))),
        }
    }
}

/// Whether the stored relay's password may be sent to `host` as `user` over
/// `security`: same host and user, over a connection at least as protected
/// as before (the port may change: same host, same owner).
fn keeps_password(stored: &RelayRecord, host: &str, user: &str, security: Security) -> bool {
    // How well the login is kept from the network: TLS either way beats TLS
    // only if the server offers it (strippable), which beats none.
    let protection = |s: Security| match s {
        Security::Implicit | Security::StartTlsRequired => 2,
        Security::StartTlsOpportunistic => 1,
        Security::Plain => 0,
    };
    let before = Security::parse(&stored.security).map_or(2, protection);
    stored.host.eq_ignore_ascii_case(host) && stored.username.as_deref() == Some(user) && protection(security) >= before
}
