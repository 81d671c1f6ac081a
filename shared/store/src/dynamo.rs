//! The DynamoDB adapter. One table, two item kinds (see `docs/storage.md`):
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | lead | `L#<lead id>` | `S` | `state` (LZ4-compressed JSON), `version`, `stage`, `score`, `mql_entered_at` (the write that made an MQL) |
//! | ledger | `L#<lead id>` | `E#<first seq, 10 digits>` | `entries` (JSON array), `expires_at` |
//! | alias | `A#<kind>:<value>` | `A` | `lead` |
//! | alias record | `L#<lead id>` | `A#<kind>:<value>` | (none: erasure finds the aliases here) |
//!
//! A save is one request: a conditional PutItem, or a TransactWriteItems when ledger entries
//! or new aliases are written with the lead.

use crate::due::{day_key, due_on, shard_key, shard_of, DueCursor, DueIndex, DuePage};
use crate::{Alias, LeadStore, StoreError, Stored};
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, DeleteRequest, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType, Put,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
    TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use chrono::NaiveDate;
use leadscore_domain::{LeadState, LedgerEntry};
use std::collections::HashMap;

const PK: &str = "pk";
const SK: &str = "sk";
/// BatchGetItem's limit.
const BATCH_GET_MAX: usize = 100;
/// BatchWriteItem's limit.
const BATCH_WRITE_MAX: usize = 25;
/// Ledger entries per item: about 250 bytes each, so an item stays near 50 KB, far under
/// DynamoDB's 400 KB.
const LEDGER_CHUNK: usize = 200;
/// TransactWriteItems' limit on actions.
const TRANSACT_MAX: usize = 100;
/// The sparse GSI of due leads (see `crate::due`) and its key attributes.
/// A new on-demand table is usually ACTIVE within seconds; give up after two minutes.
const TABLE_CREATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

pub const DUE_INDEX: &str = "due";
const DUE_SHARD: &str = "due_shard";
const DUE_ON: &str = "due_on";
/// The attribute DynamoDB's TTL reads (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// On a lead item, only in the write that moved the lead into MQL: the transition's time
/// (RFC 3339, milliseconds, UTC). The notifier's stream filter wakes on it, since a filter
/// cannot compare the new image's stage with the old one's.
pub const MQL_ENTERED_AT: &str = "mql_entered_at";

#[derive(Clone)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) table: String,
    /// How long ledger items are kept; `None`: for ever.
    ledger_ttl: Option<chrono::Duration>,
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn lead_key(id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([(PK.into(), s(format!("L#{id}"))), (SK.into(), s("S"))])
}

fn alias_key(a: &Alias) -> HashMap<String, AttributeValue> {
    HashMap::from([(PK.into(), s(format!("A#{}", a.0))), (SK.into(), s("A"))])
}

/// Any SDK failure that is not a condition: the caller answers 5xx and the sender retries.
pub(crate) fn unavailable<
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
>(
    op: &str,
    e: SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(format!("{op}: {}", DisplayErrorContext(&e)))
}

/// A request the SDK refused to build (a missing required field): a bug, reported as
/// unavailable rather than a panic.
fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// An item key's sort key.
fn sort_key(k: &HashMap<String, AttributeValue>) -> Option<&str> {
    k.get(SK)?.as_s().ok().map(String::as_str)
}

/// The aliases a lead's partition records (its `A#<alias>` items).
fn recorded_aliases(keys: &[HashMap<String, AttributeValue>]) -> impl Iterator<Item = Alias> + '_ {
    keys.iter()
        .filter_map(|k| sort_key(k)?.strip_prefix("A#"))
        .map(|a| Alias(a.to_owned()))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            ledger_ttl: None,
        }
    }

    /// Ledger items expire this long after their newest entry was recorded (DynamoDB's TTL
    /// deletes them, typically within days of expiry). The lead keeps its scores: only the
    /// old entries that explain them go.
    pub fn with_ledger_ttl(mut self, ttl: Option<chrono::Duration>) -> Self {
        self.ledger_ttl = ttl;
        self
    }

    /// The client, for what the port does not cover (the CLI's report scans lead items).
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table as `infra/template.yaml` does (for tests and local runs), and waits
    /// until it is ACTIVE.
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
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(PK).map_err(build_err)?)
            .attribute_definitions(attr(SK).map_err(build_err)?)
            .key_schema(key(PK, KeyType::Hash).map_err(build_err)?)
            .key_schema(key(SK, KeyType::Range).map_err(build_err)?)
            .attribute_definitions(attr(DUE_SHARD).map_err(build_err)?)
            .attribute_definitions(attr(DUE_ON).map_err(build_err)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(DUE_INDEX)
                    .key_schema(key(DUE_SHARD, KeyType::Hash).map_err(build_err)?)
                    .key_schema(key(DUE_ON, KeyType::Range).map_err(build_err)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::Include)
                            .non_key_attributes("state")
                            .non_key_attributes("version")
                            .build(),
                    )
                    .build()
                    .map_err(build_err)?,
            )
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build()
                    .map_err(build_err)?,
            )
            .send()
            .await
            .map_err(|e| unavailable("CreateTable", e))?;
        // Real DynamoDB refuses UpdateTimeToLive while the table is CREATING (moto creates it
        // ACTIVE, so there the first DescribeTable ends the wait).
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(TABLE_CREATION_TIMEOUT)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "waiting for table {} to be ACTIVE: {}",
                    self.table,
                    DisplayErrorContext(&e)
                ))
            })?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(TTL_ATTRIBUTE)
                    .build()
                    .map_err(build_err)?,
            )
            .send()
            .await
            .map_err(|e| unavailable("UpdateTimeToLive", e))?;
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
                    .map_err(build_err)?,
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
        let json = serde_json::to_vec(state).map_err(|e| StoreError::Corrupt {
            key: state.lead_id.clone(),
            problem: format!("cannot serialize: {e}"),
        })?;
        let mut item = lead_key(&state.lead_id);
        // LZ4-compressed JSON: a state compresses about 4x, and DynamoDB bills writes and
        // reads by the KB.
        item.insert(
            "state".into(),
            AttributeValue::B(Blob::new(lz4_flex::compress_prepend_size(&json))),
        );
        item.insert("version".into(), AttributeValue::N(version.to_string()));
        // Projected for the stream filter (MQL entries) and for reports.
        item.insert("stage".into(), s(state.stage.as_str()));
        item.insert(
            "score".into(),
            AttributeValue::N(state.scores.total.to_string()),
        );
        // The sparse due index: present only while decay or a hand-off has work to do.
        if let Some(day) = due_on(state) {
            item.insert(DUE_SHARD.into(), s(shard_key(shard_of(&state.lead_id))));
            item.insert(DUE_ON.into(), s(day_key(day)));
        }
        // Projected for account roll-ups.
        if let Some(a) = &state.account {
            item.insert("account".into(), s(&a.key));
        }
        // Every save puts the whole item, so the mark is gone from the lead's next write.
        if let Some(t) = state.mql_entry_since_load() {
            item.insert(
                MQL_ENTERED_AT.into(),
                s(t.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            );
        }
        Ok(item)
    }

    /// The ledger items for the entries a state holds, `LEDGER_CHUNK` entries each, keyed by
    /// the first entry's number (so writing the same entries again overwrites, never adds).
    fn ledger_items(
        &self,
        state: &LeadState,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        state
            .ledger
            .chunks(LEDGER_CHUNK)
            .map(|chunk| {
                let json = serde_json::to_vec(chunk).map_err(|e| StoreError::Corrupt {
                    key: state.lead_id.clone(),
                    problem: format!("cannot serialize ledger entries: {e}"),
                })?;
                let first = chunk.first().map_or(0, |e| e.seq);
                let mut item = HashMap::from([
                    (PK.into(), s(format!("L#{}", state.lead_id))),
                    (SK.into(), s(format!("E#{first:010}"))),
                    (
                        "entries".into(),
                        AttributeValue::B(Blob::new(lz4_flex::compress_prepend_size(&json))),
                    ),
                ]);
                let newest = chunk.iter().map(|e| e.recorded_at).max();
                if let (Some(ttl), Some(newest)) = (self.ledger_ttl, newest) {
                    let at = newest.checked_add_signed(ttl).unwrap_or(newest);
                    item.insert(
                        TTL_ATTRIBUTE.into(),
                        AttributeValue::N(at.timestamp().to_string()),
                    );
                }
                Ok(item)
            })
            .collect()
    }

    /// The actions of a transactional save: the lead (under its version condition), its
    /// new ledger items, and each alias with its record in the lead's partition. An alias may
    /// be taken over only from `absorbed` (a merge); one owned by any other lead cancels all.
    fn save_actions(
        &self,
        state: &LeadState,
        item: HashMap<String, AttributeValue>,
        expected: Option<u64>,
        ledger: Vec<HashMap<String, AttributeValue>>,
        aliases: &[Alias],
        absorbed: Option<&str>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let (condition, value) = version_condition(expected);
        let mut lead_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition);
        if let Some((k, v)) = value {
            lead_put = lead_put
                .expression_attribute_values(k, v)
                .expression_attribute_names("#version", "version");
        }
        let mut actions = vec![TransactWriteItem::builder()
            .put(lead_put.build().map_err(build_err)?)
            .build()];
        let mut unique: Vec<&Alias> = aliases.iter().collect();
        unique.sort();
        unique.dedup();
        if 2 + ledger.len() + 3 * unique.len() > TRANSACT_MAX {
            return Err(StoreError::Unavailable(format!(
                "lead {}: {} ledger items and {} aliases exceed one transaction",
                state.lead_id,
                ledger.len(),
                unique.len()
            )));
        }
        for item in ledger {
            // Guarded by the lead's version condition in the same transaction.
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .build()
                .map_err(build_err)?;
            actions.push(TransactWriteItem::builder().put(put).build());
        }
        for a in unique {
            let mut alias = alias_key(a);
            alias.insert("lead".into(), s(&state.lead_id));
            let mut put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(alias))
                .expression_attribute_names("#lead", "lead")
                .expression_attribute_values(":lead", s(&state.lead_id));
            put = match absorbed {
                None => put.condition_expression("attribute_not_exists(pk) OR #lead = :lead"),
                Some(from) => put
                    .condition_expression(
                        "attribute_not_exists(pk) OR #lead = :lead OR #lead = :absorbed",
                    )
                    .expression_attribute_values(":absorbed", s(from)),
            };
            actions.push(
                TransactWriteItem::builder()
                    .put(put.build().map_err(build_err)?)
                    .build(),
            );
            // A record in the lead's partition, so erasure finds every alias of the lead.
            let record = Put::builder()
                .table_name(&self.table)
                .set_item(Some(HashMap::from([
                    (PK.into(), s(format!("L#{}", state.lead_id))),
                    (SK.into(), s(format!("A#{}", a.0))),
                ])))
                .build()
                .map_err(build_err)?;
            actions.push(TransactWriteItem::builder().put(record).build());
        }
        Ok(actions)
    }

    /// One TransactWriteItems; a cancellation (a condition failed, or a concurrent
    /// transaction on the same items) is a retryable conflict.
    async fn transact(
        &self,
        actions: Vec<TransactWriteItem>,
        lead_id: &str,
    ) -> Result<(), StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.code(),
                    Some("TransactionCanceledException" | "TransactionConflictException")
                ) =>
            {
                Err(StoreError::Conflict(format!(
                    "lead {lead_id} or one of its aliases changed: {}",
                    DisplayErrorContext(&e)
                )))
            }
            Err(e) => Err(unavailable("TransactWriteItems", e)),
        }
    }

    /// Writes leads as new (version 1) without conditions, 25 per BatchWriteItem: for seeding
    /// large test tables quickly (ledger entries the states hold are not written). Not for
    /// production paths.
    #[cfg(feature = "testing")]
    pub async fn seed(&self, states: &[LeadState]) -> Result<(), StoreError> {
        for chunk in states.chunks(BATCH_WRITE_MAX) {
            let mut requests = Vec::with_capacity(chunk.len());
            for state in chunk {
                let put = aws_sdk_dynamodb::types::PutRequest::builder()
                    .set_item(Some(self.lead_item(state, 1)?))
                    .build()
                    .map_err(build_err)?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(|e| unavailable("BatchWriteItem", e))?;
            if out.unprocessed_items().is_some_and(|u| !u.is_empty()) {
                return Err(StoreError::Unavailable("seed: unprocessed items".into()));
            }
        }
        Ok(())
    }

    /// Every item under a lead's partition (the lead, its ledger, its alias records), keys only.
    async fn lead_partition_keys(
        &self,
        lead_id: &str,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        self.partition_keys(&format!("L#{lead_id}"), None).await
    }

    /// The keys of a partition's items, optionally only those whose sort key starts with
    /// `prefix`.
    pub(crate) async fn partition_keys(
        &self,
        pk: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut keys = Vec::new();
        let mut start = None;
        let condition = match prefix {
            Some(_) => "pk = :pk AND begins_with(sk, :prefix)",
            None => "pk = :pk",
        };
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(condition)
                .expression_attribute_values(":pk", s(pk));
            let out = match prefix {
                Some(p) => out.expression_attribute_values(":prefix", s(p)),
                None => out,
            };
            let out = out
                .projection_expression("pk, sk")
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("Query", e))?;
            keys.extend(out.items().iter().cloned());
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(keys);
            }
        }
    }

    /// Deletes items by key, 25 per BatchWriteItem, asking again for what comes back
    /// unprocessed (a bounded number of times).
    async fn delete_keys(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<(), StoreError> {
        for chunk in keys.chunks(BATCH_WRITE_MAX) {
            let mut requests = chunk
                .iter()
                .map(|k| {
                    Ok(WriteRequest::builder()
                        .delete_request(
                            DeleteRequest::builder()
                                .set_key(Some(k.clone()))
                                .build()
                                .map_err(build_err)?,
                        )
                        .build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            for _ in 0..8 {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(|e| unavailable("BatchWriteItem", e))?;
                requests = out
                    .unprocessed_items()
                    .and_then(|u| u.get(&self.table))
                    .cloned()
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
            }
            if !requests.is_empty() {
                return Err(StoreError::Unavailable(
                    "BatchWriteItem left deletes unprocessed".into(),
                ));
            }
        }
        Ok(())
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

/// The most a stored state may claim to decompress to: far above any 400 KB item's content,
/// low enough that a corrupt length cannot exhaust memory.
const MAX_STATE_BYTES: usize = 64 << 20;

/// A `state` (or ledger `entries`) attribute's bytes: LZ4 with the decompressed size in
/// front.
pub fn decode_state(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let size = bytes
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_le_bytes(b) as usize)
        .ok_or("state is shorter than its size prefix")?;
    if size > MAX_STATE_BYTES {
        return Err(format!("state claims {size} bytes"));
    }
    lz4_flex::decompress_size_prepended(bytes)
        .map_err(|e| format!("state does not decompress: {e}"))
}

pub(crate) fn read_lead(
    item: &HashMap<String, AttributeValue>,
    id: &str,
) -> Result<Stored, StoreError> {
    let corrupt = |problem: &str| StoreError::Corrupt {
        key: format!("L#{id}"),
        problem: problem.into(),
    };
    let state = match item.get("state") {
        Some(AttributeValue::B(b)) => decode_state(b.as_ref()).map_err(|p| corrupt(&p))?,
        // Written before states were compressed.
        Some(AttributeValue::S(json)) => json.as_bytes().to_vec(),
        _ => return Err(corrupt("no `state` attribute")),
    };
    let version = item
        .get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| corrupt("no numeric `version`"))?;
    let state = serde_json::from_slice(&state)
        .map_err(|e| corrupt(&format!("state does not parse: {e}")))?;
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
        if aliases.is_empty() {
            // One key: a GetItem, lighter than a BatchGetItem.
            return Ok((Vec::new(), self.load(candidate).await?));
        }
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
        let ledger = self.ledger_items(state)?;
        if aliases.is_empty() && ledger.is_empty() {
            let (condition, value) = version_condition(expected);
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
        let actions = self.save_actions(state, item, expected, ledger, aliases, None)?;
        self.transact(actions, &state.lead_id).await?;
        Ok(version)
    }

    async fn save_merged(
        &self,
        state: &LeadState,
        expected: u64,
        aliases: &[Alias],
        absorbed: &str,
        absorbed_version: u64,
    ) -> Result<u64, StoreError> {
        let version = expected + 1;
        let item = self.lead_item(state, version)?;
        let ledger = self.ledger_items(state)?;
        // The absorbed lead's partition lists its aliases (records) and its ledger items.
        let keys = self.lead_partition_keys(absorbed).await?;
        let mut all: Vec<Alias> = aliases.to_vec();
        all.extend(recorded_aliases(&keys));
        let mut actions =
            self.save_actions(state, item, Some(expected), ledger, &all, Some(absorbed))?;
        // The absorbed lead goes only if nobody wrote it since it was read.
        actions.push(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(lead_key(absorbed)))
                        .condition_expression("#version = :absorbed_version")
                        .expression_attribute_names("#version", "version")
                        .expression_attribute_values(
                            ":absorbed_version",
                            AttributeValue::N(absorbed_version.to_string()),
                        )
                        .build()
                        .map_err(build_err)?,
                )
                .build(),
        );
        for k in keys
            .iter()
            .filter(|k| sort_key(k).is_some_and(|sk| sk.starts_with("A#")))
        {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(k.clone()))
                .build()
                .map_err(build_err)?;
            actions.push(TransactWriteItem::builder().delete(delete).build());
        }
        self.transact(actions, &state.lead_id).await?;
        // The absorbed lead's ledger items explained a lead that no longer exists: remove
        // them. Best effort, after the merge committed; what is left expires with the TTL.
        let ledger_keys: Vec<_> = keys
            .into_iter()
            .filter(|k| sort_key(k).is_some_and(|sk| sk.starts_with("E#")))
            .collect();
        let _ = self.delete_keys(ledger_keys).await;
        Ok(version)
    }

    async fn ledger(&self, lead_id: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let mut entries: Vec<LedgerEntry> = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :e)")
                .expression_attribute_values(":pk", s(format!("L#{lead_id}")))
                .expression_attribute_values(":e", s("E#"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("Query", e))?;
            for item in out.items() {
                let sk = item.get(SK).and_then(|v| v.as_s().ok());
                let corrupt = |problem: String| StoreError::Corrupt {
                    key: format!("L#{lead_id}/{}", sk.map_or("?", |s| s.as_str())),
                    problem,
                };
                let json = match item.get("entries") {
                    Some(AttributeValue::B(b)) => decode_state(b.as_ref()).map_err(&corrupt)?,
                    Some(AttributeValue::S(json)) => json.as_bytes().to_vec(),
                    _ => return Err(corrupt("no `entries` attribute".into())),
                };
                let chunk: Vec<LedgerEntry> = serde_json::from_slice(&json)
                    .map_err(|e| corrupt(format!("entries do not parse: {e}")))?;
                entries.extend(chunk);
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        // Items come in key order, which is `seq` order; sorting keeps that true whatever
        // wrote them.
        entries.sort_by_key(|e| e.seq);
        Ok(entries)
    }

    async fn aliases(&self, lead_id: &str) -> Result<Vec<Alias>, StoreError> {
        let keys = self.lead_partition_keys(lead_id).await?;
        Ok(recorded_aliases(&keys).collect())
    }

    async fn erase(&self, lead_id: &str, aliases: &[Alias]) -> Result<(), StoreError> {
        // The lead, its ledger and its alias records share a partition: one query finds them.
        let keys = self.lead_partition_keys(lead_id).await?;
        let mut all: Vec<Alias> = recorded_aliases(&keys)
            .chain(aliases.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        // Aliases first: if this stops half-way, the partition still lists them for a retry.
        for a in &all {
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
        self.delete_keys(keys).await?;
        // The notification log names the lead too.
        let notices = self.notice_keys(lead_id).await?;
        self.delete_keys(notices).await
    }
}

impl DueIndex for DynamoStore {
    async fn due(
        &self,
        shard: u16,
        through: NaiveDate,
        limit: usize,
        after: Option<&DueCursor>,
    ) -> Result<DuePage, StoreError> {
        let start = match after {
            None => None,
            Some(c) => Some(
                serde_json::from_str::<HashMap<String, String>>(&c.0)
                    .map_err(|e| StoreError::Unavailable(format!("bad due cursor: {e}")))?
                    .into_iter()
                    .map(|(k, v)| (k, s(v)))
                    .collect(),
            ),
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DUE_INDEX)
            .key_condition_expression("#shard = :shard AND #on <= :through")
            .expression_attribute_names("#shard", DUE_SHARD)
            .expression_attribute_names("#on", DUE_ON)
            .expression_attribute_values(":shard", s(shard_key(shard)))
            .expression_attribute_values(":through", s(day_key(through)))
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| unavailable("Query due", e))?;
        let mut leads = Vec::with_capacity(out.items().len());
        for item in out.items() {
            let id = item
                .get(PK)
                .and_then(|v| v.as_s().ok())
                .and_then(|pk| pk.strip_prefix("L#"))
                .ok_or_else(|| StoreError::Corrupt {
                    key: format!("{DUE_INDEX} index"),
                    problem: "an item without a lead key".into(),
                })?;
            leads.push(read_lead(item, id)?);
        }
        let next = match out.last_evaluated_key() {
            None => None,
            Some(k) => {
                let plain: HashMap<&str, &str> = k
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str(), v.as_s().ok()?.as_str())))
                    .collect();
                Some(DueCursor(serde_json::to_string(&plain).map_err(|e| {
                    StoreError::Unavailable(format!("cannot encode due cursor: {e}"))
                })?))
            }
        };
        Ok(DuePage {
            items_read: usize::try_from(out.scanned_count()).unwrap_or(leads.len()),
            leads,
            next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::decode_state;

    #[test]
    fn states_decode_and_corrupt_lengths_are_refused() {
        let json = br#"{"lead_id":"x"}"#.repeat(50);
        let packed = lz4_flex::compress_prepend_size(&json);
        assert!(packed.len() < json.len() / 4, "{} bytes", packed.len());
        assert_eq!(decode_state(&packed).unwrap(), json);
        assert!(decode_state(&[1, 2]).is_err());
        let mut huge = packed.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_state(&huge).unwrap_err().contains("claims"));
        let mut cut = packed;
        cut.truncate(8);
        assert!(decode_state(&cut).is_err());
    }
}
