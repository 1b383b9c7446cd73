//! Generic key commands (Redis's `generic` group) that run on one shard.
//! The whole-keyspace ones (KEYS, SCAN, DBSIZE, RANDOMKEY, FLUSH*, SWAPDB)
//! are declared here and carried out by the server across all cores.

use crate::command::{flags::*, Command, Group, Keys, Run, Spread};
use crate::error::CmdResult;
use crate::shard::Ctx;

const GENERIC: Command = Command {
    group: Group::Generic,
    keys: Keys::ONE,
    ..Command::DEFAULT
};

pub static COMMANDS: &[Command] = &[
    Command {
        name: "del",
        arity: -2,
        flags: WRITE,
        keys: Keys::ALL,
        spread: Spread::Sum,
        complexity: "O(N) where N is the number of keys that will be removed.",
        summary: "Deletes one or more keys.",
        tips: "request_policy:multi_shard response_policy:agg_sum",
        key_specs: &[crate::command::KeySpec {
            begin: 1,
            last: -1,
            step: 1,
            flags: "RM DELETE",
        }],
        run: Run::Shard(del),
        ..GENERIC
    },
    Command {
        name: "exists",
        arity: -2,
        flags: READONLY | FAST,
        keys: Keys::ALL,
        spread: Spread::Sum,
        complexity: "O(N) where N is the number of keys to check.",
        summary: "Counts how many of the given keys exist.",
        tips: "request_policy:multi_shard response_policy:agg_sum",
        key_specs: &[crate::command::KeySpec {
            begin: 1,
            last: -1,
            step: 1,
            flags: "RO",
        }],
        run: Run::Shard(exists),
        ..GENERIC
    },
];

fn del(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let mut n = 0;
    for key in &argv[1..] {
        if ctx.db().remove(key, now).is_some() {
            n += 1;
        }
    }
    ctx.dirty(n);
    ctx.out.int(n as i64);
    Ok(())
}

fn exists(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let now = ctx.now;
    let n = argv[1..]
        .iter()
        .filter(|k| ctx.db().contains(k, now))
        .count();
    ctx.out.int(n as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testing::{run, shard};

    #[test]
    fn del_exists() {
        let mut s = shard();
        run(&mut s, &["MSET", "a", "1", "b", "2"]);
        assert_eq!(run(&mut s, &["EXISTS", "a", "a", "c"]), ":2\r\n");
        assert_eq!(run(&mut s, &["DEL", "a", "a", "c"]), ":1\r\n");
        assert_eq!(run(&mut s, &["EXISTS", "a", "b"]), ":1\r\n");
    }
}
