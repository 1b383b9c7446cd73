//! Differential scripts: the same command scripts run against Shoal
//! (`--threads 2`, so keys live on both cores) and a real redis-server, and
//! every reply is compared.
//!
//! Each script runs twice on fresh data: once command by command through the
//! `redis` crate, comparing `redis::Value`s, and once written as pipelines
//! on a raw TCP connection, comparing the exact reply bytes (which also tells
//! `$-1` from `*-1` and exercises Shoal's pipeline batching across cores).
//!
//! A script is plain text, one command per line, split like redis-cli splits
//! its input: words separated by spaces, `"double quotes"` with `\"`, `\\`,
//! `\r`, `\n`, `\t` and `\xHH` escapes (`""` is an empty argument). Lines
//! starting with `#` are comments. A line may start with a directive that
//! changes how the reply is compared, for the few replies that legitimately
//! differ between two servers:
//!
//! - `!shape CMD...`  only the reply's shape (types, lengths) must match: TIME, ids, idle times.
//! - `!sorted CMD...` the top-level array is compared as a sorted list: KEYS.
//! - `!between LO HI CMD...` both replies are integers in `[LO, HI]`: TTL after a relative EX.
//! - `!fields CMD...` a CLIENT INFO/LIST text: the field names must match, and the values
//!   of the fields that do not depend on the process (name, db, flags, cmd, resp...).
//! - `!info SECTION [FIELD...]` `INFO SECTION`, with only the given fields (all when none
//!   are given), sorted, and the timings (`usec`, `usec_per_call`) in commandstats masked.
//! - `!scan ARGS...`  a full SCAN iteration (`SCAN <cursor> ARGS...` until the cursor is 0);
//!   the sets of keys returned are compared, cursors are not.
//! - `!gone KEY`      polls (with a deadline) until KEY no longer exists, on both servers.
//! - `!cross K1 K2`   asserts (in the test itself) that Shoal keeps K1 and K2 on different cores.
//!
//! HELLO replies are compared with the client `id` field masked.
//!
//! Each test runs its group of scripts one after the other against one pair
//! of fresh servers, with FLUSHALL and new connections before each script
//! and each mode, and reports every mismatch of the group at once.
//!
//! To add a case, add a line to a script (or a script to a group); to add a
//! group, add a `const` and a line to the `groups!` list at the bottom.

use super::{core_of, lossy, wait_until, RawConn, Server, WAIT};
use redis::Value;

/// Splits a script line into arguments (see the module documentation).
pub fn split_line(line: &str) -> Vec<Vec<u8>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let mut cur = Vec::new();
        if b[i] == b'"' {
            i += 1;
            loop {
                assert!(i < b.len(), "unbalanced quotes in script line: {line}");
                match b[i] {
                    b'"' => {
                        i += 1;
                        break;
                    }
                    b'\\' => {
                        i += 1;
                        match b[i] {
                            b'n' => cur.push(b'\n'),
                            b'r' => cur.push(b'\r'),
                            b't' => cur.push(b'\t'),
                            b'x' => {
                                let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("hex");
                                cur.push(u8::from_str_radix(hex, 16).expect("\\xHH escape"));
                                i += 2;
                            }
                            c => cur.push(c),
                        }
                        i += 1;
                    }
                    c => {
                        cur.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < b.len() && !b[i].is_ascii_whitespace() {
                cur.push(b[i]);
                i += 1;
            }
        }
        out.push(cur);
    }
    out
}

/// The shape of a reply: its types and lengths, not its contents.
/// Drops the documentation prose from a COMMAND INFO/DOCS reply: the
/// `summary`, `notes`, `arguments` and `history` entries of any map (or flat
/// key/value array in RESP2).
fn without_prose(v: Value) -> Value {
    const PROSE: &[&[u8]] = &[b"summary", b"notes", b"arguments", b"history"];
    let is_prose = |k: &Value| matches!(k, Value::BulkString(b) if PROSE.contains(&b.as_slice()));
    match v {
        Value::Map(kv) => Value::Map(
            kv.into_iter().filter(|(k, _)| !is_prose(k)).map(|(k, v)| (k, without_prose(v))).collect(),
        ),
        Value::Array(items) => {
            let flat_map = items.len() % 2 == 0
                && items.iter().step_by(2).any(is_prose)
                && items.iter().step_by(2).all(|k| matches!(k, Value::BulkString(_)));
            if flat_map {
                let mut out = Vec::new();
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    if !is_prose(&k) {
                        out.push(k);
                        out.push(without_prose(v));
                    }
                }
                Value::Array(out)
            } else {
                Value::Array(items.into_iter().map(without_prose).collect())
            }
        }
        Value::Set(items) => Value::Set(items.into_iter().map(without_prose).collect()),
        other => other,
    }
}

/// The header line and the closing HELP lines of a HELP reply.
fn help_frame(v: &Value) -> String {
    match v {
        Value::Array(lines) if lines.len() >= 3 => {
            let all_status = lines.iter().all(|l| matches!(l, Value::SimpleString(_)));
            format!(
                "help: status lines={all_status} first={:?} last={:?}",
                lines[0],
                &lines[lines.len() - 2..]
            )
        }
        other => format!("{other:?}"),
    }
}

fn shape(v: &Value) -> String {
    let list = |items: &[Value]| items.iter().map(shape).collect::<Vec<_>>().join(",");
    match v {
        Value::Array(items) => format!("array[{}]", list(items)),
        Value::Set(items) => format!("set[{}]", list(items)),
        Value::Map(kv) => format!(
            "map[{}]",
            kv.iter().map(|(k, v)| format!("{k:?}=>{}", shape(v))).collect::<Vec<_>>().join(",")
        ),
        Value::Nil => "nil".into(),
        Value::Int(_) => "int".into(),
        Value::BulkString(_) => "bulk".into(),
        Value::SimpleString(_) => "simple".into(),
        Value::Okay => "ok".into(),
        Value::Double(_) => "double".into(),
        Value::Boolean(_) => "bool".into(),
        Value::VerbatimString { format, .. } => format!("verbatim({format:?})"),
        Value::ServerError(e) => format!("error({e:?})"),
        other => format!("{other:?}"),
    }
}

/// Masks the client id in a HELLO reply (RESP2 flat array or RESP3 map).
fn mask_hello_id(v: Value) -> Value {
    let id = Value::BulkString(b"id".to_vec());
    match v {
        Value::Map(kv) => Value::Map(
            kv.into_iter()
                .map(|(k, v)| {
                    let masked = k == id;
                    (k, if masked { Value::Int(0) } else { v })
                })
                .collect(),
        ),
        Value::Array(mut items) => {
            for i in (0..items.len().saturating_sub(1)).step_by(2) {
                if items[i] == id {
                    items[i + 1] = Value::Int(0);
                }
            }
            Value::Array(items)
        }
        other => other,
    }
}

fn sorted(v: Value) -> Value {
    match v {
        Value::Array(mut items) => {
            items.sort_by_key(|i| format!("{i:?}"));
            Value::Array(items)
        }
        Value::Set(mut items) => {
            items.sort_by_key(|i| format!("{i:?}"));
            Value::Set(items)
        }
        other => other,
    }
}

/// How a line's reply is compared.
enum Check {
    Exact,
    /// COMMAND INFO/DOCS: everything but the prose (summaries, key spec
    /// notes, argument docs), which Shoal words itself.
    NoProse,
    /// A HELP reply: status lines with Redis's header and footer; the lines
    /// between are Shoal's own wording.
    Help,
    Shape,
    Sorted,
    Between(i64, i64),
    Fields,
    Info(Vec<String>),
}

/// An INFO text with only `fields` (all if empty) and timings masked.
fn info_fields(v: &Value, fields: &[String]) -> String {
    let text = match v {
        Value::BulkString(b) => lossy(b),
        Value::VerbatimString { text, .. } => text.clone(),
        other => return format!("{other:?}"),
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            if !fields.is_empty() && !fields.iter().any(|f| f == k) {
                return None;
            }
            let v: Vec<String> = v
                .split(',')
                .map(|kv| match kv.split_once('=') {
                    Some((name, _)) if name == "usec" || name == "usec_per_call" => {
                        format!("{name}=*")
                    }
                    _ => kv.to_string(),
                })
                .collect();
            Some(format!("{k}:{}", v.join(",")))
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(" | ")
}

/// CLIENT LIST fields whose values do not depend on addresses, ids, timing or memory.
const STABLE_FIELDS: &[&str] = &[
    "name", "db", "sub", "psub", "ssub", "multi", "flags", "oll", "omem", "events", "cmd", "user", "redir",
    "resp",
];

/// The field names (and stable values) of a CLIENT INFO/LIST text, line by line.
fn client_fields(v: &Value) -> String {
    let text = match v {
        Value::BulkString(b) => lossy(b),
        Value::VerbatimString { text, .. } => text.clone(),
        other => return format!("{other:?}"),
    };
    text.lines()
        .map(|line| {
            line.split(' ')
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) if STABLE_FIELDS.contains(&k) => format!("{k}={v}"),
                    Some((k, _)) => k.to_string(),
                    None => format!("?{kv}"),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line of a script.
enum Step {
    /// A command, and how its reply is compared.
    Cmd(Check, Vec<Vec<u8>>),
    /// A full SCAN iteration with these arguments after the cursor.
    Scan(Vec<Vec<u8>>),
    /// Wait until the key is gone.
    Gone(Vec<u8>),
    /// Keys that must be on different cores; checked once, compares nothing.
    Cross(Vec<u8>, Vec<u8>),
}

fn parse_step(line: &str) -> Step {
    let mut words = split_line(line);
    let num = |w: &[u8]| -> i64 { lossy(w).parse().expect("a number in !between") };
    match words.first().map(|w| w.as_slice()) {
        Some(b"!shape") => Step::Cmd(Check::Shape, words.split_off(1)),
        Some(b"!noprose") => Step::Cmd(Check::NoProse, words.split_off(1)),
        Some(b"!help") => Step::Cmd(Check::Help, words.split_off(1)),
        Some(b"!sorted") => Step::Cmd(Check::Sorted, words.split_off(1)),
        Some(b"!fields") => Step::Cmd(Check::Fields, words.split_off(1)),
        Some(b"!info") => {
            let fields = words.split_off(2).iter().map(|f| lossy(f)).collect();
            Step::Cmd(Check::Info(fields), vec![b"INFO".to_vec(), words[1].clone()])
        }
        Some(b"!between") => {
            let rest = words.split_off(3);
            Step::Cmd(Check::Between(num(&words[1]), num(&words[2])), rest)
        }
        Some(b"!scan") => Step::Scan(words.split_off(1)),
        Some(b"!gone") => Step::Gone(words.swap_remove(1)),
        Some(b"!cross") => Step::Cross(words[1].clone(), words[2].clone()),
        Some(d) if d.starts_with(b"!") => panic!("unknown directive in line: {line}"),
        _ => Step::Cmd(Check::Exact, words),
    }
}

/// Renders a parsed reply for comparison under `check`.
fn render(check: &Check, argv: &[Vec<u8>], v: Value) -> String {
    let v = if argv[0].eq_ignore_ascii_case(b"hello") { mask_hello_id(v) } else { v };
    match check {
        Check::Exact => format!("{v:?}"),
        Check::NoProse => format!("{:?}", without_prose(v)),
        Check::Help => help_frame(&v),
        Check::Shape => shape(&v),
        Check::Sorted => format!("{:?}", sorted(v)),
        Check::Fields => client_fields(&v),
        Check::Info(fields) => info_fields(&v, fields),
        Check::Between(lo, hi) => match v {
            Value::Int(n) if (lo..=hi).contains(&&n) => format!("int in [{lo}, {hi}]"),
            other => format!("{other:?} (expected an integer in [{lo}, {hi}])"),
        },
    }
}

/// Iterates SCAN to the end with `query`; renders the sorted, deduplicated
/// keys, or the first reply that is not a well-formed SCAN reply.
fn scan_all(args: &[Vec<u8>], mut query: impl FnMut(&[&[u8]]) -> Value) -> String {
    let mut cursor = b"0".to_vec();
    let mut keys = Vec::new();
    for _ in 0..100_000 {
        let mut argv: Vec<&[u8]> = vec![b"SCAN", &cursor];
        argv.extend(args.iter().map(|a| a.as_slice()));
        let reply = query(&argv);
        let next = match &reply {
            Value::Array(parts) => match parts.as_slice() {
                [Value::BulkString(c), Value::Array(batch)]
                    if batch.iter().all(|k| matches!(k, Value::BulkString(_))) =>
                {
                    for k in batch {
                        if let Value::BulkString(k) = k {
                            keys.push(lossy(k));
                        }
                    }
                    Some(c.clone())
                }
                _ => None,
            },
            _ => None,
        };
        let Some(next) = next else {
            return format!("{reply:?}");
        };
        cursor = next;
        if cursor == b"0" {
            keys.sort();
            keys.dedup();
            return format!("scan keys {keys:?}");
        }
    }
    panic!("SCAN did not finish in 100000 calls");
}

fn wait_gone(key: &[u8], mut query: impl FnMut(&[&[u8]]) -> Value) -> String {
    wait_until(&format!("{} to expire", lossy(key)), WAIT, || query(&[b"EXISTS", key]) == Value::Int(0));
    "gone".into()
}

/// One server's side of a script run through the `redis` crate.
struct Side<'a> {
    server: &'a Server,
    con: redis::Connection,
}

impl Side<'_> {
    /// Runs a command. When the server closes the connection (QUIT, a
    /// protocol error), the reply is recorded as such and the script goes on
    /// with a new connection.
    fn exec(&mut self, argv: &[&[u8]]) -> Result<Value, String> {
        use redis::ConnectionLike;
        let mut cmd = redis::cmd(&lossy(argv[0]));
        for a in &argv[1..] {
            cmd.arg(*a);
        }
        match self.con.req_command(&cmd) {
            Ok(v) => Ok(v),
            Err(e) if e.is_io_error() || e.is_connection_dropped() => {
                self.con = self.server.conn_as(None);
                Err(format!("connection closed ({:?})", e.kind()))
            }
            Err(e) => panic!("{}: {e}", super::show_args(argv)),
        }
    }

    fn query(&mut self, argv: &[&[u8]]) -> Value {
        self.exec(argv).unwrap_or_else(|e| panic!("{}: {e}", super::show_args(argv)))
    }

    fn run(&mut self, step: &Step) -> String {
        match step {
            Step::Cmd(check, argv) => {
                let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
                match self.exec(&args) {
                    Ok(v) => render(check, argv, v),
                    Err(e) => e,
                }
            }
            Step::Scan(args) => scan_all(args, |a| self.query(a)),
            Step::Gone(key) => wait_gone(key, |a| self.query(a)),
            Step::Cross(..) => "cross".into(),
        }
    }
}

/// One server's side of a script run as pipelines over raw TCP.
struct RawSide<'a> {
    server: &'a Server,
    con: RawConn,
}

impl RawSide<'_> {
    fn query(&mut self, argv: &[&[u8]]) -> Value {
        self.con.send_cmd(argv);
        let raw = self.con.read_reply();
        redis::parse_redis_value(&raw).expect("a parsable reply")
    }

    /// Sends every command of `steps` in one write, then reads the replies.
    /// Exact checks compare the reply bytes; the others the parsed value.
    fn run_pipeline(&mut self, steps: &[&Step]) -> Vec<String> {
        let mut bytes = Vec::new();
        for step in steps {
            let Step::Cmd(_, argv) = step else { unreachable!("only commands are pipelined") };
            let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
            bytes.extend(super::encode(&args));
        }
        self.con.send(&bytes);
        let mut out = Vec::new();
        let mut closed = false;
        for step in steps {
            let Step::Cmd(check, argv) = step else { unreachable!() };
            let reply = if closed { None } else { self.con.try_read_reply() };
            match reply {
                None => {
                    closed = true;
                    out.push("connection closed".into());
                }
                Some(raw) => match check {
                    Check::Exact if !argv[0].eq_ignore_ascii_case(b"hello") => {
                        out.push(format!("raw {:?}", lossy(&raw)))
                    }
                    _ => out.push(render(
                        check,
                        argv,
                        redis::parse_redis_value(&raw).expect("a parsable reply"),
                    )),
                },
            }
        }
        if closed {
            self.con = self.server.raw();
        }
        out
    }

    /// Runs a whole script: runs of commands go out as one pipeline each.
    fn run_script(&mut self, steps: &[Step]) -> Vec<String> {
        let mut out = Vec::new();
        let mut batch: Vec<&Step> = Vec::new();
        for step in steps {
            match step {
                Step::Cmd(..) => batch.push(step),
                other => {
                    out.extend(self.run_pipeline(&batch));
                    batch.clear();
                    out.push(match other {
                        Step::Scan(args) => scan_all(args, |a| self.query(a)),
                        Step::Gone(key) => wait_gone(key, |a| self.query(a)),
                        _ => "cross".into(),
                    });
                }
            }
        }
        out.extend(self.run_pipeline(&batch));
        out
    }
}

struct Mismatch {
    script: &'static str,
    mode: &'static str,
    line_no: usize,
    line: String,
    shoal: String,
    redis: String,
}

fn flushall(s: &Server) {
    let mut admin = s.conn();
    assert_eq!(super::q(&mut admin, &["FLUSHALL"]), Value::Okay, "FLUSHALL on {}", s.kind.name());
}

/// Runs every script of a group on both servers, in both modes; panics
/// listing every mismatch.
pub fn run_group(cores: usize, scripts: &[(&'static str, &'static str)]) {
    run_group_with(cores, &[], scripts)
}

/// `run_group` with extra startup arguments for both servers. The scripts'
/// connections do not authenticate, even when `--requirepass` is given.
pub fn run_group_with(cores: usize, args: &[&str], scripts: &[(&'static str, &'static str)]) {
    let threads = cores.to_string();
    let mut shoal_args = vec!["--threads", threads.as_str()];
    shoal_args.extend_from_slice(args);
    let shoal = Server::shoal(&shoal_args);
    let redis = Server::redis(args);
    let mut mismatches = Vec::new();
    let mut lines_run = 0;
    for (name, body) in scripts {
        let lines: Vec<(usize, &str)> = body
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let steps: Vec<Step> = lines.iter().map(|(_, l)| parse_step(l)).collect();
        for step in &steps {
            if let Step::Cross(a, b) = step {
                assert_ne!(
                    core_of(a, cores),
                    core_of(b, cores),
                    "script {name}: {} and {} are meant to be on different cores",
                    lossy(a),
                    lossy(b)
                );
            }
        }
        lines_run += 2 * lines.len();

        // Command by command, through the redis crate.
        flushall(&shoal);
        flushall(&redis);
        let mut cs = Side { server: &shoal, con: shoal.conn_as(None) };
        let mut cr = Side { server: &redis, con: redis.conn_as(None) };
        for ((line_no, line), step) in lines.iter().zip(&steps) {
            let (got_shoal, got_redis) = (cs.run(step), cr.run(step));
            if got_shoal != got_redis {
                mismatches.push(Mismatch {
                    script: name,
                    mode: "one by one",
                    line_no: *line_no,
                    line: line.to_string(),
                    shoal: got_shoal,
                    redis: got_redis,
                });
            }
        }
        drop((cs, cr));

        // Pipelined, raw bytes.
        flushall(&shoal);
        flushall(&redis);
        let mut rs = RawSide { server: &shoal, con: shoal.raw() };
        let mut rr = RawSide { server: &redis, con: redis.raw() };
        let (out_shoal, out_redis) = (rs.run_script(&steps), rr.run_script(&steps));
        for (((line_no, line), got_shoal), got_redis) in lines.iter().zip(out_shoal).zip(out_redis) {
            if got_shoal != got_redis {
                mismatches.push(Mismatch {
                    script: name,
                    mode: "pipelined",
                    line_no: *line_no,
                    line: line.to_string(),
                    shoal: got_shoal,
                    redis: got_redis,
                });
            }
        }
    }
    // Both servers must still be up after the group.
    for s in [&shoal, &redis] {
        let mut c = s.conn();
        assert_eq!(
            super::q(&mut c, &["PING"]),
            Value::SimpleString("PONG".into()),
            "{} still answers",
            s.kind.name()
        );
    }
    if !mismatches.is_empty() {
        let mut report = format!(
            "{} of {lines_run} replies differ between Shoal ({cores} cores) and redis-server:\n",
            mismatches.len()
        );
        for m in &mismatches {
            report += &format!(
                "\n[{} line {}, {}] {}\n    shoal: {}\n    redis: {}\n",
                m.script, m.line_no, m.mode, m.line, m.shoal, m.redis
            );
        }
        panic!("{report}");
    }
}

// ---------------------------------------------------------------------------
// Scripts. Keys `key:N` hash to different cores (key:1, key:3, key:5... on
// core 1 and key:2, key:4, key:6... on core 0 for N < 10), so a command over
// several of them crosses cores.
// ---------------------------------------------------------------------------
