//! VICI, strongSwan's versatile IKE control interface, spoken over charon's
//! Unix socket: the message encoding, the packet framing, and an async client.
//!
//! Everything here was checked against the strongSwan 5.9.8 sources
//! (`src/libcharon/plugins/vici/vici_message.h`, `vici_dispatcher.[ch]`,
//! `vici_socket.[ch]`):
//!
//! * A frame is a 4-byte big-endian length (not counting itself) followed by
//!   the packet (`vici_socket.h` says "2 byte" in a comment; the code uses a
//!   `uint32_t`). charon refuses frames longer than 512 KiB
//!   (`VICI_MESSAGE_SIZE_MAX`) and drops the connection when it sees one.
//! * A packet is one byte of type ([`Packet`]), then for named types
//!   (command request, event register/unregister, event) a `u8` length and
//!   the name, then for request/response/event the message.
//! * A message is a flat sequence of elements: section start/end, key/value,
//!   list start/item/end. Names carry a `u8` length, values a `u16` BE length.
//!
//! The decoder here is deliberately stricter than charon's own parser: it
//! rejects unbalanced sections and lists and truncated values instead of
//! silently stopping, because a half-understood response is worse for a test
//! tool than a clear error naming the byte offset. Names must be UTF-8
//! (charon itself only accepts printable names) and sections may nest at most
//! [`MAX_DEPTH`] levels.

use std::collections::VecDeque;
use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// charon's `VICI_MESSAGE_SIZE_MAX`: the largest packet (after the length
/// prefix) it will accept or send.
pub const MAX_PACKET_LEN: usize = 512 * 1024;

/// Sections nested deeper than this are refused by the decoder. charon's own
/// output nests a handful of levels; the cap keeps recursive code (encoding,
/// `to_json`, `Drop`) from overflowing the stack on hostile input, since a
/// 512 KiB packet could otherwise hold ~250 000 nested sections.
pub const MAX_DEPTH: usize = 128;

/// Events kept for `next_event` while (un)registering; see `queue_event`.
const MAX_QUEUED_EVENTS: usize = 1024;

// Element types, `vici_type_t` in vici_message.h.
const EL_SECTION_START: u8 = 1;
const EL_SECTION_END: u8 = 2;
const EL_KEY_VALUE: u8 = 3;
const EL_LIST_START: u8 = 4;
const EL_LIST_ITEM: u8 = 5;
const EL_LIST_END: u8 = 6;

// Packet types, `vici_operation_t` in vici_dispatcher.h.
const PK_CMD_REQUEST: u8 = 0;
const PK_CMD_RESPONSE: u8 = 1;
const PK_CMD_UNKNOWN: u8 = 2;
const PK_EVENT_REGISTER: u8 = 3;
const PK_EVENT_UNREGISTER: u8 = 4;
const PK_EVENT_CONFIRM: u8 = 5;
const PK_EVENT_UNKNOWN: u8 = 6;
const PK_EVENT: u8 = 7;

/// Errors of the VICI codec and client.
#[derive(Debug, thiserror::Error)]
pub enum ViciError {
    #[error("VICI socket I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed VICI data at byte {offset}: {what}")]
    Malformed { offset: usize, what: String },
    #[error("charon does not know the VICI command '{0}' (is the plugin providing it loaded?)")]
    UnknownCommand(String),
    #[error("charon does not know the VICI event '{0}', so it refused the (un)registration")]
    UnknownEvent(String),
    #[error("charon reported that VICI command '{command}' failed: {errmsg}")]
    CommandFailed { command: String, errmsg: String },
    #[error("unexpected VICI packet from charon: expected {expected}, got {got}")]
    UnexpectedPacket { expected: &'static str, got: String },
    #[error("VICI size limit exceeded: {what}")]
    TooLarge { what: String },
}

fn malformed(offset: usize, what: impl Into<String>) -> ViciError {
    ViciError::Malformed { offset, what: what.into() }
}

/// A value in a VICI message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A key/value pair's value; charon sends text but the wire allows bytes.
    Str(Vec<u8>),
    /// A named list of byte strings.
    List(Vec<Vec<u8>>),
    /// A named sub-section.
    Section(Section),
}

/// An ordered VICI section (a message is the unnamed top-level section).
///
/// Order is kept because it is meaningful on the wire (e.g. `load-conn`
/// children, `list-sa` output) and duplicate keys are kept as charon sent
/// them; the getters return the first match.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Section {
    entries: Vec<(String, Value)>,
}

impl Section {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder: append a key/value pair.
    pub fn kv(mut self, key: &str, value: impl AsRef<[u8]>) -> Self {
        self.push(key, Value::Str(value.as_ref().to_vec()));
        self
    }

    /// Builder: append a list.
    pub fn list<I, V>(mut self, key: &str, items: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: AsRef<[u8]>,
    {
        let items = items.into_iter().map(|v| v.as_ref().to_vec()).collect();
        self.push(key, Value::List(items));
        self
    }

    /// Builder: append a sub-section.
    pub fn section(mut self, key: &str, s: Section) -> Self {
        self.push(key, Value::Section(s));
        self
    }

    pub fn push(&mut self, key: &str, v: Value) {
        self.entries.push((key.to_string(), v));
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of key `key` as text (lossy UTF-8), if it is a plain value.
    pub fn str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::Str(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    /// The items of list `key` as text (lossy UTF-8), if it is a list.
    pub fn list_of(&self, key: &str) -> Option<Vec<String>> {
        match self.get(key)? {
            Value::List(items) => Some(items.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()),
            _ => None,
        }
    }

    /// Sub-section `key`, if it is a section.
    pub fn sub(&self, key: &str) -> Option<&Section> {
        match self.get(key)? {
            Value::Section(s) => Some(s),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, Value)] {
        &self.entries
    }

    /// Compact JSON rendering for logs and test artifacts. Values become
    /// strings (lossy UTF-8), lists arrays, sections objects; key order is
    /// kept, and duplicate keys (legal in VICI) are emitted as they are.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        json_section(self, &mut out);
        out
    }
}

fn json_section(s: &Section, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in s.entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(k, out);
        out.push(':');
        match v {
            Value::Str(b) => json_string(&String::from_utf8_lossy(b), out),
            Value::List(items) => {
                out.push('[');
                for (j, item) in items.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    json_string(&String::from_utf8_lossy(item), out);
                }
                out.push(']');
            }
            Value::Section(sub) => json_section(sub, out),
        }
    }
    out.push('}');
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Remaining control characters must be \u-escaped in JSON; DEL is
            // escaped too so artifacts stay printable.
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------
// Encoding

fn put_name(out: &mut Vec<u8>, name: &str, what: &str) -> Result<(), ViciError> {
    let len = u8::try_from(name.len()).map_err(|_| ViciError::TooLarge {
        what: format!("{what} '{}…' is {} bytes long, VICI allows at most 255", truncate_for_display(name), name.len()),
    })?;
    out.push(len);
    out.extend_from_slice(name.as_bytes());
    Ok(())
}

fn put_data16(out: &mut Vec<u8>, data: &[u8], owner: &str) -> Result<(), ViciError> {
    let len = u16::try_from(data.len()).map_err(|_| ViciError::TooLarge {
        what: format!("value of '{}' is {} bytes long, VICI allows at most 65535", truncate_for_display(owner), data.len()),
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
    Ok(())
}

fn truncate_for_display(s: &str) -> &str {
    let mut end = s.len().min(40);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn encode_section_into(s: &Section, out: &mut Vec<u8>) -> Result<(), ViciError> {
    for (key, value) in &s.entries {
        match value {
            Value::Str(b) => {
                out.push(EL_KEY_VALUE);
                put_name(out, key, "key name")?;
                put_data16(out, b, key)?;
            }
            Value::List(items) => {
                out.push(EL_LIST_START);
                put_name(out, key, "list name")?;
                for item in items {
                    out.push(EL_LIST_ITEM);
                    put_data16(out, item, key)?;
                }
                out.push(EL_LIST_END);
            }
            Value::Section(sub) => {
                out.push(EL_SECTION_START);
                put_name(out, key, "section name")?;
                encode_section_into(sub, out)?;
                out.push(EL_SECTION_END);
            }
        }
    }
    Ok(())
}

/// Encode a message (the top-level section) into VICI elements.
#[cfg(test)]
pub fn encode_message(s: &Section) -> Result<Vec<u8>, ViciError> {
    let mut out = Vec::new();
    encode_section_into(s, &mut out)?;
    Ok(out)
}

/// Encode a packet as a complete frame, including the 4-byte length prefix.
pub fn encode_packet(p: &Packet) -> Result<Vec<u8>, ViciError> {
    let mut out = vec![0u8; 4];
    match p {
        Packet::CmdRequest { command, message } => {
            out.push(PK_CMD_REQUEST);
            put_name(&mut out, command, "command name")?;
            encode_section_into(message, &mut out)?;
        }
        Packet::CmdResponse(message) => {
            out.push(PK_CMD_RESPONSE);
            encode_section_into(message, &mut out)?;
        }
        Packet::CmdUnknown => out.push(PK_CMD_UNKNOWN),
        Packet::EventRegister(name) => {
            out.push(PK_EVENT_REGISTER);
            put_name(&mut out, name, "event name")?;
        }
        Packet::EventUnregister(name) => {
            out.push(PK_EVENT_UNREGISTER);
            put_name(&mut out, name, "event name")?;
        }
        Packet::EventConfirm => out.push(PK_EVENT_CONFIRM),
        Packet::EventUnknown => out.push(PK_EVENT_UNKNOWN),
        Packet::Event { name, message } => {
            out.push(PK_EVENT);
            put_name(&mut out, name, "event name")?;
            encode_section_into(message, &mut out)?;
        }
    }
    let body_len = out.len() - 4;
    // charon disconnects a client that sends more than this, so refuse here
    // with an explanation instead.
    if body_len > MAX_PACKET_LEN {
        return Err(ViciError::TooLarge { what: format!("{} packet is {body_len} bytes, charon accepts at most {MAX_PACKET_LEN}", p.kind()) });
    }
    // Cannot fail: body_len <= 512 KiB.
    let len = u32::try_from(body_len).unwrap_or(u32::MAX);
    out[..4].copy_from_slice(&len.to_be_bytes());
    Ok(out)
}

// ---------------------------------------------------------------------------
// Decoding

/// Cursor over a byte slice that reports absolute offsets in errors.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ViciError> {
        if self.remaining() < n {
            return Err(malformed(self.offset(), format!("truncated {what}: need {n} bytes, only {} left", self.remaining())));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8, ViciError> {
        Ok(self.take(1, what)?[0])
    }

    fn name(&mut self, what: &str) -> Result<String, ViciError> {
        let at = self.offset();
        let len = self.u8(&format!("{what} length"))? as usize;
        let raw = self.take(len, what)?;
        String::from_utf8(raw.to_vec()).map_err(|_| malformed(at, format!("{what} is not valid UTF-8")))
    }

    fn data16(&mut self, what: &str) -> Result<Vec<u8>, ViciError> {
        let len_bytes = self.take(2, &format!("{what} length"))?;
        let len = u16::from_be_bytes([len_bytes[0], len_bytes[1]]) as usize;
        Ok(self.take(len, what)?.to_vec())
    }
}

/// Decode a VICI message. `base` is the offset of `bytes` within whatever the
/// caller reports offsets against (the packet body).
fn decode_message_at(bytes: &[u8], base: usize) -> Result<Section, ViciError> {
    let mut r = Reader { bytes, pos: 0, base };
    // Enclosing sections: (name, section being filled, offset of its start).
    let mut stack: Vec<(String, Section, usize)> = Vec::new();
    let mut current = Section::new();
    // Open list: (name, items, offset of its start).
    let mut list: Option<(String, Vec<Vec<u8>>, usize)> = None;

    while r.remaining() > 0 {
        let at = r.offset();
        let t = r.u8("element type")?;
        // Inside a list only items and the list end are legal (as in charon's
        // vici_verify_type()).
        if let Some((name, _, _)) = &list {
            if t != EL_LIST_ITEM && t != EL_LIST_END && (1..=6).contains(&t) {
                return Err(malformed(at, format!("element type {t} inside list '{name}'; only list items may appear there")));
            }
        }
        match t {
            EL_SECTION_START => {
                let name = r.name("section name")?;
                if stack.len() >= MAX_DEPTH {
                    return Err(malformed(at, format!("sections nested deeper than {MAX_DEPTH} levels")));
                }
                stack.push((name, std::mem::take(&mut current), at));
            }
            EL_SECTION_END => {
                let Some((name, parent, _)) = stack.pop() else {
                    return Err(malformed(at, "section end without an open section"));
                };
                let child = std::mem::replace(&mut current, parent);
                current.push(&name, Value::Section(child));
            }
            EL_KEY_VALUE => {
                let name = r.name("key name")?;
                let value = r.data16("value")?;
                current.push(&name, Value::Str(value));
            }
            EL_LIST_START => {
                let name = r.name("list name")?;
                list = Some((name, Vec::new(), at));
            }
            EL_LIST_ITEM => {
                let Some((_, items, _)) = list.as_mut() else {
                    return Err(malformed(at, "list item outside of a list"));
                };
                items.push(r.data16("list item")?);
            }
            EL_LIST_END => {
                let Some((name, items, _)) = list.take() else {
                    return Err(malformed(at, "list end without an open list"));
                };
                current.push(&name, Value::List(items));
            }
            other => {
                return Err(malformed(at, format!("unknown element type {other}")));
            }
        }
    }
    let end = r.offset();
    if let Some((name, _, start)) = list {
        return Err(malformed(end, format!("message ends inside list '{name}' opened at byte {start}")));
    }
    if let Some((name, _, start)) = stack.last() {
        return Err(malformed(end, format!("message ends inside section '{name}' opened at byte {start} ({} section(s) unclosed)", stack.len())));
    }
    Ok(current)
}

/// Decode a VICI message strictly; offsets in errors are relative to `bytes`.
#[cfg(test)]
pub fn decode_message(bytes: &[u8]) -> Result<Section, ViciError> {
    decode_message_at(bytes, 0)
}

/// One VICI packet (`vici_operation_t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    CmdRequest { command: String, message: Section },
    CmdResponse(Section),
    CmdUnknown,
    EventRegister(String),
    EventUnregister(String),
    EventConfirm,
    EventUnknown,
    Event { name: String, message: Section },
}

impl Packet {
    /// strongSwan's name for the packet type, for messages.
    fn kind(&self) -> &'static str {
        match self {
            Packet::CmdRequest { .. } => "CMD_REQUEST",
            Packet::CmdResponse(_) => "CMD_RESPONSE",
            Packet::CmdUnknown => "CMD_UNKNOWN",
            Packet::EventRegister(_) => "EVENT_REGISTER",
            Packet::EventUnregister(_) => "EVENT_UNREGISTER",
            Packet::EventConfirm => "EVENT_CONFIRM",
            Packet::EventUnknown => "EVENT_UNKNOWN",
            Packet::Event { .. } => "EVENT",
        }
    }

    fn describe(&self) -> String {
        match self {
            Packet::CmdRequest { command, .. } => format!("a CMD_REQUEST for '{command}'"),
            Packet::EventRegister(n) => format!("an EVENT_REGISTER for '{n}'"),
            Packet::EventUnregister(n) => format!("an EVENT_UNREGISTER for '{n}'"),
            Packet::Event { name, .. } => format!("an EVENT '{name}'"),
            other => format!("a {}", other.kind()),
        }
    }
}

/// Decode a packet body (the bytes after the 4-byte length prefix).
pub fn decode_packet(body: &[u8]) -> Result<Packet, ViciError> {
    if body.len() > MAX_PACKET_LEN {
        return Err(ViciError::TooLarge { what: format!("packet is {} bytes, charon's limit is {MAX_PACKET_LEN}", body.len()) });
    }
    let mut r = Reader { bytes: body, pos: 0, base: 0 };
    let t = r.u8("packet type")?;
    let packet = match t {
        PK_CMD_REQUEST => {
            let command = r.name("command name")?;
            let message = decode_message_at(&body[r.pos..], r.pos)?;
            return Ok(Packet::CmdRequest { command, message });
        }
        PK_CMD_RESPONSE => {
            return Ok(Packet::CmdResponse(decode_message_at(&body[1..], 1)?));
        }
        PK_EVENT => {
            let name = r.name("event name")?;
            let message = decode_message_at(&body[r.pos..], r.pos)?;
            return Ok(Packet::Event { name, message });
        }
        PK_CMD_UNKNOWN => Packet::CmdUnknown,
        PK_EVENT_REGISTER => Packet::EventRegister(r.name("event name")?),
        PK_EVENT_UNREGISTER => Packet::EventUnregister(r.name("event name")?),
        PK_EVENT_CONFIRM => Packet::EventConfirm,
        PK_EVENT_UNKNOWN => Packet::EventUnknown,
        other => return Err(malformed(0, format!("unknown packet type {other}"))),
    };
    // The remaining packet types carry no message.
    if r.remaining() > 0 {
        return Err(malformed(r.offset(), format!("{} trailing byte(s) after a {} packet, which carries no message", r.remaining(), packet.kind())));
    }
    Ok(packet)
}

// ---------------------------------------------------------------------------
// Client

/// What an outstanding EVENT_REGISTER / EVENT_UNREGISTER was for.
#[derive(Debug)]
enum PendingOp {
    Register(String),
    Unregister(String),
}

/// Async VICI client over one Unix stream.
///
/// charon handles the requests of one connection strictly in order, so the
/// client matches answers to requests by counting. Calls are cancel-safe in
/// the sense that matters for timeouts: if a call's future is dropped after
/// its packet went out, the late answer is recognised and skipped by the next
/// call. A call dropped in the middle of *writing* leaves the stream in an
/// unknown state; the client then refuses further use (reconnect).
pub struct Client {
    stream: UnixStream,
    /// Bytes read but not yet consumed as a complete frame (kept across calls
    /// so that a cancelled read loses nothing).
    rbuf: Vec<u8>,
    /// Commands sent whose CMD_RESPONSE / CMD_UNKNOWN has not arrived yet.
    pending_responses: VecDeque<String>,
    /// (Un)registrations sent whose EVENT_CONFIRM / EVENT_UNKNOWN is due.
    pending_confirms: VecDeque<PendingOp>,
    /// Events charon confirmed as registered on this connection.
    registered: Vec<String>,
    /// Events that arrived while waiting for a registration confirmation.
    queued_events: VecDeque<(String, Section)>,
    /// Set while writing; still set afterwards means a write was interrupted.
    writing: bool,
    /// Set once the framing is lost; every later call fails with this reason.
    broken: Option<String>,
}

/// One packet from charon after the client's bookkeeping.
enum Incoming {
    /// A CMD_RESPONSE or CMD_UNKNOWN; `remaining` is the number of commands
    /// still unanswered after this one (0: it answers the latest command).
    Response {
        packet: Packet,
        remaining: usize,
    },
    /// An EVENT_CONFIRM or EVENT_UNKNOWN, `remaining` as above.
    Confirm {
        packet: Packet,
        remaining: usize,
    },
    Event(String, Section),
}

impl Client {
    /// Connect to charon's VICI socket (usually `/run/charon.vici`).
    pub async fn connect(path: &Path) -> Result<Client, ViciError> {
        let stream =
            UnixStream::connect(path).await.map_err(|e| std::io::Error::new(e.kind(), format!("connecting to VICI socket {}: {e}", path.display())))?;
        Ok(Client {
            stream,
            rbuf: Vec::new(),
            pending_responses: VecDeque::new(),
            pending_confirms: VecDeque::new(),
            registered: Vec::new(),
            queued_events: VecDeque::new(),
            writing: false,
            broken: None,
        })
    }

    fn check_usable(&mut self) -> Result<(), ViciError> {
        if self.writing {
            self.broken = Some("an earlier call was interrupted while sending, the VICI stream is out of sync; reconnect".into());
        }
        match &self.broken {
            Some(reason) => Err(ViciError::Io(std::io::Error::new(std::io::ErrorKind::BrokenPipe, reason.clone()))),
            None => Ok(()),
        }
    }

    async fn send(&mut self, p: &Packet) -> Result<(), ViciError> {
        let frame = encode_packet(p)?;
        self.writing = true;
        let res = self.stream.write_all(&frame).await;
        self.writing = false;
        if let Err(e) = res {
            self.broken = Some(format!("writing to the VICI socket failed: {e}"));
            return Err(e.into());
        }
        Ok(())
    }

    /// Read one frame. Cancel-safe: partial data stays in `rbuf`.
    async fn read_packet(&mut self) -> Result<Packet, ViciError> {
        loop {
            if self.rbuf.len() >= 4 {
                let len = u32::from_be_bytes([self.rbuf[0], self.rbuf[1], self.rbuf[2], self.rbuf[3]]) as usize;
                if len > MAX_PACKET_LEN {
                    let what = format!("charon announced a {len} byte packet, more than the {MAX_PACKET_LEN} byte limit");
                    // We will not read the body, so the framing is lost.
                    self.broken = Some(format!("VICI stream out of sync: {what}"));
                    return Err(ViciError::TooLarge { what });
                }
                if self.rbuf.len() >= 4 + len {
                    let frame: Vec<u8> = self.rbuf.drain(..4 + len).collect();
                    let body = &frame[4..];
                    return decode_packet(body).inspect_err(|_| {
                        // Keep the request bookkeeping right even though the
                        // answer itself was unreadable.
                        match body.first() {
                            Some(&PK_CMD_RESPONSE) | Some(&PK_CMD_UNKNOWN) => {
                                self.pending_responses.pop_front();
                            }
                            Some(&PK_EVENT_CONFIRM) | Some(&PK_EVENT_UNKNOWN) => {
                                self.pending_confirms.pop_front();
                            }
                            _ => {}
                        }
                    });
                }
                self.rbuf.reserve(4 + len - self.rbuf.len());
            } else {
                self.rbuf.reserve(4096);
            }
            let n = match self.stream.read_buf(&mut self.rbuf).await {
                Ok(n) => n,
                Err(e) => {
                    self.broken = Some(format!("reading from the VICI socket failed: {e}"));
                    return Err(e.into());
                }
            };
            if n == 0 {
                let what = if self.rbuf.is_empty() {
                    "charon closed the VICI connection".to_string()
                } else {
                    format!("charon closed the VICI connection in the middle of a packet ({} bytes pending)", self.rbuf.len())
                };
                self.broken = Some(what.clone());
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, what).into());
            }
        }
    }

    /// Read the next packet and match answers to what was sent, so that late
    /// answers to abandoned calls are recognised. `expected` only feeds the
    /// error for a packet charon should never send us.
    async fn next_incoming(&mut self, expected: &'static str) -> Result<Incoming, ViciError> {
        let p = self.read_packet().await?;
        match p {
            Packet::CmdResponse(_) | Packet::CmdUnknown => {
                if self.pending_responses.pop_front().is_none() {
                    return Err(ViciError::UnexpectedPacket { expected, got: format!("{} while no command was outstanding", p.describe()) });
                }
                Ok(Incoming::Response { packet: p, remaining: self.pending_responses.len() })
            }
            Packet::EventConfirm | Packet::EventUnknown => {
                let Some(op) = self.pending_confirms.pop_front() else {
                    return Err(ViciError::UnexpectedPacket { expected, got: format!("{} while no (un)registration was outstanding", p.describe()) });
                };
                if p == Packet::EventConfirm {
                    match op {
                        PendingOp::Register(n) => {
                            if !self.registered.contains(&n) {
                                self.registered.push(n);
                            }
                        }
                        PendingOp::Unregister(n) => self.registered.retain(|r| *r != n),
                    }
                }
                Ok(Incoming::Confirm { packet: p, remaining: self.pending_confirms.len() })
            }
            Packet::Event { name, message } => Ok(Incoming::Event(name, message)),
            Packet::CmdRequest { .. } | Packet::EventRegister(_) | Packet::EventUnregister(_) => {
                Err(ViciError::UnexpectedPacket { expected, got: p.describe() })
            }
        }
    }

    /// Send a command and return its raw response. Events arriving in the
    /// meantime (for registrations on this connection) are skipped.
    pub async fn request(&mut self, command: &str, message: Section) -> Result<Section, ViciError> {
        self.request_with(command, message, None, &mut |_| {}).await
    }

    async fn request_with(
        &mut self,
        command: &str,
        message: Section,
        event: Option<&str>,
        on_event: &mut (dyn FnMut(Section) + Send),
    ) -> Result<Section, ViciError> {
        self.check_usable()?;
        self.send(&Packet::CmdRequest { command: command.to_string(), message }).await?;
        self.pending_responses.push_back(command.to_string());
        loop {
            match self.next_incoming("a command response").await? {
                Incoming::Response { packet, remaining: 0 } => {
                    return match packet {
                        Packet::CmdResponse(s) => Ok(s),
                        _ => Err(ViciError::UnknownCommand(command.to_string())),
                    };
                }
                // Late answers to abandoned calls.
                Incoming::Response { .. } | Incoming::Confirm { .. } => {}
                Incoming::Event(name, msg) => {
                    // charon serves a connection in order, so events for our
                    // command only come once every earlier command is
                    // answered, i.e. when ours is the only one outstanding.
                    if self.pending_responses.len() == 1 && event == Some(name.as_str()) {
                        on_event(msg);
                    }
                }
            }
        }
    }

    /// Like [`Client::request`], but a response with `success = no` becomes
    /// [`ViciError::CommandFailed`]. Responses without `success` pass as-is.
    pub async fn call(&mut self, command: &str, message: Section) -> Result<Section, ViciError> {
        let resp = self.request(command, message).await?;
        check_success(command, resp)
    }

    /// Run a streaming command: register `event`, send `command`, hand each
    /// `event` packet to `on_event` until the response arrives, unregister,
    /// and return the response (with the same `success` check as `call`).
    ///
    /// If `event` was already registered on this connection (via
    /// [`Client::register`]), the registration is left in place afterwards
    /// (registering twice would make charon deliver every event twice).
    pub async fn streamed(&mut self, command: &str, event: &str, message: Section, on_event: &mut (dyn FnMut(Section) + Send)) -> Result<Section, ViciError> {
        let was_registered = self.registered.iter().any(|r| r == event);
        if !was_registered {
            self.register(event).await?;
        }
        let result = self.request_with(command, message, Some(event), on_event).await;
        // Unregister even after a failed command, unless the connection is
        // unusable; the command's own error is the more useful one to report.
        if !was_registered && self.broken.is_none() {
            let unreg = self.unregister(event).await;
            if result.is_ok() {
                unreg?;
            }
        }
        check_success(command, result?)
    }

    /// Register for `event` and wait for charon's confirmation.
    ///
    /// Registering an event that is already registered on this connection is
    /// a no-op: charon keeps one entry per registration and would deliver
    /// every event twice.
    pub async fn register(&mut self, event: &str) -> Result<(), ViciError> {
        self.check_usable()?;
        if self.registered.iter().any(|r| r == event) {
            return Ok(());
        }
        self.send(&Packet::EventRegister(event.to_string())).await?;
        self.pending_confirms.push_back(PendingOp::Register(event.to_string()));
        self.await_confirm(event).await
    }

    /// Unregister `event` and wait for charon's confirmation.
    pub async fn unregister(&mut self, event: &str) -> Result<(), ViciError> {
        self.check_usable()?;
        self.send(&Packet::EventUnregister(event.to_string())).await?;
        self.pending_confirms.push_back(PendingOp::Unregister(event.to_string()));
        self.await_confirm(event).await
    }

    async fn await_confirm(&mut self, event: &str) -> Result<(), ViciError> {
        loop {
            match self.next_incoming("an event (un)registration confirmation").await? {
                Incoming::Confirm { packet, remaining: 0 } => {
                    return match packet {
                        Packet::EventConfirm => Ok(()),
                        _ => Err(ViciError::UnknownEvent(event.to_string())),
                    };
                }
                Incoming::Confirm { .. } | Incoming::Response { .. } => {}
                // An event connection typically registers several events in
                // a row; keep what arrives in between for next_event().
                Incoming::Event(name, msg) => self.queue_event(name, msg),
            }
        }
    }

    fn queue_event(&mut self, name: String, msg: Section) {
        // Bounded so a chatty daemon cannot grow memory without limit while
        // nobody reads; the oldest are dropped first.
        if self.queued_events.len() >= MAX_QUEUED_EVENTS {
            self.queued_events.pop_front();
        }
        self.queued_events.push_back((name, msg));
    }

    /// Wait for the next event on a connection used for events (after
    /// [`Client::register`]). Returns the event name and its message.
    pub async fn next_event(&mut self) -> Result<(String, Section), ViciError> {
        if let Some(ev) = self.queued_events.pop_front() {
            return Ok(ev);
        }
        self.check_usable()?;
        loop {
            match self.next_incoming("an event").await? {
                Incoming::Event(name, msg) => return Ok((name, msg)),
                // Late answers to abandoned calls.
                Incoming::Response { .. } | Incoming::Confirm { .. } => {}
            }
        }
    }
}

fn check_success(command: &str, resp: Section) -> Result<Section, ViciError> {
    match resp.get("success") {
        Some(Value::Str(v)) if v.as_slice() == b"no" => {
            Err(ViciError::CommandFailed { command: command.to_string(), errmsg: resp.str("errmsg").unwrap_or_else(|| "(charon gave no errmsg)".to_string()) })
        }
        _ => Ok(resp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use tokio::net::UnixListener;

    fn sample() -> Section {
        Section::new().kv("a", "1").section("s", Section::new().kv("k", "v").list("l", ["x", "yz"])).list("top", Vec::<&str>::new())
    }

    #[rustfmt::skip]
    const SAMPLE_BYTES: &[u8] = &[
        3, 1, b'a', 0, 1, b'1',
        1, 1, b's',
            3, 1, b'k', 0, 1, b'v',
            4, 1, b'l',
                5, 0, 1, b'x',
                5, 0, 2, b'y', b'z',
            6,
        2,
        4, 3, b't', b'o', b'p',
        6,
    ];

    #[test]
    fn encodes_nested_message_to_expected_bytes() {
        assert_eq!(encode_message(&sample()).unwrap(), SAMPLE_BYTES);
    }

    #[test]
    fn decodes_nested_message() {
        let s = decode_message(SAMPLE_BYTES).unwrap();
        assert_eq!(s, sample());
        assert_eq!(s.str("a").as_deref(), Some("1"));
        let sub = s.sub("s").unwrap();
        assert_eq!(sub.str("k").as_deref(), Some("v"));
        assert_eq!(sub.list_of("l").unwrap(), vec!["x", "yz"]);
        assert_eq!(s.list_of("top").unwrap(), Vec::<String>::new());
        // Wrong-kind lookups are None, not a panic.
        assert!(s.sub("a").is_none());
        assert!(s.str("s").is_none());
        assert!(s.list_of("a").is_none());
        assert!(s.get("missing").is_none());
        assert_eq!(s.entries().len(), 3);
    }

    #[test]
    fn empty_message_is_empty_section() {
        assert_eq!(decode_message(&[]).unwrap(), Section::new());
        assert!(encode_message(&Section::new()).unwrap().is_empty());
    }

    #[test]
    fn push_keeps_order_and_duplicates() {
        let mut s = Section::new();
        s.push("x", Value::Str(b"1".to_vec()));
        s.push("x", Value::Str(b"2".to_vec()));
        let back = decode_message(&encode_message(&s).unwrap()).unwrap();
        assert_eq!(back.entries().len(), 2);
        assert_eq!(back.str("x").as_deref(), Some("1"));
    }

    #[test]
    fn binary_values_round_trip() {
        let s = Section::new().kv("bin", [0u8, 255, 10]).list("l", [[0u8, 1]]);
        assert_eq!(decode_message(&encode_message(&s).unwrap()).unwrap(), s);
        assert_eq!(s.str("bin").as_deref(), Some("\u{0}\u{fffd}\n"));
    }

    fn all_packets() -> Vec<Packet> {
        vec![
            Packet::CmdRequest { command: "load-conn".into(), message: sample() },
            Packet::CmdResponse(Section::new().kv("success", "yes")),
            Packet::CmdUnknown,
            Packet::EventRegister("ike-updown".into()),
            Packet::EventUnregister("ike-updown".into()),
            Packet::EventConfirm,
            Packet::EventUnknown,
            Packet::Event { name: "list-sa".into(), message: sample() },
        ]
    }

    #[test]
    fn every_packet_type_round_trips() {
        for p in all_packets() {
            let frame = encode_packet(&p).unwrap();
            let len = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
            assert_eq!(len, frame.len() - 4, "{p:?}");
            assert_eq!(decode_packet(&frame[4..]).unwrap(), p);
        }
    }

    #[test]
    fn packet_bytes_match_wire_format() {
        let req = Packet::CmdRequest { command: "version".into(), message: Section::new() };
        assert_eq!(encode_packet(&req).unwrap(), [&[0, 0, 0, 9, 0, 7][..], b"version"].concat());
        assert_eq!(encode_packet(&Packet::EventRegister("log".into())).unwrap(), [0, 0, 0, 5, 3, 3, b'l', b'o', b'g']);
        assert_eq!(encode_packet(&Packet::CmdUnknown).unwrap(), [0, 0, 0, 1, 2]);
        assert_eq!(encode_packet(&Packet::EventConfirm).unwrap(), [0, 0, 0, 1, 5]);
        assert_eq!(encode_packet(&Packet::EventUnknown).unwrap(), [0, 0, 0, 1, 6]);
        assert_eq!(encode_packet(&Packet::CmdResponse(Section::new().kv("a", "b"))).unwrap(), [0, 0, 0, 7, 1, 3, 1, b'a', 0, 1, b'b']);
        assert_eq!(encode_packet(&Packet::Event { name: "e".into(), message: Section::new() }).unwrap(), [0, 0, 0, 3, 7, 1, b'e']);
        assert_eq!(encode_packet(&Packet::EventUnregister("e".into())).unwrap(), [0, 0, 0, 3, 4, 1, b'e']);
    }

    fn malformed_at(res: Result<impl std::fmt::Debug, ViciError>) -> (usize, String) {
        match res {
            Err(ViciError::Malformed { offset, what }) => (offset, what),
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn truncated_inputs_are_errors_with_offsets() {
        // Value length says 5, only 2 bytes follow.
        let (off, what) = malformed_at(decode_message(&[3, 1, b'k', 0, 5, b'a', b'b']));
        assert_eq!(off, 5);
        assert!(what.contains("truncated value"), "{what}");
        // Name length says 4, only 1 byte follows.
        let (off, what) = malformed_at(decode_message(&[3, 4, b'k']));
        assert_eq!(off, 2);
        assert!(what.contains("key name"), "{what}");
        // Missing value length entirely.
        let (off, _) = malformed_at(decode_message(&[3, 1, b'k', 0]));
        assert_eq!(off, 3);
        // Missing name length.
        let (off, _) = malformed_at(decode_message(&[1]));
        assert_eq!(off, 1);
        // Truncated list item.
        let (off, _) = malformed_at(decode_message(&[4, 1, b'l', 5, 0, 3, b'x', 6]));
        assert_eq!(off, 6);
        // Every strict prefix of the sample is an error, never a panic,
        // those ending right after a complete top-level element.
        for n in 1..SAMPLE_BYTES.len() {
            assert_eq!(decode_message(&SAMPLE_BYTES[..n]).is_ok(), n == 6 || n == 29, "prefix {n}");
        }
    }

    #[test]
    fn unknown_element_type_is_error() {
        let (off, what) = malformed_at(decode_message(&[3, 1, b'a', 0, 0, 9]));
        assert_eq!(off, 5);
        assert!(what.contains("unknown element type 9"), "{what}");
        let (off, _) = malformed_at(decode_message(&[0]));
        assert_eq!(off, 0);
        let (off, _) = malformed_at(decode_message(&[7]));
        assert_eq!(off, 0);
    }

    #[test]
    fn unbalanced_sections_and_lists_are_errors() {
        let (off, what) = malformed_at(decode_message(&[2]));
        assert_eq!(off, 0);
        assert!(what.contains("section end without"), "{what}");
        let (off, what) = malformed_at(decode_message(&[1, 1, b's', 1, 1, b't', 2]));
        assert_eq!(off, 7);
        assert!(what.contains("inside section 's'"), "{what}");
        let (off, what) = malformed_at(decode_message(&[6]));
        assert_eq!(off, 0);
        assert!(what.contains("list end without"), "{what}");
        let (off, what) = malformed_at(decode_message(&[5, 0, 0]));
        assert_eq!(off, 0);
        assert!(what.contains("outside of a list"), "{what}");
        let (off, what) = malformed_at(decode_message(&[4, 1, b'l', 5, 0, 0]));
        assert_eq!(off, 6);
        assert!(what.contains("inside list 'l'"), "{what}");
        // A key/value, section or nested list inside a list.
        for bad in [3u8, 1, 2, 4] {
            let (off, _) = malformed_at(decode_message(&[4, 1, b'l', bad, 1, b'x', 0, 0]));
            assert_eq!(off, 3, "element {bad}");
        }
    }

    #[test]
    fn non_utf8_name_is_error() {
        let (off, what) = malformed_at(decode_message(&[3, 1, 0xff, 0, 0]));
        assert_eq!(off, 1);
        assert!(what.contains("UTF-8"), "{what}");
    }

    #[test]
    fn nesting_depth_is_limited() {
        let mut deep = Vec::new();
        for _ in 0..=MAX_DEPTH {
            deep.extend_from_slice(&[1, 1, b's']);
        }
        let (off, what) = malformed_at(decode_message(&deep));
        assert_eq!(off, MAX_DEPTH * 3);
        assert!(what.contains("nested deeper"), "{what}");
        let mut ok = Vec::new();
        for _ in 0..MAX_DEPTH {
            ok.extend_from_slice(&[1, 1, b's']);
        }
        ok.extend(std::iter::repeat_n(2, MAX_DEPTH));
        assert!(decode_message(&ok).is_ok());
    }

    #[test]
    fn oversize_names_values_and_packets_are_refused() {
        let long = "n".repeat(256);
        assert!(matches!(encode_message(&Section::new().kv(&long, "v")), Err(ViciError::TooLarge { .. })));
        assert!(matches!(encode_message(&Section::new().section(&long, Section::new())), Err(ViciError::TooLarge { .. })));
        assert!(encode_message(&Section::new().kv(&"n".repeat(255), "v")).is_ok());
        let big = vec![0u8; 65536];
        assert!(matches!(encode_message(&Section::new().kv("k", &big)), Err(ViciError::TooLarge { .. })));
        assert!(matches!(encode_message(&Section::new().list("l", [&big])), Err(ViciError::TooLarge { .. })));
        assert!(matches!(encode_packet(&Packet::EventRegister(long.clone())), Err(ViciError::TooLarge { .. })));
        // Nine 60000-byte values exceed the 512 KiB packet limit.
        let mut s = Section::new();
        for i in 0..9 {
            s = s.kv(&format!("k{i}"), vec![b'x'; 60000]);
        }
        let err = encode_packet(&Packet::CmdResponse(s)).unwrap_err();
        assert!(matches!(err, ViciError::TooLarge { .. }));
        assert!(err.to_string().contains("524288"), "{err}");
        assert!(matches!(decode_packet(&vec![1u8; MAX_PACKET_LEN + 1]), Err(ViciError::TooLarge { .. })));
    }

    #[test]
    fn malformed_packets_are_errors() {
        let (off, _) = malformed_at(decode_packet(&[]));
        assert_eq!(off, 0);
        let (off, what) = malformed_at(decode_packet(&[8]));
        assert_eq!(off, 0);
        assert!(what.contains("unknown packet type 8"), "{what}");
        let (off, what) = malformed_at(decode_packet(&[5, 0]));
        assert_eq!(off, 1);
        assert!(what.contains("trailing"), "{what}");
        let (off, _) = malformed_at(decode_packet(&[3, 5, b'a']));
        assert_eq!(off, 2);
        // Offsets inside an event's message count from the packet body start.
        let (off, what) = malformed_at(decode_packet(&[7, 1, b'e', 3, 1, b'k', 0, 9]));
        assert_eq!(off, 8);
        assert!(what.contains("truncated value"), "{what}");
        let (off, _) = malformed_at(decode_packet(&[1, 2]));
        assert_eq!(off, 1);
        let (off, _) = malformed_at(decode_packet(&[0, 1, b'c', 9]));
        assert_eq!(off, 3);
    }

    #[test]
    fn to_json_renders_and_escapes() {
        let s = Section::new()
            .kv("q\"k", "a\\b\n\t\r\u{1}\u{7f}é/")
            .list("l", ["x", "y"])
            .section("s", Section::new().kv("z", ""))
            .list("e", Vec::<&str>::new())
            .kv("bin", [0xffu8]);
        assert_eq!(s.to_json(), r#"{"q\"k":"a\\b\n\t\r\u0001\u007fé/","l":["x","y"],"s":{"z":""},"e":[],"bin":"�"}"#);
        assert_eq!(Section::new().to_json(), "{}");
    }

    #[test]
    fn error_texts_read_as_sentences() {
        let e = ViciError::CommandFailed { command: "initiate".into(), errmsg: "establishing CHILD_SA 'net' failed".into() };
        assert_eq!(e.to_string(), "charon reported that VICI command 'initiate' failed: establishing CHILD_SA 'net' failed");
        let e = ViciError::Malformed { offset: 12, what: "unknown element type 9".into() };
        assert_eq!(e.to_string(), "malformed VICI data at byte 12: unknown element type 9");
    }

    // ---- Client against a fake charon --------------------------------------

    /// A socket path in a private temp folder, removed on drop.
    struct TempSock {
        dir: PathBuf,
    }

    impl TempSock {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("vici-test-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempSock { dir }
        }
        fn path(&self) -> PathBuf {
            self.dir.join("charon.vici")
        }
    }

    impl Drop for TempSock {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    async fn read_frame(s: &mut UnixStream) -> Packet {
        let mut len = [0u8; 4];
        s.read_exact(&mut len).await.expect("read length");
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
        s.read_exact(&mut body).await.expect("read body");
        decode_packet(&body).expect("decode")
    }

    async fn send(s: &mut UnixStream, p: Packet) {
        s.write_all(&encode_packet(&p).expect("encode")).await.expect("write");
    }

    fn event(name: &str, msg: Section) -> Packet {
        Packet::Event { name: name.into(), message: msg }
    }

    /// Start a fake charon running `script` on the first connection.
    async fn fake_charon<F, Fut>(sock: &TempSock, script: F) -> tokio::task::JoinHandle<()>
    where
        F: FnOnce(UnixStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let listener = UnixListener::bind(sock.path()).expect("bind");
        tokio::spawn(async move {
            let (s, _) = listener.accept().await.expect("accept");
            script(s).await;
        })
    }

    #[tokio::test]
    async fn request_returns_response() {
        let sock = TempSock::new("req");
        let server = fake_charon(&sock, |mut s| async move {
            assert_eq!(read_frame(&mut s).await, Packet::CmdRequest { command: "version".into(), message: Section::new() });
            send(&mut s, Packet::CmdResponse(Section::new().kv("daemon", "charon").kv("version", "5.9.8"))).await;
        })
        .await;
        let mut c = Client::connect(&sock.path()).await.unwrap();
        let r = c.request("version", Section::new()).await.unwrap();
        assert_eq!(r.str("version").as_deref(), Some("5.9.8"));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn call_maps_success_no_to_command_failed() {
        let sock = TempSock::new("call");
        let server = fake_charon(&sock, |mut s| async move {
            read_frame(&mut s).await;
            send(&mut s, Packet::CmdResponse(Section::new().kv("success", "no").kv("errmsg", "no config named 'x'"))).await;
            read_frame(&mut s).await;
            send(&mut s, Packet::CmdResponse(Section::new().kv("success", "yes"))).await;
            read_frame(&mut s).await;
            send(&mut s, Packet::CmdResponse(Section::new().list("conns", ["a"]))).await;
            read_frame(&mut s).await;
            send(&mut s, Packet::CmdResponse(Section::new().kv("success", "no"))).await;
        })
        .await;
        let mut c = Client::connect(&sock.path()).await.unwrap();
        match c.call("unload-conn", Section::new().kv("name", "x")).await {
            Err(ViciError::CommandFailed { command, errmsg }) => {
                assert_eq!(command, "unload-conn");
                assert_eq!(errmsg, "no config named 'x'");
            }
            other => panic!("expected CommandFailed, got {other:?}"),
        }
        assert!(c.call("load-conn", Section::new()).await.is_ok());
        let r = c.call("get-conns", Section::new()).await.unwrap();
        assert_eq!(r.list_of("conns").unwrap(), vec!["a"]);
        assert!(matches!(c.call("x", Section::new()).await, Err(ViciError::CommandFailed { .. })));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn streamed_collects_events_until_response() {
        let sock = TempSock::new("streamed");
        let server = fake_charon(&sock, |mut s| async move {
            assert_eq!(read_frame(&mut s).await, Packet::EventRegister("list-sa".into()));
            send(&mut s, Packet::EventConfirm).await;
            match read_frame(&mut s).await {
                Packet::CmdRequest { command, message } => {
                    assert_eq!(command, "list-sas");
                    assert_eq!(message.str("noblock").as_deref(), Some("yes"));
                }
                other => panic!("unexpected {other:?}"),
            }
            for i in 0..3 {
                send(&mut s, event("list-sa", Section::new().kv("n", i.to_string()))).await;
                // An event of another kind is not handed to the callback.
                send(&mut s, event("ike-updown", Section::new())).await;
            }
            send(&mut s, Packet::CmdResponse(Section::new())).await;
            assert_eq!(read_frame(&mut s).await, Packet::EventUnregister("list-sa".into()));
            send(&mut s, Packet::EventConfirm).await;
        })
        .await;
        let mut c = Client::connect(&sock.path()).await.unwrap();
        let mut got = Vec::new();
        let resp = c.streamed("list-sas", "list-sa", Section::new().kv("noblock", "yes"), &mut |s| got.push(s.str("n").unwrap_or_default())).await.unwrap();
        assert_eq!(resp, Section::new());
        assert_eq!(got, ["0", "1", "2"]);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn streamed_failure_still_unregisters() {
        let sock = TempSock::new("streamfail");
        let server = fake_charon(&sock, |mut s| async move {
            read_frame(&mut s).await;
            send(&mut s, Packet::EventConfirm).await;
            read_frame(&mut s).await;
            send(&mut s, event("control-log", Section::new().kv("msg", "sending packet"))).await;
            send(&mut s, Packet::CmdResponse(Section::new().kv("success", "no").kv("errmsg", "establishing CHILD_SA 'net' failed"))).await;
            assert_eq!(read_frame(&mut s).await, Packet::EventUnregister("control-log".into()));
            send(&mut s, Packet::EventConfirm).await;
        })
        .await;
        let mut c = Client::connect(&sock.path()).await.unwrap();
        let mut logs = Vec::new();
        let err =
            c.streamed("initiate", "control-log", Section::new().kv("child", "net"), &mut |s| logs.push(s.str("msg").unwrap_or_default())).await.unwrap_err();
        assert!(matches!(err, ViciError::CommandFailed { .. }), "{err}");
        assert_eq!(logs, ["sending packet"]);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn request_skips_interleaved_events() {
        let sock = TempSock::new("interleave");
        let server = fake_charon(&sock, |mut s| async move {
            assert_eq!(read_frame(&mut s).await, Packet::EventRegister("ike-updown".into()));
            // An event racing the confirmation is kept for next_event().
            send(&mut s, event("ike-updown", Section::new().kv("early", "1"))).await;
            send(&mut s, Packet::EventConfirm).await;
            read_frame(&mut s).await;
            send(&mut s, event("ike-updown", Section::new().kv("up", "yes"))).await;
            send(&mut s, event("ike-updown", Section::new())).await;
            send(&mut s, Packet::CmdResponse(Section::new().kv("ok", "1"))).await;
            send(&mut s, event("ike-updown", Section::new().kv("late", "1"))).await;
        })
        .await;
        let mut c = Client::connect(&sock.path()).await.unwrap();
        c.register("ike-updown").await.unwrap();
        // Already registered: nothing is sent (the fake would choke on it).
        c.register("ike-updown").await.unwrap();
        let r = c.request("stats", Section::new()).await.unwrap();
        assert_eq!(r.str("ok").as_deref(), Some("1"));
        let (name, msg) = c.next_event().await.unwrap();
        assert_eq!(name, "ike-updown");
        assert_eq!(msg.str("early").as_deref(), Some("1"));
        let (_, msg) = c.next_event().await.unwrap();
        assert_eq!(msg.str("late").as_deref(), Some("1"));
        server.await.unwrap();
        // The fake charon has hung up: a clean, descriptive error.
        let err = c.next_event().await.unwrap_err();
        assert!(err.to_string().contains("closed"), "{err}");
    }

    #[tokio::test]
    async fn unknown_command_and_event() {
        let sock = TempSock::new("unknown");
        let server = fake_charon(&sock, |mut s| async move {
            read_frame(&mut s).await;
            send(&mut s, Packet::CmdUnknown).await;
            read_frame(&mut s).await;
            send(&mut s, Packet::EventUnknown).await;
        })
        .await;
        let mut c = Client::connect(&sock.path()).await.unwrap();
        match c.call("no-such-cmd", Section::new()).await {
            Err(ViciError::UnknownCommand(cmd)) => assert_eq!(cmd, "no-such-cmd"),
            other => panic!("expected UnknownCommand, got {other:?}"),
        }
        match c.register("no-such-event").await {
            Err(ViciError::UnknownEvent(ev)) => assert_eq!(ev, "no-such-event"),
            other => panic!("expected UnknownEvent, got {other:?}"),
        }
        server.await.unwrap();
    }

    #[tokio::test]
    async fn oversize_frame_from_server_is_refused_without_allocating() {
        let sock = TempSock::new("oversize");
        let server = fake_charon(&sock, |mut s| async move {
            read_frame(&mut s).await;
            s.write_all(&((MAX_PACKET_LEN as u32) + 1).to_be_bytes()).await.unwrap();
        })
        .await;
        let mut c = Client::connect(&sock.path()).await.unwrap();
        assert!(matches!(c.request("version", Section::new()).await, Err(ViciError::TooLarge { .. })));
        // Framing is lost: later calls refuse instead of misreading.
        assert!(matches!(c.request("version", Section::new()).await, Err(ViciError::Io(_))));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn late_answer_to_abandoned_request_is_skipped() {
        let sock = TempSock::new("abandon");
        let server = fake_charon(&sock, |mut s| async move {
            read_frame(&mut s).await; // "slow", answered only later
            read_frame(&mut s).await; // "fast"
            send(&mut s, Packet::CmdResponse(Section::new().kv("for", "slow"))).await;
            send(&mut s, Packet::CmdResponse(Section::new().kv("for", "fast"))).await;
        })
        .await;
        let mut c = Client::connect(&sock.path()).await.unwrap();
        let slow = tokio::time::timeout(std::time::Duration::from_millis(100), c.request("slow", Section::new())).await;
        assert!(slow.is_err(), "slow request should time out");
        let r = c.request("fast", Section::new()).await.unwrap();
        assert_eq!(r.str("for").as_deref(), Some("fast"));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn connect_error_names_the_path() {
        let sock = TempSock::new("noconn");
        let err = Client::connect(&sock.path()).await.err().unwrap();
        assert!(err.to_string().contains("charon.vici"), "{err}");
    }
}
