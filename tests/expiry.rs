//! Key expiry: active expiry on every core (keys nobody reads still go
//! away), the keyspace statistics (`expires`, `avg_ttl`, `expired_keys`),
//! and consistency between TTL, PTTL, EXPIRETIME and PEXPIRETIME.
//!
//! Nothing here depends on timing: short TTLs are followed by polling (with
//! a deadline) for their effect, and long ones by bounds computed from clock
//! readings taken around each request.

mod support;

use redis::Value;
use std::time::{SystemTime, UNIX_EPOCH};
use support::{core_of, info_field, q, text, wait_for, wait_until, RawConn, Server, WAIT};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as i64
}

fn dbsize(c: &mut RawConn) -> i64 {
    let r = support::lossy(&c.cmd(&["DBSIZE"]));
    r.trim_start_matches(':').trim_end().parse().expect("DBSIZE")
}

fn info(c: &mut RawConn, section: &str) -> String {
    text(&redis::parse_redis_value(&c.cmd(&["INFO", section])).expect("INFO reply"))
}

/// Writes `n` SETs with `extra` options as one pipeline and checks every reply.
fn set_many(c: &mut RawConn, prefix: &str, n: usize, extra: &[&str]) {
    let mut bytes = Vec::new();
    for i in 0..n {
        let key = format!("{prefix}:{i}");
        let mut argv = vec!["SET", key.as_str(), "v"];
        argv.extend_from_slice(extra);
        bytes.extend(support::encode_str(&argv));
    }
    c.send(&bytes);
    for i in 0..n {
        assert_eq!(c.read_reply(), b"+OK\r\n", "SET {prefix}:{i}");
    }
}

/// 2000 keys with PX 50 on every core, never read: active expiry alone must
/// remove them all (DBSIZE, which reads no key, reaches 0), and count them.
fn active_expiry_removes_unread_keys(server: &Server, cores: usize) {
    let name = server.kind.name();
    let mut c = server.raw();
    let keys: Vec<String> = (0..2000).map(|i| format!("vol:{i}")).collect();
    for core in 0..cores {
        assert!(keys.iter().any(|k| core_of(k.as_bytes(), cores) == core));
    }
    set_many(&mut c, "vol", 2000, &["PX", "50"]);
    // Keys without a TTL in between, in two databases, must stay.
    set_many(&mut c, "stay", 100, &[]);
    assert_eq!(c.cmd(&["SELECT", "5"]), b"+OK\r\n");
    set_many(&mut c, "vol5", 300, &["PX", "50"]);
    wait_until(&format!("{name}: active expiry to empty db 5"), WAIT, || dbsize(&mut c) == 0);
    assert_eq!(c.cmd(&["SELECT", "0"]), b"+OK\r\n");
    wait_until(&format!("{name}: active expiry to remove the 2000 keys"), WAIT, || dbsize(&mut c) == 100);
    let keyspace = info(&mut c, "keyspace");
    assert!(keyspace.contains("db0:keys=100,expires=0,avg_ttl=0"), "{name}: {keyspace}");
    assert!(!keyspace.contains("db5:"), "{name}: {keyspace}");
    let stats = info(&mut c, "stats");
    assert_eq!(
        info_field(&stats, "expired_keys").as_deref(),
        Some("2300"),
        "{name}: every key removed by expiry is counted"
    );
    // Nothing comes back.
    let mut all: Vec<String> = {
        let v = redis::parse_redis_value(&c.cmd(&["KEYS", "vol*"])).unwrap();
        redis::from_redis_value(v).unwrap()
    };
    all.sort();
    assert!(all.is_empty(), "{name}: {all:?}");
    assert_eq!(c.cmd(&["EXISTS", "vol:0", "vol:1", "vol:1999"]), b":0\r\n");
    assert_eq!(c.cmd(&["EXISTS", "stay:0", "stay:99"]), b":2\r\n");
}

#[test]
fn active_expiry_on_every_core_2_cores() {
    active_expiry_removes_unread_keys(&Server::shoal_threads(2), 2);
}

#[test]
fn active_expiry_on_every_core_4_cores() {
    active_expiry_removes_unread_keys(&Server::shoal_threads(4), 4);
}

#[test]
fn active_expiry_reference_redis() {
    // The same scenario against redis-server, to keep the test itself honest.
    active_expiry_removes_unread_keys(&Server::redis(&[]), 1);
}

#[test]
fn overwriting_or_persisting_cancels_expiry() {
    let server = Server::shoal_threads(2);
    let mut c = server.raw();
    // A far expiry first, so that the changes below cannot race it.
    set_many(&mut c, "short", 200, &["EXAT", "4102444800"]);
    // Overwritten without a TTL or persisted: these must stay.
    assert_eq!(c.cmd(&["SET", "short:0", "kept"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["PERSIST", "short:1"]), b":1\r\n");
    assert_eq!(c.cmd(&["GETEX", "short:2", "PERSIST"]), b"$1\r\nv\r\n");
    assert_eq!(c.cmd(&["GETSET", "short:3", "swapped"]), b"$1\r\nv\r\n");
    // These keep their TTL.
    assert_eq!(c.cmd(&["SET", "short:4", "x", "KEEPTTL"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["RENAME", "short:5", "renamed"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["COPY", "short:6", "copied"]), b":1\r\n");
    assert_eq!(c.cmd(&["APPEND", "short:7", "more"]), b":5\r\n");
    assert_eq!(c.cmd(&["INCR", "short:8"]), b"-ERR value is not an integer or out of range\r\n");
    // Now every key that still has a TTL expires in 1 ms (XX: only those).
    let mut keys: Vec<String> = (0..200).map(|i| format!("short:{i}")).collect();
    keys.extend(["renamed".to_string(), "copied".to_string()]);
    let mut bytes = Vec::new();
    for k in &keys {
        bytes.extend(support::encode_str(&["PEXPIRE", k, "1", "XX"]));
    }
    c.send(&bytes);
    let replies: Vec<Vec<u8>> = keys.iter().map(|_| c.read_reply()).collect();
    let changed = replies.iter().filter(|r| r.as_slice() == b":1\r\n").count();
    assert_eq!(changed, 200 - 4 - 1 + 2, "keys that still had a TTL");
    assert_eq!(c.cmd(&["SET", "long", "v", "EX", "100000"]), b"+OK\r\n");
    wait_until("the keys with a TTL to expire", WAIT, || dbsize(&mut c) == 5);
    assert_eq!(
        c.cmd(&["MGET", "short:0", "short:1", "short:2", "short:3", "long"]),
        b"*5\r\n$4\r\nkept\r\n$1\r\nv\r\n$1\r\nv\r\n$7\r\nswapped\r\n$1\r\nv\r\n"
    );
    let keyspace = info(&mut c, "keyspace");
    assert!(keyspace.contains("db0:keys=5,expires=1,"), "{keyspace}");
}

fn keyspace_line(c: &mut RawConn, db: usize) -> Option<String> {
    info_field(&info(c, "keyspace"), &format!("db{db}"))
}

fn keyspace_value(line: &str, name: &str) -> i64 {
    line.split(',')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} in {line}"))
        .parse()
        .unwrap()
}

#[test]
fn info_keyspace_expires_and_avg_ttl() {
    let (shoal, redis) = (Server::shoal_threads(2), Server::redis(&[]));
    for server in [&shoal, &redis] {
        let name = server.kind.name();
        let mut c = server.raw();
        assert_eq!(keyspace_line(&mut c, 0), None, "{name}: empty db is not listed");
        set_many(&mut c, "ttl", 100, &["EX", "1000"]);
        set_many(&mut c, "plain", 50, &[]);
        let line = keyspace_line(&mut c, 0).expect("db0 listed");
        assert_eq!(keyspace_value(&line, "keys"), 150, "{name}: {line}");
        assert_eq!(keyspace_value(&line, "expires"), 100, "{name}: {line}");
        // avg_ttl: Shoal reports it at once; Redis estimates it in its expiry
        // cycle, so wait for a first estimate.
        let line = wait_for(&format!("{name}: an avg_ttl estimate"), WAIT, || {
            let line = keyspace_line(&mut c, 0)?;
            (keyspace_value(&line, "avg_ttl") > 0).then_some(line)
        });
        let avg = keyspace_value(&line, "avg_ttl");
        assert!((900_000..=1_000_000).contains(&avg), "{name}: avg_ttl {avg} ms for keys set with EX 1000");
        // PERSIST, DEL and an overwrite change `expires`; keys without TTL do not.
        assert_eq!(c.cmd(&["PERSIST", "ttl:0"]), b":1\r\n");
        assert_eq!(c.cmd(&["DEL", "ttl:1", "ttl:2", "plain:0"]), b":3\r\n");
        assert_eq!(c.cmd(&["SET", "ttl:3", "no-ttl-now"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["EXPIRE", "plain:1", "500"]), b":1\r\n");
        let line = keyspace_line(&mut c, 0).unwrap();
        assert_eq!(keyspace_value(&line, "keys"), 147, "{name}: {line}");
        assert_eq!(keyspace_value(&line, "expires"), 97, "{name}: {line}");
        // Another database is listed separately.
        assert_eq!(c.cmd(&["SELECT", "9"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["SET", "a", "b", "EX", "100"]), b"+OK\r\n");
        let line = keyspace_line(&mut c, 9).expect("db9 listed");
        assert_eq!(keyspace_value(&line, "keys"), 1, "{name}: {line}");
        assert_eq!(keyspace_value(&line, "expires"), 1, "{name}: {line}");
        assert_eq!(c.cmd(&["FLUSHALL"]), b"+OK\r\n");
        assert_eq!(keyspace_line(&mut c, 0), None, "{name}");
        assert_eq!(keyspace_line(&mut c, 9), None, "{name}");
    }
}

fn int_reply(c: &mut RawConn, args: &[&str]) -> i64 {
    let r = support::lossy(&c.cmd(args));
    r.strip_prefix(':').unwrap_or_else(|| panic!("{args:?}: {r:?}")).trim_end().parse().unwrap()
}

#[test]
fn ttl_pttl_and_expiretime_agree() {
    let server = Server::shoal_threads(2);
    let mut c = server.raw();
    let base = now_ms() + 3_600_000;
    for i in 0..60i64 {
        let key = format!("key:{i}");
        let at_ms = base + i * 1_234_567 + i * 7;
        match i % 4 {
            0 => assert_eq!(c.cmd(&["SET", &key, "v", "PXAT", &at_ms.to_string()]), b"+OK\r\n"),
            1 => {
                assert_eq!(c.cmd(&["SET", &key, "v"]), b"+OK\r\n");
                assert_eq!(c.cmd(&["PEXPIREAT", &key, &at_ms.to_string()]), b":1\r\n");
            }
            2 => {
                assert_eq!(c.cmd(&["SET", &key, "v"]), b"+OK\r\n");
                let r = c.cmd(&["GETEX", &key, "PXAT", &at_ms.to_string()]);
                assert_eq!(r, b"$1\r\nv\r\n");
            }
            _ => {
                assert_eq!(c.cmd(&["PSETEX", &key, "1", "v"]), b"+OK\r\n");
                assert_eq!(c.cmd(&["SET", &key, "v"]), b"+OK\r\n");
                assert_eq!(c.cmd(&["PEXPIREAT", &key, &at_ms.to_string()]), b":1\r\n");
            }
        }
        let pexpiretime = int_reply(&mut c, &["PEXPIRETIME", &key]);
        assert_eq!(pexpiretime, at_ms, "{key}: PEXPIRETIME");
        let expiretime = int_reply(&mut c, &["EXPIRETIME", &key]);
        // Like TTL, EXPIRETIME rounds to the nearest second.
        assert_eq!(expiretime, (at_ms + 500) / 1000, "{key}: EXPIRETIME");
        let before = now_ms();
        let pttl = int_reply(&mut c, &["PTTL", &key]);
        let after = now_ms();
        assert!(
            at_ms - after - 1 <= pttl && pttl <= at_ms - before + 1,
            "{key}: PTTL {pttl} not within [{}, {}]",
            at_ms - after,
            at_ms - before
        );
        let before = now_ms();
        let ttl = int_reply(&mut c, &["TTL", &key]);
        let after = now_ms();
        // TTL rounds the remaining milliseconds to the nearest second.
        let lo = (at_ms - after - 1 + 500) / 1000;
        let hi = (at_ms - before + 1 + 500) / 1000;
        assert!(lo <= ttl && ttl <= hi, "{key}: TTL {ttl} not within [{lo}, {hi}]");
    }
    // Relative forms: EXPIRE / PEXPIRE / SETEX give PEXPIRETIME = now + ttl.
    for (i, args) in [
        vec!["EXPIRE", "key:0", "5000"],
        vec!["PEXPIRE", "key:1", "5000000"],
        vec!["SETEX", "key:2", "5000", "v"],
        vec!["PSETEX", "key:3", "5000000", "v"],
        vec!["GETEX", "key:4", "EX", "5000"],
        vec!["SET", "key:5", "v", "PX", "5000000"],
    ]
    .into_iter()
    .enumerate()
    {
        let before = now_ms();
        c.cmd(&args);
        let after = now_ms();
        let key = format!("key:{i}");
        let at = int_reply(&mut c, &["PEXPIRETIME", &key]);
        assert!(
            before + 5_000_000 - 1 <= at && at <= after + 5_000_000 + 1,
            "{args:?}: PEXPIRETIME {at} not within [{}, {}]",
            before + 5_000_000,
            after + 5_000_000
        );
    }
    // No TTL and no key.
    assert_eq!(c.cmd(&["SET", "plain", "v"]), b"+OK\r\n");
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(c.cmd(&[cmd, "plain"]), b":-1\r\n", "{cmd} without TTL");
        assert_eq!(c.cmd(&[cmd, "nosuch"]), b":-2\r\n", "{cmd} of a missing key");
    }
}

#[test]
fn expired_keys_are_invisible_before_active_expiry_removes_them() {
    // With hz 1 the active cycle is rare; reads must still never see an expired key.
    let server = Server::shoal(&["--threads", "2", "--hz", "1"]);
    let mut c = server.conn();
    let mut set = redis::pipe();
    for k in support::keys(40) {
        set.cmd("SET").arg(&k).arg("v").arg("PX").arg(1).ignore();
    }
    let () = set.query(&mut c).unwrap();
    // Wait until every key has expired, as seen by PTTL (which reads the key).
    wait_until("all 40 keys to be expired", WAIT, || {
        support::keys(40).iter().all(|k| q(&mut c, &["PTTL", k]) == Value::Int(-2))
    });
    let keys = support::keys(40);
    let mut mget = vec!["MGET"];
    mget.extend(keys.iter().map(String::as_str));
    assert_eq!(q(&mut c, &mget), Value::Array(vec![Value::Nil; 40]));
    let mut exists = vec!["EXISTS"];
    exists.extend(keys.iter().map(String::as_str));
    assert_eq!(q(&mut c, &exists), Value::Int(0));
    assert_eq!(q(&mut c, &["KEYS", "*"]), Value::Array(vec![]));
    assert_eq!(q(&mut c, &["RANDOMKEY"]), Value::Nil);
    assert_eq!(q(&mut c, &["RENAME", "key:1", "x"]), q(&mut c, &["RENAME", "nosuch", "x"]));
    wait_until("DBSIZE to reach 0", WAIT, || q(&mut c, &["DBSIZE"]) == Value::Int(0));
}
