//! MULTI/EXEC/DISCARD/WATCH: Redis's replies and errors (differential
//! scripts against redis-server), atomicity of EXEC while many clients write
//! the same keys on every core, and optimistic locking with WATCH under races.

mod support;

use redis::Value;
use std::sync::{Arc, Barrier};
use support::script::run_group;
use support::{core_of, q, Server};

const TRANSACTIONS: &[(&str, &str)] = &[
    (
        "queue_and_exec",
        r#"
        !cross key:1 key:2
        MULTI
        SET key:1 a
        INCR key:2
        GET key:1
        MGET key:1 key:2 key:3
        RENAME key:1 key:3
        EXISTS key:1 key:2 key:3
        EXEC
        GET key:3
        MULTI
        EXEC
        MULTI
        PING
        ECHO hello
        EXEC
        "#,
    ),
    (
        "errors",
        r#"
        EXEC
        DISCARD
        MULTI
        MULTI
        SET key:1 x
        DISCARD
        GET key:1
        MULTI
        SET key:1 x
        NOSUCHCOMMAND
        SET key:2
        EXEC
        GET key:1
        SET key:4 notanumber
        MULTI
        INCR key:4
        SET key:5 ok
        LPUSH key:4 x
        EXEC
        GET key:5
        MULTI
        WATCH key:1
        EXEC
        "#,
    ),
    (
        "watch",
        r#"
        SET key:1 1
        WATCH key:1 key:2
        MULTI
        INCR key:1
        EXEC
        WATCH key:1
        SET key:1 changed
        MULTI
        GET key:1
        EXEC
        WATCH key:1
        UNWATCH
        SET key:1 again
        MULTI
        GET key:1
        EXEC
        WATCH key:6
        SET key:6 created
        MULTI
        GET key:6
        EXEC
        WATCH key:7
        MULTI
        DISCARD
        SET key:7 after-discard
        MULTI
        GET key:7
        EXEC
        WATCH key:8
        DEL key:8
        MULTI
        GET key:8
        EXEC
        "#,
    ),
    (
        "watch_expiry",
        r#"
        SET key:1 v PX 30
        WATCH key:1
        !gone key:1
        MULTI
        SET key:2 x
        EXEC
        GET key:2
        SET key:3 v
        WATCH key:3
        EXPIRE key:3 100
        MULTI
        PING
        EXEC
        "#,
    ),
    (
        "whole_keyspace_and_databases",
        r#"
        MSET key:1 a key:2 b key:3 c
        MULTI
        DBSIZE
        KEYS key:2*
        SELECT 3
        SET key:1 in-db-3
        DBSIZE
        SELECT 0
        FLUSHDB
        DBSIZE
        EXEC
        DBSIZE
        SELECT 3
        GET key:1
        SELECT 0
        WATCH key:9
        SELECT 3
        SET key:9 x
        SELECT 0
        MULTI
        PING
        EXEC
        SET key:9 y
        WATCH key:9
        SWAPDB 0 3
        MULTI
        GET key:9
        EXEC
        FLUSHALL
        SET key:10 z
        WATCH key:10
        FLUSHALL
        MULTI
        PING
        EXEC
        "#,
    ),
    (
        "resp3",
        r#"
        HELLO 3
        MULTI
        SET key:1 1
        INCRBYFLOAT key:1 1.5
        MGET key:1 key:2
        EXEC
        WATCH key:1
        SET key:1 x
        MULTI
        GET key:1
        EXEC
        "#,
    ),
];

#[test]
fn transactions_match_redis() {
    run_group(2, TRANSACTIONS);
}

#[test]
fn transactions_match_redis_4_cores() {
    run_group(4, TRANSACTIONS);
}

/// `prefix:1`..`prefix:n`, checked to cover every core.
fn spread(prefix: &str, n: usize, cores: usize) -> Vec<String> {
    let keys: Vec<String> = (1..=n).map(|i| format!("{prefix}:{i}")).collect();
    let hit: std::collections::HashSet<usize> = keys.iter().map(|k| core_of(k.as_bytes(), cores)).collect();
    assert_eq!(hit.len(), cores, "{prefix}:1..{n} should cover every core");
    keys
}

fn ints(v: &Value) -> Vec<i64> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Int(n) => *n,
                Value::Nil => 0,
                Value::BulkString(b) => support::lossy(b).parse().expect("an integer value"),
                other => panic!("unexpected element {other:?}"),
            })
            .collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

const WRITERS: usize = 20;
const ROUNDS: usize = 100;

/// 20 writers each run EXECs that INCR eight counters spread over every
/// core, while readers take snapshots with MULTI + GETs + EXEC: every EXEC,
/// the writers' included, sees the eight counters equal (nothing ran in
/// between its commands), and at the end every increment is there.
fn exec_is_never_interleaved(cores: usize) {
    let server = Server::shoal_threads(cores);
    let keys = Arc::new(spread("ctr", 8, cores));
    let start = Arc::new(Barrier::new(WRITERS + 4));
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let (client, keys, start) = (server.client(), keys.clone(), start.clone());
        handles.push(std::thread::spawn(move || {
            let mut con = client.get_connection().expect("connect");
            con.set_read_timeout(Some(support::WAIT)).unwrap();
            start.wait();
            for round in 0..ROUNDS {
                let mut pipe = redis::pipe();
                pipe.atomic();
                for k in keys.iter() {
                    pipe.cmd("INCR").arg(k);
                }
                let got: Value = pipe.query(&mut con).expect("EXEC");
                let values = ints(&got);
                assert!(
                    values.windows(2).all(|w| w[0] == w[1]),
                    "writer {w} round {round}: EXEC saw other writes in between: {values:?}"
                );
            }
        }));
    }
    for r in 0..4 {
        let (client, keys, start) = (server.client(), keys.clone(), start.clone());
        handles.push(std::thread::spawn(move || {
            let mut con = client.get_connection().expect("connect");
            con.set_read_timeout(Some(support::WAIT)).unwrap();
            start.wait();
            for round in 0..ROUNDS * 2 {
                let mut pipe = redis::pipe();
                pipe.atomic();
                for k in keys.iter() {
                    pipe.cmd("GET").arg(k);
                }
                let values = ints(&pipe.query::<Value>(&mut con).expect("EXEC"));
                assert!(
                    values.windows(2).all(|w| w[0] == w[1]),
                    "reader {r} round {round}: torn snapshot {values:?}"
                );
            }
        }));
    }
    for h in handles {
        h.join().expect("client thread");
    }
    let mut con = server.conn();
    let mut mget = redis::cmd("MGET");
    for k in keys.iter() {
        mget.arg(k);
    }
    let finals = ints(&mget.query::<Value>(&mut con).unwrap());
    assert_eq!(finals, vec![(WRITERS * ROUNDS) as i64; keys.len()]);
}

#[test]
fn exec_is_never_interleaved_2_cores() {
    exec_is_never_interleaved(2);
}

#[test]
fn exec_is_never_interleaved_4_cores() {
    exec_is_never_interleaved(4);
}

/// Optimistic transfers between accounts on different cores: each client
/// WATCHes two accounts, reads them, and moves one unit from one to the
/// other in MULTI/EXEC, retrying when EXEC returns nil. WATCH must catch
/// every conflicting write (the total is conserved and equals the sum of
/// the successful transfers' effects), and some EXECs do conflict.
fn watch_races(cores: usize) {
    let server = Server::shoal_threads(cores);
    let accounts = Arc::new(spread("acct", 4, cores));
    let mut con = server.conn();
    for a in accounts.iter() {
        assert_eq!(q(&mut con, &["SET", a, "1000"]), Value::Okay);
    }
    const CLIENTS: usize = 12;
    const TRANSFERS: usize = 60;
    let start = Arc::new(Barrier::new(CLIENTS));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (client, accounts, start) = (server.client(), accounts.clone(), start.clone());
            std::thread::spawn(move || {
                let mut con = client.get_connection().expect("connect");
                con.set_read_timeout(Some(support::WAIT)).unwrap();
                start.wait();
                let mut aborted = 0;
                let mut moved = vec![0i64; accounts.len()];
                for t in 0..TRANSFERS {
                    let from = (c + t) % accounts.len();
                    let to = (from + 1 + t % (accounts.len() - 1)) % accounts.len();
                    loop {
                        let _: () = redis::cmd("WATCH")
                            .arg(&accounts[from])
                            .arg(&accounts[to])
                            .query(&mut con)
                            .unwrap();
                        let balances: Vec<i64> = redis::cmd("MGET")
                            .arg(&accounts[from])
                            .arg(&accounts[to])
                            .query(&mut con)
                            .unwrap();
                        let result: Option<(i64, i64)> = redis::pipe()
                            .atomic()
                            .cmd("SET")
                            .arg(&accounts[from])
                            .arg(balances[0] - 1)
                            .ignore()
                            .cmd("SET")
                            .arg(&accounts[to])
                            .arg(balances[1] + 1)
                            .ignore()
                            .cmd("GET")
                            .arg(&accounts[from])
                            .cmd("GET")
                            .arg(&accounts[to])
                            .query(&mut con)
                            .unwrap();
                        match result {
                            Some((f, t2)) => {
                                assert_eq!((f, t2), (balances[0] - 1, balances[1] + 1));
                                moved[from] -= 1;
                                moved[to] += 1;
                                break;
                            }
                            None => aborted += 1,
                        }
                    }
                }
                (moved, aborted)
            })
        })
        .collect();
    let mut net = vec![0i64; accounts.len()];
    let mut aborted = 0;
    for h in handles {
        let (moved, a) = h.join().expect("client thread");
        for (n, m) in net.iter_mut().zip(moved) {
            *n += m;
        }
        aborted += a;
    }
    let mut mget = redis::cmd("MGET");
    for a in accounts.iter() {
        mget.arg(a);
    }
    let finals: Vec<i64> = mget.query(&mut con).unwrap();
    let expected: Vec<i64> = net.iter().map(|n| 1000 + n).collect();
    assert_eq!(finals, expected, "balances must reflect exactly the committed transfers");
    assert_eq!(finals.iter().sum::<i64>(), 1000 * accounts.len() as i64);
    // With twelve clients on four accounts, some EXECs must have lost a race;
    // none at all would mean WATCH never fired.
    assert!(aborted > 0, "no EXEC was aborted by WATCH");
}

#[test]
fn watch_races_2_cores() {
    watch_races(2);
}

#[test]
fn watch_races_4_cores() {
    watch_races(4);
}

/// A write from a connection on another core aborts the watcher's EXEC.
#[test]
fn watch_sees_writes_from_every_core() {
    let server = Server::shoal_threads(4);
    let keys = spread("w", 8, 4);
    let mut watcher = server.conn();
    // Writers on several connections: with four cores they land on several.
    let mut writers: Vec<redis::Connection> = (0..8).map(|_| server.conn()).collect();
    for (i, writer) in writers.iter_mut().enumerate() {
        let key = &keys[i % keys.len()];
        assert_eq!(q(&mut watcher, &["WATCH", key]), Value::Okay);
        assert_eq!(q(writer, &["SET", key, &i.to_string()]), Value::Okay);
        assert_eq!(q(&mut watcher, &["MULTI"]), Value::Okay);
        assert_eq!(q(&mut watcher, &["GET", key]), Value::SimpleString("QUEUED".into()));
        assert_eq!(q(&mut watcher, &["EXEC"]), Value::Nil, "EXEC after {key} changed");
    }
}
