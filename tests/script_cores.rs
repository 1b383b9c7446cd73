//! Scripts on a multi-core server: a script whose KEYS live on several cores
//! runs atomically over all of them, keys it did not declare are reachable
//! only where Redis Cluster would allow them, the script cache is shared by
//! every core, and a script past busy-reply-threshold makes the other cores
//! answer BUSY until SCRIPT KILL (sent from any of them) ends it.

mod support;

use std::time::Duration;
use support::{core_of, int, lossy, q, text, wait_for, RawConn, Server, WAIT};

const CORES: usize = 4;

/// A key on another core than `key`, and one on the same core.
fn other_and_same(key: &str) -> (String, String) {
    let c = core_of(key.as_bytes(), CORES);
    let find = |same: bool| {
        (1..500)
            .map(|i| format!("key:{i}"))
            .find(|k| k != key && (core_of(k.as_bytes(), CORES) == c) == same)
            .expect("a key")
    };
    (find(false), find(true))
}

fn eval(
    con: &mut redis::Connection,
    script: &str,
    keys: &[&str],
    args: &[&str],
) -> redis::RedisResult<redis::Value> {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(script).arg(keys.len()).arg(keys).arg(args);
    cmd.query(con)
}

#[test]
fn keys_on_several_cores_are_one_atomic_script() {
    let server = Server::shoal_threads(CORES);
    let mut con = server.conn();
    let a = "key:1";
    let (b, _) = other_and_same(a);
    let v = eval(
        &mut con,
        "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[2]); \
         return redis.call('MGET', KEYS[1], KEYS[2])",
        &[a, &b],
        &["x", "y"],
    )
    .expect("eval");
    assert_eq!(
        v,
        redis::Value::Array(vec![
            redis::Value::BulkString(b"x".to_vec()),
            redis::Value::BulkString(b"y".to_vec())
        ])
    );

    // Transfers between the two keys by several clients; readers never see
    // the sum change.
    q(&mut con, &["MSET", a, "0", &b, "0"]);
    let transfer = "redis.call('INCRBY', KEYS[1], -ARGV[1]); return redis.call('INCRBY', KEYS[2], ARGV[1])";
    let sum = "return redis.call('GET', KEYS[1]) + redis.call('GET', KEYS[2])";
    std::thread::scope(|s| {
        for t in 0..4 {
            let (server, b) = (&server, &b);
            s.spawn(move || {
                let mut con = server.conn();
                for i in 0..200 {
                    let (from, to) = if (i + t) % 2 == 0 { (a, b.as_str()) } else { (b.as_str(), a) };
                    eval(&mut con, transfer, &[from, to], &[&(i % 7 + 1).to_string()]).expect("transfer");
                }
            });
        }
        for _ in 0..2 {
            let (server, b) = (&server, &b);
            s.spawn(move || {
                let mut con = server.conn();
                for _ in 0..300 {
                    assert_eq!(int(&eval(&mut con, sum, &[a, b], &[]).expect("sum")), 0, "sum by script");
                    let both: Vec<i64> = redis::cmd("MGET").arg(a).arg(b).query(&mut con).expect("mget");
                    assert_eq!(both[0] + both[1], 0, "sum by MGET: {both:?}");
                }
            });
        }
    });
}

#[test]
fn undeclared_keys_only_on_the_scripts_own_core() {
    let server = Server::shoal_threads(CORES);
    let mut con = server.conn();
    let a = "key:1";
    let (other, same) = other_and_same(a);
    q(&mut con, &["SET", &same, "here"]);
    q(&mut con, &["SET", &other, "there"]);
    // KEYS[1] places the script on its core; an undeclared key of that core is fine.
    let v = eval(&mut con, "return redis.call('GET', ARGV[1])", &[a], &[&same]).expect("same core");
    assert_eq!(text(&v), "here");
    let err = eval(&mut con, "return redis.call('GET', ARGV[1])", &[a], &[&other]).expect_err("other core");
    assert!(format!("{err}").contains("Script attempted to access a non local key"), "{err}");
    // Declared, the same key is reachable from anywhere.
    let v = eval(&mut con, "return redis.call('GET', KEYS[2])", &[a, &other], &[]).expect("declared");
    assert_eq!(text(&v), "there");
}

#[test]
fn the_script_cache_is_shared_by_every_core() {
    let server = Server::shoal_threads(CORES);
    let mut loader = server.conn();
    let sha = text(&q(&mut loader, &["SCRIPT", "LOAD", "return ARGV[1] .. KEYS[1]"]));
    // Keys on every core, so EVALSHA runs on each of them.
    let mut con = server.conn();
    for i in 1..=16 {
        let k = format!("key:{i}");
        let v = q(&mut con, &["EVALSHA", &sha, "1", &k, "v"]);
        assert_eq!(text(&v), format!("v{k}"));
    }
    assert_eq!(q(&mut con, &["SCRIPT", "EXISTS", &sha]), redis::Value::Array(vec![redis::Value::Int(1)]));
    q(&mut loader, &["SCRIPT", "FLUSH"]);
    for i in 1..=16 {
        let k = format!("key:{i}");
        let r: redis::RedisResult<redis::Value> =
            redis::cmd("EVALSHA").arg(&sha).arg(1).arg(&k).arg("v").query(&mut con);
        let e = r.expect_err("flushed");
        assert_eq!(e.code(), Some("NOSCRIPT"), "{e}");
    }
}

#[test]
fn a_busy_script_is_killed_from_another_core() {
    let server = Server::shoal(&["--threads", &CORES.to_string(), "--busy-reply-threshold", "100"]);
    let mut runner = server.raw();
    // Pin the script to a key's core and let it run forever.
    runner.send(&support::encode_str(&["EVAL", "while true do end", "1", "key:1"]));
    // Find a connection on another core: it answers BUSY once the script
    // is past the threshold. Connections on the script's core cannot
    // answer until it ends; they are kept and checked afterwards.
    let mut stuck: Vec<RawConn> = Vec::new();
    let mut other = wait_for("a BUSY reply from another core", WAIT, || {
        let mut c = server.raw();
        c.stream.set_read_timeout(Some(Duration::from_millis(300))).expect("timeout");
        c.send(&support::encode_str(&["PING"]));
        match c.reply_within_timeout() {
            Ok(r) if r.starts_with(b"-BUSY") => {
                assert_eq!(
                    lossy(&r),
                    "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
                );
                Some(c)
            }
            Ok(r) => {
                assert_eq!(r, b"+PONG\r\n".to_vec());
                None
            }
            Err(_) => {
                stuck.push(c);
                None
            }
        }
    });
    other.stream.set_read_timeout(Some(WAIT)).expect("timeout");
    assert_eq!(lossy(&other.cmd(&["SCRIPT", "KILL"])), "+OK\r\n");
    let killed = lossy(&runner.read_reply());
    assert!(killed.starts_with("-ERR") && killed.contains("Script killed by user"), "{killed}");
    assert_eq!(lossy(&other.cmd(&["SCRIPT", "KILL"])), "-NOTBUSY No scripts in execution right now.\r\n");
    for mut c in stuck {
        c.stream.set_read_timeout(Some(WAIT)).expect("timeout");
        assert_eq!(c.read_reply(), b"+PONG\r\n".to_vec(), "a connection of the script's core");
    }
    assert_eq!(other.cmd(&["PING"]), b"+PONG\r\n".to_vec());
    assert_eq!(runner.cmd(&["PING"]), b"+PONG\r\n".to_vec());
}
