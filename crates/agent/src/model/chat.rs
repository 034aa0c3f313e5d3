//! Chat Completions (`POST {base_url}/chat/completions`, `stream: true`), the API local servers
//! (Ollama, llama.cpp, vLLM) and most other providers speak.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{DecodeError, Item, ModelSettings, Prompt, ResponseEvent, Role, Usage};
use crate::sse;

/// The request body for one turn.
pub(super) fn request_body(model: &str, prompt: &Prompt, settings: &ModelSettings) -> Value {
    let mut body = json!({
        "model": model,
        "messages": messages(prompt),
        "stream": true,
    });
    // Chat Completions has no reasoning summaries or verbosity; effort is its own field.
    if let Some(effort) = &settings.reasoning_effort {
        body["reasoning_effort"] = json!(effort);
    }
    // OpenAI rejects an empty `tools` array, so a prompt without tools sends none.
    if !prompt.tools.is_empty() {
        let tools: Vec<Value> = prompt
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters,
                }})
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    if let Some(schema) = &prompt.output_schema {
        body["response_format"] = json!({"type": "json_schema", "json_schema": {
            "name": super::OUTPUT_SCHEMA_NAME, "schema": schema, "strict": true,
        }});
    }
    body
}

fn messages(prompt: &Prompt) -> Vec<Value> {
    let mut messages = Vec::new();
    if !prompt.instructions.is_empty() {
        messages.push(json!({"role": "system", "content": prompt.instructions}));
    }
    // Whether the last message is the assistant's turn that function calls extend: the API
    // wants one assistant message carrying its text and all the calls it made.
    let mut assistant_open = false;
    for item in &prompt.input {
        match item {
            Item::Message { role, text, images } => {
                let role = match role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                    // Local servers know no `developer` role; `system` means the same to them.
                    Role::Developer => "system",
                };
                if images.is_empty() {
                    messages.push(json!({"role": role, "content": text}));
                } else {
                    // Images need the array form of `content`: each image framed by its name and
                    // path (as on the Responses API), then the text.
                    let mut parts = Vec::new();
                    for (i, image) in images.iter().enumerate() {
                        let (open, close) = image.frame(i + 1);
                        parts.push(json!({"type": "text", "text": open}));
                        parts.push(json!({"type": "image_url", "image_url": {"url": image.url}}));
                        parts.push(json!({"type": "text", "text": close}));
                    }
                    parts.push(json!({"type": "text", "text": text}));
                    messages.push(json!({"role": role, "content": parts}));
                }
                assistant_open = role == "assistant";
            }
            Item::FunctionCall {
                call_id,
                name,
                arguments,
            } => {
                let call = json!({"id": call_id, "type": "function",
                    "function": {"name": name, "arguments": arguments}});
                match messages.last_mut() {
                    Some(last) if assistant_open => match last.get_mut("tool_calls") {
                        Some(Value::Array(calls)) => calls.push(call),
                        _ => last["tool_calls"] = json!([call]),
                    },
                    _ => messages
                        .push(json!({"role": "assistant", "content": null, "tool_calls": [call]})),
                }
                assistant_open = true;
            }
            Item::FunctionCallOutput { call_id, output } => {
                messages.push(json!({"role": "tool", "tool_call_id": call_id, "content": output}));
                assistant_open = false;
            }
        }
    }
    messages
}

#[derive(Debug, Default)]
struct ToolCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

/// Accumulates the chunk stream; the items come out at the end, once complete.
#[derive(Debug, Default)]
pub(super) struct Decoder {
    id: Option<String>,
    text: String,
    /// By the `index` the server gives each call.
    calls: BTreeMap<u64, ToolCall>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    done: bool,
}

impl Decoder {
    /// Whether `[DONE]` has been seen: nothing more is read after it.
    pub(super) fn is_finished(&self) -> bool {
        self.done
    }

    /// Decodes one SSE event.
    pub(super) fn event(&mut self, ev: &sse::Event) -> Result<Vec<ResponseEvent>, DecodeError> {
        let data = ev.data.trim();
        if data.is_empty() {
            return Ok(Vec::new());
        }
        if data == "[DONE]" {
            return Ok(self.finish());
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            DecodeError::Malformed(format!(
                "an event's data is not JSON ({e}): {}",
                super::snippet(data)
            ))
        })?;
        if let Some(error) = v.get("error").filter(|e| !e.is_null()) {
            let message = match error {
                Value::String(s) => super::one_line(s),
                e => super::responses::error_message(Some(e)),
            };
            return Err(DecodeError::Failed(message));
        }
        if self.id.is_none() {
            self.id = v.get("id").and_then(Value::as_str).map(str::to_string);
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            let n = |name: &str| u.get(name).and_then(Value::as_u64).unwrap_or_default();
            let (input_tokens, output_tokens) = (n("prompt_tokens"), n("completion_tokens"));
            self.usage = Some(Usage {
                input_tokens,
                output_tokens,
                total_tokens: u
                    .get("total_tokens")
                    .and_then(Value::as_u64)
                    .unwrap_or(input_tokens + output_tokens),
            });
        }
        let mut out = Vec::new();
        let choices = v.get("choices").and_then(Value::as_array);
        // We ask for one completion (no `n`), so only choice 0 matters.
        let choice = choices.and_then(|c| {
            c.iter()
                .find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
        });
        let Some(choice) = choice else {
            return Ok(out);
        };
        if let Some(delta) = choice.get("delta") {
            if let Some(content) = delta.get("content").and_then(Value::as_str)
                && !content.is_empty()
            {
                self.text.push_str(content);
                out.push(ResponseEvent::TextDelta(content.to_string()));
            }
            if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
                for (position, call) in calls.iter().enumerate() {
                    self.tool_call_delta(position, call);
                }
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_string());
        }
        Ok(out)
    }

    fn tool_call_delta(&mut self, position: usize, call: &Value) {
        // Servers that omit `index` send each call whole, in order.
        let index = call
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(position as u64);
        let entry = self.calls.entry(index).or_default();
        if let Some(id) = call.get("id").and_then(Value::as_str)
            && !id.is_empty()
        {
            entry.id = Some(id.to_string());
        }
        let Some(function) = call.get("function") else {
            return;
        };
        if let Some(name) = function.get("name").and_then(Value::as_str) {
            // The name normally comes once; a server that repeats it in every delta must not
            // double it.
            if !entry.name.ends_with(name) {
                entry.name.push_str(name);
            }
        }
        match function.get("arguments") {
            Some(Value::String(piece)) => entry.arguments.push_str(piece),
            // Some servers send the arguments as a JSON object rather than its text.
            Some(args @ (Value::Object(_) | Value::Array(_))) => {
                entry.arguments = args.to_string();
            }
            _ => {}
        }
    }

    /// The whole response, once the stream says it is over.
    fn finish(&mut self) -> Vec<ResponseEvent> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        let mut out = Vec::new();
        if !self.text.is_empty() {
            out.push(ResponseEvent::Item(Item::message(
                Role::Assistant,
                std::mem::take(&mut self.text),
            )));
        }
        for (index, call) in std::mem::take(&mut self.calls) {
            out.push(ResponseEvent::Item(Item::FunctionCall {
                // Without an id from the server, one unique within the turn is enough.
                call_id: call.id.unwrap_or_else(|| format!("call_{index}")),
                name: call.name,
                arguments: call.arguments,
            }));
        }
        out.push(ResponseEvent::Completed {
            response_id: self.id.take(),
            usage: self.usage.take(),
        });
        out
    }

    /// The stream ended: complete if a finish reason came, even without `[DONE]` (some servers
    /// just close the stream).
    pub(super) fn eof(&mut self) -> Result<Vec<ResponseEvent>, DecodeError> {
        if self.done {
            Ok(Vec::new())
        } else if self.finish_reason.is_some() {
            Ok(self.finish())
        } else {
            Err(DecodeError::Malformed(
                "it ended before [DONE] or a finish_reason".into(),
            ))
        }
    }
}
