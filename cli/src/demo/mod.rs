//! The demo: a seeded, realistic sample of webhook deliveries (HubSpot, SendGrid and the
//! generic events sender) for leads of several personas, to feed through ingestion.

// The demo command reads part of the generated sample; the rest (profile details, helpers)
// is there for its output and tests.
#[allow(dead_code)]
pub mod generate;
