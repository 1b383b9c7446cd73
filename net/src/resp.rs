//! The RESP request parser: how Redis 7.0 frames the bytes a client sends into
//! commands, reproduced byte for byte, including its leniencies and its limits.
//!
//! A request starting with `*` is a multibulk request
//! (`*<count>\r\n` then `count` times `$<len>\r\n<len bytes>\r\n`); anything
//! else is an inline request, one line split into words like a shell would.
//! The parser never sees a socket: the connection hands it the unconsumed
//! bytes, and it answers with a command, bytes to skip, "read more", or a
//! protocol error after which the connection is closed.
//!
//! It is resumable. A large request (a million-argument `MSET`, a 500 MB value)
//! arrives over many reads, so the parser keeps its place inside the request
//! (as offsets, because the caller may move the buffer) and each call only looks
//! at bytes it has not seen. Once a bulk's length is known it reports the total
//! the buffer must hold, so the caller can grow it once instead of doubling.

use std::borrow::Cow;
use std::fmt;

use memchr::memchr2;

/// How far into a request Redis looks for the end of an inline line or of a
/// `*`/`$` length line before calling the request too big
/// (`PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Redis's default `proto-max-bulk-len`: 512 MiB.
pub const DEFAULT_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;

/// The most arguments a client that still has to authenticate may announce.
pub const UNAUTH_MAX_MULTIBULK_LEN: i64 = 10;

/// The longest bulk a client that still has to authenticate may announce.
pub const UNAUTH_MAX_BULK_LEN: i64 = 16 * 1024;

/// The connection's limits, which can change between requests (after `AUTH`,
/// `CONFIG SET proto-max-bulk-len`), so they are passed to every call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `proto-max-bulk-len`: a longer bulk is an invalid bulk length.
    pub max_bulk_len: u64,
    /// False while the server requires a password this client has not given
    /// yet (Redis's `authRequired`): such a client may only send small requests.
    pub authenticated: bool,
}

impl Default for Limits {
    /// Redis's defaults: 512 MiB bulks, and the default user needs no password.
    fn default() -> Limits {
        Limits { max_bulk_len: DEFAULT_MAX_BULK_LEN, authenticated: true }
    }
}

/// What one call to [`Parser::parse`] found at the start of the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole request, the first `consumed` bytes of the buffer. Its
    /// arguments are read with [`Parser::args`] or [`Parser::arg`], passing the
    /// same buffer, before the next call to `parse`.
    Command { consumed: usize },
    /// The first `consumed` bytes held no command (an empty or blank inline
    /// line, `*0`, `*-1`): drop them and parse on.
    Empty { consumed: usize },
    /// The request is not all there yet. `need`, when known, is the buffer
    /// length that will let the parser make progress: the end of the bulk
    /// being received. The parser keeps its place; call again with the same
    /// bytes and more after them.
    Incomplete { need: Option<usize> },
    /// The client broke the protocol: reply `-ERR <message>` and close.
    Error(ProtocolError),
}

/// A protocol error. Each renders to Redis's exact text; the connection that
/// sees one replies with it and is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// An inline request with no newline in its first 64 KiB.
    TooBigInlineRequest,
    /// An inline request whose quotes do not close, or a closing quote
    /// directly followed by something other than a space.
    UnbalancedQuotes,
    /// A `*` line with no `\r` in its first 64 KiB.
    TooBigMultibulkCount,
    /// A `*` count that is not a strict integer, or is above `i32::MAX`.
    InvalidMultibulkLength,
    /// A count above 10 from a client that still has to authenticate.
    UnauthenticatedMultibulkLength,
    /// A `$` line with no `\r` in its first 64 KiB.
    TooBigBulkCount,
    /// A bulk header that does not start with `$`: the byte found instead.
    ExpectedDollar { got: u8 },
    /// A `$` length that is not a strict integer, is negative, or is above
    /// `proto-max-bulk-len`.
    InvalidBulkLength,
    /// A bulk above 16 KiB from a client that still has to authenticate.
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// The error text, as sent after `-ERR `. Bytes, not `str`: the byte in
    /// `expected '$', got 'X'` is the client's, and Redis echoes it raw.
    pub fn message(&self) -> Cow<'static, [u8]> {
        let text: &'static str = match *self {
            ProtocolError::TooBigInlineRequest => "Protocol error: too big inline request",
            ProtocolError::UnbalancedQuotes => "Protocol error: unbalanced quotes in request",
            ProtocolError::TooBigMultibulkCount => "Protocol error: too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => "Protocol error: invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => {
                "Protocol error: unauthenticated multibulk length"
            }
            ProtocolError::TooBigBulkCount => "Protocol error: too big bulk count string",
            ProtocolError::InvalidBulkLength => "Protocol error: invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => "Protocol error: unauthenticated bulk length",
            ProtocolError::ExpectedDollar { got } => {
                // Redis turns CR and LF in an error line into spaces so the
                // reply stays one line; no other byte is touched.
                let shown = if got == b'\r' || got == b'\n' { b' ' } else { got };
                let mut text = b"Protocol error: expected '$', got '".to_vec();
                text.push(shown);
                text.push(b'\'');
                return Cow::Owned(text);
            }
        };
        Cow::Borrowed(text.as_bytes())
    }
}

impl fmt::Display for ProtocolError {
    /// The message for logs; a non-printable byte is shown as `\xHH`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.message().iter() {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ProtocolError {}

/// Where the parser stands inside the current request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Nothing of a request seen yet: the next byte decides its kind. The
    /// arguments of the last command stay readable until the next call.
    Start,
    /// Looking for the `\n` ending an inline request.
    Inline,
    /// Looking for the end of the `*<count>` line.
    Count,
    /// `remaining` bulks to go, counting the one at `pos`: its `$<len>` line
    /// if `len` is `None`, else its payload of `len` bytes.
    Bulks { remaining: usize, len: Option<usize> },
}

/// How the search for a line's end went.
enum LineEnd<T = usize> {
    /// The line is complete: for a plain search the terminator's offset (for
    /// `\r`, a byte follows it), for a length line also its number.
    At(T),
    Incomplete,
    TooBig,
}

/// A resumable parser for one connection's requests. Reuse it for the life of
/// the connection: its argument list and inline scratch space are kept, so a
/// steady stream of requests allocates nothing.
#[derive(Debug)]
pub struct Parser {
    stage: Stage,
    /// Offset in the request of the next byte to interpret.
    pos: usize,
    /// Offset up to which the current line was searched for its end without
    /// finding it; the next call resumes the search there. Left over from an
    /// earlier line it is below the current line's start, and ignored.
    scanned: usize,
    /// `(start, end)` of each argument: in the request for a multibulk
    /// request, in `scratch` for an inline one.
    args: Vec<(usize, usize)>,
    /// The unescaped words of an inline request.
    scratch: Vec<u8>,
    /// The current (or last) request is inline, so `args` index `scratch`.
    inline: bool,
}

impl Default for Parser {
    fn default() -> Parser {
        Parser::new()
    }
}

impl Parser {
    pub fn new() -> Parser {
        Parser {
            stage: Stage::Start,
            pos: 0,
            scanned: 0,
            args: Vec::new(),
            scratch: Vec::new(),
            inline: false,
        }
    }

    /// Parses the request at the start of `buf`.
    ///
    /// Contract: `buf` starts at the first unconsumed byte, which is the first
    /// byte of the request the parser is in the middle of, if any. Between
    /// calls the caller may append bytes or move the buffer, but must not
    /// change or drop bytes already passed until a result other than
    /// `Incomplete` says how many to drop. After `Error` the parser starts
    /// afresh, though the connection is meant to be closed.
    pub fn parse(&mut self, buf: &[u8], limits: &Limits) -> Parsed {
        if self.stage == Stage::Start {
            self.args.clear();
            self.scratch.clear();
            self.pos = 0;
            self.scanned = 0;
            self.stage = match buf.first() {
                None => return Parsed::Incomplete { need: None },
                Some(b'*') => Stage::Count,
                Some(_) => Stage::Inline,
            };
            self.inline = self.stage == Stage::Inline;
        }
        debug_assert!(buf.len() >= self.scanned.max(self.pos), "the buffer lost bytes");
        let parsed = if self.inline { self.parse_inline(buf) } else { self.parse_multibulk(buf, limits) };
        if !matches!(parsed, Parsed::Incomplete { .. }) {
            self.stage = Stage::Start;
        }
        parsed
    }

    /// The number of arguments of the command just parsed.
    pub fn argc(&self) -> usize {
        self.args.len()
    }

    /// Argument `i` of the command just parsed. `buf` must be the buffer the
    /// `Command` came from: multibulk arguments are read from it in place.
    ///
    /// # Panics
    /// If `i >= self.argc()`.
    pub fn arg<'a>(&'a self, buf: &'a [u8], i: usize) -> &'a [u8] {
        let (start, end) = self.args[i];
        &self.source(buf)[start..end]
    }

    /// The byte ranges of the arguments of the command just parsed, within
    /// the buffer given to `parse`; `None` for an inline command, whose
    /// (unescaped) arguments live in the parser's own scratch space.
    pub fn arg_ranges(&self) -> Option<&[(usize, usize)]> {
        (!self.inline).then_some(&self.args[..])
    }

    /// The arguments of the command just parsed, in order; `buf` as for [`Parser::arg`].
    pub fn args<'a>(&'a self, buf: &'a [u8]) -> Args<'a> {
        Args { ranges: self.args.iter(), source: self.source(buf) }
    }

    fn source<'a>(&'a self, buf: &'a [u8]) -> &'a [u8] {
        if self.inline {
            &self.scratch
        } else {
            buf
        }
    }

    /// Redis finds an inline request's end with `strchr(query, '\n')`: the
    /// line ends at the first `\n`, one `\r` before it is dropped, and the
    /// rest is split by [`split_inline`]. A NUL byte ends a C string, so a
    /// line with a NUL before its `\n` never completes and runs into the
    /// 64 KiB limit.
    fn parse_inline(&mut self, buf: &[u8]) -> Parsed {
        let newline = match self.find_line_end(buf, 0, b'\n') {
            LineEnd::At(at) => at,
            LineEnd::Incomplete => return Parsed::Incomplete { need: None },
            LineEnd::TooBig => return Parsed::Error(ProtocolError::TooBigInlineRequest),
        };
        let mut line = &buf[..newline];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if !split_inline(line, &mut self.scratch, &mut self.args) {
            return Parsed::Error(ProtocolError::UnbalancedQuotes);
        }
        let consumed = newline + 1;
        if self.args.is_empty() {
            Parsed::Empty { consumed }
        } else {
            Parsed::Command { consumed }
        }
    }

    /// A multibulk request, resumed wherever the last call stopped.
    ///
    /// Redis is lenient in two places kept here: a length line ends at its
    /// first `\r` and the byte after it is skipped unread (it need not be
    /// `\n`, only present), and the two bytes after a bulk's payload are
    /// skipped without checking that they are `\r\n`.
    fn parse_multibulk(&mut self, buf: &[u8], limits: &Limits) -> Parsed {
        if self.stage == Stage::Count {
            let (cr, count) = match self.length_line(buf, 0) {
                LineEnd::At(at) => at,
                LineEnd::Incomplete => return Parsed::Incomplete { need: None },
                LineEnd::TooBig => return Parsed::Error(ProtocolError::TooBigMultibulkCount),
            };
            let count = match count {
                Some(n) if n <= i64::from(i32::MAX) => n,
                _ => return Parsed::Error(ProtocolError::InvalidMultibulkLength),
            };
            if count > UNAUTH_MAX_MULTIBULK_LEN && !limits.authenticated {
                return Parsed::Error(ProtocolError::UnauthenticatedMultibulkLength);
            }
            self.pos = cr + 2;
            if count <= 0 {
                return Parsed::Empty { consumed: self.pos };
            }
            // Redis's cap on the up-front allocation, so that a count alone
            // cannot make the server reserve gigabytes.
            self.args.reserve((count as usize).min(1024));
            self.stage = Stage::Bulks { remaining: count as usize, len: None };
        }
        let Stage::Bulks { mut remaining, len: mut header } = self.stage else {
            unreachable!("parse_multibulk in stage {:?}", self.stage)
        };
        // The loop works on locals; the place is written back only when it
        // has to wait for more bytes.
        let mut pos = self.pos;
        loop {
            let len = match header.take() {
                Some(len) => len,
                None => {
                    let (cr, len) = match self.length_line(buf, pos) {
                        LineEnd::At(at) => at,
                        LineEnd::Incomplete => {
                            self.pos = pos;
                            self.stage = Stage::Bulks { remaining, len: None };
                            return Parsed::Incomplete { need: None };
                        }
                        LineEnd::TooBig => return Parsed::Error(ProtocolError::TooBigBulkCount),
                    };
                    if buf[pos] != b'$' {
                        return Parsed::Error(ProtocolError::ExpectedDollar { got: buf[pos] });
                    }
                    let len = match len {
                        Some(n) if n >= 0 && n as u64 <= limits.max_bulk_len => n,
                        _ => return Parsed::Error(ProtocolError::InvalidBulkLength),
                    };
                    if len > UNAUTH_MAX_BULK_LEN && !limits.authenticated {
                        return Parsed::Error(ProtocolError::UnauthenticatedBulkLength);
                    }
                    let Ok(len) = usize::try_from(len) else {
                        return Parsed::Error(ProtocolError::InvalidBulkLength);
                    };
                    pos = cr + 2;
                    len
                }
            };
            let end = pos.saturating_add(len).saturating_add(2);
            if buf.len() < end {
                self.pos = pos;
                self.stage = Stage::Bulks { remaining, len: Some(len) };
                return Parsed::Incomplete { need: Some(end) };
            }
            self.args.push((pos, pos + len));
            pos = end;
            remaining -= 1;
            if remaining == 0 {
                return Parsed::Command { consumed: end };
            }
        }
    }

    /// Reads the length line (`*<count>` or `$<len>`) starting at `start`:
    /// the offset of its `\r`, and its number if it is a valid one. The first
    /// byte is not looked at, so the caller decides what it must be.
    ///
    /// Nearly every length line is `*` or `$`, a few digits and `\r`, read
    /// here in one pass; anything else (a sign, junk, a line not all there
    /// yet) goes the slow way, which gives the same answer for those few
    /// digits. Any other first byte goes the slow way too: a NUL or `\r`
    /// there ends the search before the digits.
    #[inline]
    fn length_line(&mut self, buf: &[u8], start: usize) -> LineEnd<(usize, Option<i64>)> {
        if !matches!(buf.get(start), Some(b'$' | b'*')) {
            return self.length_line_slow(buf, start);
        }
        let mut i = start + 1;
        let digits_end = buf.len().min(start + 19);
        let mut value: i64 = 0;
        while i < digits_end {
            let digit = buf[i].wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            value = value * 10 + i64::from(digit);
            i += 1;
        }
        let n = i - (start + 1);
        if n > 0 && (n == 1 || buf[start + 1] != b'0') && i + 1 < buf.len() && buf[i] == b'\r' {
            return LineEnd::At((i, Some(value)));
        }
        self.length_line_slow(buf, start)
    }

    #[cold]
    #[inline(never)]
    fn length_line_slow(&mut self, buf: &[u8], start: usize) -> LineEnd<(usize, Option<i64>)> {
        match self.find_line_end(buf, start, b'\r') {
            // A line that is only `\r` has no number, nor the first byte the caller wants.
            LineEnd::At(cr) => LineEnd::At((cr, buf.get(start + 1..cr).and_then(parse_i64))),
            LineEnd::Incomplete => LineEnd::Incomplete,
            LineEnd::TooBig => LineEnd::TooBig,
        }
    }

    /// Finds the end of the line starting at `start`, resuming the search at
    /// `self.scanned`, as Redis does with `strchr`.
    ///
    /// For `\r` (the end of a length line) the line only counts as complete
    /// once some byte follows the `\r`. The search stops at a NUL byte, the
    /// end of Redis's C string. If no end is found, the line is too big once
    /// more than [`INLINE_MAX_SIZE`] bytes follow `start`.
    ///
    /// Redis applies that limit to whatever one read left in its buffer, so
    /// whether a 70 KB line passes depends on how the bytes were split into
    /// reads. Here the end must be within the first `INLINE_MAX_SIZE + 1`
    /// bytes, which is Redis's answer when the bytes trickle in one at a time
    /// and the same answer however they are split.
    fn find_line_end(&mut self, buf: &[u8], start: usize, terminator: u8) -> LineEnd {
        let limit = buf.len().min(start + INLINE_MAX_SIZE + 1);
        let from = self.scanned.max(start);
        let found = memchr2(terminator, 0, &buf[from..limit]).map(|i| from + i);
        match found {
            Some(at) if buf[at] == terminator => {
                if terminator == b'\r' && at + 1 == buf.len() {
                    self.scanned = at;
                    LineEnd::Incomplete
                } else {
                    LineEnd::At(at)
                }
            }
            _ => {
                // Past a NUL nothing is ever found; stay on it, so the next
                // call finds it again at once.
                self.scanned = found.unwrap_or(limit);
                if buf.len() - start > INLINE_MAX_SIZE {
                    LineEnd::TooBig
                } else {
                    LineEnd::Incomplete
                }
            }
        }
    }
}

/// The arguments of a parsed command, as byte slices.
#[derive(Clone, Debug)]
pub struct Args<'a> {
    ranges: std::slice::Iter<'a, (usize, usize)>,
    source: &'a [u8],
}

impl<'a> Iterator for Args<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let &(start, end) = self.ranges.next()?;
        Some(&self.source[start..end])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ranges.size_hint()
    }
}

impl ExactSizeIterator for Args<'_> {}

impl<'a> DoubleEndedIterator for Args<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        let &(start, end) = self.ranges.next_back()?;
        Some(&self.source[start..end])
    }
}

/// C's `isspace` in the "C" locale, which Redis's `LC_CTYPE` stays in.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Splits an inline line into words the way Redis's `sdssplitargs` does,
/// appending the unescaped bytes to `scratch` and each word's range in it to
/// `args`. Returns false on unbalanced quotes.
///
/// The rules, quirks included:
/// - Words are separated by runs of whitespace (`isspace`: space, `\t`, `\n`,
///   `\v`, `\f`, `\r`), but an unquoted word ends only at space, `\t`, `\n` or
///   `\r`: `\v` and `\f` between words are skipped, inside a word they are kept.
/// - A quote opens a quoted part even in the middle of a word (`a"b c"` is the
///   one word `ab c`), and the closing quote ends the word: it must be followed
///   by whitespace or the end of the line, else the quotes count as unbalanced.
/// - In double quotes, `\xHH` (two hex digits) is that byte; `\n \r \t \b \a`
///   are the control characters; a backslash before any other byte yields that
///   byte (`\"`, `\\`, `\x` without two hex digits gives `x`).
/// - In single quotes only `\'` is an escape; every other byte is literal.
fn split_inline(line: &[u8], scratch: &mut Vec<u8>, args: &mut Vec<(usize, usize)>) -> bool {
    enum Quote {
        None,
        Double,
        Single,
    }
    let n = line.len();
    let mut i = 0;
    loop {
        while i < n && is_c_space(line[i]) {
            i += 1;
        }
        if i == n {
            return true;
        }
        let start = scratch.len();
        let mut quote = Quote::None;
        loop {
            match quote {
                Quote::None => {
                    // A run of plain bytes is copied at once.
                    let run = line[i..]
                        .iter()
                        .position(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\''))
                        .unwrap_or(n - i);
                    scratch.extend_from_slice(&line[i..i + run]);
                    i += run;
                    match line.get(i) {
                        None => break,
                        Some(b'"') => quote = Quote::Double,
                        Some(b'\'') => quote = Quote::Single,
                        Some(_) => {
                            i += 1;
                            break;
                        }
                    }
                    i += 1;
                }
                Quote::Double => {
                    let Some(&b) = line.get(i) else {
                        return false;
                    };
                    match b {
                        b'\\'
                            if line.get(i + 1) == Some(&b'x')
                                && i + 3 < n
                                && line[i + 2].is_ascii_hexdigit()
                                && line[i + 3].is_ascii_hexdigit() =>
                        {
                            scratch.push(hex_value(line[i + 2]) << 4 | hex_value(line[i + 3]));
                            i += 4;
                        }
                        b'\\' if i + 1 < n => {
                            scratch.push(match line[i + 1] {
                                b'n' => b'\n',
                                b'r' => b'\r',
                                b't' => b'\t',
                                b'b' => 0x08,
                                b'a' => 0x07,
                                other => other,
                            });
                            i += 2;
                        }
                        b'"' => {
                            if i + 1 < n && !is_c_space(line[i + 1]) {
                                return false;
                            }
                            i += 1;
                            break;
                        }
                        _ => {
                            scratch.push(b);
                            i += 1;
                        }
                    }
                }
                Quote::Single => {
                    let Some(&b) = line.get(i) else {
                        return false;
                    };
                    match b {
                        b'\\' if line.get(i + 1) == Some(&b'\'') => {
                            scratch.push(b'\'');
                            i += 2;
                        }
                        b'\'' => {
                            if i + 1 < n && !is_c_space(line[i + 1]) {
                                return false;
                            }
                            i += 1;
                            break;
                        }
                        _ => {
                            scratch.push(b);
                            i += 1;
                        }
                    }
                }
            }
        }
        args.push((start, scratch.len()));
    }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// A signed integer by Redis's `string2ll` rules: at most 20 bytes, an
/// optional `-`, no `+`, no spaces, no leading zeros (so `-0` is invalid).
fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a connection sees, request by request.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Event {
        Command(Vec<Vec<u8>>),
        Empty(usize),
        Error(ProtocolError),
    }

    fn cmd(args: &[&[u8]]) -> Event {
        Event::Command(args.iter().map(|a| a.to_vec()).collect())
    }

    const OPEN: Limits = Limits { max_bulk_len: DEFAULT_MAX_BULK_LEN, authenticated: true };
    const UNAUTH: Limits = Limits { max_bulk_len: DEFAULT_MAX_BULK_LEN, authenticated: false };

    /// Feeds `input` the way a connection does: each read appends the bytes up
    /// to the next cut, the parser runs until it needs more, and consumed bytes
    /// are drained from the front (which moves the rest). Returns the events
    /// and how many bytes were left unconsumed. Stops at the first error, which
    /// ends the connection, so what was left then is not counted.
    fn feed_cut(input: &[u8], cuts: &[usize], limits: &Limits) -> (Vec<Event>, usize) {
        let mut parser = Parser::new();
        let mut buf = Vec::new();
        let mut events = Vec::new();
        let mut from = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            buf.extend_from_slice(&input[from..cut]);
            from = cut;
            loop {
                match parser.parse(&buf, limits) {
                    Parsed::Command { consumed } => {
                        assert!(consumed > 0 && consumed <= buf.len());
                        assert!(parser.argc() > 0);
                        let args: Vec<Vec<u8>> = parser.args(&buf).map(<[u8]>::to_vec).collect();
                        for (i, a) in args.iter().enumerate() {
                            assert_eq!(parser.arg(&buf, i), &a[..]);
                        }
                        events.push(Event::Command(args));
                        buf.drain(..consumed);
                    }
                    Parsed::Empty { consumed } => {
                        assert!(consumed > 0 && consumed <= buf.len());
                        events.push(Event::Empty(consumed));
                        buf.drain(..consumed);
                    }
                    Parsed::Incomplete { need } => {
                        if let Some(need) = need {
                            assert!(need > buf.len(), "need {need} with {} bytes", buf.len());
                        }
                        break;
                    }
                    Parsed::Error(e) => {
                        events.push(Event::Error(e));
                        return (events, 0);
                    }
                }
            }
        }
        (events, buf.len())
    }

    fn feed(input: &[u8], limits: &Limits) -> (Vec<Event>, usize) {
        feed_cut(input, &[], limits)
    }

    /// Parses `input` whole, then cut at every offset, then at every pair of
    /// offsets (short inputs only), then one byte per read, and asserts every
    /// way gives the same events and leftover. Returns them.
    fn parse_every_way(input: &[u8], limits: &Limits) -> (Vec<Event>, usize) {
        let whole = feed(input, limits);
        for cut in 0..=input.len() {
            assert_eq!(feed_cut(input, &[cut], limits), whole, "cut at {cut}");
        }
        if input.len() <= 80 {
            for a in 0..=input.len() {
                for b in a..=input.len() {
                    assert_eq!(feed_cut(input, &[a, b], limits), whole, "cuts at {a}, {b}");
                }
            }
        }
        let bytewise: Vec<usize> = (1..input.len()).collect();
        assert_eq!(feed_cut(input, &bytewise, limits), whole, "one byte per read");
        whole
    }

    fn commands(input: &[u8]) -> Vec<Event> {
        let (events, left) = parse_every_way(input, &OPEN);
        assert_eq!(left, 0, "bytes left over from {input:?}");
        events
    }

    fn error(input: &[u8], limits: &Limits) -> ProtocolError {
        match parse_every_way(input, limits).0.pop() {
            Some(Event::Error(e)) => e,
            other => panic!("no error for {input:?}: {other:?}"),
        }
    }

    fn message(e: ProtocolError) -> String {
        String::from_utf8(e.message().into_owned()).unwrap()
    }

    /// The words of one inline line, or its error.
    fn inline(line: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
        let mut input = line.to_vec();
        input.extend_from_slice(b"\r\n");
        match commands(&input).as_slice() {
            [Event::Command(args)] => Ok(args.clone()),
            [Event::Empty(_)] => Ok(Vec::new()),
            [Event::Error(e)] => Err(*e),
            other => panic!("{other:?}"),
        }
    }

    fn words(ws: &[&[u8]]) -> Result<Vec<Vec<u8>>, ProtocolError> {
        Ok(ws.iter().map(|w| w.to_vec()).collect())
    }

    #[test]
    fn multibulk_requests() {
        assert_eq!(commands(b"*1\r\n$4\r\nPING\r\n"), [cmd(&[b"PING"])]);
        assert_eq!(
            commands(b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"),
            [cmd(&[b"SET", b"key", b"value"])]
        );
        // Empty arguments, and payloads holding CR, LF, NUL and '*': a payload
        // is taken by its length, never searched.
        assert_eq!(
            commands(b"*4\r\n$0\r\n\r\n$2\r\n\r\n\r\n$3\r\n\0\0\0\r\n$3\r\n*1\r\r\n"),
            [cmd(&[b"", b"\r\n", b"\0\0\0", b"*1\r"])]
        );
        let big = vec![b'x'; 100];
        let mut input = b"*2\r\n$3\r\nGET\r\n$100\r\n".to_vec();
        input.extend_from_slice(&big);
        input.extend_from_slice(b"\r\n");
        assert_eq!(commands(&input), [cmd(&[b"GET", &big])]);
    }

    #[test]
    fn inline_requests() {
        assert_eq!(commands(b"PING\r\n"), [cmd(&[b"PING"])]);
        assert_eq!(commands(b"PING\n"), [cmd(&[b"PING"])]);
        assert_eq!(commands(b"SET  k\t v \r\n"), [cmd(&[b"SET", b"k", b"v"])]);
        // Only one \r before the \n belongs to the line end; another one
        // separates words.
        assert_eq!(commands(b"ECHO a\r\r\n"), [cmd(&[b"ECHO", b"a"])]);
        assert_eq!(commands(b"a\rb\n"), [cmd(&[b"a", b"b"])]);
        // A request is inline unless it starts with '*', whatever it looks like.
        assert_eq!(commands(b"$3\r\n"), [cmd(&[b"$3"])]);
        assert_eq!(commands(b" *1\r\n"), [cmd(&[b"*1"])]);
    }

    #[test]
    fn inline_quoting() {
        assert_eq!(inline(b"SET k \"a b\""), words(&[b"SET", b"k", b"a b"]));
        assert_eq!(inline(b"x \"\""), words(&[b"x", b""]));
        assert_eq!(inline(b"x ''"), words(&[b"x", b""]));
        assert_eq!(inline(br#""\n\r\t\b\a\\\"\q""#), words(&[b"\n\r\t\x08\x07\\\"q"]));
        assert_eq!(inline(br#""\x41\x7a\xfF\x00""#), words(&[b"Az\xff\0"]));
        // \x without two hex digits is just an escaped 'x'.
        assert_eq!(inline(br#""a\x4""#), words(&[b"ax4"]));
        assert_eq!(inline(br#""a\x4g""#), words(&[b"ax4g"]));
        assert_eq!(inline(br#""\xg1""#), words(&[b"xg1"]));
        // Single quotes: only \' is an escape.
        assert_eq!(inline(br"'it\'s \n \x41'"), words(&[br"it's \n \x41"]));
        assert_eq!(inline(br#"'a"b' "a'b""#), words(&[b"a\"b", b"a'b"]));
        // Raw control bytes inside quotes are kept.
        assert_eq!(inline(b"\"a\rb\tc\""), words(&[b"a\rb\tc"]));
        // A quote opens in the middle of a word, and its close ends the word.
        assert_eq!(inline(b"ECHO foo\"bar baz\""), words(&[b"ECHO", b"foobar baz"]));
        assert_eq!(inline(b"ECHO a'b' c"), words(&[b"ECHO", b"ab", b"c"]));
        assert_eq!(inline(b"a\"\"b\" \""), Err(ProtocolError::UnbalancedQuotes));
        // The byte after a closing quote must be whitespace, \v and \f included.
        assert_eq!(inline(b"\"a\"\x0bb"), words(&[b"a", b"b"]));
        assert_eq!(inline(b"'a'\x0cb"), words(&[b"a", b"b"]));
        assert_eq!(inline(b"\"a\"b"), Err(ProtocolError::UnbalancedQuotes));
        assert_eq!(inline(b"'a'b"), Err(ProtocolError::UnbalancedQuotes));
        assert_eq!(inline(b"\"a\"\"b\""), Err(ProtocolError::UnbalancedQuotes));
        // Unterminated quotes, including a trailing backslash.
        assert_eq!(inline(b"ECHO \"abc"), Err(ProtocolError::UnbalancedQuotes));
        assert_eq!(inline(b"ECHO 'abc"), Err(ProtocolError::UnbalancedQuotes));
        assert_eq!(inline(b"ECHO \"a\\"), Err(ProtocolError::UnbalancedQuotes));
        assert_eq!(inline(b"ECHO 'a\\'"), Err(ProtocolError::UnbalancedQuotes));
        assert_eq!(inline(b"\""), Err(ProtocolError::UnbalancedQuotes));
        // \v and \f separate words only where blanks are skipped: leading
        // ones are dropped, inside a word they are part of it.
        assert_eq!(inline(b"\x0bECHO\x0c x"), words(&[b"ECHO\x0c", b"x"]));
        assert_eq!(inline(b"a\x0bb"), words(&[b"a\x0bb"]));
        assert_eq!(inline(b"a\x0b b"), words(&[b"a\x0b", b"b"]));
        // Backslashes outside quotes are plain bytes; so is everything non-ASCII.
        assert_eq!(inline(br"a\nb \xff"), words(&[br"a\nb", br"\xff"]));
        assert_eq!(inline(b"\xff\xfe \x80"), words(&[b"\xff\xfe", b"\x80"]));
    }

    #[test]
    fn empty_requests_are_consumed() {
        assert_eq!(commands(b"\r\n"), [Event::Empty(2)]);
        assert_eq!(commands(b"\n"), [Event::Empty(1)]);
        assert_eq!(commands(b"  \t \x0b\x0c\r\n"), [Event::Empty(8)]);
        assert_eq!(commands(b"*0\r\n"), [Event::Empty(4)]);
        assert_eq!(commands(b"*-5\r\n"), [Event::Empty(5)]);
        assert_eq!(commands(b"*-9223372036854775808\r\n"), [Event::Empty(23)]);
        // A negative count is fine before authentication: only > 10 is refused.
        assert_eq!(feed(b"*-5\r\n", &UNAUTH), (vec![Event::Empty(5)], 0));
        assert_eq!(
            commands(b"\r\n\n   \r\n*0\r\nPING\n"),
            [Event::Empty(2), Event::Empty(1), Event::Empty(5), Event::Empty(4), cmd(&[b"PING"])]
        );
    }

    #[test]
    fn pipelines_of_mixed_frames() {
        let input = b"*1\r\n$4\r\nPING\r\nECHO \"a\\x41\" 'b c'\r\n*0\r\n\r\n\
                      *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\nGET k\n*-1\r\n\
                      *2\r\n$4\r\nECHO\r\n$3\r\n\r\n\n\r\n";
        assert_eq!(
            commands(input),
            [
                cmd(&[b"PING"]),
                cmd(&[b"ECHO", b"aA", b"b c"]),
                Event::Empty(4),
                Event::Empty(2),
                cmd(&[b"SET", b"k", b""]),
                cmd(&[b"GET", b"k"]),
                Event::Empty(5),
                cmd(&[b"ECHO", b"\r\n\n"]),
            ]
        );
    }

    #[test]
    fn pipeline_left_incomplete_keeps_its_tail() {
        let input = b"PING\r\n*2\r\n$3\r\nGET\r\n$1\r\n";
        let (events, left) = parse_every_way(input, &OPEN);
        assert_eq!(events, [cmd(&[b"PING"])]);
        assert_eq!(left, input.len() - 6);
    }

    /// Redis finds a length line's end at its first `\r` and skips the next
    /// byte unread; after a payload it skips two bytes unread.
    #[test]
    fn lenient_line_and_payload_ends() {
        assert_eq!(commands(b"*1\rX$4\r\nPING\r\n"), [cmd(&[b"PING"])]);
        assert_eq!(commands(b"*1\r\n$4\r\rPING\r\n"), [cmd(&[b"PING"])]);
        assert_eq!(commands(b"*1\r\n$4\r\nPINGxy*1\r\n$4\r\nPING\r\n"), [cmd(&[b"PING"]), cmd(&[b"PING"])]);
        assert_eq!(commands(b"*2\r\n$1\r\na\0\0$1\r\nb**"), [cmd(&[b"a", b"b"])]);
        // The two bytes must be there, though.
        let (events, left) = parse_every_way(b"*1\r\n$4\r\nPING\r", &OPEN);
        assert!(events.is_empty());
        assert_eq!(left, 13);
        // And so must the byte after a length line's \r.
        let (events, left) = parse_every_way(b"*1\r", &OPEN);
        assert!(events.is_empty());
        assert_eq!(left, 3);
    }

    #[test]
    fn error_texts() {
        let cases = [
            (ProtocolError::TooBigInlineRequest, "Protocol error: too big inline request"),
            (ProtocolError::UnbalancedQuotes, "Protocol error: unbalanced quotes in request"),
            (ProtocolError::TooBigMultibulkCount, "Protocol error: too big mbulk count string"),
            (ProtocolError::InvalidMultibulkLength, "Protocol error: invalid multibulk length"),
            (
                ProtocolError::UnauthenticatedMultibulkLength,
                "Protocol error: unauthenticated multibulk length",
            ),
            (ProtocolError::TooBigBulkCount, "Protocol error: too big bulk count string"),
            (ProtocolError::ExpectedDollar { got: b'X' }, "Protocol error: expected '$', got 'X'"),
            (ProtocolError::InvalidBulkLength, "Protocol error: invalid bulk length"),
            (ProtocolError::UnauthenticatedBulkLength, "Protocol error: unauthenticated bulk length"),
        ];
        for (e, text) in cases {
            assert_eq!(message(e), text);
            assert_eq!(e.to_string(), text);
        }
        // CR and LF become spaces; any other byte is echoed raw.
        let got = |b| ProtocolError::ExpectedDollar { got: b }.message().into_owned();
        assert_eq!(got(b'\r'), b"Protocol error: expected '$', got ' '");
        assert_eq!(got(b'\n'), b"Protocol error: expected '$', got ' '");
        assert_eq!(got(0xff), b"Protocol error: expected '$', got '\xff'");
        assert_eq!(
            ProtocolError::ExpectedDollar { got: 0xff }.to_string(),
            "Protocol error: expected '$', got '\\xff'"
        );
    }

    #[test]
    fn invalid_multibulk_length() {
        for count in [
            &b""[..],
            b" 1",
            b"1 ",
            b"+1",
            b"01",
            b"-0",
            b"-",
            b"1a",
            b"2147483648",
            b"9223372036854775808",
            b"99999999999999999999",
            b"000000000000000000001",
            b"\xff",
        ] {
            let mut input = b"*".to_vec();
            input.extend_from_slice(count);
            input.extend_from_slice(b"\r\n");
            assert_eq!(error(&input, &OPEN), ProtocolError::InvalidMultibulkLength, "{input:?}");
        }
        // The largest count is accepted, and the request just waits for its bulks.
        let (events, left) = feed(b"*2147483647\r\n", &OPEN);
        assert!(events.is_empty());
        assert_eq!(left, 13);
        // A line the \r of which comes only after an LF is still one line.
        assert_eq!(error(b"*3\nfoo\r\n", &OPEN), ProtocolError::InvalidMultibulkLength);
    }

    #[test]
    fn invalid_bulk_length() {
        for len in
            [&b""[..], b"-1", b"-0", b"+4", b"04", b" 4", b"4 ", b"4a", b"536870913", b"9223372036854775808"]
        {
            let mut input = b"*1\r\n$".to_vec();
            input.extend_from_slice(len);
            input.extend_from_slice(b"\r\nPING\r\n");
            assert_eq!(error(&input, &OPEN), ProtocolError::InvalidBulkLength, "{input:?}");
        }
        // proto-max-bulk-len itself is allowed.
        let (events, left) = feed(b"*1\r\n$536870912\r\n", &OPEN);
        assert!(events.is_empty());
        assert_eq!(left, 16);
        let small = Limits { max_bulk_len: 3, authenticated: true };
        assert_eq!(feed(b"*1\r\n$3\r\nabc\r\n", &small).0, [cmd(&[b"abc"])]);
        assert_eq!(error(b"*1\r\n$4\r\nabcd\r\n", &small), ProtocolError::InvalidBulkLength);
    }

    #[test]
    fn expected_dollar() {
        assert_eq!(error(b"*1\r\n:4\r\nPING\r\n", &OPEN), ProtocolError::ExpectedDollar { got: b':' });
        assert_eq!(error(b"*1\r\n\r\n", &OPEN), ProtocolError::ExpectedDollar { got: b'\r' });
        // The line is the \r alone, whatever follows.
        assert_eq!(error(b"*1\r\n\r4\r\nPING\r\n", &OPEN), ProtocolError::ExpectedDollar { got: b'\r' });
        assert_eq!(error(b"*1\r\n\nfoo\r\n", &OPEN), ProtocolError::ExpectedDollar { got: b'\n' });
        assert_eq!(error(b"*2\r\n$1\r\na\r\n\xffoo\r\n", &OPEN), ProtocolError::ExpectedDollar { got: 0xff });
        // The header is judged only once its line is complete.
        let (events, left) = parse_every_way(b"*1\r\nX", &OPEN);
        assert!(events.is_empty());
        assert_eq!(left, 5);
    }

    #[test]
    fn unauthenticated_limits() {
        let mut ten = b"*10\r\n".to_vec();
        for _ in 0..10 {
            ten.extend_from_slice(b"$1\r\na\r\n");
        }
        assert_eq!(feed(&ten, &UNAUTH).0, [cmd(&[&b"a"[..]; 10])]);
        assert_eq!(error(b"*11\r\n", &UNAUTH), ProtocolError::UnauthenticatedMultibulkLength);
        assert_eq!(feed(b"*11\r\n", &OPEN), (vec![], 5));

        let mut bulk = b"*1\r\n$16384\r\n".to_vec();
        bulk.extend_from_slice(&[b'v'; 16384]);
        bulk.extend_from_slice(b"\r\n");
        assert_eq!(feed(&bulk, &UNAUTH).0, [cmd(&[&[b'v'; 16384]])]);
        assert_eq!(error(b"*1\r\n$16385\r\n", &UNAUTH), ProtocolError::UnauthenticatedBulkLength);
        assert_eq!(feed(b"*1\r\n$16385\r\n", &OPEN), (vec![], 12));

        // An invalid length is reported as invalid, not as unauthenticated.
        assert_eq!(error(b"*2147483648\r\n", &UNAUTH), ProtocolError::InvalidMultibulkLength);
        assert_eq!(error(b"*1\r\n$536870913\r\n", &UNAUTH), ProtocolError::InvalidBulkLength);
        // Inline requests have no such limits.
        let mut line = b"MSET".to_vec();
        for _ in 0..20 {
            line.extend_from_slice(b" k");
        }
        line.extend_from_slice(b" ");
        line.extend_from_slice(&[b'v'; 20000]);
        line.extend_from_slice(b"\r\n");
        match feed(&line, &UNAUTH).0.as_slice() {
            [Event::Command(args)] => assert_eq!(args.len(), 22),
            other => panic!("{other:?}"),
        }
    }

    /// A line's end is searched for within its first 64 KiB + 1 bytes,
    /// counted from the line's first byte (`*` and `$` included).
    #[test]
    fn too_big_lines() {
        /// `prefix` ends with the start of the line, at `line_start`.
        fn check(prefix: &[u8], line_start: usize, filler: u8, end: &[u8], error: ProtocolError) {
            let mut input = prefix.to_vec();
            input.resize(line_start + INLINE_MAX_SIZE, filler);
            // 64 KiB without an end: still waiting.
            let (events, left) = feed(&input, &OPEN);
            assert!(events.is_empty(), "{events:?}");
            assert_eq!(left, input.len());
            // One byte more: too big, however the bytes arrived.
            input.push(filler);
            let cuts: Vec<usize> = (prefix.len()..input.len()).step_by(4096).collect();
            for cuts in [&[][..], &cuts, &[input.len() - 1]] {
                assert_eq!(feed_cut(&input, cuts, &OPEN).0, [Event::Error(error)]);
            }
            // An end as the 64 KiB + 1st byte is still found.
            input.pop();
            input.extend_from_slice(end);
            let (events, _) = feed(&input, &OPEN);
            assert!(!events.contains(&Event::Error(error)), "{events:?}");
        }
        check(b"", 0, b'a', b"\n", ProtocolError::TooBigInlineRequest);
        check(b"*", 0, b'1', b"\r\n", ProtocolError::TooBigMultibulkCount);
        check(b"*1\r\n$", 4, b'1', b"\r\n", ProtocolError::TooBigBulkCount);
        check(b"*2\r\n$1\r\nx\r\n$", 11, b'1', b"\r\n", ProtocolError::TooBigBulkCount);

        let mut line = vec![b'a'; INLINE_MAX_SIZE];
        line.push(b'\n');
        match feed(&line, &OPEN).0.as_slice() {
            [Event::Command(args)] => assert_eq!(args[0].len(), INLINE_MAX_SIZE),
            other => panic!("{other:?}"),
        }
        // A longer line is too big even when it arrives whole.
        line.insert(0, b'a');
        assert_eq!(feed(&line, &OPEN).0, [Event::Error(ProtocolError::TooBigInlineRequest)]);
    }

    /// Redis searches its buffer as a C string, so a NUL hides every line end
    /// after it: the request waits until it is too big.
    #[test]
    fn nul_hides_line_ends() {
        let (events, left) = parse_every_way(b"PING\0\r\nPING\r\n", &OPEN);
        assert!(events.is_empty());
        assert_eq!(left, 13);
        let (events, _) = parse_every_way(b"*1\0\r\n$4\r\nPING\r\n", &OPEN);
        assert!(events.is_empty());
        let (events, _) = parse_every_way(b"*1\r\n$4\0\r\nPING\r\n", &OPEN);
        assert!(events.is_empty());
        let (events, _) = parse_every_way(b"*1\r\n\0$4\r\nPING\r\n", &OPEN);
        assert!(events.is_empty());
        let (events, _) = parse_every_way(b"*1\r\n\x004\r\nPING\r\n", &OPEN);
        assert!(events.is_empty());
        let (events, _) = parse_every_way(b"*2\r\n$1\r\na\r\n\x002\r\nxy\r\n", &OPEN);
        assert!(events.is_empty());

        let mut input = b"PING\0\r\n".to_vec();
        input.resize(INLINE_MAX_SIZE + 1, b'\n');
        assert_eq!(feed(&input, &OPEN).0, [Event::Error(ProtocolError::TooBigInlineRequest)]);
        let mut input = b"*1\r\n$4\0\r\n".to_vec();
        input.resize(4 + INLINE_MAX_SIZE + 1, b'\r');
        assert_eq!(feed(&input, &OPEN).0, [Event::Error(ProtocolError::TooBigBulkCount)]);
    }

    #[test]
    fn incomplete_reports_the_bulk_end() {
        let mut p = Parser::new();
        let mut buf = b"*2\r\n$3\r\nSET\r\n$100000\r\n".to_vec();
        let payload_start = buf.len();
        let need = payload_start + 100_000 + 2;
        assert_eq!(p.parse(&buf, &OPEN), Parsed::Incomplete { need: Some(need) });
        buf.extend_from_slice(&[b'v'; 60_000]);
        assert_eq!(p.parse(&buf, &OPEN), Parsed::Incomplete { need: Some(need) });
        buf.extend_from_slice(&[b'v'; 40_000]);
        buf.push(b'\r');
        assert_eq!(p.parse(&buf, &OPEN), Parsed::Incomplete { need: Some(need) });
        buf.extend_from_slice(b"\n*1");
        assert_eq!(p.parse(&buf, &OPEN), Parsed::Command { consumed: need });
        assert_eq!(p.argc(), 2);
        assert_eq!(p.arg(&buf, 0), b"SET");
        assert_eq!(p.arg(&buf, 1).len(), 100_000);
        assert_eq!(p.args(&buf).len(), 2);
        assert_eq!(p.args(&buf).next_back(), Some(&[b'v'; 100_000][..]));
        // Lines have no known end.
        assert_eq!(p.parse(&buf[need..], &OPEN), Parsed::Incomplete { need: None });
        assert_eq!(p.parse(b"PI", &OPEN), Parsed::Incomplete { need: None });
        // Nothing at all.
        assert_eq!(Parser::new().parse(b"", &OPEN), Parsed::Incomplete { need: None });
    }

    /// A partly received request is not parsed again from its start: bytes
    /// already taken are never looked at again, so scrambling them (which the
    /// contract forbids) goes unnoticed.
    #[test]
    fn resumes_where_it_stopped() {
        let mut p = Parser::new();
        let mut buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva".to_vec();
        assert_eq!(p.parse(&buf, &OPEN), Parsed::Incomplete { need: Some(31) });
        assert_eq!(p.argc(), 2);
        buf[..24].fill(b'#');
        buf.extend_from_slice(b"lue\r\n");
        assert_eq!(p.parse(&buf, &OPEN), Parsed::Command { consumed: 31 });
        let args: Vec<&[u8]> = p.args(&buf).collect();
        assert_eq!(args, [&b"###"[..], b"#", b"value"]);

        // The same for an inline line: the searched part is not searched again.
        let mut p = Parser::new();
        let mut buf = b"ECHO abc".to_vec();
        assert_eq!(p.parse(&buf, &OPEN), Parsed::Incomplete { need: None });
        buf[1] = b'\n';
        buf.extend_from_slice(b"\n");
        assert_eq!(p.parse(&buf, &OPEN), Parsed::Command { consumed: 9 });
    }

    /// A request with many arguments, received in small reads, is parsed in
    /// time linear in its size (a re-parse per read would take minutes).
    #[test]
    fn large_request_in_small_reads() {
        const ARGS: usize = 300_000;
        let mut input = format!("*{ARGS}\r\n").into_bytes();
        for i in 0..ARGS {
            let arg = i.to_string();
            input.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
        let mut p = Parser::new();
        let mut end = 0;
        let consumed = loop {
            end = (end + 1500).min(input.len());
            match p.parse(&input[..end], &OPEN) {
                Parsed::Incomplete { .. } => assert!(end < input.len()),
                Parsed::Command { consumed } => break consumed,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(consumed, input.len());
        assert_eq!(p.argc(), ARGS);
        assert_eq!(p.arg(&input, 123_456), b"123456");
    }

    #[test]
    fn parser_starts_afresh_after_an_error() {
        let mut p = Parser::new();
        assert_eq!(p.parse(b"*1\r\n!", &OPEN), Parsed::Incomplete { need: None });
        assert_eq!(
            p.parse(b"*1\r\n!\r\n", &OPEN),
            Parsed::Error(ProtocolError::ExpectedDollar { got: b'!' })
        );
        assert_eq!(p.parse(b"PING\r\n", &OPEN), Parsed::Command { consumed: 6 });
        assert_eq!(p.arg(b"PING\r\n", 0), b"PING");
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"123456789012345678901",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }

    /// One command as a client might send it.
    #[derive(Clone, Debug)]
    enum Frame {
        Multibulk(Vec<Vec<u8>>),
        /// Every byte written as `\xHH` inside double quotes.
        InlineQuoted(Vec<Vec<u8>>),
        /// Plain words, no quoting.
        InlinePlain(Vec<Vec<u8>>),
        Blank,
        ZeroCount,
    }

    impl Frame {
        fn encode(&self, out: &mut Vec<u8>) {
            match self {
                Frame::Multibulk(args) => {
                    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
                    for a in args {
                        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                        out.extend_from_slice(a);
                        out.extend_from_slice(b"\r\n");
                    }
                }
                Frame::InlineQuoted(args) => {
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            out.push(b' ');
                        }
                        out.push(b'"');
                        for b in a {
                            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
                        }
                        out.push(b'"');
                    }
                    out.extend_from_slice(b"\r\n");
                }
                Frame::InlinePlain(args) => {
                    out.extend_from_slice(&args.join(&b' '));
                    out.push(b'\n');
                }
                Frame::Blank => out.extend_from_slice(b" \r\n"),
                Frame::ZeroCount => out.extend_from_slice(b"*0\r\n"),
            }
        }

        fn expected(&self, encoded_len: usize) -> Event {
            match self {
                Frame::Multibulk(args) | Frame::InlineQuoted(args) | Frame::InlinePlain(args) => {
                    Event::Command(args.clone())
                }
                Frame::Blank | Frame::ZeroCount => Event::Empty(encoded_len),
            }
        }
    }

    fn frame() -> impl Strategy<Value = Frame> {
        let any_args = prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..6);
        let plain_args =
            prop::collection::vec(prop::collection::vec(b'!'..=b'~', 1..12), 1..6).prop_map(|mut args| {
                for a in &mut args {
                    a.retain(|&b| b != b'"' && b != b'\'');
                    if a.is_empty() {
                        a.push(b'x');
                    }
                }
                if args[0][0] == b'*' {
                    args[0][0] = b'+';
                }
                args
            });
        prop_oneof![
            4 => any_args.clone().prop_map(Frame::Multibulk),
            2 => any_args.prop_map(Frame::InlineQuoted),
            2 => plain_args.prop_map(Frame::InlinePlain),
            1 => Just(Frame::Blank),
            1 => Just(Frame::ZeroCount),
        ]
    }

    proptest! {
        #[test]
        fn random_requests_in_random_reads(
            frames in prop::collection::vec(frame(), 1..12),
            reads in prop::collection::vec(1usize..40, 1..64),
        ) {
            let mut input = Vec::new();
            let mut expected = Vec::new();
            for f in &frames {
                let start = input.len();
                f.encode(&mut input);
                expected.push(f.expected(input.len() - start));
            }
            let mut cuts = Vec::new();
            let mut at = 0;
            for r in reads.iter().cycle() {
                at += r;
                if at >= input.len() {
                    break;
                }
                cuts.push(at);
            }
            prop_assert_eq!(feed_cut(&input, &cuts, &OPEN), (expected.clone(), 0));
            prop_assert_eq!(feed(&input, &OPEN), (expected, 0));
        }

        #[test]
        fn arbitrary_bytes_parse_alike_however_cut(
            input in prop::collection::vec(
                prop_oneof![
                    Just(b'*'), Just(b'$'), Just(b'\r'), Just(b'\n'), Just(b'"'), Just(b'\''),
                    Just(b'\\'), Just(b' '), Just(b'0'), b'1'..=b'3', Just(b'-'), any::<u8>(),
                ],
                0..80,
            ),
            cuts in prop::collection::vec(0usize..80, 0..8),
            authenticated: bool,
        ) {
            let limits = Limits { max_bulk_len: 20, authenticated };
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= input.len()).collect();
            cuts.sort_unstable();
            prop_assert_eq!(feed_cut(&input, &cuts, &limits), feed(&input, &limits));
        }
    }
}
