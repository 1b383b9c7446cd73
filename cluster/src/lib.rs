//! shoal-cluster: Redis Cluster's view of keys and slots.
//!
//! For now it owns the pure slot math that every other part routes by: the
//! CRC16/XMODEM key slot with Redis's `{hash tag}` rule, and the map from the
//! slots this node owns to the cores that serve them. It performs no I/O and
//! holds no keys; the cluster bus, gossip and failover will live here too,
//! meeting the engine only through its types.

mod slot;
mod slotmap;

pub use slot::{crc16, key_slot, Slot, SLOT_COUNT};
pub use slotmap::{CoreId, SlotMap};
