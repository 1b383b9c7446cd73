//! Shoal as a replica of redis-server 7.0: REPLICAOF and `replicaof`, the
//! full sync in both of Redis's framings (an RDB file sent with its length,
//! and diskless with an EOF mark), the command stream after it, WAIT on the
//! master counting Shoal's acknowledgements, partial resync after a cut
//! link, read-only refusals, ROLE and INFO replication, and REPLICAOF NO ONE.
//! Data is compared key by key, value by value, with the master's.

mod support;

use redis::Value;
use support::data::{fill, info_field, lines, show as text, snapshot, wait_link_up, write_more};
use support::{q, wait_until, Server, WAIT};

/// WAIT on the master until Shoal has acknowledged everything written so far.
fn wait_acked(master: &mut redis::Connection) {
    assert_eq!(q(master, &["WAIT", "1", "20000"]), Value::Int(1), "Shoal acknowledged the master's offset");
}

fn replicate_and_compare(diskless: &str) {
    let master = Server::redis(&["--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    fill(&mut m, "");
    let library = "#!lua name=lib\nredis.register_function{function_name='f', \
        callback=function() return 'from lib' end, flags={'no-writes'}}";
    q(&mut m, &["FUNCTION", "LOAD", library]);
    let port = master.port.to_string();
    let replica = Server::shoal(&["--threads", "2", "--replicaof", "127.0.0.1", &port]);
    let mut r = replica.conn();
    wait_link_up(&mut r);
    wait_acked(&mut m);
    assert_eq!(snapshot(&mut r, 3), snapshot(&mut m, 3), "after the full sync");
    assert_eq!(text(&q(&mut r, &["FCALL_RO", "f", "0"])), "from lib", "the master's functions came along");

    write_more(&mut m);
    wait_acked(&mut m);
    assert_eq!(snapshot(&mut r, 3), snapshot(&mut m, 3), "after streaming");
    assert_eq!(
        info_field(&mut r, "replication", "master_repl_offset"),
        info_field(&mut m, "replication", "master_repl_offset"),
        "the replica's offset is the master's"
    );
    assert_eq!(info_field(&mut m, "stats", "sync_full").as_deref(), Some("1"));
}

#[test]
fn a_full_sync_from_an_rdb_file_then_the_stream() {
    replicate_and_compare("no");
}

#[test]
fn a_diskless_full_sync_then_the_stream() {
    replicate_and_compare("yes");
}

#[test]
fn a_cut_link_resumes_with_a_partial_resync() {
    let master = Server::redis(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    fill(&mut m, "a-");
    let replica = Server::shoal(&["--threads", "2"]);
    let mut r = replica.conn();
    assert_eq!(q(&mut r, &["REPLICAOF", "127.0.0.1", &master.port.to_string()]), Value::Okay);
    wait_link_up(&mut r);
    wait_acked(&mut m);
    // Writes the replica misses while its link is down are sent from the
    // master's backlog, not with another full copy.
    for round in 0..3 {
        assert_eq!(q(&mut m, &["CLIENT", "KILL", "TYPE", "replica"]), Value::Int(1));
        q(&mut m, &["SET", &format!("while-down-{round}"), "v"]);
        write_more(&mut m);
        wait_link_up(&mut r);
        wait_acked(&mut m);
    }
    assert_eq!(info_field(&mut m, "stats", "sync_full").as_deref(), Some("1"));
    assert_eq!(info_field(&mut m, "stats", "sync_partial_ok").as_deref(), Some("3"));
    assert_eq!(snapshot(&mut r, 3), snapshot(&mut m, 3));
}

#[test]
fn a_replica_refuses_writes_and_reports_its_role_until_replicaof_no_one() {
    let master = Server::redis(&["--repl-diskless-sync-delay", "0", "--requirepass", "secret"]);
    let mut m = master.conn_as(Some("secret"));
    q(&mut m, &["SET", "k", "v"]);
    let port = master.port.to_string();
    let replica = Server::shoal(&["--masterauth", "secret"]);
    let mut r = replica.conn();
    q(&mut r, &["SET", "mine", "gone after the sync"]);
    assert_eq!(q(&mut r, &["REPLICAOF", "127.0.0.1", &port]), Value::Okay);
    wait_link_up(&mut r);
    // (Not while the replica loads: REPLICAOF then gets LOADING, as in Redis.)
    assert_eq!(
        q(&mut r, &["REPLICAOF", "127.0.0.1", &port]),
        Value::SimpleString("OK Already connected to specified master".into())
    );
    wait_acked(&mut m);
    assert_eq!(text(&q(&mut r, &["GET", "k"])), "v");
    assert_eq!(q(&mut r, &["EXISTS", "mine"]), Value::Int(0), "a full sync replaces the replica's data");

    let readonly = "ERR:READONLY You can't write against a read only replica.";
    assert_eq!(text(&q(&mut r, &["SET", "k", "x"])), readonly);
    compare_with_a_redis_replica(&master, &mut m, &mut r);
    assert_eq!(
        lines(&q(&mut r, &["ROLE"]))[..4],
        ["slave".to_string(), "127.0.0.1".into(), port.clone(), "connected".into()]
    );
    assert_eq!(info_field(&mut r, "replication", "role").as_deref(), Some("slave"));
    assert_eq!(info_field(&mut r, "replication", "master_port"), Some(port.clone()));
    assert_eq!(lines(&q(&mut r, &["CONFIG", "GET", "replicaof"]))[1], format!("127.0.0.1 {port}"));

    // replica-read-only no lets clients write to the replica.
    assert_eq!(q(&mut r, &["CONFIG", "SET", "replica-read-only", "no"]), Value::Okay);
    assert_eq!(q(&mut r, &["SET", "local", "1"]), Value::Okay);
    assert_eq!(q(&mut r, &["CONFIG", "SET", "replica-read-only", "yes"]), Value::Okay);
    assert_eq!(text(&q(&mut r, &["SET", "k", "x"])), readonly);

    let replid = info_field(&mut r, "replication", "master_replid").unwrap();
    assert_eq!(Some(replid.clone()), info_field(&mut m, "replication", "master_replid"));
    assert_eq!(q(&mut r, &["REPLICAOF", "NO", "ONE"]), Value::Okay);
    assert_eq!(lines(&q(&mut r, &["ROLE"]))[0], "master");
    assert_eq!(info_field(&mut r, "replication", "master_replid2"), Some(replid));
    assert_eq!(q(&mut r, &["SET", "k", "mine now"]), Value::Okay);
    // No longer a replica: the master's writes do not arrive.
    wait_until("the master to see its replica go", WAIT, || {
        info_field(&mut m, "replication", "connected_slaves").as_deref() == Some("0")
    });
    q(&mut m, &["SET", "k", "the master's"]);
    assert_eq!(text(&q(&mut r, &["GET", "k"])), "mine now");
}

/// What a read-only replica refuses, and how: beside a redis-server replica
/// of the same master.
fn compare_with_a_redis_replica(master: &Server, m: &mut redis::Connection, shoal: &mut redis::Connection) {
    let library = "#!lua name=rw\n\
        redis.register_function('w', function(keys) return redis.call('SET', keys[1], 'x') end)\n\
        redis.register_function{function_name='r', callback=function(keys) return redis.call('GET', keys[1]) end, \
        flags={'no-writes'}}";
    q(m, &["FUNCTION", "LOAD", library]);
    let port = master.port.to_string();
    let redis = Server::redis(&["--replicaof", "127.0.0.1", &port, "--masterauth", "secret"]);
    let mut rc = redis.conn();
    wait_link_up(&mut rc);
    assert_eq!(q(m, &["WAIT", "2", "20000"]), Value::Int(2), "both replicas acknowledged");
    let write_script = "return redis.call('SET', KEYS[1], 'x')";
    for args in [
        &["SET", "k", "x"][..],
        &["INCR", "counter"],
        &["DEL", "k"],
        &["GET", "k"],
        &["EVAL", write_script, "1", "k"],
        &["EVAL", &format!("#!lua\n{write_script}"), "1", "k"],
        &["EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])", "1", "k"],
        &["EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "k"],
        &["FCALL", "w", "1", "k"],
        &["FCALL", "r", "1", "k"],
        &["FCALL_RO", "r", "1", "k"],
        &["MULTI"],
        &["SET", "k", "x"],
        &["EXEC"],
        &["WAIT", "0", "0"],
    ] {
        assert_eq!(text(&q(shoal, args)), text(&q(&mut rc, args)), "{args:?}");
    }
}

/// The command's own errors, beside redis-server's.
#[test]
fn replicaof_errors_match_redis() {
    let shoal = Server::shoal(&[]);
    let redis = Server::redis(&[]);
    let (mut s, mut r) = (shoal.conn(), redis.conn());
    for args in [
        &["REPLICAOF", "127.0.0.1", "notaport"][..],
        &["REPLICAOF", "127.0.0.1", "70000"],
        &["REPLICAOF", "127.0.0.1", "-1"],
        &["REPLICAOF", "127.0.0.1"],
        &["SLAVEOF", "no"],
        &["REPLICAOF", "NO", "ONE"],
        &["SLAVEOF", "no", "one"],
        &["ROLE"],
        &["CONFIG", "GET", "replica-read-only"],
        &["CONFIG", "GET", "repl-timeout"],
        &["CONFIG", "GET", "replicaof"],
        &["CONFIG", "SET", "replicaof", "127.0.0.1 1"],
        &["COMMAND", "INFO", "replicaof", "slaveof", "role", "wait"],
        // No replicas: nothing is ever acknowledged.
        &["WAIT", "0", "0"],
        &["WAIT", "1", "50"],
        &["WAIT", "-1", "0"],
        &["WAIT", "x", "0"],
        &["WAIT", "1", "-1"],
        &["WAIT", "1", "1.5"],
        &["WAIT", "1"],
        // A master without enough replicas refuses writes.
        &["CONFIG", "SET", "min-replicas-to-write", "1"],
        &["SET", "k", "v"],
        &["GET", "k"],
        &["MULTI"],
        &["INCR", "n"],
        &["EXEC"],
        &["CONFIG", "GET", "min-slaves-max-lag"],
        &["CONFIG", "SET", "min-replicas-max-lag", "0"],
        &["SET", "k", "v"],
        &["CONFIG", "SET", "min-replicas-max-lag", "10", "min-replicas-to-write", "0"],
        &["SET", "k", "w"],
    ] {
        let (a, b) = (q(&mut s, args), q(&mut r, args));
        match args[0] {
            // The master's replication id and offset differ; the shape does not.
            "ROLE" => assert_eq!(lines(&a)[0], lines(&b)[0]),
            _ => assert_eq!(text(&a), text(&b), "{args:?}"),
        }
    }
}

/// With `replica-serve-stale-data no`, a replica whose master cannot be
/// reached answers only the commands Redis flags stale, beside redis-server.
#[test]
fn a_replica_without_its_master_serves_stale_data_only_if_allowed() {
    let shoal = Server::shoal(&[]);
    let redis = Server::redis(&[]);
    let nobody = support::free_port().to_string();
    let (mut s, mut r) = (shoal.conn(), redis.conn());
    for args in [
        &["SET", "k", "v"][..],
        &["CONFIG", "SET", "replica-serve-stale-data", "no"],
        &["REPLICAOF", "127.0.0.1", &nobody],
        &["GET", "k"],
        &["PING"],
        &["SET", "k", "w"],
        &["DBSIZE"],
        &["CONFIG", "GET", "slave-serve-stale-data"],
        &["CONFIG", "SET", "replica-serve-stale-data", "yes"],
        &["GET", "k"],
        &["CONFIG", "SET", "replica-serve-stale-data", "no"],
        &["REPLICAOF", "NO", "ONE"],
        &["GET", "k"],
    ] {
        assert_eq!(text(&q(&mut s, args)), text(&q(&mut r, args)), "{args:?}");
    }
}
