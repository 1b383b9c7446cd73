//! Connection and server commands: the pure ones run here (PING, ECHO, TIME);
//! the ones that touch connection state or every core are declared here and
//! carried out by the server layer ([`ServerCmd`]).

use crate::command::{flags::*, Command, Group, Run, ServerCmd};
use crate::error::{CmdError, CmdResult};
use crate::shard::Ctx;

const CONN: Command = Command { group: Group::Connection, ..Command::DEFAULT };
const SERVER: Command = Command { group: Group::Server, ..Command::DEFAULT };
const TX: Command = Command { group: Group::Transactions, ..Command::DEFAULT };
const PUBSUB_GROUP: Command = Command { group: Group::Pubsub, ..Command::DEFAULT };

static PUBSUB_SUBCOMMANDS: &[Command] = &[
    Command {
        name: "channels",
        arity: -2,
        flags: PUBSUB | LOADING | STALE,
        since: "2.8.0",
        complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        summary: "Returns the channels with subscribers.",
        run: Run::Server(ServerCmd::Pubsub),
        ..PUBSUB_GROUP
    },
    Command {
        name: "numsub",
        arity: -2,
        flags: PUBSUB | LOADING | STALE,
        since: "2.8.0",
        complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        summary: "Returns the number of subscribers of channels.",
        run: Run::Server(ServerCmd::Pubsub),
        ..PUBSUB_GROUP
    },
    Command {
        name: "numpat",
        arity: 2,
        flags: PUBSUB | LOADING | STALE,
        since: "2.8.0",
        summary: "Returns the number of distinct subscribed patterns.",
        run: Run::Server(ServerCmd::Pubsub),
        ..PUBSUB_GROUP
    },
    Command {
        name: "shardchannels",
        arity: -2,
        flags: PUBSUB | LOADING | STALE,
        since: "7.0.0",
        complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        summary: "Returns the shard channels with subscribers.",
        run: Run::Server(ServerCmd::Pubsub),
        ..PUBSUB_GROUP
    },
    Command {
        name: "shardnumsub",
        arity: -2,
        flags: PUBSUB | LOADING | STALE,
        since: "7.0.0",
        complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        summary: "Returns the number of subscribers of shard channels.",
        run: Run::Server(ServerCmd::Pubsub),
        ..PUBSUB_GROUP
    },
    Command {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        since: "6.2.0",
        summary: "Describes the PUBSUB subcommands.",
        run: Run::Server(ServerCmd::Pubsub),
        ..PUBSUB_GROUP
    },
];

pub static COMMANDS: &[Command] = &[
    Command {
        name: "cluster",
        arity: -2,
        since: "3.0.0",
        complexity: "Depends on subcommand.",
        summary: "A container for Redis Cluster commands.",
        run: Run::Container,
        subcommands: CLUSTER_SUBCOMMANDS,
        group: Group::Cluster,
        ..Command::DEFAULT
    },
    Command {
        name: "asking",
        arity: 1,
        flags: FAST,
        since: "3.0.0",
        summary: "Signals that a cluster client is following an -ASK redirect.",
        run: Run::Server(ServerCmd::Asking),
        group: Group::Cluster,
        ..Command::DEFAULT
    },
    Command {
        name: "readonly",
        arity: 1,
        flags: LOADING | STALE | FAST,
        since: "3.0.0",
        summary: "Enables read-only queries for a connection to a Redis Cluster replica node.",
        run: Run::Server(ServerCmd::Readonly),
        group: Group::Cluster,
        ..Command::DEFAULT
    },
    Command {
        name: "readwrite",
        arity: 1,
        flags: LOADING | STALE | FAST,
        since: "3.0.0",
        summary: "Enables read-write queries for a connection to a Redis Cluster replica node.",
        run: Run::Server(ServerCmd::Readwrite),
        group: Group::Cluster,
        ..Command::DEFAULT
    },
    Command {
        name: "ping",
        arity: -1,
        flags: FAST,
        summary: "Returns PONG, or the given message.",
        tips: "request_policy:all_shards response_policy:all_succeeded",
        run: Run::Shard(ping),
        ..CONN
    },
    Command {
        name: "echo",
        arity: 2,
        flags: LOADING | STALE | FAST,
        summary: "Returns the given message.",
        run: Run::Shard(echo),
        ..CONN
    },
    Command {
        name: "hello",
        arity: -1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        since: "6.0.0",
        summary: "Chooses the protocol version, optionally authenticates and names the connection.",
        run: Run::Server(ServerCmd::Hello),
        ..CONN
    },
    Command {
        name: "auth",
        arity: -2,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        complexity: "O(N) where N is the number of passwords defined for the user",
        summary: "Authenticates the connection.",
        run: Run::Server(ServerCmd::Auth),
        ..CONN
    },
    Command {
        name: "select",
        arity: 2,
        flags: LOADING | STALE | FAST,
        summary: "Changes the database the connection uses.",
        run: Run::Server(ServerCmd::Select),
        ..CONN
    },
    Command {
        name: "quit",
        arity: -1,
        flags: ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        summary: "Closes the connection after replying.",
        run: Run::Server(ServerCmd::Quit),
        ..CONN
    },
    Command {
        name: "reset",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        since: "6.2.0",
        summary: "Returns the connection to its initial state.",
        run: Run::Server(ServerCmd::Reset),
        ..CONN
    },
    Command {
        name: "client",
        arity: -2,
        since: "2.4.0",
        complexity: "Depends on subcommand.",
        summary: "Inspects and manages client connections.",
        run: Run::Container,
        subcommands: CLIENT_SUBCOMMANDS,
        ..CONN
    },
    Command {
        name: "info",
        arity: -1,
        flags: LOADING | STALE,
        summary: "Returns information and statistics about the server.",
        tips: "nondeterministic_output request_policy:all_shards response_policy:special",
        run: Run::Server(ServerCmd::Info),
        ..SERVER
    },
    Command {
        name: "config",
        arity: -2,
        since: "2.0.0",
        complexity: "Depends on subcommand.",
        summary: "Reads and changes the server's settings.",
        run: Run::Container,
        subcommands: CONFIG_SUBCOMMANDS,
        ..SERVER
    },
    Command {
        name: "command",
        arity: -1,
        flags: LOADING | STALE,
        since: "2.8.13",
        complexity: "O(N) where N is the total number of Redis commands",
        summary: "Returns details about every command.",
        tips: "nondeterministic_output_order",
        run: Run::Server(ServerCmd::Command),
        subcommands: COMMAND_SUBCOMMANDS,
        ..SERVER
    },
    Command {
        name: "time",
        arity: 1,
        flags: LOADING | STALE | FAST,
        since: "2.6.0",
        summary: "Returns the server's time.",
        tips: "nondeterministic_output",
        run: Run::Shard(time),
        ..SERVER
    },
    Command {
        name: "role",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST,
        since: "2.8.12",
        summary: "Returns the replication role.",
        acl_extra: "@dangerous",
        run: Run::Server(ServerCmd::Role),
        ..SERVER
    },
    Command {
        name: "replicaof",
        arity: 3,
        flags: NO_ASYNC_LOADING | ADMIN | NOSCRIPT | STALE,
        since: "5.0.0",
        complexity: "O(1)",
        summary: "Make the server a replica of another instance, or promote it as master.",
        run: Run::Server(ServerCmd::Replicaof),
        ..SERVER
    },
    Command {
        name: "slaveof",
        arity: 3,
        flags: NO_ASYNC_LOADING | ADMIN | NOSCRIPT | STALE,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Make the server a replica of another instance, or promote it as master.",
        run: Run::Server(ServerCmd::Replicaof),
        ..SERVER
    },
    Command {
        name: "psync",
        arity: -3,
        flags: NO_ASYNC_LOADING | ADMIN | NOSCRIPT | NO_MULTI,
        since: "2.8.0",
        summary: "Internal command used for replication",
        run: Run::Server(ServerCmd::Sync),
        ..SERVER
    },
    Command {
        name: "sync",
        arity: 1,
        flags: NO_ASYNC_LOADING | ADMIN | NOSCRIPT | NO_MULTI,
        since: "1.0.0",
        summary: "Internal command used for replication",
        run: Run::Server(ServerCmd::Sync),
        ..SERVER
    },
    Command {
        name: "replconf",
        arity: -1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        since: "3.0.0",
        complexity: "O(1)",
        summary: "An internal command for configuring the replication stream",
        run: Run::Server(ServerCmd::Replconf),
        ..SERVER
    },
    Command {
        name: "save",
        arity: 1,
        flags: NO_ASYNC_LOADING | ADMIN | NOSCRIPT | NO_MULTI,
        since: "1.0.0",
        complexity: "O(N) where N is the total number of keys in all databases",
        summary: "Writes the dataset to disk and replies when it is done.",
        run: Run::Server(ServerCmd::Save),
        ..SERVER
    },
    Command {
        name: "bgsave",
        arity: -1,
        flags: NO_ASYNC_LOADING | ADMIN | NOSCRIPT,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Writes the dataset to disk in the background.",
        run: Run::Server(ServerCmd::Bgsave),
        ..SERVER
    },
    Command {
        name: "lastsave",
        arity: 1,
        flags: LOADING | STALE | FAST,
        since: "1.0.0",
        complexity: "O(1)",
        summary: "Returns the Unix time of the last successful save to disk.",
        acl_extra: "@dangerous",
        tips: "nondeterministic_output",
        run: Run::Server(ServerCmd::Lastsave),
        ..SERVER
    },
    Command {
        name: "dbsize",
        arity: 1,
        flags: READONLY | FAST,
        summary: "Returns the number of keys in the selected database.",
        tips: "request_policy:all_shards response_policy:agg_sum",
        run: Run::Server(ServerCmd::Dbsize),
        ..SERVER
    },
    Command {
        name: "flushdb",
        arity: -1,
        flags: WRITE,
        complexity: "O(N) where N is the number of keys in the selected database",
        summary: "Deletes every key of the selected database.",
        tips: "request_policy:all_shards response_policy:all_succeeded",
        run: Run::Server(ServerCmd::Flushdb),
        ..SERVER
    },
    Command {
        name: "flushall",
        arity: -1,
        flags: WRITE,
        complexity: "O(N) where N is the total number of keys in all databases",
        summary: "Deletes every key of every database.",
        tips: "request_policy:all_shards response_policy:all_succeeded",
        run: Run::Server(ServerCmd::Flushall),
        ..SERVER
    },
    Command {
        name: "swapdb",
        arity: 3,
        flags: WRITE | FAST,
        since: "4.0.0",
        complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        summary: "Swaps two databases.",
        run: Run::Server(ServerCmd::Swapdb),
        ..SERVER
    },
    Command {
        name: "shutdown",
        arity: -1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        summary: "Stops the server.",
        run: Run::Server(ServerCmd::Shutdown),
        ..SERVER
    },
    Command {
        name: "multi",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        since: "1.2.0",
        summary: "Starts a transaction.",
        run: Run::Server(ServerCmd::Multi),
        ..TX
    },
    Command {
        name: "exec",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        since: "1.2.0",
        complexity: "Depends on commands in the transaction",
        summary: "Runs the commands queued since MULTI, atomically.",
        run: Run::Server(ServerCmd::Exec),
        ..TX
    },
    Command {
        name: "discard",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        since: "2.0.0",
        complexity: "O(N), when N is the number of queued commands",
        summary: "Drops the commands queued since MULTI.",
        run: Run::Server(ServerCmd::Discard),
        ..TX
    },
    Command {
        name: "watch",
        arity: -2,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        keys: crate::command::Keys::ALL,
        since: "2.2.0",
        complexity: "O(1) for every key.",
        summary: "Makes the next EXEC fail if any of the keys changes first.",
        key_specs: &[crate::command::KeySpec { begin: 1, last: -1, step: 1, flags: "RO" }],
        run: Run::Server(ServerCmd::Watch),
        ..TX
    },
    Command {
        name: "unwatch",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        since: "2.2.0",
        summary: "Forgets the keys WATCH watched.",
        run: Run::Server(ServerCmd::Unwatch),
        ..TX
    },
    Command {
        name: "subscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        since: "2.0.0",
        complexity: "O(N) where N is the number of channels to subscribe to.",
        summary: "Listens for messages published to channels.",
        run: Run::Server(ServerCmd::Subscribe),
        ..PUBSUB_GROUP
    },
    Command {
        name: "unsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        since: "2.0.0",
        complexity: "O(N) where N is the number of clients already subscribed to a channel.",
        summary: "Stops listening to channels (all of them when none is named).",
        run: Run::Server(ServerCmd::Unsubscribe),
        ..PUBSUB_GROUP
    },
    Command {
        name: "psubscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        since: "2.0.0",
        complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
        summary: "Listens for messages published to channels matching glob-style patterns.",
        run: Run::Server(ServerCmd::Psubscribe),
        ..PUBSUB_GROUP
    },
    Command {
        name: "punsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        since: "2.0.0",
        complexity: "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
        summary: "Stops listening to patterns (all of them when none is named).",
        run: Run::Server(ServerCmd::Punsubscribe),
        ..PUBSUB_GROUP
    },
    Command {
        name: "ssubscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: crate::command::Keys::ALL,
        since: "7.0.0",
        complexity: "O(N) where N is the number of shard channels to subscribe to.",
        summary: "Listens for messages published to shard channels.",
        key_specs: &[crate::command::KeySpec { begin: 1, last: -1, step: 1, flags: "NOT_KEY" }],
        run: Run::Server(ServerCmd::Ssubscribe),
        ..PUBSUB_GROUP
    },
    Command {
        name: "sunsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: crate::command::Keys::ALL,
        since: "7.0.0",
        complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
        summary: "Stops listening to shard channels (all of them when none is named).",
        key_specs: &[crate::command::KeySpec { begin: 1, last: -1, step: 1, flags: "NOT_KEY" }],
        run: Run::Server(ServerCmd::Sunsubscribe),
        ..PUBSUB_GROUP
    },
    Command {
        name: "publish",
        arity: 3,
        flags: PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        since: "2.0.0",
        complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        summary: "Posts a message to a channel.",
        run: Run::Server(ServerCmd::Publish),
        ..PUBSUB_GROUP
    },
    Command {
        name: "spublish",
        arity: 3,
        flags: PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        keys: crate::command::Keys::ONE,
        since: "7.0.0",
        complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
        summary: "Posts a message to a shard channel.",
        key_specs: &[crate::command::KeySpec { begin: 1, last: 0, step: 1, flags: "NOT_KEY" }],
        run: Run::Server(ServerCmd::Spublish),
        ..PUBSUB_GROUP
    },
    Command {
        name: "pubsub",
        arity: -2,
        since: "2.8.0",
        complexity: "Depends on subcommand.",
        summary: "Inspects the state of pub/sub.",
        run: Run::Container,
        subcommands: PUBSUB_SUBCOMMANDS,
        ..PUBSUB_GROUP
    },
];

const CLUSTER_SUB: Command =
    Command { group: Group::Cluster, run: Run::Server(ServerCmd::Cluster), ..Command::DEFAULT };

/// CLUSTER's subcommands as Redis 7.0 has them.
static CLUSTER_SUBCOMMANDS: &[Command] = &[
    Command {
        name: "addslots",
        arity: -3,
        flags: ADMIN | STALE,
        since: "3.0.0",
        summary: "Assigns new hash slots to a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "addslotsrange",
        arity: -4,
        flags: ADMIN | STALE,
        since: "7.0.0",
        summary: "Assigns new hash slot ranges to a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "bumpepoch",
        arity: 2,
        flags: ADMIN | STALE,
        since: "3.0.0",
        summary: "Advances the cluster config epoch.",
        ..CLUSTER_SUB
    },
    Command {
        name: "count-failure-reports",
        arity: 3,
        flags: ADMIN | STALE,
        since: "3.0.0",
        summary: "Returns the number of active failure reports active for a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "countkeysinslot",
        arity: 3,
        flags: STALE,
        since: "3.0.0",
        summary: "Returns the number of keys in a hash slot.",
        ..CLUSTER_SUB
    },
    Command {
        name: "delslots",
        arity: -3,
        flags: ADMIN | STALE,
        since: "3.0.0",
        summary: "Sets hash slots as unbound for a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "delslotsrange",
        arity: -4,
        flags: ADMIN | STALE,
        since: "7.0.0",
        summary: "Sets hash slot ranges as unbound for a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "failover",
        arity: -2,
        flags: NO_ASYNC_LOADING | ADMIN | STALE,
        since: "3.0.0",
        summary: "Forces a replica to perform a manual failover of its master.",
        ..CLUSTER_SUB
    },
    Command {
        name: "flushslots",
        arity: 2,
        flags: ADMIN | STALE,
        since: "3.0.0",
        summary: "Deletes all slots information from a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "forget",
        arity: 3,
        flags: ADMIN | STALE,
        since: "3.0.0",
        summary: "Removes a node from the nodes table.",
        ..CLUSTER_SUB
    },
    Command {
        name: "getkeysinslot",
        arity: 4,
        flags: STALE,
        since: "3.0.0",
        summary: "Returns the key names in a hash slot.",
        ..CLUSTER_SUB
    },
    Command {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        since: "5.0.0",
        summary: "Returns helpful text about the different subcommands.",
        ..CLUSTER_SUB
    },
    Command {
        name: "info",
        arity: 2,
        flags: STALE,
        since: "3.0.0",
        summary: "Returns information about the state of a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "keyslot",
        arity: 3,
        flags: STALE,
        since: "3.0.0",
        summary: "Returns the hash slot for a key.",
        ..CLUSTER_SUB
    },
    Command {
        name: "links",
        arity: 2,
        flags: STALE,
        since: "7.0.0",
        summary: "Returns a list of all TCP links to and from peer nodes.",
        ..CLUSTER_SUB
    },
    Command {
        name: "meet",
        arity: -4,
        flags: ADMIN | STALE,
        since: "3.0.0",
        summary: "Forces a node to handshake with another node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "myid",
        arity: 2,
        flags: STALE,
        since: "3.0.0",
        summary: "Returns the ID of a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "myshardid",
        arity: 2,
        flags: STALE,
        since: "7.2.0",
        summary: "Returns the shard ID of a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "nodes",
        arity: 2,
        flags: STALE,
        since: "3.0.0",
        summary: "Returns the cluster configuration for a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "replicas",
        arity: 3,
        flags: ADMIN | STALE,
        since: "5.0.0",
        summary: "Lists the replica nodes of a master node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "replicate",
        arity: 3,
        flags: NO_ASYNC_LOADING | ADMIN | STALE,
        since: "3.0.0",
        summary: "Configure a node as replica of a master node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "reset",
        arity: -2,
        flags: ADMIN | STALE | NOSCRIPT,
        since: "3.0.0",
        summary: "Resets a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "saveconfig",
        arity: 2,
        flags: ADMIN | STALE,
        since: "3.0.0",
        summary: "Forces a node to save the cluster configuration to disk.",
        ..CLUSTER_SUB
    },
    Command {
        name: "set-config-epoch",
        arity: 3,
        flags: ADMIN | STALE,
        since: "3.0.0",
        summary: "Sets the configuration epoch for a new node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "setslot",
        arity: -4,
        flags: ADMIN | STALE,
        since: "3.0.0",
        summary: "Binds a hash slot to a node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "shards",
        arity: 2,
        flags: STALE,
        since: "7.0.0",
        summary: "Returns the mapping of cluster slots to shards.",
        ..CLUSTER_SUB
    },
    Command {
        name: "slaves",
        arity: 3,
        flags: ADMIN | STALE,
        since: "3.0.0",
        summary: "Lists the replica nodes of a master node.",
        ..CLUSTER_SUB
    },
    Command {
        name: "slots",
        arity: 2,
        flags: STALE,
        since: "3.0.0",
        summary: "Returns the mapping of cluster slots to nodes.",
        ..CLUSTER_SUB
    },
];

static CLIENT_SUBCOMMANDS: &[Command] = &[
    Command {
        name: "id",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        since: "5.0.0",
        summary: "Returns the connection's unique id.",
        run: Run::Server(ServerCmd::Client),
        ..CONN
    },
    Command {
        name: "setname",
        arity: 3,
        flags: NOSCRIPT | LOADING | STALE,
        since: "2.6.9",
        summary: "Names the connection.",
        run: Run::Server(ServerCmd::Client),
        ..CONN
    },
    Command {
        name: "getname",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        since: "2.6.9",
        summary: "Returns the connection's name.",
        run: Run::Server(ServerCmd::Client),
        ..CONN
    },
    Command {
        name: "list",
        arity: -2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        since: "2.4.0",
        complexity: "O(N) where N is the number of client connections",
        summary: "Lists the open connections.",
        tips: "nondeterministic_output",
        run: Run::Server(ServerCmd::Client),
        ..CONN
    },
    Command {
        name: "info",
        arity: 2,
        flags: NOSCRIPT | LOADING | STALE,
        since: "6.2.0",
        summary: "Describes this connection.",
        tips: "nondeterministic_output",
        run: Run::Server(ServerCmd::Client),
        ..CONN
    },
    Command {
        name: "kill",
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        since: "2.4.0",
        complexity: "O(N) where N is the number of client connections",
        summary: "Closes connections chosen by address, id, type, user or laddr.",
        run: Run::Server(ServerCmd::Client),
        ..CONN
    },
    Command {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        since: "5.0.0",
        summary: "Describes the CLIENT subcommands.",
        run: Run::Server(ServerCmd::Client),
        ..CONN
    },
];

static CONFIG_SUBCOMMANDS: &[Command] = &[
    Command {
        name: "get",
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        since: "2.0.0",
        complexity: "O(N) when N is the number of configuration parameters provided",
        summary: "Returns the values of settings matching the patterns.",
        run: Run::Server(ServerCmd::Config),
        ..SERVER
    },
    Command {
        name: "set",
        arity: -4,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        since: "2.0.0",
        complexity: "O(N) when N is the number of configuration parameters provided",
        summary: "Changes settings at run time.",
        tips: "request_policy:all_nodes response_policy:all_succeeded",
        run: Run::Server(ServerCmd::Config),
        ..SERVER
    },
    Command {
        name: "resetstat",
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        since: "2.0.0",
        summary: "Resets the statistics INFO reports.",
        run: Run::Server(ServerCmd::Config),
        ..SERVER
    },
    Command {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        since: "5.0.0",
        summary: "Describes the CONFIG subcommands.",
        run: Run::Server(ServerCmd::Config),
        ..SERVER
    },
];

static COMMAND_SUBCOMMANDS: &[Command] = &[
    Command {
        name: "count",
        arity: 2,
        flags: LOADING | STALE,
        since: "2.8.13",
        summary: "Returns the number of commands.",
        run: Run::Server(ServerCmd::Command),
        ..SERVER
    },
    Command {
        name: "info",
        arity: -2,
        flags: LOADING | STALE,
        since: "2.8.13",
        complexity: "O(N) where N is the number of commands to look up",
        summary: "Returns details about the given commands, or all.",
        tips: "nondeterministic_output_order",
        run: Run::Server(ServerCmd::Command),
        ..SERVER
    },
    Command {
        name: "docs",
        arity: -2,
        flags: LOADING | STALE,
        since: "7.0.0",
        complexity: "O(N) where N is the number of commands to look up",
        summary: "Returns documentation of the given commands, or all.",
        tips: "nondeterministic_output_order",
        run: Run::Server(ServerCmd::Command),
        ..SERVER
    },
    Command {
        name: "list",
        arity: -2,
        flags: LOADING | STALE,
        since: "7.0.0",
        complexity: "O(N) where N is the total number of Redis commands",
        summary: "Returns the command names, optionally filtered.",
        tips: "nondeterministic_output_order",
        run: Run::Server(ServerCmd::Command),
        ..SERVER
    },
    Command {
        name: "getkeys",
        arity: -4,
        flags: LOADING | STALE,
        since: "2.8.13",
        complexity: "O(N) where N is the number of arguments to the command",
        summary: "Extracts the keys of a full command line.",
        run: Run::Server(ServerCmd::Command),
        ..SERVER
    },
    Command {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        since: "5.0.0",
        summary: "Describes the COMMAND subcommands.",
        run: Run::Server(ServerCmd::Command),
        ..SERVER
    },
];

fn ping(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    match argv.len() {
        1 => ctx.out.simple(b"PONG"),
        2 => ctx.out.bulk(argv[1]),
        _ => return Err(CmdError::wrong_arity("ping")),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    ctx.out.bulk(argv[1]);
    Ok(())
}

fn time(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk_int(d.as_secs() as i64);
    ctx.out.bulk_int(d.subsec_micros() as i64);
    Ok(())
}
