//! Data sets for tests that move a whole data set between servers
//! (replication, RDB files): one filled with every type and encoding, and a
//! key-by-key reading of a server's data to compare two servers with.

use super::q;
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
