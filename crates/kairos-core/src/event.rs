//! Events: the entries of the append-only event log. Every tracked message,
//! once its contact is resolved, becomes one `Event`; everything else in
//! Kairos (profiles, segments, journeys, reports) is derived from the log.

use crate::ids::{ContactId, WorkspaceId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The kind of a tracked message, as in the Segment spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Track,
    Identify,
    Page,
    Screen,
    Group,
    Alias,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Track => "track",
            EventKind::Identify => "identify",
            EventKind::Page => "page",
            EventKind::Screen => "screen",
            EventKind::Group => "group",
            EventKind::Alias => "alias",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "track" => EventKind::Track,
            "identify" => EventKind::Identify,
            "page" => EventKind::Page,
            "screen" => EventKind::Screen,
            "group" => EventKind::Group,
            "alias" => EventKind::Alias,
            _ => return None,
        })
    }
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log; assigned by the store, 0 before it is stored.
    pub seq: i64,
    pub id: Uuid,
    pub workspace_id: WorkspaceId,
    pub contact_id: ContactId,
    pub kind: EventKind,
    /// Event name for `track`, page/screen name, otherwise empty.
    pub name: Option<String>,
    /// The sender's message id, unique per workspace (de-duplication key).
    pub message_id: String,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// `properties` for track/page/screen, `traits` for identify/group, plus
    /// `previousId` / `groupId` for alias / group.
    pub properties: Value,
    pub context: Value,
    /// When it happened (clock-skew corrected).
    pub timestamp: DateTime<Utc>,
    /// When Kairos accepted it.
    pub received_at: DateTime<Utc>,
}
