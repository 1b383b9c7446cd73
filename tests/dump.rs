//! DUMP and RESTORE between Shoal and redis-server 7.0: every type, in
//! Redis's compact and general encodings, DUMPed by one server and RESTOREd
//! into the other, then read back element by element on both; and the
//! RESTORE errors, each compared with what redis-server replies.
//!
//! Shoal runs with two cores, so the keys are spread over both.

mod support;

use redis::Value;
use support::{q, query, Server};

/// The commands that build the data set, the same on both servers. Each
/// key is made to land in the encoding its name says (Redis's defaults:
/// 128 listpack entries of up to 64 bytes, 512 intset members).
fn build(con: &mut redis::Connection) {
    let run = |con: &mut redis::Connection, args: Vec<Vec<u8>>| {
        let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        let r = query(con, &refs);
        assert!(!matches!(r, Value::ServerError(_)), "{r:?}");
    };
    let b = |s: &str| s.as_bytes().to_vec();
    let cmd = |parts: &[&str]| parts.iter().map(|p| b(p)).collect::<Vec<_>>();

    run(con, cmd(&["SET", "str:embstr", "hello"]));
    run(con, cmd(&["SET", "str:int", "12345"]));
    run(con, cmd(&["SET", "str:bigint", "9999999999"]));
    run(con, cmd(&["SET", "str:neg", "-7"]));
    run(con, cmd(&["SET", "str:empty", ""]));
    run(con, vec![b("SET"), b("str:raw"), "a".repeat(1000).into_bytes()]);
    run(con, vec![b("SET"), b("str:binary"), (0..=255u8).collect()]);
    run(
        con,
        vec![
            b("SET"),
            b("str:noise"),
            (0..3000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect(),
        ],
    );
    run(con, cmd(&["SET", "str:ttl", "v", "PX", "100000"]));

    run(con, cmd(&["RPUSH", "list:small", "a", "1", "-5", "300", "", "9223372036854775807"]));
    let mut big = cmd(&["RPUSH", "list:big"]);
    big.extend((0..5000).map(|i| format!("element-{i}").into_bytes()));
    run(con, big);
    let mut wide = cmd(&["RPUSH", "list:wide"]);
    wide.extend((0..6).map(|i| vec![b'a' + i as u8; 10_000]));
    wide.push(b("tail"));
    run(con, wide);

    run(con, cmd(&["SADD", "set:intset", "3", "1", "2", "-70000", "9223372036854775807"]));
    let mut ints = cmd(&["SADD", "set:ints"]);
    ints.extend((0..600).map(|i| (i * 3).to_string().into_bytes()));
    run(con, ints);
    run(con, cmd(&["SADD", "set:small", "a", "b", "1"]));
    let mut strs = cmd(&["SADD", "set:big"]);
    strs.extend((0..1000).map(|i| format!("member:{i}").into_bytes()));
    run(con, strs);

    run(con, cmd(&["HSET", "hash:small", "f", "v", "n", "7", "-1", "x", "empty", ""]));
    let mut fields = cmd(&["HSET", "hash:big"]);
    for i in 0..1000 {
        fields.push(format!("field:{i}").into_bytes());
        fields.push(i.to_string().into_bytes());
    }
    run(con, fields);
    run(con, vec![b("HSET"), b("hash:long"), b("f"), vec![b'z'; 100]]);

    run(
        con,
        cmd(&[
            "ZADD",
            "zset:small",
            "1",
            "a",
            "2.5",
            "b",
            "-3",
            "c",
            "inf",
            "d",
            "-inf",
            "e",
            "0.1",
            "f",
            "1e300",
            "123",
        ]),
    );
    let mut zbig = cmd(&["ZADD", "zset:big"]);
    for i in 0..1000 {
        zbig.push(format!("{}", i as f64 / 7.0).into_bytes());
        zbig.push(format!("m{i}").into_bytes());
    }
    run(con, zbig);
    run(con, vec![b("ZADD"), b("zset:long"), b("1"), vec![b'm'; 100]]);

    for i in 1..=250u32 {
        let id = format!("{}-{}", 1000 + i / 3, i % 3);
        if i % 5 == 0 {
            run(con, cmd(&["XADD", "stream", &id, "other", &i.to_string()]));
        } else {
            run(con, cmd(&["XADD", "stream", &id, "name", "sensor", "value", &i.to_string()]));
        }
    }
    run(con, cmd(&["XDEL", "stream", "1001-0", "1050-1"]));
    run(con, cmd(&["XGROUP", "CREATE", "stream", "g1", "0"]));
    run(con, cmd(&["XGROUP", "CREATE", "stream", "g2", "1040-0", "ENTRIESREAD", "17"]));
    run(con, cmd(&["XGROUP", "CREATE", "stream", "g3", "$"]));
    run(con, cmd(&["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "stream", ">"]));
    run(con, cmd(&["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "stream", ">"]));
    run(con, cmd(&["XACK", "stream", "g1", "1000-2"]));
    run(con, cmd(&["XGROUP", "CREATECONSUMER", "stream", "g1", "idle"]));
    run(con, cmd(&["XADD", "stream:empty", "1-1", "f", "v"]));
    run(con, cmd(&["XDEL", "stream:empty", "1-1"]));
}

const KEYS: &[&str] = &[
    "str:embstr",
    "str:int",
    "str:bigint",
    "str:neg",
    "str:empty",
    "str:raw",
    "str:binary",
    "str:noise",
    "str:ttl",
    "list:small",
    "list:big",
    "list:wide",
    "set:intset",
    "set:ints",
    "set:small",
    "set:big",
    "hash:small",
    "hash:big",
    "hash:long",
    "zset:small",
    "zset:big",
    "zset:long",
    "stream",
    "stream:empty",
];

fn bulk(v: &Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b.clone(),
        Value::SimpleString(s) => s.clone().into_bytes(),
        Value::Okay => b"OK".to_vec(),
        other => panic!("expected a bulk reply, got {other:?}"),
    }
}

fn array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        other => panic!("expected an array, got {other:?}"),
    }
}

/// A key's value read back through commands, normalised where the order is
/// a hash table's (set members, hash fields) and without the times that
/// depend on the moment (idle times, delivery times).
fn content(con: &mut redis::Connection, key: &str) -> String {
    let t = bulk(&q(con, &["TYPE", key]));
    match &t[..] {
        b"string" => format!("string {:?}", q(con, &["GET", key])),
        b"list" => format!("list {:?}", q(con, &["LRANGE", key, "0", "-1"])),
        b"set" => {
            let mut m: Vec<Vec<u8>> = array(q(con, &["SMEMBERS", key])).iter().map(bulk).collect();
            m.sort();
            format!("set {m:?}")
        }
        b"hash" => {
            let flat: Vec<Vec<u8>> = array(q(con, &["HGETALL", key])).iter().map(bulk).collect();
            let mut pairs: Vec<&[Vec<u8>]> = flat.chunks(2).collect();
            pairs.sort();
            format!("hash {pairs:?}")
        }
        b"zset" => format!("zset {:?}", q(con, &["ZRANGE", key, "0", "-1", "WITHSCORES"])),
        b"stream" => {
            let mut out = format!("stream {:?}\n", q(con, &["XRANGE", key, "-", "+"]));
            let info = array(q(con, &["XINFO", "STREAM", key]));
            for pair in info.chunks(2) {
                let name = String::from_utf8_lossy(&bulk(&pair[0])).into_owned();
                // The node layout is each server's own; the rest must match.
                if !name.starts_with("radix-tree") {
                    out += &format!("{name}={:?}\n", pair[1]);
                }
            }
            for g in array(q(con, &["XINFO", "GROUPS", key])) {
                let g = array(g);
                out += &format!("group {g:?}\n");
                let name = String::from_utf8_lossy(&bulk(&g[1])).into_owned();
                for p in array(q(con, &["XPENDING", key, &name, "-", "+", "1000"])) {
                    let p = array(p);
                    out += &format!("  pending {:?} {:?} count {:?}\n", p[0], p[1], p[3]);
                }
                for c in array(q(con, &["XINFO", "CONSUMERS", key, &name])) {
                    let c = array(c);
                    out += &format!("  consumer {:?} pending {:?}\n", c[1], c[3]);
                }
            }
            out
        }
        other => panic!("{key} has type {}", String::from_utf8_lossy(other)),
    }
}

fn dump(con: &mut redis::Connection, key: &str) -> Vec<u8> {
    bulk(&q(con, &["DUMP", key]))
}

fn restore(con: &mut redis::Connection, key: &str, ttl: &str, payload: &[u8], extra: &[&str]) -> Value {
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload];
    args.extend(extra.iter().map(|a| a.as_bytes()));
    query(con, &args)
}

fn pttl(con: &mut redis::Connection, key: &str) -> i64 {
    support::int(&q(con, &["PTTL", key]))
}

/// DUMPs every key from `from` and RESTOREs it (with its TTL) into `to`
/// under `prefix` + key, then checks that `to` holds what `from` holds,
/// in the same encoding.
fn transfer(from: &mut redis::Connection, to: &mut redis::Connection, prefix: &str, direction: &str) {
    for key in KEYS {
        let payload = dump(from, key);
        let ttl = pttl(from, key).max(0).to_string();
        let copy = format!("{prefix}{key}");
        let reply = restore(to, &copy, &ttl, &payload, &[]);
        assert_eq!(reply, Value::Okay, "{direction}: RESTORE {key}");
        assert_eq!(content(to, &copy), content(from, key), "{direction}: {key}");
        let enc_from = q(from, &["OBJECT", "ENCODING", key]);
        let enc_to = q(to, &["OBJECT", "ENCODING", &copy]);
        assert_eq!(enc_to, enc_from, "{direction}: encoding of {key}");
        let (a, b) = (pttl(from, key), pttl(to, &copy));
        assert!(
            (a == -1 && b == -1) || (a > 0 && b > 0 && (a - b).abs() < 10_000),
            "{direction}: {key} ttl {a} {b}"
        );
    }
}

#[test]
fn values_move_both_ways_between_shoal_and_redis() {
    let shoal = Server::shoal(&["--threads", "2"]);
    let redis = Server::redis(&[]);
    let (mut s, mut r) = (shoal.conn(), redis.conn());
    build(&mut s);
    build(&mut r);
    for key in KEYS {
        assert_eq!(content(&mut s, key), content(&mut r, key), "the data sets differ at {key}");
    }
    transfer(&mut r, &mut s, "from-redis:", "redis -> shoal");
    transfer(&mut s, &mut r, "from-shoal:", "shoal -> redis");
    // And back again: what Shoal restored from Redis dumps to a payload
    // Redis restores to the same data.
    for key in KEYS {
        let copy = format!("from-redis:{key}");
        let payload = dump(&mut s, &copy);
        assert_eq!(restore(&mut r, &format!("again:{key}"), "0", &payload, &[]), Value::Okay, "{key}");
        assert_eq!(content(&mut r, &format!("again:{key}")), content(&mut r, key), "{key}");
    }
    // The compact encodings of small values are Redis's very bytes (where
    // LZF is not involved: the two compressors choose different matches).
    for key in ["str:embstr", "str:int", "str:neg", "list:small", "hash:small", "zset:small"] {
        assert_eq!(dump(&mut s, key), dump(&mut r, key), "payload of {key}");
    }
}

/// A payload sealed with version 10 and a right checksum around `object`.
fn seal(object: &[u8], version: u16) -> Vec<u8> {
    let mut p = object.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = shoal_engine::rdb::crc64::crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[test]
fn restore_errors_match_redis() {
    let shoal = Server::shoal(&["--threads", "2"]);
    let redis = Server::redis(&[]);
    let (mut s, mut r) = (shoal.conn(), redis.conn());
    for con in [&mut s, &mut r] {
        q(con, &["SET", "k", "v"]);
        q(con, &["SET", "other", "x"]);
    }
    let good = dump(&mut r, "k");
    assert_eq!(good, dump(&mut s, "k"));
    let mut bad_crc = good.clone();
    let last = bad_crc.len() - 1;
    bad_crc[last] ^= 1;
    let object = &good[..good.len() - 10];
    let past = "1000";
    let cases: Vec<(&str, &str, Vec<u8>, Vec<&str>)> = vec![
        ("k", "0", good.clone(), vec![]),
        ("k", "-1", good.clone(), vec![]),
        ("n", "-1", good.clone(), vec![]),
        ("n", "abc", good.clone(), vec![]),
        ("n", "0", good.clone(), vec!["BOGUS"]),
        ("k", "0", good.clone(), vec!["REPLACE", "BOGUS"]),
        ("n", "0", good.clone(), vec!["IDLETIME", "-1"]),
        ("n", "0", good.clone(), vec!["IDLETIME", "x"]),
        ("n", "0", good.clone(), vec!["IDLETIME"]),
        ("n", "0", good.clone(), vec!["FREQ", "256"]),
        ("n", "0", good.clone(), vec!["FREQ", "-1"]),
        ("n", "0", good.clone(), vec!["FREQ"]),
        ("n", "0", good.clone(), vec!["IDLETIME", "5", "FREQ", "5"]),
        ("n", "0", good.clone(), vec!["FREQ", "5", "IDLETIME", "5"]),
        ("n", "0", bad_crc.clone(), vec![]),
        ("n", "0", b"short".to_vec(), vec![]),
        ("n", "0", Vec::new(), vec![]),
        ("n", "0", seal(object, 11), vec![]),
        ("n", "0", seal(object, 9), vec![]),
        ("n2", "0", seal(&[42, 1, 2], 10), vec![]),
        ("n3", "0", seal(&[2, 0], 10), vec![]),
        ("n4", "0", seal(&[0, 5, b'a'], 10), vec![]),
        ("n5", "0", seal(&[11, 3, 1, 2, 3], 10), vec![]),
        ("n6", past, good.clone(), vec!["ABSTTL"]),
        ("other", past, good.clone(), vec!["ABSTTL", "REPLACE"]),
        ("n7", "100000", good.clone(), vec!["replace", "absttl"]),
        ("n8", "0", good.clone(), vec!["IDLETIME", "1000", "REPLACE"]),
        ("n9", "0", good.clone(), vec!["FREQ", "200"]),
    ];
    for (key, ttl, payload, extra) in &cases {
        let want = restore(&mut r, key, ttl, payload, extra);
        let got = restore(&mut s, key, ttl, payload, extra);
        assert_eq!(got, want, "RESTORE {key} {ttl} <{} bytes> {extra:?}", payload.len());
        for k in [key, &"other"] {
            assert_eq!(
                q(&mut s, &["EXISTS", k]),
                q(&mut r, &["EXISTS", k]),
                "EXISTS {k} after RESTORE {key} {extra:?}"
            );
        }
    }
    assert_eq!(q(&mut s, &["OBJECT", "IDLETIME", "n8"]), Value::Int(1000));
    for args in [&["DUMP", "nosuch"][..], &["DUMP"], &["DUMP", "a", "b"], &["RESTORE", "k", "0"]] {
        assert_eq!(q(&mut s, args), q(&mut r, args), "{args:?}");
    }
}
