//! The `cmsgpack` library Redis embeds (lua-cmsgpack): MessagePack
//! `pack`, `unpack`, `unpack_one` and `unpack_limit`.

// SAFETY (module-wide): every unsafe fn here takes a valid `lua_State` of
// this thread's VM and checks stack room before nested pushes.
#![allow(unsafe_op_in_unsafe_fn)]

use mlua::ffi::{self, lua_State};
use std::ffi::{c_char, c_int};

/// Tables nested deeper than this pack as nil (lua-cmsgpack's limit).
const MAX_NESTING: usize = 16;

unsafe fn raise(l: *mut lua_State, msg: &str) -> ! {
    ffi::luaL_where(l, 1);
    ffi::lua_pushlstring(l, msg.as_ptr() as *const c_char, msg.len());
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}

fn pack_number(out: &mut Vec<u8>, n: f64) {
    let is_int = n.is_finite()
        && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n)
        && (n as i64) as f64 == n;
    if is_int {
        let i = n as i64;
        if i >= 0 {
            let u = i as u64;
            if u <= 127 {
                out.push(u as u8);
            } else if u <= 0xff {
                out.extend_from_slice(&[0xcc, u as u8]);
            } else if u <= 0xffff {
                out.push(0xcd);
                out.extend_from_slice(&(u as u16).to_be_bytes());
            } else if u <= 0xffff_ffff {
                out.push(0xce);
                out.extend_from_slice(&(u as u32).to_be_bytes());
            } else {
                out.push(0xcf);
                out.extend_from_slice(&u.to_be_bytes());
            }
        } else if i >= -32 {
            out.push(i as i8 as u8);
        } else if i >= -128 {
            out.extend_from_slice(&[0xd0, i as i8 as u8]);
        } else if i >= -32768 {
            out.push(0xd1);
            out.extend_from_slice(&(i as i16).to_be_bytes());
        } else if i >= -(1 << 31) {
            out.push(0xd2);
            out.extend_from_slice(&(i as i32).to_be_bytes());
        } else {
            out.push(0xd3);
            out.extend_from_slice(&i.to_be_bytes());
        }
    } else if (n as f32) as f64 == n {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn pack_len(out: &mut Vec<u8>, len: usize, fix: u8, fix_max: usize, tags: [u8; 3]) {
    if len <= fix_max {
        out.push(fix | len as u8);
    } else if tags[0] != 0 && len <= 0xff {
        out.extend_from_slice(&[tags[0], len as u8]);
    } else if len <= 0xffff {
        out.push(tags[1]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(tags[2]);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// The array length of the table at the top of the stack when its keys are
/// exactly 1..n (an empty table is an empty array), else None.
unsafe fn array_len(l: *mut lua_State) -> Option<usize> {
    let mut count = 0usize;
    let mut max = 0f64;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        if ffi::lua_type(l, -1) != ffi::LUA_TNUMBER {
            ffi::lua_pop(l, 1);
            return None;
        }
        let k = ffi::lua_tonumber(l, -1);
        if k < 1.0 || k.floor() != k {
            ffi::lua_pop(l, 1);
            return None;
        }
        max = max.max(k);
        count += 1;
    }
    (max as usize == count).then_some(count)
}

/// Packs the value at the top of the stack (left there).
unsafe fn pack_value(l: *mut lua_State, out: &mut Vec<u8>, level: usize) {
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => {
            let mut len = 0;
            let p = ffi::lua_tolstring(l, -1, &mut len);
            pack_len(out, len, 0xa0, 31, [0xd9, 0xda, 0xdb]);
            out.extend_from_slice(std::slice::from_raw_parts(p as *const u8, len));
        }
        ffi::LUA_TBOOLEAN => out.push(if ffi::lua_toboolean(l, -1) != 0 { 0xc3 } else { 0xc2 }),
        ffi::LUA_TNUMBER => pack_number(out, ffi::lua_tonumber(l, -1)),
        ffi::LUA_TTABLE if level < MAX_NESTING && ffi::lua_checkstack(l, 3) != 0 => match array_len(l) {
            Some(n) => {
                pack_len(out, n, 0x90, 15, [0, 0xdc, 0xdd]);
                for i in 1..=n {
                    ffi::lua_rawgeti(l, -1, i as ffi::lua_Integer);
                    pack_value(l, out, level + 1);
                    ffi::lua_pop(l, 1);
                }
            }
            None => {
                let mut n = 0;
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pop(l, 1);
                    n += 1;
                }
                pack_len(out, n, 0x80, 15, [0, 0xde, 0xdf]);
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pushvalue(l, -2);
                    pack_value(l, out, level + 1);
                    ffi::lua_pop(l, 1);
                    pack_value(l, out, level + 1);
                    ffi::lua_pop(l, 1);
                }
            }
        },
        _ => out.push(0xc0),
    }
}

unsafe extern "C-unwind" fn pack(l: *mut lua_State) -> c_int {
    let n = ffi::lua_gettop(l);
    if n == 0 {
        ffi::luaL_argerror(l, 0, c"MessagePack pack needs input.".as_ptr());
    }
    let out = {
        let mut out = Vec::new();
        for i in 1..=n {
            ffi::lua_pushvalue(l, i);
            pack_value(l, &mut out, 0);
            ffi::lua_pop(l, 1);
        }
        out
    };
    ffi::lua_pushlstring(l, out.as_ptr() as *const c_char, out.len());
    1
}

#[derive(Debug)]
enum DecodeError {
    Missing,
    Bad,
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Missing)?;
        let b = self.s.get(self.pos..end).ok_or(DecodeError::Missing)?;
        self.pos = end;
        Ok(b)
    }

    fn uint(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
    }
}

/// Decodes one value, pushing it.
unsafe fn decode(l: *mut lua_State, c: &mut Cursor) -> Result<(), DecodeError> {
    if ffi::lua_checkstack(l, 3) == 0 {
        return Err(DecodeError::Bad);
    }
    let tag = c.take(1)?[0];
    match tag {
        0x00..=0x7f => ffi::lua_pushnumber(l, tag as f64),
        0xe0..=0xff => ffi::lua_pushnumber(l, tag as i8 as f64),
        0x80..=0x8f => decode_map(l, c, (tag & 0x0f) as usize)?,
        0x90..=0x9f => decode_array(l, c, (tag & 0x0f) as usize)?,
        0xa0..=0xbf => push_str(l, c, (tag & 0x1f) as usize)?,
        0xc0 => ffi::lua_pushnil(l),
        0xc2 => ffi::lua_pushboolean(l, 0),
        0xc3 => ffi::lua_pushboolean(l, 1),
        0xca => ffi::lua_pushnumber(l, f32::from_bits(c.uint(4)? as u32) as f64),
        0xcb => ffi::lua_pushnumber(l, f64::from_bits(c.uint(8)?)),
        0xcc => ffi::lua_pushnumber(l, c.uint(1)? as f64),
        0xcd => ffi::lua_pushnumber(l, c.uint(2)? as f64),
        0xce => ffi::lua_pushnumber(l, c.uint(4)? as f64),
        0xcf => ffi::lua_pushnumber(l, c.uint(8)? as f64),
        0xd0 => ffi::lua_pushnumber(l, c.uint(1)? as u8 as i8 as f64),
        0xd1 => ffi::lua_pushnumber(l, c.uint(2)? as u16 as i16 as f64),
        0xd2 => ffi::lua_pushnumber(l, c.uint(4)? as u32 as i32 as f64),
        0xd3 => ffi::lua_pushnumber(l, c.uint(8)? as i64 as f64),
        0xd9 => {
            let n = c.uint(1)? as usize;
            push_str(l, c, n)?
        }
        0xda => {
            let n = c.uint(2)? as usize;
            push_str(l, c, n)?
        }
        0xdb => {
            let n = c.uint(4)? as usize;
            push_str(l, c, n)?
        }
        0xdc => {
            let n = c.uint(2)? as usize;
            decode_array(l, c, n)?
        }
        0xdd => {
            let n = c.uint(4)? as usize;
            decode_array(l, c, n)?
        }
        0xde => {
            let n = c.uint(2)? as usize;
            decode_map(l, c, n)?
        }
        0xdf => {
            let n = c.uint(4)? as usize;
            decode_map(l, c, n)?
        }
        _ => return Err(DecodeError::Bad),
    }
    Ok(())
}

unsafe fn push_str(l: *mut lua_State, c: &mut Cursor, n: usize) -> Result<(), DecodeError> {
    let b = c.take(n)?;
    ffi::lua_pushlstring(l, b.as_ptr() as *const c_char, b.len());
    Ok(())
}

unsafe fn decode_array(l: *mut lua_State, c: &mut Cursor, n: usize) -> Result<(), DecodeError> {
    ffi::lua_createtable(l, n.min(1024) as c_int, 0);
    for i in 1..=n {
        decode(l, c)?;
        ffi::lua_rawseti(l, -2, i as ffi::lua_Integer);
    }
    Ok(())
}

unsafe fn decode_map(l: *mut lua_State, c: &mut Cursor, n: usize) -> Result<(), DecodeError> {
    ffi::lua_createtable(l, 0, n.min(1024) as c_int);
    for _ in 0..n {
        decode(l, c)?;
        decode(l, c)?;
        // As lua-cmsgpack: lua_settable, which fails on a nil key.
        ffi::lua_settable(l, -3);
    }
    Ok(())
}

/// Decodes up to `limit` values (0 = all) from `offset`; pushes the values
/// and returns (how many, the offset after them).
unsafe fn unpack_values(
    l: *mut lua_State,
    data: &[u8],
    offset: usize,
    limit: usize,
) -> Result<(c_int, usize), DecodeError> {
    let mut c = Cursor { s: data, pos: offset };
    let mut n = 0;
    while c.pos < data.len() && (limit == 0 || (n as usize) < limit) {
        decode(l, &mut c)?;
        n += 1;
    }
    Ok((n, c.pos))
}

/// unpack(s) / unpack_one(s[, offset]) / unpack_limit(s, limit[, offset]).
unsafe fn unpack_generic(l: *mut lua_State, limit: Option<c_int>, offset_arg: c_int) -> c_int {
    let mut len = 0;
    let p = ffi::luaL_checklstring(l, 1, &mut len);
    let data = std::slice::from_raw_parts(p as *const u8, len);
    let limit = match limit {
        Some(n) => n,
        None => ffi::luaL_optinteger(l, 2, 0) as c_int,
    };
    let offset = if offset_arg > 0 { ffi::luaL_optinteger(l, offset_arg, 0) as i64 } else { 0 };
    if offset < 0 || limit < 0 {
        let msg = format!("Invalid request to unpack with offset of {offset} and limit of {len}.");
        raise_owned(l, msg);
    }
    if offset as usize > len {
        let msg = format!("Start offset {offset} greater than input length {len}.");
        raise_owned(l, msg);
    }
    let base = ffi::lua_gettop(l);
    let result = unpack_values(l, data, offset as usize, limit as usize);
    match result {
        Err(e) => {
            ffi::lua_settop(l, base);
            raise(
                l,
                match e {
                    DecodeError::Missing => "Missing bytes in input.",
                    DecodeError::Bad => "Bad data format in input.",
                },
            )
        }
        Ok((n, end)) => {
            if limit == 0 {
                return n;
            }
            let next = if end >= len { -1.0 } else { end as f64 };
            ffi::lua_pushnumber(l, next);
            ffi::lua_insert(l, base + 1);
            n + 1
        }
    }
}

unsafe fn raise_owned(l: *mut lua_State, msg: String) -> ! {
    ffi::luaL_where(l, 1);
    ffi::lua_pushlstring(l, msg.as_ptr() as *const c_char, msg.len());
    drop(msg);
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}

unsafe extern "C-unwind" fn unpack(l: *mut lua_State) -> c_int {
    unpack_generic(l, Some(0), 0)
}

unsafe extern "C-unwind" fn unpack_one(l: *mut lua_State) -> c_int {
    unpack_generic(l, Some(1), 2)
}

unsafe extern "C-unwind" fn unpack_limit(l: *mut lua_State) -> c_int {
    unpack_generic(l, None, 3)
}

/// Registers the global `cmsgpack` table.
pub(super) unsafe fn open(l: *mut lua_State) {
    ffi::lua_createtable(l, 0, 8);
    ffi::lua_pushcfunction(l, pack);
    ffi::lua_setfield(l, -2, c"pack".as_ptr());
    ffi::lua_pushcfunction(l, unpack);
    ffi::lua_setfield(l, -2, c"unpack".as_ptr());
    ffi::lua_pushcfunction(l, unpack_one);
    ffi::lua_setfield(l, -2, c"unpack_one".as_ptr());
    ffi::lua_pushcfunction(l, unpack_limit);
    ffi::lua_setfield(l, -2, c"unpack_limit".as_ptr());
    ffi::lua_pushstring(l, c"lua-cmsgpack".as_ptr());
    ffi::lua_setfield(l, -2, c"_NAME".as_ptr());
    ffi::lua_pushstring(l, c"lua-cmsgpack 0.4.0".as_ptr());
    ffi::lua_setfield(l, -2, c"_VERSION".as_ptr());
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"cmsgpack".as_ptr());
}
