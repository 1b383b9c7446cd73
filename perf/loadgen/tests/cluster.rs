//! shoal-load with `--cluster`: routing by slot over a real three-master
//! Redis Cluster, ASK during a slot migration, and MOVED from a node that
//! sends everything elsewhere.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use common::{csv_row, shoal_load, Cluster, Redis};

/// The (MOVED, ASK) counts shoal-load printed on stderr.
fn redirections(stderr: &str) -> (u64, u64) {
    let line = stderr.lines().find(|l| l.contains("redirections:")).unwrap_or_else(|| panic!("{stderr}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    (words[1].parse().unwrap(), words[3].parse().unwrap())
}

#[test]
fn cluster_routing_and_ask() {
    let cluster = Cluster::new(3);
    let port = cluster.nodes[0].port.to_string();
    let cl = |extra: &[&str]| {
        let mut args = vec!["--cluster", "-p", &port, "-c", "2", "-P", "8", "--csv"];
        args.extend_from_slice(extra);
        let out = shoal_load(&args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}:\n{stdout}\n{stderr}");
        assert!(stdout.lines().nth(1).unwrap().ends_with(",0"), "errors in {args:?}:\n{stdout}\n{stderr}");
        stderr
    };

    cl(&["-t", "set", "--pattern", "sequential", "-n", "3000", "-r", "3000"]);
    assert_eq!(cluster.dbsize(), 3000);
    for n in &cluster.nodes {
        assert!(n.query::<i64>(&["DBSIZE"]) > 500, "keys are spread over the masters");
    }
    // Tagged keys ("key:{tag}:<n>"), one slot per MSET.
    cl(&["-t", "mset", "--mset-keys", "10", "--pattern", "sequential", "-n", "300", "-r", "3000"]);
    assert_eq!(cluster.dbsize(), 6000);

    // Slots 0-999 (the first master's) migrating to the second master: new
    // keys there get ASK, and are written on the second master.
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let a_id: String = a.query(&["CLUSTER", "MYID"]);
    let b_id: String = b.query(&["CLUSTER", "MYID"]);
    let (mut pa, mut pb) = (redis::pipe(), redis::pipe());
    for slot in 0..1000 {
        pb.cmd("CLUSTER").arg("SETSLOT").arg(slot).arg("IMPORTING").arg(&a_id).ignore();
        pa.cmd("CLUSTER").arg("SETSLOT").arg(slot).arg("MIGRATING").arg(&b_id).ignore();
    }
    pb.query::<()>(&mut b.conn()).expect("importing");
    pa.query::<()>(&mut a.conn()).expect("migrating");
    let b_before: i64 = b.query(&["DBSIZE"]);
    let stderr =
        cl(&["-t", "set", "--key-prefix", "ask:", "--pattern", "sequential", "-n", "2000", "-r", "2000"]);
    let (moved, ask) = redirections(&stderr);
    assert_eq!(moved, 0, "{stderr}");
    assert!(ask > 0, "{stderr}");
    assert_eq!(cluster.dbsize(), 8000);
    assert!(b.query::<i64>(&["DBSIZE"]) >= b_before + ask as i64);

    // Without --cluster, MOVED is an error like any other.
    let out = shoal_load(&["-p", &port, "-t", "get", "-n", "300", "-c", "2", "--csv"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let errors: u64 = stdout.lines().nth(1).unwrap().rsplit(',').next().unwrap().parse().unwrap();
    assert!(errors > 100, "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("MOVED"));
}

/// A fake cluster node that claims every slot, then answers every other
/// command with a MOVED to `target`.
fn redirecting_node(target: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let slots = format!("*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:{port}\r\n");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let slots = slots.clone();
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut lines = BufReader::new(stream).lines();
                // Commands are arrays of bulk strings: "*N", then "$len" and
                // the argument N times.
                while let Some(Ok(header)) = lines.next() {
                    let Some(n) = header.strip_prefix('*').and_then(|n| n.parse::<usize>().ok()) else {
                        return;
                    };
                    let mut args = Vec::new();
                    for _ in 0..n {
                        let _len = lines.next();
                        args.push(lines.next().and_then(Result::ok).unwrap_or_default());
                    }
                    let reply = if args.first().is_some_and(|a| a.eq_ignore_ascii_case("CLUSTER")) {
                        slots.clone()
                    } else {
                        format!("-MOVED 1234 127.0.0.1:{target}\r\n")
                    };
                    if out.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn moved_requests_are_resent_and_counted() {
    let redis = Redis::start(&[], false);
    let fake = redirecting_node(redis.port).to_string();
    let out = shoal_load(&[
        "--cluster",
        "-p",
        &fake,
        "-t",
        "set",
        "--pattern",
        "sequential",
        "-n",
        "500",
        "-r",
        "500",
        "-c",
        "2",
        "-P",
        "4",
        "--csv",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.lines().nth(1).unwrap().ends_with(",0"), "{stdout}\n{stderr}");
    let (moved, ask) = redirections(&stderr);
    assert!(moved > 0 && ask == 0, "{stderr}");
    assert_eq!(redis.query::<i64>(&["DBSIZE"]), 500);
    let row = csv_row(&["--cluster", "-p", &fake, "-t", "get", "-n", "100", "-c", "1"]);
    assert_eq!(row["requests"], "100");
}
