//! `shoal-load`: a load generator for Redis-compatible servers, the client of
//! `perf/compare`.
//!
//! It measures a server the way redis-benchmark does (same commands, same
//! key names, latency from writing a pipeline batch to reading its reply),
//! and adds what redis-benchmark lacks: p99.9 from an HdrHistogram, a SET:GET
//! mix, MSET over a keyspace, sequential fills, several client threads each
//! with its own event loop, and cluster routing by key slot.
//!
//! It must never favour one server: it speaks only plain RESP2 that
//! redis-server, Shoal and a Redis Cluster all understand, and behaves the
//! same against each. It must never be the bottleneck: requests come from
//! templates and replies are skimmed in place, with no allocation per
//! request.

mod cluster;
mod control;
mod keys;
mod report;
mod request;
mod resp;
mod worker;

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{ArgAction, Parser};

use crate::cluster::Topology;
use crate::control::Control;
use crate::report::Summary;
use crate::request::{Pattern, Spec, Test, Workload};
use crate::worker::{Aborted, Settings, Shared, Stats, Worker};

/// Load generator for Redis-compatible servers (redis-benchmark's flags
/// where it has them).
#[derive(Parser, Debug)]
#[command(name = "shoal-load", version, disable_help_flag = true, args_override_self = true)]
struct Args {
    /// Server host.
    #[arg(short = 'h', long, default_value = "127.0.0.1")]
    host: String,
    /// Server port.
    #[arg(short = 'p', long, default_value_t = 6379)]
    port: u16,
    /// Connections in all (on a cluster: per master).
    #[arg(short = 'c', long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=65535))]
    clients: u32,
    /// Client threads, each with its own event loop; connections are spread over them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: u32,
    /// Requests per batch a client sends before waiting for the replies.
    #[arg(short = 'P', long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pipeline: u64,
    /// Total requests (an MSET counts as one).
    #[arg(short = 'n', long, default_value_t = 100_000)]
    requests: u64,
    /// Run for this many seconds instead of a number of requests.
    #[arg(long)]
    duration: Option<f64>,
    /// Key numbers are taken in [0, keyspace).
    #[arg(short = 'r', long, default_value_t = 1_000_000)]
    keyspace: u64,
    /// Value size in bytes.
    #[arg(short = 'd', long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(0..=(512 << 20)))]
    data_size: u32,
    /// The test to run.
    #[arg(short = 't', long, value_enum, default_value = "set")]
    test: Test,
    /// SET:GET ratio of the mix test.
    #[arg(long, default_value = "1:10", value_parser = parse_ratio)]
    ratio: (u64, u64),
    /// Keys per MSET.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    mset_keys: u32,
    /// How key numbers are chosen.
    #[arg(long, value_enum, default_value = "random")]
    pattern: Pattern,
    /// Prefix of the numbered keys (default "key:", or "counter:" for incr, as in redis-benchmark).
    #[arg(long)]
    key_prefix: Option<String>,
    /// Treat the server as a node of a Redis Cluster: route each request to its slot's master.
    #[arg(long)]
    cluster: bool,
    /// Print one CSV header line and one row.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Seed of the random key numbers (default: a random one).
    #[arg(long)]
    seed: Option<u64>,
    /// Password for AUTH.
    #[arg(short = 'a', long)]
    auth: Option<String>,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    help: Option<bool>,
}

fn parse_ratio(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s.split_once(':').ok_or("expected SETS:GETS, like 1:10")?;
    let a: u64 = a.trim().parse().map_err(|e| format!("{a:?}: {e}"))?;
    let b: u64 = b.trim().parse().map_err(|e| format!("{b:?}: {e}"))?;
    if a.checked_add(b).is_none_or(|sum| sum == 0) {
        return Err("the ratio must have a SET or a GET".into());
    }
    Ok((a, b))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shoal-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    if args.keyspace == 0 || args.keyspace > keys::MAX_KEYSPACE {
        bail!("--keyspace must be between 1 and {}", keys::MAX_KEYSPACE);
    }
    let duration = match args.duration {
        Some(d) if !(d > 0.0 && d.is_finite()) => bail!("--duration must be a positive number of seconds"),
        Some(d) => Some(Duration::from_secs_f64(d)),
        None => None,
    };
    let addr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {}", args.host))?
        .next()
        .with_context(|| format!("no address for {}", args.host))?;
    let auth = args.auth.as_deref();
    let topo = if args.cluster {
        let topo = Topology::fetch(&mut Control::connect(addr, auth)?)?;
        if !(args.csv || args.json) {
            println!("cluster of {} masters: {:?}", topo.nodes.len(), topo.nodes);
        }
        topo
    } else {
        let mut topo = Topology::empty();
        topo.index_of(addr);
        topo
    };
    let prefix = args.key_prefix.as_deref().unwrap_or(args.test.default_prefix());
    let workload = Arc::new(Workload::new(&Spec {
        test: args.test,
        pattern: args.pattern,
        keyspace: args.keyspace,
        data_size: args.data_size as usize,
        key_prefix: prefix.as_bytes(),
        ratio: args.ratio,
        mset_keys: args.mset_keys as usize,
        cluster: args.cluster,
    })?);

    // Every connection is open (and authenticated) before the clock starts.
    let clients = args.clients as usize;
    let threads = (args.threads as usize).min(clients);
    let mut per_thread: Vec<Vec<Vec<Option<std::net::TcpStream>>>> =
        (0..threads).map(|_| Vec::new()).collect();
    for c in 0..clients {
        let conns = topo
            .nodes
            .iter()
            .map(|&node| connect(node, auth).map(Some))
            .collect::<anyhow::Result<Vec<_>>>()?;
        per_thread[c % threads].push(conns);
    }

    let settings = Arc::new(Settings {
        pipeline: args.pipeline,
        cluster: args.cluster,
        auth: args.auth.clone(),
        duration,
    });
    let shared = Arc::new(Shared::new(if duration.is_some() { None } else { Some(args.requests) }));
    let seed = args.seed.unwrap_or_else(|| fastrand::u64(..));
    let start = Instant::now();
    let handles: Vec<_> = per_thread
        .into_iter()
        .enumerate()
        .map(|(t, conns)| {
            let (topo, settings, shared, workload) =
                (topo.clone(), settings.clone(), shared.clone(), workload.clone());
            // Distinct, reproducible streams of key numbers per thread.
            let seed = seed.wrapping_add((t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            std::thread::Builder::new().name(format!("load-{t}")).spawn(move || {
                let worker = Worker::new(conns, topo, settings, shared.clone(), workload, seed);
                let worker =
                    worker.inspect_err(|_| shared.abort.store(true, std::sync::atomic::Ordering::Relaxed))?;
                worker.run()
            })
        })
        .collect::<std::io::Result<_>>()?;
    let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
    let seconds = start.elapsed().as_secs_f64();
    let mut stats = Stats::new();
    let mut failure: Option<anyhow::Error> = None;
    for result in results {
        match result {
            Ok(Ok(s)) => stats.merge(&s),
            // The thread that failed first says why; the others only stopped.
            Ok(Err(e)) if failure.is_none() || failure.as_ref().is_some_and(|f| f.is::<Aborted>()) => {
                failure = Some(e)
            }
            Ok(Err(_)) => {}
            Err(_) => bail!("a client thread panicked"),
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }

    let summary = Summary::new(
        args.test.name(),
        clients,
        threads,
        args.pipeline,
        args.data_size as usize,
        &stats,
        seconds,
    );
    // The notes go to stderr with --csv and --json, which own stdout.
    let machine = args.csv || args.json;
    let note = |line: String| if machine { eprintln!("{line}") } else { println!("{line}") };
    if args.csv {
        print!("{}", summary.csv());
    } else if args.json {
        print!("{}", summary.json());
    } else {
        print!("{}", summary.human());
    }
    if args.cluster {
        note(format!("  redirections: {} MOVED, {} ASK", stats.moved, stats.ask));
    }
    if !stats.error_samples.is_empty() {
        note(format!("  first errors ({} in all):", stats.errors));
        for e in &stats.error_samples {
            note(format!("    {e}"));
        }
    }
    Ok(())
}

/// Opens one load connection: connected, authenticated, non-blocking.
fn connect(addr: SocketAddr, auth: Option<&str>) -> anyhow::Result<std::net::TcpStream> {
    Ok(Control::connect(addr, auth)?.into_stream()?)
}
