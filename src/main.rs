//! shoal-server: reads the configuration the way redis-server does and starts the cores.

use clap::{Arg, ArgAction, Command};
use shoal::config::{Config, DIRECTIVES};
use std::io::Read;

fn cli() -> Command {
    let mut cmd = Command::new("shoal-server")
        .about("Shoal: a Redis-Cluster-compatible in-memory store, thread-per-core")
        .version(concat!(env!("CARGO_PKG_VERSION"), " (Redis 7.0.15 compatible)"))
        .override_usage("shoal-server [/path/to/shoal.conf] [--directive value ...]")
        .after_help(
            "Every configuration directive can also be given as --<directive> <value...>, after the file's.",
        )
        .arg(
            Arg::new("config")
                .index(1)
                .help("A redis.conf-style configuration file ('-' reads standard input)"),
        );
    for d in DIRECTIVES {
        cmd = cmd.arg(
            Arg::new(d.name)
                .long(d.name)
                .num_args(1..)
                .allow_negative_numbers(true)
                .action(ArgAction::Append)
                .value_name("VALUE")
                .hide(true),
        );
    }
    cmd
}

fn load_config() -> anyhow::Result<Config> {
    let matches = cli().get_matches();
    let mut config = Config::default();
    if let Some(path) = matches.get_one::<String>("config") {
        let text = if path == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        } else {
            let p = std::path::Path::new(path);
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("Fatal error, can't open config file '{path}': {e}"))?;
            config.config_file = Some(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()));
            text
        };
        config.apply_text(&text, Some(1))?;
    }
    for d in DIRECTIVES {
        if let Some(groups) = matches.get_occurrences::<String>(d.name) {
            for values in groups {
                let values: Vec<String> = values.cloned().collect();
                config.apply_directive(d.name, &values)?;
            }
        }
    }
    Ok(config)
}

fn main() {
    let config = match load_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if config.daemonize {
        // SAFETY: called before any thread is started; daemon forks and detaches.
        if unsafe { libc::daemon(1, 0) } != 0 {
            eprintln!("daemonize failed: {}", std::io::Error::last_os_error());
            std::process::exit(1);
        }
    }
    if let Err(e) = shoal::logging::init(&config) {
        eprintln!("logging: {e}");
        std::process::exit(1);
    }
    let pidfile = if config.pidfile.is_empty() && config.daemonize {
        "/var/run/shoal.pid".to_string()
    } else {
        config.pidfile.clone()
    };
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            tracing::warn!("Failed to write PID file {pidfile}: {e}");
        }
    }
    shoal::server::handle_signals(pidfile);
    if let Err(e) = shoal::server::run(config) {
        tracing::error!("{e:#}");
        std::process::exit(1);
    }
}
