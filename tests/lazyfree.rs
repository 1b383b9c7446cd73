//! UNLINK, FLUSHALL/FLUSHDB ASYNC and the lazyfree-lazy-user-* settings:
//! what they delete is gone at once for every client, and the freeing
//! itself happens on the lazyfree thread (INFO's lazyfreed_objects counts it).

mod support;

use support::{q, wait_until, Server, WAIT};

fn freed(c: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("memory").query(c).unwrap();
    let line = info.lines().find(|l| l.starts_with("lazyfreed_objects:")).expect("lazyfreed_objects");
    line["lazyfreed_objects:".len()..].trim().parse().unwrap()
}

fn fill(c: &mut redis::Connection, key: &str) {
    let script = "for i = 1, 100000 do redis.call('HSET', KEYS[1], 'field-' .. i, i) end return 1";
    assert_eq!(q(c, &["EVAL", script, "1", key]), redis::Value::Int(1));
}

/// The setting reads the same in both servers before and after it is set to yes.
fn same_setting(c: &mut redis::Connection, r: &mut redis::Connection, name: &str) {
    assert_eq!(q(c, &["CONFIG", "GET", name]), q(r, &["CONFIG", "GET", name]));
    for conn in [&mut *c, &mut *r] {
        assert_eq!(q(conn, &["CONFIG", "SET", name, "yes"]), redis::Value::Okay);
    }
    assert_eq!(q(c, &["CONFIG", "GET", name]), q(r, &["CONFIG", "GET", name]));
}

#[test]
fn large_values_and_flushed_databases_are_freed_off_the_core() {
    let shoal = Server::shoal(&["--threads", "2"]);
    let redis = Server::redis(&[]);
    let mut c = shoal.conn();
    let mut r = redis.conn();

    // UNLINK of a large value: the key is gone, the value is freed elsewhere.
    fill(&mut c, "big");
    let before = freed(&mut c);
    assert_eq!(q(&mut c, &["UNLINK", "big", "missing"]), redis::Value::Int(1));
    assert_eq!(q(&mut c, &["EXISTS", "big"]), redis::Value::Int(0));
    wait_until("the unlinked hash to be freed", WAIT, || freed(&mut c) > before);

    // A small value is freed in place: nothing for the thread.
    q(&mut c, &["SET", "small", "v"]);
    let before = freed(&mut c);
    assert_eq!(q(&mut c, &["UNLINK", "small"]), redis::Value::Int(1));
    assert_eq!(freed(&mut c), before);

    // DEL frees in place unless lazyfree-lazy-user-del says otherwise.
    same_setting(&mut c, &mut r, "lazyfree-lazy-user-del");
    fill(&mut c, "big");
    let before = freed(&mut c);
    assert_eq!(q(&mut c, &["DEL", "big"]), redis::Value::Int(1));
    wait_until("the deleted hash to be freed", WAIT, || freed(&mut c) > before);

    // FLUSHALL ASYNC: every key gone at once, one freed object per key.
    for i in 0..1000 {
        q(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    q(&mut c, &["SELECT", "3"]);
    q(&mut c, &["SET", "other", "v"]);
    let before = freed(&mut c);
    assert_eq!(q(&mut c, &["FLUSHALL", "ASYNC"]), redis::Value::Okay);
    assert_eq!(q(&mut c, &["DBSIZE"]), redis::Value::Int(0));
    q(&mut c, &["SELECT", "0"]);
    assert_eq!(q(&mut c, &["DBSIZE"]), redis::Value::Int(0));
    wait_until("the flushed keys to be freed", WAIT, || freed(&mut c) >= before + 1001);

    // FLUSHDB without an argument follows lazyfree-lazy-user-flush.
    same_setting(&mut c, &mut r, "lazyfree-lazy-user-flush");
    for i in 0..100 {
        q(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    let before = freed(&mut c);
    assert_eq!(q(&mut c, &["FLUSHDB"]), redis::Value::Okay);
    assert_eq!(q(&mut c, &["DBSIZE"]), redis::Value::Int(0));
    wait_until("the flushed database to be freed", WAIT, || freed(&mut c) >= before + 100);
    // SYNC overrides it.
    q(&mut c, &["SET", "k", "v"]);
    let before = freed(&mut c);
    assert_eq!(q(&mut c, &["FLUSHDB", "SYNC"]), redis::Value::Okay);
    assert_eq!(freed(&mut c), before);
    // Errors as Redis gives them.
    for args in [
        &["FLUSHALL", "BOGUS"][..],
        &["FLUSHDB", "ASYNC", "x"],
        &["CONFIG", "SET", "lazyfree-lazy-user-del", "maybe"],
    ] {
        assert_eq!(format!("{:?}", q(&mut c, args)), format!("{:?}", q(&mut r, args)), "{args:?}");
    }
}
