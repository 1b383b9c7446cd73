//! DUMP and RESTORE: a key's value in Redis's serialization (see
//! [`crate::rdb`]), so values move between Shoal and Redis nodes (MIGRATE is
//! built on these).

use crate::command::{eq_ic, flags::*, one_key, Command, Group, Keys, Run};
use crate::error::{CmdError, CmdResult, NOT_INTEGER, SYNTAX};
use crate::keyspace::lru_clock;
use crate::num;
use crate::rdb::{self, LoadLimits};
use crate::shard::Ctx;
use crate::table::Entry;
use crate::value::Value;

const GENERIC: Command = Command { group: Group::Generic, keys: Keys::ONE, ..Command::DEFAULT };

/// RESTORE; RESTORE-ASKING is the same command for cluster migrations.
const RESTORE: Command = Command {
    name: "restore",
    arity: -4,
    flags: WRITE | DENYOOM,
    since: "2.6.0",
    complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
    summary: "Creates a key from the serialized representation of a value.",
    key_specs: &[one_key("OW UPDATE")],
    run: Run::Shard(restore),
    ..GENERIC
};

pub static COMMANDS: &[Command] = &[
    Command {
        name: "dump",
        arity: 2,
        flags: READONLY,
        since: "2.6.0",
        complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
        summary: "Returns a serialized representation of the value stored at a key.",
        tips: "nondeterministic_output",
        key_specs: &[one_key("RO ACCESS")],
        run: Run::Shard(dump),
        ..GENERIC
    },
    RESTORE,
    Command {
        name: "restore-asking",
        flags: WRITE | DENYOOM | ASKING,
        since: "3.0.0",
        summary: "An internal command for migrating keys in a cluster.",
        ..RESTORE
    },
    Command {
        name: "migrate",
        arity: -6,
        flags: WRITE | MOVABLE_KEYS,
        since: "2.6.0",
        complexity: "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
        summary: "Atomically transfers a key from one Redis instance to another.",
        tips: "nondeterministic_output",
        keys: Keys { first: 3, last: 3, step: 1 },
        key_finder: Some(migrate_keys),
        run: Run::Server(crate::command::ServerCmd::Migrate),
        ..GENERIC
    },
];

/// MIGRATE's keys: the key argument, or what follows KEYS when it is empty.
fn migrate_keys(argv: &[&[u8]]) -> Vec<usize> {
    if !argv.get(3).is_some_and(|k| k.is_empty()) {
        return vec![3];
    }
    match argv.iter().skip(6).position(|a| eq_ic(a, "keys")) {
        Some(i) => (6 + i + 1..argv.len()).collect(),
        None => Vec::new(),
    }
}

const BUSYKEY: CmdError = CmdError::new("BUSYKEY Target key name already exists.");
const INVALID_TTL: CmdError = CmdError::new("ERR Invalid TTL value, must be >= 0");
const INVALID_IDLETIME: CmdError = CmdError::new("ERR Invalid IDLETIME value, must be >= 0");
const INVALID_FREQ: CmdError = CmdError::new("ERR Invalid FREQ value, must be >= 0 and <= 255");

/// DUMP key: the payload, or null for a missing key. A read of the key.
fn dump(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let (db, out) = ctx.parts();
    match db.read(argv[1], now) {
        Some(v) => out.bulk(&rdb::dump_value(v)),
        None => out.null(),
    }
    Ok(())
}

/// RESTORE's options (Redis's `restoreCommand` order): IDLETIME and FREQ
/// exclude each other (the later one is then a syntax error), and each value
/// is checked as it is read.
#[derive(Default)]
struct RestoreOptions {
    replace: bool,
    absttl: bool,
    idle: Option<i64>,
    freq: Option<i64>,
}

fn restore_options(argv: &[&[u8]]) -> Result<RestoreOptions, CmdError> {
    let mut o = RestoreOptions::default();
    let mut j = 4;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        let a = argv[j];
        if eq_ic(a, "replace") {
            o.replace = true;
        } else if eq_ic(a, "absttl") {
            o.absttl = true;
        } else if eq_ic(a, "idletime") && more && o.freq.is_none() {
            let v = num::parse_i64(argv[j + 1]).ok_or(NOT_INTEGER)?;
            if v < 0 {
                return Err(INVALID_IDLETIME);
            }
            o.idle = Some(v);
            j += 1;
        } else if eq_ic(a, "freq") && more && o.idle.is_none() {
            let v = num::parse_i64(argv[j + 1]).ok_or(NOT_INTEGER)?;
            if !(0..=255).contains(&v) {
                return Err(INVALID_FREQ);
            }
            o.freq = Some(v);
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f].
///
/// Checks in Redis's order: the options, an existing key (unless REPLACE),
/// the TTL, the payload's footer, then the value itself. A TTL of 0 means no
/// expiry; one that is already past (possible with ABSTTL) restores nothing,
/// deletes the key REPLACE would have replaced, and still replies OK. FREQ
/// is accepted and ignored: Shoal has no LFU policy, as Redis ignores it
/// under an LRU one. IDLETIME backdates the key's access clock.
fn restore(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let opts = restore_options(argv)?;
    let (key, now) = (argv[1], ctx.now);
    if !opts.replace && ctx.db().contains(key, now) {
        return Err(BUSYKEY);
    }
    let ttl = num::parse_i64(argv[2]).ok_or(NOT_INTEGER)?;
    if ttl < 0 {
        return Err(INVALID_TTL);
    }
    let limits = LoadLimits::from_config(&ctx.shard.config);
    let value = rdb::restore_value_with(argv[3], &limits).map_err(|e| e.cmd_error())?;
    let deleted = opts.replace && ctx.db().remove(key, now).is_some();
    // Redis adds without an overflow check; a sum that wraps is in the past.
    let when = if ttl != 0 && !opts.absttl { ttl.wrapping_add(now as i64) } else { ttl };
    if when != 0 && when <= now as i64 {
        if deleted {
            ctx.dirty(1);
            ctx.propagate_line(&[b"DEL", key]);
        }
        ctx.out.ok();
        return Ok(());
    }
    let clock = lru_clock(now);
    let lru = match opts.idle {
        Some(idle) => clock.saturating_sub(u32::try_from(idle).unwrap_or(u32::MAX)),
        None => clock,
    };
    let wakes = matches!(value, Value::List(_) | Value::ZSet(_) | Value::Stream(_));
    ctx.db().put(Entry::new(key, value, when as u64, lru));
    if wakes {
        ctx.signal_ready(key);
    }
    ctx.dirty(1);
    ctx.out.ok();
    if ttl != 0 && !opts.absttl && ctx.propagating() {
        // As Redis: the expiry as an instant, so a replica keeps the same one.
        let mut line: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
        line[2] = when.to_string().into_bytes();
        line.push(b"ABSTTL".to_vec());
        ctx.propagate(line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testing::{run, run_at, run_raw, shard};

    const T: u64 = 1_700_000_000_000;

    fn bulk(reply: &[u8]) -> Vec<u8> {
        let nl = reply.iter().position(|&b| b == b'\n').unwrap();
        assert_eq!(reply[0], b'$', "{}", String::from_utf8_lossy(reply));
        let len: usize = std::str::from_utf8(&reply[1..nl - 1]).unwrap().parse().unwrap();
        reply[nl + 1..nl + 1 + len].to_vec()
    }

    fn raw(args: &[&[u8]]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.to_vec()).collect()
    }

    fn dump(s: &mut crate::Shard, key: &str) -> Vec<u8> {
        bulk(&run_raw(s, &raw(&[b"DUMP", key.as_bytes()])))
    }

    fn restore(s: &mut crate::Shard, key: &str, ttl: &str, payload: &[u8], extra: &[&str]) -> String {
        let mut args = raw(&[b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload]);
        args.extend(extra.iter().map(|a| a.as_bytes().to_vec()));
        String::from_utf8_lossy(&run_raw(s, &args)).into_owned()
    }

    #[test]
    fn dump_missing_is_null_and_restore_round_trips() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["DUMP", "nope"]), "$-1\r\n");
        run(&mut s, &["RPUSH", "l", "a", "b", "3"]);
        run(&mut s, &["HSET", "h", "f", "v"]);
        run(&mut s, &["SADD", "s", "1", "2"]);
        run(&mut s, &["ZADD", "z", "1.5", "m"]);
        run(&mut s, &["SET", "str", "hello"]);
        run(&mut s, &["XADD", "x", "1-1", "f", "v"]);
        for key in ["l", "h", "s", "z", "str", "x"] {
            let p = dump(&mut s, key);
            let copy = format!("{key}:copy");
            assert_eq!(restore(&mut s, &copy, "0", &p, &[]), "+OK\r\n");
            assert_eq!(dump(&mut s, &copy), p, "{key}");
            assert_eq!(run(&mut s, &["TYPE", &copy]), run(&mut s, &["TYPE", key]));
        }
        assert_eq!(run(&mut s, &["LRANGE", "l:copy", "0", "-1"]), "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\n3\r\n");
        assert_eq!(run(&mut s, &["ZSCORE", "z:copy", "m"]), "$3\r\n1.5\r\n");
        assert_eq!(run(&mut s, &["OBJECT", "ENCODING", "s:copy"]), "$6\r\nintset\r\n");
    }

    #[test]
    fn restore_errors_in_redis_order() {
        let mut s = shard();
        run(&mut s, &["SET", "k", "v"]);
        let p = dump(&mut s, "k");
        assert_eq!(restore(&mut s, "k", "0", &p, &[]), "-BUSYKEY Target key name already exists.\r\n");
        assert_eq!(restore(&mut s, "k", "0", &p, &["FOO"]), "-ERR syntax error\r\n");
        assert_eq!(restore(&mut s, "n", "-1", &p, &[]), "-ERR Invalid TTL value, must be >= 0\r\n");
        assert_eq!(restore(&mut s, "n", "x", &p, &[]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(
            restore(&mut s, "n", "0", &p, &["IDLETIME", "-1"]),
            "-ERR Invalid IDLETIME value, must be >= 0\r\n"
        );
        assert_eq!(restore(&mut s, "n", "0", &p, &["IDLETIME"]), "-ERR syntax error\r\n");
        assert_eq!(
            restore(&mut s, "n", "0", &p, &["IDLETIME", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            restore(&mut s, "n", "0", &p, &["FREQ", "256"]),
            "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"
        );
        assert_eq!(restore(&mut s, "n", "0", &p, &["FREQ", "1", "IDLETIME", "1"]), "-ERR syntax error\r\n");
        assert_eq!(restore(&mut s, "n", "0", &p, &["IDLETIME", "1", "FREQ", "1"]), "-ERR syntax error\r\n");
        // Options come before the key check, the key check before the TTL.
        assert_eq!(restore(&mut s, "k", "-1", &p, &["FOO"]), "-ERR syntax error\r\n");
        assert_eq!(restore(&mut s, "k", "-1", &p, &[]), "-BUSYKEY Target key name already exists.\r\n");
        let mut bad = p.clone();
        bad[0] ^= 1;
        assert_eq!(
            restore(&mut s, "n", "0", &bad, &[]),
            "-ERR DUMP payload version or checksum are wrong\r\n"
        );
        assert_eq!(
            restore(&mut s, "n", "0", b"short", &[]),
            "-ERR DUMP payload version or checksum are wrong\r\n"
        );
        let mut newer = p.clone();
        let n = newer.len();
        newer[n - 10] = 11;
        assert_eq!(
            restore(&mut s, "n", "0", &newer, &[]),
            "-ERR DUMP payload version or checksum are wrong\r\n"
        );
        // A well sealed payload with a type Shoal does not know.
        let mut odd = vec![8u8, 0];
        odd.extend_from_slice(&10u16.to_le_bytes());
        let crc = crate::rdb::crc64::crc64(0, &odd);
        odd.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(restore(&mut s, "n", "0", &odd, &[]), "-ERR Bad data format\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "n"]), ":0\r\n");
    }

    #[test]
    fn restore_replace_ttl_and_idletime() {
        let mut s = shard();
        run(&mut s, &["SET", "k", "v"]);
        let p = dump(&mut s, "k");
        run(&mut s, &["SET", "k", "other"]);
        assert_eq!(restore(&mut s, "k", "5000", &p, &["REPLACE"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(run(&mut s, &["PTTL", "k"]), ":5000\r\n");
        let at = (T + 10_000).to_string();
        assert_eq!(restore(&mut s, "a", &at, &p, &["ABSTTL", "IDLETIME", "100"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["PEXPIRETIME", "a"]), format!(":{at}\r\n"));
        assert_eq!(run(&mut s, &["OBJECT", "IDLETIME", "a"]), ":100\r\n");
        // An absolute TTL in the past: nothing is created, a replaced key goes.
        let past = (T - 1).to_string();
        assert_eq!(restore(&mut s, "gone", &past, &p, &["ABSTTL"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "gone"]), ":0\r\n");
        assert_eq!(restore(&mut s, "k", &past, &p, &["ABSTTL", "REPLACE"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "k"]), ":0\r\n");
        assert_eq!(restore(&mut s, "f", "0", &p, &["FREQ", "5", "replace"]), "+OK\r\n");
        assert_eq!(run_at(&mut s, T, &["GET", "f"]), "$1\r\nv\r\n");
    }
}
