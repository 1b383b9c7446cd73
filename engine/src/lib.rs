//! shoal-engine: the keyspace of one core and the meaning of every command.
//!
//! It owns the per-core shard (numbered databases of per-slot hashbrown
//! tables), the value types with Redis's encodings, the command table and the
//! handlers that run a command against one shard, writing Redis's exact reply
//! or error. It never touches a socket, a thread or another core: the server
//! decides where a command runs and hands the handler the shard that owns its
//! keys, so almost everything here is tested with plain synchronous tests.

pub mod args;
pub mod bytes;
pub mod cmd;
pub mod command;
pub mod error;
pub mod glob;
pub mod keyspace;
pub mod lazyfree;
pub mod num;
pub mod prefetch;
pub mod rdb;
pub mod reply;
pub mod script;
pub mod shard;
pub mod table;
pub mod types;
pub mod value;

pub use command::{CmdId, Command, Registry, Run, ServerCmd, Spread};
pub use error::{CmdError, CmdResult};
pub use keyspace::{Db, Rng};
pub use reply::Reply;
pub use shard::{Ctx, EngineConfig, Shard};
pub use table::Entry;
pub use value::{Str, Value};

#[cfg(test)]
pub(crate) mod testing;
