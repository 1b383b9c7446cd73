//! Shoal driven by the standard tools and by administrative flows:
//! redis-cli, redis-benchmark, nc-style raw TCP, CLIENT LIST/KILL across
//! cores, CONFIG SET/GET, AUTH and requirepass, SHUTDOWN and signals,
//! maxclients, and startup configuration (file, overrides, errors).

mod support;

use redis::Value;
use std::io::{Read, Write};
use std::process::Command;
use support::{int, lossy, q, run_tool, text, wait_until, RawConn, Server, WAIT};

fn redis_cli(server: &Server, args: &[&str]) -> String {
    redis_cli_stdin(server, args, None)
}

fn redis_cli_stdin(server: &Server, args: &[&str], stdin: Option<&[u8]>) -> String {
    let out = run_tool(
        Command::new("redis-cli").args(["-h", "127.0.0.1", "-p", &server.port.to_string()]).args(args),
        stdin,
    );
    assert!(
        out.status.success(),
        "redis-cli {args:?} failed: {}\n{}",
        lossy(&out.stdout),
        lossy(&out.stderr)
    );
    lossy(&out.stdout)
}

#[test]
fn redis_cli_basics() {
    let server = Server::shoal_threads(2);
    assert_eq!(redis_cli(&server, &["ping"]), "PONG\n");
    assert_eq!(redis_cli(&server, &["set", "k", "v"]), "OK\n");
    assert_eq!(redis_cli(&server, &["get", "k"]), "v\n");
    assert_eq!(redis_cli(&server, &["get", "nosuch"]), "\n");
    assert_eq!(redis_cli(&server, &["--no-raw", "get", "nosuch"]), "(nil)\n");
    assert_eq!(redis_cli(&server, &["incrby", "n", "41"]), "41\n");
    assert_eq!(redis_cli(&server, &["--no-raw", "incr", "n"]), "(integer) 42\n");
    let mut argv = vec!["mset"];
    let keys = support::keys(40);
    for k in &keys {
        argv.push(k);
        argv.push("x");
    }
    assert_eq!(redis_cli(&server, &argv), "OK\n");
    assert_eq!(redis_cli(&server, &["dbsize"]), "42\n");
    // --scan walks every core.
    let mut scanned: Vec<String> = redis_cli(&server, &["--scan"]).lines().map(String::from).collect();
    scanned.sort();
    let mut want: Vec<String> = keys.clone();
    want.extend(["k".to_string(), "n".to_string()]);
    want.sort();
    assert_eq!(scanned, want);
    let mut matched: Vec<String> =
        redis_cli(&server, &["--scan", "--pattern", "key:1*"]).lines().map(String::from).collect();
    matched.sort();
    let mut want: Vec<String> = keys.iter().filter(|k| k.starts_with("key:1")).cloned().collect();
    want.sort();
    assert_eq!(matched, want);
    let info = redis_cli(&server, &["info"]);
    assert!(info.contains("# Server"), "{info}");
    assert!(info.contains("redis_version:7.0.15"), "{info}");
    assert!(info.contains("db0:keys=42,expires=0"), "{info}");
    let server_section = redis_cli(&server, &["info", "server"]);
    assert!(server_section.contains(&format!("tcp_port:{}", server.port)), "{server_section}");
    // Commands piped on standard input, one per line.
    assert_eq!(
        redis_cli_stdin(&server, &[], Some(b"PING\nSET piped yes\nGET piped\nDEL piped\n")),
        "PONG\nOK\nyes\n1\n"
    );
    // -x reads the last argument from standard input.
    assert_eq!(redis_cli_stdin(&server, &["-x", "set", "fromstdin"], Some(b"data")), "OK\n");
    assert_eq!(redis_cli(&server, &["get", "fromstdin"]), "data\n");
    // -n selects another database.
    assert_eq!(redis_cli(&server, &["-n", "3", "set", "k3", "v3"]), "OK\n");
    assert_eq!(redis_cli(&server, &["-n", "3", "dbsize"]), "1\n");
    // -3 speaks RESP3.
    assert_eq!(redis_cli(&server, &["-3", "get", "k"]), "v\n");
    assert_eq!(redis_cli(&server, &["-3", "--no-raw", "get", "nosuch"]), "(nil)\n");
    // Errors are printed, not fatal.
    assert_eq!(
        redis_cli(&server, &["nosuchcommand"]).trim_end(),
        "ERR unknown command 'nosuchcommand', with args beginning with:"
    );
}

#[test]
fn redis_cli_pipe_mode_mass_insertion() {
    let server = Server::shoal_threads(2);
    let mut input = Vec::new();
    for i in 0..5000 {
        input.extend(support::encode_str(&["SET", &format!("mass:{i}"), &i.to_string()]));
    }
    let out = redis_cli_stdin(&server, &["--pipe"], Some(&input));
    assert!(out.contains("errors: 0, replies: 5000"), "{out}");
    let mut c = server.conn();
    assert_eq!(q(&mut c, &["DBSIZE"]), Value::Int(5000));
    assert_eq!(q(&mut c, &["GET", "mass:4999"]), Value::BulkString(b"4999".to_vec()));
    // redis-cli --scan over both cores returns every key, once.
    let scanned = redis_cli(&server, &["--scan"]);
    let mut keys: Vec<&str> = scanned.lines().collect();
    let total = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 5000, "distinct keys from --scan");
    assert_eq!(total, 5000, "--scan returned duplicates");
}

#[test]
fn protected_mode_denies_other_interfaces() {
    // Needs an address of this machine other than loopback to connect from.
    let Some(ip) = non_loopback_ipv4() else {
        eprintln!("no non-loopback IPv4 address: skipping");
        return;
    };
    let open = Server::shoal(&["--threads", "2", "--bind", "0.0.0.0"]);
    let mut s = std::net::TcpStream::connect((ip, open.port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    assert!(lossy(&reply).starts_with("-DENIED "), "{}", lossy(&reply));
    // Loopback is always allowed.
    let mut c = open.raw();
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    // With protected mode off, or a password set, other interfaces may connect.
    assert_eq!(c.cmd(&["CONFIG", "SET", "protected-mode", "no"]), b"+OK\r\n");
    let mut s = RawConn::connect_to((ip, open.port));
    assert_eq!(s.cmd(&["PING"]), b"+PONG\r\n");
    let pw = Server::shoal(&["--threads", "2", "--bind", "0.0.0.0", "--requirepass", "pw"]);
    let mut s = RawConn::connect_to((ip, pw.port));
    assert_eq!(s.cmd(&["AUTH", "pw"]), b"+OK\r\n");
    assert_eq!(s.cmd(&["PING"]), b"+PONG\r\n");
}

/// An IPv4 address of this machine that is not loopback (found by asking
/// the kernel which source address a UDP socket would use).
fn non_loopback_ipv4() -> Option<std::net::Ipv4Addr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.254:9").ok()?;
    match s.local_addr().ok()?.ip() {
        std::net::IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
        _ => None,
    }
}

fn benchmark(server: &Server, args: &[&str]) -> std::process::Output {
    run_tool(
        Command::new("redis-benchmark").args(["-h", "127.0.0.1", "-p", &server.port.to_string()]).args(args),
        None,
    )
}

#[test]
fn redis_benchmark_runs_and_the_server_survives() {
    let shoal = Server::shoal_threads(2);
    let out = benchmark(&shoal, &["-t", "set,get,incr,mset", "-n", "20000", "-q", "-P", "16"]);
    let stdout = lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", lossy(&out.stderr));
    for test in ["SET: ", "GET: ", "INCR: ", "MSET (10 keys): "] {
        assert!(
            stdout
                .split(['\r', '\n'])
                .any(|l| l.trim_start().starts_with(test) && l.contains("requests per second")),
            "no result for {test:?} in:\n{stdout}"
        );
    }
    // The collection tests, each against keys on both cores.
    let tests = "lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100";
    let out = benchmark(&shoal, &["-t", tests, "-n", "5000", "-q", "-P", "16"]);
    let stdout = lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", lossy(&out.stderr));
    for test in [
        "LPUSH: ",
        "RPUSH: ",
        "LPOP: ",
        "RPOP: ",
        "SADD: ",
        "HSET: ",
        "SPOP: ",
        "ZADD: ",
        "ZPOPMIN: ",
        "LRANGE_100",
    ] {
        assert!(
            stdout
                .split(['\r', '\n'])
                .any(|l| l.trim_start().starts_with(test) && l.contains("requests per second")),
            "no result for {test:?} in:\n{stdout}"
        );
    }
    assert!(!stdout.contains("ERR"), "{stdout}");
    // Many clients at once, no pipelining.
    let out = benchmark(&shoal, &["-t", "set,get", "-n", "5000", "-c", "50", "-q"]);
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    let mut c = shoal.conn();
    assert_eq!(q(&mut c, &["PING"]), Value::SimpleString("PONG".into()));

    // With fixed key names (no -r) the keys written are the same as Redis's.
    let redis = Server::redis(&[]);
    let mut keys = Vec::new();
    for server in [&shoal, &redis] {
        let mut c = server.conn();
        assert_eq!(q(&mut c, &["FLUSHALL"]), Value::Okay);
        let out = benchmark(server, &["-t", "set,incr,mset", "-n", "1000", "-q", "-P", "8"]);
        assert!(out.status.success());
        let mut k: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
        k.sort();
        keys.push(k);
    }
    assert_eq!(keys[0], keys[1], "keys after redis-benchmark: shoal vs redis");
}

#[test]
fn raw_tcp_like_nc() {
    let (shoal, redis) = (Server::shoal_threads(2), Server::redis(&[]));
    for server in [&shoal, &redis] {
        // printf 'PING\r\n' | nc: write, close the write half, read to the end.
        let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.write_all(b"PING\r\nSET nc 1\r\nINCR nc\r\n").unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        assert_eq!(lossy(&out), "+PONG\r\n+OK\r\n:2\r\n", "{}", server.kind.name());
    }
}

/// A connection with its id, name and raw stream.
struct Client {
    id: i64,
    con: RawConn,
}

fn client_id(c: &mut RawConn) -> i64 {
    let r = lossy(&c.cmd(&["CLIENT", "ID"]));
    r.trim_start_matches(':').trim_end().parse().expect("client id")
}

fn open_clients(server: &Server, n: usize) -> Vec<Client> {
    (0..n)
        .map(|i| {
            let mut con = server.raw();
            assert_eq!(con.cmd(&["CLIENT", "SETNAME", &format!("c{i}")]), b"+OK\r\n");
            let id = client_id(&mut con);
            Client { id, con }
        })
        .collect()
}

fn client_list(c: &mut RawConn) -> String {
    let raw = c.cmd(&["CLIENT", "LIST"]);
    let v = redis::parse_redis_value(&raw).unwrap();
    text(&v)
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.split(' ').find_map(|kv| kv.strip_prefix(&format!("{name}=")))
}

#[test]
fn client_list_and_kill_across_cores() {
    let server = Server::shoal_threads(2);
    // With SO_REUSEPORT each connection lands on one core's listener; with
    // 12 connections both cores have some (all on one core: 1 in 2048).
    let mut clients = open_clients(&server, 12);
    let ids: Vec<i64> = clients.iter().map(|c| c.id).collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "client ids are unique: {ids:?}");

    let mut admin = server.raw();
    assert_eq!(admin.cmd(&["SELECT", "2"]), b"+OK\r\n");
    let admin_id = client_id(&mut admin);
    let list = client_list(&mut admin);
    for (i, c) in clients.iter().enumerate() {
        let line = list
            .lines()
            .find(|l| field(l, "id") == Some(c.id.to_string().as_str()))
            .unwrap_or_else(|| panic!("client {} missing from CLIENT LIST:\n{list}", c.id));
        assert_eq!(field(line, "name"), Some(format!("c{i}").as_str()), "{line}");
        assert_eq!(field(line, "cmd"), Some("client|id"), "{line}");
        assert_eq!(field(line, "db"), Some("0"), "{line}");
    }
    let own = list.lines().find(|l| field(l, "id") == Some(admin_id.to_string().as_str())).expect("own line");
    assert_eq!(field(own, "db"), Some("2"));
    assert_eq!(field(own, "cmd"), Some("client|list"));
    // CLIENT LIST is sorted by id, and CLIENT LIST ID filters.
    let listed: Vec<i64> = list.lines().map(|l| field(l, "id").unwrap().parse().unwrap()).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    let some = client_list_ids(&mut admin, &[ids[0], ids[5], 999_999]);
    assert_eq!(some, vec![ids[0], ids[5]]);
    // HELLO reports the same id as CLIENT ID.
    let hello = redis::parse_redis_value(&clients[2].con.cmd(&["HELLO"])).unwrap();
    let Value::Array(kv) = hello else { panic!("HELLO in RESP2 is a flat array: {hello:?}") };
    let id_pos = kv.iter().position(|v| *v == Value::BulkString(b"id".to_vec()));
    assert_eq!(kv[id_pos.expect("id field") + 1], Value::Int(ids[2]));
    // CLIENT INFO is the connection's own CLIENT LIST line.
    let info = text(&redis::parse_redis_value(&clients[3].con.cmd(&["CLIENT", "INFO"])).unwrap());
    assert_eq!(field(&info, "id"), Some(ids[3].to_string().as_str()));
    assert_eq!(field(&info, "name"), Some("c3"));

    // Kill every other client by id, one by one, from one connection: each
    // is closed whichever core it is on, and leaves CLIENT LIST.
    for c in clients.iter_mut().take(8) {
        assert_eq!(admin.cmd(&["CLIENT", "KILL", "ID", &c.id.to_string()]), b":1\r\n", "kill {}", c.id);
        c.con.expect_closed();
        assert_eq!(admin.cmd(&["CLIENT", "KILL", "ID", &c.id.to_string()]), b":0\r\n", "kill {} again", c.id);
    }
    wait_until("killed clients to leave CLIENT LIST", WAIT, || {
        client_list_ids(&mut admin, &ids[..8]).is_empty()
    });
    // The survivors still work.
    for c in clients.iter_mut().skip(8) {
        assert_eq!(c.con.cmd(&["PING"]), b"+PONG\r\n");
    }
    // By address, with the old form and the new.
    let list = client_list(&mut admin);
    let addr_of = |id: i64| -> String {
        let line = list.lines().find(|l| field(l, "id") == Some(id.to_string().as_str())).expect("listed");
        field(line, "addr").unwrap().to_string()
    };
    let (a8, a9) = (addr_of(ids[8]), addr_of(ids[9]));
    assert_eq!(admin.cmd(&["CLIENT", "KILL", &a8]), b"+OK\r\n");
    clients[8].con.expect_closed();
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "ADDR", &a9]), b":1\r\n");
    clients[9].con.expect_closed();
    // SKIPME: a connection does not kill itself unless asked to.
    let own_addr = addr_of(admin_id);
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "ADDR", &own_addr]), b":0\r\n");
    // TYPE normal kills every other normal client (the two left here).
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "TYPE", "normal"]), b":2\r\n");
    clients[10].con.expect_closed();
    clients[11].con.expect_closed();
    assert_eq!(admin.cmd(&["PING"]), b"+PONG\r\n");
    // A connection may kill itself: it gets the reply, then is closed.
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "ID", &admin_id.to_string(), "SKIPME", "no"]), b":1\r\n");
    admin.expect_closed();
}

fn client_list_ids(c: &mut RawConn, ids: &[i64]) -> Vec<i64> {
    let mut argv: Vec<String> = vec!["CLIENT".into(), "LIST".into(), "ID".into()];
    argv.extend(ids.iter().map(|i| i.to_string()));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let v = redis::parse_redis_value(&c.cmd(&argv)).unwrap();
    text(&v).lines().map(|l| field(l, "id").unwrap().parse().unwrap()).collect()
}

#[test]
fn config_set_reaches_every_core() {
    let server = Server::shoal_threads(2);
    let mut admin = server.conn();
    let get = |c: &mut redis::Connection, name: &str| -> String {
        match q(c, &["CONFIG", "GET", name]) {
            Value::Array(kv) if kv.len() == 2 => text(&kv[1]),
            other => panic!("CONFIG GET {name}: {other:?}"),
        }
    };
    let settings = [
        ("hz", "25"),
        ("maxclients", "777"),
        ("timeout", "3600"),
        ("proto-max-bulk-len", "2097152"),
        ("client-query-buffer-limit", "4194304"),
        ("loglevel", "notice"),
        ("protected-mode", "no"),
        ("tcp-keepalive", "60"),
    ];
    for (name, value) in settings {
        assert_eq!(q(&mut admin, &["CONFIG", "SET", name, value]), Value::Okay, "{name}");
    }
    // Read back on many new connections (so on both cores).
    for _ in 0..8 {
        let mut c = server.conn();
        for (name, value) in settings {
            assert_eq!(get(&mut c, name), value, "CONFIG GET {name}");
        }
    }
    // Several at once, atomically: a bad one changes nothing.
    assert!(matches!(
        q(&mut admin, &["CONFIG", "SET", "hz", "30", "maxclients", "bad"]),
        Value::ServerError(_)
    ));
    assert_eq!(get(&mut admin, "hz"), "25");
    assert_eq!(q(&mut admin, &["CONFIG", "SET", "hz", "30", "maxclients", "800"]), Value::Okay);
    assert_eq!(get(&mut server.conn(), "hz"), "30");
    assert_eq!(get(&mut server.conn(), "maxclients"), "800");
    // A new limit applies at once: proto-max-bulk-len of 2 MiB rejects 3 MiB.
    let mut raw = server.raw();
    raw.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3145728\r\n");
    assert_eq!(lossy(&raw.read_to_close()), "-ERR Protocol error: invalid bulk length\r\n");
    // requirepass set at run time applies to new connections on every core.
    assert_eq!(q(&mut admin, &["CONFIG", "SET", "requirepass", "later"]), Value::Okay);
    for _ in 0..8 {
        let mut c = server.raw();
        assert_eq!(c.cmd(&["GET", "k"]), b"-NOAUTH Authentication required.\r\n");
        assert_eq!(c.cmd(&["AUTH", "later"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["GET", "k"]), b"$-1\r\n");
    }
    assert_eq!(q(&mut admin, &["AUTH", "later"]), Value::Okay);
    assert_eq!(q(&mut admin, &["CONFIG", "SET", "requirepass", ""]), Value::Okay);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GET", "k"]), b"$-1\r\n");
}

#[test]
fn requirepass_set_at_run_time_spares_open_connections() {
    // redis-server keeps connections that were open (and needed no password)
    // authenticated when a password is set; only new ones must AUTH.
    let (shoal, redis) = (Server::shoal_threads(2), Server::redis(&[]));
    for server in [&shoal, &redis] {
        let name = server.kind.name();
        let mut open = server.raw();
        assert_eq!(open.cmd(&["SET", "k", "v"]), b"+OK\r\n");
        assert_eq!(open.cmd(&["CONFIG", "SET", "requirepass", "pw"]), b"+OK\r\n");
        let mut new = server.raw();
        assert_eq!(new.cmd(&["GET", "k"]), b"-NOAUTH Authentication required.\r\n", "{name}");
        assert_eq!(
            lossy(&open.cmd(&["GET", "k"])),
            "$1\r\nv\r\n",
            "{name}: the connection that set the password"
        );
        assert_eq!(
            lossy(&open.cmd(&["CONFIG", "SET", "requirepass", ""])),
            "+OK\r\n",
            "{name}: unsetting the password from the same connection"
        );
    }
}

#[test]
fn config_timeout_closes_idle_clients() {
    let (shoal, redis) = (Server::shoal_threads(2), Server::redis(&[]));
    for server in [&shoal, &redis] {
        let name = server.kind.name();
        let mut before = server.raw();
        assert_eq!(before.cmd(&["PING"]), b"+PONG\r\n");
        let mut admin = server.conn();
        assert_eq!(q(&mut admin, &["CONFIG", "SET", "timeout", "1"]), Value::Okay);
        let mut after = server.raw();
        assert_eq!(after.cmd(&["PING"]), b"+PONG\r\n");
        // Idle clients are closed by the server after about a second, those
        // connected before the change included (redis-server does). Ten
        // seconds is plenty for a one-second timeout.
        for c in [&mut before, &mut after] {
            c.stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        }
        assert!(after.closes_in_time(), "{name}: idle client connected after CONFIG SET timeout 1");
        assert!(before.closes_in_time(), "{name}: idle client connected before CONFIG SET timeout 1");
        // The admin connection was idle as long as the others: use a new one.
        drop(admin);
        let mut admin = server.conn();
        assert_eq!(q(&mut admin, &["CONFIG", "SET", "timeout", "0"]), Value::Okay, "{name}");
    }
}

#[test]
fn auth_and_requirepass_flow() {
    let server = Server::shoal(&["--threads", "2", "--requirepass", "s3cret"]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GET", "k"]), b"-NOAUTH Authentication required.\r\n");
    assert_eq!(c.cmd(&["PING"]), b"-NOAUTH Authentication required.\r\n");
    assert_eq!(
        c.cmd(&["AUTH", "wrong"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        c.cmd(&["AUTH", "default", "wrong"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert!(lossy(&c.cmd(&["HELLO", "3"])).starts_with("-NOAUTH HELLO must be called"));
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "default", "wrong"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    // HELLO 3 AUTH ... SETNAME authenticates, switches to RESP3 and names the client.
    let hello = c.cmd(&["HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "x"]);
    let v = redis::parse_redis_value(&hello).unwrap();
    let Value::Map(kv) = v else { panic!("HELLO 3 should reply with a map: {}", lossy(&hello)) };
    let get = |k: &str| kv.iter().find(|(n, _)| text(n) == k).map(|(_, v)| v.clone());
    assert_eq!(get("proto"), Some(Value::Int(3)));
    assert_eq!(get("server").map(|v| text(&v)), Some("redis".into()));
    assert_eq!(get("version").map(|v| text(&v)), Some("7.0.15".into()));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), b"$1\r\nx\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), b"_\r\n");
    // Another connection with AUTH <password>, and the redis crate with a password.
    let mut d = server.raw();
    assert_eq!(d.cmd(&["AUTH", "s3cret"]), b"+OK\r\n");
    assert_eq!(d.cmd(&["SET", "k", "v"]), b"+OK\r\n");
    let mut con = server.conn();
    assert_eq!(q(&mut con, &["GET", "k"]), Value::BulkString(b"v".to_vec()));
    // A wrong password fails the redis crate's connection.
    let err = server.client_as(Some("wrong")).get_connection().err().expect("wrong password must fail");
    assert_eq!(err.kind(), redis::ErrorKind::AuthenticationFailed, "{err}");
    // redis-cli with and without -a.
    let out = redis_cli(&server, &["-a", "s3cret", "--no-auth-warning", "get", "k"]);
    assert_eq!(out, "v\n");
    let out = redis_cli(&server, &["get", "k"]);
    assert_eq!(out.trim_end(), "NOAUTH Authentication required.");
    // RESET drops the authentication.
    assert_eq!(d.cmd(&["RESET"]), b"+RESET\r\n");
    assert_eq!(d.cmd(&["GET", "k"]), b"-NOAUTH Authentication required.\r\n");
}

#[test]
fn shutdown_ends_the_process_with_exit_code_0() {
    let pidfile = std::env::temp_dir().join(format!("shoal-test-{}.pid", std::process::id()));
    let mut server = Server::shoal(&["--threads", "2", "--pidfile", pidfile.to_str().unwrap()]);
    let pid: u32 = std::fs::read_to_string(&pidfile).expect("pidfile written").trim().parse().unwrap();
    assert_eq!(pid, server.pid());
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SHUTDOWN", "FOO"]), b"-ERR syntax error\r\n");
    assert_eq!(c.cmd(&["SHUTDOWN", "ABORT"]), b"-ERR No shutdown in progress.\r\n");
    c.send_cmd(&[b"SHUTDOWN"]);
    // No reply: the connection closes as the process exits.
    let rest = c.read_to_close();
    assert!(rest.is_empty(), "SHUTDOWN replied {:?}", lossy(&rest));
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(!pidfile.exists(), "the pidfile is removed at shutdown");

    let mut server = Server::shoal_threads(2);
    let mut c = server.raw();
    c.send_cmd(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(c.read_to_close().is_empty());
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn sigterm_ends_the_process_with_exit_code_0() {
    let mut server = Server::shoal_threads(2);
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(server.pid() as i32, libc::SIGTERM) }, 0);
    assert_eq!(server.wait_exit().code(), Some(0));
}

/// Opens a connection and checks it is served; retries while the server may
/// still count a connection that was just closed.
fn served(server: &Server) -> RawConn {
    support::wait_for("a connection slot", WAIT, || {
        let mut c = server.raw();
        c.send(b"PING\r\n");
        match c.try_read_reply() {
            Some(r) if r == b"+PONG\r\n" => Some(c),
            _ => None,
        }
    })
}

#[test]
fn maxclients_rejects_the_connection_over_the_limit() {
    let (shoal, redis) =
        (Server::shoal(&["--threads", "2", "--maxclients", "2"]), Server::redis(&["--maxclients", "2"]));
    for server in [&shoal, &redis] {
        let name = server.kind.name();
        let mut first = served(server);
        let second = served(server);
        let mut third = server.raw();
        assert_eq!(lossy(&third.read_to_close()), "-ERR max number of clients reached\r\n", "{name}");
        // Once one leaves, a new one is accepted.
        drop(second);
        let mut again = served(server);
        assert_eq!(again.cmd(&["PING"]), b"+PONG\r\n");
        assert_eq!(first.cmd(&["PING"]), b"+PONG\r\n");
    }
    let mut c = shoal.conn_as(None);
    let stats = text(&q(&mut c, &["INFO", "stats"]));
    let rejected: i64 = support::info_field(&stats, "rejected_connections").unwrap().parse().unwrap();
    assert!(rejected >= 1, "{stats}");
}

fn run_shoal_expecting_failure(args: &[&str]) -> (i32, String) {
    let out = run_tool(Command::new(support::shoal_bin()).args(args), None);
    let code = out.status.code().expect("exited, not killed");
    (code, lossy(&out.stdout) + &lossy(&out.stderr))
}

#[test]
fn startup_configuration_errors_name_the_culprit() {
    let dir = std::env::temp_dir();
    let bad = dir.join(format!("shoal-test-bad-{}.conf", std::process::id()));
    std::fs::write(&bad, "# a comment\nport 7777\nnosuchdirective 1\n").unwrap();
    let (code, out) = run_shoal_expecting_failure(&[bad.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("nosuchdirective"), "{out}");
    assert!(out.contains("line 3"), "{out}");
    std::fs::write(&bad, "port notanumber\n").unwrap();
    let (code, out) = run_shoal_expecting_failure(&[bad.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("port") && out.contains("notanumber"), "{out}");
    std::fs::write(&bad, "bind \"127.0.0.1\n").unwrap();
    let (code, out) = run_shoal_expecting_failure(&[bad.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.to_lowercase().contains("quote"), "{out}");
    std::fs::remove_file(&bad).unwrap();

    let (code, out) = run_shoal_expecting_failure(&["--nosuch", "1"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("nosuch"), "{out}");
    let (code, out) = run_shoal_expecting_failure(&["--databases", "zero"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("databases"), "{out}");
    let (code, out) = run_shoal_expecting_failure(&["--maxclients", "0"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("maxclients"), "{out}");
    let missing = dir.join("shoal-test-no-such-file.conf");
    let (code, out) = run_shoal_expecting_failure(&[missing.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("no-such-file"), "{out}");
}

#[test]
fn config_file_plus_command_line_overrides() {
    let conf = std::env::temp_dir().join(format!("shoal-test-good-{}.conf", std::process::id()));
    // `port 1` would fail to bind: the fixture's --port must override it.
    std::fs::write(
        &conf,
        "# Shoal test config\nport 1\ndatabases 4\nhz 20\ntimeout 300\nthreads 2\nsave \"\"\n\
         maxclients 500\n",
    )
    .unwrap();
    let server = Server::shoal(&[conf.to_str().unwrap(), "--databases", "8", "--maxclients", "600"]);
    let mut c = server.conn();
    let get = |c: &mut redis::Connection, name: &str| -> String {
        match q(c, &["CONFIG", "GET", name]) {
            Value::Array(kv) if kv.len() == 2 => text(&kv[1]),
            other => panic!("CONFIG GET {name}: {other:?}"),
        }
    };
    assert_eq!(get(&mut c, "port"), server.port.to_string());
    assert_eq!(get(&mut c, "databases"), "8");
    assert_eq!(get(&mut c, "maxclients"), "600");
    assert_eq!(get(&mut c, "hz"), "20");
    assert_eq!(get(&mut c, "timeout"), "300");
    assert_eq!(q(&mut c, &["SELECT", "7"]), Value::Okay);
    assert!(matches!(q(&mut c, &["SELECT", "8"]), Value::ServerError(_)));
    let info = text(&q(&mut c, &["INFO", "server"]));
    let path = std::fs::canonicalize(&conf).unwrap();
    assert_eq!(support::info_field(&info, "config_file").as_deref(), Some(path.to_str().unwrap()), "{info}");
    std::fs::remove_file(&conf).unwrap();
    assert_eq!(int(&q(&mut c, &["DBSIZE"])), 0);
}
