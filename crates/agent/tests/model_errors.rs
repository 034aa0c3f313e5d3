//! Retries and HTTP errors, against a scripted server over real HTTP.

use std::time::{Duration, Instant};

use codex_agent::model::{
    ClientOptions, Item, ModelClient, ModelError, Prompt, ResponseEvent, ResponseStream, Role,
};
use codex_config::{ModelProvider, WireApi};
use codex_scripted_model::{Reply, ScriptedModel, script};

const KEY: &str = "sk-very-secret-test-key";

/// Retries with waits of at most 5 ms, so that tests stay fast.
fn quick(max_retries: u32) -> ClientOptions {
    ClientOptions {
        max_retries,
        max_retry_delay: Duration::from_millis(5),
        timeout: Duration::from_secs(10),
    }
}

fn client_for(base_url: String, options: ClientOptions) -> ModelClient {
    let provider = ModelProvider {
        name: None,
        base_url,
        env_key: Some("OPENAI_API_KEY".into()),
        wire_api: WireApi::Responses,
        requires_openai_auth: false,
    };
    ModelClient::with_api_key("openai", &provider, "gpt-test", Some(KEY.into()), options)
        .expect("client")
}

fn prompt() -> Prompt {
    Prompt {
        instructions: String::new(),
        input: vec![Item::message(Role::User, "hi")],
        tools: Vec::new(),
        ..Prompt::default()
    }
}

async fn completes(mut stream: ResponseStream) {
    let mut last = None;
    while let Some(event) = stream.next().await {
        last = Some(event.expect("good event"));
    }
    assert!(matches!(last, Some(ResponseEvent::Completed { .. })));
}

/// Checks what every error message promises: one line, never the key.
fn message(err: &ModelError) -> String {
    let text = err.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    assert!(!text.contains(KEY), "no key: {text}");
    text
}

fn status(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    Reply::Status {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
    }
}

#[tokio::test]
async fn a_429_is_retried_after_the_retry_after_seconds() {
    let server = ScriptedModel::start(vec![
        status(
            429,
            &[("Retry-After", "1")],
            r#"{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"#,
        ),
        Reply::Sse(script::responses_text("ok")),
    ])
    .expect("server");
    // The default cap (60 s) lets the server's 1 s through.
    let client = client_for(server.base_url(), ClientOptions::default());
    let began = Instant::now();
    completes(client.stream(&prompt()).await.expect("retried")).await;
    assert!(
        began.elapsed() >= Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1]
            .received_at
            .duration_since(requests[0].received_at)
            >= Duration::from_secs(1)
    );
}

#[tokio::test]
async fn a_503_is_retried_with_backoff() {
    let server = ScriptedModel::start(vec![
        status(503, &[], "upstream unavailable"),
        status(502, &[], "<html>bad gateway</html>"),
        Reply::Sse(script::responses_text("ok")),
    ])
    .expect("server");
    let client = client_for(server.base_url(), quick(4));
    completes(client.stream(&prompt()).await.expect("retried")).await;
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn exhausted_retries_say_how_many_attempts_were_made() {
    let server = ScriptedModel::start(vec![
        status(
            500,
            &[],
            r#"{"error":{"message":"The server had an error"}}"#,
        ),
        status(
            500,
            &[],
            r#"{"error":{"message":"The server had an error"}}"#,
        ),
        status(
            500,
            &[],
            r#"{"error":{"message":"The server had an error"}}"#,
        ),
    ])
    .expect("server");
    let client = client_for(server.base_url(), quick(2));
    let err = client.stream(&prompt()).await.expect_err("fails");
    assert!(
        matches!(
            err,
            ModelError::Http {
                status: 500,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        message(&err),
        "provider `openai` answered 500: The server had an error (after 3 attempts): the provider is having trouble; try again later"
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_401_is_unauthorized_and_not_retried() {
    let server = ScriptedModel::start(vec![status(
        401,
        &[],
        &format!(
            r#"{{"error":{{"message":"Incorrect API key provided: {KEY}.","code":"invalid_api_key"}}}}"#
        ),
    )])
    .expect("server");
    let client = client_for(server.base_url(), quick(4));
    let err = client.stream(&prompt()).await.expect_err("fails");
    assert!(
        matches!(err, ModelError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    let text = message(&err);
    assert!(
        text.starts_with("provider `openai` rejected the API key in OPENAI_API_KEY (401: "),
        "{text}"
    );
    assert!(text.ends_with("): check the key"), "{text}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_404_model_not_found_is_unknown_model() {
    let server = ScriptedModel::start(vec![Reply::error(
        404,
        "model_not_found",
        "The model `gpt-test` does not exist or you do not have access to it.",
    )])
    .expect("server");
    let client = client_for(server.base_url(), quick(4));
    let err = client.stream(&prompt()).await.expect_err("fails");
    assert!(matches!(err, ModelError::UnknownModel { .. }), "{err:?}");
    let text = message(&err);
    assert!(
        text.starts_with("model `gpt-test` is not available from provider `openai` (404: The model `gpt-test` does not exist"),
        "{text}"
    );
    assert!(text.contains("choose another with --model"), "{text}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_400_model_not_found_is_unknown_model_but_other_400s_are_http_errors() {
    let server = ScriptedModel::start(vec![
        Reply::error(
            400,
            "model_not_found",
            "The requested model does not exist.",
        ),
        Reply::error(400, "invalid_value", "Invalid value for 'input'."),
    ])
    .expect("server");
    let client = client_for(server.base_url(), quick(4));
    let err = client.stream(&prompt()).await.expect_err("fails");
    assert!(
        matches!(err, ModelError::UnknownModel { status: 400, .. }),
        "{err:?}"
    );
    let err = client.stream(&prompt()).await.expect_err("fails");
    assert!(
        matches!(
            err,
            ModelError::Http {
                status: 400,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        message(&err),
        "provider `openai` answered 400: Invalid value for 'input'. (invalid_value): check the model and the provider settings in config.toml"
    );
    assert_eq!(server.requests().len(), 2, "4xx are not retried");
}

#[tokio::test]
async fn running_out_of_quota_is_not_retried() {
    let server = ScriptedModel::start(vec![Reply::error(
        429,
        "insufficient_quota",
        "You exceeded your current quota.",
    )])
    .expect("server");
    let client = client_for(server.base_url(), quick(4));
    let err = client.stream(&prompt()).await.expect_err("fails");
    assert!(
        matches!(
            err,
            ModelError::Http {
                status: 429,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_unreachable_base_url_is_a_connect_error_after_retries() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let base_url = format!("http://127.0.0.1:{port}/v1");
    let client = client_for(base_url.clone(), quick(1));
    let err = client.stream(&prompt()).await.expect_err("fails");
    assert!(
        matches!(err, ModelError::Connect { attempts: 2, .. }),
        "{err:?}"
    );
    assert_eq!(
        message(&err),
        format!(
            "cannot reach {base_url}/responses: connection refused (after 2 attempts): check base_url"
        )
    );
}
