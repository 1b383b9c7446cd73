//! INFO: Redis's sections with real figures, summed over the cores, plus a
//! `shoal` section with each core's share of the load.

use crate::admin::on_all_cores;
use crate::alloc;
use crate::core::{now_ms, Core};
use crate::stats::CoreStats;
use shoal_engine::Registry;
use std::fmt::Write as _;
use std::rc::Rc;

/// What INFO needs from one core.
struct CoreReport {
    stats: CoreStats,
    clients: usize,
    /// Per database: (keys, expires, avg_ttl, hits, misses, expired).
    dbs: Vec<(usize, usize, u64, u64, u64, u64)>,
    dirty: u64,
    slots: usize,
    cpu_ms: (u64, u64),
    active_txs: usize,
    ops_per_sec: u64,
    blocked: usize,
    /// Cluster bus connections (on the core that runs the bus).
    bus_links: usize,
    /// Channels and patterns with subscribers on this core.
    pubsub: (Vec<Vec<u8>>, Vec<Vec<u8>>),
}

fn report(core: &Rc<Core>) -> CoreReport {
    let now = now_ms();
    let shard = core.shard.borrow();
    let dbs = shard
        .dbs()
        .iter()
        .map(|d| (d.len(), d.expires(), d.avg_ttl(now), d.stats.hits, d.stats.misses, d.stats.expired_keys))
        .collect();
    CoreReport {
        stats: core.stats.borrow().clone(),
        clients: core.clients.borrow().len(),
        dbs,
        dirty: shard.dirty,
        slots: core.shared.core_slots[core.index()].len(),
        cpu_ms: thread_cpu_ms(),
        active_txs: core.txq.borrow().active(),
        ops_per_sec: core.ops.borrow().per_sec(),
        blocked: crate::blocking::blocked_here(core),
        bus_links: crate::cluster::info_connections(core),
        pubsub: core.pubsub.borrow().names(),
    }
}

/// This thread's user and system CPU time in ms.
fn thread_cpu_ms() -> (u64, u64) {
    rusage(libc::RUSAGE_THREAD)
}

fn rusage(who: libc::c_int) -> (u64, u64) {
    // SAFETY: rusage is plain data filled by getrusage.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a rusage.
    unsafe { libc::getrusage(who, &mut u) };
    let ms = |t: libc::timeval| t.tv_sec as u64 * 1000 + t.tv_usec as u64 / 1000;
    (ms(u.ru_utime), ms(u.ru_stime))
}

fn human(bytes: usize) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", b / (1024.0 * 1024.0 * 1024.0))
    }
}

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
    "shoal",
];

/// Renders the sections `argv[1..]` asks for (Redis's rules: none = default,
/// `all`, `everything`, or any list of section names).
pub async fn render(core: &Rc<Core>, argv: &[&[u8]]) -> String {
    let mut wanted: Vec<String> = Vec::new();
    if argv.len() == 1 {
        wanted.extend(DEFAULT.iter().map(|s| s.to_string()));
    }
    for a in &argv[1..] {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "default" => wanted.extend(DEFAULT.iter().map(|s| s.to_string())),
            "all" | "everything" => wanted.extend(ALL.iter().map(|s| s.to_string())),
            _ => wanted.push(a),
        }
    }
    let reports = on_all_cores(core, report).await;
    let replication = match wanted.iter().any(|w| w == "replication") {
        true => core.call(0, |core| crate::replica::info_section(core)).await,
        false => String::new(),
    };
    let repl = match wanted.iter().any(|w| w == "stats" || w == "memory") {
        true => core.call(0, |core| crate::master::figures(core)).await,
        false => Default::default(),
    };
    let persistence = match wanted.iter().any(|w| w == "persistence") {
        true => {
            let dirty: u64 = reports.iter().map(|r| r.dirty).sum();
            core.call(0, move |core| crate::save::info_fields(core, dirty)).await
        }
        false => String::new(),
    };
    let mut total = CoreStats::new(Registry::get().len());
    for r in &reports {
        total.merge(&r.stats);
    }
    let mut out = String::new();
    let mut done: Vec<&str> = Vec::new();
    for section in ALL {
        if !wanted.iter().any(|w| w == section) || done.contains(section) {
            continue;
        }
        done.push(section);
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        if *section == "replication" {
            out.push_str(&replication);
            continue;
        }
        if *section == "persistence" {
            out.push_str(&persistence);
            continue;
        }
        section_text(core, section, &reports, &total, repl, &mut out);
    }
    out
}

/// One section of INFO; `repl` holds core 0's replication figures.
fn section_text(
    core: &Rc<Core>,
    section: &str,
    reports: &[CoreReport],
    total: &CoreStats,
    repl: crate::master::Figures,
    s: &mut String,
) {
    let shared = &core.shared;
    let config = core.config.borrow();
    let now = now_ms();
    let uptime = shared.started.elapsed().as_secs();
    let hits: u64 = reports.iter().flat_map(|r| r.dbs.iter().map(|d| d.3)).sum();
    let misses: u64 = reports.iter().flat_map(|r| r.dbs.iter().map(|d| d.4)).sum();
    let expired: u64 = reports.iter().flat_map(|r| r.dbs.iter().map(|d| d.5)).sum();
    let clients: usize = reports.iter().map(|r| r.clients).sum();
    macro_rules! line { ($($t:tt)*) => { let _ = write!(s, $($t)*); s.push_str("\r\n"); } }
    match section {
        "server" => {
            line!("# Server");
            line!("redis_version:{}", crate::REDIS_VERSION);
            line!("redis_git_sha1:00000000");
            line!("redis_git_dirty:0");
            line!("redis_build_id:0");
            line!("redis_mode:standalone");
            line!("shoal_version:{}", env!("CARGO_PKG_VERSION"));
            line!("os:{}", uname());
            line!("arch_bits:{}", usize::BITS);
            line!("monotonic_clock:POSIX clock_gettime");
            line!("multiplexing_api:io_uring");
            line!("atomicvar_api:c11-builtin");
            line!("gcc_version:0.0.0");
            line!("process_id:{}", std::process::id());
            line!("process_supervised:no");
            line!("run_id:{}", shared.run_id);
            line!("tcp_port:{}", shared.port);
            line!("server_time_usec:{}", now * 1000);
            line!("uptime_in_seconds:{uptime}");
            line!("uptime_in_days:{}", uptime / 86400);
            line!("hz:{}", config.hz);
            line!("configured_hz:{}", config.hz);
            line!("lru_clock:{}", (now / 1000) & ((1 << 24) - 1));
            line!("executable:{}", shared.executable);
            line!(
                "config_file:{}",
                shared.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
            );
            line!("io_threads_active:0");
            line!("shoal_threads:{}", shared.cores);
        }
        "clients" => {
            line!("# Clients");
            line!("connected_clients:{clients}");
            line!("cluster_connections:{}", reports.iter().map(|r| r.bus_links).sum::<usize>());
            line!("maxclients:{}", config.maxclients);
            line!("client_recent_max_input_buffer:0");
            line!("client_recent_max_output_buffer:0");
            line!("blocked_clients:{}", reports.iter().map(|r| r.blocked).sum::<usize>());
            line!("tracking_clients:0");
            line!("clients_in_timeout_table:0");
        }
        "memory" => {
            let used = alloc::used_memory();
            let rss = alloc::rss_bytes();
            let peak = crate::server::note_peak(used);
            let system = system_memory();
            line!("# Memory");
            line!("used_memory:{used}");
            line!("used_memory_human:{}", human(used));
            line!("used_memory_rss:{rss}");
            line!("used_memory_rss_human:{}", human(rss));
            line!("used_memory_peak:{peak}");
            line!("used_memory_peak_human:{}", human(peak));
            line!("used_memory_peak_perc:{:.2}%", used as f64 * 100.0 / peak.max(1) as f64);
            line!("used_memory_startup:{}", crate::server::startup_memory());
            line!("total_system_memory:{system}");
            line!("total_system_memory_human:{}", human(system));
            line!("maxmemory:0");
            line!("maxmemory_human:0B");
            line!("maxmemory_policy:noeviction");
            line!("mem_fragmentation_ratio:{:.2}", rss as f64 / used.max(1) as f64);
            line!("mem_fragmentation_bytes:{}", rss as i64 - used as i64);
            line!("mem_replication_backlog:{}", repl.backlog);
            line!("mem_total_replication_buffers:{}", repl.buffers);
            line!("mem_allocator:mimalloc");
            line!("lazyfree_pending_objects:{}", shoal_engine::lazyfree::pending());
            line!("lazyfreed_objects:{}", shoal_engine::lazyfree::freed());
        }
        "stats" => {
            let ops: u64 = reports.iter().map(|r| r.ops_per_sec).sum();
            line!("# Stats");
            line!("total_connections_received:{}", total.connections_received);
            line!("total_commands_processed:{}", total.commands);
            line!("instantaneous_ops_per_sec:{ops}");
            line!("total_net_input_bytes:{}", total.net_input_bytes);
            line!("total_net_output_bytes:{}", total.net_output_bytes);
            line!("rejected_connections:{}", total.rejected_connections);
            line!("sync_full:{}", repl.sync_full);
            line!("sync_partial_ok:{}", repl.sync_partial_ok);
            line!("sync_partial_err:{}", repl.sync_partial_err);
            line!("expired_keys:{expired}");
            line!("evicted_keys:0");
            line!("keyspace_hits:{hits}");
            line!("keyspace_misses:{misses}");
            let distinct = |names: &dyn Fn(&CoreReport) -> &Vec<Vec<u8>>| {
                reports.iter().flat_map(|r| names(r).iter()).collect::<std::collections::HashSet<_>>().len()
            };
            line!("pubsub_channels:{}", distinct(&|r| &r.pubsub.0));
            line!("pubsub_patterns:{}", distinct(&|r| &r.pubsub.1));
            line!("total_error_replies:{}", total.error_replies);
            line!("shoal_multi_core_commands:{}", total.multi_core_txs);
            line!("shoal_multi_core_retries:{}", total.tx_retries);
        }
        "cpu" => {
            let (user, sys) = rusage(libc::RUSAGE_SELF);
            line!("# CPU");
            line!("used_cpu_sys:{:.6}", sys as f64 / 1000.0);
            line!("used_cpu_user:{:.6}", user as f64 / 1000.0);
            line!("used_cpu_sys_children:0.000000");
            line!("used_cpu_user_children:0.000000");
        }
        "modules" => {
            line!("# Modules");
        }
        "commandstats" => {
            line!("# Commandstats");
            for (id, e) in Registry::get().iter() {
                let c = total.cmds[id.0 as usize];
                if c.calls == 0 && c.rejected == 0 && c.failed == 0 {
                    continue;
                }
                line!(
                    "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}",
                    e.fullname,
                    c.calls,
                    c.usec,
                    if c.calls > 0 { c.usec as f64 / c.calls as f64 } else { 0.0 },
                    c.rejected,
                    c.failed
                );
            }
        }
        "errorstats" => {
            line!("# Errorstats");
            let mut errs: Vec<_> = total.errors.iter().collect();
            errs.sort();
            for (code, n) in errs {
                line!("errorstat_{code}:count={n}");
            }
        }
        "cluster" => {
            line!("# Cluster");
            line!("cluster_enabled:{}", shared.cluster_routes.is_some() as u8);
        }
        "keyspace" => {
            line!("# Keyspace");
            let ndb = reports.first().map_or(0, |r| r.dbs.len());
            for db in 0..ndb {
                let keys: usize = reports.iter().map(|r| r.dbs[db].0).sum();
                if keys == 0 {
                    continue;
                }
                let expires: usize = reports.iter().map(|r| r.dbs[db].1).sum();
                let ttl_sum: u128 = reports.iter().map(|r| r.dbs[db].2 as u128 * r.dbs[db].1 as u128).sum();
                let avg = if expires > 0 { ttl_sum / expires as u128 } else { 0 };
                line!("db{db}:keys={keys},expires={expires},avg_ttl={avg}");
            }
        }
        "shoal" => {
            line!("# Shoal");
            line!("threads:{}", shared.cores);
            for (i, r) in reports.iter().enumerate() {
                let keys: usize = r.dbs.iter().map(|d| d.0).sum();
                line!(
                    "core{i}:cpu={},slots={},keys={keys},clients={},commands={},hops_sent={},hops_received={},multi_core_commands={},active_txs={},used_cpu_user_ms={},used_cpu_sys_ms={}",
                    shared.cpus.get(i).copied().unwrap_or(i),
                    r.slots,
                    r.clients,
                    r.stats.commands,
                    r.stats.hops_sent,
                    r.stats.hops_received,
                    r.stats.multi_core_txs,
                    r.active_txs,
                    r.cpu_ms.0,
                    r.cpu_ms.1
                );
            }
        }
        _ => {}
    }
}

fn uname() -> String {
    // SAFETY: utsname is plain data filled by uname.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer.
    if unsafe { libc::uname(&mut u) } != 0 {
        return "Linux".into();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{} {} {}", field(&u.sysname), field(&u.release), field(&u.machine))
}

fn system_memory() -> usize {
    // SAFETY: sysconf has no preconditions.
    let (pages, size) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    (pages.max(0) as usize) * (size.max(0) as usize)
}
