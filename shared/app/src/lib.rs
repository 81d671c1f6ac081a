//! Application handlers: transport-free services that take ports (the store) as arguments.
//! The Lambdas and the CLI both call these, so local runs execute the code that runs in AWS.

pub mod config;
pub mod error;
pub mod http;
pub mod ingest;
mod merge;
pub mod notify;
pub mod sweep;
