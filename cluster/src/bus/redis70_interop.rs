//! Live interop with a real redis-server 7.0 over its cluster bus.
//!
//! The test plays a cluster node with only the [`super::wire`] codec and raw
//! sockets: it sends Redis a MEET, decodes the PONG Redis answers, accepts the
//! connection Redis then opens to the cluster port the MEET announced, decodes
//! Redis's handshake PING there and answers it with a PONG, which makes Redis
//! adopt our node name, and finally sends a PING with ping extensions and
//! checks (through CLUSTER NODES and the log) that Redis applied the HOSTNAME
//! extension and skipped the 7.2 SHARDID one.
//!
//! It skips itself when no redis-server is installed (`SHOAL_REDIS_SERVER`
//! names another binary). With `SHOAL_WRITE_BUS_FIXTURES=1` it rewrites
//! `fixtures/redis70_pong.bin` from the PONG it captured.

use super::wire::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The client port our MEET announces; Redis records it but never connects to it.
const OUR_PORT: u16 = 17001;
/// The hostname Redis announces in its HOSTNAME ping extension.
const REDIS_HOSTNAME: &str = "redis70.test";
/// The hostname our PING announces.
const OUR_HOSTNAME: &str = "shoal-node.test";
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A redis-server process, killed (and its directory removed unless the test
/// failed) when dropped.
struct Redis {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("redis-server directory kept: {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn seed() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

/// splitmix64, enough to pick ports and a node name.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn random_name(state: &mut u64) -> NodeName {
    let hex = format!("{:016x}{:016x}{:08x}", next(state), next(state), next(state) as u32);
    hex.as_bytes().try_into().unwrap()
}

/// A port `p` with both `p` and `p + 10000` free on 127.0.0.1.
fn free_port_pair(state: &mut u64) -> u16 {
    for _ in 0..200 {
        let p = 20000 + (next(state) % 20000) as u16;
        let a = TcpListener::bind(("127.0.0.1", p));
        let b = TcpListener::bind(("127.0.0.1", p + 10000));
        if a.is_ok() && b.is_ok() {
            return p;
        }
    }
    panic!("no free port pair");
}

fn start_redis(bin: &Path, state: &mut u64) -> Redis {
    let port = free_port_pair(state);
    let dir = std::env::temp_dir().join(format!("shoal-bus-redis70-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let child = Command::new(bin)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--cluster-enabled", "yes"])
        .arg("--cluster-config-file")
        .arg(dir.join("nodes.conf"))
        .arg("--dir")
        .arg(&dir)
        .arg("--logfile")
        .arg(dir.join("redis.log"))
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(["--cluster-announce-hostname", REDIS_HOSTNAME])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    Redis { child, dir, port }
}

/// A RESP reply, as much of it as these checks need.
#[derive(Debug, PartialEq)]
enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(port: u16) -> Client {
        let deadline = Instant::now() + IO_TIMEOUT;
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(e) if Instant::now() > deadline => panic!("redis-server not up: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        Client { reader: BufReader::new(stream.try_clone().unwrap()), writer: stream }
    }

    fn cmd(&mut self, args: &[&str]) -> Reply {
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        self.writer.write_all(req.as_bytes()).unwrap();
        self.read_reply()
    }

    fn cmd_text(&mut self, args: &[&str]) -> String {
        match self.cmd(args) {
            Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
            Reply::Status(s) => s,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn read_reply(&mut self) -> Reply {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let line = line.trim_end_matches("\r\n");
        let (tag, rest) = line.split_at(1);
        match tag {
            "+" => Reply::Status(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Reply::Bulk(None);
                }
                let mut b = vec![0; n as usize + 2];
                self.reader.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                Reply::Bulk(Some(b))
            }
            "*" => Reply::Array((0..rest.parse::<usize>().unwrap()).map(|_| self.read_reply()).collect()),
            _ => panic!("bad RESP line {line:?}"),
        }
    }
}

/// Reads one whole frame off `s`, sized by [`frame_len`].
fn read_frame(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = vec![0; 8];
    s.read_exact(&mut buf).unwrap();
    let len = frame_len(&buf).unwrap().unwrap();
    buf.resize(len, 0);
    s.read_exact(&mut buf[8..]).unwrap();
    buf
}

fn send(s: &mut TcpStream, msg: &Message) {
    let mut out = Vec::new();
    encode(msg, &mut out);
    s.write_all(&out).unwrap();
}

/// Polls CLUSTER NODES until a line satisfies `pred`, returning that line.
fn wait_for_node_line(c: &mut Client, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + IO_TIMEOUT;
    loop {
        let nodes = c.cmd_text(&["CLUSTER", "NODES"]);
        if let Some(line) = nodes.lines().find(|l| pred(l)) {
            return line.to_string();
        }
        assert!(Instant::now() < deadline, "CLUSTER NODES never showed {what}:\n{nodes}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The slots the test assigns to Redis before the MEET.
fn assigned_slot(s: u16) -> bool {
    s <= 99 || s == 5000 || s == 16383
}

#[test]
fn redis70_meet_pong_handshake_and_extensions() {
    let bin = std::env::var_os("SHOAL_REDIS_SERVER")
        .map_or_else(|| PathBuf::from("/usr/bin/redis-server"), PathBuf::from);
    if !bin.exists() {
        eprintln!("skipping: no redis-server at {}", bin.display());
        return;
    }
    let mut rng = seed();
    let redis = start_redis(&bin, &mut rng);
    let mut client = Client::connect(redis.port);
    let version = client.cmd_text(&["INFO", "server"]);
    assert!(version.contains("redis_version:7.0."), "want redis 7.0, got:\n{version}");
    let redis_id = client.cmd_text(&["CLUSTER", "MYID"]);
    assert_eq!(client.cmd(&["CLUSTER", "ADDSLOTSRANGE", "0", "99"]), Reply::Status("OK".into()));
    assert_eq!(client.cmd(&["CLUSTER", "ADDSLOTS", "5000", "16383"]), Reply::Status("OK".into()));

    // Our node: a random name, and a listener standing for our cluster port.
    let our_name = random_name(&mut rng);
    let our_bus = TcpListener::bind("127.0.0.1:0").unwrap();
    let our_cport = our_bus.local_addr().unwrap().port();
    let our_header = |kind| Header {
        port: OUR_PORT,
        cport: our_cport,
        flags: node_flags::MASTER,
        ..Header::new(kind, our_name)
    };

    // 1. MEET on a connection to Redis's bus port; Redis answers PONG there.
    let mut to_redis = TcpStream::connect(("127.0.0.1", redis.port + 10000)).unwrap();
    to_redis.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let meet_exts = vec![PingExt::Hostname(OUR_HOSTNAME.into())];
    send(
        &mut to_redis,
        &Message { header: our_header(msg_type::MEET), body: Body::Ping { gossip: vec![], exts: meet_exts } },
    );
    let pong_frame = read_frame(&mut to_redis);
    let pong = decode(&pong_frame).unwrap();
    assert_eq!(pong.header.kind, msg_type::PONG);
    assert_eq!(std::str::from_utf8(&pong.header.sender).unwrap(), redis_id);
    assert_eq!(pong.header.flags, node_flags::MASTER | node_flags::MYSELF);
    assert_eq!(pong.header.port, redis.port);
    assert_eq!(pong.header.cport, redis.port + 10000);
    assert_eq!(pong.header.pport, 0);
    assert_eq!(pong.header.myip, "", "Redis leaves myip zero unless cluster-announce-ip is set");
    assert_eq!(pong.header.slaveof, None);
    assert!(!pong.header.state_ok, "not every slot is covered, so cluster_state is fail");
    for s in 0..16384 {
        assert_eq!(slot_get(&pong.header.myslots, s), assigned_slot(s), "slot {s}");
    }
    // Only Redis and our handshake node are known: no one to gossip about.
    assert_eq!(
        pong.body,
        Body::Ping { gossip: vec![], exts: vec![PingExt::Hostname(REDIS_HOSTNAME.into())] }
    );
    assert_eq!(pong.header.mflags, [mflags0::EXT_DATA, 0, 0]);
    let mut again = Vec::new();
    encode(&pong, &mut again);
    assert_eq!(again, pong_frame, "re-encoding Redis's PONG gives back its exact bytes");
    if std::env::var_os("SHOAL_WRITE_BUS_FIXTURES").is_some() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bus/fixtures/redis70_pong.bin");
        std::fs::write(&path, &pong_frame).unwrap();
        eprintln!("wrote {} (Redis node id {redis_id})", path.display());
    }

    // Redis took the MEET: a handshake node under a name of its own, at the
    // peer address of our connection and the ports our header announced.
    let addr = format!("127.0.0.1:{OUR_PORT}@{our_cport}");
    let line = wait_for_node_line(&mut client, "the handshake node", |l| l.contains(&addr));
    assert!(line.contains("handshake"), "{line}");
    assert!(!line.starts_with(std::str::from_utf8(&our_name).unwrap()), "{line}");

    // 2. Redis connects to our announced bus port and sends a PING.
    our_bus.set_nonblocking(false).unwrap();
    let (mut from_redis, _) = our_bus.accept().unwrap();
    from_redis.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let ping = decode(&read_frame(&mut from_redis)).unwrap();
    assert_eq!(ping.header.kind, msg_type::PING);
    assert_eq!(std::str::from_utf8(&ping.header.sender).unwrap(), redis_id);
    assert_eq!(ping.header.myslots, pong.header.myslots);

    // 3. Our PONG there ends the handshake: Redis renames the node to our name.
    send(
        &mut from_redis,
        &Message { header: our_header(msg_type::PONG), body: Body::Ping { gossip: vec![], exts: vec![] } },
    );
    let ours = std::str::from_utf8(&our_name).unwrap().to_string();
    let line = wait_for_node_line(&mut client, "our node id", |l| l.starts_with(&ours));
    assert!(line.contains(&addr) && line.contains(" master ") && !line.contains("handshake"), "{line}");

    // 4. Now that Redis knows us, it applies the extensions of our PING: the
    // hostname shows in CLUSTER NODES, and the 7.2 SHARDID is skipped with a
    // log line, not treated as an error. Redis answers PONG as always.
    let exts = vec![PingExt::Hostname(OUR_HOSTNAME.into()), PingExt::ShardId(random_name(&mut rng))];
    send(
        &mut to_redis,
        &Message { header: our_header(msg_type::PING), body: Body::Ping { gossip: vec![], exts } },
    );
    let pong2 = decode(&read_frame(&mut to_redis)).unwrap();
    assert_eq!(pong2.header.kind, msg_type::PONG);
    let line =
        wait_for_node_line(&mut client, "our hostname", |l| l.starts_with(&ours) && l.contains(OUR_HOSTNAME));
    assert!(line.contains(&format!("{addr},{OUR_HOSTNAME}")), "{line}");
    let log = std::fs::read_to_string(redis.dir.join("redis.log")).unwrap();
    assert!(log.contains("Received unknown extension type 3"), "{log}");
    assert!(!log.contains("Received invalid") && !log.contains("without proper padding"), "{log}");
}
