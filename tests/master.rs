//! Shoal as a master: redis-server 7.0 and Shoal replicas of a Shoal master,
//! the full sync (diskless, while writes go on), the replication stream with
//! the commands a replica must not recompute, partial resync after a cut
//! link, WAIT, INFO replication, a replica dropped past its output buffer
//! limit, and `redis-cli --rdb`. Data is compared key by key with the master's.

mod support;

use redis::Value;
use support::data::{fill, info_field, show as text, snapshot, wait_link_up, write_more};
use support::{q, wait_until, Server, WAIT};

/// WAIT on the master until `n` replicas acknowledged everything written so far.
fn wait_acked(master: &mut redis::Connection, n: i64) {
    assert_eq!(q(master, &["WAIT", &n.to_string(), "20000"]), Value::Int(n), "replicas acknowledged");
}

/// Stops (`-STOP`) or resumes (`-CONT`) a server process.
fn signal(pid: u32, which: &str) {
    let ok = std::process::Command::new("kill").args([which, &pid.to_string()]).status().expect("kill");
    assert!(ok.success(), "kill {which} {pid}");
}

fn master_with_data() -> (Server, redis::Connection) {
    let master = Server::shoal(&["--threads", "2"]);
    let mut m = master.conn();
    fill(&mut m, "");
    let library = "#!lua name=lib\nredis.register_function{function_name='f', \
        callback=function() return 'from lib' end, flags={'no-writes'}}";
    q(&mut m, &["FUNCTION", "LOAD", library]);
    (master, m)
}

/// A replica of either kind follows a Shoal master through a full sync and
/// the stream, and ends with the master's data and offset.
fn replicate_and_compare(replica: Server) {
    let (master, mut m) = master_with_data();
    let mut r = replica.conn();
    q(&mut r, &["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    wait_link_up(&mut r);
    wait_acked(&mut m, 1);
    assert_eq!(snapshot(&mut r, 3), snapshot(&mut m, 3), "after the full sync");
    assert_eq!(text(&q(&mut r, &["FCALL_RO", "f", "0"])), "from lib", "the master's functions came along");

    write_more(&mut m);
    // Keys MIGRATE moves away are deleted on the replica too.
    let target = Server::redis(&[]);
    for k in ["mig:a", "mig:b", "mig:c", "mig:d"] {
        q(&mut m, &["SET", k, "moving"]);
    }
    let tport = target.port.to_string();
    let migrated =
        q(&mut m, &["MIGRATE", "127.0.0.1", &tport, "", "0", "5000", "KEYS", "mig:a", "mig:b", "mig:c"]);
    assert_eq!(migrated, Value::Okay);
    q(&mut m, &["MIGRATE", "127.0.0.1", &tport, "mig:d", "0", "5000", "COPY"]);
    q(&mut m, &["SWAPDB", "0", "3"]);
    q(&mut m, &["SWAPDB", "0", "3"]);
    q(&mut m, &["SELECT", "2"]);
    q(&mut m, &["FLUSHDB"]);
    q(&mut m, &["SELECT", "0"]);
    wait_acked(&mut m, 1);
    assert_eq!(snapshot(&mut r, 4), snapshot(&mut m, 4), "after streaming");
    assert_eq!(
        info_field(&mut r, "replication", "master_repl_offset"),
        info_field(&mut m, "replication", "master_repl_offset"),
        "the replica's offset is the master's"
    );
    assert_eq!(info_field(&mut m, "stats", "sync_full").as_deref(), Some("1"));
    assert_eq!(info_field(&mut m, "replication", "connected_slaves").as_deref(), Some("1"));
    let slave0 = info_field(&mut m, "replication", "slave0").expect("slave0");
    assert!(slave0.starts_with(&format!("ip=127.0.0.1,port={},state=online,", replica.port)), "{slave0}");
    assert_eq!(info_field(&mut m, "replication", "repl_backlog_active").as_deref(), Some("1"));
    let Value::Array(role) = q(&mut m, &["ROLE"]) else { panic!("ROLE") };
    let Value::Array(replicas) = &role[2] else { panic!("ROLE's replicas: {role:?}") };
    let first = support::data::lines(&replicas[0]);
    assert_eq!(first[..2], ["127.0.0.1".to_string(), replica.port.to_string()], "ROLE lists the replica");
}

#[test]
fn a_redis_replica_of_a_shoal_master() {
    replicate_and_compare(Server::redis(&[]));
}

#[test]
fn a_shoal_replica_of_a_shoal_master() {
    replicate_and_compare(Server::shoal(&["--threads", "2"]));
}

/// Writes made while the snapshot is being sent are neither lost nor
/// applied twice: the stream the replica gets starts exactly at the cut.
#[test]
fn writes_during_the_full_sync_reach_the_replica() {
    let (master, mut m) = master_with_data();
    // Each key waits 100 us: the snapshot takes about a second.
    q(&mut m, &["CONFIG", "SET", "rdb-key-save-delay", "100"]);
    let replica = Server::redis(&[]);
    let mut r = replica.conn();
    q(&mut r, &["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    wait_until("the sync to start", WAIT, || {
        info_field(&mut m, "replication", "slave0").is_some_and(|s| s.contains("state=send_bulk"))
    });
    for round in 0..20 {
        q(&mut m, &["INCR", "k5"]);
        q(&mut m, &["APPEND", "k6", "x"]);
        q(&mut m, &["MSET", "k7", &round.to_string(), "m9", "y", "m10", "z"]);
        q(&mut m, &["RPOP", "biglist"]);
        q(&mut m, &["DEL", &format!("k{}", 100 + round)]);
    }
    write_more(&mut m);
    assert!(
        info_field(&mut m, "replication", "slave0").is_some_and(|s| s.contains("state=send_bulk")),
        "the writes came during the sync"
    );
    wait_link_up(&mut r);
    wait_acked(&mut m, 1);
    assert_eq!(snapshot(&mut r, 3), snapshot(&mut m, 3));
}

#[test]
fn a_cut_link_continues_with_a_partial_resync() {
    let (master, mut m) = master_with_data();
    let replica = Server::redis(&[]);
    let mut r = replica.conn();
    q(&mut r, &["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    wait_link_up(&mut r);
    wait_acked(&mut m, 1);
    for round in 0..3 {
        // Cut from either side.
        let (side, kind) = if round == 1 { (&mut m, "replica") } else { (&mut r, "master") };
        assert_eq!(q(side, &["CLIENT", "KILL", "TYPE", kind]), Value::Int(1));
        q(&mut m, &["SET", &format!("while-down-{round}"), "v"]);
        write_more(&mut m);
        wait_link_up(&mut r);
        wait_acked(&mut m, 1);
    }
    assert_eq!(info_field(&mut m, "stats", "sync_full").as_deref(), Some("1"));
    assert_eq!(info_field(&mut m, "stats", "sync_partial_ok").as_deref(), Some("3"));
    assert_eq!(snapshot(&mut r, 3), snapshot(&mut m, 3));
}

/// WAIT counts the replicas that acknowledged this client's writes, and
/// gives up at its timeout with the count so far.
#[test]
fn wait_counts_acknowledging_replicas() {
    let master = Server::shoal(&["--threads", "2"]);
    let mut m = master.conn();
    q(&mut m, &["SET", "a", "1"]);
    assert_eq!(q(&mut m, &["WAIT", "1", "100"]), Value::Int(0), "no replica yet");
    let port = master.port.to_string();
    let replicas = [
        Server::redis(&["--replicaof", "127.0.0.1", &port]),
        Server::shoal(&["--replicaof", "127.0.0.1", &port]),
    ];
    for r in &replicas {
        wait_link_up(&mut r.conn());
    }
    q(&mut m, &["SET", "b", "2"]);
    wait_acked(&mut m, 2);
    assert_eq!(q(&mut m, &["WAIT", "0", "0"]), Value::Int(2));
    assert_eq!(q(&mut m, &["WAIT", "3", "200"]), Value::Int(2), "the timeout gives the count so far");
    // A stopped replica acknowledges nothing more.
    let stopped = replicas[0].pid();
    signal(stopped, "-STOP");
    q(&mut m, &["SET", "c", "3"]);
    assert_eq!(q(&mut m, &["WAIT", "2", "300"]), Value::Int(1));
    signal(stopped, "-CONT");
    wait_acked(&mut m, 2);
    let mut r0 = replicas[0].conn();
    assert_eq!(q(&mut r0, &["GET", "c"]), Value::BulkString(b"3".to_vec()));
}

/// A replica that stops reading is dropped once it owes more than
/// `client-output-buffer-limit replica`, and syncs again when it is back;
/// the master's clients never wait for it.
#[test]
fn a_replica_past_its_output_limit_is_dropped_and_syncs_again() {
    let master = Server::shoal(&["--threads", "2"]);
    let mut m = master.conn();
    q(&mut m, &["CONFIG", "SET", "client-output-buffer-limit", "replica 1mb 0 0"]);
    q(&mut m, &["CONFIG", "SET", "repl-backlog-size", "16kb"]);
    let replica = Server::redis(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let mut r = replica.conn();
    wait_link_up(&mut r);
    let pid = replica.pid();
    signal(pid, "-STOP");
    let value = "v".repeat(10_000);
    let mut i = 0;
    wait_until("the master to drop the stopped replica", WAIT, || {
        for _ in 0..100 {
            q(&mut m, &["SET", &format!("key{i}"), &value]);
            i += 1;
        }
        info_field(&mut m, "replication", "connected_slaves").as_deref() == Some("0")
    });
    signal(pid, "-CONT");
    wait_until("the replica to sync again", WAIT, || {
        info_field(&mut m, "stats", "sync_full").as_deref() == Some("2")
    });
    wait_link_up(&mut r);
    wait_acked(&mut m, 1);
    assert_eq!(snapshot(&mut r, 1), snapshot(&mut m, 1));
}

/// PSYNC's and REPLCONF's errors, beside redis-server's: arity, a bad
/// offset, options, an ACK from a client that is no replica (no reply),
/// MULTI, and replies still pending from the same read.
#[test]
fn psync_errors_match_redis() {
    let shoal = Server::shoal(&[]);
    let redis = Server::redis(&[]);
    assert_eq!(psync_errors(&mut shoal.raw()), psync_errors(&mut redis.raw()));
}

fn psync_errors(c: &mut support::RawConn) -> Vec<String> {
    let mut replies = vec![
        c.cmd(&["PSYNC", "?"]),
        c.cmd(&["PSYNC", "?", "x"]),
        c.cmd(&["REPLCONF", "listening-port"]),
        c.cmd(&["REPLCONF", "nonsense", "1"]),
        c.cmd(&["REPLCONF", "listening-port", "x"]),
    ];
    // No reply to the ACK: the PING's is the next one.
    c.send(&[support::encode_str(&["REPLCONF", "ACK", "1"]), support::encode_str(&["PING"])].concat());
    replies.push(c.read_reply());
    replies.push(c.cmd(&["MULTI"]));
    replies.push(c.cmd(&["SYNC"]));
    replies.push(c.cmd(&["DISCARD"]));
    // REPLCONF's reply is still to be written when PSYNC comes in the same read.
    c.send(
        &[support::encode_str(&["REPLCONF", "capa", "eof"]), support::encode_str(&["PSYNC", "?", "-1"])]
            .concat(),
    );
    replies.push(c.read_reply());
    replies.push(c.read_reply());
    replies.iter().map(|r| support::lossy(r)).collect()
}

/// `redis-cli --rdb` takes a snapshot over the replication protocol.
#[test]
fn redis_cli_rdb_dumps_the_data_set() {
    let (master, mut m) = master_with_data();
    let dir = std::env::temp_dir().join(format!("shoal-cli-rdb-{}", master.port));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dump.rdb");
    let out = support::run_tool(
        std::process::Command::new("redis-cli").args([
            "-p",
            &master.port.to_string(),
            "--rdb",
            file.to_str().unwrap(),
        ]),
        None,
    );
    assert!(out.status.success(), "redis-cli --rdb: {}", String::from_utf8_lossy(&out.stderr));
    let loaded = Server::redis(&["--dir", dir.to_str().unwrap(), "--dbfilename", "dump.rdb"]);
    let mut l = loaded.conn();
    assert_eq!(snapshot(&mut l, 3), snapshot(&mut m, 3));
    assert_eq!(info_field(&mut m, "replication", "connected_slaves").as_deref(), Some("0"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn repl_diskless_sync_no_sends_the_rdb_with_its_length() {
    let (master, mut m) = master_with_data();
    q(&mut m, &["CONFIG", "SET", "repl-diskless-sync", "no"]);
    assert_eq!(text(&q(&mut m, &["CONFIG", "GET", "repl-diskless-sync"])), "[repl-diskless-sync, no]");
    let replica = Server::redis(&[]);
    let mut r = replica.conn();
    q(&mut r, &["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    wait_link_up(&mut r);
    wait_acked(&mut m, 1);
    assert_eq!(snapshot(&mut r, 3), snapshot(&mut m, 3));
    // A replica that takes the EOF framing gets the length framing all the same.
    use std::io::{Read, Write};
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", master.port)).unwrap();
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let mut got = Vec::new();
    let mut byte = [0u8];
    sock.write_all(b"REPLCONF capa eof capa psync2\r\n").unwrap();
    while !got.ends_with(b"\r\n") {
        sock.read_exact(&mut byte).unwrap();
        got.push(byte[0]);
    }
    // (Sent after the reply: PSYNC with replies unwritten is refused.)
    sock.write_all(b"PSYNC ? -1\r\n").unwrap();
    while got.iter().filter(|&&b| b == b'\n').count() < 3 {
        sock.read_exact(&mut byte).unwrap();
        got.push(byte[0]);
    }
    let got = String::from_utf8_lossy(&got).into_owned();
    let lines: Vec<&str> = got.split("\r\n").collect();
    assert_eq!(lines[0], "+OK");
    assert!(lines[1].starts_with("+FULLRESYNC "), "{got}");
    // Keepalive newlines may come first; then `$<length>`.
    let header = lines[2].trim_start_matches('\n');
    assert!(header.starts_with('$') && header[1..].bytes().all(|b| b.is_ascii_digit()), "{got:?}");
}
