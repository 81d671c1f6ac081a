//! The notification log in DynamoDB, in the leads' table:
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | notice | `N#<lead id>` | `<transition time>#<route>` | `status` (`sending`, `sent`, `failed`), `claimed_at` (N, ms), `error`, `failed_at` (N, ms) |
//! | failure listing | `F` | `<lead id>|<transition time>#<route>` | `failed_at` (N, ms), `error` |
//!
//! A claim is one conditional UpdateItem; failures are rare, so their listing is one small
//! partition that the re-drive command queries.

use crate::dynamo::{s, unavailable};
use crate::sent::{Claim, FailedNotice, NoticeKey, SentLog};
use crate::{DynamoStore, StoreError};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashMap;

const FAILED_PK: &str = "F";

fn notice_key(k: &NoticeKey) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), s(format!("N#{}", k.lead))),
        ("sk".to_owned(), s(k.sort_key())),
    ])
}

fn listing_key(k: &NoticeKey) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), s(FAILED_PK)),
        ("sk".to_owned(), s(format!("{}|{}", k.lead, k.sort_key()))),
    ])
}

fn ms(t: DateTime<Utc>) -> AttributeValue {
    AttributeValue::N(t.timestamp_millis().to_string())
}

fn status_of(item: Option<&HashMap<String, AttributeValue>>) -> Option<&str> {
    item?.get("status")?.as_s().ok().map(String::as_str)
}

impl DynamoStore {
    /// The keys of a lead's notification log items and of its failure listings (erasure).
    pub(crate) async fn notice_keys(
        &self,
        lead: &str,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut keys = self.partition_keys(&format!("N#{lead}"), None).await?;
        let listed = self
            .partition_keys(FAILED_PK, Some(&format!("{lead}|")))
            .await?;
        keys.extend(listed);
        Ok(keys)
    }
}

impl SentLog for DynamoStore {
    async fn claim(
        &self,
        key: &NoticeKey,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        redrive: bool,
    ) -> Result<Claim, StoreError> {
        let stale = now.checked_sub_signed(lease).unwrap_or(now);
        let mut condition =
            "attribute_not_exists(pk) OR (#s = :sending AND claimed_at <= :stale)".to_owned();
        if redrive {
            condition.push_str(" OR #s = :failed");
        }
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(notice_key(key)))
            .update_expression("SET #s = :sending, claimed_at = :now")
            .condition_expression(condition)
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":now", ms(now))
            .expression_attribute_values(":stale", ms(stale))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if redrive {
            update = update.expression_attribute_values(":failed", s("failed"));
        }
        match update.send().await {
            Ok(_) => Ok(Claim::Claimed),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                    Ok(match status_of(c.item()) {
                        Some("sent") => Claim::Sent,
                        Some("failed") => Claim::Failed,
                        _ => Claim::InFlight,
                    })
                }
                _ => Err(unavailable("UpdateItem (claim)", e)),
            },
        }
    }

    async fn mark_sent(&self, key: &NoticeKey) -> Result<(), StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(notice_key(key)))
            .update_expression("SET #s = :sent REMOVE #e, failed_at")
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#e", "error")
            .expression_attribute_values(":sent", s("sent"))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| unavailable("UpdateItem (sent)", e))?;
        // A re-driven notification leaves the failure listing.
        if out.attributes().is_some_and(|a| a.contains_key("error")) {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(listing_key(key)))
                .send()
                .await
                .map_err(|e| unavailable("DeleteItem (failure listing)", e))?;
        }
        Ok(())
    }

    async fn release(&self, key: &NoticeKey) -> Result<(), StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(notice_key(key)))
            .condition_expression("#s = :sending")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":sending", s("sending"))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(unavailable("DeleteItem (release)", e)),
        }
    }

    async fn mark_failed(
        &self,
        key: &NoticeKey,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(notice_key(key)))
            .update_expression("SET #s = :failed, #e = :error, failed_at = :now")
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#e", "error")
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":error", s(error))
            .expression_attribute_values(":now", ms(now))
            .send()
            .await
            .map_err(|e| unavailable("UpdateItem (failed)", e))?;
        let mut listing = listing_key(key);
        listing.insert("error".into(), s(error));
        listing.insert("failed_at".into(), ms(now));
        listing.insert("lead".into(), s(&key.lead));
        listing.insert("route".into(), s(&key.route));
        listing.insert("transition_at".into(), ms(key.transition_at));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(listing))
            .send()
            .await
            .map_err(|e| unavailable("PutItem (failure listing)", e))?;
        Ok(())
    }

    async fn failed(&self) -> Result<Vec<FailedNotice>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :f")
                .expression_attribute_values(":f", s(FAILED_PK))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("Query (failures)", e))?;
            for item in page.items() {
                let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
                let time = |k: &str| {
                    item.get(k)
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse::<i64>().ok())
                        .and_then(|n| Utc.timestamp_millis_opt(n).single())
                };
                let (Some(lead), Some(route), Some(at), Some(failed_at)) = (
                    text("lead"),
                    text("route"),
                    time("transition_at"),
                    time("failed_at"),
                ) else {
                    return Err(StoreError::Corrupt {
                        key: format!("F/{}", text("sk").unwrap_or_default()),
                        problem: "a failure listing without lead, route or times".into(),
                    });
                };
                out.push(FailedNotice {
                    key: NoticeKey {
                        lead,
                        transition_at: at,
                        route,
                    },
                    error: text("error").unwrap_or_default(),
                    failed_at,
                });
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        out.sort_by(|a, b| (a.failed_at, &a.key).cmp(&(b.failed_at, &b.key)));
        Ok(out)
    }
}
