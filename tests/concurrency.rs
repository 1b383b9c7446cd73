//! Many clients at once against keys spread over every core: multi-key
//! commands must be atomic (no torn MSET seen by MGET, exactly one MSETNX
//! winner, RENAME between cores never loses the value) and nothing written
//! may be lost. Each scenario runs with 2 cores and with 4 (more cores than
//! this machine may have CPUs: the server allows it).

mod support;

use redis::Value;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use support::{core_of, Server};

/// Joins every thread, re-raising the first panic with its message.
fn join_all<T>(handles: Vec<JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    let mut first_panic = None;
    for h in handles {
        match h.join() {
            Ok(v) => out.push(v),
            Err(e) => {
                if first_panic.is_none() {
                    first_panic = Some(e);
                }
            }
        }
    }
    if let Some(e) = first_panic {
        std::panic::resume_unwind(e);
    }
    out
}

/// Keys named `{prefix}:{i}`, chosen so that they cover every one of `cores`.
fn spread_keys(prefix: &str, n: usize, cores: usize) -> Vec<String> {
    let keys: Vec<String> = (1..=n).map(|i| format!("{prefix}:{i}")).collect();
    let hit: HashSet<usize> = keys.iter().map(|k| core_of(k.as_bytes(), cores)).collect();
    assert_eq!(hit.len(), cores.min(n), "{prefix}:1..{n} should cover {cores} cores");
    keys
}

fn bulk_strings(v: &Value) -> Vec<Option<String>> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Nil => None,
                Value::BulkString(b) => Some(support::lossy(b)),
                other => panic!("unexpected MGET element {other:?}"),
            })
            .collect(),
        other => panic!("unexpected MGET reply {other:?}"),
    }
}

const WRITERS: usize = 30;
const READERS: usize = 20;
const ITERATIONS: usize = 150;

/// 30 writers INCR shared counters and MSET a group of keys (one value for
/// the whole group) while 20 readers MGET the group: no MGET may see two
/// different values, and at the end every increment must be there.
fn mset_is_never_torn_and_nothing_is_lost(cores: usize) {
    let server = Server::shoal_threads(cores);
    let group = Arc::new(spread_keys("group", 8, cores));
    let counters = Arc::new(spread_keys("counter", 6, cores));
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(WRITERS + READERS));

    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (client, group, done, reads, start) =
                (server.client(), group.clone(), done.clone(), reads.clone(), start.clone());
            std::thread::spawn(move || {
                let mut con = client.get_connection().expect("reader connects");
                con.set_read_timeout(Some(support::WAIT)).unwrap();
                start.wait();
                let mut n = 0;
                // Read until the writers are done, and at least a few times.
                while !done.load(Ordering::Acquire) || n < 20 {
                    let mut cmd = redis::cmd("MGET");
                    for k in group.iter() {
                        cmd.arg(k);
                    }
                    let v: Value = cmd.query(&mut con).expect("MGET");
                    let values = bulk_strings(&v);
                    let first = &values[0];
                    assert!(
                        values.iter().all(|x| x == first),
                        "reader {r}: torn MSET seen by MGET: {values:?}"
                    );
                    n += 1;
                }
                reads.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (client, group, counters, start) =
                (server.client(), group.clone(), counters.clone(), start.clone());
            std::thread::spawn(move || {
                let mut con = client.get_connection().expect("writer connects");
                con.set_read_timeout(Some(support::WAIT)).unwrap();
                // Keys of this writer alone, on different cores, to check
                // that its own pipeline is answered in order.
                let own_a = format!("own:{w}:a");
                let own_b = (0..)
                    .map(|i| format!("own:{w}:b{i}"))
                    .find(|k| core_of(k.as_bytes(), 2) != core_of(own_a.as_bytes(), 2))
                    .expect("a key on another core");
                start.wait();
                for i in 0..ITERATIONS {
                    let value = format!("w{w}:i{i}");
                    let ctr = &counters[(w + i) % counters.len()];
                    if i % 3 == 0 {
                        // One pipeline mixing local and remote, single- and multi-core commands.
                        let mut mset = redis::cmd("MSET");
                        for k in group.iter() {
                            mset.arg(k).arg(&value);
                        }
                        let mut p = redis::pipe();
                        p.cmd("INCR")
                            .arg(ctr)
                            .add_command(mset)
                            .cmd("MSET")
                            .arg(&own_a)
                            .arg(&value)
                            .arg(&own_b)
                            .arg(&value)
                            .cmd("MGET")
                            .arg(&own_a)
                            .arg(&own_b)
                            .cmd("GET")
                            .arg(&own_a)
                            .cmd("SET")
                            .arg(&own_b)
                            .arg("later")
                            .cmd("GET")
                            .arg(&own_b);
                        let replies: Vec<Value> = p.query(&mut con).expect("pipeline");
                        assert!(matches!(replies[0], Value::Int(n) if n > 0));
                        assert_eq!(replies[1], Value::Okay);
                        assert_eq!(replies[2], Value::Okay);
                        assert_eq!(
                            bulk_strings(&replies[3]),
                            vec![Some(value.clone()), Some(value.clone())],
                            "writer {w}: its own MGET after its own MSET"
                        );
                        assert_eq!(replies[4], Value::BulkString(value.clone().into_bytes()));
                        assert_eq!(replies[5], Value::Okay);
                        assert_eq!(replies[6], Value::BulkString(b"later".to_vec()));
                    } else {
                        let _: i64 = redis::cmd("INCR").arg(ctr).query(&mut con).expect("INCR");
                        let mut mset = redis::cmd("MSET");
                        for k in group.iter() {
                            mset.arg(k).arg(&value);
                        }
                        let _: () = mset.query(&mut con).expect("MSET");
                    }
                }
                let _: i64 = redis::cmd("DEL").arg(&own_a).arg(&own_b).query(&mut con).expect("DEL own keys");
            })
        })
        .collect();

    join_all(writers);
    done.store(true, Ordering::Release);
    join_all(readers);
    assert!(reads.load(Ordering::Relaxed) >= READERS * 20);

    let mut con = server.conn();
    let mut mget = redis::cmd("MGET");
    for k in counters.iter() {
        mget.arg(k);
    }
    let totals: Vec<Option<String>> = bulk_strings(&mget.query(&mut con).unwrap());
    let sum: usize = totals.iter().map(|v| v.as_deref().unwrap_or("0").parse::<usize>().unwrap()).sum();
    assert_eq!(sum, WRITERS * ITERATIONS, "increments lost: {totals:?}");
    // Each counter got exactly the increments aimed at it.
    let n_counters = counters.len();
    for (c, total) in totals.iter().enumerate() {
        let want = (0..WRITERS)
            .flat_map(|w| (0..ITERATIONS).map(move |i| (w + i) % n_counters))
            .filter(|&x| x == c)
            .count();
        assert_eq!(total.as_deref(), Some(want.to_string().as_str()), "counter {c}");
    }
    let last = bulk_strings(&{
        let mut mget = redis::cmd("MGET");
        for k in group.iter() {
            mget.arg(k);
        }
        mget.query::<Value>(&mut con).unwrap()
    });
    assert!(last.iter().all(|v| v == &last[0] && v.is_some()), "{last:?}");
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(dbsize as usize, group.len() + counters.len(), "DBSIZE");
}

#[test]
fn mset_is_never_torn_and_nothing_is_lost_2_cores() {
    mset_is_never_torn_and_nothing_is_lost(2);
}

#[test]
fn mset_is_never_torn_and_nothing_is_lost_4_cores() {
    mset_is_never_torn_and_nothing_is_lost(4);
}

const RACERS: usize = 50;
const ROUNDS: usize = 25;

/// In each round 50 clients MSETNX the same four shared keys (on every
/// core) plus one private key each, all started together: exactly one wins,
/// the shared keys all hold its value, and only its private key exists.
fn msetnx_has_exactly_one_winner(cores: usize) {
    let server = Server::shoal_threads(cores);
    let start = Arc::new(Barrier::new(RACERS));
    let racers: Vec<_> = (0..RACERS)
        .map(|c| {
            let (client, start) = (server.client(), start.clone());
            std::thread::spawn(move || {
                let mut con = client.get_connection().expect("racer connects");
                con.set_read_timeout(Some(support::WAIT)).unwrap();
                let mut wins = Vec::new();
                for round in 0..ROUNDS {
                    let shared = spread_keys(&format!("nx:{round}"), 4, cores);
                    let mut cmd = redis::cmd("MSETNX");
                    for k in &shared {
                        cmd.arg(k).arg(format!("client{c}"));
                    }
                    cmd.arg(format!("nx:{round}:private:{c}")).arg("mine");
                    start.wait();
                    let won: i64 = cmd.query(&mut con).expect("MSETNX");
                    wins.push(won);
                }
                wins
            })
        })
        .collect();
    let wins = join_all(racers);
    let mut con = server.conn();
    for round in 0..ROUNDS {
        let winners: Vec<usize> = (0..RACERS).filter(|&c| wins[c].get(round) == Some(&1)).collect();
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let winner = winners[0];
        let shared = spread_keys(&format!("nx:{round}"), 4, cores);
        let mut mget = redis::cmd("MGET");
        for k in &shared {
            mget.arg(k);
        }
        let values = bulk_strings(&mget.query(&mut con).unwrap());
        let want = Some(format!("client{winner}"));
        assert!(
            values.iter().all(|v| *v == want),
            "round {round}: shared keys {values:?}, winner client{winner}"
        );
        let mut exists = redis::cmd("EXISTS");
        for c in 0..RACERS {
            exists.arg(format!("nx:{round}:private:{c}"));
        }
        let n: i64 = exists.query(&mut con).unwrap();
        assert_eq!(n, 1, "round {round}: private keys written by losers");
        let mine: Option<String> =
            redis::cmd("GET").arg(format!("nx:{round}:private:{winner}")).query(&mut con).unwrap();
        assert_eq!(mine.as_deref(), Some("mine"));
    }
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(dbsize as usize, ROUNDS * 5);
}

#[test]
fn msetnx_has_exactly_one_winner_2_cores() {
    msetnx_has_exactly_one_winner(2);
}

#[test]
fn msetnx_has_exactly_one_winner_4_cores() {
    msetnx_has_exactly_one_winner(4);
}

const PAIRS: usize = 4;
const MOVES: usize = 400;
const WATCHERS: usize = 12;

/// One mover per pair RENAMEs a value back and forth between two keys on
/// different cores while watchers read both keys at once (MGET) and one
/// at a time (GET): the value is always in exactly one of the two, and no
/// RENAME ever finds its source missing.
fn rename_ping_pong_never_loses_the_value(cores: usize) {
    let server = Server::shoal_threads(cores);
    let pairs: Arc<Vec<(String, String)>> = Arc::new(
        (0..PAIRS)
            .map(|p| {
                let a = format!("pp:{p}:a");
                let b = (0..)
                    .map(|i| format!("pp:{p}:b{i}"))
                    .find(|k| core_of(k.as_bytes(), cores) != core_of(a.as_bytes(), cores))
                    .expect("a key on another core");
                (a, b)
            })
            .collect(),
    );
    let mut con = server.conn();
    for (p, (a, _)) in pairs.iter().enumerate() {
        let _: () = redis::cmd("SET").arg(a).arg(format!("value-{p}")).query(&mut con).unwrap();
    }
    let done = Arc::new(AtomicBool::new(false));
    let movers: Vec<_> = (0..PAIRS)
        .map(|p| {
            let (client, pairs) = (server.client(), pairs.clone());
            std::thread::spawn(move || {
                let mut con = client.get_connection().unwrap();
                con.set_read_timeout(Some(support::WAIT)).unwrap();
                let (a, b) = &pairs[p];
                for i in 0..MOVES {
                    let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
                    let r: Value = redis::cmd(if i % 4 < 2 { "RENAME" } else { "RENAMENX" })
                        .arg(from)
                        .arg(to)
                        .query(&mut con)
                        .unwrap_or_else(|e| panic!("pair {p} move {i} {from} -> {to}: {e}"));
                    assert!(r == Value::Okay || r == Value::Int(1), "pair {p} move {i}: {r:?}");
                }
            })
        })
        .collect();
    let watchers: Vec<_> = (0..WATCHERS)
        .map(|w| {
            let (client, pairs, done) = (server.client(), pairs.clone(), done.clone());
            std::thread::spawn(move || {
                let mut con = client.get_connection().unwrap();
                con.set_read_timeout(Some(support::WAIT)).unwrap();
                let mut n = 0;
                while !done.load(Ordering::Acquire) || n < 10 {
                    for (p, (a, b)) in pairs.iter().enumerate() {
                        let want = Some(format!("value-{p}"));
                        let v =
                            bulk_strings(&redis::cmd("MGET").arg(a).arg(b).query::<Value>(&mut con).unwrap());
                        let present: Vec<_> = v.iter().filter(|x| x.is_some()).collect();
                        assert_eq!(present, vec![&want], "watcher {w}, pair {p}: MGET {a} {b} = {v:?}");
                        let n_exist: i64 = redis::cmd("EXISTS").arg(a).arg(b).query(&mut con).unwrap();
                        assert_eq!(n_exist, 1, "watcher {w}, pair {p}: EXISTS");
                        // Single GETs may miss the value in between, but never see another one.
                        let single: Option<String> =
                            redis::cmd("GET").arg(if n % 2 == 0 { a } else { b }).query(&mut con).unwrap();
                        assert!(single.is_none() || single == want, "GET saw {single:?}");
                    }
                    n += 1;
                }
            })
        })
        .collect();
    join_all(movers);
    done.store(true, Ordering::Release);
    join_all(watchers);
    for (p, (a, b)) in pairs.iter().enumerate() {
        // MOVES is even: every value is back in its `a` key.
        let v = bulk_strings(&redis::cmd("MGET").arg(a).arg(b).query::<Value>(&mut con).unwrap());
        assert_eq!(v, vec![Some(format!("value-{p}")), None], "pair {p} at the end");
    }
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(dbsize as usize, PAIRS);
}

#[test]
fn rename_ping_pong_never_loses_the_value_2_cores() {
    rename_ping_pong_never_loses_the_value(2);
}

#[test]
fn rename_ping_pong_never_loses_the_value_4_cores() {
    rename_ping_pong_never_loses_the_value(4);
}

/// COPY, DEL and MSET over the same keys on several cores from many
/// clients, while FLUSHALL and SWAPDB run now and then: every reply is a
/// legal one and the server stays consistent (DBSIZE equals KEYS *).
#[test]
fn mixed_multi_core_commands_with_flushall_and_swapdb() {
    let server = Server::shoal_threads(2);
    let keys = Arc::new(spread_keys("mix", 6, 2));
    let clients: Vec<_> = (0..16)
        .map(|c| {
            let (client, keys) = (server.client(), keys.clone());
            std::thread::spawn(move || {
                let mut con = client.get_connection().unwrap();
                con.set_read_timeout(Some(support::WAIT)).unwrap();
                for i in 0..120 {
                    use redis::ConnectionLike;
                    let k = |j: usize| &keys[(c + i + j) % keys.len()];
                    let cmd = match (c + i) % 7 {
                        0 => redis::cmd("MSET").arg(k(0)).arg(i).arg(k(1)).arg(i).clone(),
                        1 => redis::cmd("COPY").arg(k(0)).arg(k(3)).arg("REPLACE").clone(),
                        2 => redis::cmd("DEL").arg(k(0)).arg(k(2)).arg(k(4)).clone(),
                        3 => redis::cmd("MGET").arg(k(0)).arg(k(1)).arg(k(2)).clone(),
                        4 => redis::cmd("RENAMENX").arg(k(1)).arg(k(5)).clone(),
                        5 if c == 0 && i % 30 == 5 => redis::cmd("FLUSHALL"),
                        5 if c == 1 && i % 20 == 5 => redis::cmd("SWAPDB").arg(0).arg(1).clone(),
                        _ => redis::cmd("MSETNX").arg(k(2)).arg(i).arg(k(3)).arg(i).clone(),
                    };
                    let renamenx = (c + i) % 7 == 4;
                    let r = con.req_command(&cmd).unwrap_or_else(|e| panic!("client {c} step {i}: {e}"));
                    // RENAMENX of a key another client just deleted is the one legal error.
                    let legal_error = |e: &redis::ServerError| renamenx && e.details() == Some("no such key");
                    assert!(
                        !matches!(&r, Value::ServerError(e) if !legal_error(e)),
                        "client {c} step {i}: {r:?}"
                    );
                }
            })
        })
        .collect();
    join_all(clients);
    let mut con = server.conn();
    for db in 0..2 {
        let _: () = redis::cmd("SELECT").arg(db).query(&mut con).unwrap();
        let dbsize: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        let all: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
        assert_eq!(dbsize as usize, all.len(), "db {db}: DBSIZE vs KEYS");
        let mut scanned: Vec<String> = redis::cmd("SCAN")
            .cursor_arg(0)
            .arg("COUNT")
            .arg(1000)
            .clone()
            .iter(&mut con)
            .unwrap()
            .map(|k| k.expect("a key"))
            .collect();
        scanned.sort();
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(scanned, sorted, "db {db}: SCAN vs KEYS");
    }
}

/// Right after startup every core is idle (parked); the first requests that
/// need another core must still be answered. Three servers with 4 cores each
/// (more cores than CPUs) are started over and over, concurrently, and each
/// is sent cross-core requests at once; every reply must come (within the
/// read timeout). A lost wake-up of a parked core shows up here as a request
/// that is only answered when some later message reaches the same core.
#[test]
fn cross_core_requests_right_after_startup_are_answered() {
    let starters: Vec<_> = (0..3)
        .map(|t| {
            std::thread::spawn(move || {
                for round in 0..40 {
                    let server = Server::shoal_threads(4);
                    let mut c = server.raw();
                    for (i, req) in [
                        &["INFO", "server"][..],
                        &["INFO", "keyspace"],
                        &["MSET", "key:1", "a", "key:2", "b", "key:3", "c", "key:4", "d"],
                        &["MGET", "key:1", "key:2", "key:3", "key:4"],
                        &["DBSIZE"],
                    ]
                    .iter()
                    .enumerate()
                    {
                        let args: Vec<&[u8]> = req.iter().map(|a| a.as_bytes()).collect();
                        c.send_cmd(&args);
                        if let Err(e) = c.reply_within_timeout() {
                            // Another cross-core request releases the stuck reply.
                            let mut other = server.raw();
                            other.cmd(&["INFO", "server"]);
                            let late = c.reply_within_timeout().map(|r| support::lossy(&r));
                            panic!(
                                "starter {t}, round {round}, request {i} {req:?}: {e}; after \
                                 one more cross-core request on another connection it got: \
                                 {late:?}"
                            );
                        }
                    }
                }
            })
        })
        .collect();
    join_all(starters);
}

/// Database 0 holds one value in every key of a group (keys on every core),
/// database 1 another; one client keeps swapping them (SWAPDB) and another
/// keeps emptying and refilling database 1, while readers MGET the group in
/// database 0: each MGET must see a single value, or nothing at all, never a
/// mix (SWAPDB and FLUSHDB must be atomic across cores).
fn swapdb_and_flushdb_are_atomic_across_cores(cores: usize) {
    let server = Server::shoal_threads(cores);
    let group = Arc::new(spread_keys("swap", 8, cores));
    let mut con = server.conn();
    for (db, value) in [(0, "zero"), (1, "one")] {
        let _: () = redis::cmd("SELECT").arg(db).query(&mut con).unwrap();
        let mut mset = redis::cmd("MSET");
        for k in group.iter() {
            mset.arg(k).arg(value);
        }
        let _: () = mset.query(&mut con).unwrap();
    }
    let done = Arc::new(AtomicBool::new(false));
    let mutators: Vec<_> = (0..2)
        .map(|m| {
            let (client, group) = (server.client(), group.clone());
            std::thread::spawn(move || {
                let mut con = client.get_connection().unwrap();
                con.set_read_timeout(Some(support::WAIT)).unwrap();
                for i in 0..300 {
                    if m == 0 {
                        let _: () = redis::cmd("SWAPDB").arg(0).arg(1).query(&mut con).unwrap();
                    } else {
                        // Refill database 2 and swap it in for database 1, or empty database 1.
                        let db = if i % 2 == 0 { 1 } else { 2 };
                        let _: () = redis::cmd("SELECT").arg(db).query(&mut con).unwrap();
                        if i % 2 == 0 {
                            let _: () = redis::cmd("FLUSHDB").query(&mut con).unwrap();
                        } else {
                            let mut mset = redis::cmd("MSET");
                            for k in group.iter() {
                                mset.arg(k).arg(format!("refill{i}"));
                            }
                            let _: () = mset.query(&mut con).unwrap();
                            let _: () = redis::cmd("SWAPDB").arg(1).arg(2).query(&mut con).unwrap();
                        }
                    }
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..8)
        .map(|r| {
            let (client, group, done) = (server.client(), group.clone(), done.clone());
            std::thread::spawn(move || {
                let mut con = client.get_connection().unwrap();
                con.set_read_timeout(Some(support::WAIT)).unwrap();
                let mut n = 0;
                while !done.load(Ordering::Acquire) || n < 10 {
                    let mut mget = redis::cmd("MGET");
                    for k in group.iter() {
                        mget.arg(k);
                    }
                    let values = bulk_strings(&mget.query(&mut con).unwrap());
                    assert!(
                        values.iter().all(|v| *v == values[0]),
                        "reader {r}: a torn SWAPDB/FLUSHDB: {values:?}"
                    );
                    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
                    assert!(dbsize == 0 || dbsize == group.len() as i64, "reader {r}: DBSIZE {dbsize}");
                    n += 1;
                }
            })
        })
        .collect();
    join_all(mutators);
    done.store(true, Ordering::Release);
    join_all(readers);
}

#[test]
fn swapdb_and_flushdb_are_atomic_across_cores_2_cores() {
    swapdb_and_flushdb_are_atomic_across_cores(2);
}

#[test]
fn swapdb_and_flushdb_are_atomic_across_cores_4_cores() {
    swapdb_and_flushdb_are_atomic_across_cores(4);
}
