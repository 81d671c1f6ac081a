//! Reading a DynamoDB Streams record of the leads table: is it a lead's move into MQL, and
//! which lead state and transition does it carry?
//!
//! The store marks the write that moved a lead into MQL with `mql_entered_at`
//! ([`MQL_ENTERED_AT`]) on the lead item, and the event source's filter passes only records
//! whose new image has it ([`FILTER_PATTERN`]). The record is checked again here, so a
//! function invoked without the filter (locally, or a misconfigured mapping) does the same.
//! The new image's `state` is LZ4-compressed JSON in a binary attribute; the event's JSON
//! carries it base64-encoded, which `aws_lambda_events` decodes.

use aws_lambda_events::event::dynamodb::EventRecord;
use chrono::{DateTime, Utc};
use leadscore_domain::{LeadState, Stage, Transition};
use leadscore_store::{decode_state, MQL_ENTERED_AT};
use serde_dynamo::AttributeValue;

/// The event source mapping's filter (one pattern of `FilterCriteria`): lead items whose
/// new image carries the MQL mark. Other items of the table (ledger chunks, aliases, the
/// notification log) and every other write of a lead never wake the function.
pub const FILTER_PATTERN: &str = r#"{"eventName":["INSERT","MODIFY"],"dynamodb":{"Keys":{"sk":{"S":["S"]}},"NewImage":{"mql_entered_at":{"S":[{"exists":true}]}}}}"#;

/// A record that claims a move into MQL but cannot be read. It will not read better on a
/// retry: it is reported as failed, so it ends in the dead-letter queue for a person.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    #[error("the new image has no binary `state` attribute")]
    NoState,
    #[error("the lead state cannot be read: {0}")]
    Corrupt(String),
    #[error("`{MQL_ENTERED_AT}` is not an RFC 3339 time: {0:?}")]
    BadMark(String),
    #[error("lead {lead}: no move into MQL at {at} in its state (stage {stage})")]
    NoTransition {
        lead: String,
        at: DateTime<Utc>,
        stage: Stage,
    },
}

/// A lead's move into MQL, as the record shows it.
#[derive(Debug)]
pub struct MqlEntry {
    pub state: LeadState,
    pub transition: Transition,
}

/// `Ok(None)` for records that are not a move into MQL (another item, a removal, a lead
/// write without the mark); the entry for those that are.
pub fn mql_entry(record: &EventRecord) -> Result<Option<MqlEntry>, RecordError> {
    if record.event_name == "REMOVE" {
        return Ok(None);
    }
    let image = &record.change.new_image;
    let text = |name: &str| match image.get(name) {
        Some(AttributeValue::S(s)) => Some(s.as_str()),
        _ => None,
    };
    let is_lead = text("sk") == Some("S") && text("pk").is_some_and(|pk| pk.starts_with("L#"));
    let Some(mark) = text(MQL_ENTERED_AT).filter(|_| is_lead) else {
        return Ok(None);
    };
    let at = DateTime::parse_from_rfc3339(mark)
        .map_err(|_| RecordError::BadMark(mark.to_owned()))?
        .with_timezone(&Utc);
    let Some(AttributeValue::B(bytes)) = image.get("state") else {
        return Err(RecordError::NoState);
    };
    let json = decode_state(bytes).map_err(RecordError::Corrupt)?;
    let state: LeadState =
        serde_json::from_slice(&json).map_err(|e| RecordError::Corrupt(e.to_string()))?;
    let transition = state
        .transitions
        .iter()
        .rfind(|t| t.to == Stage::Mql && t.at == at)
        .cloned();
    match transition {
        Some(transition) if state.stage == Stage::Mql => Ok(Some(MqlEntry { state, transition })),
        _ => Err(RecordError::NoTransition {
            lead: state.lead_id,
            at,
            stage: state.stage,
        }),
    }
}
