//! Scripting: EVAL, EVALSHA, FCALL and their read-only forms, SCRIPT and FUNCTION.
//!
//! The scripts run synchronously against the handler's shard (the server
//! brings the declared KEYS there first); the Lua side lives in `crate::script`.

use crate::command::{eq_ic, flags::*, numkeys_at_2, Command, Group, Keys, Run};
use crate::error::{CmdError, CmdResult};
use crate::script::{self, functions};
use crate::shard::Ctx;

const SCRIPTING: Command = Command { group: Group::Scripting, ..Command::DEFAULT };

const EVAL_LIKE: Command = Command {
    arity: -3,
    keys: Keys::NONE,
    key_finder: Some(numkeys_at_2),
    complexity: "Depends on the script that is executed.",
    ..SCRIPTING
};

pub static COMMANDS: &[Command] = &[
    Command {
        name: "eval",
        flags: NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE | MOVABLE_KEYS,
        since: "2.6.0",
        summary: "Runs a Lua script on the server.",
        run: Run::Shard(eval),
        ..EVAL_LIKE
    },
    Command {
        name: "eval_ro",
        flags: NOSCRIPT | SKIP_MONITOR | STALE | READONLY | MOVABLE_KEYS,
        since: "7.0.0",
        summary: "Runs a read-only Lua script on the server.",
        run: Run::Shard(eval_ro),
        ..EVAL_LIKE
    },
    Command {
        name: "evalsha",
        flags: NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE | MOVABLE_KEYS,
        since: "2.6.0",
        summary: "Runs a cached Lua script, named by its SHA1 digest.",
        run: Run::Shard(evalsha),
        ..EVAL_LIKE
    },
    Command {
        name: "evalsha_ro",
        flags: NOSCRIPT | SKIP_MONITOR | STALE | READONLY | MOVABLE_KEYS,
        since: "7.0.0",
        summary: "Runs a cached read-only Lua script, named by its SHA1 digest.",
        run: Run::Shard(evalsha_ro),
        ..EVAL_LIKE
    },
    Command {
        name: "fcall",
        flags: NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE | MOVABLE_KEYS,
        since: "7.0.0",
        complexity: "Depends on the function that is executed.",
        summary: "Calls a function of a loaded library.",
        run: Run::Shard(fcall),
        ..EVAL_LIKE
    },
    Command {
        name: "fcall_ro",
        flags: NOSCRIPT | SKIP_MONITOR | STALE | READONLY | MOVABLE_KEYS,
        since: "7.0.0",
        complexity: "Depends on the function that is executed.",
        summary: "Calls a read-only function of a loaded library.",
        run: Run::Shard(fcall_ro),
        ..EVAL_LIKE
    },
    Command {
        name: "script",
        arity: -2,
        since: "2.6.0",
        complexity: "Depends on subcommand.",
        summary: "Holds the script cache subcommands.",
        subcommands: SCRIPT_SUBCOMMANDS,
        ..SCRIPTING
    },
    Command {
        name: "function",
        arity: -2,
        since: "7.0.0",
        complexity: "Depends on subcommand.",
        summary: "Holds the function library subcommands.",
        subcommands: FUNCTION_SUBCOMMANDS,
        ..SCRIPTING
    },
];

static SCRIPT_SUBCOMMANDS: &[Command] = &[
    Command {
        name: "load",
        arity: 3,
        flags: NOSCRIPT | STALE,
        since: "2.6.0",
        complexity: "O(N) with N being the length in bytes of the script body.",
        summary: "Compiles a Lua script into the script cache without running it.",
        tips: "request_policy:all_nodes response_policy:all_succeeded",
        run: Run::Shard(script_load),
        ..SCRIPTING
    },
    Command {
        name: "exists",
        arity: -3,
        flags: NOSCRIPT,
        since: "2.6.0",
        complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        summary: "Tells which of the given SHA1 digests are in the script cache.",
        tips: "request_policy:all_shards response_policy:agg_logical_and",
        run: Run::Shard(script_exists),
        ..SCRIPTING
    },
    Command {
        name: "flush",
        arity: -2,
        flags: NOSCRIPT,
        since: "2.6.0",
        complexity: "O(N) with N being the number of scripts in cache",
        summary: "Empties the script cache.",
        tips: "request_policy:all_nodes response_policy:all_succeeded",
        run: Run::Shard(script_flush),
        ..SCRIPTING
    },
    Command {
        name: "kill",
        arity: 2,
        flags: NOSCRIPT | ALLOW_BUSY,
        since: "2.6.0",
        summary: "Stops the script that is running past the busy threshold.",
        tips: "request_policy:all_shards response_policy:one_succeeded",
        run: Run::Shard(script_kill),
        ..SCRIPTING
    },
    Command {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        since: "5.0.0",
        summary: "Describes the SCRIPT subcommands.",
        run: Run::Shard(script_help),
        ..SCRIPTING
    },
];

static FUNCTION_SUBCOMMANDS: &[Command] = &[
    Command {
        name: "load",
        arity: -3,
        flags: NOSCRIPT | WRITE | DENYOOM,
        since: "7.0.0",
        complexity: "O(1) (considering compilation time is redundant)",
        summary: "Loads a library of functions.",
        tips: "request_policy:all_shards response_policy:all_succeeded",
        run: Run::Shard(function_load),
        ..SCRIPTING
    },
    Command {
        name: "list",
        arity: -2,
        flags: NOSCRIPT,
        since: "7.0.0",
        complexity: "O(N) where N is the number of functions",
        summary: "Lists the loaded libraries and their functions.",
        tips: "nondeterministic_output_order",
        run: Run::Shard(function_list),
        ..SCRIPTING
    },
    Command {
        name: "delete",
        arity: 3,
        flags: NOSCRIPT | WRITE,
        since: "7.0.0",
        summary: "Deletes a library and its functions.",
        tips: "request_policy:all_shards response_policy:all_succeeded",
        run: Run::Shard(function_delete),
        ..SCRIPTING
    },
    Command {
        name: "flush",
        arity: -2,
        flags: NOSCRIPT | WRITE,
        since: "7.0.0",
        complexity: "O(N) where N is the number of functions deleted",
        summary: "Deletes every library.",
        tips: "request_policy:all_shards response_policy:all_succeeded",
        run: Run::Shard(function_flush),
        ..SCRIPTING
    },
    Command {
        name: "stats",
        arity: 2,
        flags: NOSCRIPT | ALLOW_BUSY,
        since: "7.0.0",
        summary: "Tells which function is running past the busy threshold, and counts the libraries.",
        tips: "nondeterministic_output request_policy:all_shards response_policy:special",
        run: Run::Shard(function_stats),
        ..SCRIPTING
    },
    Command {
        name: "kill",
        arity: 2,
        flags: NOSCRIPT | ALLOW_BUSY,
        since: "7.0.0",
        summary: "Stops the function that is running past the busy threshold.",
        tips: "request_policy:all_shards response_policy:one_succeeded",
        run: Run::Shard(function_kill),
        ..SCRIPTING
    },
    Command {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        since: "7.0.0",
        summary: "Describes the FUNCTION subcommands.",
        run: Run::Shard(function_help),
        ..SCRIPTING
    },
];

fn eval(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    // Replicas get the script's writes, not the script (Redis 7's effects replication).
    ctx.propagate_nothing();
    script::eval_command(ctx, argv, false, false)
}

fn eval_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    script::eval_command(ctx, argv, false, true)
}

fn evalsha(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    // Replicas get the script's writes, not the script (Redis 7's effects replication).
    ctx.propagate_nothing();
    script::eval_command(ctx, argv, true, false)
}

fn evalsha_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    script::eval_command(ctx, argv, true, true)
}

fn fcall(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    // Replicas get the script's writes, not the script (Redis 7's effects replication).
    ctx.propagate_nothing();
    script::fcall_command(ctx, argv, false)
}

fn fcall_ro(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    script::fcall_command(ctx, argv, true)
}

fn script_load(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let scripts = ctx.shard.scripts.clone();
    let sha = script::load_script(&scripts, argv[2])?;
    ctx.out.bulk(sha.as_bytes());
    Ok(())
}

fn script_exists(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let scripts = ctx.shard.scripts.clone();
    ctx.out.array(argv.len() - 2);
    for sha in &argv[2..] {
        ctx.out.int(scripts.script_exists(sha) as i64);
    }
    Ok(())
}

fn script_flush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let ok = argv.len() == 2 || (argv.len() == 3 && (eq_ic(argv[2], "sync") || eq_ic(argv[2], "async")));
    if !ok {
        return Err(CmdError::new("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    ctx.shard.scripts.flush_scripts();
    ctx.out.ok();
    Ok(())
}

fn script_kill(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.shard.scripts.kill(true)?;
    ctx.out.ok();
    Ok(())
}

fn script_help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.help(
        "script",
        &[
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
    Ok(())
}

fn function_load(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut replace = false;
    let mut pos = 2;
    while pos < argv.len() - 1 {
        if eq_ic(argv[pos], "replace") {
            replace = true;
            pos += 1;
            continue;
        }
        return Err(CmdError::owned(format!(
            "ERR Unknown option given: {}",
            String::from_utf8_lossy(argv[pos])
        )));
    }
    if pos >= argv.len() {
        return Err(CmdError::new("ERR Function code is missing"));
    }
    let scripts = ctx.shard.scripts.clone();
    let name = scripts
        .update_libraries(|libs| functions::load(libs, argv[pos], replace))
        .map_err(|e| CmdError::owned(format!("ERR {e}")))?;
    ctx.dirty(1);
    ctx.out.bulk(name.as_bytes());
    Ok(())
}

fn function_list(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let arg = argv[i];
        i += 1;
        if !with_code && eq_ic(arg, "withcode") {
            with_code = true;
            continue;
        }
        if pattern.is_none() && eq_ic(arg, "libraryname") {
            if i >= argv.len() {
                return Err(CmdError::new("ERR library name argument was not given"));
            }
            pattern = Some(argv[i]);
            i += 1;
            continue;
        }
        return Err(CmdError::owned(format!("ERR Unknown argument {}", String::from_utf8_lossy(arg))));
    }
    let scripts = ctx.shard.scripts.clone();
    let libs = scripts.libraries();
    let matching: Vec<&functions::Library> = libs
        .iter()
        .filter(|l| pattern.is_none_or(|p| crate::glob::matches(p, l.name.as_bytes(), true)))
        .collect();
    let out = &mut ctx.out;
    out.array(matching.len());
    for lib in matching {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d.as_bytes()),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names: Vec<&str> =
                script::flags::NAMES.iter().filter(|(b, _)| f.flags & b != 0).map(|(_, n)| *n).collect();
            out.set(names.len());
            for n in names {
                out.simple(n.as_bytes());
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

fn function_delete(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let name = String::from_utf8_lossy(argv[2]).into_owned();
    let scripts = ctx.shard.scripts.clone();
    if scripts.libraries().library(&name).is_none() {
        return Err(CmdError::new("ERR Library not found"));
    }
    scripts.update_libraries(|libs| libs.delete(&name));
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

fn function_flush(ctx: &mut Ctx<'_>, argv: &[&[u8]]) -> CmdResult {
    let ok = argv.len() == 2 || (argv.len() == 3 && (eq_ic(argv[2], "sync") || eq_ic(argv[2], "async")));
    if !ok {
        return Err(CmdError::new("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    ctx.shard.scripts.update_libraries(|libs| libs.clear());
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

fn function_stats(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let scripts = ctx.shard.scripts.clone();
    script::function_stats(&scripts, &mut ctx.out)
}

fn function_kill(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.shard.scripts.kill(false)?;
    ctx.out.ok();
    Ok(())
}

fn function_help(ctx: &mut Ctx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.help(
        "function",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testing::{run, run_proto, shard};

    fn eval(s: &mut crate::Shard, script: &str, rest: &[&str]) -> String {
        let mut argv = vec!["EVAL", script];
        argv.extend_from_slice(rest);
        run(s, &argv)
    }

    #[test]
    fn basic_conversions() {
        let mut s = shard();
        assert_eq!(eval(&mut s, "return 1", &["0"]), ":1\r\n");
        assert_eq!(
            eval(&mut s, "return {1,2,3,'a',true,false,nil,4}", &["0"]),
            "*6\r\n:1\r\n:2\r\n:3\r\n$1\r\na\r\n:1\r\n$-1\r\n"
        );
        assert_eq!(eval(&mut s, "return 3.99", &["0"]), ":3\r\n");
        assert_eq!(eval(&mut s, "return -3.99", &["0"]), ":-3\r\n");
        assert_eq!(eval(&mut s, "return {err='My Error'}", &["0"]), "-My Error\r\n");
        assert_eq!(eval(&mut s, "return redis.error_reply('My Error')", &["0"]), "-My Error\r\n");
        assert_eq!(eval(&mut s, "return redis.status_reply('FINE')", &["0"]), "+FINE\r\n");
        assert_eq!(
            eval(&mut s, "return {KEYS[1],ARGV[1],#KEYS,#ARGV}", &["1", "k", "a", "b"]),
            "*4\r\n$1\r\nk\r\n$1\r\na\r\n:1\r\n:2\r\n"
        );
    }

    #[test]
    fn numkeys_errors() {
        let mut s = shard();
        assert_eq!(eval(&mut s, "return 1", &["x"]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(
            eval(&mut s, "return 1", &["2", "a"]),
            "-ERR Number of keys can't be greater than number of args\r\n"
        );
        assert_eq!(eval(&mut s, "return 1", &["-1"]), "-ERR Number of keys can't be negative\r\n");
    }

    #[test]
    fn call_errors_match_redis() {
        let mut s = shard();
        assert_eq!(
            eval(&mut s, "return redis.call('nosuch')", &["0"]),
            "-ERR Unknown Redis command called from script script: 206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut s, "return redis.call('get')", &["0"]),
            "-ERR Wrong number of args calling Redis command from script script: f187dee77f607f7cff00bbabc9df38507582c78d, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut s, "return redis.pcall('nosuch')", &["0"]),
            "-ERR Unknown Redis command called from script\r\n"
        );
        run(&mut s, &["SET", "str", "x"]);
        assert_eq!(
            eval(&mut s, "return redis.call('incr','str')", &["0"]),
            "-ERR value is not an integer or out of range script: 851ab5c4815573433b8c8eed0a889f947a2e885a, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut s, "local t = redis.pcall('incr','str'); return t.err", &["0"]),
            "$43\r\nERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            eval(&mut s, "return redis.call()", &["0"]),
            "-ERR Please specify at least one argument for this redis lib call script: 0a907e1429221a4d85516cab7fd219a82a9439d8, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut s, "return redis.call('get',{})", &["0"]),
            "-ERR Lua redis lib command arguments must be strings or integers script: 4deb073a545207f215b56dcef5ca825f9f406808, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut s, "return redis.call('eval','return 1','0')", &["0"]),
            "-ERR This Redis command is not allowed from script script: 1e5046f3a9119d3dc9cf5824428b6d9fedd305d2, on @user_script:1.\r\n"
        );
    }

    #[test]
    fn global_protection() {
        let mut s = shard();
        assert_eq!(
            eval(&mut s, "a=5", &["0"]),
            "-ERR user_script:1: Attempt to modify a readonly table script: e82b78cfed6ffee047b69da82a4bad5202999c0b, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut s, "return a", &["0"]),
            "-ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: bbfcd1ececc90deec823f7fb730e4bfb2a4ba625, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut s, "error('boom')", &["0"]),
            "-ERR user_script:1: boom script: 82903a0434f1503e152f89c03c9acd881a0e8150, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut s, "error({err='X boom'})", &["0"]),
            "-X boom script: f0acf9d1ce814691e2b2cc3296a806e16e047e31, on @user_script:1.\r\n"
        );
        assert_eq!(
            eval(&mut s, "return 1 +", &["0"]),
            "-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n"
        );
    }

    #[test]
    fn script_cache() {
        let mut s = shard();
        assert_eq!(
            run(&mut s, &["SCRIPT", "LOAD", "return 'hello'"]),
            "$40\r\n1b936e3fe509bcbc9cd0664897bbe8fd0cac101b\r\n"
        );
        assert_eq!(
            run(&mut s, &["EVALSHA", "1B936E3FE509BCBC9CD0664897BBE8FD0CAC101B", "0"]),
            "$5\r\nhello\r\n"
        );
        assert_eq!(
            run(&mut s, &["SCRIPT", "EXISTS", "1b936e3fe509bcbc9cd0664897bbe8fd0cac101b", "nope"]),
            "*2\r\n:1\r\n:0\r\n"
        );
        assert_eq!(
            run(&mut s, &["SCRIPT", "FLUSH", "bad"]),
            "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n"
        );
        assert_eq!(run(&mut s, &["SCRIPT", "FLUSH", "async"]), "+OK\r\n");
        assert_eq!(
            run(&mut s, &["EVALSHA", "1b936e3fe509bcbc9cd0664897bbe8fd0cac101b", "0"]),
            "-NOSCRIPT No matching script. Please use EVAL.\r\n"
        );
        assert_eq!(
            run(&mut s, &["EVALSHA", "abc", "0"]),
            "-NOSCRIPT No matching script. Please use EVAL.\r\n"
        );
        assert_eq!(run(&mut s, &["SCRIPT", "KILL"]), "-NOTBUSY No scripts in execution right now.\r\n");
    }

    #[test]
    fn calls_reach_the_keyspace() {
        let mut s = shard();
        assert_eq!(eval(&mut s, "return redis.call('set',KEYS[1],ARGV[1])", &["1", "k", "v"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(eval(&mut s, "return redis.call('get','nokey')", &["0"]), "$-1\r\n");
        assert_eq!(
            eval(&mut s, "redis.call('set','n',3.5); return redis.call('get','n')", &["0"]),
            "$3\r\n3.5\r\n"
        );
        assert_eq!(
            run_proto(&mut s, 0, true, &["EVAL", "redis.setresp(3); return redis.call('get','nokey')", "0"]),
            "_\r\n"
        );
    }

    /// Runs EVAL with a key check that only lets `near*` keys through.
    fn eval_checked(s: &mut crate::Shard, argv: &[&str]) -> String {
        let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        let check = |_db: usize, key: &[u8]| key.starts_with(b"near");
        let mut buf = Vec::new();
        let mut ctx = crate::Ctx::new(s, 0, 1_700_000_000_000, crate::Reply::new(&mut buf, false));
        ctx.key_check = Some(&check);
        if let Err(e) = super::eval(&mut ctx, &argv) {
            buf.clear();
            crate::Reply::new(&mut buf, false).error(e.line());
        }
        String::from_utf8_lossy(&buf).into_owned()
    }

    #[test]
    fn undeclared_keys_go_through_the_key_check() {
        let mut s = shard();
        assert_eq!(eval_checked(&mut s, &["EVAL", "return redis.call('set','near1','v')", "0"]), "+OK\r\n");
        assert_eq!(
            eval_checked(&mut s, &["EVAL", "return redis.call('get',KEYS[1])", "1", "far1"]),
            "$-1\r\n"
        );
        let far = eval_checked(&mut s, &["EVAL", "return redis.call('get','far2')", "0"]);
        assert!(
            far.starts_with("-ERR Script attempted to access a non local key in a cluster node script: "),
            "{far}"
        );
        let far = eval_checked(&mut s, &["EVAL", "return redis.pcall('mget','near1','far3')", "0"]);
        assert_eq!(far, "-ERR Script attempted to access a non local key in a cluster node\r\n");
    }

    #[test]
    fn read_only_and_flags() {
        let mut s = shard();
        run(&mut s, &["SET", "k", "v"]);
        assert_eq!(run(&mut s, &["EVAL_RO", "return redis.call('get','k')", "0"]), "$1\r\nv\r\n");
        assert!(run(&mut s, &["EVAL_RO", "return redis.call('set','k','x')", "0"])
            .starts_with("-ERR Write commands are not allowed from read-only scripts. script: "));
        assert_eq!(
            run(&mut s, &["EVAL_RO", "#!lua\nreturn 1", "0"]),
            "-ERR Can not execute a script with write flag using *_ro command.\r\n"
        );
        assert_eq!(run(&mut s, &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"]), ":1\r\n");
        assert_eq!(
            run(&mut s, &["EVAL", "#!lua flags=x\nreturn 1", "0"]),
            "-ERR Unexpected flag in script shebang: x\r\n"
        );
        assert_eq!(run(&mut s, &["GET", "k"]), "$1\r\nv\r\n");
    }

    #[test]
    fn select_changes_only_the_script_db() {
        let mut s = shard();
        let script = "redis.call('select', 1); redis.call('set', 'k', 'db1'); return redis.call('get', 'k')";
        assert_eq!(run(&mut s, &["EVAL", script, "0"]), "$3\r\ndb1\r\n");
        assert_eq!(run(&mut s, &["GET", "k"]), "$-1\r\n");
        assert_eq!(
            run(&mut s, &["EVAL", "return redis.pcall('select', 99)", "0"]),
            "-ERR DB index is out of range\r\n"
        );
    }

    #[test]
    fn functions_basic() {
        let mut s = shard();
        let code = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return {keys[1], args[1]} end)";
        assert_eq!(run(&mut s, &["FUNCTION", "LOAD", code]), "$5\r\nmylib\r\n");
        assert_eq!(run(&mut s, &["FCALL", "myfunc", "1", "k", "a"]), "*2\r\n$1\r\nk\r\n$1\r\na\r\n");
        assert_eq!(run(&mut s, &["FCALL", "nofunc", "0"]), "-ERR Function not found\r\n");
        assert_eq!(run(&mut s, &["FUNCTION", "DELETE", "mylib"]), "+OK\r\n");
        assert_eq!(run(&mut s, &["FCALL", "myfunc", "0"]), "-ERR Function not found\r\n");
    }

    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Set(u8, u8),
        Incr(u8),
        Del(u8),
        Get(u8),
        Rpush(u8, u8),
        Lrange(u8),
        Hset(u8, u8),
        Hgetall(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..4u8, 0..20u8).prop_map(|(k, v)| Op::Set(k, v)),
            (0..4u8).prop_map(Op::Incr),
            (0..4u8).prop_map(Op::Del),
            (0..4u8).prop_map(Op::Get),
            (0..4u8, 0..20u8).prop_map(|(k, v)| Op::Rpush(k, v)),
            (0..4u8).prop_map(Op::Lrange),
            (0..4u8, 0..20u8).prop_map(|(k, v)| Op::Hset(k, v)),
            (0..4u8).prop_map(Op::Hgetall),
        ]
    }

    fn argv(op: &Op) -> Vec<String> {
        let k = |k: &u8| format!("k{k}");
        match op {
            Op::Set(key, v) => vec!["SET".into(), k(key), v.to_string()],
            Op::Incr(key) => vec!["INCR".into(), k(key)],
            Op::Del(key) => vec!["DEL".into(), k(key)],
            Op::Get(key) => vec!["GET".into(), k(key)],
            Op::Rpush(key, v) => vec!["RPUSH".into(), k(key), v.to_string()],
            Op::Lrange(key) => vec!["LRANGE".into(), k(key), "0".into(), "-1".into()],
            Op::Hset(key, v) => vec!["HSET".into(), k(key), "f".into(), v.to_string()],
            Op::Hgetall(key) => vec!["HGETALL".into(), k(key)],
        }
    }

    proptest! {
        /// `return redis.pcall(...)` is transparent: a command run through a
        /// script replies (and changes the data) exactly as when run directly,
        /// in RESP2 and RESP3, errors included (the model is the direct run).
        #[test]
        fn pcall_passes_replies_through(ops in proptest::collection::vec(op(), 1..40), resp3 in any::<bool>()) {
            let mut direct = shard();
            let mut scripted = shard();
            let prefix = if resp3 { "redis.setresp(3); " } else { "" };
            let script = format!("{prefix}return redis.pcall(unpack(ARGV))");
            for op in &ops {
                let a = argv(op);
                let args: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
                let want = run_proto(&mut direct, 0, resp3, &args);
                let mut eval = vec!["EVAL", script.as_str(), "0"];
                eval.extend_from_slice(&args);
                let got = run_proto(&mut scripted, 0, resp3, &eval);
                prop_assert_eq!(got, want, "{:?}", op);
            }
        }
    }
}
