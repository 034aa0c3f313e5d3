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
    /// Whether the first line has been read (it may start with a byte-order mark).
    started: bool,
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next bytes; returns the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Event>, SseError> {
        // The bytes kept from earlier reads hold no newline, so the search starts at the new
        // ones; consumed lines are dropped once at the end rather than one by one, which would
        // move the rest of a large read for every line.
        let mut search = self.buf.len();
        self.buf.extend_from_slice(bytes);
        let buf = std::mem::take(&mut self.buf);
        let mut out = Vec::new();
        let mut start = 0;
        let mut result = Ok(());
        while let Some(offset) = buf[search..].iter().position(|&b| b == b'\n') {
            let nl = search + offset;
            let mut line = &buf[start..nl];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            // A byte-order mark may precede the first line (the SSE spec says to skip it).
            if !self.started {
                self.started = true;
                line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            }
            start = nl + 1;
            search = start;
            match std::str::from_utf8(line) {
                Ok(line) => out.extend(self.line(line)),
                Err(_) => {
                    result = Err(SseError::NotUtf8);
                    break;
                }
            }
        }
        self.buf = buf;
        self.buf.drain(..start);
        result.map(|()| out)
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
    fn many_events_in_one_read_and_a_leading_bom_are_handled() {
        let mut stream = b"\xEF\xBB\xBF".to_vec();
        for i in 0..100 {
            stream.extend_from_slice(format!("data: {i}\n\n").as_bytes());
        }
        stream.extend_from_slice(b"data: partial");
        let mut p = Parser::new();
        let got = p.feed(&stream).expect("utf-8");
        assert_eq!(got.len(), 100);
        assert_eq!(got[0].data, "0");
        assert_eq!(got[99].data, "99");
        assert_eq!(p.finish(), Err(SseError::Truncated));
        let got = p.feed(b"\n\n").expect("utf-8");
        assert_eq!(got[0].data, "partial");
        p.finish().expect("clean end");
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
