//! The `bit` library Redis embeds (LuaBitOp): 32-bit operations on Lua numbers.

// SAFETY (module-wide): every unsafe fn here takes a valid `lua_State` of
// this thread's VM and keeps the Lua stack within the bounds it checked or
// that the C API guarantees (LUA_MINSTACK free slots in a C function).
#![allow(unsafe_op_in_unsafe_fn)]

use mlua::ffi::{self, lua_State};
use std::ffi::{c_int, CStr};

/// A Lua number as LuaBitOp reads it: rounded, then taken modulo 2^32.
unsafe fn arg(l: *mut lua_State, i: c_int) -> u32 {
    let d = ffi::luaL_checknumber(l, i);
    // Adding 2^52 + 2^51 leaves the rounded integer in the low mantissa bits.
    (d + 6_755_399_441_055_744.0).to_bits() as u32
}

unsafe fn ret(l: *mut lua_State, v: u32) -> c_int {
    ffi::lua_pushnumber(l, v as i32 as f64);
    1
}

unsafe extern "C-unwind" fn tobit(l: *mut lua_State) -> c_int {
    ret(l, arg(l, 1))
}

unsafe extern "C-unwind" fn bnot(l: *mut lua_State) -> c_int {
    ret(l, !arg(l, 1))
}

unsafe fn fold(l: *mut lua_State, f: fn(u32, u32) -> u32) -> c_int {
    let mut v = arg(l, 1);
    for i in 2..=ffi::lua_gettop(l) {
        v = f(v, arg(l, i));
    }
    ret(l, v)
}

unsafe extern "C-unwind" fn band(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a & b)
}

unsafe extern "C-unwind" fn bor(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a | b)
}

unsafe extern "C-unwind" fn bxor(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a ^ b)
}

unsafe fn shift(l: *mut lua_State, f: fn(u32, u32) -> u32) -> c_int {
    let v = arg(l, 1);
    let n = arg(l, 2) & 31;
    ret(l, f(v, n))
}

unsafe extern "C-unwind" fn lshift(l: *mut lua_State) -> c_int {
    shift(l, |v, n| v << n)
}

unsafe extern "C-unwind" fn rshift(l: *mut lua_State) -> c_int {
    shift(l, |v, n| v >> n)
}

unsafe extern "C-unwind" fn arshift(l: *mut lua_State) -> c_int {
    shift(l, |v, n| ((v as i32) >> n) as u32)
}

unsafe extern "C-unwind" fn rol(l: *mut lua_State) -> c_int {
    shift(l, |v, n| v.rotate_left(n))
}

unsafe extern "C-unwind" fn ror(l: *mut lua_State) -> c_int {
    shift(l, |v, n| v.rotate_right(n))
}

unsafe extern "C-unwind" fn bswap(l: *mut lua_State) -> c_int {
    ret(l, arg(l, 1).swap_bytes())
}

unsafe extern "C-unwind" fn tohex(l: *mut lua_State) -> c_int {
    let v = arg(l, 1);
    let n = if ffi::lua_isnoneornil(l, 2) != 0 { 8 } else { arg(l, 2) as i32 };
    let (upper, digits) = if n < 0 { (true, n.unsigned_abs()) } else { (false, n as u32) };
    let digits = digits.min(8) as usize;
    let hex = if upper { format!("{v:08X}") } else { format!("{v:08x}") };
    let s = &hex[8 - digits..];
    ffi::lua_pushlstring(l, s.as_ptr() as *const std::ffi::c_char, s.len());
    1
}

/// Registers the global `bit` table.
pub(super) unsafe fn open(l: *mut lua_State) {
    let fns: [(&CStr, ffi::lua_CFunction); 12] = [
        (c"tobit", tobit),
        (c"bnot", bnot),
        (c"band", band),
        (c"bor", bor),
        (c"bxor", bxor),
        (c"lshift", lshift),
        (c"rshift", rshift),
        (c"arshift", arshift),
        (c"rol", rol),
        (c"ror", ror),
        (c"bswap", bswap),
        (c"tohex", tohex),
    ];
    ffi::lua_createtable(l, 0, fns.len() as c_int);
    for (name, f) in fns {
        ffi::lua_pushcfunction(l, f);
        ffi::lua_setfield(l, -2, name.as_ptr());
    }
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"bit".as_ptr());
}
