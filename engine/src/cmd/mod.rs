//! Command handlers, one module per Redis command group.

pub mod keys;
pub mod server;
pub mod string;
