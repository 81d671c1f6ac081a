//! API Gateway HTTP API (payload 2.0) events to and from leadscore's transport-neutral
//! [`Request`] and [`Response`].

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use base64::Engine;
use leadscore_app::http::{Request, Response};
use serde_json::json;
use std::collections::HashMap;

/// An event that cannot become a [`Request`]. Always the sender's fault: a 400.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("the body is marked base64-encoded but is not valid base64: {0}")]
    BadBase64(#[from] base64::DecodeError),
}

impl ConvertError {
    pub fn status(&self) -> u16 {
        400
    }

    fn code(&self) -> &'static str {
        match self {
            ConvertError::BadBase64(_) => "invalid_body_encoding",
        }
    }

    /// The same JSON error shape as the application's errors (`error` code and `message`).
    pub fn to_response(&self) -> Response {
        Response::json(
            self.status(),
            json!({ "error": self.code(), "message": self.to_string() }),
        )
    }
}

/// Converts an API Gateway v2 event. The method comes from `requestContext.http.method` (the
/// top-level `httpMethod` only exists in authorizer payloads), the path from `rawPath`, the
/// query from `rawQueryString`. Header names are lower-cased and repeated headers joined with
/// `,` as API Gateway does; cookies, which API Gateway moves out of the headers, go back into
/// `cookie`. A base64 body (any non-text content type, form posts included) is decoded: the
/// signatures cover the bytes the sender sent.
pub fn to_request(event: ApiGatewayV2httpRequest) -> Result<Request, ConvertError> {
    let body = match event.body {
        None => Vec::new(),
        Some(b) if event.is_base64_encoded => {
            base64::engine::general_purpose::STANDARD.decode(b.as_bytes())?
        }
        Some(b) => b.into_bytes(),
    };
    let mut headers: HashMap<String, String> = HashMap::with_capacity(event.headers.keys_len());
    for (name, value) in &event.headers {
        // Header values may carry obs-text bytes: keep them readable rather than fail.
        let value = String::from_utf8_lossy(value.as_bytes());
        headers
            .entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    if let Some(cookies) = event.cookies.filter(|c| !c.is_empty()) {
        headers
            .entry("cookie".to_owned())
            .or_insert_with(|| cookies.join("; "));
    }
    let path = event
        .raw_path
        .or(event.request_context.http.path)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/".to_owned());
    Ok(Request {
        method: event.request_context.http.method.as_str().to_owned(),
        path,
        query: event.raw_query_string.unwrap_or_default(),
        headers,
        body,
    })
}

/// Converts a response: the JSON body as text, `content-type: application/json`, and the
/// response's extra headers (a header that is not valid HTTP is dropped with a warning).
pub fn to_response(response: Response) -> ApiGatewayV2httpResponse {
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(response.status);
    out.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in &response.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                out.headers.append(n, v);
            }
            _ => tracing::warn!(header = %name, "dropped a response header that is not valid HTTP"),
        }
    }
    out.body = Some(Body::Text(response.body.to_string()));
    out.is_base64_encoded = false;
    out
}
