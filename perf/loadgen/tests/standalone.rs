//! shoal-load against a real redis-server: every test kind, its CSV row, and
//! what it left in the server.

mod common;

use common::{csv_row, shoal_load, Redis};

/// `-p <port>` and small, quick run settings.
fn base(server: &Redis, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> =
        ["-p", &server.port.to_string(), "-c", "4", "-P", "8"].iter().map(|s| s.to_string()).collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run(server: &Redis, extra: &[&str]) -> std::collections::HashMap<String, String> {
    let args = base(server, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let row = csv_row(&args);
    assert_eq!(row["errors"], "0", "{extra:?}: {row:?}");
    row
}

#[test]
fn sequential_set_fills_the_keyspace_exactly_then_get_reads_it() {
    let redis = Redis::start(&[], false);
    let row = run(&redis, &["-t", "set", "--pattern", "sequential", "-n", "1000", "-r", "1000"]);
    assert_eq!(row["test"], "set");
    assert_eq!(row["requests"], "1000");
    assert_eq!(row["clients"], "4");
    assert_eq!(row["pipeline"], "8");
    assert_eq!(row["data_size"], "32");
    assert_eq!(redis.query::<i64>(&["DBSIZE"]), 1000);
    assert_eq!(redis.query::<String>(&["GET", "key:000000000999"]), "x".repeat(32));

    let row = run(&redis, &["-t", "get", "-n", "500", "-r", "1000"]);
    assert_eq!((row["test"].as_str(), row["requests"].as_str()), ("get", "500"));
    assert!(row["ops_per_sec"].parse::<f64>().unwrap() > 0.0);
    let p50: f64 = row["p50_ms"].parse().unwrap();
    let max: f64 = row["max_ms"].parse().unwrap();
    assert!(p50 <= max, "{row:?}");
}

#[test]
fn two_threads_share_the_sequence() {
    let redis = Redis::start(&[], false);
    let row = run(
        &redis,
        &["-t", "set", "--pattern", "sequential", "-n", "5000", "-r", "5000", "-c", "8", "--threads", "2"],
    );
    assert_eq!((row["threads"].as_str(), row["requests"].as_str()), ("2", "5000"));
    assert_eq!(redis.query::<i64>(&["DBSIZE"]), 5000);
}

#[test]
fn mix_writes_one_key_in_eleven() {
    let redis = Redis::start(&[], false);
    run(&redis, &["-t", "mix", "--ratio", "1:10", "--pattern", "sequential", "-n", "1100"]);
    assert_eq!(redis.query::<i64>(&["DBSIZE"]), 100);
}

#[test]
fn incr_counts_per_counter() {
    let redis = Redis::start(&[], false);
    run(&redis, &["-t", "incr", "--pattern", "sequential", "-n", "1000", "-r", "10"]);
    assert_eq!(redis.query::<i64>(&["DBSIZE"]), 10);
    assert_eq!(redis.query::<i64>(&["GET", "counter:000000000003"]), 100);
}

#[test]
fn lists_push_then_pop() {
    let redis = Redis::start(&[], false);
    run(&redis, &["-t", "lpush", "-n", "1000"]);
    assert_eq!(redis.query::<i64>(&["LLEN", "mylist"]), 1000);
    run(&redis, &["-t", "lpop", "-n", "600"]);
    assert_eq!(redis.query::<i64>(&["LLEN", "mylist"]), 400);
}

#[test]
fn hset_and_zadd_fill_their_collections() {
    let redis = Redis::start(&[], false);
    run(&redis, &["-t", "hset", "--pattern", "sequential", "-n", "1000", "-r", "500"]);
    assert_eq!(redis.query::<i64>(&["HLEN", "myhash"]), 500);
    run(&redis, &["-t", "zadd", "--pattern", "sequential", "-n", "1000", "-r", "300"]);
    assert_eq!(redis.query::<i64>(&["ZCARD", "myzset"]), 300);
}

#[test]
fn mset_counts_commands_and_writes_every_key() {
    let redis = Redis::start(&[], false);
    let row = run(
        &redis,
        &["-t", "mset", "--mset-keys", "10", "--pattern", "sequential", "-n", "100", "-r", "1000"],
    );
    assert_eq!(row["requests"], "100");
    assert_eq!(redis.query::<i64>(&["DBSIZE"]), 1000);
}

#[test]
fn duration_ends_the_run() {
    let redis = Redis::start(&[], false);
    let row = run(&redis, &["-t", "get", "--duration", "0.3", "-n", "1"]);
    let seconds: f64 = row["seconds"].parse().unwrap();
    assert!((0.3..5.0).contains(&seconds), "{row:?}");
    assert!(row["requests"].parse::<u64>().unwrap() > 1, "{row:?}");
}

#[test]
fn error_replies_are_counted_and_shown() {
    let redis = Redis::start(&[], false);
    redis.query::<()>(&["SET", "counter:000000000000", "not a number"]);
    let port = redis.port.to_string();
    let out = shoal_load(&["-p", &port, "-t", "incr", "-r", "1", "-n", "20", "-c", "2", "--csv"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().nth(1).unwrap().ends_with(",20"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ERR value is not an integer or out of range"), "{stderr}");
}

#[test]
fn human_and_json_output() {
    let redis = Redis::start(&[], false);
    let port = redis.port.to_string();
    let out = shoal_load(&["-p", &port, "-n", "100", "-c", "2"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["test set: clients 2", "100 requests", "ops/s", "p99.9", "errors: 0"] {
        assert!(text.contains(word), "{word:?} in {text}");
    }
    let out = shoal_load(&["-p", &port, "-t", "get", "-n", "100", "-c", "2", "--json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(json["test"], "get");
    assert_eq!(json["requests"], 100);
    assert_eq!(json["errors"], 0);
}

#[test]
fn auth() {
    let redis = Redis::start(&["--requirepass", "s3cret"], false);
    let port = redis.port.to_string();
    let row = csv_row(&["-p", &port, "-a", "s3cret", "-n", "100", "-c", "2"]);
    assert_eq!(row["errors"], "0");
    let out = shoal_load(&["-p", &port, "-a", "wrong", "-n", "100", "-c", "2"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("AUTH"));
}

#[test]
fn connection_failure_exits_non_zero() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = shoal_load(&["-p", &port.to_string(), "-n", "10"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
}
