//! RDB persistence without fork: BGSAVE writes the data as it was when it
//! began while writes go on, redis-server and Shoal load the file; SAVE,
//! LASTSAVE and INFO persistence; the `save` points; SHUTDOWN and SIGTERM
//! saving first; a file that cannot be read stops the server.

mod support;

use redis::Value;
use std::process::Command;
use support::data::{fill, show, snapshot};
use support::{q, wait_until, Kind, Server, WAIT};

fn info(con: &mut redis::Connection, field: &str) -> String {
    let text = show(&q(con, &["INFO", "persistence"]));
    support::info_field(&text, field).unwrap_or_else(|| panic!("no {field} in {text}"))
}

fn wait_saved(con: &mut redis::Connection, saves: u64) {
    wait_until("the save to end", WAIT, || {
        info(con, "rdb_bgsave_in_progress") == "0" && info(con, "rdb_saves").parse::<u64>().unwrap() >= saves
    });
    assert_eq!(info(con, "rdb_last_bgsave_status"), "ok");
}

/// The file a server saves to: its `dir` and `dbfilename`.
fn rdb_path(con: &mut redis::Connection) -> (String, String) {
    let get = |con: &mut redis::Connection, name: &str| match q(con, &["CONFIG", "GET", name]) {
        Value::Array(v) => show(&v[1]),
        other => panic!("CONFIG GET {name}: {other:?}"),
    };
    (get(con, "dir"), get(con, "dbfilename"))
}

const LIBRARY: &str = "#!lua name=savedlib\nredis.register_function('one', function() return 1 end)";

#[test]
fn bgsave_writes_the_data_as_it_was_while_writes_go_on() {
    let shoal = Server::shoal(&["--threads", "2"]);
    let mut c = shoal.conn();
    fill(&mut c, "");
    // Enough data that each core writes it out in many steps.
    let mut pipe = redis::pipe();
    for i in 0..30_000 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(format!("{i}-{}", "v".repeat(150))).ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    q(&mut c, &["SELECT", "1"]);
    q(&mut c, &["SET", "in-db-1", "one"]);
    q(&mut c, &["SELECT", "0"]);
    assert_eq!(show(&q(&mut c, &["FUNCTION", "LOAD", LIBRARY])), "savedlib");
    let before = snapshot(&mut c, 3);
    // Redis's debugging aid makes the save last, so that the writes below
    // meet slots not written yet.
    q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "10"]);

    // BGSAVE and, in the same pipeline, writes of every kind: they run
    // after its cut, while the cores are still writing the file.
    let mut raw = shoal.raw();
    let mut cmds: Vec<Vec<String>> = vec![vec!["BGSAVE".into()]];
    for i in (0..30_000).step_by(3) {
        cmds.push(vec!["SET".into(), format!("key:{i}"), "changed".into()]);
        cmds.push(vec!["DEL".into(), format!("key:{}", i + 1)]);
    }
    for c in [
        "MSET k1 x k2 y k3 z new-key new",
        "RPUSH biglist pushed",
        "HSET bighash f1 changed extra field",
        "ZADD bigzset 0 z1 100 new",
        "SREM bigset m1 m2",
        "EXPIRE k5 1000",
        "PERSIST ttl",
        "XADD stream * late 1",
        "FLUSHDB",
        "SET after-flush 1",
        "SELECT 2",
        "FLUSHDB ASYNC",
        "SELECT 0",
        "SWAPDB 0 1",
        "SET in-new-db-0 1",
        "FUNCTION DELETE savedlib",
    ] {
        cmds.push(c.split(' ').map(String::from).collect());
    }
    let mut bytes = Vec::new();
    for cmd in &cmds {
        bytes.extend(support::encode_str(&cmd.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    raw.send(&bytes);
    assert_eq!(raw.read_reply(), b"+Background saving started\r\n");
    for _ in 1..cmds.len() {
        let r = raw.read_reply();
        assert!(!r.starts_with(b"-"), "{}", String::from_utf8_lossy(&r));
    }
    assert_eq!(info(&mut c, "rdb_bgsave_in_progress"), "1", "the save outlasted the writes");
    wait_saved(&mut c, 1);
    // The writes happened.
    assert_eq!(show(&q(&mut c, &["GET", "in-new-db-0"])), "1");
    assert_eq!(q(&mut c, &["DBSIZE"]), Value::Int(2));

    // redis-server reads the file as the data was at the cut.
    let (dir, file) = rdb_path(&mut c);
    let redis = Server::redis(&["--dir", &dir, "--dbfilename", &file]);
    let mut r = redis.conn();
    assert_eq!(snapshot(&mut r, 3), before, "redis-server loaded the data as it was at BGSAVE");
    assert_eq!(show(&q(&mut r, &["FCALL", "one", "0"])), "1");
    drop(redis);

    // So does Shoal, at startup.
    let again = Server::shoal(&["--threads", "3", "--dir", &dir, "--dbfilename", &file]);
    let mut a = again.conn();
    wait_until("the file to load", WAIT, || info(&mut a, "loading") == "0");
    assert_eq!(snapshot(&mut a, 3), before, "Shoal loaded the data as it was at BGSAVE");
    assert_eq!(show(&q(&mut a, &["FCALL", "one", "0"])), "1");
    assert_eq!(info(&mut a, "rdb_last_load_keys_loaded"), before.len().to_string());
}

#[test]
fn save_lastsave_and_shutdown_nosave() {
    let mut shoal = Server::shoal(&["--threads", "2"]);
    let mut c = shoal.conn();
    let started = match q(&mut c, &["LASTSAVE"]) {
        Value::Int(t) => t,
        other => panic!("LASTSAVE: {other:?}"),
    };
    q(&mut c, &["SET", "saved", "1"]);
    q(&mut c, &["SET", "saved", "1"]);
    assert_eq!(info(&mut c, "rdb_changes_since_last_save"), "2");
    assert_eq!(q(&mut c, &["SAVE"]), Value::Okay);
    assert_eq!(info(&mut c, "rdb_changes_since_last_save"), "0");
    assert_eq!(info(&mut c, "rdb_saves"), "1");
    assert!(matches!(q(&mut c, &["LASTSAVE"]), Value::Int(t) if t >= started));
    q(&mut c, &["SET", "unsaved", "1"]);
    assert_eq!(info(&mut c, "rdb_changes_since_last_save"), "1");
    // BGSAVE inside MULTI is scheduled, and runs after EXEC.
    q(&mut c, &["MULTI"]);
    q(&mut c, &["BGSAVE"]);
    assert_eq!(show(&q(&mut c, &["EXEC"])), "[Background saving scheduled]");
    wait_saved(&mut c, 2);
    q(&mut c, &["SET", "after-bgsave", "1"]);
    let (dir, file) = rdb_path(&mut c);
    let keep = format!("{dir}/{file}.kept");
    std::fs::copy(format!("{dir}/{file}"), &keep).unwrap();
    let _cleanup = RemoveOnDrop(keep.clone());

    let mut raw = shoal.raw();
    raw.send_cmd(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(shoal.wait_exit().success());

    let again = Server::shoal(&["--dir", &dir, "--dbfilename", &format!("{file}.kept")]);
    let mut a = again.conn();
    wait_until("the file to load", WAIT, || info(&mut a, "loading") == "0");
    assert_eq!(show(&q(&mut a, &["MGET", "saved", "unsaved", "after-bgsave"])), "[1, 1, (nil)]");
    assert_eq!(info(&mut a, "rdb_last_load_keys_loaded"), "2");
}

struct RemoveOnDrop(String);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn save_points_shutdown_and_sigterm_save_first() {
    // The save points: one write and one second.
    let shoal = Server::shoal(&["--save", "1 1"]);
    let mut c = shoal.conn();
    assert_eq!(show(&q(&mut c, &["CONFIG", "GET", "save"])), "[save, 1 1]");
    q(&mut c, &["SET", "a", "1"]);
    wait_saved(&mut c, 1);
    drop(shoal);

    // SHUTDOWN with save points configured saves first.
    let mut shoal = Server::shoal(&["--save", "3600 1"]);
    let mut c = shoal.conn();
    let (dir, file) = rdb_path(&mut c);
    let path = format!("{dir}/{file}");
    q(&mut c, &["SET", "by-shutdown", "1"]);
    shoal.raw().send_cmd(&[b"SHUTDOWN"]);
    assert!(shoal.wait_exit().success());
    let kept = RemoveOnDrop(format!("{path}.kept"));
    std::fs::rename(&path, &kept.0).unwrap();

    // So does SIGTERM.
    let mut shoal =
        Server::shoal(&["--save", "3600 1", "--dir", &dir, "--dbfilename", &format!("{file}.kept")]);
    let mut c = shoal.conn();
    wait_until("the file to load", WAIT, || info(&mut c, "loading") == "0");
    assert_eq!(show(&q(&mut c, &["GET", "by-shutdown"])), "1");
    q(&mut c, &["SET", "by-sigterm", "1"]);
    // SAFETY: signalling the child process this test started.
    unsafe { libc::kill(shoal.pid() as i32, libc::SIGTERM) };
    assert!(shoal.wait_exit().success());

    let again = Server::shoal(&["--dir", &dir, "--dbfilename", &format!("{file}.kept")]);
    let mut a = again.conn();
    wait_until("the file to load", WAIT, || info(&mut a, "loading") == "0");
    assert_eq!(show(&q(&mut a, &["MGET", "by-shutdown", "by-sigterm"])), "[1, 1]");
}

#[test]
fn flushall_with_save_points_leaves_an_empty_file() {
    let shoal = Server::shoal(&["--threads", "2", "--save", "3600 1"]);
    let mut c = shoal.conn();
    q(&mut c, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(q(&mut c, &["SAVE"]), Value::Okay);
    assert_eq!(q(&mut c, &["FLUSHALL"]), Value::Okay);
    // The save is part of FLUSHALL, done when it replies.
    assert_eq!(info(&mut c, "rdb_saves"), "2");
    assert_eq!(info(&mut c, "rdb_changes_since_last_save"), "0");
    let (dir, file) = rdb_path(&mut c);
    let redis = Server::redis(&["--dir", &dir, "--dbfilename", &file]);
    assert_eq!(q(&mut redis.conn(), &["DBSIZE"]), Value::Int(0));
}

#[test]
fn keys_past_their_expiry_are_not_loaded() {
    use shoal_engine::rdb::file::RdbWriter;
    use shoal_engine::Value as Stored;
    let dir = std::env::temp_dir();
    let name = format!("shoal-expired-{}.rdb", std::process::id());
    let file = RemoveOnDrop(dir.join(&name).display().to_string());
    let mut w = RdbWriter::new(&[("redis-ver", b"7.0.15")]);
    w.select_db(0, 3, 2);
    w.key(b"live", &Stored::string(b"1"), None);
    w.key(b"later", &Stored::string(b"2"), Some(4_102_444_800_000));
    w.key(b"past", &Stored::string(b"3"), Some(1_000));
    std::fs::write(&file.0, w.finish()).unwrap();
    let shoal = Server::shoal(&["--dir", dir.to_str().unwrap(), "--dbfilename", &name]);
    let mut c = shoal.conn();
    wait_until("the file to load", WAIT, || info(&mut c, "loading") == "0");
    assert_eq!(q(&mut c, &["DBSIZE"]), Value::Int(2));
    assert_eq!(info(&mut c, "rdb_last_load_keys_loaded"), "2");
    assert_eq!(info(&mut c, "rdb_last_load_keys_expired"), "1");
}

#[test]
fn a_file_that_cannot_be_read_stops_the_server() {
    let dir = std::env::temp_dir();
    let name = format!("shoal-bad-{}.rdb", std::process::id());
    let bad = RemoveOnDrop(dir.join(&name).display().to_string());
    std::fs::write(&bad.0, b"REDIS0010\xfa\x09redis-ver\x067.0.15\xfe\x00\x00\x03key").unwrap();
    let port = support::free_port().to_string();
    let out = support::run_tool(
        Command::new(support::shoal_bin()).args([
            "--port",
            &port,
            "--dir",
            dir.to_str().unwrap(),
            "--dbfilename",
            &name,
        ]),
        None,
    );
    let log = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("Fatal error loading the DB"), "{log}");
}

#[test]
fn a_failed_background_save_stops_writes_as_in_redis() {
    let base = std::env::temp_dir().join(format!("shoal-misconf-{}", std::process::id()));
    let mut replies = Vec::new();
    for kind in [Kind::Shoal, Kind::Redis] {
        let dir = base.join(kind.name());
        std::fs::create_dir_all(&dir).unwrap();
        let server = Server::start(kind, &["--dir", dir.to_str().unwrap(), "--save", "3600 1"]);
        let mut c = server.conn();
        // The directory goes: the save cannot create its file.
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(show(&q(&mut c, &["BGSAVE"])), "Background saving started");
        wait_until("the save to fail", WAIT, || {
            info(&mut c, "rdb_bgsave_in_progress") == "0" && info(&mut c, "rdb_last_bgsave_status") == "err"
        });
        let mut seen = Vec::new();
        for cmd in [
            "SET a 1",
            "PING",
            "GET a",
            "CONFIG SET stop-writes-on-bgsave-error no",
            "SET a 1",
            "CONFIG SET stop-writes-on-bgsave-error yes",
            "INCR n",
            "CONFIG SET save 3600 1",
            "SET a 2",
        ] {
            let args: Vec<&str> = cmd.splitn(4, ' ').collect();
            seen.push(format!("{cmd} -> {}", show(&q(&mut c, &args))));
        }
        q(&mut c, &["CONFIG", "SET", "save", ""]);
        seen.push(format!("no save points -> {}", show(&q(&mut c, &["SET", "a", "3"]))));
        replies.push(seen);
    }
    let _ = std::fs::remove_dir_all(&base);
    assert!(replies[0][0].contains("MISCONF"), "{:?}", replies[0]);
    assert_eq!(replies[0], replies[1], "Shoal, then redis-server");
}
