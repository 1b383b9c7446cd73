//! Running commands against a shard in unit tests, through the command table.

use crate::command::{Registry, Run};
use crate::reply::Reply;
use crate::shard::{Ctx, EngineConfig, Shard};

fn slot(key: &[u8]) -> u16 {
    (crc(key) % 16384) as u16
}

// A stand-in slot function: tests here do not depend on the cluster crate.
fn crc(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &b| h.wrapping_mul(31).wrapping_add(b as u32))
}

pub fn shard() -> Shard {
    Shard::new(EngineConfig::default(), slot, 42)
}

/// Runs one command at time `now` (Unix ms) and returns the RESP2 reply.
pub fn run_at(shard: &mut Shard, now: u64, argv: &[&str]) -> String {
    run_proto(shard, now, false, argv)
}

pub fn run_proto(shard: &mut Shard, now: u64, resp3: bool, argv: &[&str]) -> String {
    let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
    String::from_utf8_lossy(&run_bytes(shard, now, resp3, &argv)).into_owned()
}

/// Runs one command given as raw byte arguments and returns the RESP2 reply bytes.
pub fn run_raw(shard: &mut Shard, argv: &[Vec<u8>]) -> Vec<u8> {
    run_bytes(shard, 1_700_000_000_000, false, argv)
}

fn run_bytes(shard: &mut Shard, now: u64, resp3: bool, argv: &[Vec<u8>]) -> Vec<u8> {
    let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let mut buf = Vec::new();
    let reg = Registry::get();
    match reg.resolve(&argv) {
        Err(e) => Reply::new(&mut buf, resp3).error(e.line()),
        Ok(id) => match reg.entry(id).cmd.run {
            Run::Shard(handler) => {
                // As the server does: an error replaces whatever the handler wrote.
                let result = crate::shard::call(
                    &mut Ctx::new(shard, 0, now, Reply::new(&mut buf, resp3)),
                    handler,
                    &argv,
                );
                if let Err(e) = result {
                    buf.clear();
                    Reply::new(&mut buf, resp3).error(e.line());
                }
            }
            _ => panic!("{:?} is a server command", argv[0]),
        },
    }
    buf
}

/// Runs one command at a fixed time and returns the RESP2 reply.
pub fn run(shard: &mut Shard, argv: &[&str]) -> String {
    run_at(shard, 1_700_000_000_000, argv)
}
