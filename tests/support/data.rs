//! Data sets for tests that move a whole data set between servers
//! (replication, RDB files): one filled with every type and encoding, and a
//! key-by-key reading of a server's data to compare two servers with.

use super::{q, wait_until, WAIT};
use redis::Value;
use std::collections::BTreeMap;

/// Any reply as one line of text (errors included), for comparisons.
pub fn show(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Int(i) => i.to_string(),
        Value::Nil => "(nil)".into(),
        Value::Array(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::ServerError(e) => format!("ERR:{} {}", e.code(), e.details().unwrap_or("")),
        other => format!("{other:?}"),
    }
}

pub fn lines(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().map(show).collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

/// Every key of the first `dbs` databases with its type, its value read
/// back in a form that does not depend on encoding, and whether it has a
/// time to live.
pub fn snapshot(con: &mut redis::Connection, dbs: usize) -> BTreeMap<(usize, String), String> {
    let mut all = BTreeMap::new();
    for db in 0..dbs {
        q(con, &["SELECT", &db.to_string()]);
        let keys = lines(&q(con, &["KEYS", "*"]));
        // Pipelined: the types, then each key's value and time to live.
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.cmd("TYPE").arg(key);
        }
        let kinds: Vec<Value> = if keys.is_empty() { Vec::new() } else { pipe.query(con).expect("TYPE") };
        let mut pipe = redis::pipe();
        for (key, kind) in keys.iter().zip(&kinds) {
            match show(kind).as_str() {
                "string" => pipe.cmd("GET").arg(key),
                "list" => pipe.cmd("LRANGE").arg(key).arg(0).arg(-1),
                "hash" => pipe.cmd("HGETALL").arg(key),
                "set" => pipe.cmd("SMEMBERS").arg(key),
                "zset" => pipe.cmd("ZRANGE").arg(key).arg(0).arg(-1).arg("WITHSCORES"),
                "stream" => pipe.cmd("XRANGE").arg(key).arg("-").arg("+"),
                other => panic!("unexpected type {other} of {key}"),
            };
            if show(kind) == "stream" {
                pipe.cmd("XINFO").arg("GROUPS").arg(key);
            } else {
                pipe.cmd("TYPE").arg(key);
            }
            pipe.cmd("PTTL").arg(key);
        }
        let replies: Vec<Value> = if keys.is_empty() { Vec::new() } else { pipe.query(con).expect("values") };
        for ((key, kind), r) in keys.into_iter().zip(&kinds).zip(replies.chunks(3)) {
            let kind = show(kind);
            let mut value = match &r[0] {
                Value::Array(_) => lines(&r[0]),
                one => vec![show(one)],
            };
            match kind.as_str() {
                "hash" => value = value.chunks(2).map(|p| p.join("=")).collect(),
                "stream" => value.push(show(&r[1])),
                _ => {}
            }
            if matches!(kind.as_str(), "hash" | "set") {
                value.sort();
            }
            let ttl = matches!(r[2], Value::Int(t) if t > 0);
            all.insert((db, key), format!("{kind} ttl={ttl} {value:?}"));
        }
    }
    q(con, &["SELECT", "0"]);
    all
}

/// A master's data set with every type in its compact and large encodings,
/// expiries, and a second database.
pub fn fill(con: &mut redis::Connection, prefix: &str) {
    let p = prefix;
    let mut pipe = redis::pipe();
    for i in 1..=2000 {
        pipe.cmd("RPUSH").arg(format!("{p}biglist")).arg(format!("element-{i}")).arg(i).ignore();
        pipe.cmd("HSET").arg(format!("{p}bighash")).arg(format!("f{i}")).arg(format!("v{i}")).ignore();
        pipe.cmd("SADD").arg(format!("{p}bigset")).arg(format!("m{i}")).ignore();
        pipe.cmd("SADD").arg(format!("{p}intset")).arg(i).ignore();
        pipe.cmd("ZADD").arg(format!("{p}bigzset")).arg(i as f64 / 7.0).arg(format!("z{i}")).ignore();
        pipe.cmd("SET").arg(format!("{p}k{i}")).arg(i).ignore();
        if i <= 300 {
            pipe.cmd("XADD").arg(format!("{p}stream")).arg("*").arg("n").arg(i).ignore();
        }
    }
    pipe.query::<()>(con).expect("fill");
    let stream = format!("{p}stream");
    q(con, &["XGROUP", "CREATE", &stream, "g", "0"]);
    q(con, &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "10", "STREAMS", &stream, ">"]);
    q(con, &["RPUSH", &format!("{p}list"), "a", "b", "1"]);
    q(con, &["HSET", &format!("{p}hash"), "f", "v", "n", "7"]);
    q(con, &["ZADD", &format!("{p}zset"), "1.5", "a", "2", "b"]);
    q(con, &["SET", &format!("{p}ttl"), "v", "PXAT", "4102444800000"]);
    q(con, &["SELECT", "2"]);
    q(con, &["SET", &format!("{p}other-db"), "x", "EX", "100000"]);
    q(con, &["SELECT", "0"]);
}

/// Writes of every kind the stream carries: plain, multi-key across cores,
/// MULTI/EXEC, scripts, expiries, deletions, another database.
pub fn write_more(con: &mut redis::Connection) {
    q(con, &["MSET", "m1", "1", "m2", "2", "m3", "3", "m4", "4"]);
    q(con, &["INCRBY", "k7", "100"]);
    q(con, &["DEL", "k8", "k9", "list"]);
    q(con, &["MULTI"]);
    q(con, &["LPUSH", "txlist", "x", "y"]);
    q(con, &["HINCRBY", "hash", "n", "5"]);
    q(con, &["EXEC"]);
    q(
        con,
        &[
            "EVAL",
            "redis.call('SET', KEYS[1], 'from-script') return redis.call('ZINCRBY', KEYS[2], 3, 'a')",
            "2",
            "s1",
            "zset",
        ],
    );
    q(con, &["EXPIRE", "k10", "100000"]);
    q(con, &["XADD", "stream", "*", "late", "1"]);
    q(con, &["XACK", "stream", "g", "0-1"]);
    q(con, &["SELECT", "2"]);
    q(con, &["SET", "db2-late", "y"]);
    q(con, &["SELECT", "0"]);
    q(con, &["SET", "big", &"z".repeat(300_000)]);
    // Commands a replica must not recompute: times, random picks, sums,
    // generated IDs, pops a blocked client was served.
    q(con, &["SET", "ex", "v", "EX", "100000"]);
    q(con, &["PEXPIRE", "k11", "100000000"]);
    q(con, &["GETEX", "k12", "EX", "100000"]);
    q(con, &["SPOP", "bigset"]);
    q(con, &["SPOP", "intset", "5"]);
    q(con, &["INCRBYFLOAT", "float", "1.1"]);
    q(con, &["HINCRBYFLOAT", "hash", "fl", "2.5"]);
    q(con, &["XADD", "stream", "MAXLEN", "~", "100", "*", "trimmed", "1"]);
    q(con, &["RPUSH", "queue", "a", "b"]);
    q(con, &["BLPOP", "nothing", "queue", "0"]);
    let payload = dump_of(con, "m1");
    super::query(con, &[b"RESTORE", b"restored", b"100000", &payload, b"REPLACE"]);
    q(con, &["EXPIRE", "k14", "-1"]);
}

/// A key's DUMP payload.
fn dump_of(con: &mut redis::Connection, key: &str) -> Vec<u8> {
    match q(con, &["DUMP", key]) {
        Value::BulkString(b) => b,
        other => panic!("DUMP {key}: {other:?}"),
    }
}

/// One field of an INFO section.
pub fn info_field(con: &mut redis::Connection, section: &str, field: &str) -> Option<String> {
    let info = show(&q(con, &["INFO", section]));
    info.lines().find_map(|l| l.strip_prefix(&format!("{field}:")).map(|v| v.trim().to_string()))
}

/// Waits until a replica says its link to its master is up.
pub fn wait_link_up(replica: &mut redis::Connection) {
    wait_until("the replica's link to come up", WAIT, || {
        info_field(replica, "replication", "master_link_status").as_deref() == Some("up")
    });
}
