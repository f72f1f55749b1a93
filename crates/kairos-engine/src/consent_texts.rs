//! The consent text library at run time: the changes that reach beyond one
//! row. A new version of a text becomes, in the same transaction, the
//! wording of every form that asks with that text (each form change
//! audited), so a form never shows words the library has replaced; a text
//! is retired only while no form asks with it, and a retired text is offered
//! to no new form and gains no version. Every version stays readable
//! either way: consents already given name them.

use crate::Engine;
use kairos_core::consent_text::ConsentText;
use kairos_core::form::FormDefinition;
use kairos_core::ids::WorkspaceId;
use kairos_store::{FormRecord, Retirement, StoreError, Tx};
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum ConsentTextError {
    #[error("{0}")]
    NotFound(String),
    /// Refused as things stand (retired, in use, changed concurrently).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A form that asks with a library text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormUsingText {
    pub id: String,
    pub name: String,
}

/// The forms whose definition names `key` as their consent text.
pub(crate) async fn forms_asking_with(
    tx: &mut Tx,
    ws: WorkspaceId,
    key: &str,
) -> Result<Vec<(FormRecord, FormDefinition)>, StoreError> {
    let mut out = Vec::new();
    for f in tx.forms(ws).await? {
        let def = crate::forms::definition_of(&f.definition)?;
        if def.consent_text.as_deref() == Some(key) {
            out.push((f, def));
        }
    }
    Ok(out)
}

/// Whether the text `key` is retired.
pub(crate) async fn is_retired(tx: &mut Tx, ws: WorkspaceId, key: &str) -> Result<bool, StoreError> {
    Ok(tx.consent_text_retirements(ws).await?.iter().any(|r| r.key == key))
}

fn audit_view(t: &ConsentText) -> Value {
    json!({"key": t.key, "version": t.version, "wording_version": t.wording_version(), "channel": t.channel,
           "purpose": t.purpose, "language": t.language, "text": t.text})
}

impl Engine {
    /// Which forms ask with each text, by key (texts no form uses are absent).
    pub async fn consent_text_users(
        &self,
        ws: WorkspaceId,
    ) -> Result<std::collections::HashMap<String, Vec<FormUsingText>>, StoreError> {
        let mut tx = self.store().begin().await?;
        let forms = tx.forms(ws).await?;
        tx.commit().await?;
        let mut users: std::collections::HashMap<String, Vec<FormUsingText>> = Default::default();
        for f in forms {
            if let Some(key) = crate::forms::definition_of(&f.definition)?.consent_text {
                users.entry(key).or_default().push(FormUsingText { id: f.id, name: f.name });
            }
        }
        Ok(users)
    }

    /// The retired texts.
    pub async fn consent_text_retirements(&self, ws: WorkspaceId) -> Result<Vec<Retirement>, StoreError> {
        let mut tx = self.store().begin().await?;
        let r = tx.consent_text_retirements(ws).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// New wording for the text `key`: its next version, which every form
    /// asking with the text shows from the same commit. The same wording
    /// again changes nothing and returns the current version.
    pub async fn revise_consent_text(
        &self,
        ws: WorkspaceId,
        key: &str,
        text: String,
        actor: &str,
    ) -> Result<ConsentText, ConsentTextError> {
        let now = self.clock().now().timestamp_millis();
        let mut tx = self.store().begin_write().await?;
        let versions = tx.consent_text_versions(ws, key).await?;
        let current =
            versions.first().ok_or_else(|| ConsentTextError::NotFound(format!("no consent text \"{key}\"")))?;
        if current.text == text {
            return Ok(current.clone());
        }
        if is_retired(&mut tx, ws, key).await? {
            return Err(ConsentTextError::Conflict(format!(
                "\"{key}\" is retired: reinstate it (POST /api/v1/consent-texts/{key}/reinstate) before changing it"
            )));
        }
        let t = ConsentText {
            version: current.version + 1,
            text,
            created_at: now,
            created_by: actor.into(),
            ..current.clone()
        };
        if !tx.insert_consent_text(ws, &t).await? {
            return Err(ConsentTextError::Conflict(format!(
                "\"{key}\" was changed at the same time; read it and try again"
            )));
        }
        tx.audit(ws, now, actor, "consent_text.revised", &t.wording_version(), &audit_view(&t)).await?;
        for (mut record, mut def) in forms_asking_with(&mut tx, ws, key).await? {
            def.wording.clear();
            def.wording_version.clear();
            // The channel and purpose of a text never change, so a form that
            // took one version takes the next.
            def.ask_with(&t).map_err(|e| StoreError::Corrupt(format!("form {}: {e}", record.id)))?;
            record.definition = Value::Object(def.to_json()).to_string();
            record.updated_at = now;
            tx.update_form(ws, &record).await?;
            let mut detail = crate::forms::audit_detail(&def);
            detail["because"] = json!("consent_text.revised");
            tx.audit(ws, now, actor, "form.updated", &record.id, &detail).await?;
        }
        tx.commit().await?;
        Ok(t)
    }

    /// Retire the text `key`: refused while a form asks with it (the
    /// conflict names them). Retiring a retired text changes nothing.
    pub async fn retire_consent_text(&self, ws: WorkspaceId, key: &str, actor: &str) -> Result<(), ConsentTextError> {
        let now = self.clock().now().timestamp_millis();
        let mut tx = self.store().begin_write().await?;
        if tx.consent_text_versions(ws, key).await?.is_empty() {
            return Err(ConsentTextError::NotFound(format!("no consent text \"{key}\"")));
        }
        let users = forms_asking_with(&mut tx, ws, key).await?;
        if !users.is_empty() {
            let names: Vec<String> = users.iter().map(|(f, _)| format!("\"{}\"", f.name)).collect();
            return Err(ConsentTextError::Conflict(format!(
                "\"{key}\" is the consent text of {}: give {} another text first",
                if names.len() == 1 {
                    format!("the form {}", names[0])
                } else {
                    format!("the forms {}", names.join(", "))
                },
                if names.len() == 1 { "it" } else { "them" }
            )));
        }
        if tx.retire_consent_text(ws, key, now, actor).await? {
            tx.audit(ws, now, actor, "consent_text.retired", key, &json!({})).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Put a retired text back in use. Reinstating a text in use changes nothing.
    pub async fn reinstate_consent_text(
        &self,
        ws: WorkspaceId,
        key: &str,
        actor: &str,
    ) -> Result<(), ConsentTextError> {
        let now = self.clock().now().timestamp_millis();
        let mut tx = self.store().begin_write().await?;
        if tx.consent_text_versions(ws, key).await?.is_empty() {
            return Err(ConsentTextError::NotFound(format!("no consent text \"{key}\"")));
        }
        if tx.reinstate_consent_text(ws, key).await? {
            tx.audit(ws, now, actor, "consent_text.reinstated", key, &json!({})).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
