//! The `struct` library Redis embeds (Roberto Ierusalimschy's lua-struct):
//! `struct.pack`, `struct.unpack` and `struct.size` over C-like formats.

// SAFETY (module-wide): every unsafe fn here takes a valid `lua_State` of
// this thread's VM; arguments are read through the checking luaL_* calls.
#![allow(unsafe_op_in_unsafe_fn)]

use mlua::ffi::{self, lua_State};
use std::ffi::{c_char, c_int};

const MAX_INT_SIZE: usize = 32;
const MAX_ALIGN: usize = 8;

struct Header {
    little: bool,
    align: usize,
}

/// Reads a number in the format, or `default` when none follows.
fn get_num(fmt: &[u8], i: &mut usize, default: usize) -> usize {
    if *i >= fmt.len() || !fmt[*i].is_ascii_digit() {
        return default;
    }
    let mut a: usize = 0;
    while *i < fmt.len() && fmt[*i].is_ascii_digit() {
        a = a.saturating_mul(10).saturating_add((fmt[*i] - b'0') as usize);
        *i += 1;
    }
    a
}

/// What a format error raises (through luaL_error, with the position).
enum FmtError {
    IntSize(usize),
    Align(usize),
    Option(u8),
}

fn opt_size(opt: u8, fmt: &[u8], i: &mut usize) -> Result<usize, FmtError> {
    Ok(match opt {
        b'B' | b'b' | b'x' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'c' => get_num(fmt, i, 1),
        b'i' | b'I' => {
            let sz = get_num(fmt, i, 4);
            if sz > MAX_INT_SIZE {
                return Err(FmtError::IntSize(sz));
            }
            sz
        }
        _ => 0,
    })
}

fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

/// Handles the non-data options; Err for an unknown one.
fn control(h: &mut Header, opt: u8, fmt: &[u8], i: &mut usize) -> Result<(), FmtError> {
    match opt {
        b' ' => {}
        b'>' => h.little = false,
        b'<' => h.little = true,
        b'!' => {
            let a = get_num(fmt, i, MAX_ALIGN);
            if !a.is_power_of_two() {
                return Err(FmtError::Align(a));
            }
            h.align = a;
        }
        _ => return Err(FmtError::Option(opt)),
    }
    Ok(())
}

unsafe fn raise_fmt(l: *mut lua_State, e: FmtError) -> ! {
    let msg = match e {
        FmtError::IntSize(n) => format!("integral size {n} is larger than limit of {MAX_INT_SIZE}"),
        FmtError::Align(n) => format!("alignment {n} is not a power of 2"),
        FmtError::Option(c) => {
            let msg = format!("invalid format option '{}'\0", c as char);
            ffi::lua_pushlstring(l, msg.as_ptr() as *const c_char, msg.len() - 1);
            drop(msg);
            ffi::luaL_argerror(l, 1, ffi::lua_tolstring(l, -1, std::ptr::null_mut()));
            unreachable!("luaL_argerror raises")
        }
    };
    raise_msg(l, msg)
}

unsafe fn raise_msg(l: *mut lua_State, msg: String) -> ! {
    ffi::luaL_where(l, 1);
    ffi::lua_pushlstring(l, msg.as_ptr() as *const c_char, msg.len());
    drop(msg);
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}

fn put_int(out: &mut Vec<u8>, n: f64, little: bool, size: usize) {
    let v: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
    let mut bytes = vec![0u8; size];
    let mut x = v;
    for b in bytes.iter_mut() {
        *b = (x & 0xff) as u8;
        x >>= 8;
    }
    if !little {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8], little: bool) {
    // Native order is little-endian here.
    if little {
        out.extend_from_slice(b);
    } else {
        out.extend(b.iter().rev());
    }
}

/// What pack/unpack fail with besides format errors.
enum ArgError {
    Fmt(FmtError),
    Arg(c_int, &'static str),
    Msg(String),
    /// Argument `n` has the wrong type: re-checked by luaL_check* once
    /// nothing owned is left on the Rust stack, which raises Lua's error.
    Number(c_int),
    Str(c_int),
}

/// Raises the error for `e`.
unsafe fn raise_arg(l: *mut lua_State, e: ArgError) -> c_int {
    match e {
        ArgError::Fmt(e) => raise_fmt(l, e),
        ArgError::Arg(n, msg) => {
            ffi::luaL_argerror(l, n, msg.as_ptr() as *const c_char);
        }
        ArgError::Msg(m) => raise_msg(l, m),
        ArgError::Number(n) => {
            ffi::luaL_checknumber(l, n);
        }
        ArgError::Str(n) => {
            ffi::luaL_checklstring(l, n, std::ptr::null_mut());
        }
    }
    0
}

unsafe fn number_arg(l: *mut lua_State, n: c_int) -> Result<f64, ArgError> {
    if ffi::lua_isnumber(l, n) == 0 {
        return Err(ArgError::Number(n));
    }
    Ok(ffi::lua_tonumber(l, n))
}

unsafe fn str_arg<'a>(l: *mut lua_State, n: c_int) -> Result<&'a [u8], ArgError> {
    if ffi::lua_isstring(l, n) == 0 {
        return Err(ArgError::Str(n));
    }
    let mut len = 0;
    let p = ffi::lua_tolstring(l, n, &mut len);
    Ok(std::slice::from_raw_parts(p as *const u8, len))
}

unsafe extern "C-unwind" fn pack(l: *mut lua_State) -> c_int {
    let result = pack_inner(l);
    // Redis's pack sees a missing argument as nil (its buffer occupies the
    // stack above the arguments).
    if let Err(ArgError::Number(n) | ArgError::Str(n)) = &result {
        if *n > ffi::lua_gettop(l) {
            ffi::lua_settop(l, *n);
        }
    }
    match result {
        Ok(out) => {
            ffi::lua_pushlstring(l, out.as_ptr() as *const c_char, out.len());
            drop(out);
            1
        }
        Err(e) => raise_arg(l, e),
    }
}

unsafe fn pack_inner(l: *mut lua_State) -> Result<Vec<u8>, ArgError> {
    let fmt = str_arg(l, 1)?.to_vec();
    let mut h = Header { little: true, align: 1 };
    let mut arg = 2;
    let mut out = Vec::new();
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = opt_size(opt, &fmt, &mut i).map_err(ArgError::Fmt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = number_arg(l, arg)?;
                arg += 1;
                put_int(&mut out, n, h.little, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let n = number_arg(l, arg)? as f32;
                arg += 1;
                put_bytes(&mut out, &n.to_le_bytes(), h.little);
            }
            b'd' => {
                let n = number_arg(l, arg)?;
                arg += 1;
                put_bytes(&mut out, &n.to_le_bytes(), h.little);
            }
            b'c' | b's' => {
                let s = str_arg(l, arg)?;
                let sl = s.len();
                if size == 0 {
                    size = sl;
                }
                if sl < size {
                    return Err(ArgError::Arg(arg + 1, "string too short\0"));
                }
                arg += 1;
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => control(&mut h, opt, &fmt, &mut i).map_err(ArgError::Fmt)?,
        }
    }
    Ok(out)
}

fn get_int(b: &[u8], little: bool, signed: bool) -> f64 {
    let mut v: u64 = 0;
    let n = b.len().min(8);
    let iter: Box<dyn Iterator<Item = &u8>> =
        if little { Box::new(b.iter().rev()) } else { Box::new(b.iter()) };
    for &x in iter {
        v = (v << 8) | x as u64;
    }
    if signed && n > 0 && n < 8 {
        let shift = 64 - 8 * n as u32;
        return ((v << shift) as i64 >> shift) as f64;
    }
    if signed {
        v as i64 as f64
    } else {
        v as f64
    }
}

unsafe extern "C-unwind" fn unpack(l: *mut lua_State) -> c_int {
    let base = ffi::lua_gettop(l);
    match unpack_inner(l) {
        Ok(n) => n,
        Err(e) => {
            ffi::lua_settop(l, base);
            raise_arg(l, e)
        }
    }
}

unsafe fn unpack_inner(l: *mut lua_State) -> Result<c_int, ArgError> {
    let fmt = str_arg(l, 1)?.to_vec();
    let data = str_arg(l, 2)?.to_vec();
    let start = if ffi::lua_isnoneornil(l, 3) != 0 { 1 } else { number_arg(l, 3)? as i64 };
    if start < 1 {
        return Err(ArgError::Arg(3, "offset must be 1 or greater\0"));
    }
    let mut pos = (start - 1) as usize;
    let mut h = Header { little: true, align: 1 };
    let mut n: c_int = 0;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = opt_size(opt, &fmt, &mut i).map_err(ArgError::Fmt)?;
        pos += to_align(pos, &h, opt, size);
        if pos.checked_add(size).is_none_or(|e| e > data.len()) {
            return Err(ArgError::Arg(2, "data string too short\0"));
        }
        if ffi::lua_checkstack(l, 2) == 0 {
            return Err(ArgError::Msg("too many results".into()));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                ffi::lua_pushnumber(l, get_int(&data[pos..pos + size], h.little, signed));
                n += 1;
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                if !h.little {
                    b.reverse();
                }
                ffi::lua_pushnumber(l, f32::from_le_bytes(b) as f64);
                n += 1;
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                if !h.little {
                    b.reverse();
                }
                ffi::lua_pushnumber(l, f64::from_le_bytes(b));
                n += 1;
            }
            b'c' => {
                if size == 0 {
                    if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                        return Err(ArgError::Msg("format 'c0' needs a previous size".into()));
                    }
                    let prev = ffi::lua_tonumber(l, -1);
                    ffi::lua_pop(l, 1);
                    n -= 1;
                    size = if prev > 0.0 { prev as usize } else { 0 };
                    if pos.checked_add(size).is_none_or(|e| e > data.len()) {
                        return Err(ArgError::Arg(2, "data string too short\0"));
                    }
                }
                let s = &data[pos..pos + size];
                ffi::lua_pushlstring(l, s.as_ptr() as *const c_char, s.len());
                n += 1;
            }
            b's' => {
                let Some(z) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(ArgError::Msg("unfinished string in data".into()));
                };
                let s = &data[pos..pos + z];
                ffi::lua_pushlstring(l, s.as_ptr() as *const c_char, s.len());
                n += 1;
                size = z + 1;
            }
            _ => control(&mut h, opt, &fmt, &mut i).map_err(ArgError::Fmt)?,
        }
        pos += size;
    }
    ffi::lua_pushnumber(l, (pos + 1) as f64);
    Ok(n + 1)
}

unsafe extern "C-unwind" fn size(l: *mut lua_State) -> c_int {
    match size_inner(l) {
        Ok(n) => {
            ffi::lua_pushnumber(l, n as f64);
            1
        }
        Err(e) => raise_arg(l, e),
    }
}

unsafe fn size_inner(l: *mut lua_State) -> Result<usize, ArgError> {
    let fmt = str_arg(l, 1)?.to_vec();
    let mut h = Header { little: true, align: 1 };
    let mut pos = 0usize;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let size = opt_size(opt, &fmt, &mut i).map_err(ArgError::Fmt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return Err(ArgError::Arg(1, "option 's' has no fixed size\0"));
        }
        if opt == b'c' && size == 0 {
            return Err(ArgError::Arg(1, "option 'c0' has no fixed size\0"));
        }
        if size == 0 {
            control(&mut h, opt, &fmt, &mut i).map_err(ArgError::Fmt)?;
        }
        pos += size;
    }
    Ok(pos)
}

/// Registers the global `struct` table.
pub(super) unsafe fn open(l: *mut lua_State) {
    ffi::lua_createtable(l, 0, 3);
    ffi::lua_pushcfunction(l, pack);
    ffi::lua_setfield(l, -2, c"pack".as_ptr());
    ffi::lua_pushcfunction(l, unpack);
    ffi::lua_setfield(l, -2, c"unpack".as_ptr());
    ffi::lua_pushcfunction(l, size);
    ffi::lua_setfield(l, -2, c"size".as_ptr());
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"struct".as_ptr());
}
