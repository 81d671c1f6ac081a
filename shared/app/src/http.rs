//! A transport-neutral HTTP request and response: API Gateway events and the local server
//! both convert to and from these.

use serde_json::Value;
use std::collections::HashMap;

#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    /// The path the sender called, without the query (e.g. `/webhooks/hubspot`).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Header names lower-cased (API Gateway v2 does so already).
    pub headers: HashMap<String, String>,
    /// The body exactly as received (signatures cover these bytes).
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

impl leadscore_sources::signature::Headers for Request {
    fn header(&self, name: &str) -> Option<&str> {
        Request::header(self, name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: Value,
    /// Extra headers, e.g. `Allow` on a 405.
    pub headers: Vec<(String, String)>,
}

impl Response {
    pub fn json(status: u16, body: Value) -> Response {
        Response {
            status,
            body,
            headers: Vec::new(),
        }
    }
}
