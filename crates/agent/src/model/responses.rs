//! The OpenAI Responses API: `POST {base_url}/responses` with `stream: true`, answered with
//! typed SSE events.

use serde_json::{Value, json};

use super::{DecodeError, Item, ModelSettings, Prompt, ResponseEvent, Role, Usage};
use crate::sse;

/// The request body for one turn.
pub(super) fn request_body(model: &str, prompt: &Prompt, settings: &ModelSettings) -> Value {
    let mut body = base_body(model, prompt);
    if prompt.web_search
        && let Some(tools) = body["tools"].as_array_mut()
    {
        // Run by the provider: its calls and results come back as items the agent skips. Live
        // access, as 0.169's `--search` asks.
        tools.push(json!({"type": "web_search", "external_web_access": true}));
    }
    if let Some(schema) = &prompt.output_schema {
        body["text"]["format"] = json!({
            "type": "json_schema",
            "name": super::OUTPUT_SCHEMA_NAME,
            "schema": schema,
            "strict": true,
        });
    }
    add_settings(&mut body, settings);
    body
}

fn base_body(model: &str, prompt: &Prompt) -> Value {
    let tools: Vec<Value> = prompt
        .tools
        .iter()
        .map(|t| {
            json!({
                "type": "function",
                "name": t.name,
                "description": t.description,
                "parameters": t.parameters,
                // Strict mode rejects the optional fields our tool schemas use.
                "strict": false,
            })
        })
        .collect();
    json!({
        "model": model,
        "instructions": prompt.instructions,
        "input": prompt.input.iter().map(input_item).collect::<Vec<_>>(),
        "tools": tools,
        "tool_choice": "auto",
        // The agent runs one tool at a time and feeds each result back before the next.
        "parallel_tool_calls": false,
        "stream": true,
        // Conversations are kept by codex (session logs), not by the provider.
        "store": false,
    })
}

/// `reasoning: {effort, summary}` and `text.verbosity`, each only when configured; `text` may
/// hold other fields, which are kept.
fn add_settings(body: &mut Value, settings: &ModelSettings) {
    let mut reasoning = serde_json::Map::new();
    if let Some(effort) = &settings.reasoning_effort {
        reasoning.insert("effort".into(), json!(effort));
    }
    if let Some(summary) = settings.reasoning_summary {
        reasoning.insert("summary".into(), json!(summary.as_str()));
    }
    if !reasoning.is_empty() {
        body["reasoning"] = Value::Object(reasoning);
    }
    if let Some(v) = settings.verbosity {
        if !body["text"].is_object() {
            body["text"] = json!({});
        }
        body["text"]["verbosity"] = json!(v.as_str());
    }
}

fn input_item(item: &Item) -> Value {
    match item {
        Item::Message { role, text, images } => {
            let (role, part) = match role {
                Role::User => ("user", "input_text"),
                Role::Developer => ("developer", "input_text"),
                Role::Assistant => ("assistant", "output_text"),
            };
            // As 0.169 sends them: each image framed by its name and path, then the text.
            let mut content = Vec::new();
            for (i, image) in images.iter().enumerate() {
                let (open, close) = image.frame(i + 1);
                content.push(json!({"type": "input_text", "text": open}));
                content
                    .push(json!({"type": "input_image", "image_url": image.url, "detail": "high"}));
                content.push(json!({"type": "input_text", "text": close}));
            }
            content.push(json!({"type": part, "text": text}));
            json!({"type": "message", "role": role, "content": content})
        }
        Item::FunctionCall {
            call_id,
            name,
            arguments,
        } => {
            json!({"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments})
        }
        Item::FunctionCallOutput { call_id, output } => {
            json!({"type": "function_call_output", "call_id": call_id, "output": output})
        }
    }
}

/// Turns the Responses event stream into [`ResponseEvent`]s.
#[derive(Debug, Default)]
pub(super) struct Decoder {
    completed: bool,
}

impl Decoder {
    /// Whether `response.completed` has been seen: nothing more is read after it.
    pub(super) fn is_finished(&self) -> bool {
        self.completed
    }

    /// Decodes one SSE event.
    pub(super) fn event(&mut self, ev: &sse::Event) -> Result<Vec<ResponseEvent>, DecodeError> {
        if ev.data.trim().is_empty() {
            return Ok(Vec::new());
        }
        let v: Value = serde_json::from_str(&ev.data).map_err(|e| {
            DecodeError::Malformed(format!(
                "an event's data is not JSON ({e}): {}",
                super::snippet(&ev.data)
            ))
        })?;
        // The `type` in the data is authoritative; the SSE event name repeats it.
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(ev.event.as_deref())
            .unwrap_or_default();
        Ok(match kind {
            "response.output_text.delta" => match v.get("delta").and_then(Value::as_str) {
                Some(delta) if !delta.is_empty() => vec![ResponseEvent::TextDelta(delta.into())],
                _ => Vec::new(),
            },
            "response.output_item.done" => {
                let item = v.get("item").ok_or_else(|| {
                    DecodeError::Malformed("response.output_item.done without an item".into())
                })?;
                if item.get("type").and_then(Value::as_str) == Some("reasoning") {
                    reasoning_summary(item)
                        .map(ResponseEvent::ReasoningSummary)
                        .into_iter()
                        .collect()
                } else {
                    output_item(item)?
                        .map(ResponseEvent::Item)
                        .into_iter()
                        .collect()
                }
            }
            "response.completed" => {
                self.completed = true;
                let response = v.get("response");
                let response_id = response
                    .and_then(|r| r.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let usage = response.and_then(|r| r.get("usage")).and_then(usage);
                vec![ResponseEvent::Completed { response_id, usage }]
            }
            "response.failed" => {
                let error = v.get("response").and_then(|r| r.get("error"));
                return Err(DecodeError::Failed(error_message(error)));
            }
            "response.incomplete" => {
                let reason = v
                    .pointer("/response/incomplete_details/reason")
                    .and_then(Value::as_str)
                    .unwrap_or("no reason given");
                return Err(DecodeError::Failed(format!(
                    "the response stopped incomplete ({reason})"
                )));
            }
            "error" => {
                // The error's fields are at the top level, or (some proxies) under `error`.
                let error = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
                return Err(DecodeError::Failed(error_message(Some(error))));
            }
            // created, in_progress, content_part.*, reasoning, function_call_arguments.* (the
            // finished call comes whole in output_item.done), and whatever is added later.
            _ => Vec::new(),
        })
    }

    /// The stream ended.
    pub(super) fn eof(&mut self) -> Result<Vec<ResponseEvent>, DecodeError> {
        if self.completed {
            Ok(Vec::new())
        } else {
            Err(DecodeError::Malformed(
                "it ended before response.completed".into(),
            ))
        }
    }
}

fn output_item(item: &Value) -> Result<Option<Item>, DecodeError> {
    let str_field = |name: &str| item.get(name).and_then(Value::as_str);
    match str_field("type") {
        Some("message") => {
            let role = match str_field("role") {
                Some("user") => Role::User,
                Some("developer" | "system") => Role::Developer,
                _ => Role::Assistant,
            };
            let text = item
                .get("content")
                .and_then(Value::as_array)
                .map(|parts| {
                    parts
                        .iter()
                        .filter_map(|p| match p.get("type").and_then(Value::as_str) {
                            Some("output_text") => p.get("text").and_then(Value::as_str),
                            // A refusal is what the model said instead of an answer.
                            Some("refusal") => p.get("refusal").and_then(Value::as_str),
                            _ => None,
                        })
                        .collect::<String>()
                })
                .unwrap_or_default();
            Ok(Some(Item::message(role, text)))
        }
        Some("function_call") => {
            let call_id = str_field("call_id").ok_or_else(|| {
                DecodeError::Malformed("a function_call item without a call_id".into())
            })?;
            let name = str_field("name").ok_or_else(|| {
                DecodeError::Malformed("a function_call item without a name".into())
            })?;
            Ok(Some(Item::FunctionCall {
                call_id: call_id.into(),
                name: name.into(),
                arguments: str_field("arguments").unwrap_or_default().into(),
            }))
        }
        // Reasoning and built-in tool items: nothing the agent acts on.
        _ => Ok(None),
    }
}

/// The text of a reasoning item's `summary` parts, `None` when it has none (no summary asked
/// for, or only encrypted content).
fn reasoning_summary(item: &Value) -> Option<String> {
    let parts: Vec<&str> = item
        .get("summary")?
        .as_array()?
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .filter(|t| !t.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

fn usage(v: &Value) -> Option<Usage> {
    let n = |name: &str| v.get(name).and_then(Value::as_u64);
    let input_tokens = n("input_tokens")?;
    let output_tokens = n("output_tokens").unwrap_or_default();
    Some(Usage {
        input_tokens,
        output_tokens,
        total_tokens: n("total_tokens").unwrap_or(input_tokens + output_tokens),
    })
}

/// `message (code)` from an error object, whatever parts of it are there.
pub(super) fn error_message(error: Option<&Value>) -> String {
    let field = |name: &str| {
        error
            .and_then(|e| e.get(name))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match (field("message"), field("code").or(field("type"))) {
        (Some(m), Some(c)) => format!("{} ({c})", super::one_line(m)),
        (Some(m), None) => super::one_line(m),
        (None, Some(c)) => c.to_string(),
        (None, None) => "the provider gave no reason".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_go_into_reasoning_and_text_only_when_set_and_keep_other_text_fields() {
        let mut body = json!({"model": "m", "text": {"format": {"type": "json_schema"}}});
        add_settings(&mut body, &ModelSettings::default());
        assert_eq!(
            body,
            json!({"model": "m", "text": {"format": {"type": "json_schema"}}})
        );
        add_settings(
            &mut body,
            &ModelSettings {
                reasoning_effort: Some("xhigh".into()),
                reasoning_summary: Some(codex_config::ReasoningSummary::Auto),
                verbosity: Some(codex_config::Verbosity::Low),
            },
        );
        assert_eq!(
            body["reasoning"],
            json!({"effort": "xhigh", "summary": "auto"})
        );
        assert_eq!(
            body["text"],
            json!({"format": {"type": "json_schema"}, "verbosity": "low"})
        );
    }

    #[test]
    fn a_reasoning_item_becomes_its_summary_text_and_one_without_summary_nothing() {
        let mut d = Decoder::default();
        let ev = |item: Value| sse::Event {
            event: None,
            data: json!({"type": "response.output_item.done", "item": item}).to_string(),
        };
        let with = ev(json!({"type": "reasoning", "summary": [
            {"type": "summary_text", "text": "a"}, {"type": "summary_text", "text": "b"}]}));
        assert_eq!(
            d.event(&with).expect("decodes"),
            [ResponseEvent::ReasoningSummary("a\n\nb".into())]
        );
        let without = ev(json!({"type": "reasoning", "summary": [], "encrypted_content": "x"}));
        assert!(d.event(&without).expect("decodes").is_empty());
    }
}
