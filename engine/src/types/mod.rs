//! The collection types, each with Redis's compact encoding for small sizes
//! and a general one past the thresholds in [`crate::shard::EngineConfig`].

pub mod hash;
pub mod list;
pub mod set;
pub mod stream;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;
