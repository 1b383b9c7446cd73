//! Blocking commands with more than one client: a waiter is woken by a push
//! from any core, waiters on one key are served first come first served, a
//! timeout gives the command's own empty reply, and a waiter that disconnects
//! or is killed leaves nothing behind to swallow later elements.

mod support;

use support::{core_of, info_field, int, lossy, q, text, wait_until, RawConn, Server, WAIT};

const CORES: usize = 4;

/// How many clients the server counts as blocked.
fn blocked(con: &mut redis::Connection) -> usize {
    let info = text(&q(con, &["INFO", "clients"]));
    info_field(&info, "blocked_clients").and_then(|v| v.parse().ok()).expect("blocked_clients in INFO")
}

/// Waits until exactly `n` clients are blocked.
fn wait_blocked(con: &mut redis::Connection, n: usize) {
    wait_until(&format!("{n} blocked clients"), WAIT, || blocked(con) == n);
}

/// Two keys that live on different cores of a `CORES`-core server.
fn keys_on_two_cores() -> (String, String) {
    let first = "key:1".to_string();
    let c = core_of(first.as_bytes(), CORES);
    let other = (2..100)
        .map(|i| format!("key:{i}"))
        .find(|k| core_of(k.as_bytes(), CORES) != c)
        .expect("a key on another core");
    (first, other)
}

fn bulk_array(items: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", items.len()).into_bytes();
    for i in items {
        out.extend_from_slice(format!("${}\r\n{i}\r\n", i.len()).as_bytes());
    }
    out
}

fn send(c: &mut RawConn, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send_cmd(&args);
}

#[test]
fn a_push_on_any_core_wakes_the_waiter() {
    let server = Server::shoal_threads(CORES);
    let mut con = server.conn();
    // Several waiters, each on its own key: the kernel spreads the
    // connections over the cores, so most keys live on another core than
    // their waiter's connection.
    let keys: Vec<String> = (1..=12).map(|i| format!("key:{i}")).collect();
    let mut waiters: Vec<RawConn> = keys.iter().map(|_| server.raw()).collect();
    for (w, k) in waiters.iter_mut().zip(&keys) {
        send(w, &["BLPOP", k, "0"]);
    }
    wait_blocked(&mut con, keys.len());
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(int(&q(&mut con, &["RPUSH", k, &format!("v{i}")])), 1);
    }
    for (i, (w, k)) in waiters.iter_mut().zip(&keys).enumerate() {
        assert_eq!(w.read_reply(), bulk_array(&[k, &format!("v{i}")]), "waiter on {k}");
    }
    wait_blocked(&mut con, 0);
    for k in &keys {
        assert_eq!(int(&q(&mut con, &["EXISTS", k])), 0, "{k} was emptied by its waiter");
    }
}

#[test]
fn waiters_on_one_key_are_served_in_arrival_order() {
    let server = Server::shoal_threads(CORES);
    let mut con = server.conn();
    let mut waiters: Vec<RawConn> = (0..6).map(|_| server.raw()).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        send(w, &["BRPOP", "queue", "0"]);
        wait_blocked(&mut con, i + 1);
    }
    // One push of six elements: each waiter gets one, the first to come the
    // first popped (the tail, for BRPOP).
    assert_eq!(int(&q(&mut con, &["LPUSH", "queue", "a", "b", "c", "d", "e", "f"])), 6);
    for (w, want) in waiters.iter_mut().zip(["a", "b", "c", "d", "e", "f"]) {
        assert_eq!(w.read_reply(), bulk_array(&["queue", want]));
    }
    assert_eq!(int(&q(&mut con, &["EXISTS", "queue"])), 0);

    // Fewer elements than waiters: the first ones are served, the rest wait on.
    let mut waiters: Vec<RawConn> = (0..3).map(|_| server.raw()).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        send(w, &["BLPOP", "queue", "0"]);
        wait_blocked(&mut con, i + 1);
    }
    assert_eq!(int(&q(&mut con, &["RPUSH", "queue", "x"])), 1);
    assert_eq!(waiters[0].read_reply(), bulk_array(&["queue", "x"]));
    wait_blocked(&mut con, 2);
    assert_eq!(int(&q(&mut con, &["RPUSH", "queue", "y", "z"])), 2);
    assert_eq!(waiters[1].read_reply(), bulk_array(&["queue", "y"]));
    assert_eq!(waiters[2].read_reply(), bulk_array(&["queue", "z"]));
}

#[test]
fn waiting_on_keys_of_several_cores() {
    let server = Server::shoal_threads(CORES);
    let mut con = server.conn();
    let (a, b) = keys_on_two_cores();

    // BLPOP over two cores, woken by either key.
    for woken_by in [&a, &b] {
        let mut w = server.raw();
        send(&mut w, &["BLPOP", &a, &b, "0"]);
        wait_blocked(&mut con, 1);
        q(&mut con, &["RPUSH", woken_by, "v"]);
        assert_eq!(w.read_reply(), bulk_array(&[woken_by, "v"]));
        wait_blocked(&mut con, 0);
    }

    // BLMOVE from one core's key to another core's key.
    let mut w = server.raw();
    send(&mut w, &["BLMOVE", &a, &b, "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut con, 1);
    q(&mut con, &["RPUSH", &a, "moved"]);
    assert_eq!(w.read_reply(), b"$5\r\nmoved\r\n".to_vec());
    assert_eq!(
        q(&mut con, &["LRANGE", &b, "0", "-1"]),
        redis::Value::Array(vec![redis::Value::BulkString(b"moved".to_vec())])
    );
    assert_eq!(int(&q(&mut con, &["EXISTS", &a])), 0);

    // BZPOPMIN and BLMPOP across cores.
    q(&mut con, &["DEL", &a, &b]);
    let mut w = server.raw();
    send(&mut w, &["BZPOPMIN", &a, &b, "0"]);
    wait_blocked(&mut con, 1);
    q(&mut con, &["ZADD", &b, "2", "two", "1", "one"]);
    assert_eq!(lossy(&w.read_reply()), lossy(&bulk_array(&[&b, "one", "1"])));
    q(&mut con, &["DEL", &b]);
    let mut w = server.raw();
    send(&mut w, &["BLMPOP", "0", "2", &a, &b, "RIGHT", "COUNT", "5"]);
    wait_blocked(&mut con, 1);
    q(&mut con, &["RPUSH", &a, "1", "2", "3"]);
    let want = format!("*2\r\n${}\r\n{a}\r\n*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n", a.len());
    assert_eq!(lossy(&w.read_reply()), want);
}

#[test]
fn xread_block_sees_entries_added_after_it_blocked() {
    let server = Server::shoal_threads(CORES);
    let mut con = server.conn();
    let (a, b) = keys_on_two_cores();
    q(&mut con, &["XADD", &a, "1-1", "old", "x"]);
    let mut w = server.raw();
    send(&mut w, &["XREAD", "BLOCK", "0", "STREAMS", &a, &b, "$", "$"]);
    wait_blocked(&mut con, 1);
    q(&mut con, &["XADD", &b, "5-1", "new", "y"]);
    let want =
        format!("*1\r\n*2\r\n${}\r\n{b}\r\n*1\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$3\r\nnew\r\n$1\r\ny\r\n", b.len());
    assert_eq!(lossy(&w.read_reply()), want);
}

#[test]
fn timeouts_give_the_empty_reply() {
    let server = Server::shoal_threads(CORES);
    let (a, b) = keys_on_two_cores();
    let mut w = server.raw();
    // One core and several cores, RESP2 and RESP3.
    assert_eq!(w.cmd(&["BLPOP", &a, "0.05"]), b"*-1\r\n".to_vec());
    assert_eq!(w.cmd(&["BLPOP", &a, &b, "0.05"]), b"*-1\r\n".to_vec());
    assert_eq!(w.cmd(&["BLMOVE", &a, &b, "LEFT", "LEFT", "0.05"]), b"$-1\r\n".to_vec());
    assert_eq!(w.cmd(&["BZPOPMAX", &a, "0.05"]), b"*-1\r\n".to_vec());
    assert_eq!(w.cmd(&["XREAD", "BLOCK", "50", "STREAMS", &a, "$"]), b"*-1\r\n".to_vec());
    w.cmd(&["HELLO", "3"]);
    assert_eq!(w.cmd(&["BLPOP", &a, "0.05"]), b"_\r\n".to_vec());
    assert_eq!(w.cmd(&["BLPOP", &a, &b, "0.05"]), b"_\r\n".to_vec());
    // Inside MULTI a blocking command never waits.
    w.cmd(&["HELLO", "2"]);
    assert_eq!(w.cmd(&["MULTI"]), b"+OK\r\n".to_vec());
    assert_eq!(w.cmd(&["BLPOP", &a, "0"]), b"+QUEUED\r\n".to_vec());
    assert_eq!(w.cmd(&["EXEC"]), b"*1\r\n*-1\r\n".to_vec());
    let mut con = server.conn();
    assert_eq!(blocked(&mut con), 0);
}

#[test]
fn a_waiter_that_leaves_takes_nothing() {
    let server = Server::shoal_threads(CORES);
    let mut con = server.conn();
    let (a, b) = keys_on_two_cores();
    // Waiters that disconnect: on one core and across cores.
    for keys in [vec![a.as_str()], vec![a.as_str(), b.as_str()]] {
        let mut w = server.raw();
        let mut args = vec!["BLPOP"];
        args.extend(&keys);
        args.push("0");
        send(&mut w, &args);
        wait_blocked(&mut con, 1);
        drop(w);
        wait_blocked(&mut con, 0);
    }
    // A waiter killed with CLIENT KILL.
    let mut w = server.raw();
    let reply = lossy(&w.cmd(&["CLIENT", "ID"]));
    let id: i64 = reply.trim_start_matches(':').trim_end().parse().expect("CLIENT ID is an integer");
    send(&mut w, &["BLPOP", &a, "0"]);
    wait_blocked(&mut con, 1);
    assert_eq!(int(&q(&mut con, &["CLIENT", "KILL", "ID", &id.to_string()])), 1);
    assert!(w.closes_in_time(), "the killed waiter's connection is closed");
    wait_blocked(&mut con, 0);
    // Nobody is left to take these.
    q(&mut con, &["RPUSH", &a, "kept"]);
    q(&mut con, &["RPUSH", &b, "kept"]);
    assert_eq!(int(&q(&mut con, &["LLEN", &a])), 1);
    assert_eq!(int(&q(&mut con, &["LLEN", &b])), 1);
}

#[test]
fn replies_before_a_blocking_command_are_not_held_back() {
    let server = Server::shoal_threads(CORES);
    let mut con = server.conn();
    let (a, b) = keys_on_two_cores();
    let mut w = server.raw();
    // Earlier commands of the same pipeline, on this and other cores.
    let mut bytes = support::encode_str(&["PING"]);
    bytes.extend(support::encode_str(&["SET", &b, "x"]));
    bytes.extend(support::encode_str(&["BLPOP", &a, "0"]));
    bytes.extend(support::encode_str(&["GET", &b]));
    w.send(&bytes);
    assert_eq!(w.read_reply(), b"+PONG\r\n".to_vec());
    assert_eq!(w.read_reply(), b"+OK\r\n".to_vec());
    wait_blocked(&mut con, 1);
    q(&mut con, &["RPUSH", &a, "v"]);
    assert_eq!(w.read_reply(), bulk_array(&[&a, "v"]));
    assert_eq!(w.read_reply(), b"$1\r\nx\r\n".to_vec());
}
