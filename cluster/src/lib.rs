//! shoal-cluster: Redis Cluster's view of keys, slots and nodes.
//!
//! It owns the slot math that every other part routes by (the CRC16/XMODEM
//! key slot with Redis's `{hash tag}` rule, and the map from slots to the
//! cores that serve them), the cluster bus's wire format, and the cluster
//! state machine: nodes, epochs, gossip, failure detection and slot
//! ownership, with Redis 7.0's rules. It performs no I/O and holds no keys:
//! the server feeds it messages and ticks and carries out what it asks.

pub mod bus;
pub mod node;
pub mod routes;
#[cfg(test)]
mod sim;
mod slot;
mod slotmap;
pub mod state;

pub use slot::{crc16, key_slot, Slot, SLOT_COUNT};
pub use slotmap::{CoreId, SlotMap};
