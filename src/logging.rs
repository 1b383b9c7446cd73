//! Logging through `tracing`, at the level `loglevel` names, to stdout or `logfile`.

use crate::config::{Config, LogLevel};
use std::sync::OnceLock;
use tracing_subscriber::{filter::LevelFilter, reload, Registry};

static HANDLE: OnceLock<reload::Handle<LevelFilter, Registry>> = OnceLock::new();

fn filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Debug => LevelFilter::TRACE,
        LogLevel::Verbose => LevelFilter::DEBUG,
        LogLevel::Notice => LevelFilter::INFO,
        LogLevel::Warning => LevelFilter::WARN,
    }
}

pub fn init(config: &Config) -> anyhow::Result<()> {
    use tracing_subscriber::prelude::*;
    let (layer, handle) = reload::Layer::new(filter(config.loglevel));
    let fmt = tracing_subscriber::fmt::layer().with_target(false).with_thread_names(true);
    if config.logfile.is_empty() {
        tracing_subscriber::registry().with(layer).with(fmt.with_ansi(false)).try_init()?;
    } else {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&config.logfile)?;
        tracing_subscriber::registry()
            .with(layer)
            .with(fmt.with_ansi(false).with_writer(std::sync::Mutex::new(file)))
            .try_init()?;
    }
    let _ = HANDLE.set(handle);
    Ok(())
}

/// Applies a new `loglevel` (CONFIG SET).
pub fn set_level(level: LogLevel) {
    if let Some(h) = HANDLE.get() {
        let _ = h.reload(filter(level));
    }
}
