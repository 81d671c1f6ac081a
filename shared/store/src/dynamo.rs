//! The DynamoDB adapter. One table, two item kinds (see `docs/storage.md`):
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | lead | `L#<lead id>` | `S` | `state` (JSON), `version`, `stage`, `score` |
//! | alias | `A#<kind>:<value>` | `A` | `lead` |
//!
//! A save is one request: a conditional PutItem, or a TransactWriteItems when new aliases
//! are written with the lead.

use crate::{Alias, LeadStore, StoreError, Stored};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, KeysAndAttributes,
    Put, ScalarAttributeType, StreamSpecification, StreamViewType, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use leadscore_domain::LeadState;
use std::collections::HashMap;

const PK: &str = "pk";
const SK: &str = "sk";
/// BatchGetItem's limit.
const BATCH_GET_MAX: usize = 100;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn lead_key(id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([(PK.into(), s(format!("L#{id}"))), (SK.into(), s("S"))])
}

fn alias_key(a: &Alias) -> HashMap<String, AttributeValue> {
    HashMap::from([(PK.into(), s(format!("A#{}", a.0))), (SK.into(), s("A"))])
}

/// Any SDK failure that is not a condition: the caller answers 5xx and the sender retries.
fn unavailable<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    op: &str,
    e: SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(format!("{op}: {}", DisplayErrorContext(&e)))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table as `infra/template.yaml` does (for tests and local runs).
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |n: &str| {
            AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |n: &str, t| {
            KeySchemaElement::builder()
                .attribute_name(n)
                .key_type(t)
                .build()
        };
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Unavailable(e.to_string());
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(PK).map_err(build)?)
            .attribute_definitions(attr(SK).map_err(build)?)
            .key_schema(key(PK, KeyType::Hash).map_err(build)?)
            .key_schema(key(SK, KeyType::Range).map_err(build)?)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build()
                    .map_err(build)?,
            )
            .send()
            .await
            .map_err(|e| unavailable("CreateTable", e))?;
        Ok(())
    }

    /// One BatchGetItem (per 100 keys) for the aliases and, optionally, a lead item.
    async fn batch_get(
        &self,
        lead: Option<&str>,
        aliases: &[Alias],
    ) -> Result<(Vec<Option<String>>, Option<Stored>), StoreError> {
        let mut found: HashMap<String, String> = HashMap::new();
        let mut stored = None;
        let mut keys: Vec<HashMap<String, AttributeValue>> =
            lead.map(lead_key).into_iter().collect();
        let mut unique: Vec<&Alias> = aliases.iter().collect();
        unique.sort();
        unique.dedup();
        keys.extend(unique.into_iter().map(alias_key));
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut request = HashMap::from([(
                self.table.clone(),
                KeysAndAttributes::builder()
                    .consistent_read(true)
                    .set_keys(Some(chunk.to_vec()))
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            )]);
            // Unprocessed keys come back under load: ask again, a bounded number of times.
            for _ in 0..8 {
                let out = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(request))
                    .send()
                    .await
                    .map_err(|e| unavailable("BatchGetItem", e))?;
                for item in out
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    match item.get(PK).and_then(|v| v.as_s().ok()) {
                        Some(pk) if pk.starts_with("L#") => {
                            stored = Some(read_lead(item, &pk[2..])?);
                        }
                        Some(pk) => {
                            if let Some(l) = item.get("lead").and_then(|v| v.as_s().ok()) {
                                found.insert(pk.trim_start_matches("A#").to_owned(), l.clone());
                            }
                        }
                        None => {}
                    }
                }
                match out.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                    Some(rest) if !rest.keys().is_empty() => {
                        request = HashMap::from([(self.table.clone(), rest.clone())]);
                    }
                    _ => {
                        request = HashMap::new();
                        break;
                    }
                }
            }
            if !request.is_empty() {
                return Err(StoreError::Unavailable(
                    "BatchGetItem left keys unprocessed".into(),
                ));
            }
        }
        Ok((
            aliases.iter().map(|a| found.get(&a.0).cloned()).collect(),
            stored,
        ))
    }

    fn lead_item(
        &self,
        state: &LeadState,
        version: u64,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let json = serde_json::to_string(state).map_err(|e| StoreError::Corrupt {
            key: state.lead_id.clone(),
            problem: format!("cannot serialize: {e}"),
        })?;
        let mut item = lead_key(&state.lead_id);
        item.insert("state".into(), s(json));
        item.insert("version".into(), AttributeValue::N(version.to_string()));
        // Projected for the stream filter (MQL entries) and for reports.
        item.insert("stage".into(), s(state.stage.as_str()));
        item.insert(
            "score".into(),
            AttributeValue::N(state.scores.total.to_string()),
        );
        Ok(item)
    }
}

/// The condition under which a lead may be written, and its values. Attribute names go
/// through placeholders (`#version`, `#lead`): DynamoDB reserves many words, `lead` among them.
fn version_condition(expected: Option<u64>) -> (String, Option<(String, AttributeValue)>) {
    match expected {
        None => ("attribute_not_exists(pk)".into(), None),
        Some(v) => (
            "#version = :expected".into(),
            Some((":expected".into(), AttributeValue::N(v.to_string()))),
        ),
    }
}

fn read_lead(item: &HashMap<String, AttributeValue>, id: &str) -> Result<Stored, StoreError> {
    let corrupt = |problem: &str| StoreError::Corrupt {
        key: format!("L#{id}"),
        problem: problem.into(),
    };
    let json = item
        .get("state")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| corrupt("no `state` string"))?;
    let version = item
        .get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| corrupt("no numeric `version`"))?;
    let state =
        serde_json::from_str(json).map_err(|e| corrupt(&format!("state does not parse: {e}")))?;
    Ok(Stored { state, version })
}

impl LeadStore for DynamoStore {
    async fn resolve(&self, aliases: &[Alias]) -> Result<Vec<Option<String>>, StoreError> {
        Ok(self.batch_get(None, aliases).await?.0)
    }

    async fn fetch(
        &self,
        candidate: &str,
        aliases: &[Alias],
    ) -> Result<(Vec<Option<String>>, Option<Stored>), StoreError> {
        self.batch_get(Some(candidate), aliases).await
    }

    async fn load(&self, lead_id: &str) -> Result<Option<Stored>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(lead_key(lead_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", e))?;
        out.item().map(|item| read_lead(item, lead_id)).transpose()
    }

    async fn save(
        &self,
        state: &LeadState,
        expected: Option<u64>,
        aliases: &[Alias],
    ) -> Result<u64, StoreError> {
        let version = expected.map_or(1, |v| v + 1);
        let item = self.lead_item(state, version)?;
        let (condition, value) = version_condition(expected);
        if aliases.is_empty() {
            let mut put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition);
            if let Some((k, v)) = value {
                put = put
                    .expression_attribute_values(k, v)
                    .expression_attribute_names("#version", "version");
            }
            return match put.send().await {
                Ok(_) => Ok(version),
                Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                    Err(StoreError::Conflict(format!(
                        "lead {} moved past version {expected:?}",
                        state.lead_id
                    )))
                }
                Err(e) => Err(unavailable("PutItem", e)),
            };
        }
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Unavailable(e.to_string());
        let mut lead_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition);
        if let Some((k, v)) = value {
            lead_put = lead_put
                .expression_attribute_values(k, v)
                .expression_attribute_names("#version", "version");
        }
        let mut tx = self.client.transact_write_items().transact_items(
            TransactWriteItem::builder()
                .put(lead_put.build().map_err(build)?)
                .build(),
        );
        let mut unique: Vec<&Alias> = aliases.iter().collect();
        unique.sort();
        unique.dedup();
        for a in unique {
            let mut alias = alias_key(a);
            alias.insert("lead".into(), s(&state.lead_id));
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(alias))
                .condition_expression("attribute_not_exists(pk) OR #lead = :lead")
                .expression_attribute_names("#lead", "lead")
                .expression_attribute_values(":lead", s(&state.lead_id))
                .build()
                .map_err(build)?;
            tx = tx.transact_items(TransactWriteItem::builder().put(put).build());
        }
        match tx.send().await {
            Ok(_) => Ok(version),
            // Cancelled by a condition (or a concurrent transaction on the same items): retryable.
            Err(e)
                if matches!(
                    e.code(),
                    Some("TransactionCanceledException" | "TransactionConflictException")
                ) =>
            {
                Err(StoreError::Conflict(format!(
                    "lead {} or one of its aliases changed: {}",
                    state.lead_id,
                    DisplayErrorContext(&e)
                )))
            }
            Err(e) => Err(unavailable("TransactWriteItems", e)),
        }
    }

    async fn erase(&self, lead_id: &str, aliases: &[Alias]) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(lead_key(lead_id)))
            .send()
            .await
            .map_err(|e| unavailable("DeleteItem", e))?;
        for a in aliases {
            // Only aliases that still point at this lead: another lead may own it by now.
            let out = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(alias_key(a)))
                .condition_expression("#lead = :lead")
                .expression_attribute_names("#lead", "lead")
                .expression_attribute_values(":lead", s(lead_id))
                .send()
                .await;
            match out {
                Ok(_) => {}
                Err(e) if e.code() == Some("ConditionalCheckFailedException") => {}
                Err(e) => return Err(unavailable("DeleteItem", e)),
            }
        }
        Ok(())
    }
}
