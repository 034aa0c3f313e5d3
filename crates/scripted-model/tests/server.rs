//! The server over raw TCP: what any HTTP/1.1 client would send and see.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use codex_scripted_model::{Reply, ScriptedModel};

/// Reads one response: status line, headers, and a body by Content-Length or chunks (until the
/// terminating chunk, or EOF for a cut stream).
fn read_response(reader: &mut BufReader<TcpStream>) -> (u16, Vec<String>, String) {
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).expect("header");
        let h = h.trim_end().to_string();
        if h.is_empty() {
            break;
        }
        headers.push(h.to_ascii_lowercase());
    }
    let mut body = Vec::new();
    if let Some(len) = headers
        .iter()
        .find_map(|h| h.strip_prefix("content-length: "))
    {
        body.resize(len.parse().expect("length"), 0);
        reader.read_exact(&mut body).expect("body");
    } else {
        loop {
            let mut size = String::new();
            if reader.read_line(&mut size).expect("chunk size") == 0 {
                break; // cut
            }
            let size = usize::from_str_radix(size.trim(), 16).expect("hex size");
            if size == 0 {
                let mut end = String::new();
                reader.read_line(&mut end).expect("final CRLF");
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).expect("chunk");
            body.extend_from_slice(&chunk[..size]);
        }
    }
    (
        status,
        headers,
        String::from_utf8(body).expect("utf-8 body"),
    )
}

#[test]
fn one_keep_alive_connection_gets_each_reply_in_turn_and_requests_are_recorded() {
    let server = ScriptedModel::start(vec![
        Reply::Sse("data: one\n\ndata: two\n\n".into()),
        Reply::Status {
            status: 429,
            headers: vec![("Retry-After".into(), "1".into())],
            body: "{}".into(),
        },
    ])
    .expect("server starts");
    assert!(server.base_url().starts_with("http://127.0.0.1:"));
    let conn = TcpStream::connect(server.addr()).expect("connect");
    let mut writer = conn.try_clone().expect("clone");
    let mut reader = BufReader::new(conn);

    let body = br#"{"model":"m"}"#;
    write!(
        writer,
        "POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .expect("write");
    writer.write_all(body).expect("write body");
    let (status, headers, got) = read_response(&mut reader);
    assert_eq!(status, 200);
    assert!(headers.contains(&"content-type: text/event-stream".to_string()));
    assert_eq!(got, "data: one\n\ndata: two\n\n");

    // A chunked request body on the same connection.
    writer
        .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n")
        .expect("write chunked");
    let (status, headers, _) = read_response(&mut reader);
    assert_eq!(status, 429);
    assert!(headers.contains(&"retry-after: 1".to_string()));

    // Out of script: a loud 500.
    writer
        .write_all(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let (status, _, got) = read_response(&mut reader);
    assert_eq!(status, 500);
    assert!(got.contains("script exhausted"), "{got}");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].path, "/v1/responses");
    assert_eq!(requests[0].body, serde_json::json!({"model": "m"}));
    assert_eq!(requests[0].header("content-length"), Some("13"));
    assert_eq!(requests[1].body, serde_json::json!({"a": 1}));
    assert_eq!(requests[2].method, "GET");
    assert_eq!(requests[2].body, serde_json::Value::Null);
    // The finish is recorded just after the last byte is written, so the client can see the
    // reply a moment before.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let finished = loop {
        let finished = server.reply_finished_at();
        if finished.len() == 3 || std::time::Instant::now() > deadline {
            break finished;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert_eq!(finished.len(), 3);
    assert!(finished[0] >= requests[0].received_at);
    assert!(requests[1].received_at >= finished[0]);
}

#[test]
fn a_cut_reply_closes_the_connection_inside_the_body() {
    let server = ScriptedModel::start(vec![Reply::Cut("data: {\"half".into())]).expect("starts");
    server.push(Reply::Sse("data: later\n\n".into()));
    let conn = TcpStream::connect(server.addr()).expect("connect");
    let mut writer = conn.try_clone().expect("clone");
    let mut reader = BufReader::new(conn);
    writer
        .write_all(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .expect("write");
    let (status, _, got) = read_response(&mut reader);
    assert_eq!(status, 200);
    assert_eq!(got, "data: {\"half");
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).expect("EOF");
    assert!(rest.is_empty());
    assert_eq!(server.remaining(), 1);
}
