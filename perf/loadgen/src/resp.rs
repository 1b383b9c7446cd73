//! RESP as a load generator needs it: encoding requests, and skimming replies.
//!
//! The skimmer only finds where each complete reply ends in a read buffer and
//! whether it is an error; it never builds a value and never allocates, so
//! reading a reply costs a scan of its bytes. It understands every RESP2 and
//! RESP3 type a server sends (simple strings, errors, integers, bulk strings,
//! nulls, arrays, maps, sets, pushes, attributes, doubles, booleans, big
//! numbers, blob errors, verbatim strings), nested to any depth. Streamed
//! strings and aggregates (`$?`, `*?`) are refused: no Redis-compatible
//! server sends them.

use std::ops::Range;

/// How one complete reply at the start of a buffer was classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Any reply that is neither an error nor a push.
    Value,
    /// An error reply (`-` or `!`); the range holds its text.
    Error(Range<usize>),
    /// An out-of-band RESP3 push, which answers no request.
    Push,
}

/// One complete reply: its length in bytes and its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub len: usize,
    pub kind: Kind,
}

/// The bytes cannot be RESP: the connection cannot be read any further.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub &'static str);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "protocol error: {}", self.0)
    }
}

impl std::error::Error for ProtocolError {}

/// A length larger than this is taken for garbage rather than waited for.
/// Redis's own limits (proto-max-bulk-len, 512 MiB) are far below it.
const MAX_LEN: i64 = 1 << 32;

/// Finds the first complete reply in `buf`. `Ok(None)` means the reply is not
/// complete yet: read more and call again with the same start.
pub fn skim(buf: &[u8]) -> Result<Option<Reply>, ProtocolError> {
    let mut pos = 0;
    // An attribute map (`|`) describes the reply after it; together they
    // answer one request, and the kind is that of the reply.
    while buf.get(pos) == Some(&b'|') {
        let Some(cr) = find_crlf(buf, pos + 1)? else { return Ok(None) };
        let pairs = parse_len(&buf[pos + 1..cr])?;
        if pairs < 0 {
            return Err(ProtocolError("negative attribute length"));
        }
        match skip(buf, cr + 2, 2 * pairs as u64)? {
            Some(end) => pos = end,
            None => return Ok(None),
        }
    }
    let Some(&tag) = buf.get(pos) else { return Ok(None) };
    let Some(end) = skip(buf, pos, 1)? else { return Ok(None) };
    let kind = match tag {
        b'-' => Kind::Error(pos + 1..end - 2),
        b'!' => {
            // `!<len>\r\n<text>\r\n`: the text is the blob after the header.
            let text = find_crlf(buf, pos + 1)?.map_or(end - 2, |cr| cr + 2);
            Kind::Error(text..end - 2)
        }
        b'>' => Kind::Push,
        _ => Kind::Value,
    };
    Ok(Some(Reply { len: end, kind }))
}

/// Skips `owed` values (with everything nested in them) from `pos`; returns
/// where they end. Nesting is followed with the count of values still owed
/// rather than a stack: an aggregate of n elements owes n more.
fn skip(buf: &[u8], mut pos: usize, mut owed: u64) -> Result<Option<usize>, ProtocolError> {
    while owed > 0 {
        let Some(&tag) = buf.get(pos) else { return Ok(None) };
        let Some(cr) = find_crlf(buf, pos + 1)? else { return Ok(None) };
        let line = &buf[pos + 1..cr];
        let next = cr + 2;
        owed -= 1;
        match tag {
            b'+' | b'-' | b':' | b',' | b'(' => pos = next,
            b'_' if line.is_empty() => pos = next,
            b'#' if line == b"t" || line == b"f" => pos = next,
            b'$' | b'!' | b'=' => {
                let n = parse_len(line)?;
                if n == -1 && tag == b'$' {
                    pos = next;
                    continue;
                }
                if n < 0 {
                    return Err(ProtocolError("negative blob length"));
                }
                let end = next + n as usize;
                if buf.len() < end + 2 {
                    return Ok(None);
                }
                if &buf[end..end + 2] != b"\r\n" {
                    return Err(ProtocolError("blob not followed by CRLF"));
                }
                pos = end + 2;
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                let n = parse_len(line)?;
                pos = next;
                if n == -1 && tag == b'*' {
                    continue;
                }
                if n < 0 {
                    return Err(ProtocolError("negative aggregate length"));
                }
                let n = n as u64;
                owed += match tag {
                    b'%' => 2 * n,
                    // An attribute's pairs come before the value it
                    // describes, which is still owed.
                    b'|' => 2 * n + 1,
                    _ => n,
                };
            }
            _ => return Err(ProtocolError("unknown reply type")),
        }
    }
    Ok(Some(pos))
}

/// The position of the `\r` of the first CRLF at or after `from`.
#[inline]
fn find_crlf(buf: &[u8], from: usize) -> Result<Option<usize>, ProtocolError> {
    let Some(rest) = buf.get(from..) else { return Ok(None) };
    match memchr::memchr(b'\n', rest) {
        Some(i) if i > 0 && rest[i - 1] == b'\r' => Ok(Some(from + i - 1)),
        Some(_) => Err(ProtocolError("line feed without carriage return")),
        None => Ok(None),
    }
}

fn parse_len(line: &[u8]) -> Result<i64, ProtocolError> {
    let (negative, digits) = match line {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, line),
    };
    if digits.is_empty() {
        return Err(ProtocolError("empty length"));
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(ProtocolError("length is not a number"));
        }
        n = n * 10 + i64::from(d - b'0');
        if n > MAX_LEN {
            return Err(ProtocolError("length too large"));
        }
    }
    Ok(if negative { -n } else { n })
}

/// Appends a request as a RESP multibulk array of `args`.
pub fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    let mut num = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(num.format(args.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for arg in args {
        out.push(b'$');
        out.extend_from_slice(num.format(arg.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(bytes: &[u8]) -> Reply {
        let r = skim(bytes).expect("valid").expect("complete");
        assert_eq!(r.len, bytes.len(), "{:?}", String::from_utf8_lossy(bytes));
        r
    }

    const SAMPLES: &[&[u8]] = &[
        b"+OK\r\n",
        b"-ERR unknown command\r\n",
        b":12345\r\n",
        b":-3\r\n",
        b"$5\r\nhello\r\n",
        b"$0\r\n\r\n",
        b"$-1\r\n",
        b"*-1\r\n",
        b"*0\r\n",
        b"*3\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n",
        b"*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n*1\r\n$1\r\nx\r\n",
        b"%2\r\n+a\r\n:1\r\n+b\r\n*2\r\n:1\r\n:2\r\n",
        b"~2\r\n+a\r\n+b\r\n",
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nmsg\r\n",
        b"_\r\n",
        b",3.14\r\n",
        b",inf\r\n",
        b"#t\r\n",
        b"#f\r\n",
        b"(3492890328409238509324850943850943825024385\r\n",
        b"!21\r\nSYNTAX invalid syntax\r\n",
        b"=15\r\ntxt:Some string\r\n",
        b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:1\r\n:2\r\n",
        b"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n",
        b"$4\r\n\r\n\r\n\r\n",
    ];

    #[test]
    fn every_type_is_skimmed_whole() {
        for s in SAMPLES {
            whole(s);
        }
    }

    #[test]
    fn kinds() {
        assert_eq!(whole(b"+OK\r\n").kind, Kind::Value);
        assert_eq!(whole(b":1\r\n").kind, Kind::Value);
        let err = b"-MOVED 3999 127.0.0.1:6381\r\n";
        match whole(err).kind {
            Kind::Error(r) => assert_eq!(&err[r], b"MOVED 3999 127.0.0.1:6381"),
            k => panic!("{k:?}"),
        }
        let blob = b"!21\r\nSYNTAX invalid syntax\r\n";
        match whole(blob).kind {
            Kind::Error(r) => assert_eq!(&blob[r], b"SYNTAX invalid syntax"),
            k => panic!("{k:?}"),
        }
        assert_eq!(whole(b">2\r\n+a\r\n+b\r\n").kind, Kind::Push);
        // An attribute takes the kind of the reply it describes.
        assert_eq!(whole(b"|1\r\n+a\r\n+b\r\n:7\r\n").kind, Kind::Value);
        let attr_err = b"|1\r\n+a\r\n+b\r\n-ERR x\r\n";
        match whole(attr_err).kind {
            Kind::Error(r) => assert_eq!(&attr_err[r], b"ERR x"),
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn consecutive_replies_are_separated() {
        let buf = b"+OK\r\n$3\r\nabc\r\n:5\r\n";
        let mut pos = 0;
        let mut lens = Vec::new();
        while let Some(r) = skim(&buf[pos..]).unwrap() {
            lens.push(r.len);
            pos += r.len;
        }
        assert_eq!(lens, [5, 9, 4]);
        assert_eq!(pos, buf.len());
    }

    #[test]
    fn split_at_every_offset_is_incomplete() {
        for s in SAMPLES {
            for cut in 0..s.len() {
                assert_eq!(skim(&s[..cut]), Ok(None), "{:?} cut at {cut}", String::from_utf8_lossy(s));
            }
        }
    }

    #[test]
    fn deep_nesting_needs_no_stack() {
        let mut buf = Vec::new();
        for _ in 0..100_000 {
            buf.extend_from_slice(b"*1\r\n");
        }
        buf.extend_from_slice(b":1\r\n");
        whole(&buf);
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            &b"?x\r\n"[..],
            b"hello\r\n",
            b"$abc\r\n",
            b"$\r\n",
            b"$-2\r\n",
            b"$3\r\nabcd\r\n",
            b"*-2\r\n",
            b"+OK\n",
            b"_x\r\n",
            b"#x\r\n",
            b"$99999999999\r\n",
            b"*1\r\n!\r\n",
            b"$?\r\n",
        ] {
            assert!(skim(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn encode_multibulk() {
        let mut out = Vec::new();
        encode(&mut out, &[b"SET", b"key", b""]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n");
        out.clear();
        encode(&mut out, &[&[b'x'; 12][..]]);
        assert_eq!(out, b"*1\r\n$12\r\nxxxxxxxxxxxx\r\n");
    }
}
