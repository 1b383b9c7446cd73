//! The cluster bus: how Shoal nodes talk to each other and to redis-server
//! 7.0 nodes on the cluster port (client port + 10000).
//!
//! For now only the message codec lives here ([`wire`]): pure functions from
//! bus frames to [`Message`] values and back, byte-exact with Redis 7.0's
//! `clusterMsg`. Links, gossip and failure detection will build on it.

pub mod wire;

#[cfg(test)]
mod redis70_interop;

pub use wire::{
    decode, encode, encoded_len, ext_type, frame_len, mflags0, msg_type, node_flags, slot_clear, slot_get,
    slot_set, Body, Gossip, Header, Message, NodeName, PingExt, SlotBits, WireError, GOSSIP_LEN, HEADER_LEN,
    MAX_FRAME_LEN, NAME_LEN,
};
