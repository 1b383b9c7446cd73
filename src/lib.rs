//! shoal: the Shoal server. Wires the engine (keyspace and commands), the
//! network edge (RESP and connections) and the cluster (slots, bus) into one
//! process: one pinned executor per core, each serving its share of the
//! slots, with commands for other cores' keys sent there as messages.

pub mod admin;
pub mod alloc;
pub mod blocking;
pub mod client;
pub mod cluster;
pub mod config;
pub mod core;
pub mod hop;
pub mod info;
pub mod logging;
pub mod master;
pub mod migrate;
pub mod multi;
pub mod pause;
pub mod pubsub;
pub mod replica;
pub mod router;
pub mod save;
pub mod scan;
pub mod server;
pub mod session;
pub mod stats;
pub mod transaction;
pub mod txn;

/// The Redis version whose behaviour Shoal matches; clients switch features on it.
pub const REDIS_VERSION: &str = "7.0.15";
