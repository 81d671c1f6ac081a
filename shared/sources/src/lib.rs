//! Webhook sources: each verifies its sender and turns its payloads into the domain's
//! normalized events. Pure: no I/O, no store; the clock is an argument.
//!
//! | module | sender |
//! |---|---|
//! | `hubspot` | HubSpot app webhooks (contact events, property changes, merges, deletions) and workflow webhooks (one contact record) |
//! | `marketo` | Marketo webhooks (a documented payload template) |
//! | `sendgrid` | SendGrid's event webhook |
//! | `events` | leadscore's generic JSON format for website and product events |
//! | `signature` | HubSpot v1/v2/v3, SendGrid ECDSA, HMAC-SHA256 and shared-token checks |

mod error;
pub mod events;
pub mod hubspot;
mod inbound;
pub mod marketo;
pub mod sendgrid;
pub mod signature;

pub use error::{SignatureError, SourceError};
pub use inbound::{CrmRef, Ignored, Inbound, LeadRef, Parsed};
