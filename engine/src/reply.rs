//! The reply writer: RESP2 or RESP3 bytes, appended to a caller's buffer.
//!
//! Every handler writes its reply through this type and never formats RESP by
//! hand, so that one place decides how each reply type looks in each protocol
//! version (a RESP3 map is a flat array in RESP2, a null is `$-1`, `*-1` or `_`).

/// Appends replies in the protocol version the client negotiated.
pub struct Reply<'a> {
    buf: &'a mut Vec<u8>,
    resp3: bool,
}

impl<'a> Reply<'a> {
    pub fn new(buf: &'a mut Vec<u8>, resp3: bool) -> Reply<'a> {
        Reply { buf, resp3 }
    }

    pub fn resp3(&self) -> bool {
        self.resp3
    }

    /// The bytes written so far (including what was in the buffer before).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops whatever was written after `len`, e.g. a partial reply abandoned for an error.
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    pub fn buffer(&mut self) -> &mut Vec<u8> {
        self.buf
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply (`+text`). `text` must not contain CR or LF.
    pub fn simple(&mut self, text: &[u8]) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(text);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply; `line` starts with the error code (`ERR ...`, `WRONGTYPE ...`).
    /// CR and LF inside it are replaced by spaces so that the reply stays one line.
    pub fn error(&mut self, line: &str) {
        self.buf.push(b'-');
        self.buf.extend(line.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of `n`.
    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        self.bulk(b.format(n).as_bytes());
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    pub fn array(&mut self, len: usize) {
        self.header(b'*', len as i64);
    }

    /// A map of `len` pairs: `%len` in RESP3, a flat array of `2*len` in RESP2.
    pub fn map(&mut self, len: usize) {
        if self.resp3 {
            self.header(b'%', len as i64);
        } else {
            self.header(b'*', 2 * len as i64);
        }
    }

    /// A set: `~len` in RESP3, an array in RESP2.
    pub fn set(&mut self, len: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, len as i64);
    }

    /// An out-of-band push: `>len` in RESP3, an array in RESP2.
    pub fn push(&mut self, len: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, len as i64);
    }

    /// A double: `,x` in RESP3, a bulk string in RESP2, formatted as Redis's `%.17g`.
    pub fn double(&mut self, d: f64) {
        let text = crate::num::fmt_double(d);
        if self.resp3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn bool(&mut self, b: bool) {
        if self.resp3 {
            self.buf.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// A verbatim string (`=len\r\ntxt:...`) in RESP3, a bulk string in RESP2.
    /// `format` is the three-letter format, `txt` or `mkd`.
    pub fn verbatim(&mut self, format: &str, text: &[u8]) {
        if self.resp3 {
            self.header(b'=', (text.len() + 4) as i64);
            self.buf.extend_from_slice(format.as_bytes());
            self.buf.push(b':');
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// A HELP reply in Redis's layout: a header naming the container command,
    /// the given lines (subcommands and their descriptions), then HELP itself.
    pub fn help(&mut self, container: &str, lines: &[&str]) {
        self.array(lines.len() + 3);
        let mut header = container.to_ascii_uppercase().into_bytes();
        header.extend_from_slice(b" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        self.simple(&header);
        for l in lines {
            self.simple(l.as_bytes());
        }
        self.simple(b"HELP");
        self.simple(b"    Prints this help.");
    }

    /// Appends bytes that are already a complete RESP reply.
    pub fn raw(&mut self, resp: &[u8]) {
        self.buf.extend_from_slice(resp);
    }

    fn header(&mut self, tag: u8, n: i64) {
        let mut b = itoa::Buffer::new();
        self.buf.push(tag);
        self.buf.extend_from_slice(b.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(resp3: bool, f: impl FnOnce(&mut Reply)) -> String {
        let mut buf = Vec::new();
        f(&mut Reply::new(&mut buf, resp3));
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn nulls_differ_by_protocol() {
        assert_eq!(render(false, |r| r.null()), "$-1\r\n");
        assert_eq!(render(false, |r| r.null_array()), "*-1\r\n");
        assert_eq!(render(true, |r| r.null()), "_\r\n");
        assert_eq!(render(true, |r| r.null_array()), "_\r\n");
    }

    #[test]
    fn maps_flatten_in_resp2() {
        assert_eq!(render(false, |r| r.map(2)), "*4\r\n");
        assert_eq!(render(true, |r| r.map(2)), "%2\r\n");
    }

    #[test]
    fn doubles() {
        assert_eq!(render(false, |r| r.double(1.5)), "$3\r\n1.5\r\n");
        assert_eq!(render(true, |r| r.double(f64::INFINITY)), ",inf\r\n");
        assert_eq!(render(true, |r| r.double(0.1)), ",0.10000000000000001\r\n");
    }

    #[test]
    fn errors_stay_on_one_line() {
        assert_eq!(render(false, |r| r.error("ERR a\r\nb")), "-ERR a  b\r\n");
    }
}
