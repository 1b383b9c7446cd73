//! Commands the server layer carries out: connection state (HELLO, AUTH,
//! SELECT, CLIENT...), introspection (INFO, COMMAND, CONFIG) and the ones that
//! span every core (DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHALL, SWAPDB...).

use crate::core::{now_ms, Core};
use crate::multi::{conclude_all, transact, Step};
use crate::session::State;
use crate::txn::{Locks, TxMode};
use crate::{info, pubsub, scan, transaction};
use shoal_engine::command::{eq_ic, flags, CmdId, Command, Registry, ServerCmd};
use shoal_engine::error::{CmdError, DB_INDEX, NOT_INTEGER, SYNTAX};
use shoal_engine::num::parse_i64;
use shoal_engine::Reply;
use std::rc::Rc;

pub async fn run(st: &mut State, cmd: ServerCmd, id: CmdId, argv: &[&[u8]], out: &mut Vec<u8>) {
    // Commands that only read or change this connection run in place; the
    // others need every earlier command of the pipeline done first.
    let in_place = matches!(
        cmd,
        ServerCmd::Select
            | ServerCmd::Auth
            | ServerCmd::Command
            | ServerCmd::Asking
            | ServerCmd::Readonly
            | ServerCmd::Readwrite
    ) || (cmd == ServerCmd::Client
        && !argv[1].eq_ignore_ascii_case(b"list")
        && !argv[1].eq_ignore_ascii_case(b"kill"))
        || (cmd == ServerCmd::Config && argv[1].eq_ignore_ascii_case(b"get"));
    if !in_place {
        st.flush(out).await;
    }
    let started = std::time::Instant::now();
    let mut reply = Vec::new();
    let result = if cmd == ServerCmd::Sync && !out.is_empty() {
        // As Redis: this read's replies, still to be written, would cross
        // the replication stream core 0 writes to the socket.
        Err(CmdError::new("ERR SYNC and PSYNC are invalid with pending output"))
    } else {
        run_inner(st, cmd, argv, &mut reply).await
    };
    let usec = started.elapsed().as_micros() as u64;
    {
        let mut stats = st.core.stats.borrow_mut();
        stats.record(id, usec, result.is_err());
        if let Err(e) = &result {
            stats.record_error(e);
        }
    }
    let resp3 = st.resp3;
    st.with_reply(out, |o| match result {
        Ok(()) => o.extend_from_slice(&reply),
        Err(e) => Reply::new(o, resp3).error(e.line()),
    });
}

async fn run_inner(
    st: &mut State,
    cmd: ServerCmd,
    argv: &[&[u8]],
    buf: &mut Vec<u8>,
) -> Result<(), CmdError> {
    let core = st.core.clone();
    match cmd {
        ServerCmd::Hello => hello(st, argv, buf),
        ServerCmd::Auth => auth(st, argv, buf),
        ServerCmd::Select => {
            let n = parse_i64(argv[1]).ok_or(NOT_INTEGER)?;
            if n != 0 && crate::cluster::enabled(&core) {
                return Err(CmdError::new("ERR SELECT is not allowed in cluster mode"));
            }
            if n < 0 || n as usize >= core.config.borrow().databases {
                return Err(DB_INDEX);
            }
            st.db = n as usize;
            st.client.borrow_mut().db = st.db;
            Reply::new(buf, st.resp3).ok();
            Ok(())
        }
        ServerCmd::Quit => {
            Reply::new(buf, st.resp3).ok();
            st.close = true;
            Ok(())
        }
        ServerCmd::Reset => {
            pubsub::drop_all(st);
            st.queue = None;
            st.watched.clear();
            st.db = 0;
            st.resp3 = false;
            st.authenticated = core.config.borrow().requirepass.is_empty();
            {
                let mut c = st.client.borrow_mut();
                c.db = 0;
                c.resp = 2;
                c.name.clear();
                c.authenticated = st.authenticated;
            }
            Reply::new(buf, false).simple(b"RESET");
            Ok(())
        }
        ServerCmd::Client => client(st, argv, buf).await,
        ServerCmd::Info => {
            let text = info::render(&core, argv).await;
            Reply::new(buf, st.resp3).verbatim("txt", text.as_bytes());
            Ok(())
        }
        ServerCmd::Config => config(st, argv, buf).await,
        ServerCmd::Command => command(st, argv, buf),
        ServerCmd::Dbsize => {
            let db = st.db;
            let n: usize =
                fan_out_read_with(&core, st.tx_mode, move |core| core.shard.borrow().dbs()[db].len())
                    .await
                    .into_iter()
                    .sum();
            Reply::new(buf, st.resp3).int(n as i64);
            Ok(())
        }
        ServerCmd::Keys => {
            let (db, pattern) = (st.db, argv[1].to_vec());
            let parts =
                fan_out_read_with(&core, st.tx_mode, move |core| scan::keys(core, db, &pattern)).await;
            let n = parts.iter().map(Vec::len).sum();
            let mut r = Reply::new(buf, st.resp3);
            r.array(n);
            for k in parts.iter().flatten() {
                r.bulk(k);
            }
            Ok(())
        }
        ServerCmd::Scan => scan::scan(st, argv, buf).await,
        ServerCmd::Randomkey => {
            let key = scan::random_key(&core, st.tx_mode, st.db).await;
            let mut r = Reply::new(buf, st.resp3);
            match key {
                Some(k) => r.bulk(&k),
                None => r.null(),
            }
            Ok(())
        }
        ServerCmd::Flushall | ServerCmd::Flushdb => {
            // ASYNC hands the keys to the lazyfree thread; so does no
            // argument under lazyfree-lazy-user-flush yes.
            let lazy = match argv.get(1) {
                None => core.config.borrow().lazyfree_lazy_user_flush,
                Some(a) if argv.len() == 2 && eq_ic(a, "async") => true,
                Some(a) if argv.len() == 2 && eq_ic(a, "sync") => false,
                Some(_) => return Err(SYNTAX),
            };
            let only = (cmd == ServerCmd::Flushdb).then_some(st.db);
            let effect = shoal_engine::shard::Op::new(st.db, argv);
            fan_out_write(&core, st.tx_mode, Some(effect), move |core| {
                let mut shard = core.shard.borrow_mut();
                let flush = |d: &mut shoal_engine::Db| match lazy {
                    true => shoal_engine::lazyfree::free_db(d.take_all()),
                    false => d.clear(),
                };
                match only {
                    Some(db) => flush(shard.db(db)),
                    None => shard.dbs_mut().iter_mut().for_each(flush),
                }
                shard.dirty += 1;
            })
            .await;
            // As redis-server, FLUSHALL with save points leaves an empty file.
            if cmd == ServerCmd::Flushall && crate::save::has_save_points(&core) {
                crate::save::save_after_flushall(&core, st.tx_mode).await;
            }
            Reply::new(buf, st.resp3).ok();
            Ok(())
        }
        ServerCmd::Swapdb => {
            if crate::cluster::enabled(&core) {
                return Err(CmdError::new("ERR SWAPDB is not allowed in cluster mode"));
            }
            let databases = core.config.borrow().databases as i64;
            let a = parse_i64(argv[1]).ok_or(CmdError::new("ERR invalid first DB index"))?;
            let b = parse_i64(argv[2]).ok_or(CmdError::new("ERR invalid second DB index"))?;
            if a < 0 || a >= databases || b < 0 || b >= databases {
                return Err(DB_INDEX);
            }
            let effect = shoal_engine::shard::Op::new(st.db, argv);
            fan_out_write(&core, st.tx_mode, Some(effect), move |core| {
                let mut shard = core.shard.borrow_mut();
                shard.swap_dbs(a as usize, b as usize);
                shard.dirty += 1;
            })
            .await;
            Reply::new(buf, st.resp3).ok();
            Ok(())
        }
        ServerCmd::Shutdown => shutdown(st, argv).await,
        ServerCmd::Subscribe => pubsub_change(st, true, pubsub::Kind::Channel, argv, buf),
        ServerCmd::Psubscribe => pubsub_change(st, true, pubsub::Kind::Pattern, argv, buf),
        ServerCmd::Ssubscribe => pubsub_change(st, true, pubsub::Kind::Shard, argv, buf),
        ServerCmd::Unsubscribe => pubsub_change(st, false, pubsub::Kind::Channel, argv, buf),
        ServerCmd::Punsubscribe => pubsub_change(st, false, pubsub::Kind::Pattern, argv, buf),
        ServerCmd::Sunsubscribe => pubsub_change(st, false, pubsub::Kind::Shard, argv, buf),
        ServerCmd::Publish | ServerCmd::Spublish => {
            let n = pubsub::publish(&core, cmd == ServerCmd::Spublish, argv[1], argv[2]).await;
            if cmd == ServerCmd::Publish {
                // Shard channels stay within their shard: with no replicas, this node.
                crate::cluster::publish(&core, argv[1], argv[2]).await;
            }
            Reply::new(buf, st.resp3).int(n as i64);
            Ok(())
        }
        ServerCmd::Pubsub => pubsub::pubsub_command(st, argv, buf).await,
        ServerCmd::Cluster => crate::cluster::command(st, argv, buf).await,
        ServerCmd::Migrate => crate::migrate::migrate(st, argv, buf).await,
        ServerCmd::Replicaof => crate::replica::replicaof(st, argv, buf).await,
        ServerCmd::Role => crate::replica::role_command(st, buf).await,
        ServerCmd::Wait => crate::master::wait(st, argv, buf).await,
        ServerCmd::Sync => crate::master::sync(st, argv, buf).await,
        ServerCmd::Replconf => crate::master::replconf(st, argv, buf),
        ServerCmd::Save => crate::save::save(st, buf).await,
        ServerCmd::Bgsave => crate::save::bgsave(st, argv, buf).await,
        ServerCmd::Lastsave => crate::save::lastsave(st, buf).await,
        ServerCmd::Asking | ServerCmd::Readonly | ServerCmd::Readwrite => {
            if !crate::cluster::enabled(&core) {
                return Err(CmdError::new("ERR This instance has cluster support disabled"));
            }
            match cmd {
                ServerCmd::Asking => st.asking = true,
                ServerCmd::Readonly => st.readonly = true,
                _ => st.readonly = false,
            }
            Reply::new(buf, st.resp3).ok();
            Ok(())
        }
        ServerCmd::Multi => transaction::multi(st, buf),
        ServerCmd::Exec => transaction::exec(st, buf).await,
        ServerCmd::Discard => transaction::discard(st, buf),
        ServerCmd::Watch => transaction::watch(st, argv, buf).await,
        ServerCmd::Unwatch => transaction::unwatch(st, buf),
    }
}

/// Runs `f` on every core under a shared lock of the whole core, so that it
/// sees no multi-core command half done. Returns the results in core order.
pub async fn fan_out_read_with<R: Send + 'static>(
    core: &Rc<Core>,
    mode: TxMode,
    f: impl Fn(&Rc<Core>) -> R + Clone + Send + 'static,
) -> Vec<R> {
    let parts: Vec<(usize, Locks)> =
        (0..core.shared.cores).map(|c| (c, Locks::Shard { exclusive: false })).collect();
    let (txid, results) = transact(
        core,
        mode,
        &parts,
        |_| {
            let f = f.clone();
            Box::new(move |core: &Rc<Core>| f(core)) as Step<R>
        },
        |_| None,
    )
    .await;
    conclude_all(core, txid, parts.iter().map(|(c, _)| (*c, None)).collect());
    results
}

/// Runs `f` on every core under an exclusive lock of the whole core, as one
/// atomic step across cores (FLUSHALL, SWAPDB). `effect` is what replicas
/// get, numbered while every core is locked.
pub async fn fan_out_write(
    core: &Rc<Core>,
    mode: TxMode,
    effect: Option<shoal_engine::shard::Op>,
    f: impl Fn(&Rc<Core>) + Clone + Send + 'static,
) {
    let at_cut = move |core: &Rc<Core>| {
        if let Some(op) = effect {
            crate::master::record(core, vec![op]);
        }
    };
    fan_out_write_with(core, mode, at_cut, f).await
}

/// [`fan_out_write`], with `between` run on this core once every core is
/// locked and before any runs `f`; returns what it returns.
pub async fn fan_out_write_with<T>(
    core: &Rc<Core>,
    mode: TxMode,
    between: impl FnOnce(&Rc<Core>) -> T,
    f: impl Fn(&Rc<Core>) + Clone + Send + 'static,
) -> T {
    let parts: Vec<(usize, Locks)> =
        (0..core.shared.cores).map(|c| (c, Locks::Shard { exclusive: true })).collect();
    let (txid, _) = transact(core, mode, &parts, |_| Box::new(|_: &Rc<Core>| ()) as Step<()>, |_| None).await;
    let t = between(core);
    let lasts = parts
        .iter()
        .map(|(c, _)| {
            let f = f.clone();
            (*c, Some(Box::new(move |core: &Rc<Core>| f(core)) as Step<()>))
        })
        .collect();
    conclude_all(core, txid, lasts);
    t
}

/// Runs `f` on every core without locks (statistics, clients, settings).
pub async fn on_all_cores<R: Send + 'static>(
    core: &Rc<Core>,
    f: impl Fn(&Rc<Core>) -> R + Clone + Send + 'static,
) -> Vec<R> {
    let waiting: Vec<_> = (0..core.shared.cores)
        .map(|c| {
            let f = f.clone();
            core.call(c, move |core| f(core))
        })
        .collect();
    let mut out = Vec::with_capacity(waiting.len());
    for w in waiting {
        out.push(w.await);
    }
    out
}

/// (P|S)SUBSCRIBE and (P|S)UNSUBSCRIBE. Messages that arrived before the
/// command go out before its reply, as they would from Redis.
fn pubsub_change(
    st: &mut State,
    subscribe: bool,
    kind: pubsub::Kind,
    argv: &[&[u8]],
    buf: &mut Vec<u8>,
) -> Result<(), CmdError> {
    st.outbox.take_into(buf);
    if subscribe {
        pubsub::subscribe(st, kind, &argv[1..], buf);
    } else {
        pubsub::unsubscribe(st, kind, &argv[1..], buf);
    }
    Ok(())
}

const WRONGPASS: CmdError = CmdError::new("WRONGPASS invalid username-password pair or user is disabled.");

/// Checks a username/password pair against the default user (the only user).
fn check_password(st: &State, user: &[u8], pass: &[u8]) -> bool {
    let required = st.core.config.borrow().requirepass.clone();
    user == b"default" && (required.is_empty() || required.as_bytes() == pass)
}

fn auth(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    if argv.len() > 3 {
        return Err(SYNTAX);
    }
    let (user, pass) = if argv.len() == 2 {
        if st.core.config.borrow().requirepass.is_empty() {
            return Err(CmdError::new(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ));
        }
        (&b"default"[..], argv[1])
    } else {
        (argv[1], argv[2])
    };
    if !check_password(st, user, pass) {
        return Err(WRONGPASS);
    }
    st.authenticated = true;
    st.client.borrow_mut().authenticated = true;
    Reply::new(buf, st.resp3).ok();
    Ok(())
}

fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

const BAD_NAME: CmdError =
    CmdError::new("ERR Client names cannot contain spaces, newlines or special characters.");

fn hello(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let mut ver = 0;
    let mut i = 1;
    if argv.len() >= 2 {
        ver = parse_i64(argv[1])
            .ok_or(CmdError::new("ERR Protocol version is not an integer or out of range"))?;
        i = 2;
        if !(2..=3).contains(&ver) {
            return Err(CmdError::new("NOPROTO unsupported protocol version"));
        }
    }
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if eq_ic(argv[i], "auth") && more >= 2 {
            if !check_password(st, argv[i + 1], argv[i + 2]) {
                return Err(WRONGPASS);
            }
            st.authenticated = true;
            st.client.borrow_mut().authenticated = true;
            i += 3;
        } else if eq_ic(argv[i], "setname") && more >= 1 {
            if !valid_client_name(argv[i + 1]) {
                return Err(BAD_NAME);
            }
            st.client.borrow_mut().name = argv[i + 1].to_vec();
            i += 2;
        } else {
            return Err(CmdError::owned(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(argv[i])
            )));
        }
    }
    if st.auth_required() {
        return Err(CmdError::new(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    if ver != 0 {
        st.resp3 = ver == 3;
        st.client.borrow_mut().resp = ver as u8;
    }
    let id = st.client.borrow().id;
    let mut r = Reply::new(buf, st.resp3);
    r.map(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(crate::REDIS_VERSION.as_bytes());
    r.bulk(b"proto");
    r.int(if st.resp3 { 3 } else { 2 });
    r.bulk(b"id");
    r.int(id as i64);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.array(0);
    Ok(())
}

/// Replies with Redis's help layout: a header line, the given lines, and HELP.
fn help(buf: &mut Vec<u8>, resp3: bool, container: &str, lines: &[&str]) {
    Reply::new(buf, resp3).help(container, lines);
}

#[derive(Clone, Default)]
struct KillFilter {
    /// The client running CLIENT KILL: closed after its reply, not cut off.
    caller: u64,
    addr: Option<String>,
    laddr: Option<String>,
    id: Option<u64>,
    /// `Some(true)`: only normal clients (the only type Shoal has), `Some(false)`: none.
    normal: Option<bool>,
    skip: Option<u64>,
}

fn client_type_is_normal(name: &[u8]) -> Result<bool, CmdError> {
    let n = String::from_utf8_lossy(name).to_ascii_lowercase();
    match n.as_str() {
        "normal" => Ok(true),
        "master" | "replica" | "slave" | "pubsub" => Ok(false),
        _ => Err(CmdError::owned(format!("ERR Unknown client type '{n}'"))),
    }
}

async fn client(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let sub = String::from_utf8_lossy(argv[1]).to_ascii_lowercase();
    let core = st.core.clone();
    let resp3 = st.resp3;
    match sub.as_str() {
        "id" => Reply::new(buf, resp3).int(st.client.borrow().id as i64),
        "getname" => {
            let c = st.client.borrow();
            let mut r = Reply::new(buf, resp3);
            if c.name.is_empty() {
                r.null()
            } else {
                r.bulk(&c.name)
            }
        }
        "setname" => {
            if !valid_client_name(argv[2]) {
                return Err(BAD_NAME);
            }
            st.client.borrow_mut().name = argv[2].to_vec();
            Reply::new(buf, resp3).ok();
        }
        "info" => {
            let line = st.client.borrow().line(now_ms()) + "\n";
            Reply::new(buf, resp3).verbatim("txt", line.as_bytes());
        }
        "list" => {
            let mut ids: Option<Vec<u64>> = None;
            let mut normal = true;
            if argv.len() == 4 && eq_ic(argv[2], "type") {
                normal = client_type_is_normal(argv[3])?;
            } else if argv.len() > 3 && eq_ic(argv[2], "id") {
                let mut v = Vec::new();
                for a in &argv[3..] {
                    v.push(parse_i64(a).ok_or(CmdError::new("ERR Invalid client ID"))? as u64);
                }
                ids = Some(v);
            } else if argv.len() != 2 {
                return Err(SYNTAX);
            }
            let lines = on_all_cores(&core, move |core| {
                let now = now_ms();
                core.clients
                    .borrow()
                    .by_id
                    .values()
                    .filter(|c| {
                        let c = c.borrow();
                        normal && !c.killed && ids.as_ref().is_none_or(|ids| ids.contains(&c.id))
                    })
                    .map(|c| (c.borrow().id, c.borrow().line(now)))
                    .collect::<Vec<_>>()
            })
            .await;
            let mut all: Vec<(u64, String)> = lines.into_iter().flatten().collect();
            all.sort_by_key(|(id, _)| *id);
            let text: String = all.into_iter().map(|(_, l)| l + "\n").collect();
            Reply::new(buf, resp3).verbatim("txt", text.as_bytes());
        }
        "kill" => {
            let me = st.client.borrow().id;
            let mut f = KillFilter { caller: me, ..Default::default() };
            let old_style = argv.len() == 3;
            // TYPE replica (or slave) alone: this master's replicas, which core 0 serves.
            let mut replicas = false;
            if old_style {
                f.addr = Some(String::from_utf8_lossy(argv[2]).into_owned());
            } else if argv.len() > 3 {
                f.skip = Some(me);
                let mut i = 2;
                while i < argv.len() {
                    let Some(v) = argv.get(i + 1) else {
                        return Err(SYNTAX);
                    };
                    let opt = String::from_utf8_lossy(argv[i]).to_ascii_lowercase();
                    match opt.as_str() {
                        "id" => {
                            let n = parse_i64(v)
                                .filter(|&n| n >= 1)
                                .ok_or(CmdError::new("ERR client-id should be greater than 0"))?;
                            f.id = Some(n as u64);
                        }
                        "type" => {
                            f.normal = Some(client_type_is_normal(v)?);
                            replicas = eq_ic(v, "replica") || eq_ic(v, "slave");
                        }
                        "addr" => f.addr = Some(String::from_utf8_lossy(v).into_owned()),
                        "laddr" => f.laddr = Some(String::from_utf8_lossy(v).into_owned()),
                        "user" => {
                            if *v != b"default" {
                                return Err(CmdError::owned(format!(
                                    "ERR No such user '{}'",
                                    String::from_utf8_lossy(v)
                                )));
                            }
                        }
                        "skipme" => {
                            if eq_ic(v, "yes") {
                                f.skip = Some(me);
                            } else if eq_ic(v, "no") {
                                f.skip = None;
                            } else {
                                return Err(SYNTAX);
                            }
                        }
                        _ => return Err(SYNTAX),
                    }
                    i += 2;
                }
            } else {
                return Err(SYNTAX);
            }
            let only_type = f.id.is_none() && f.addr.is_none() && f.laddr.is_none();
            let mut killed: usize =
                on_all_cores(&core, move |core| kill_matching(core, &f)).await.into_iter().sum();
            if replicas && only_type {
                killed += core.call(0, |core| crate::master::close_replicas(core)).await;
            }
            let mut r = Reply::new(buf, resp3);
            if old_style {
                if killed == 0 {
                    return Err(CmdError::new("ERR No such client"));
                }
                r.ok();
            } else {
                r.int(killed as i64);
            }
        }
        "help" => help(
            buf,
            resp3,
            "CLIENT",
            &[
                "GETNAME",
                "    Return the name of this connection.",
                "ID",
                "    Return the id of this connection.",
                "INFO",
                "    Describe this connection.",
                "KILL <ip:port>",
                "    Close the connection from <ip:port>.",
                "KILL <option> <value> [<option> <value> [...]]",
                "    Close the connections matching every option given:",
                "    * ADDR (<ip:port>|<unixsocket>:0)",
                "      the peer address of the connection",
                "    * LADDR (<ip:port>|<unixsocket>:0)",
                "      the local address the connection was made to",
                "    * ID <client-id>",
                "      the connection id",
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                "      the kind of client",
                "    * USER <username>",
                "      the authenticated user",
                "    * SKIPME (YES|NO)",
                "      whether to spare this connection (default: yes)",
                "LIST [options ...]",
                "    Describe the open connections. Options:",
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                "      only connections of this kind",
                "    * ID <client-id> [<client-id> ...]",
                "      only these connections",
                "SETNAME <name>",
                "    Name this connection.",
            ],
        ),
        _ => return Err(CmdError::unknown_subcommand(argv[1], "client")),
    }
    Ok(())
}

/// Closes this core's clients that match `f`; returns how many.
fn kill_matching(core: &Rc<Core>, f: &KillFilter) -> usize {
    let clients = core.clients.borrow();
    let mut n = 0;
    for c in clients.by_id.values() {
        let mut c = c.borrow_mut();
        // A client already killed is on its way out (Redis frees it at once).
        if c.killed
            || f.skip == Some(c.id)
            || f.id.is_some_and(|id| id != c.id)
            || f.normal == Some(false)
            || f.addr.as_ref().is_some_and(|a| *a != c.addr.to_string())
            || f.laddr.as_ref().is_some_and(|a| *a != c.laddr.to_string())
        {
            continue;
        }
        c.killed = true;
        if c.id != f.caller {
            // SAFETY: shutdown on the connection's own socket descriptor, which
            // stays open until its task ends; it only wakes the pending read.
            unsafe { libc::shutdown(c.fd, libc::SHUT_RDWR) };
        }
        n += 1;
    }
    n
}

async fn config(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let sub = String::from_utf8_lossy(argv[1]).to_ascii_lowercase();
    let core = st.core.clone();
    let resp3 = st.resp3;
    match sub.as_str() {
        "get" => {
            let cfg = core.config.borrow().clone();
            // (directive, the name to reply with, value): Redis 7.0 answers a
            // literal name as the client spelled it, a pattern's matches by
            // their own names.
            let mut found: Vec<(&str, Vec<u8>, String)> = Vec::new();
            for pat in &argv[2..] {
                let literal = !pat.iter().any(|c| matches!(c, b'[' | b'*' | b'?'));
                for d in crate::config::DIRECTIVES {
                    let hit = if literal {
                        d.name.as_bytes().eq_ignore_ascii_case(pat)
                    } else {
                        !crate::config::HIDDEN.contains(&d.name)
                            && shoal_engine::glob::matches(pat, d.name.as_bytes(), true)
                    };
                    if hit && !found.iter().any(|(n, _, _)| *n == d.name) {
                        let shown = if literal { pat.to_vec() } else { d.name.as_bytes().to_vec() };
                        found.push((d.name, shown, d.get(&cfg)));
                    }
                }
            }
            let mut r = Reply::new(buf, resp3);
            r.map(found.len());
            for (_, n, v) in found {
                r.bulk(&n);
                r.bulk(v.as_bytes());
            }
        }
        "set" => {
            if argv.len() % 2 != 0 {
                return Err(SYNTAX);
            }
            let mut new = core.config.borrow().clone();
            let mut seen: Vec<&str> = Vec::new();
            for pair in argv[2..].chunks(2) {
                let name = String::from_utf8_lossy(pair[0]).into_owned();
                let Some(d) = crate::config::directive(&name) else {
                    return Err(CmdError::owned(format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                    )));
                };
                let fail = |why: &str| {
                    CmdError::owned(format!(
                        "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
                    ))
                };
                if !d.mutable {
                    return Err(fail("can't set immutable config"));
                }
                if crate::config::PROTECTED.contains(&d.name) {
                    let allowed = match st.core.config.borrow().enable_protected_configs.as_str() {
                        "yes" => true,
                        "local" => st.client.borrow().addr.ip().is_loopback(),
                        _ => false,
                    };
                    if !allowed {
                        return Err(fail("can't set protected config"));
                    }
                }
                if seen.contains(&d.name) {
                    return Err(fail("duplicate parameter"));
                }
                seen.push(d.name);
                d.set_from_string(&mut new, &String::from_utf8_lossy(pair[1])).map_err(|e| fail(&e))?;
            }
            on_all_cores(&core, move |core| {
                let engine = crate::core::engine_config(&new);
                core.shard.borrow_mut().config = engine.clone();
                core.scratch.borrow_mut().config = engine;
                *core.config.borrow_mut() = new.clone();
            })
            .await;
            crate::logging::set_level(core.config.borrow().loglevel);
            // Core 0 knows the replicas (min-replicas-to-write), and runs the
            // cluster bus, whose rules read the cluster-* settings.
            core.call(0, |core| {
                crate::replica::refresh_read_only(core);
                crate::cluster::settings_changed(core);
            })
            .await;
            let busy_ms = core.config.borrow().busy_reply_threshold_ms;
            core.shared.scripts.busy_reply_threshold_ms.store(busy_ms, std::sync::atomic::Ordering::Relaxed);
            Reply::new(buf, resp3).ok();
        }
        "resetstat" => {
            on_all_cores(&core, |core| {
                core.stats.borrow_mut().reset();
                for db in core.shard.borrow_mut().dbs_mut() {
                    db.stats = Default::default();
                }
            })
            .await;
            Reply::new(buf, resp3).ok();
        }
        "help" => help(
            buf,
            resp3,
            "CONFIG",
            &[
                "GET <pattern>",
                "    Return the values of the settings whose names match the glob-style <pattern>.",
                "SET <directive> <value>",
                "    Change a setting while the server runs.",
                "RESETSTAT",
                "    Reset the statistics INFO reports.",
            ],
        ),
        _ => return Err(CmdError::unknown_subcommand(argv[1], "config")),
    }
    Ok(())
}

fn command(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let reg = Registry::get();
    let resp3 = st.resp3;
    let mut r = Reply::new(buf, resp3);
    if argv.len() == 1 {
        let top: Vec<CmdId> = reg.top_level().map(|(id, _)| id).collect();
        r.array(top.len());
        for id in top {
            command_info(&mut r, id);
        }
        return Ok(());
    }
    let sub = String::from_utf8_lossy(argv[1]).to_ascii_lowercase();
    match sub.as_str() {
        "count" => r.int(reg.top_level().count() as i64),
        "info" => {
            if argv.len() == 2 {
                let top: Vec<CmdId> = reg.top_level().map(|(id, _)| id).collect();
                r.array(top.len());
                for id in top {
                    command_info(&mut r, id);
                }
            } else {
                r.array(argv.len() - 2);
                for name in &argv[2..] {
                    match lookup_fullname(name) {
                        Some(id) => command_info(&mut r, id),
                        None => r.null(),
                    }
                }
            }
        }
        "docs" => {
            let ids: Vec<CmdId> = if argv.len() == 2 {
                reg.top_level().map(|(id, _)| id).collect()
            } else {
                argv[2..].iter().filter_map(|n| lookup_fullname(n)).collect()
            };
            r.map(ids.len());
            for id in ids {
                r.bulk(reg.entry(id).fullname.as_bytes());
                command_docs(&mut r, id);
            }
        }
        "list" => {
            let mut filter: Option<(String, Vec<u8>)> = None;
            let mut i = 2;
            while i < argv.len() {
                if eq_ic(argv[i], "filterby") && argv.len() - 1 - i == 2 {
                    let kind = String::from_utf8_lossy(argv[i + 1]).to_ascii_lowercase();
                    if !matches!(kind.as_str(), "module" | "aclcat" | "pattern") {
                        return Err(SYNTAX);
                    }
                    filter = Some((kind, argv[i + 2].to_vec()));
                    i += 3;
                } else {
                    return Err(SYNTAX);
                }
            }
            let names: Vec<&str> = reg
                .iter()
                .filter(|(_, e)| match &filter {
                    None => e.parent.is_none(),
                    Some((k, arg)) => match k.as_str() {
                        "module" => false,
                        "aclcat" => {
                            acl_categories(e.cmd).iter().any(|c| c.as_bytes()[1..].eq_ignore_ascii_case(arg))
                        }
                        _ => shoal_engine::glob::matches(arg, e.fullname.as_bytes(), true),
                    },
                })
                .map(|(_, e)| e.fullname.as_str())
                .collect();
            r.array(names.len());
            for n in names {
                r.bulk(n.as_bytes());
            }
        }
        "getkeys" => {
            let target = &argv[2..];
            let Some(id) = reg.find(target[0]) else {
                return Err(CmdError::new("ERR Invalid command specified"));
            };
            let id = match reg.entry(id).subcommands.is_empty() {
                true => id,
                false => target
                    .get(1)
                    .and_then(|s| reg.find_sub(id, s))
                    .ok_or(CmdError::new("ERR Invalid command specified"))?,
            };
            let cmd = reg.entry(id).cmd;
            if !cmd.has_keys() {
                return Err(CmdError::new("ERR The command has no key arguments"));
            }
            if !cmd.arity_ok(target.len()) {
                return Err(CmdError::new("ERR Invalid number of arguments specified for command"));
            }
            let keys: Vec<usize> = cmd.key_positions(target).collect();
            r.array(keys.len());
            for k in keys {
                r.bulk(target[k]);
            }
        }
        "help" => {
            help(
                buf,
                resp3,
                "COMMAND",
                &[
                    "(no subcommand)",
                    "    Return details about every command.",
                    "COUNT",
                    "    Return the number of commands.",
                    "DOCS [<command-name> ...]",
                    "    Return documentation of the given commands, or of all.",
                    "GETKEYS <full-command>",
                    "    Return the keys of a full command line.",
                    "INFO [<command-name> ...]",
                    "    Return details about the given commands, or all.",
                    "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
                    "    Return the command names, optionally filtered.",
                ],
            );
        }
        _ => return Err(CmdError::unknown_subcommand(argv[1], "command")),
    }
    Ok(())
}

/// Looks a command up by its full name (`get`, `object|encoding`).
fn lookup_fullname(name: &[u8]) -> Option<CmdId> {
    let reg = Registry::get();
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    match name.split_once('|') {
        None => reg.find(name.as_bytes()),
        Some((top, sub)) => reg.find_sub(reg.find(top.as_bytes())?, sub.as_bytes()),
    }
}

fn acl_categories(cmd: &Command) -> Vec<&'static str> {
    // Redis lists categories in the order of its category bits.
    const ORDER: &[&str] = &[
        "@keyspace",
        "@read",
        "@write",
        "@set",
        "@sortedset",
        "@list",
        "@hash",
        "@string",
        "@bitmap",
        "@hyperloglog",
        "@geo",
        "@stream",
        "@pubsub",
        "@admin",
        "@fast",
        "@slow",
        "@blocking",
        "@dangerous",
        "@connection",
        "@transaction",
        "@scripting",
    ];
    let mut cats = vec![cmd.group.acl_category()];
    if cmd.has_flag(flags::WRITE) {
        cats.push("@write");
    }
    if cmd.has_flag(flags::READONLY) && cmd.group != shoal_engine::command::Group::Server {
        cats.push("@read");
    }
    if cmd.has_flag(flags::ADMIN) {
        cats.extend(["@admin", "@dangerous"]);
    }
    cats.extend(cmd.acl_extra.split_whitespace());
    cats.push(if cmd.has_flag(flags::FAST) { "@fast" } else { "@slow" });
    if cmd.has_flag(flags::BLOCKING) {
        cats.push("@blocking");
    }
    cats.sort_by_key(|c| ORDER.iter().position(|o| o == c));
    cats.dedup();
    cats
}

/// One COMMAND INFO entry: Redis 7's ten fields.
fn command_info(r: &mut Reply, id: CmdId) {
    let reg = Registry::get();
    let e = reg.entry(id);
    let cmd = e.cmd;
    r.array(10);
    r.bulk(e.fullname.as_bytes());
    r.int(cmd.arity as i64);
    let names: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(f, n)| cmd.has_flag(*f) && *n != "may_replicate")
        .map(|(_, n)| *n)
        .collect();
    r.set(names.len());
    for n in names {
        r.simple(n.as_bytes());
    }
    r.int(cmd.keys.first as i64);
    r.int(cmd.keys.last as i64);
    r.int(cmd.keys.step as i64);
    let cats = acl_categories(cmd);
    r.set(cats.len());
    for c in cats {
        r.simple(c.as_bytes());
    }
    let tips: Vec<&str> = cmd.tips.split_whitespace().collect();
    r.set(tips.len());
    for t in tips {
        r.bulk(t.as_bytes());
    }
    key_specs(r, cmd);
    if e.subcommands.is_empty() {
        r.set(0);
    } else {
        r.array(e.subcommands.len());
        for &s in &e.subcommands {
            command_info(r, s);
        }
    }
}

fn key_specs(r: &mut Reply, cmd: &Command) {
    let derived;
    let specs: &[shoal_engine::command::KeySpec] = if !cmd.key_specs.is_empty() {
        cmd.key_specs
    } else if cmd.keys.first > 0 {
        let last = if cmd.keys.last < 0 { cmd.keys.last } else { cmd.keys.last - cmd.keys.first };
        derived = [shoal_engine::command::KeySpec {
            begin: cmd.keys.first,
            last,
            step: cmd.keys.step,
            flags: if cmd.has_flag(flags::WRITE) { "RW UPDATE" } else { "RO ACCESS" },
        }];
        &derived
    } else {
        &[]
    };
    r.set(specs.len());
    for s in specs {
        r.map(3);
        r.bulk(b"flags");
        let fl: Vec<String> = s
            .flags
            .split_whitespace()
            .map(|f| if f.len() == 2 { f.to_string() } else { f.to_ascii_lowercase() })
            .collect();
        r.set(fl.len());
        for f in fl {
            r.simple(f.as_bytes());
        }
        r.bulk(b"begin_search");
        r.map(2);
        r.bulk(b"type");
        r.bulk(b"index");
        r.bulk(b"spec");
        r.map(1);
        r.bulk(b"index");
        r.int(s.begin as i64);
        r.bulk(b"find_keys");
        r.map(2);
        r.bulk(b"type");
        r.bulk(b"range");
        r.bulk(b"spec");
        r.map(3);
        r.bulk(b"lastkey");
        r.int(s.last as i64);
        r.bulk(b"keystep");
        r.int(s.step as i64);
        r.bulk(b"limit");
        r.int(0);
    }
}

fn command_docs(r: &mut Reply, id: CmdId) {
    let reg = Registry::get();
    let e = reg.entry(id);
    let cmd = e.cmd;
    let has_summary = !cmd.summary.is_empty();
    let n = 3 + has_summary as usize + !e.subcommands.is_empty() as usize;
    r.map(n);
    if has_summary {
        r.bulk(b"summary");
        r.bulk(cmd.summary.as_bytes());
    }
    r.bulk(b"since");
    r.bulk(cmd.since.as_bytes());
    r.bulk(b"group");
    r.bulk(cmd.group.name().as_bytes());
    r.bulk(b"complexity");
    r.bulk(cmd.complexity.as_bytes());
    if !e.subcommands.is_empty() {
        r.bulk(b"subcommands");
        r.map(e.subcommands.len());
        for &s in &e.subcommands {
            r.bulk(reg.entry(s).fullname.as_bytes());
            command_docs(r, s);
        }
    }
}

async fn shutdown(st: &mut State, argv: &[&[u8]]) -> Result<(), CmdError> {
    let (mut save, mut nosave, mut force, mut abort) = (false, false, false, false);
    for a in &argv[1..] {
        if eq_ic(a, "nosave") {
            nosave = true;
        } else if eq_ic(a, "save") {
            save = true;
        } else if eq_ic(a, "now") {
        } else if eq_ic(a, "force") {
            force = true;
        } else if eq_ic(a, "abort") {
            abort = true;
        } else {
            return Err(SYNTAX);
        }
    }
    if (save && nosave) || (abort && argv.len() > 2) {
        return Err(SYNTAX);
    }
    if abort {
        return Err(CmdError::new("ERR No shutdown in progress."));
    }
    tracing::warn!("User requested shutdown...");
    // Saving while a load is half done would overwrite the file with part of it.
    let loading = st.core.shared.loading.load(std::sync::atomic::Ordering::Acquire);
    if !loading && (save || (!nosave && crate::save::has_save_points(&st.core))) {
        if let Err(e) = crate::save::save_before_exit(&st.core).await {
            tracing::warn!("Error trying to save the DB, can't exit: {e}");
            if !force {
                return Err(CmdError::new("ERR Errors trying to SHUTDOWN. Check logs."));
            }
        }
    }
    crate::server::request_shutdown(&st.core);
    st.close = true;
    Ok(())
}
