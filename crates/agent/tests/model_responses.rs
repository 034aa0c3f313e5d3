//! The model client against a scripted Responses API server, over real HTTP.

use std::time::Duration;

use codex_agent::model::{
    ClientOptions, Item, ModelClient, ModelError, Prompt, ResponseEvent, Role, ToolSpec, Usage,
};
use codex_config::{ModelProvider, WireApi};
use codex_scripted_model::{Reply, ScriptedModel, script};
use serde_json::json;

const KEY: &str = "sk-scripted-test-key";

fn provider(server: &ScriptedModel) -> ModelProvider {
    ModelProvider {
        name: Some("Scripted".into()),
        base_url: server.base_url(),
        env_key: Some("CODEX_SCRIPTED_TEST_KEY".into()),
        wire_api: WireApi::Responses,
        requires_openai_auth: false,
    }
}

fn options() -> ClientOptions {
    ClientOptions {
        max_retries: 2,
        max_retry_delay: Duration::from_millis(10),
        timeout: Duration::from_secs(10),
    }
}

fn client(server: &ScriptedModel) -> ModelClient {
    ModelClient::with_api_key(
        "scripted",
        &provider(server),
        "gpt-test",
        Some(KEY.into()),
        options(),
    )
    .expect("client")
}

fn user(text: &str) -> Prompt {
    Prompt {
        instructions: "You are a test.".into(),
        input: vec![Item::message(Role::User, text)],
        tools: Vec::new(),
        ..Prompt::default()
    }
}

/// Every event until the stream ends; panics on an error.
async fn events(client: &ModelClient, prompt: &Prompt) -> Vec<ResponseEvent> {
    let mut stream = client.stream(prompt).await.expect("stream starts");
    let mut out = Vec::new();
    while let Some(event) = stream.next().await {
        out.push(event.expect("good event"));
    }
    out
}

/// The error the stream ends with, after any good events.
async fn stream_error(client: &ModelClient, prompt: &Prompt) -> ModelError {
    let mut stream = client.stream(prompt).await.expect("stream starts");
    while let Some(event) = stream.next().await {
        if let Err(e) = event {
            assert!(
                stream.next().await.is_none(),
                "nothing comes after an error"
            );
            return e;
        }
    }
    panic!("the stream ended without an error");
}

#[tokio::test]
async fn text_streams_as_deltas_then_the_whole_message_then_completed_with_usage() {
    let server = ScriptedModel::start(vec![Reply::Sse(script::responses_text(
        "Hello there, world",
    ))])
    .expect("server");
    let got = events(&client(&server), &user("hi")).await;
    assert_eq!(
        got,
        vec![
            ResponseEvent::TextDelta("Hello ".into()),
            ResponseEvent::TextDelta("there, ".into()),
            ResponseEvent::TextDelta("world".into()),
            ResponseEvent::Item(Item::message(Role::Assistant, "Hello there, world")),
            ResponseEvent::Completed {
                response_id: Some("resp_scripted".into()),
                usage: Some(Usage {
                    input_tokens: 10,
                    output_tokens: 3,
                    total_tokens: 13
                }),
            },
        ]
    );
}

#[tokio::test]
async fn a_function_call_comes_out_as_one_item_with_its_arguments_text() {
    let args = json!({"command": ["ls", "-la"], "workdir": "/tmp"});
    let server = ScriptedModel::start(vec![Reply::Sse(script::responses_function_call(
        "call_42", "shell", &args,
    ))])
    .expect("server");
    let got = events(&client(&server), &user("list files")).await;
    assert_eq!(got.len(), 2, "{got:?}");
    let ResponseEvent::Item(Item::FunctionCall {
        call_id,
        name,
        arguments,
    }) = &got[0]
    else {
        panic!("expected a function call, got {got:?}");
    };
    assert_eq!((call_id.as_str(), name.as_str()), ("call_42", "shell"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(arguments).expect("JSON"),
        args
    );
    assert!(matches!(got[1], ResponseEvent::Completed { .. }));
}

#[tokio::test]
async fn the_request_carries_instructions_tools_the_history_and_the_key() {
    let server =
        ScriptedModel::start(vec![Reply::Sse(script::responses_text("done"))]).expect("server");
    let prompt = Prompt {
        instructions: "Be brief.".into(),
        input: vec![
            Item::message(Role::Developer, "cwd is /repo"),
            Item::message(Role::User, "run ls"),
            Item::message(Role::Assistant, "Running it."),
            Item::FunctionCall {
                call_id: "call_1".into(),
                name: "shell".into(),
                arguments: r#"{"command":["ls"]}"#.into(),
            },
            Item::FunctionCallOutput {
                call_id: "call_1".into(),
                output: "Cargo.toml\nsrc\n".into(),
            },
        ],
        tools: vec![ToolSpec {
            name: "shell".into(),
            description: "Runs a command.".into(),
            parameters: json!({"type": "object", "properties": {"command": {"type": "array"}}}),
        }],
        ..Prompt::default()
    };
    events(&client(&server), &prompt).await;
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/responses");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    assert_eq!(
        request.body,
        json!({
            "model": "gpt-test",
            "instructions": "Be brief.",
            "input": [
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "cwd is /repo"}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "run ls"}]},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Running it."}]},
                {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": "{\"command\":[\"ls\"]}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "Cargo.toml\nsrc\n"},
            ],
            "tools": [{
                "type": "function", "name": "shell", "description": "Runs a command.",
                "parameters": {"type": "object", "properties": {"command": {"type": "array"}}},
                "strict": false,
            }],
            "tool_choice": "auto",
            "parallel_tool_calls": false,
            "stream": true,
            "store": false,
        })
    );
}

#[tokio::test]
async fn a_function_call_round_trips_into_the_next_request() {
    let server = ScriptedModel::start(vec![
        Reply::Sse(script::responses_function_call(
            "call_7",
            "shell",
            &json!({"command": ["pwd"]}),
        )),
        Reply::Sse(script::responses_text("You are in /repo.")),
    ])
    .expect("server");
    let client = client(&server);
    let mut prompt = user("where am I?");
    for event in events(&client, &prompt).await {
        if let ResponseEvent::Item(item) = event {
            prompt.input.push(item);
        }
    }
    prompt.input.push(Item::FunctionCallOutput {
        call_id: "call_7".into(),
        output: "/repo".into(),
    });
    let second = events(&client, &prompt).await;
    assert!(second.contains(&ResponseEvent::Item(Item::message(
        Role::Assistant,
        "You are in /repo."
    ))));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        server.connections(),
        1,
        "the second turn reuses the first turn's connection"
    );
    assert_eq!(
        requests[1].body["input"],
        json!([
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "where am I?"}]},
            {"type": "function_call", "call_id": "call_7", "name": "shell", "arguments": "{\"command\":[\"pwd\"]}"},
            {"type": "function_call_output", "call_id": "call_7", "output": "/repo"},
        ])
    );
}

#[tokio::test]
async fn a_provider_without_a_key_gets_no_authorization_header() {
    let server =
        ScriptedModel::start(vec![Reply::Sse(script::responses_text("ok"))]).expect("server");
    let provider = ModelProvider {
        env_key: None,
        ..provider(&server)
    };
    let client = ModelClient::new("local", &provider, "m", options()).expect("no key needed");
    events(&client, &user("hi")).await;
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn new_reads_the_key_from_the_env_key_variable() {
    // Cargo sets CARGO_PKG_NAME for the test process: a variable that is surely present,
    // without mutating the environment (which would race with other tests).
    let server =
        ScriptedModel::start(vec![Reply::Sse(script::responses_text("ok"))]).expect("server");
    let provider = ModelProvider {
        env_key: Some("CARGO_PKG_NAME".into()),
        ..provider(&server)
    };
    let client = ModelClient::new("scripted", &provider, "m", options()).expect("key present");
    events(&client, &user("hi")).await;
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(concat!("Bearer ", env!("CARGO_PKG_NAME")))
    );
}

#[tokio::test]
async fn a_missing_key_fails_before_any_request_is_made() {
    let server = ScriptedModel::start(Vec::new()).expect("server");
    let provider = ModelProvider {
        env_key: Some("CODEX_TEST_KEY_THAT_IS_NEVER_SET_5C2E91".into()),
        ..provider(&server)
    };
    let err = ModelClient::new("openai", &provider, "m", options()).expect_err("no key");
    assert!(matches!(err, ModelError::MissingKey { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "CODEX_TEST_KEY_THAT_IS_NEVER_SET_5C2E91 is not set: export the API key for model provider `openai`, or pick another provider with -c model_provider=ID"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn response_failed_ends_the_stream_with_the_providers_message() {
    let server = ScriptedModel::start(vec![Reply::Sse(script::responses_failed(
        "server_error",
        "The model crashed.",
    ))])
    .expect("server");
    let err = stream_error(&client(&server), &user("hi")).await;
    let ModelError::ResponseFailed { message } = &err else {
        panic!("expected ResponseFailed, got {err:?}");
    };
    assert_eq!(message, "The model crashed. (server_error)");
    assert!(err.to_string().contains("The model crashed."), "{err}");
}

#[tokio::test]
async fn an_error_event_ends_the_stream_as_response_failed() {
    let body = script::event(
        "error",
        &json!({"type": "error", "code": "context_length_exceeded", "message": "Too long."}),
    );
    let server = ScriptedModel::start(vec![Reply::Sse(body)]).expect("server");
    let err = stream_error(&client(&server), &user("hi")).await;
    assert!(
        matches!(&err, ModelError::ResponseFailed { message } if message == "Too long. (context_length_exceeded)"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_stream_cut_off_mid_event_is_malformed() {
    let full = script::responses_text("Hello there");
    let cut = &full[..full.len() / 2];
    let server = ScriptedModel::start(vec![Reply::Cut(cut.into())]).expect("server");
    let err = stream_error(&client(&server), &user("hi")).await;
    assert!(matches!(err, ModelError::MalformedStream { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("the model's response stream was malformed: "),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            "check that base_url `{}` serves the Responses API",
            server.base_url()
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_stream_that_ends_without_response_completed_is_malformed() {
    let full = script::responses_text("Hello");
    let cut = &full[..full
        .find("event: response.completed")
        .expect("completed event")];
    let server = ScriptedModel::start(vec![Reply::Sse(cut.into())]).expect("server");
    let mut stream = client(&server)
        .stream(&user("hi"))
        .await
        .expect("stream starts");
    let mut got = Vec::new();
    while let Some(event) = stream.next().await {
        got.push(event);
    }
    // The message itself arrived; only the end is missing.
    assert!(matches!(got[0], Ok(ResponseEvent::TextDelta(_))));
    let last = got.last().expect("events");
    assert!(
        matches!(last, Err(ModelError::MalformedStream { detail, .. }) if detail.contains("response.completed")),
        "{last:?}"
    );
}

#[tokio::test]
async fn non_json_event_data_is_malformed() {
    let server = ScriptedModel::start(vec![Reply::Sse(
        "event: response.created\ndata: <html>Bad gateway</html>\n\n".into(),
    )])
    .expect("server");
    let err = stream_error(&client(&server), &user("hi")).await;
    assert!(
        matches!(&err, ModelError::MalformedStream { detail, .. } if detail.contains("not JSON")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_stream_that_stalls_times_out() {
    let full = script::responses_text("Hello");
    let start = &full[..full
        .find("event: response.output_item.added")
        .expect("item")];
    let server = ScriptedModel::start(vec![Reply::Hang(start.into())]).expect("server");
    let client = ModelClient::with_api_key(
        "scripted",
        &provider(&server),
        "m",
        None,
        ClientOptions {
            timeout: Duration::from_millis(300),
            ..options()
        },
    )
    .expect("client");
    let began = std::time::Instant::now();
    let err = stream_error(&client, &user("hi")).await;
    assert!(matches!(err, ModelError::Timeout { .. }), "{err:?}");
    assert!(began.elapsed() >= Duration::from_millis(300));
    assert!(err.to_string().contains("sent nothing for 0.3 s"), "{err}");
}
