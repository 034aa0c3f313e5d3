//! The JSON-RPC 2.0 envelope. Incoming messages are classified leniently: Codex 0.169 omits the
//! `jsonrpc` member from its replies, so neither side requires it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol version we write on every message.
pub const JSONRPC_VERSION: &str = "2.0";

/// A request id: a number or a string, echoed back in the reply.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// Numeric id.
    Number(i64),
    /// String id.
    String(String),
}

/// Standard JSON-RPC error codes, as used by both servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The line is not JSON.
    ParseError,
    /// Not a valid request here (includes calls before `initialize`, a duplicate process id).
    InvalidRequest,
    /// No such method.
    MethodNotFound,
    /// Parameters missing or of the wrong shape.
    InvalidParams,
    /// The server failed doing it (e.g. the program could not be started).
    Internal,
}

impl ErrorCode {
    /// The numeric code.
    pub const fn code(self) -> i64 {
        match self {
            Self::ParseError => -32700,
            Self::InvalidRequest => -32600,
            Self::MethodNotFound => -32601,
            Self::InvalidParams => -32602,
            Self::Internal => -32603,
        }
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} (JSON-RPC error {code})")]
pub struct RpcError {
    /// Numeric code.
    pub code: i64,
    /// What went wrong, for people.
    pub message: String,
    /// Extra detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with a standard code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        RpcError {
            code: code.code(),
            message: message.into(),
            data: None,
        }
    }
}

/// One incoming message, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A call that wants a reply.
    Request {
        /// Echo this in the reply.
        id: RequestId,
        /// The method.
        method: String,
        /// Its parameters (`null` when absent).
        params: Value,
    },
    /// A call without a reply.
    Notification {
        /// The method.
        method: String,
        /// Its parameters (`null` when absent).
        params: Value,
    },
    /// A reply to one of our requests.
    Response {
        /// The id of our request.
        id: RequestId,
        /// The result, or the error.
        result: Result<Value, RpcError>,
    },
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    id: Option<RequestId>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Value>,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<RpcError>,
}

impl Incoming {
    /// Parses one message. The error is what to send back (with a null id).
    pub fn parse(text: &str) -> Result<Incoming, RpcError> {
        let raw: Raw = serde_json::from_str(text).map_err(|e| {
            RpcError::new(
                ErrorCode::ParseError,
                format!("message is not valid JSON-RPC: {e}"),
            )
        })?;
        match (raw.method, raw.id) {
            (Some(method), Some(id)) => Ok(Incoming::Request {
                id,
                method,
                params: raw.params.unwrap_or(Value::Null),
            }),
            (Some(method), None) => Ok(Incoming::Notification {
                method,
                params: raw.params.unwrap_or(Value::Null),
            }),
            (None, Some(id)) => {
                let result = match raw.error {
                    Some(e) => Err(e),
                    None => Ok(raw.result.unwrap_or(Value::Null)),
                };
                Ok(Incoming::Response { id, result })
            }
            (None, None) => Err(RpcError::new(
                ErrorCode::InvalidRequest,
                "message has neither a method nor an id",
            )),
        }
    }
}

/// Encodes a request.
pub fn request(id: &RequestId, method: &str, params: &impl Serialize) -> String {
    serde_json::json!({"jsonrpc": JSONRPC_VERSION, "id": id, "method": method, "params": params})
        .to_string()
}

/// Encodes a notification.
pub fn notification(method: &str, params: &impl Serialize) -> String {
    serde_json::json!({"jsonrpc": JSONRPC_VERSION, "method": method, "params": params}).to_string()
}

/// Encodes a successful reply.
pub fn response(id: &RequestId, result: &impl Serialize) -> String {
    serde_json::json!({"jsonrpc": JSONRPC_VERSION, "id": id, "result": result}).to_string()
}

/// Encodes an error reply; `id` is `None` when the request could not be read.
pub fn error_response(id: Option<&RequestId>, error: &RpcError) -> String {
    serde_json::json!({"jsonrpc": JSONRPC_VERSION, "id": id, "error": error}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_without_jsonrpc_member_are_accepted() {
        let m = Incoming::parse(r#"{"id":1,"result":{"sessionId":"s"}}"#).expect("test value");
        assert!(matches!(m, Incoming::Response { result: Ok(_), .. }));
        let m = Incoming::parse(r#"{"error":{"code":-32600,"message":"x"},"id":3}"#)
            .expect("test value");
        match m {
            Incoming::Response { result: Err(e), .. } => assert_eq!(e.code, -32600),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_json_is_a_parse_error() {
        let e = Incoming::parse("{bad").expect_err("a parse error");
        assert_eq!(e.code, -32700);
    }

    #[test]
    fn requests_and_notifications_are_told_apart() {
        assert!(matches!(
            Incoming::parse(r#"{"jsonrpc":"2.0","id":"a","method":"m"}"#).expect("test value"),
            Incoming::Request { .. }
        ));
        assert!(matches!(
            Incoming::parse(r#"{"method":"initialized"}"#).expect("test value"),
            Incoming::Notification { .. }
        ));
    }
}
