//! Server-sent events, as the Responses and Chat Completions APIs stream them: fed bytes as they
//! arrive, it yields each complete event; [`Parser::finish`] says whether the stream ended
//! cleanly or in the middle of one.

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field (`None` for the default `message`).
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// The stream ended inside an event, or a line is not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// Bytes that are not UTF-8.
    #[error("malformed event stream: a line is not UTF-8")]
    NotUtf8,
    /// The connection closed before the blank line that ends an event.
    #[error("the event stream ended in the middle of an event")]
    Truncated,
}

/// An incremental parser.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    event: Option<String>,
    data: Vec<String>,
    pending: bool,
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next bytes; returns the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Event>, SseError> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=nl).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
            if let Some(e) = self.line(&line) {
                out.push(e);
            }
        }
        Ok(out)
    }

    fn line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            if !self.pending {
                return None;
            }
            self.pending = false;
            return Some(Event {
                event: self.event.take(),
                data: std::mem::take(&mut self.data).join("\n"),
            });
        }
        if line.starts_with(':') {
            return None; // a comment (keep-alive)
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => self.data.push(value.to_string()),
            _ => return None, // id, retry and unknown fields carry nothing we use
        }
        self.pending = true;
        None
    }

    /// The stream has ended: an error if it stopped inside an event.
    pub fn finish(&self) -> Result<(), SseError> {
        if self.pending || !self.buf.is_empty() {
            Err(SseError::Truncated)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_reads_come_out_whole() {
        let stream = "event: response.output_text.delta\r\ndata: {\"delta\":\"Hi\"}\r\n\r\n: keep-alive\n\ndata: a\ndata: b\n\n";
        let mut p = Parser::new();
        let mut got = Vec::new();
        for piece in stream.as_bytes().chunks(7) {
            got.extend(p.feed(piece).expect("utf-8"));
        }
        p.finish().expect("clean end");
        assert_eq!(
            got,
            vec![
                Event {
                    event: Some("response.output_text.delta".into()),
                    data: "{\"delta\":\"Hi\"}".into()
                },
                Event {
                    event: None,
                    data: "a\nb".into()
                },
            ]
        );
    }

    #[test]
    fn a_stream_cut_inside_an_event_is_an_error() {
        let mut p = Parser::new();
        assert!(p.feed(b"event: x\ndata: {\"half").expect("ok").is_empty());
        assert_eq!(p.finish(), Err(SseError::Truncated));
        let mut p = Parser::new();
        assert_eq!(p.feed(b"data: \xff\n"), Err(SseError::NotUtf8));
    }
}
