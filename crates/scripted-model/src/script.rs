//! Builders of realistic SSE bodies, shaped like what the OpenAI Responses API and Chat
//! Completions servers stream (including the events a client should ignore), for
//! [`Reply::Sse`](crate::Reply::Sse).

use serde_json::{Value, json};

/// One named SSE event: `event: NAME`, `data: JSON`, blank line.
pub fn event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// One unnamed SSE event (`data: JSON`, blank line), as Chat Completions streams them.
pub fn data(data: &Value) -> String {
    format!("data: {data}\n\n")
}

/// The `data: [DONE]` event that ends a Chat Completions stream.
pub fn chat_done() -> String {
    "data: [DONE]\n\n".to_string()
}

/// `text` in the pieces a model would stream it in: word by word, each with its trailing space.
fn words(text: &str) -> Vec<&str> {
    text.split_inclusive(' ').collect()
}

/// `text` cut into (at most) three pieces at character boundaries, to split JSON arguments
/// across deltas in awkward places.
fn thirds(text: &str) -> Vec<&str> {
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let n = bounds.len();
    if n < 3 {
        return if text.is_empty() { vec![] } else { vec![text] };
    }
    let (a, b) = (bounds[n / 3], bounds[2 * n / 3]);
    vec![&text[..a], &text[a..b], &text[b..]]
}

fn usage(output_tokens: usize) -> Value {
    json!({"input_tokens": 10, "output_tokens": output_tokens, "total_tokens": 10 + output_tokens,
        "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}})
}

fn responses_stream(item: &Value, middle: &[String], output_tokens: usize) -> String {
    let id = "resp_scripted";
    let mut out = String::new();
    let pending = json!({"id": id, "object": "response", "status": "in_progress", "output": []});
    out += &event(
        "response.created",
        &json!({"type": "response.created", "sequence_number": 0, "response": pending}),
    );
    out += &event(
        "response.in_progress",
        &json!({"type": "response.in_progress", "sequence_number": 1, "response": pending}),
    );
    // A reasoning item first, as reasoning models send: clients must skip it.
    let reasoning = json!({"id": "rs_scripted", "type": "reasoning", "summary": []});
    out += &event(
        "response.output_item.added",
        &json!({"type": "response.output_item.added", "output_index": 0, "item": reasoning}),
    );
    out += &event(
        "response.output_item.done",
        &json!({"type": "response.output_item.done", "output_index": 0, "item": reasoning}),
    );
    for piece in middle {
        out += piece;
    }
    out += &event(
        "response.output_item.done",
        &json!({"type": "response.output_item.done", "output_index": 1, "item": item}),
    );
    out += &event(
        "response.completed",
        &json!({"type": "response.completed", "response": {
            "id": id, "object": "response", "status": "completed",
            "output": [reasoning, item], "usage": usage(output_tokens),
        }}),
    );
    out
}

/// A Responses stream in which the assistant says `text`: `response.created`, `in_progress`, a
/// reasoning item, the message item added, one `response.output_text.delta` per word,
/// `output_text.done`, `output_item.done` (the message) and `response.completed` with usage
/// (10 input tokens, one output token per word).
pub fn responses_text(text: &str) -> String {
    let msg_id = "msg_scripted";
    let added = json!({"id": msg_id, "type": "message", "role": "assistant", "status": "in_progress", "content": []});
    let mut middle = vec![event(
        "response.output_item.added",
        &json!({"type": "response.output_item.added", "output_index": 1, "item": added}),
    )];
    middle.push(event(
        "response.content_part.added",
        &json!({"type": "response.content_part.added", "item_id": msg_id, "output_index": 1,
            "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
    ));
    let pieces = words(text);
    for piece in &pieces {
        middle.push(event(
            "response.output_text.delta",
            &json!({"type": "response.output_text.delta", "item_id": msg_id, "output_index": 1,
                "content_index": 0, "delta": piece}),
        ));
    }
    let part = json!({"type": "output_text", "text": text, "annotations": []});
    middle.push(event(
        "response.output_text.done",
        &json!({"type": "response.output_text.done", "item_id": msg_id, "output_index": 1,
            "content_index": 0, "text": text}),
    ));
    middle.push(event(
        "response.content_part.done",
        &json!({"type": "response.content_part.done", "item_id": msg_id, "output_index": 1,
            "content_index": 0, "part": part}),
    ));
    let item = json!({"id": msg_id, "type": "message", "role": "assistant", "status": "completed",
        "content": [part]});
    responses_stream(&item, &middle, pieces.len())
}

/// A Responses stream in which the model calls function `name` with `arguments` (sent as
/// compact JSON text, streamed in three `function_call_arguments.delta` pieces) under `call_id`.
pub fn responses_function_call(call_id: &str, name: &str, arguments: &Value) -> String {
    let fc_id = "fc_scripted";
    let args = arguments.to_string();
    let added = json!({"id": fc_id, "type": "function_call", "status": "in_progress",
        "call_id": call_id, "name": name, "arguments": ""});
    let mut middle = vec![event(
        "response.output_item.added",
        &json!({"type": "response.output_item.added", "output_index": 1, "item": added}),
    )];
    let pieces = thirds(&args);
    for piece in &pieces {
        middle.push(event(
            "response.function_call_arguments.delta",
            &json!({"type": "response.function_call_arguments.delta", "item_id": fc_id,
                "output_index": 1, "delta": piece}),
        ));
    }
    middle.push(event(
        "response.function_call_arguments.done",
        &json!({"type": "response.function_call_arguments.done", "item_id": fc_id,
            "output_index": 1, "arguments": args}),
    ));
    let item = json!({"id": fc_id, "type": "function_call", "status": "completed",
        "call_id": call_id, "name": name, "arguments": args});
    responses_stream(&item, &middle, pieces.len())
}

/// A Responses stream that fails: `response.created`, then `response.failed` with this error.
pub fn responses_failed(code: &str, message: &str) -> String {
    let id = "resp_scripted";
    event(
        "response.created",
        &json!({"type": "response.created", "response": {"id": id, "status": "in_progress"}}),
    ) + &event(
        "response.failed",
        &json!({"type": "response.failed", "response": {"id": id, "status": "failed",
            "error": {"code": code, "message": message}}}),
    )
}

fn chat_chunk(delta: &Value, finish_reason: Option<&str>) -> String {
    data(
        &json!({"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0,
        "model": "scripted", "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}),
    )
}

fn chat_usage(completion_tokens: usize) -> String {
    data(
        &json!({"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0,
        "model": "scripted", "choices": [],
        "usage": {"prompt_tokens": 10, "completion_tokens": completion_tokens,
            "total_tokens": 10 + completion_tokens}}),
    )
}

/// A Chat Completions stream in which the assistant says `text`: a role chunk, one content
/// chunk per word, a `finish_reason: "stop"` chunk, a usage chunk and `[DONE]`.
pub fn chat_text(text: &str) -> String {
    let mut out = chat_chunk(&json!({"role": "assistant", "content": ""}), None);
    let pieces = words(text);
    for piece in &pieces {
        out += &chat_chunk(&json!({"content": piece}), None);
    }
    out += &chat_chunk(&json!({}), Some("stop"));
    out += &chat_usage(pieces.len());
    out + &chat_done()
}

/// A Chat Completions stream in which the model calls `name` with `arguments` under `call_id`:
/// the first tool-call delta carries the id and name, the arguments follow in three pieces,
/// then `finish_reason: "tool_calls"`, usage and `[DONE]`.
pub fn chat_tool_call(call_id: &str, name: &str, arguments: &Value) -> String {
    let args = arguments.to_string();
    let mut out = chat_chunk(&json!({"role": "assistant", "content": null}), None);
    out += &chat_chunk(
        &json!({"tool_calls": [{"index": 0, "id": call_id, "type": "function",
            "function": {"name": name, "arguments": ""}}]}),
        None,
    );
    let pieces = thirds(&args);
    for piece in &pieces {
        out += &chat_chunk(
            &json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
            None,
        );
    }
    out += &chat_chunk(&json!({}), Some("tool_calls"));
    out += &chat_usage(pieces.len());
    out + &chat_done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_split_at_character_boundaries_and_rejoin_exactly() {
        let args = json!({"path": "é/ü.txt", "n": 3}).to_string();
        let pieces = thirds(&args);
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.concat(), args);
        assert_eq!(thirds("ab"), vec!["ab"]);
        assert!(thirds("").is_empty());
    }

    #[test]
    fn every_event_of_a_body_is_json_data() {
        for body in [
            responses_text("hello there"),
            responses_function_call("call_1", "shell", &json!({"cmd": ["ls"]})),
            chat_text("hi"),
            chat_tool_call("call_1", "shell", &json!({"cmd": ["ls"]})),
        ] {
            for ev in body.split_terminator("\n\n") {
                let data = ev
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .expect("a data line");
                if data != "[DONE]" {
                    serde_json::from_str::<Value>(data).expect("JSON data");
                }
            }
        }
    }
}
