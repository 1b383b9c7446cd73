//! shoal-net: Shoal's network edge.
//!
//! It owns the bytes on the wire: the RESP request parser ([`resp`]), which
//! frames what a client sends into commands exactly as Redis 7.0 does, and,
//! later, the connection loop on glommio/io_uring that reads requests, hands
//! them on and writes the replies back. It never depends on another crate of
//! this workspace: it knows nothing of keys, shards or cluster slots, and meets
//! the rest of the server at one trait the server implements.

pub mod conn;
pub mod resp;
pub mod socket;
pub mod uring;
