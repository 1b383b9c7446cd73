//! Lua scripting (Redis 7 semantics) on an embedded Lua 5.1 VM per thread.
//!
//! What lives where:
//! - [`Scripts`] is the process-wide store (every core's shard holds the same
//!   `Arc`): EVAL script bodies by SHA1, function libraries, the busy-script
//!   registry that SCRIPT KILL / FUNCTION KILL work on, and the busy threshold.
//! - `lua` holds the per-thread VMs (one for EVAL, one for functions, as Redis
//!   keeps them apart), the `redis.*` API, the Lua <-> RESP conversions, the
//!   global-variable protection and the timeout hook. Compiled functions are
//!   cached per VM and dropped when the store's generation changes (SCRIPT
//!   FLUSH, FUNCTION LOAD/DELETE/FLUSH).
//! - `functions` parses and validates function libraries.
//!
//! Nothing here blocks on I/O: a script runs synchronously inside its
//! command's handler, against the handler's shard.

mod bit;
mod cjson;
mod cmsgpack;
pub mod functions;
mod lua;
mod structlib;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

pub use functions::{FunctionInfo, Library};
pub(crate) use lua::load_script;
pub use lua::{eval_command, fcall_command, set_busy_callback};

/// The shebang flags a script or function may declare.
pub mod flags {
    pub const NO_WRITES: u32 = 1 << 0;
    pub const ALLOW_OOM: u32 = 1 << 1;
    pub const ALLOW_STALE: u32 = 1 << 2;
    pub const NO_CLUSTER: u32 = 1 << 3;
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;
    /// An EVAL script without a shebang: Redis 6 behaviour (no flags apply).
    pub const EVAL_COMPAT: u32 = 1 << 5;

    /// The flag names, in the order Redis lists them.
    pub const NAMES: &[(u32, &str)] = &[
        (NO_WRITES, "no-writes"),
        (ALLOW_OOM, "allow-oom"),
        (ALLOW_STALE, "allow-stale"),
        (NO_CLUSTER, "no-cluster"),
        (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];
}

/// One cached EVAL script.
#[derive(Debug)]
pub struct EvalScript {
    pub body: Vec<u8>,
    pub flags: u32,
}

/// A script that ran past the busy threshold, visible to SCRIPT KILL,
/// FUNCTION KILL and FUNCTION STATS on any thread.
#[derive(Debug)]
pub struct Running {
    /// EVAL/EVALSHA (true) or FCALL (false).
    pub eval_mode: bool,
    /// The SHA1 for a script, the function name for FCALL.
    pub name: String,
    /// The command line that started it.
    pub argv: Vec<Vec<u8>>,
    pub start: Instant,
    /// Set once the script called a write command: it can no longer be killed.
    pub wrote: AtomicBool,
    pub kill: AtomicBool,
}

/// The process-wide store of scripts and functions. Send + Sync: the locks
/// are taken by script commands only, never on the per-key data path.
pub struct Scripts {
    eval: Mutex<HashMap<String, Arc<EvalScript>>>,
    eval_gen: AtomicU64,
    libraries: RwLock<functions::Libraries>,
    func_gen: AtomicU64,
    /// Redis's `busy-reply-threshold` (alias `lua-time-limit`) in ms; 0 = never busy.
    pub busy_reply_threshold_ms: AtomicU64,
    busy: Mutex<Vec<Arc<Running>>>,
    /// This server is a read-only replica: clients' writes, and their
    /// scripts' writes, are refused with READONLY.
    pub writes_refused: AtomicBool,
}

impl Default for Scripts {
    fn default() -> Self {
        Scripts {
            eval: Mutex::new(HashMap::new()),
            eval_gen: AtomicU64::new(0),
            libraries: RwLock::new(functions::Libraries::default()),
            func_gen: AtomicU64::new(0),
            busy_reply_threshold_ms: AtomicU64::new(5000),
            busy: Mutex::new(Vec::new()),
            writes_refused: AtomicBool::new(false),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Scripts {
    /// The script with this (lower-case) SHA1.
    pub fn get_script(&self, sha: &str) -> Option<Arc<EvalScript>> {
        lock(&self.eval).get(sha).cloned()
    }

    /// Caches a script body under its SHA1 (a no-op when already there).
    pub fn add_script(&self, sha: String, body: &[u8], flags: u32) -> Arc<EvalScript> {
        lock(&self.eval)
            .entry(sha)
            .or_insert_with(|| Arc::new(EvalScript { body: body.to_vec(), flags }))
            .clone()
    }

    pub fn script_exists(&self, sha: &[u8]) -> bool {
        let lower = String::from_utf8_lossy(sha).to_ascii_lowercase();
        lock(&self.eval).contains_key(&lower)
    }

    /// SCRIPT FLUSH: every thread drops its compiled scripts at its next EVAL.
    pub fn flush_scripts(&self) {
        lock(&self.eval).clear();
        self.eval_gen.fetch_add(1, Ordering::SeqCst);
    }

    pub fn script_count(&self) -> usize {
        lock(&self.eval).len()
    }

    /// The total size of the cached script bodies (INFO `used_memory_scripts_eval`-like).
    pub fn scripts_memory(&self) -> usize {
        lock(&self.eval).iter().map(|(k, v)| k.len() + v.body.len() + 64).sum()
    }

    fn eval_generation(&self) -> u64 {
        self.eval_gen.load(Ordering::SeqCst)
    }

    fn func_generation(&self) -> u64 {
        self.func_gen.load(Ordering::SeqCst)
    }

    /// Read access to the function libraries.
    pub fn libraries(&self) -> std::sync::RwLockReadGuard<'_, functions::Libraries> {
        self.libraries.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the libraries; every thread reloads its function VM afterwards.
    pub fn update_libraries<R>(&self, f: impl FnOnce(&mut functions::Libraries) -> R) -> R {
        let mut libs = self.libraries.write().unwrap_or_else(|e| e.into_inner());
        let r = f(&mut libs);
        self.func_gen.fetch_add(1, Ordering::SeqCst);
        r
    }

    pub fn busy_threshold(&self) -> u64 {
        self.busy_reply_threshold_ms.load(Ordering::Relaxed)
    }

    fn mark_busy(&self, run: &Arc<Running>) {
        lock(&self.busy).push(run.clone());
    }

    fn unmark_busy(&self, run: &Arc<Running>) {
        lock(&self.busy).retain(|r| !Arc::ptr_eq(r, run));
    }

    /// The script currently past the busy threshold, if any.
    pub fn busy_script(&self) -> Option<Arc<Running>> {
        lock(&self.busy).first().cloned()
    }

    /// SCRIPT KILL (`eval` = true) or FUNCTION KILL: Redis's checks and texts.
    pub fn kill(&self, eval: bool) -> Result<(), crate::error::CmdError> {
        use crate::error::CmdError;
        let Some(run) = self.busy_script() else {
            return Err(CmdError::new("NOTBUSY No scripts in execution right now."));
        };
        if run.wrote.load(Ordering::SeqCst) {
            return Err(CmdError::new(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
            ));
        }
        if eval && !run.eval_mode {
            return Err(BUSY_FUNCTION);
        }
        if !eval && run.eval_mode {
            return Err(BUSY_SCRIPT);
        }
        run.kill.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// FUNCTION STATS's reply. Needs no shard, so that the server can answer it
/// (it is ALLOW_BUSY) from its busy callback while a script runs.
pub fn function_stats(scripts: &Scripts, out: &mut crate::reply::Reply<'_>) -> crate::error::CmdResult {
    let busy = scripts.busy_script();
    if busy.as_ref().is_some_and(|r| r.eval_mode) {
        return Err(BUSY_SCRIPT);
    }
    out.map(2);
    out.bulk(b"running_script");
    match busy {
        None => out.null(),
        Some(run) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(run.name.as_bytes());
            out.bulk(b"command");
            out.array(run.argv.len());
            for a in &run.argv {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int(run.start.elapsed().as_millis() as i64);
        }
    }
    let libs = scripts.libraries();
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libs.len() as i64);
    out.bulk(b"functions_count");
    out.int(libs.function_count() as i64);
    Ok(())
}

/// The reply to other clients while an EVAL script is busy.
pub const BUSY_SCRIPT: crate::error::CmdError = crate::error::CmdError::new(
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
);
/// The reply to other clients while a function is busy.
pub const BUSY_FUNCTION: crate::error::CmdError = crate::error::CmdError::new(
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
);

/// The lower-case hex SHA1 of `data`, as `redis.sha1hex` and SCRIPT LOAD give it.
pub fn sha1hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// Splits a shebang line into words the way Redis's `sdssplitargs` does
/// (spaces separate, double and single quotes group); None on unbalanced quotes.
fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        let mut cur = Vec::new();
        let mut quote = None;
        loop {
            if i >= line.len() {
                if quote.is_some() {
                    return None;
                }
                break;
            }
            let c = line[i];
            match quote {
                Some(q) => {
                    if c == b'\\' && q == b'"' && i + 1 < line.len() {
                        cur.push(line[i + 1]);
                        i += 2;
                        continue;
                    }
                    if c == q {
                        // A closing quote must be followed by a space or the end.
                        if i + 1 < line.len() && !line[i + 1].is_ascii_whitespace() {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    cur.push(c);
                }
                None => {
                    if c.is_ascii_whitespace() {
                        break;
                    }
                    if c == b'"' || c == b'\'' {
                        quote = Some(c);
                    } else {
                        cur.push(c);
                    }
                }
            }
            i += 1;
        }
        out.push(cur);
    }
    Some(out)
}

/// Reads an EVAL script's `#!lua flags=...` line: the flags and the length
/// of the shebang (the code Lua compiles starts at its newline, so that line
/// numbers stay right). The error texts are Redis's.
pub fn shebang_flags(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((flags::EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let parts = match split_args(&body[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid engine in script shebang".into()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!("Unexpected engine in script shebang: {}", String::from_utf8_lossy(&parts[0])));
    }
    let mut f = 0;
    for part in &parts[1..] {
        if let Some(list) = part.strip_prefix(b"flags=") {
            if list.is_empty() {
                continue;
            }
            for name in list.split(|&b| b == b',') {
                match flags::NAMES.iter().find(|(_, n)| n.as_bytes() == name) {
                    Some((bit, _)) => f |= bit,
                    None => {
                        return Err(format!(
                            "Unexpected flag in script shebang: {}",
                            String::from_utf8_lossy(name)
                        ))
                    }
                }
            }
        } else {
            return Err(format!("Unknown lua shebang option: {}", String::from_utf8_lossy(part)));
        }
    }
    Ok((f, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_redis() {
        assert_eq!(sha1hex(b"return 'hello'"), "1b936e3fe509bcbc9cd0664897bbe8fd0cac101b");
        assert_eq!(sha1hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn shebangs() {
        assert_eq!(shebang_flags(b"return 1"), Ok((flags::EVAL_COMPAT, 0)));
        assert_eq!(shebang_flags(b"#!lua\nreturn 1"), Ok((0, 5)));
        assert_eq!(
            shebang_flags(b"#!lua flags=no-writes,allow-oom\nreturn 1"),
            Ok((flags::NO_WRITES | flags::ALLOW_OOM, 31))
        );
        assert_eq!(shebang_flags(b"#!lua").unwrap_err(), "Invalid script shebang");
        assert_eq!(
            shebang_flags(b"#!python\n").unwrap_err(),
            "Unexpected engine in script shebang: #!python"
        );
        assert_eq!(
            shebang_flags(b"#!lua flags=no-writes,bad\n").unwrap_err(),
            "Unexpected flag in script shebang: bad"
        );
        assert_eq!(shebang_flags(b"#!lua x=1\n").unwrap_err(), "Unknown lua shebang option: x=1");
    }

    #[test]
    fn store_is_shareable_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Scripts>();
    }

    #[test]
    fn kill_texts() {
        let s = Scripts::default();
        assert_eq!(s.kill(true).unwrap_err().line(), "NOTBUSY No scripts in execution right now.");
    }
}
