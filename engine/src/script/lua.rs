//! The per-thread Lua VMs and everything that touches the Lua C API.
//!
//! Each thread keeps two VMs, one for EVAL scripts and one for function
//! libraries (Redis keeps them apart too). Scripts run with Redis 7's global
//! protection: the thread's globals table is an empty proxy whose reads fall
//! through to the real globals (a missing name is an error) and whose writes
//! fail with "Attempt to modify a readonly table"; the library tables
//! (`redis`, `string`, `math`...) are read-only proxies the same way, and
//! `rawset`/`setmetatable` refuse them. Redis gets this from a patched Lua
//! with read-only tables; stock Lua 5.1 needs the proxies.
//!
//! About unwinding: a Lua error is a `longjmp` over the C frames between
//! `lua_pcall` and `lua_error`. The `extern "C-unwind"` callbacks here do
//! their Rust work in separate functions that return before any
//! `lua_error`, so that no frame with a live destructor is ever jumped over.

// SAFETY (module-wide): every unsafe fn here takes a valid `lua_State` of
// this thread's VM and keeps the Lua stack within the bounds it checked or
// that the C API guarantees (LUA_MINSTACK free slots in a C function).
#![allow(unsafe_op_in_unsafe_fn)]

use super::{Running, Scripts};
use crate::command::{flags as cmdflags, Registry, Run};
use crate::error::{CmdError, CmdResult};
use crate::reply::Reply;
use crate::shard::{Ctx, Shard};
use mlua::ffi::{self, lua_State};
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, CStr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

const HOOK_INSTRUCTIONS: c_int = 100_000;
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);
const BUSY_CALLBACK_EVERY: Duration = Duration::from_millis(10);
const REDIS_VERSION: &CStr = c"7.0.15";
const REDIS_VERSION_NUM: f64 = 0x0007_000f as f64;

// Registry keys.
const REG_ERR_HANDLER: &CStr = c"shoal.err_handler";
const REG_GLOBALS: &CStr = c"shoal.globals";
const REG_READONLY: &CStr = c"shoal.readonly";
const REG_PROXY_MT: &CStr = c"shoal.proxy_mt";
const REG_LIBRARY_API: &CStr = c"shoal.library_api";
const REG_FUNCTIONS: &CStr = c"shoal.functions";

/// The error handler every script runs under: it turns a string error into
/// Redis's `{err='ERR ...'}` table and records where the error happened (the
/// innermost Lua frame: a C function such as `error` or `redis.call` is skipped).
const ERR_HANDLER: &str = r#"
local getinfo = debug.getinfo
return function(e)
  local where = getinfo(2, 'Sl')
  if where ~= nil and where.what == 'C' then
    where = getinfo(3, 'Sl')
  end
  if type(e) ~= 'table' then
    e = { err = 'ERR ' .. tostring(e) }
  end
  if where ~= nil then
    e['source'] = where.source
    e['line'] = where.currentline
  end
  return e
end
"#;

/// A callback the server registers on each thread: called about every 10 ms
/// while a script on this thread is past the busy threshold, so that the
/// server can answer its other clients (BUSY) and accept SCRIPT KILL.
pub fn set_busy_callback(f: Box<dyn Fn()>) {
    BUSY_CALLBACK.with(|c| *c.borrow_mut() = Some(f));
}

struct Vm {
    l: *mut lua_State,
    generation: u64,
    runs: u32,
}

impl Drop for Vm {
    fn drop(&mut self) {
        // SAFETY: the state was created by luaL_newstate and is closed once, here.
        unsafe { ffi::lua_close(self.l) }
    }
}

/// What a running script's callbacks need: where its commands run and what
/// it may do. Lives on the handler's stack for the length of one run.
/// `Ctx::key_check` with its lifetime erased for the length of a run.
type KeyCheck = &'static dyn Fn(usize, &[u8]) -> bool;

struct Exec {
    shard: *mut Shard,
    db: usize,
    now: u64,
    key_check: Option<KeyCheck>,
    /// The declared KEYS and the command line, borrowed from the handler's
    /// argv for the length of the run (lifetime erased like `key_check`).
    keys: *const [&'static [u8]],
    /// The protocol the script's own commands reply in (`redis.setresp`).
    resp3: bool,
    read_only: bool,
    eval_mode: bool,
    name: String,
    argv: *const [&'static [u8]],
    scripts: Arc<Scripts>,
    start: Instant,
    wrote: bool,
    running: Option<Arc<Running>>,
    last_callback: Instant,
}

thread_local! {
    static EVAL_VM: RefCell<Option<Vm>> = const { RefCell::new(None) };
    static FUNC_VM: RefCell<Option<Vm>> = const { RefCell::new(None) };
    static EXEC: Cell<*mut Exec> = const { Cell::new(std::ptr::null_mut()) };
    static BUSY_CALLBACK: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
    static LOADING: RefCell<Option<LoadCtx>> = const { RefCell::new(None) };
    static RAND: Cell<[u32; 3]> = const { Cell::new([0x330E, 0xABCD, 0x1234]) };
}

/// Collects the functions a library registers while FUNCTION LOAD runs it.
struct LoadCtx {
    functions: Vec<super::FunctionInfo>,
    start: Instant,
    timeout: bool,
}

// ---------------------------------------------------------------------------
// Small C API helpers.

unsafe fn push_bytes(l: *mut lua_State, b: &[u8]) {
    ffi::lua_pushlstring(l, b.as_ptr() as *const c_char, b.len());
}

unsafe fn to_bytes<'a>(l: *mut lua_State, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        None
    } else {
        Some(std::slice::from_raw_parts(p as *const u8, len))
    }
}

unsafe fn set_field_fn(l: *mut lua_State, name: &CStr, f: ffi::lua_CFunction) {
    ffi::lua_pushcfunction(l, f);
    ffi::lua_setfield(l, -2, name.as_ptr());
}

unsafe fn set_field_num(l: *mut lua_State, name: &CStr, n: f64) {
    ffi::lua_pushnumber(l, n);
    ffi::lua_setfield(l, -2, name.as_ptr());
}

/// Pushes Redis's error table for `text`: `-CODE msg` keeps its code, any
/// other text gets `ERR`; CR/LF are trimmed from the ends of the message.
unsafe fn push_error_table(l: *mut lua_State, text: &[u8]) {
    let line = error_line(text);
    ffi::lua_createtable(l, 0, 2);
    push_bytes(l, &line);
    ffi::lua_setfield(l, -2, c"err".as_ptr());
}

fn error_line(text: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    let is_nl = |b: &u8| *b == b'\r' || *b == b'\n';
    let start = msg.iter().position(|b| !is_nl(b)).unwrap_or(msg.len());
    let end = msg.iter().rposition(|b| !is_nl(b)).map_or(start, |e| e + 1);
    let mut line = code.to_vec();
    line.push(b' ');
    line.extend_from_slice(&msg[start..end.max(start)]);
    line
}

/// Pushes the position of the Lua code at `level` followed by `msg` (what
/// `luaL_error` formats); the caller raises it with `lua_error`.
unsafe fn push_where_msg(l: *mut lua_State, msg: &[u8]) {
    ffi::luaL_where(l, 1);
    push_bytes(l, msg);
    ffi::lua_concat(l, 2);
}

/// A Lua number as a C cast to `long long` gives it on x86-64 (out of
/// range and NaN become the minimum).
fn lua_number_to_i64(d: f64) -> i64 {
    if d.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

// ---------------------------------------------------------------------------
// VM construction.

unsafe fn open_lib(l: *mut lua_State, name: &CStr, f: ffi::lua_CFunction) {
    ffi::lua_pushcfunction(l, f);
    ffi::lua_pushstring(l, name.as_ptr());
    ffi::lua_call(l, 1, 0);
}

/// Makes a read-only proxy of the table at the top of the stack, replacing it.
/// `index_errors`: a missing key is an error (globals) instead of nil.
unsafe fn make_proxy(l: *mut lua_State, index_errors: bool) {
    let real = ffi::lua_gettop(l);
    ffi::lua_createtable(l, 0, 0); // proxy
    ffi::lua_createtable(l, 0, 3); // its metatable
    if index_errors {
        ffi::lua_pushvalue(l, real);
        ffi::lua_pushcclosure(l, global_index, 1);
    } else {
        ffi::lua_pushvalue(l, real);
    }
    ffi::lua_setfield(l, -2, c"__index".as_ptr());
    ffi::lua_pushcfunction(l, readonly_newindex);
    ffi::lua_setfield(l, -2, c"__newindex".as_ptr());
    if index_errors {
        // getmetatable(_G) gives a (read-only, empty) table, as in Redis.
        ffi::lua_createtable(l, 0, 0);
        make_proxy(l, false);
    } else {
        ffi::lua_pushboolean(l, 0);
    }
    ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
    ffi::lua_setmetatable(l, -2);
    // Remember it as read-only (for rawset/setmetatable), with its real
    // table (for next/pairs/rawget).
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_READONLY.as_ptr());
    ffi::lua_pushvalue(l, -2);
    ffi::lua_pushvalue(l, real);
    ffi::lua_rawset(l, -3);
    ffi::lua_pop(l, 1);
    ffi::lua_replace(l, real);
}

/// Replaces a read-only proxy at `idx` (a positive index) by its real table.
unsafe fn unwrap_proxy(l: *mut lua_State, idx: c_int) {
    if ffi::lua_type(l, idx) != ffi::LUA_TTABLE {
        return;
    }
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_READONLY.as_ptr());
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget(l, -2);
    if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
        ffi::lua_replace(l, idx);
        ffi::lua_pop(l, 1);
    } else {
        ffi::lua_pop(l, 2);
    }
}

/// Calls upvalue 1 (the original builtin) with the arguments, the first
/// one seen through a read-only proxy: `next` and `rawget` on `_G`,
/// `redis`, `string`... see the real contents.
unsafe extern "C-unwind" fn see_through(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) >= 1 {
        unwrap_proxy(l, 1);
    }
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    let n = ffi::lua_gettop(l) - 1;
    ffi::lua_call(l, n, ffi::LUA_MULTRET);
    ffi::lua_gettop(l)
}

/// `pairs` returning the see-through `next` (upvalue 1).
unsafe extern "C-unwind" fn pairs_through(l: *mut lua_State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_pushvalue(l, 1);
    ffi::lua_pushnil(l);
    3
}

unsafe fn is_readonly(l: *mut lua_State, idx: c_int) -> bool {
    if ffi::lua_type(l, idx) != ffi::LUA_TTABLE {
        return false;
    }
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_READONLY.as_ptr());
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget(l, -2);
    let ro = ffi::lua_toboolean(l, -1) != 0;
    ffi::lua_pop(l, 2);
    ro
}

/// Pushes a table of the `redis` API functions shared by both VMs.
unsafe fn push_redis_api(l: *mut lua_State) {
    ffi::lua_createtable(l, 0, 32);
    set_field_fn(l, c"call", redis_call);
    set_field_fn(l, c"pcall", redis_pcall);
    push_log_api(l);
    set_field_fn(l, c"setresp", redis_setresp);
    set_field_fn(l, c"sha1hex", redis_sha1hex);
    set_field_fn(l, c"error_reply", redis_error_reply);
    set_field_fn(l, c"status_reply", redis_status_reply);
    set_field_fn(l, c"set_repl", redis_set_repl);
    set_field_num(l, c"REPL_NONE", 0.0);
    set_field_num(l, c"REPL_AOF", 1.0);
    set_field_num(l, c"REPL_SLAVE", 2.0);
    set_field_num(l, c"REPL_REPLICA", 2.0);
    set_field_num(l, c"REPL_ALL", 3.0);
    set_field_fn(l, c"acl_check_cmd", redis_acl_check_cmd);
}

/// `redis.log`, the LOG_* levels and the version fields (also in the API a
/// function library sees while it loads).
unsafe fn push_log_api(l: *mut lua_State) {
    set_field_fn(l, c"log", redis_log);
    set_field_num(l, c"LOG_DEBUG", 0.0);
    set_field_num(l, c"LOG_VERBOSE", 1.0);
    set_field_num(l, c"LOG_NOTICE", 2.0);
    set_field_num(l, c"LOG_WARNING", 3.0);
    set_field_num(l, c"REDIS_VERSION_NUM", REDIS_VERSION_NUM);
    ffi::lua_pushstring(l, REDIS_VERSION.as_ptr());
    ffi::lua_setfield(l, -2, c"REDIS_VERSION".as_ptr());
}

/// A new VM with Redis's libraries, `redis` API and global protection.
/// `functions`: the function-library flavour (no breakpoint/debug helpers,
/// plus the restricted API libraries see while loading).
fn new_vm(functions: bool) -> *mut lua_State {
    // SAFETY: plain C API calls on a state we own; the stack is balanced.
    unsafe {
        let l = ffi::luaL_newstate();
        assert!(!l.is_null(), "Lua state allocation failed");
        open_lib(l, c"", ffi::luaopen_base);
        open_lib(l, c"table", ffi::luaopen_table);
        open_lib(l, c"string", ffi::luaopen_string);
        open_lib(l, c"math", ffi::luaopen_math);
        open_lib(l, c"debug", ffi::luaopen_debug);
        for name in [c"print", c"dofile", c"loadfile", c"getfenv", c"setfenv", c"newproxy"] {
            ffi::lua_pushnil(l);
            ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, name.as_ptr());
        }
        ffi::lua_pushcfunction(l, redis_global_pcall);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"pcall".as_ptr());
        super::bit::open(l);
        super::cjson::open(l);
        super::cmsgpack::open(l);
        super::structlib::open(l);

        push_redis_api(l);
        if !functions {
            set_field_fn(l, c"breakpoint", redis_breakpoint);
            set_field_fn(l, c"debug", redis_debug);
            set_field_fn(l, c"replicate_commands", redis_replicate_commands);
        }
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"redis".as_ptr());

        ffi::lua_getfield(l, ffi::LUA_GLOBALSINDEX, c"math".as_ptr());
        set_field_fn(l, c"random", math_random);
        set_field_fn(l, c"randomseed", math_randomseed);
        ffi::lua_pop(l, 1);

        // The error handler needs `debug`, which scripts must not see.
        let rc = ffi::luaL_loadbuffer(
            l,
            ERR_HANDLER.as_ptr() as *const c_char,
            ERR_HANDLER.len(),
            c"@err_handler_def".as_ptr(),
        );
        assert_eq!(rc, 0, "error handler compiles");
        ffi::lua_call(l, 0, 1);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_ERR_HANDLER.as_ptr());
        ffi::lua_pushnil(l);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"debug".as_ptr());

        // Weak-keyed set of read-only proxies.
        ffi::lua_createtable(l, 0, 16);
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_pushstring(l, c"k".as_ptr());
        ffi::lua_setfield(l, -2, c"__mode".as_ptr());
        ffi::lua_setmetatable(l, -2);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_READONLY.as_ptr());

        // Guarded rawset / setmetatable.
        ffi::lua_getfield(l, ffi::LUA_GLOBALSINDEX, c"rawset".as_ptr());
        ffi::lua_pushcclosure(l, guarded_rawset, 1);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"rawset".as_ptr());
        ffi::lua_getfield(l, ffi::LUA_GLOBALSINDEX, c"setmetatable".as_ptr());
        ffi::lua_pushcclosure(l, guarded_setmetatable, 1);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"setmetatable".as_ptr());

        // next / pairs / rawget see through the proxies.
        ffi::lua_getfield(l, ffi::LUA_GLOBALSINDEX, c"next".as_ptr());
        ffi::lua_pushcclosure(l, see_through, 1);
        ffi::lua_pushvalue(l, -1);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"next".as_ptr());
        ffi::lua_pushcclosure(l, pairs_through, 1);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"pairs".as_ptr());
        ffi::lua_getfield(l, ffi::LUA_GLOBALSINDEX, c"rawget".as_ptr());
        ffi::lua_pushcclosure(l, see_through, 1);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"rawget".as_ptr());

        // Library tables become read-only proxies.
        for name in
            [c"redis", c"string", c"math", c"table", c"coroutine", c"bit", c"cjson", c"cmsgpack", c"struct"]
        {
            ffi::lua_getfield(l, ffi::LUA_GLOBALSINDEX, name.as_ptr());
            if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
                make_proxy(l, false);
                ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, name.as_ptr());
            } else {
                ffi::lua_pop(l, 1);
            }
        }

        if functions {
            // What a library sees while it loads: only a restricted `redis`.
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_createtable(l, 0, 12);
            set_field_fn(l, c"register_function", redis_register_function);
            push_log_api(l);
            make_proxy(l, true);
            ffi::lua_setfield(l, -2, c"redis".as_ptr());
            ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_LIBRARY_API.as_ptr());
            ffi::lua_createtable(l, 0, 0);
            ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_FUNCTIONS.as_ptr());
        }

        // The globals proxy becomes the thread's globals table.
        ffi::lua_pushvalue(l, ffi::LUA_GLOBALSINDEX);
        ffi::lua_pushvalue(l, -1);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_GLOBALS.as_ptr());
        make_proxy(l, true);
        ffi::lua_getmetatable(l, -1);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, REG_PROXY_MT.as_ptr());
        // _G names the proxy.
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_GLOBALS.as_ptr());
        ffi::lua_pushvalue(l, -2);
        ffi::lua_setfield(l, -2, c"_G".as_ptr());
        ffi::lua_pop(l, 1);
        ffi::lua_replace(l, ffi::LUA_GLOBALSINDEX);
        l
    }
}

// ---------------------------------------------------------------------------
// Global protection callbacks.

/// `__index` of a protected table: the value from the real table (upvalue 1),
/// or Redis's error for a name that does not exist.
unsafe extern "C-unwind" fn global_index(l: *mut lua_State) -> c_int {
    ffi::lua_pushvalue(l, 2);
    ffi::lua_rawget(l, ffi::lua_upvalueindex(1));
    if ffi::lua_type(l, -1) != ffi::LUA_TNIL {
        return 1;
    }
    push_missing_global(l);
    ffi::lua_error(l)
}

unsafe fn push_missing_global(l: *mut lua_State) {
    let name = to_bytes(l, 2).map(|b| b.to_vec()).unwrap_or_default();
    let mut msg = b"Script attempted to access nonexistent global variable '".to_vec();
    msg.extend_from_slice(&name);
    msg.push(b'\'');
    push_where_msg(l, &msg);
}

unsafe extern "C-unwind" fn readonly_newindex(l: *mut lua_State) -> c_int {
    push_where_msg(l, b"Attempt to modify a readonly table");
    ffi::lua_error(l)
}

unsafe extern "C-unwind" fn guarded_rawset(l: *mut lua_State) -> c_int {
    if is_readonly(l, 1) {
        push_bytes(l, b"Attempt to modify a readonly table");
        ffi::lua_error(l)
    }
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    let n = ffi::lua_gettop(l) - 1;
    ffi::lua_call(l, n, ffi::LUA_MULTRET);
    ffi::lua_gettop(l)
}

unsafe extern "C-unwind" fn guarded_setmetatable(l: *mut lua_State) -> c_int {
    if is_readonly(l, 1) {
        push_bytes(l, b"Attempt to modify a readonly table");
        ffi::lua_error(l)
    }
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    let n = ffi::lua_gettop(l) - 1;
    ffi::lua_call(l, n, ffi::LUA_MULTRET);
    ffi::lua_gettop(l)
}

/// The global `pcall` as Redis replaces it: an error table carrying an
/// `err` string comes back as that string.
unsafe extern "C-unwind" fn redis_global_pcall(l: *mut lua_State) -> c_int {
    let argc = ffi::lua_gettop(l);
    ffi::lua_pushboolean(l, 1);
    ffi::lua_insert(l, 1);
    if ffi::lua_pcall(l, argc - 1, ffi::LUA_MULTRET, 0) != 0 {
        ffi::lua_remove(l, 1);
        if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
            ffi::lua_getfield(l, -1, c"err".as_ptr());
            if ffi::lua_isstring(l, -1) != 0 {
                ffi::lua_replace(l, -2);
            } else {
                ffi::lua_pop(l, 1);
            }
        }
        ffi::lua_pushboolean(l, 0);
        ffi::lua_insert(l, 1);
    }
    ffi::lua_gettop(l)
}

// ---------------------------------------------------------------------------
// The redis.* API.

/// Raises the error table at the top of the stack when `raise`, else returns it.
unsafe fn finish(l: *mut lua_State, is_error: bool, raise: bool) -> c_int {
    if is_error && raise {
        ffi::lua_error(l)
    }
    1
}

unsafe extern "C-unwind" fn redis_call(l: *mut lua_State) -> c_int {
    let is_error = call_command(l);
    finish(l, is_error, true)
}

unsafe extern "C-unwind" fn redis_pcall(l: *mut lua_State) -> c_int {
    let is_error = call_command(l);
    finish(l, is_error, false)
}

/// redis.call / redis.pcall: runs one command and pushes its reply as a Lua
/// value, or an error table; returns whether it pushed an error.
unsafe fn call_command(l: *mut lua_State) -> bool {
    let exec = EXEC.with(|e| e.get());
    if exec.is_null() {
        ffi::lua_settop(l, 0);
        push_error_table(l, b"redis.call/pcall can only be called inside a script invocation");
        return true;
    }
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        push_error_table(l, b"Please specify at least one argument for this redis lib call");
        return true;
    }
    let mut argv: Vec<Vec<u8>> = Vec::with_capacity(argc as usize);
    for j in 1..=argc {
        if ffi::lua_type(l, j) == ffi::LUA_TNUMBER {
            argv.push(crate::num::fmt_g(ffi::lua_tonumber(l, j), 17).into_bytes());
        } else {
            match to_bytes(l, j) {
                Some(b) => argv.push(b.to_vec()),
                None => break,
            }
        }
    }
    ffi::lua_settop(l, 0);
    if argv.len() != argc as usize {
        push_error_table(l, b"Lua redis lib command arguments must be strings or integers");
        return true;
    }
    // SAFETY: EXEC points at the running script's Exec for as long as it runs.
    let exec = &mut *exec;
    match run_command(exec, &argv) {
        Err(msg) => {
            push_error_table(l, msg.as_bytes());
            push_ignore_stats(l);
            true
        }
        Ok(reply) => {
            let mut pos = 0;
            push_resp(l, &reply, &mut pos);
            reply.first() == Some(&b'-')
        }
    }
}

unsafe fn push_ignore_stats(l: *mut lua_State) {
    ffi::lua_pushboolean(l, 1);
    ffi::lua_setfield(l, -2, c"ignore_error_stats_update".as_ptr());
}

/// Runs one command for a script: Redis's checks (existence, arity,
/// NOSCRIPT, read-only scripts, keys this core may touch), then the handler
/// against the script's shard. Returns the RESP reply, or the error text
/// Redis raises in the script.
fn run_command(exec: &mut Exec, argv: &[Vec<u8>]) -> Result<Vec<u8>, &'static str> {
    const UNKNOWN: &str = "Unknown Redis command called from script";
    const ARITY: &str = "Wrong number of args calling Redis command from script";
    const NOT_ALLOWED: &str = "This Redis command is not allowed from script";
    let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let reg = Registry::get();
    let top = reg.find(args[0]).ok_or(UNKNOWN)?;
    let entry = reg.entry(top);
    let id = if !entry.subcommands.is_empty() && args.len() >= 2 {
        reg.find_sub(top, args[1]).ok_or(UNKNOWN)?
    } else {
        top
    };
    let cmd = reg.entry(id).cmd;
    if !cmd.arity_ok(args.len()) {
        return Err(ARITY);
    }
    if cmd.has_flag(cmdflags::NOSCRIPT) {
        return Err(NOT_ALLOWED);
    }
    if exec.read_only && cmd.has_flag(cmdflags::WRITE | cmdflags::MAY_REPLICATE) {
        return Err("Write commands are not allowed from read-only scripts.");
    }
    if cmd.is_write() && exec.scripts.writes_refused.load(Ordering::Relaxed) {
        return Err("-READONLY You can't write against a read only replica.");
    }
    // Commands the server layer carries out (they span cores or touch
    // connection state) cannot run synchronously inside a script.
    let handler = match cmd.run {
        Run::Shard(h) => Some(h),
        Run::Server(crate::command::ServerCmd::Select) => None,
        _ => return Err(NOT_ALLOWED),
    };
    if cmd.is_write() {
        exec.wrote = true;
        if let Some(r) = &exec.running {
            r.wrote.store(true, Ordering::SeqCst);
        }
    }
    if let Some(check) = exec.key_check {
        for pos in cmd.key_positions(&args) {
            let key = args[pos];
            // SAFETY: `keys` points into the handler's argv, alive during the run.
            let declared = unsafe { &*exec.keys };
            if !declared.contains(&key) && !check(exec.db, key) {
                return Err("Script attempted to access a non local key in a cluster node");
            }
        }
    }
    let mut buf = Vec::new();
    let Some(handler) = handler else {
        select(exec, &args, &mut buf);
        return Ok(buf);
    };
    // SAFETY: the shard outlives the script run; nothing else borrows it meanwhile.
    let shard = unsafe { &mut *exec.shard };
    let resp3 = exec.resp3;
    let mut ctx = Ctx::new(shard, exec.db, exec.now, Reply::new(&mut buf, resp3));
    ctx.key_check = exec.key_check;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::shard::call(&mut ctx, handler, &args)
    }));
    drop(ctx);
    let err = match result {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(_) => Some(CmdError::new("ERR internal error while running the command")),
    };
    if let Some(e) = err {
        buf.clear();
        Reply::new(&mut buf, resp3).error(e.line());
    }
    Ok(buf)
}

/// SELECT inside a script: changes the script's database only.
fn select(exec: &mut Exec, args: &[&[u8]], buf: &mut Vec<u8>) {
    let mut out = Reply::new(buf, exec.resp3);
    // SAFETY: as in run_command.
    let dbs = unsafe { (*exec.shard).dbs().len() };
    match crate::num::parse_i64(args[1]) {
        Some(n) if (i32::MIN as i64..=i32::MAX as i64).contains(&n) => {
            if n < 0 || n as usize >= dbs {
                out.error(crate::error::DB_INDEX.line());
            } else {
                exec.db = n as usize;
                out.ok();
            }
        }
        _ => out.error(crate::error::NOT_INTEGER.line()),
    }
}

/// Pushes one RESP reply (RESP2 or RESP3) as the Lua value Redis gives scripts.
unsafe fn push_resp(l: *mut lua_State, buf: &[u8], pos: &mut usize) {
    ffi::lua_checkstack(l, 4);
    let Some(&tag) = buf.get(*pos) else {
        ffi::lua_pushnil(l);
        return;
    };
    let line_end = match memchr::memmem::find(&buf[*pos..], b"\r\n") {
        Some(e) => *pos + e,
        None => {
            ffi::lua_pushnil(l);
            *pos = buf.len();
            return;
        }
    };
    let line = &buf[*pos + 1..line_end];
    *pos = line_end + 2;
    let num = || crate::num::parse_i64(line).unwrap_or(0);
    match tag {
        b'+' => {
            ffi::lua_createtable(l, 0, 1);
            push_bytes(l, line);
            ffi::lua_setfield(l, -2, c"ok".as_ptr());
        }
        b'-' => {
            let mut text = b"-".to_vec();
            text.extend_from_slice(line);
            push_error_table(l, &text);
            push_ignore_stats(l);
        }
        b':' => ffi::lua_pushnumber(l, num() as f64),
        b'$' | b'=' => {
            let n = num();
            if n < 0 {
                ffi::lua_pushboolean(l, 0);
                return;
            }
            let end = (*pos + n as usize).min(buf.len());
            let data = &buf[*pos..end];
            *pos = end + 2;
            if tag == b'=' && data.len() >= 4 {
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_createtable(l, 0, 2);
                push_bytes(l, &data[4..]);
                ffi::lua_setfield(l, -2, c"string".as_ptr());
                push_bytes(l, &data[..3]);
                ffi::lua_setfield(l, -2, c"format".as_ptr());
                ffi::lua_setfield(l, -2, c"verbatim_string".as_ptr());
            } else {
                push_bytes(l, data);
            }
        }
        b'*' | b'>' => {
            let n = num();
            if n < 0 {
                ffi::lua_pushboolean(l, 0);
                return;
            }
            ffi::lua_createtable(l, n.min(1024) as c_int, 0);
            for j in 1..=n {
                push_resp(l, buf, pos);
                ffi::lua_rawseti(l, -2, j as ffi::lua_Integer);
            }
        }
        b'%' => {
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_createtable(l, 0, 0);
            for _ in 0..num() {
                push_resp(l, buf, pos);
                push_resp(l, buf, pos);
                if ffi::lua_type(l, -2) == ffi::LUA_TNIL {
                    ffi::lua_pop(l, 2);
                } else {
                    ffi::lua_rawset(l, -3);
                }
            }
            ffi::lua_setfield(l, -2, c"map".as_ptr());
        }
        b'~' => {
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_createtable(l, 0, 0);
            for _ in 0..num() {
                push_resp(l, buf, pos);
                if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
                    ffi::lua_pop(l, 1);
                } else {
                    ffi::lua_pushboolean(l, 1);
                    ffi::lua_rawset(l, -3);
                }
            }
            ffi::lua_setfield(l, -2, c"set".as_ptr());
        }
        b'_' => ffi::lua_pushnil(l),
        b'#' => ffi::lua_pushboolean(l, (line == b"t") as c_int),
        b',' => {
            let d = match line {
                b"inf" => f64::INFINITY,
                b"-inf" => f64::NEG_INFINITY,
                b"nan" | b"-nan" => f64::NAN,
                _ => crate::num::parse_f64(line).unwrap_or(0.0),
            };
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_pushnumber(l, d);
            ffi::lua_setfield(l, -2, c"double".as_ptr());
        }
        b'(' => {
            ffi::lua_createtable(l, 0, 1);
            push_bytes(l, line);
            ffi::lua_setfield(l, -2, c"big_number".as_ptr());
        }
        b'|' => {
            // Attributes are skipped; the value after them is the reply.
            for _ in 0..num() * 2 {
                push_resp(l, buf, pos);
                ffi::lua_pop(l, 1);
            }
            push_resp(l, buf, pos);
        }
        _ => ffi::lua_pushnil(l),
    }
}

unsafe extern "C-unwind" fn redis_sha1hex(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        push_error_table(l, b"wrong number of arguments");
        ffi::lua_error(l)
    }
    let hex = super::sha1hex(to_bytes(l, 1).unwrap_or(b""));
    push_bytes(l, hex.as_bytes());
    1
}

unsafe extern "C-unwind" fn redis_error_reply(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 || ffi::lua_type(l, -1) != ffi::LUA_TSTRING {
        push_error_table(l, b"wrong number or type of arguments");
        return 1;
    }
    let text = to_bytes(l, 1).unwrap_or(b"");
    let mut buf = Vec::with_capacity(text.len() + 1);
    if !text.starts_with(b"-") {
        buf.push(b'-');
    }
    buf.extend_from_slice(text);
    push_error_table(l, &buf);
    1
}

unsafe extern "C-unwind" fn redis_status_reply(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 || ffi::lua_type(l, -1) != ffi::LUA_TSTRING {
        push_error_table(l, b"wrong number or type of arguments");
        return 1;
    }
    ffi::lua_createtable(l, 0, 1);
    ffi::lua_pushvalue(l, 1);
    ffi::lua_setfield(l, -2, c"ok".as_ptr());
    1
}

/// Raises `{err='ERR <msg>'}`.
unsafe fn raise(l: *mut lua_State, msg: &'static [u8]) -> ! {
    push_error_table(l, msg);
    ffi::lua_error(l)
}

unsafe extern "C-unwind" fn redis_setresp(l: *mut lua_State) -> c_int {
    let exec = EXEC.with(|e| e.get());
    if exec.is_null() {
        raise(l, b"redis.setresp can only be called inside a script invocation");
    }
    if ffi::lua_gettop(l) != 1 {
        raise(l, b"redis.setresp() requires one argument.");
    }
    let resp = ffi::lua_tonumber(l, 1) as i32;
    if resp != 2 && resp != 3 {
        raise(l, b"RESP version must be 2 or 3.");
    }
    // SAFETY: EXEC is valid while the script runs.
    (*exec).resp3 = resp == 3;
    0
}

unsafe extern "C-unwind" fn redis_set_repl(l: *mut lua_State) -> c_int {
    if EXEC.with(|e| e.get()).is_null() {
        raise(l, b"redis.set_repl can only be called inside a script invocation");
    }
    if ffi::lua_gettop(l) != 1 {
        raise(l, b"redis.set_repl() requires two arguments.");
    }
    let flags = ffi::lua_tonumber(l, -1) as i32;
    if flags & !3 != 0 {
        raise(l, b"Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    }
    0
}

unsafe extern "C-unwind" fn redis_log(l: *mut lua_State) -> c_int {
    let argc = ffi::lua_gettop(l);
    if argc < 2 {
        raise(l, b"redis.log() requires two arguments or more.");
    }
    if ffi::lua_isnumber(l, 1) == 0 {
        raise(l, b"First argument must be a number (log level).");
    }
    let level = ffi::lua_tonumber(l, 1) as i32;
    if !(0..=3).contains(&level) {
        raise(l, b"Invalid debug level.");
    }
    // Shoal's engine has no log sink of its own: the message is dropped.
    0
}

unsafe extern "C-unwind" fn redis_acl_check_cmd(l: *mut lua_State) -> c_int {
    if EXEC.with(|e| e.get()).is_null() {
        raise(l, b"redis.acl_check_cmd can only be called inside a script invocation");
    }
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        raise(l, b"Please specify at least one argument for this redis lib call");
    }
    let known = match to_bytes(l, 1) {
        Some(name) => {
            let name = name.to_vec();
            let second = if argc >= 2 { to_bytes(l, 2).map(|b| b.to_vec()) } else { None };
            command_exists(&name, second.as_deref())
        }
        None => raise(l, b"Lua redis lib command arguments must be strings or integers"),
    };
    if !known {
        raise(l, b"Invalid command passed to redis.acl_check_cmd()");
    }
    // Shoal has no ACL users yet: every command is permitted.
    ffi::lua_pushboolean(l, 1);
    1
}

fn command_exists(name: &[u8], sub: Option<&[u8]>) -> bool {
    let reg = Registry::get();
    let Some(top) = reg.find(name) else { return false };
    match sub {
        Some(s) if !reg.entry(top).subcommands.is_empty() => reg.find_sub(top, s).is_some(),
        _ => true,
    }
}

unsafe extern "C-unwind" fn redis_breakpoint(l: *mut lua_State) -> c_int {
    // No debugging session is ever active (SCRIPT DEBUG is not supported).
    ffi::lua_pushboolean(l, 0);
    1
}

unsafe extern "C-unwind" fn redis_debug(_l: *mut lua_State) -> c_int {
    0
}

unsafe extern "C-unwind" fn redis_replicate_commands(l: *mut lua_State) -> c_int {
    ffi::lua_pushboolean(l, 1);
    1
}

/// Redis's `redisLrand48`: the 48-bit linear congruential generator of
/// `lrand48`, so that math.random gives the same sequences as Redis.
fn lrand48() -> i32 {
    RAND.with(|r| {
        let x = r.get();
        let state = (x[0] as u64) | ((x[1] as u64) << 16) | ((x[2] as u64) << 32);
        let next = state.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB) & 0xFFFF_FFFF_FFFF;
        r.set([(next & 0xFFFF) as u32, ((next >> 16) & 0xFFFF) as u32, ((next >> 32) & 0xFFFF) as u32]);
        (next >> 17) as i32
    })
}

fn srand48(seed: i32) {
    RAND.with(|r| r.set([0x330E, (seed as u32) & 0xFFFF, ((seed as u32) >> 16) & 0xFFFF]));
}

unsafe extern "C-unwind" fn math_random(l: *mut lua_State) -> c_int {
    const MAX: i32 = 0x7FFF_FFFF;
    let r = (lrand48() % MAX) as f64 / MAX as f64;
    match ffi::lua_gettop(l) {
        0 => ffi::lua_pushnumber(l, r),
        1 => {
            let u = ffi::luaL_checkinteger(l, 1) as c_int;
            if u < 1 {
                ffi::luaL_argerror(l, 1, c"interval is empty".as_ptr());
            }
            ffi::lua_pushnumber(l, (r * u as f64).floor() + 1.0);
        }
        2 => {
            let lo = ffi::luaL_checkinteger(l, 1) as c_int;
            let hi = ffi::luaL_checkinteger(l, 2) as c_int;
            if lo > hi {
                ffi::luaL_argerror(l, 2, c"interval is empty".as_ptr());
            }
            ffi::lua_pushnumber(l, (r * (hi as f64 - lo as f64 + 1.0)).floor() + lo as f64);
        }
        _ => {
            push_where_msg(l, b"wrong number of arguments");
            ffi::lua_error(l)
        }
    }
    1
}

unsafe extern "C-unwind" fn math_randomseed(l: *mut lua_State) -> c_int {
    srand48(ffi::luaL_checkinteger(l, 1) as c_int);
    0
}

// ---------------------------------------------------------------------------
// Timeouts.

unsafe extern "C-unwind" fn count_hook(l: *mut lua_State, _ar: *mut ffi::lua_Debug) {
    if hook_kills() {
        ffi::lua_sethook(l, Some(count_hook), ffi::LUA_MASKLINE, 0);
        push_error_table(l, b"Script killed by user with SCRIPT KILL...");
        ffi::lua_error(l)
    }
}

/// Checks the running script's time: past the busy threshold it registers
/// as busy and calls the server's callback; true when it was killed.
fn hook_kills() -> bool {
    let exec = EXEC.with(|e| e.get());
    if exec.is_null() {
        return false;
    }
    // SAFETY: EXEC is valid while the script runs.
    let exec = unsafe { &mut *exec };
    if exec.running.is_none() {
        let threshold = exec.scripts.busy_threshold();
        if threshold == 0 || exec.start.elapsed() < Duration::from_millis(threshold) {
            return false;
        }
        let run = Arc::new(Running {
            eval_mode: exec.eval_mode,
            name: exec.name.clone(),
            // SAFETY: `argv` points into the handler's argv, alive during the run.
            argv: unsafe { &*exec.argv }.iter().map(|a| a.to_vec()).collect(),
            start: exec.start,
            wrote: exec.wrote.into(),
            kill: false.into(),
        });
        exec.scripts.mark_busy(&run);
        exec.running = Some(run);
        let now = Instant::now();
        // Call back at once on becoming busy.
        exec.last_callback = now.checked_sub(BUSY_CALLBACK_EVERY).unwrap_or(now);
    }
    if exec.last_callback.elapsed() >= BUSY_CALLBACK_EVERY {
        exec.last_callback = Instant::now();
        BUSY_CALLBACK.with(|cb| {
            if let Ok(cb) = cb.try_borrow() {
                if let Some(f) = cb.as_ref() {
                    f();
                }
            }
        });
    }
    exec.running.as_ref().is_some_and(|r| r.kill.load(Ordering::SeqCst))
}

unsafe extern "C-unwind" fn load_hook(l: *mut lua_State, _ar: *mut ffi::lua_Debug) {
    let expired = LOADING.with(|c| {
        c.borrow_mut().as_mut().is_some_and(|ctx| {
            if ctx.start.elapsed() > LOAD_TIMEOUT {
                ctx.timeout = true;
            }
            ctx.timeout
        })
    });
    if expired {
        ffi::lua_sethook(l, Some(load_hook), ffi::LUA_MASKLINE, 0);
        push_error_table(l, b"FUNCTION LOAD timeout");
        ffi::lua_error(l)
    }
}

// ---------------------------------------------------------------------------
// Lua value -> reply.

/// Writes the Lua value at the top of the stack as a reply and pops it.
/// `script_resp3`: the protocol the script chose with `redis.setresp`, which
/// decides how booleans come out.
unsafe fn write_reply(l: *mut lua_State, out: &mut Reply, script_resp3: bool, depth: usize) {
    if ffi::lua_checkstack(l, 4) == 0 || depth > 1000 {
        out.error("ERR reached lua stack limit");
        ffi::lua_pop(l, 1);
        return;
    }
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => out.bulk(to_bytes(l, -1).unwrap_or(b"")),
        ffi::LUA_TBOOLEAN => {
            let b = ffi::lua_toboolean(l, -1) != 0;
            if script_resp3 {
                out.bool(b);
            } else if b {
                out.int(1);
            } else {
                out.null();
            }
        }
        ffi::LUA_TNUMBER => out.int(lua_number_to_i64(ffi::lua_tonumber(l, -1))),
        ffi::LUA_TTABLE => {
            write_table(l, out, script_resp3, depth);
        }
        _ => out.null(),
    }
    ffi::lua_pop(l, 1);
}

/// Pushes `t[field]` (raw) and returns its type.
unsafe fn raw_field(l: *mut lua_State, field: &CStr) -> c_int {
    ffi::lua_pushstring(l, field.as_ptr());
    ffi::lua_rawget(l, -2);
    ffi::lua_type(l, -1)
}

/// A table reply: an error, status, double, big number, verbatim string,
/// map or set table, else an array of t[1], t[2]... up to the first nil.
/// Leaves the table on the stack.
unsafe fn write_table(l: *mut lua_State, out: &mut Reply, script_resp3: bool, depth: usize) {
    if raw_field(l, c"err") == ffi::LUA_TSTRING {
        let msg = to_bytes(l, -1).unwrap_or(b"").to_vec();
        ffi::lua_pop(l, 1);
        out.error(&String::from_utf8_lossy(&msg));
        return;
    }
    ffi::lua_pop(l, 1);
    if raw_field(l, c"ok") == ffi::LUA_TSTRING {
        let s: Vec<u8> = to_bytes(l, -1)
            .unwrap_or(b"")
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
            .collect();
        ffi::lua_pop(l, 1);
        out.simple(&s);
        return;
    }
    ffi::lua_pop(l, 1);
    if raw_field(l, c"double") == ffi::LUA_TNUMBER {
        out.double(ffi::lua_tonumber(l, -1));
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pop(l, 1);
    if raw_field(l, c"big_number") == ffi::LUA_TSTRING {
        let s: Vec<u8> = to_bytes(l, -1)
            .unwrap_or(b"")
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
            .collect();
        ffi::lua_pop(l, 1);
        if out.resp3() {
            let buf = out.buffer();
            buf.push(b'(');
            buf.extend_from_slice(&s);
            buf.extend_from_slice(b"\r\n");
        } else {
            out.bulk(&s);
        }
        return;
    }
    ffi::lua_pop(l, 1);
    if raw_field(l, c"verbatim_string") == ffi::LUA_TTABLE {
        let fmt_t = raw_field(l, c"format");
        if fmt_t == ffi::LUA_TSTRING {
            let format = to_bytes(l, -1).unwrap_or(b"").to_vec();
            ffi::lua_pop(l, 1);
            if raw_field(l, c"string") == ffi::LUA_TSTRING {
                let s = to_bytes(l, -1).unwrap_or(b"").to_vec();
                ffi::lua_pop(l, 2);
                let mut f = format;
                f.resize(3, b' ');
                out.verbatim(&String::from_utf8_lossy(&f), &s);
                return;
            }
        }
        ffi::lua_pop(l, 1);
    }
    ffi::lua_pop(l, 1);
    if raw_field(l, c"map") == ffi::LUA_TTABLE {
        let n = count_entries(l);
        out.map(n);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pushvalue(l, -2);
            write_reply(l, out, script_resp3, depth + 1);
            write_reply(l, out, script_resp3, depth + 1);
        }
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pop(l, 1);
    if raw_field(l, c"set") == ffi::LUA_TTABLE {
        let n = count_entries(l);
        out.set(n);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            ffi::lua_pushvalue(l, -1);
            write_reply(l, out, script_resp3, depth + 1);
        }
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pop(l, 1);
    let mut n = 0;
    while {
        ffi::lua_rawgeti(l, -1, n as ffi::lua_Integer + 1);
        let present = ffi::lua_type(l, -1) != ffi::LUA_TNIL;
        ffi::lua_pop(l, 1);
        present
    } {
        n += 1;
    }
    out.array(n);
    for j in 1..=n {
        ffi::lua_rawgeti(l, -1, j as ffi::lua_Integer);
        write_reply(l, out, script_resp3, depth + 1);
    }
}

/// The number of entries of the table at the top of the stack.
unsafe fn count_entries(l: *mut lua_State) -> usize {
    let mut n = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        n += 1;
    }
    n
}

/// The error a failed run replies with, from the error value at the top of
/// the stack (popped): the table's `err`, plus where it happened.
unsafe fn error_from_stack(l: *mut lua_State, funcname: &str) -> CmdError {
    if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
        let msg = to_bytes(l, -1).map(|b| String::from_utf8_lossy(b).into_owned());
        ffi::lua_pop(l, 1);
        let msg = msg.unwrap_or_else(|| "execution failure".into());
        let short: String = msg.chars().take(100).collect();
        return CmdError::owned(format!("ERR Error running script {funcname}, {short}"));
    }
    let field = |name: &CStr| -> Option<String> {
        ffi::lua_getfield(l, -1, name.as_ptr());
        let v = if ffi::lua_isstring(l, -1) != 0 {
            to_bytes(l, -1).map(|b| String::from_utf8_lossy(b).into_owned())
        } else {
            None
        };
        ffi::lua_pop(l, 1);
        v
    };
    let msg = field(c"err").unwrap_or_default();
    let source = field(c"source");
    let line = field(c"line");
    ffi::lua_pop(l, 1);
    match (source, line) {
        (Some(s), Some(n)) => CmdError::owned(format!("{msg} script: {funcname}, on {s}:{n}.")),
        _ => CmdError::owned(msg),
    }
}

// ---------------------------------------------------------------------------
// Running scripts.

/// How one script or function run is set up.
struct RunSpec<'s> {
    name: String,
    eval_mode: bool,
    read_only: bool,
    keys: &'s [&'s [u8]],
    args: &'s [&'s [u8]],
    argv: &'s [&'s [u8]],
}

/// Calls the function at the top of the stack (under it: the error handler)
/// and writes its result or error. The stack is left as it was before both.
unsafe fn run_function(l: *mut lua_State, ctx: &mut Ctx<'_>, spec: RunSpec<'_>) -> CmdResult {
    let scripts = ctx.shard.scripts.clone();
    // SAFETY (lifetime): the Exec, and the key_check reference in it, are
    // only used while this function runs.
    let key_check: Option<KeyCheck> =
        ctx.key_check.map(|f| std::mem::transmute::<&dyn Fn(usize, &[u8]) -> bool, _>(f));
    let mut exec = Exec {
        shard: &mut *ctx.shard,
        db: ctx.db,
        now: ctx.now,
        key_check,
        keys: std::mem::transmute::<*const [&[u8]], *const [&'static [u8]]>(spec.keys),
        resp3: false,
        read_only: spec.read_only,
        eval_mode: spec.eval_mode,
        name: spec.name,
        argv: std::mem::transmute::<*const [&[u8]], *const [&'static [u8]]>(spec.argv),
        scripts: scripts.clone(),
        start: Instant::now(),
        wrote: false,
        running: None,
        last_callback: Instant::now(),
    };
    let nargs = if spec.eval_mode {
        // KEYS and ARGV are globals, set in the real globals table.
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_GLOBALS.as_ptr());
        push_array(l, spec.keys);
        ffi::lua_setfield(l, -2, c"KEYS".as_ptr());
        push_array(l, spec.args);
        ffi::lua_setfield(l, -2, c"ARGV".as_ptr());
        ffi::lua_pop(l, 1);
        0
    } else {
        push_array(l, spec.keys);
        push_array(l, spec.args);
        2
    };
    let hook = scripts.busy_threshold() > 0;
    if hook {
        ffi::lua_sethook(l, Some(count_hook), ffi::LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    }
    EXEC.with(|e| e.set(&mut exec));
    let rc = ffi::lua_pcall(l, nargs, 1, -2 - nargs);
    EXEC.with(|e| e.set(std::ptr::null_mut()));
    if hook {
        ffi::lua_sethook(l, None, 0, 0);
    }
    if let Some(run) = &exec.running {
        scripts.unmark_busy(run);
    }
    let result = if rc != 0 {
        Err(error_from_stack(l, &exec.name))
    } else if let Some(msg) = top_level_error(l) {
        ffi::lua_pop(l, 1);
        Err(CmdError::owned(msg))
    } else {
        write_reply(l, &mut ctx.out, exec.resp3, 0);
        Ok(())
    };
    ffi::lua_pop(l, 1); // the error handler
    result
}

/// The `err` field of a returned error table (left on the stack).
unsafe fn top_level_error(l: *mut lua_State) -> Option<String> {
    if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
        return None;
    }
    let msg = if raw_field(l, c"err") == ffi::LUA_TSTRING {
        to_bytes(l, -1).map(|b| String::from_utf8_lossy(b).into_owned())
    } else {
        None
    };
    ffi::lua_pop(l, 1);
    msg
}

unsafe fn push_array(l: *mut lua_State, items: &[&[u8]]) {
    ffi::lua_createtable(l, items.len().min(1 << 20) as c_int, 0);
    for (i, item) in items.iter().enumerate() {
        push_bytes(l, item);
        ffi::lua_rawseti(l, -2, i as ffi::lua_Integer + 1);
    }
}

fn gc_step(vm: &mut Vm) {
    vm.runs += 1;
    if vm.runs >= 50 {
        vm.runs = 0;
        // SAFETY: a plain GC step on our own state.
        unsafe { ffi::lua_gc(vm.l, ffi::LUA_GCSTEP, 50) };
    }
}

const NUMKEYS_NEGATIVE: CmdError = CmdError::new("ERR Number of keys can't be negative");
const NUMKEYS_TOO_MANY: CmdError = CmdError::new("ERR Number of keys can't be greater than number of args");
const NOSCRIPT: CmdError = CmdError::new("NOSCRIPT No matching script. Please use EVAL.");
const RO_WITH_WRITE: CmdError =
    CmdError::new("ERR Can not execute a script with write flag using *_ro command.");

type KeysAndArgs<'a> = (&'a [&'a [u8]], &'a [&'a [u8]]);

/// Parses `numkeys` (argv[2]) and splits keys and args.
fn split_keys<'a>(argv: &'a [&'a [u8]]) -> Result<KeysAndArgs<'a>, CmdError> {
    let n = crate::num::parse_i64(argv[2]).ok_or(crate::error::NOT_INTEGER)?;
    if n > argv.len() as i64 - 3 {
        return Err(NUMKEYS_TOO_MANY);
    }
    if n < 0 {
        return Err(NUMKEYS_NEGATIVE);
    }
    let rest = &argv[3..];
    Ok(rest.split_at(n as usize))
}

/// Compiles `body` (after its shebang) into the VM's registry as `f_<sha>`.
unsafe fn compile_script(l: *mut lua_State, sha: &str, body: &[u8], skip: usize) -> Result<(), CmdError> {
    let code = &body[skip..];
    if ffi::luaL_loadbuffer(l, code.as_ptr() as *const c_char, code.len(), c"@user_script".as_ptr()) != 0 {
        let msg = to_bytes(l, -1).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
        ffi::lua_pop(l, 1);
        return Err(CmdError::owned(format!("ERR Error compiling script (new function): {msg}")));
    }
    let key = format!("f_{sha}\0");
    ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, key.as_ptr() as *const c_char);
    Ok(())
}

/// Checks the shebang of `body` and compiles it on this thread's EVAL VM,
/// caching it in the store (SCRIPT LOAD, and EVAL of a new body). Returns its SHA1.
pub(crate) fn load_script(scripts: &Scripts, body: &[u8]) -> Result<String, CmdError> {
    let sha = super::sha1hex(body);
    if scripts.get_script(&sha).is_some() {
        return Ok(sha);
    }
    let (flags, skip) = super::shebang_flags(body).map_err(|e| CmdError::owned(format!("ERR {e}")))?;
    // SAFETY: compiles on this thread's own VM, stack balanced.
    with_eval_vm(scripts, |vm| unsafe { compile_script(vm.l, &sha, body, skip) })??;
    scripts.add_script(sha.clone(), body, flags);
    Ok(sha)
}

fn with_eval_vm<R>(scripts: &Scripts, f: impl FnOnce(&mut Vm) -> R) -> Result<R, CmdError> {
    EVAL_VM.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return Err(super::BUSY_SCRIPT);
        };
        let generation = scripts.eval_generation();
        if slot.as_ref().is_none_or(|vm| vm.generation != generation) {
            *slot = None;
            *slot = Some(Vm { l: new_vm(false), generation, runs: 0 });
        }
        Ok(f(slot.as_mut().expect("VM just made")))
    })
}

/// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO.
pub fn eval_command(ctx: &mut Ctx<'_>, argv: &[&[u8]], by_sha: bool, ro: bool) -> CmdResult {
    let (keys, args) = split_keys(argv)?;
    let scripts = ctx.shard.scripts.clone();
    let sha = if by_sha {
        if argv[1].len() != 40 {
            return Err(NOSCRIPT);
        }
        String::from_utf8_lossy(argv[1]).to_ascii_lowercase()
    } else {
        super::sha1hex(argv[1])
    };
    let script = match scripts.get_script(&sha) {
        Some(s) => s,
        None if by_sha => return Err(NOSCRIPT),
        None => {
            load_script(&scripts, argv[1])?;
            scripts.get_script(&sha).ok_or(NOSCRIPT)?
        }
    };
    let compat = script.flags & super::flags::EVAL_COMPAT != 0;
    let no_writes = script.flags & super::flags::NO_WRITES != 0;
    if !compat && !no_writes && ro {
        return Err(RO_WITH_WRITE);
    }
    // A script that declares it may write is refused whole by a read-only
    // replica; one without flags fails at its first write instead.
    if !compat && !no_writes && scripts.writes_refused.load(Ordering::Relaxed) {
        return Err(crate::error::READONLY);
    }
    let read_only = ro || (!compat && no_writes);
    with_eval_vm(&scripts, |vm| {
        let l = vm.l;
        gc_step(vm);
        // SAFETY: C API calls on this thread's VM, stack balanced on every path.
        unsafe {
            ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_ERR_HANDLER.as_ptr());
            let key = format!("f_{sha}\0");
            ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, key.as_ptr() as *const c_char);
            if ffi::lua_type(l, -1) != ffi::LUA_TFUNCTION {
                ffi::lua_pop(l, 1);
                let skip = super::shebang_flags(&script.body).map(|(_, s)| s).unwrap_or(0);
                if let Err(e) = compile_script(l, &sha, &script.body, skip) {
                    ffi::lua_pop(l, 1);
                    return Err(e);
                }
                ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, key.as_ptr() as *const c_char);
            }
            let spec = RunSpec { name: sha.clone(), eval_mode: true, read_only, keys, args, argv };
            run_function(l, ctx, spec)
        }
    })?
}

// ---------------------------------------------------------------------------
// Functions.

/// Runs a library's code on `l` with the load-time API, collecting the
/// functions it registers (their Lua values go to the registry's function
/// table under their names). `timeout`: whether the 500 ms load limit applies.
unsafe fn load_library_code(
    l: *mut lua_State,
    code: &[u8],
    timeout: bool,
) -> Result<Vec<super::FunctionInfo>, String> {
    if ffi::luaL_loadbuffer(l, code.as_ptr() as *const c_char, code.len(), c"@user_function".as_ptr()) != 0 {
        let msg = to_bytes(l, -1).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
        ffi::lua_pop(l, 1);
        return Err(format!("Error compiling function: {msg}"));
    }
    // Globals resolve to the load-time API while the library's code runs.
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_PROXY_MT.as_ptr());
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_LIBRARY_API.as_ptr());
    ffi::lua_pushcclosure(l, global_index, 1);
    ffi::lua_setfield(l, -2, c"__index".as_ptr());
    ffi::lua_pop(l, 1);
    LOADING.with(|c| {
        *c.borrow_mut() = Some(LoadCtx { functions: Vec::new(), start: Instant::now(), timeout: false })
    });
    if timeout {
        ffi::lua_sethook(l, Some(load_hook), ffi::LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    }
    let rc = ffi::lua_pcall(l, 0, 0, 0);
    ffi::lua_sethook(l, None, 0, 0);
    let loaded = LOADING.with(|c| c.borrow_mut().take()).map(|c| c.functions).unwrap_or_default();
    let result = if rc != 0 {
        let msg = if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
            ffi::lua_getfield(l, -1, c"err".as_ptr());
            let m = to_bytes(l, -1).map(|b| String::from_utf8_lossy(b).into_owned());
            ffi::lua_pop(l, 1);
            m
        } else {
            to_bytes(l, -1).map(|b| format!("ERR {}", String::from_utf8_lossy(b)))
        };
        ffi::lua_pop(l, 1);
        Err(format!("Error registering functions: {}", msg.unwrap_or_default()))
    } else {
        Ok(loaded)
    };
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_PROXY_MT.as_ptr());
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_GLOBALS.as_ptr());
    ffi::lua_pushcclosure(l, global_index, 1);
    ffi::lua_setfield(l, -2, c"__index".as_ptr());
    ffi::lua_pop(l, 1);
    result
}

unsafe extern "C-unwind" fn redis_register_function(l: *mut lua_State) -> c_int {
    match register_function(l) {
        Ok(()) => 0,
        Err(msg) => {
            push_error_table(l, msg.as_bytes());
            ffi::lua_error(l)
        }
    }
}

/// redis.register_function(name, callback) or ({function_name=, callback=,
/// flags=, description=}). The callback goes to the registry's function table.
unsafe fn register_function(l: *mut lua_State) -> Result<(), String> {
    let loading = LOADING.with(|c| c.borrow().is_some());
    if !loading {
        return Err("redis.register_function can only be called on FUNCTION LOAD command".into());
    }
    let argc = ffi::lua_gettop(l);
    if !(1..=2).contains(&argc) {
        return Err("wrong number of arguments to redis.register_function".into());
    }
    let mut name: Option<Vec<u8>> = None;
    let mut desc: Option<Vec<u8>> = None;
    let mut fflags = 0u32;
    let callback_idx;
    if argc == 2 {
        if ffi::lua_isstring(l, 1) == 0 {
            return Err("first argument to redis.register_function must be a string".into());
        }
        name = to_bytes(l, 1).map(|b| b.to_vec());
        if ffi::lua_type(l, 2) != ffi::LUA_TFUNCTION {
            return Err("second argument to redis.register_function must be a function".into());
        }
        callback_idx = 2;
    } else {
        if ffi::lua_type(l, 1) != ffi::LUA_TTABLE {
            return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).".into());
        }
        let mut cb = 0;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, 1) != 0 {
            if ffi::lua_type(l, -2) != ffi::LUA_TSTRING && ffi::lua_type(l, -2) != ffi::LUA_TNUMBER {
                return Err("named argument key given to redis.register_function is not a string".into());
            }
            // Copy the key before converting: tolstring on a number key would confuse lua_next.
            ffi::lua_pushvalue(l, -2);
            let key = to_bytes(l, -1).unwrap_or(b"").to_ascii_lowercase();
            ffi::lua_pop(l, 1);
            match key.as_slice() {
                b"function_name" => {
                    if ffi::lua_isstring(l, -1) == 0 {
                        return Err(
                            "function_name argument given to redis.register_function must be a string".into(),
                        );
                    }
                    ffi::lua_pushvalue(l, -1);
                    name = to_bytes(l, -1).map(|b| b.to_vec());
                    ffi::lua_pop(l, 1);
                }
                b"description" => {
                    if ffi::lua_isstring(l, -1) == 0 {
                        return Err(
                            "description argument given to redis.register_function must be a string".into()
                        );
                    }
                    ffi::lua_pushvalue(l, -1);
                    desc = to_bytes(l, -1).map(|b| b.to_vec());
                    ffi::lua_pop(l, 1);
                }
                b"callback" => {
                    if ffi::lua_type(l, -1) != ffi::LUA_TFUNCTION {
                        return Err(
                            "callback argument given to redis.register_function must be a function".into()
                        );
                    }
                    // Keep it on the stack, under the key.
                    ffi::lua_pushvalue(l, -1);
                    ffi::lua_insert(l, 2);
                    cb = 2;
                }
                b"flags" => {
                    if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
                        return Err("flags argument to redis.register_function must be a table representing function flags".into());
                    }
                    fflags = read_flags(l).ok_or_else(|| "unknown flag given".to_string())?;
                }
                _ => return Err("unknown argument given to redis.register_function".into()),
            }
            ffi::lua_pop(l, 1);
        }
        if name.is_none() {
            return Err("redis.register_function must get a function name argument".into());
        }
        if cb == 0 {
            return Err("redis.register_function must get a callback argument".into());
        }
        callback_idx = cb;
    }
    let name = name.unwrap_or_default();
    if !super::functions::valid_name(&name) {
        return Err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    let name_s = String::from_utf8_lossy(&name).into_owned();
    let dup = LOADING
        .with(|c| c.borrow().as_ref().is_some_and(|ctx| ctx.functions.iter().any(|f| f.name == name_s)));
    if dup {
        return Err("Function already exists in the library".into());
    }
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_FUNCTIONS.as_ptr());
    push_bytes(l, &name);
    ffi::lua_pushvalue(l, callback_idx);
    ffi::lua_rawset(l, -3);
    ffi::lua_pop(l, 1);
    LOADING.with(|c| {
        if let Some(ctx) = c.borrow_mut().as_mut() {
            ctx.functions.push(super::FunctionInfo {
                name: name_s,
                description: desc.map(|d| String::from_utf8_lossy(&d).into_owned()),
                flags: fflags,
            });
        }
    });
    Ok(())
}

/// Reads a flags table (at the top of the stack): Redis's names, any case.
unsafe fn read_flags(l: *mut lua_State) -> Option<u32> {
    let mut f = 0;
    let mut j = 1;
    loop {
        ffi::lua_rawgeti(l, -1, j);
        j += 1;
        match ffi::lua_type(l, -1) {
            ffi::LUA_TNIL => {
                ffi::lua_pop(l, 1);
                return Some(f);
            }
            ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
                let s = to_bytes(l, -1).unwrap_or(b"").to_vec();
                ffi::lua_pop(l, 1);
                let bit = super::flags::NAMES.iter().find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(&s))?;
                f |= bit.0;
            }
            _ => {
                ffi::lua_pop(l, 1);
                return None;
            }
        }
    }
}

/// Validates a library's code on a fresh VM (FUNCTION LOAD): the functions
/// it registers, or Redis's error text.
pub(crate) fn check_library(code: &[u8]) -> Result<Vec<super::FunctionInfo>, String> {
    let vm = Vm { l: new_vm(true), generation: 0, runs: 0 };
    // SAFETY: a fresh state of our own.
    unsafe { load_library_code(vm.l, code, true) }
}

/// FCALL / FCALL_RO.
pub fn fcall_command(ctx: &mut Ctx<'_>, argv: &[&[u8]], ro: bool) -> CmdResult {
    let scripts = ctx.shard.scripts.clone();
    let name = String::from_utf8_lossy(argv[1]).into_owned();
    let fflags = {
        let libs = scripts.libraries();
        match libs.function(&name) {
            Some(f) => f.flags,
            None => return Err(CmdError::new("ERR Function not found")),
        }
    };
    let (keys, args) = match split_keys(argv) {
        Ok(v) => v,
        Err(e) if e == crate::error::NOT_INTEGER => {
            return Err(CmdError::new("ERR Bad number of keys provided"))
        }
        Err(e) => return Err(e),
    };
    let no_writes = fflags & super::flags::NO_WRITES != 0;
    if ro && !no_writes {
        return Err(RO_WITH_WRITE);
    }
    if !no_writes && scripts.writes_refused.load(Ordering::Relaxed) {
        return Err(crate::error::READONLY);
    }
    FUNC_VM.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return Err(super::BUSY_FUNCTION);
        };
        let generation = scripts.func_generation();
        if slot.as_ref().is_none_or(|vm| vm.generation != generation) {
            *slot = None;
            let vm = Vm { l: new_vm(true), generation, runs: 0 };
            let codes: Vec<Vec<u8>> = scripts.libraries().codes().map(|c| c.to_vec()).collect();
            for code in codes {
                if let Ok((_, _, body)) = super::functions::metadata(&code) {
                    // SAFETY: our own fresh state; the store only holds libraries that loaded before.
                    let _ = unsafe { load_library_code(vm.l, body, false) };
                }
            }
            *slot = Some(vm);
        }
        let vm = slot.as_mut().expect("VM just made");
        gc_step(vm);
        let l = vm.l;
        // SAFETY: C API calls on this thread's VM, stack balanced on every path.
        unsafe {
            ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_ERR_HANDLER.as_ptr());
            ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, REG_FUNCTIONS.as_ptr());
            push_bytes(l, name.as_bytes());
            ffi::lua_rawget(l, -2);
            ffi::lua_remove(l, -2);
            if ffi::lua_type(l, -1) != ffi::LUA_TFUNCTION {
                ffi::lua_pop(l, 2);
                return Err(CmdError::new("ERR Function not found"));
            }
            let spec = RunSpec { name, eval_mode: false, read_only: ro || no_writes, keys, args, argv };
            run_function(l, ctx, spec)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines() {
        assert_eq!(error_line(b"-WRONGTYPE Operation"), b"WRONGTYPE Operation");
        assert_eq!(error_line(b"-Foo"), b"ERR Foo");
        assert_eq!(error_line(b"plain text\r\n"), b"ERR plain text");
        assert_eq!(error_line(b"-My Error"), b"My Error");
    }

    #[test]
    fn number_casts_like_c() {
        assert_eq!(lua_number_to_i64(3.99), 3);
        assert_eq!(lua_number_to_i64(-3.99), -3);
        assert_eq!(lua_number_to_i64(f64::NAN), i64::MIN);
        assert_eq!(lua_number_to_i64(1e300), i64::MIN);
    }

    fn wait_busy(scripts: &Scripts) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while scripts.busy_script().is_none() {
            assert!(Instant::now() < deadline, "script never became busy");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn script_kill_from_another_thread() {
        let (tx, rx) = std::sync::mpsc::channel();
        let runner = std::thread::spawn(move || {
            let mut s = crate::testing::shard();
            s.scripts.busy_reply_threshold_ms.store(20, Ordering::Relaxed);
            let calls = std::rc::Rc::new(Cell::new(0u32));
            let seen = calls.clone();
            set_busy_callback(Box::new(move || seen.set(seen.get() + 1)));
            tx.send(s.scripts.clone()).unwrap();
            let reply = crate::testing::run(&mut s, &["EVAL", "while true do end", "0"]);
            (reply, calls.get())
        });
        let scripts = rx.recv().unwrap();
        wait_busy(&scripts);
        let mut buf = Vec::new();
        let stats = crate::script::function_stats(&scripts, &mut Reply::new(&mut buf, false));
        assert_eq!(stats.unwrap_err(), crate::script::BUSY_SCRIPT);
        assert_eq!(scripts.kill(false).unwrap_err(), crate::script::BUSY_SCRIPT);
        scripts.kill(true).unwrap();
        let (reply, callbacks) = runner.join().unwrap();
        assert_eq!(
            reply,
            "-ERR Script killed by user with SCRIPT KILL... script: 694a5fe1ddb97a4c6a1bf299d9537c7d3d0f84e7, on @user_script:1.\r\n"
        );
        assert!(callbacks > 0);
        assert!(scripts.busy_script().is_none());
        assert_eq!(scripts.kill(true).unwrap_err().line(), "NOTBUSY No scripts in execution right now.");
    }

    #[test]
    fn script_that_wrote_is_unkillable() {
        let (tx, rx) = std::sync::mpsc::channel();
        let runner = std::thread::spawn(move || {
            let mut s = crate::testing::shard();
            s.scripts.busy_reply_threshold_ms.store(20, Ordering::Relaxed);
            tx.send(s.scripts.clone()).unwrap();
            let script = "redis.call('set','x','1'); local n = 0; while redis.call('get','stop') == false do n = n + 1 end; return 1";
            let reply = crate::testing::run(&mut s, &["EVAL", script, "0"]);
            (reply, crate::testing::run(&mut s, &["GET", "x"]))
        });
        let scripts = rx.recv().unwrap();
        wait_busy(&scripts);
        assert!(scripts
            .kill(true)
            .unwrap_err()
            .line()
            .starts_with("UNKILLABLE Sorry the script already executed write commands"));
        let run = scripts.busy_script().unwrap();
        assert!(run.eval_mode && run.wrote.load(Ordering::SeqCst));
        // SCRIPT KILL refused; the test ends the script by raising its kill flag itself.
        run.kill.store(true, Ordering::SeqCst);
        let (reply, x) = runner.join().unwrap();
        assert!(reply.starts_with("-ERR Script killed by user with SCRIPT KILL..."), "{reply}");
        assert_eq!(x, "$1\r\n1\r\n");
    }

    #[test]
    fn function_kill_and_stats() {
        let (tx, rx) = std::sync::mpsc::channel();
        let runner = std::thread::spawn(move || {
            let mut s = crate::testing::shard();
            s.scripts.busy_reply_threshold_ms.store(20, Ordering::Relaxed);
            let code = "#!lua name=l\nredis.register_function('spin', function() while true do end end)";
            assert_eq!(crate::testing::run(&mut s, &["FUNCTION", "LOAD", code]), "$1\r\nl\r\n");
            tx.send(s.scripts.clone()).unwrap();
            crate::testing::run(&mut s, &["FCALL", "spin", "0"])
        });
        let scripts = rx.recv().unwrap();
        wait_busy(&scripts);
        let run = scripts.busy_script().unwrap();
        assert_eq!((run.name.as_str(), run.eval_mode), ("spin", false));
        assert_eq!(run.argv, [b"FCALL".to_vec(), b"spin".to_vec(), b"0".to_vec()]);
        let mut buf = Vec::new();
        crate::script::function_stats(&scripts, &mut Reply::new(&mut buf, false)).unwrap();
        let stats = String::from_utf8_lossy(&buf).into_owned();
        assert!(
            stats.starts_with("*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n*3\r\n$5\r\nFCALL\r\n$4\r\nspin\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n:"),
            "{stats}"
        );
        assert!(stats.ends_with("$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:1\r\n"), "{stats}");
        assert_eq!(scripts.kill(true).unwrap_err(), crate::script::BUSY_FUNCTION);
        scripts.kill(false).unwrap();
        assert_eq!(
            runner.join().unwrap(),
            "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n"
        );
    }

    #[test]
    fn lrand48_matches_libc_sequence() {
        srand48(0);
        // glibc: srand48(0); lrand48() x3
        assert_eq!([lrand48(), lrand48(), lrand48()], [366850414, 1610402240, 206956554]);
    }
}
