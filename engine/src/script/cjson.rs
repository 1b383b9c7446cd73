//! The `cjson` library Redis embeds (lua-cjson 2.1): `cjson.encode`,
//! `cjson.decode` and `cjson.null`, with lua-cjson's defaults (numbers as
//! `%.14g`, `/` escaped, NaN/Inf refused, sparse arrays up to ratio 2).

// SAFETY (module-wide): every unsafe fn here takes a valid `lua_State` of
// this thread's VM and checks stack room before deep pushes.
#![allow(unsafe_op_in_unsafe_fn)]

use mlua::ffi::{self, lua_State};
use std::ffi::{c_char, c_int};

const MAX_DEPTH: usize = 1000;

unsafe fn push_where_error(l: *mut lua_State, msg: &str) {
    ffi::luaL_where(l, 1);
    ffi::lua_pushlstring(l, msg.as_ptr() as *const c_char, msg.len());
    ffi::lua_concat(l, 2);
}

unsafe extern "C-unwind" fn encode(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        push_where_error(l, "bad argument #1 to 'encode' (expected 1 argument)");
        ffi::lua_error(l)
    }
    let result = {
        let mut out = Vec::new();
        encode_value(l, &mut out, 0).map(|_| out)
    };
    match result {
        Ok(out) => {
            ffi::lua_pushlstring(l, out.as_ptr() as *const c_char, out.len());
            1
        }
        Err(msg) => {
            push_where_error(l, &msg);
            drop(msg);
            ffi::lua_error(l)
        }
    }
}

fn fmt_number(d: f64) -> String {
    crate::num::fmt_g(d, 14)
}

fn escape(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            c if c < 0x20 || c == 0x7f => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            c => out.push(c),
        }
    }
    out.push(b'"');
}

/// Encodes the value at the top of the stack (left there).
unsafe fn encode_value(l: *mut lua_State, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => {
            let mut len = 0;
            let p = ffi::lua_tolstring(l, -1, &mut len);
            escape(out, std::slice::from_raw_parts(p as *const u8, len));
        }
        ffi::LUA_TNUMBER => {
            let d = ffi::lua_tonumber(l, -1);
            if !d.is_finite() {
                return Err("Cannot serialise number: must not be NaN or Inf".into());
            }
            out.extend_from_slice(fmt_number(d).as_bytes());
        }
        ffi::LUA_TBOOLEAN => {
            out.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 { b"true" } else { b"false" })
        }
        ffi::LUA_TNIL => out.extend_from_slice(b"null"),
        ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => out.extend_from_slice(b"null"),
        ffi::LUA_TTABLE => {
            if depth + 1 > MAX_DEPTH {
                return Err(format!("Cannot serialise, excessive nesting ({})", depth + 1));
            }
            if ffi::lua_checkstack(l, 3) == 0 {
                return Err("Cannot serialise, excessive nesting".into());
            }
            match array_length(l)? {
                Some(n) => {
                    out.push(b'[');
                    for i in 1..=n {
                        if i > 1 {
                            out.push(b',');
                        }
                        ffi::lua_rawgeti(l, -1, i as ffi::lua_Integer);
                        let r = encode_value(l, out, depth + 1);
                        ffi::lua_pop(l, 1);
                        r?;
                    }
                    out.push(b']');
                }
                None => {
                    out.push(b'{');
                    let mut first = true;
                    ffi::lua_pushnil(l);
                    while ffi::lua_next(l, -2) != 0 {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match ffi::lua_type(l, -2) {
                            ffi::LUA_TSTRING => {
                                let mut len = 0;
                                let p = ffi::lua_tolstring(l, -2, &mut len);
                                escape(out, std::slice::from_raw_parts(p as *const u8, len));
                            }
                            ffi::LUA_TNUMBER => {
                                let k = fmt_number(ffi::lua_tonumber(l, -2));
                                escape(out, k.as_bytes());
                            }
                            _ => {
                                ffi::lua_pop(l, 2);
                                return Err(
                                    "Cannot serialise table: table key must be a number or string".into()
                                );
                            }
                        }
                        out.push(b':');
                        let r = encode_value(l, out, depth + 1);
                        ffi::lua_pop(l, 1);
                        if let Err(e) = r {
                            ffi::lua_pop(l, 1);
                            return Err(e);
                        }
                    }
                    out.push(b'}');
                }
            }
        }
        t => {
            let name = std::ffi::CStr::from_ptr(ffi::lua_typename(l, t)).to_string_lossy().into_owned();
            return Err(format!("Cannot serialise {name}: type not supported"));
        }
    }
    Ok(())
}

/// Some(n) when the table is an array (only positive integer keys, not
/// excessively sparse), None when it is an object; empty tables are objects.
unsafe fn array_length(l: *mut lua_State) -> Result<Option<usize>, String> {
    let mut max = 0f64;
    let mut items = 0usize;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
            let k = ffi::lua_tonumber(l, -2);
            if k >= 1.0 && k.floor() == k {
                if k > max {
                    max = k;
                }
                items += 1;
                ffi::lua_pop(l, 1);
                continue;
            }
        }
        ffi::lua_pop(l, 2);
        return Ok(None);
    }
    if items == 0 {
        return Ok(None);
    }
    if max > 10.0 && max > items as f64 * 2.0 {
        return Err("Cannot serialise table: excessively sparse array".into());
    }
    Ok(Some(max as usize))
}

// ---------------------------------------------------------------------------

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

enum Token {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Token {
    fn name(&self) -> &'static str {
        match self {
            Token::ObjBegin => "T_OBJ_BEGIN",
            Token::ObjEnd => "T_OBJ_END",
            Token::ArrBegin => "T_ARR_BEGIN",
            Token::ArrEnd => "T_ARR_END",
            Token::Str(_) => "T_STRING",
            Token::Num(_) => "T_NUMBER",
            Token::Bool(_) => "T_BOOLEAN",
            Token::Null => "T_NULL",
            Token::Colon => "T_COLON",
            Token::Comma => "T_COMMA",
            Token::End => "T_END",
            Token::Error(e) => e,
        }
    }
}

impl Parser<'_> {
    /// The next token and the 1-based character where it starts.
    fn next(&mut self) -> (Token, usize) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let at = self.pos + 1;
        let Some(&c) = self.s.get(self.pos) else { return (Token::End, at) };
        let tok = match c {
            b'{' => self.one(Token::ObjBegin),
            b'}' => self.one(Token::ObjEnd),
            b'[' => self.one(Token::ArrBegin),
            b']' => self.one(Token::ArrEnd),
            b':' => self.one(Token::Colon),
            b',' => self.one(Token::Comma),
            b'"' => {
                let t = self.string();
                if let Token::Error(_) = t {
                    // String errors are reported where the scan stopped.
                    return (t, self.pos + 1);
                }
                t
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ if self.s[self.pos..].starts_with(b"true") => self.word(4, Token::Bool(true)),
            _ if self.s[self.pos..].starts_with(b"false") => self.word(5, Token::Bool(false)),
            _ if self.s[self.pos..].starts_with(b"null") => self.word(4, Token::Null),
            _ => Token::Error("invalid token"),
        };
        (tok, at)
    }

    fn one(&mut self, t: Token) -> Token {
        self.pos += 1;
        t
    }

    fn word(&mut self, n: usize, t: Token) -> Token {
        self.pos += n;
        t
    }

    fn number(&mut self) -> Token {
        let start = self.pos;
        while self.pos < self.s.len()
            && matches!(self.s[self.pos], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        {
            self.pos += 1;
        }
        match std::str::from_utf8(&self.s[start..self.pos]).ok().and_then(|t| t.parse::<f64>().ok()) {
            Some(d) => Token::Num(d),
            None => Token::Error("invalid number"),
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.s.get(at..at + 4)?;
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    }

    fn string(&mut self) -> Token {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else { return Token::Error("unexpected end of string") };
            self.pos += 1;
            match c {
                b'"' => return Token::Str(out),
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else { return Token::Error("invalid escape code") };
                    self.pos += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let Some(mut cp) = self.hex4(self.pos) else {
                                return Token::Error("invalid unicode escape code");
                            };
                            self.pos += 4;
                            if (0xD800..0xDC00).contains(&cp) {
                                let low = if self.s.get(self.pos..self.pos + 2) == Some(b"\\u") {
                                    self.hex4(self.pos + 2)
                                } else {
                                    None
                                };
                                match low {
                                    Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                                        self.pos += 6;
                                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                    }
                                    _ => return Token::Error("invalid unicode escape code"),
                                }
                            } else if (0xDC00..0xE000).contains(&cp) {
                                return Token::Error("invalid unicode escape code");
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        _ => return Token::Error("invalid escape code"),
                    }
                }
                c => out.push(c),
            }
        }
    }
}

/// Decodes one value starting with `tok`, pushing it; Err = the message.
unsafe fn decode_value(
    l: *mut lua_State,
    p: &mut Parser,
    tok: (Token, usize),
    depth: usize,
) -> Result<(), String> {
    let expected = |what: &str, t: &(Token, usize)| {
        format!("Expected {what} but found {} at character {}", t.0.name(), t.1)
    };
    match tok.0 {
        Token::Str(s) => {
            ffi::lua_pushlstring(l, s.as_ptr() as *const c_char, s.len());
        }
        Token::Num(d) => ffi::lua_pushnumber(l, d),
        Token::Bool(b) => ffi::lua_pushboolean(l, b as c_int),
        Token::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
        Token::ObjBegin | Token::ArrBegin => {
            if depth + 1 > MAX_DEPTH || ffi::lua_checkstack(l, 4) == 0 {
                return Err(format!(
                    "Found too many nested data structures ({}) at character {}",
                    depth + 1,
                    tok.1
                ));
            }
            let is_obj = matches!(tok.0, Token::ObjBegin);
            ffi::lua_createtable(l, 0, 0);
            let mut t = p.next();
            if is_obj {
                if matches!(t.0, Token::ObjEnd) {
                    return Ok(());
                }
                loop {
                    let Token::Str(key) = t.0 else { return Err(expected("object key string", &t)) };
                    ffi::lua_pushlstring(l, key.as_ptr() as *const c_char, key.len());
                    let c = p.next();
                    if !matches!(c.0, Token::Colon) {
                        return Err(expected("colon", &c));
                    }
                    let v = p.next();
                    decode_value(l, p, v, depth + 1)?;
                    ffi::lua_rawset(l, -3);
                    let sep = p.next();
                    match sep.0 {
                        Token::ObjEnd => return Ok(()),
                        Token::Comma => t = p.next(),
                        _ => return Err(expected("comma or object end", &sep)),
                    }
                }
            } else {
                if matches!(t.0, Token::ArrEnd) {
                    return Ok(());
                }
                let mut i = 1;
                loop {
                    decode_value(l, p, t, depth + 1)?;
                    ffi::lua_rawseti(l, -2, i);
                    i += 1;
                    let sep = p.next();
                    match sep.0 {
                        Token::ArrEnd => return Ok(()),
                        Token::Comma => t = p.next(),
                        _ => return Err(expected("comma or array end", &sep)),
                    }
                }
            }
        }
        _ => return Err(expected("value", &tok)),
    }
    Ok(())
}

unsafe extern "C-unwind" fn decode(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        push_where_error(l, "bad argument #1 to 'decode' (expected 1 argument)");
        ffi::lua_error(l)
    }
    let err = decode_top(l);
    if let Some(msg) = err {
        push_where_error(l, &msg);
        drop(msg);
        ffi::lua_error(l)
    }
    1
}

/// Decodes argument 1, pushing the value; Some(message) on a parse error.
unsafe fn decode_top(l: *mut lua_State) -> Option<String> {
    let mut len = 0;
    let ptr = ffi::luaL_checklstring(l, 1, &mut len);
    let text = std::slice::from_raw_parts(ptr as *const u8, len).to_vec();
    let mut p = Parser { s: &text, pos: 0 };
    let first = p.next();
    let base = ffi::lua_gettop(l);
    if let Err(e) = decode_value(l, &mut p, first, 0) {
        ffi::lua_settop(l, base);
        return Some(e);
    }
    let end = p.next();
    if !matches!(end.0, Token::End) {
        ffi::lua_settop(l, base);
        return Some(format!("Expected the end but found {} at character {}", end.0.name(), end.1));
    }
    None
}

/// Registers the global `cjson` table.
pub(super) unsafe fn open(l: *mut lua_State) {
    ffi::lua_createtable(l, 0, 5);
    ffi::lua_pushcfunction(l, encode);
    ffi::lua_setfield(l, -2, c"encode".as_ptr());
    ffi::lua_pushcfunction(l, decode);
    ffi::lua_setfield(l, -2, c"decode".as_ptr());
    ffi::lua_pushlightuserdata(l, std::ptr::null_mut());
    ffi::lua_setfield(l, -2, c"null".as_ptr());
    ffi::lua_pushstring(l, c"cjson".as_ptr());
    ffi::lua_setfield(l, -2, c"_NAME".as_ptr());
    ffi::lua_pushstring(l, c"2.1.0".as_ptr());
    ffi::lua_setfield(l, -2, c"_VERSION".as_ptr());
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"cjson".as_ptr());
}
