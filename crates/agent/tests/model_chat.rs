//! The model client against a scripted Chat Completions server, over real HTTP.

use std::time::Duration;

use codex_agent::model::{
    ClientOptions, Item, ModelClient, ModelError, Prompt, ResponseEvent, Role, ToolSpec, Usage,
};
use codex_config::{ModelProvider, WireApi};
use codex_scripted_model::{Reply, ScriptedModel, script};
use serde_json::json;

fn client(server: &ScriptedModel) -> ModelClient {
    let provider = ModelProvider {
        name: Some("Local".into()),
        base_url: server.base_url(),
        env_key: None,
        wire_api: WireApi::Chat,
        requires_openai_auth: false,
    };
    let options = ClientOptions {
        max_retries: 0,
        max_retry_delay: Duration::from_millis(10),
        timeout: Duration::from_secs(10),
    };
    ModelClient::new("local", &provider, "llama-test", options).expect("client")
}

fn user(text: &str) -> Prompt {
    Prompt {
        instructions: "You are a test.".into(),
        input: vec![Item::message(Role::User, text)],
        tools: Vec::new(),
        ..Prompt::default()
    }
}

async fn collect(client: &ModelClient, prompt: &Prompt) -> Vec<Result<ResponseEvent, ModelError>> {
    let mut stream = client.stream(prompt).await.expect("stream starts");
    let mut out = Vec::new();
    while let Some(event) = stream.next().await {
        out.push(event);
    }
    out
}

async fn events(client: &ModelClient, prompt: &Prompt) -> Vec<ResponseEvent> {
    collect(client, prompt)
        .await
        .into_iter()
        .map(|e| e.expect("good event"))
        .collect()
}

#[tokio::test]
async fn chat_text_streams_as_deltas_then_the_message_then_completed_with_usage() {
    let server =
        ScriptedModel::start(vec![Reply::Sse(script::chat_text("Hi there"))]).expect("server");
    let got = events(&client(&server), &user("hello")).await;
    assert_eq!(
        got,
        vec![
            ResponseEvent::TextDelta("Hi ".into()),
            ResponseEvent::TextDelta("there".into()),
            ResponseEvent::Item(Item::message(Role::Assistant, "Hi there")),
            ResponseEvent::Completed {
                response_id: Some("chatcmpl-scripted".into()),
                usage: Some(Usage {
                    input_tokens: 10,
                    output_tokens: 2,
                    total_tokens: 12
                }),
            },
        ]
    );
    assert_eq!(server.requests()[0].path, "/v1/chat/completions");
}

#[tokio::test]
async fn chat_tool_call_arguments_split_across_deltas_come_out_joined() {
    let args = json!({"command": ["cat", "README.md"], "timeout_ms": 1000});
    let server = ScriptedModel::start(vec![Reply::Sse(script::chat_tool_call(
        "call_abc", "shell", &args,
    ))])
    .expect("server");
    let got = events(&client(&server), &user("read it")).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        got[0],
        ResponseEvent::Item(Item::FunctionCall {
            call_id: "call_abc".into(),
            name: "shell".into(),
            arguments: args.to_string(),
        })
    );
    assert!(matches!(got[1], ResponseEvent::Completed { .. }));
}

#[tokio::test]
async fn chat_parallel_tool_calls_come_out_in_index_order_with_text_first() {
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        script::data(
            &json!({"id": "c1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        )
    };
    let body = [
        chunk(json!({"role": "assistant", "content": "Two calls."}), None),
        chunk(
            json!({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "read", "arguments": "{\"p\":"}}]}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "shell", "arguments": "{}"}}]}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 1, "function": {"arguments": "1}"}}]}),
            None,
        ),
        // Servers that close the stream after the finish reason, without [DONE].
        chunk(json!({}), Some("tool_calls")),
    ]
    .concat();
    let server = ScriptedModel::start(vec![Reply::Sse(body)]).expect("server");
    let got = events(&client(&server), &user("go")).await;
    assert_eq!(
        got,
        vec![
            ResponseEvent::TextDelta("Two calls.".into()),
            ResponseEvent::Item(Item::message(Role::Assistant, "Two calls.")),
            ResponseEvent::Item(Item::FunctionCall {
                call_id: "a".into(),
                name: "shell".into(),
                arguments: "{}".into()
            }),
            ResponseEvent::Item(Item::FunctionCall {
                call_id: "b".into(),
                name: "read".into(),
                arguments: "{\"p\":1}".into()
            }),
            ResponseEvent::Completed {
                response_id: Some("c1".into()),
                usage: None
            },
        ]
    );
}

#[tokio::test]
async fn chat_request_has_system_instructions_tools_and_tool_results() {
    let server = ScriptedModel::start(vec![Reply::Sse(script::chat_text("ok"))]).expect("server");
    let prompt = Prompt {
        instructions: "Be brief.".into(),
        input: vec![
            Item::message(Role::Developer, "cwd is /repo"),
            Item::message(Role::User, "look around"),
            Item::message(Role::Assistant, "Looking."),
            Item::FunctionCall {
                call_id: "c1".into(),
                name: "shell".into(),
                arguments: r#"{"command":["ls"]}"#.into(),
            },
            Item::FunctionCall {
                call_id: "c2".into(),
                name: "shell".into(),
                arguments: r#"{"command":["pwd"]}"#.into(),
            },
            Item::FunctionCallOutput {
                call_id: "c1".into(),
                output: "src".into(),
            },
            Item::FunctionCallOutput {
                call_id: "c2".into(),
                output: "/repo".into(),
            },
            Item::FunctionCall {
                call_id: "c3".into(),
                name: "shell".into(),
                arguments: "{}".into(),
            },
            Item::FunctionCallOutput {
                call_id: "c3".into(),
                output: "".into(),
            },
        ],
        tools: vec![ToolSpec {
            name: "shell".into(),
            description: "Runs a command.".into(),
            parameters: json!({"type": "object"}),
        }],
        ..Prompt::default()
    };
    events(&client(&server), &prompt).await;
    let request = &server.requests()[0];
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        request.body,
        json!({
            "model": "llama-test",
            "stream": true,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "system", "content": "cwd is /repo"},
                {"role": "user", "content": "look around"},
                {"role": "assistant", "content": "Looking.", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "shell", "arguments": "{\"command\":[\"ls\"]}"}},
                    {"id": "c2", "type": "function", "function": {"name": "shell", "arguments": "{\"command\":[\"pwd\"]}"}},
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "src"},
                {"role": "tool", "tool_call_id": "c2", "content": "/repo"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c3", "type": "function", "function": {"name": "shell", "arguments": "{}"}},
                ]},
                {"role": "tool", "tool_call_id": "c3", "content": ""},
            ],
            "tools": [{"type": "function", "function": {
                "name": "shell", "description": "Runs a command.", "parameters": {"type": "object"},
            }}],
        })
    );
}

#[tokio::test]
async fn chat_prompt_without_tools_sends_no_tools_field() {
    let server = ScriptedModel::start(vec![Reply::Sse(script::chat_text("ok"))]).expect("server");
    events(&client(&server), &user("hi")).await;
    assert!(server.requests()[0].body.get("tools").is_none());
}

#[tokio::test]
async fn chat_stream_ending_without_done_or_finish_reason_is_malformed() {
    let full = script::chat_text("Hello world");
    let cut = &full[..full.find("\"finish_reason\":\"stop\"").expect("stop chunk")];
    let cut = &cut[..cut.rfind("data: ").expect("chunk start")];
    let server = ScriptedModel::start(vec![Reply::Sse(cut.into())]).expect("server");
    let got = collect(&client(&server), &user("hi")).await;
    let last = got.last().expect("events");
    let Err(err) = last else {
        panic!("expected an error last, got {got:?}");
    };
    assert!(matches!(err, ModelError::MalformedStream { .. }), "{err:?}");
    assert!(
        err.to_string().ends_with("serves the Chat Completions API"),
        "{err}"
    );
}

#[tokio::test]
async fn chat_error_chunk_is_response_failed() {
    let body = script::data(&json!({"error": {"message": "model overloaded", "code": 503}}));
    let server = ScriptedModel::start(vec![Reply::Sse(body)]).expect("server");
    let got = collect(&client(&server), &user("hi")).await;
    assert!(
        matches!(&got[..], [Err(ModelError::ResponseFailed { message })] if message.contains("model overloaded")),
        "{got:?}"
    );
}
