//! Differential tests for scripting: EVAL/EVALSHA/EVAL_RO, SCRIPT, FUNCTION
//! and FCALL run against Shoal (keys spread over 2 and 4 cores) and a real
//! redis-server, replies compared exactly (see tests/support/script.rs).
//!
//! Script and function stores are process-wide and FLUSHALL does not empty
//! them, so every script starts with SCRIPT FLUSH and FUNCTION FLUSH.

mod support;

use support::script::run_group;

const EVAL_CONVERSIONS: &[(&str, &str)] = &[
    (
        "lua_to_resp2",
        r##"
        SCRIPT FLUSH
        EVAL "return 1" 0
        EVAL "return {1,2,3,'a',true,false,nil,4}" 0
        EVAL "return 3.99" 0
        EVAL "return -3.99" 0
        EVAL "return 'str'" 0
        EVAL "return true" 0
        EVAL "return false" 0
        EVAL "return nil" 0
        EVAL "return {}" 0
        EVAL "return {{1,{2,'x'}},{}}" 0
        EVAL "return {err='My Error'}" 0
        EVAL "return {err='My Error\r\nline'}" 0
        EVAL "return {ok='fine'}" 0
        EVAL "return {ok='a\r\nb'}" 0
        EVAL "return redis.error_reply('My Error')" 0
        EVAL "return redis.error_reply('-CODE x')" 0
        EVAL "return redis.error_reply('nospace')" 0
        EVAL "return redis.error_reply(1)" 0
        EVAL "return redis.status_reply('FINE')" 0
        EVAL "return redis.status_reply()" 0
        EVAL "return {1, {err='inner'}, 3}" 0
        EVAL "return {double=3.5}" 0
        EVAL "return {map={a=1}}" 0
        EVAL "return {set={a=true}}" 0
        EVAL "return {big_number='123456789012345678901234567890'}" 0
        EVAL "return {verbatim_string={format='txt', string='hello'}}" 0
        EVAL "return {KEYS[1],ARGV[1],#KEYS,#ARGV}" 1 key:1 a b
        EVAL "return ARGV" 0 a b c
        EVAL "return KEYS" 3 key:1 key:3 key:5
        EVAL "return 1e300" 0
        EVAL "return 0/0" 0
        EVAL "return tostring(12.5)" 0
        EVAL "return redis.sha1hex('')" 0
        EVAL "return redis.sha1hex('abc')" 0
        EVAL "return redis.sha1hex()" 0
        EVAL "return redis.REDIS_VERSION" 0
        EVAL "return redis.REDIS_VERSION_NUM" 0
        EVAL "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}" 0
        EVAL "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}" 0
        EVAL "return redis.replicate_commands()" 0
        EVAL "return redis.breakpoint()" 0
        EVAL "redis.debug('x'); return 1" 0
        EVAL "redis.log(redis.LOG_WARNING, 'hello from a test'); return 1" 0
        EVAL "redis.log(1); return 1" 0
        EVAL "redis.log('a', 'b'); return 1" 0
        EVAL "redis.log(9, 'b'); return 1" 0
        EVAL "redis.set_repl(redis.REPL_ALL); return 1" 0
        EVAL "redis.set_repl(9); return 1" 0
        EVAL "redis.set_repl(); return 1" 0
        EVAL "return redis.setresp(4)" 0
        EVAL "return redis.setresp()" 0
        EVAL "return {double=1/0}" 0
        EVAL "return {double=-1/0}" 0
        EVAL "return {double=0.1}" 0
        EVAL "return {double='x'}" 0
        EVAL "return {err=1}" 0
        EVAL "return {ok=1}" 0
        EVAL "return 2^53" 0
        EVAL "return -0.5" 0
        EVAL "return {1, 2, nil, 4}" 0
        EVAL "return {a=1, 2}" 0
        EVAL "return {map={[1]='a'}}" 0
        EVAL "return {map={}}" 0
        EVAL "return {set={}}" 0
        EVAL "return {verbatim_string={format='mkd', string='x'}}" 0
        EVAL "return {verbatim_string={string='x'}}" 0
        EVAL "return {big_number='1\r\n2'}" 0
        EVAL "return redis.status_reply('a\r\nb')" 0
        EVAL "return redis.error_reply('ERR a\r\n')" 0
        EVAL "return {{err='e1'}, {ok='s1'}}" 0
        EVAL "return string.rep('x', 3)" 0
        EVAL "return {string.byte('ABC', 1, 3)}" 0
        "##,
    ),
    (
        "resp_to_lua",
        r##"
        SCRIPT FLUSH
        SET key:1 hello
        RPUSH key:2 a b c
        HSET key:3 f v
        SADD key:4 m
        ZADD key:5 1.5 z
        EVAL "return redis.call('get', KEYS[1])" 1 key:1
        EVAL "return redis.call('get', KEYS[1])" 1 key:9
        EVAL "return type(redis.call('get', KEYS[1]))" 1 key:9
        EVAL "return redis.call('lrange', KEYS[1], 0, -1)" 1 key:2
        EVAL "return redis.call('hgetall', KEYS[1])" 1 key:3
        EVAL "return redis.call('smembers', KEYS[1])" 1 key:4
        EVAL "return redis.call('zrange', KEYS[1], 0, -1, 'withscores')" 1 key:5
        EVAL "return redis.call('zscore', KEYS[1], 'z')" 1 key:5
        EVAL "return redis.call('set', KEYS[1], 'x')" 1 key:6
        EVAL "return redis.call('set', KEYS[1], 'x').ok" 1 key:6
        EVAL "return redis.call('incr', KEYS[1])" 1 key:7
        EVAL "return redis.call('incrbyfloat', KEYS[1], 1.5)" 1 key:8
        EVAL "return redis.call('set', KEYS[1], 3.25)" 1 key:10
        GET key:10
        EVAL "return redis.call('set', KEYS[1], 0.1)" 1 key:11
        GET key:11
        EVAL "return redis.call('set', KEYS[1], 1e20)" 1 key:12
        GET key:12
        EVAL "return redis.call('type', KEYS[1])" 1 key:2
        EVAL "return redis.call('lpop', KEYS[1], 0)" 1 key:2
        EVAL "return redis.call('exists', KEYS[1], KEYS[1])" 1 key:1
        EVAL "redis.setresp(3); return redis.call('hgetall', KEYS[1])" 1 key:3
        EVAL "redis.setresp(3); return redis.call('smembers', KEYS[1])" 1 key:4
        EVAL "redis.setresp(3); return redis.call('get', KEYS[1])" 1 key:9
        EVAL "redis.setresp(3); return redis.call('zscore', KEYS[1], 'z')" 1 key:5
        EVAL "redis.setresp(3); return redis.call('zscore', KEYS[1], 'z').double" 1 key:5
        EVAL "redis.setresp(3); return redis.call('hgetall', KEYS[1]).map.f" 1 key:3
        EVAL "redis.setresp(3); return redis.call('exists', KEYS[1])" 1 key:1
        EVAL "redis.setresp(3); return true" 0
        EVAL "redis.setresp(3); return false" 0
        EVAL "redis.setresp(3); return {true, false}" 0
        "##,
    ),
    (
        "resp3_client",
        r##"
        SCRIPT FLUSH
        HELLO 3
        SET key:1 hello
        HSET key:3 f v
        SADD key:4 m
        ZADD key:5 1.5 z
        EVAL "return true" 0
        EVAL "return false" 0
        EVAL "return nil" 0
        EVAL "return {1,false,'x'}" 0
        EVAL "return {double=3.5}" 0
        EVAL "return {map={a=1}}" 0
        EVAL "return {set={a=true}}" 0
        EVAL "return {big_number='1234'}" 0
        EVAL "return {verbatim_string={format='txt', string='hello'}}" 0
        EVAL "return redis.call('hgetall', KEYS[1])" 1 key:3
        EVAL "redis.setresp(3); return redis.call('hgetall', KEYS[1])" 1 key:3
        EVAL "redis.setresp(3); return redis.call('smembers', KEYS[1])" 1 key:4
        EVAL "redis.setresp(3); return redis.call('zscore', KEYS[1], 'z')" 1 key:5
        EVAL "redis.setresp(3); return redis.call('get', KEYS[1])" 1 key:9
        EVAL "redis.setresp(3); return true" 0
        EVAL "redis.setresp(3); return false" 0
        EVAL "return redis.call('get', KEYS[1])" 1 key:9
        EVAL "return {err='x y'}" 0
        EVAL "return {double=1/0}" 0
        EVAL "return {double=-1/0}" 0
        EVAL "return {double=1.5}" 0
        EVAL "return {map={a={1,2}}}" 0
        EVAL "return {set={x=true, y=true}}" 0
        EVAL "return {verbatim_string={format='mkd', string='x'}}" 0
        EVAL "redis.setresp(3); return {1, true, false, {double=2.5}}" 0
        EVAL "redis.setresp(3); return redis.call('hgetall', KEYS[1])" 1 key:9
        EVAL "redis.setresp(3); return redis.call('lrange', KEYS[1], 0, -1)" 1 key:9
        EVAL "return redis.pcall('incr', KEYS[1])" 1 key:1
        HELLO 2
        EVAL "return true" 0
        "##,
    ),
];

const EVAL_ERRORS: &[(&str, &str)] = &[
    (
        "arguments",
        r##"
        SCRIPT FLUSH
        EVAL "return 1"
        EVAL "return 1" x
        EVAL "return 1" 2 a
        EVAL "return 1" -1
        EVAL "return 1" 1
        EVALSHA abc 0
        EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
        EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8dx 0
        EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db x
        EVAL "return 1 +" 0
        EVAL "return +" 0
        EVAL "this is not lua" 0
        "##,
    ),
    (
        "call_errors",
        r##"
        SCRIPT FLUSH
        SET key:1 x
        RPUSH key:2 a
        EVAL "return redis.call('nosuch')" 0
        EVAL "return redis.call('get')" 0
        EVAL "return redis.pcall('nosuch')" 0
        EVAL "return redis.call('incr', KEYS[1], 'b')" 1 key:1
        EVAL "return redis.call('incr', KEYS[1])" 1 key:1
        EVAL "return redis.pcall('incr', KEYS[1])" 1 key:1
        EVAL "local t = redis.pcall('incr', KEYS[1]); return t.err" 1 key:1
        EVAL "local t = redis.pcall('incr', KEYS[1]); return type(t)" 1 key:1
        EVAL "return redis.call('get', KEYS[1])" 1 key:2
        EVAL "return redis.pcall('get', KEYS[1])" 1 key:2
        EVAL "return redis.call()" 0
        EVAL "return redis.pcall()" 0
        EVAL "return redis.call({})" 0
        EVAL "return redis.call('get', {})" 0
        EVAL "return redis.call('get', true)" 0
        EVAL "return redis.call('get', nil)" 0
        EVAL "return redis.call('subscribe', 'a')" 0
        EVAL "return redis.call('eval', 'return 1', '0')" 0
        EVAL "return redis.call('script', 'load', 'return 1')" 0
        EVAL "return redis.call('object')" 0
        EVAL "return redis.call('object', 'nosuch')" 0
        EVAL "return pcall(redis.call, 'nosuch')" 0
        EVAL "local ok, e = pcall(redis.call, 'nosuch'); return e" 0
        EVAL "local ok, e = pcall(function() error('x') end); return e" 0
        EVAL "local ok, e = pcall(function() error({err='CODE y'}) end); return e" 0
        EVAL "local ok, e = pcall(function() error({x=1}) end); return type(e)" 0
        EVAL "error('boom')" 0
        EVAL "error({err='X boom'})" 0
        EVAL "error('boom', 0)" 0
        EVAL "error()" 0
        EVAL "error(42)" 0
        EVAL "local x = nil; return x.y" 0
        EVAL "return #nil" 0
        EVAL "\n\nerror('on line three')" 0
        EVAL "return string.rep('x', -1)" 0
        EVAL "return string.format('%d', 'x')" 0
        EVAL "return tonumber('x')" 0
        "##,
    ),
    (
        "select_in_script",
        r##"
        SCRIPT FLUSH
        SET key:1 db0
        EVAL "redis.call('select', 1); redis.call('set', KEYS[1], 'db1'); return redis.call('get', KEYS[1])" 1 key:1
        GET key:1
        SELECT 1
        GET key:1
        SELECT 0
        EVAL "return redis.call('select', 100)" 0
        EVAL "return redis.pcall('select', 'x')" 0
        EVAL "return redis.pcall('select')" 0
        "##,
    ),
];

const GLOBALS: &[(&str, &str)] = &[(
    "protection",
    r##"
    SCRIPT FLUSH
    EVAL "a=5" 0
    EVAL "return a" 0
    EVAL "function f() end" 0
    EVAL "local function f() return 1 end; return f()" 0
    EVAL "local t = {}; t.x = 1; return t.x" 0
    EVAL "_G.x = 1" 0
    EVAL "return _G.nosuch" 0
    EVAL "rawset(_G, 'x', 1)" 0
    EVAL "redis.call = nil" 0
    EVAL "redis.x = 1" 0
    EVAL "string.x = 1" 0
    EVAL "math.x = 1" 0
    EVAL "table.x = 1" 0
    EVAL "KEYS[1] = 'changed'; return KEYS[1]" 1 key:1
    EVAL "return type(print)" 0
    EVAL "return type(loadfile)" 0
    EVAL "return type(dofile)" 0
    EVAL "return type(debug)" 0
    EVAL "return type(os)" 0
    EVAL "return type(io)" 0
    EVAL "return type(require)" 0
    EVAL "return type(loadstring)" 0
    EVAL "return type(bit)" 0
    EVAL "return type(redis.call)" 0
    EVAL "return type(redis.nosuch)" 0
    EVAL "return loadstring('return 7')()" 0
    EVAL "loadstring('y = 1')()" 0
    EVAL "return string.upper('abc')" 0
    EVAL "return ('abc'):upper()" 0
    EVAL "return math.floor(3.7)" 0
    EVAL "return table.concat({'a','b'}, ',')" 0
    EVAL "return select('#', 1, 2, 3)" 0
    EVAL "return unpack({1,2,3})" 0
    EVAL "return {pcall(error)}" 0
    EVAL "return math.random(1, 1)" 0
    EVAL "return coroutine.wrap(function() return 5 end)()" 0
    EVAL "return _VERSION" 0
    EVAL "local n = 0 for k in pairs(redis) do n = n + 1 end return n" 0
    EVAL "return type(getmetatable(_G))" 0
    EVAL "setmetatable(_G, nil)" 0
    EVAL "return rawget(_G, 'redis') ~= nil" 0
    EVAL "return type(_G.redis)" 0
    EVAL "return getfenv(1) == _G" 0
    EVAL "setfenv(1, {})" 0
    EVAL "local t = setmetatable({}, {__index = function(t, k) return k end}) return t.abc" 0
    EVAL "return (function() return 1 end)()" 0
    EVAL "for i = 1, 3 do local x = i end return 1" 0
    EVAL "KEYS = 1" 0
    EVAL "ARGV = nil" 0
    EVAL "return cjson.null == nil" 0
    EVAL "return tostring(cjson.null)" 0
    EVAL "return next(string) ~= nil" 0
    EVAL "local s = 'x' return s:rep(3)" 0
    EVAL "return string.format('%5.2f', 3.14159)" 0
    EVAL "return tostring(1e15)" 0
    EVAL "return tostring(0.1)" 0
    EVAL "return math.huge" 0
    EVAL "return gcinfo() > 0" 0
    EVAL "return collectgarbage('count') > 0" 0
    EVAL "return type(newproxy)" 0
    EVAL "return type(module)" 0
    EVAL "return type(package)" 0
    "##,
)];

const SCRIPT_CACHE: &[(&str, &str)] = &[
    (
        "load_exists_flush",
        r##"
        SCRIPT FLUSH
        SCRIPT LOAD "return 'hello'"
        EVALSHA 1b936e3fe509bcbc9cd0664897bbe8fd0cac101b 0
        EVALSHA 1B936E3FE509BCBC9CD0664897BBE8FD0CAC101B 0
        EVALSHA_RO 1b936e3fe509bcbc9cd0664897bbe8fd0cac101b 0
        SCRIPT EXISTS 1b936e3fe509bcbc9cd0664897bbe8fd0cac101b 1B936E3FE509BCBC9CD0664897BBE8FD0CAC101B nope
        EVAL "return 'hello'" 0
        SCRIPT LOAD "return 'hello'"
        SCRIPT LOAD "return +"
        SCRIPT LOAD "#!lua flags=bad\nreturn 1"
        SCRIPT FLUSH bad
        SCRIPT FLUSH sync extra
        SCRIPT FLUSH async
        SCRIPT EXISTS 1b936e3fe509bcbc9cd0664897bbe8fd0cac101b
        EVALSHA 1b936e3fe509bcbc9cd0664897bbe8fd0cac101b 0
        EVAL "return 'again'" 0
        SCRIPT EXISTS 1b936e3fe509bcbc9cd0664897bbe8fd0cac101b
        SCRIPT FLUSH SYNC
        SCRIPT FLUSH
        SCRIPT KILL
        SCRIPT nope
        SCRIPT LOAD
        SCRIPT EXISTS
        SCRIPT
        SCRIPT KILL x
        "##,
    ),
    (
        "evalsha_with_keys",
        r##"
        SCRIPT FLUSH
        SCRIPT LOAD "return redis.call('incrby', KEYS[1], ARGV[1])"
        EVALSHA 2bab3b661081db58bd2341920e0ba7cf5dc77b25 1 key:1 5
        EVALSHA 2bab3b661081db58bd2341920e0ba7cf5dc77b25 1 key:2 6
        EVALSHA 2bab3b661081db58bd2341920e0ba7cf5dc77b25 1 key:1 5
        GET key:1
        GET key:2
        "##,
    ),
];

const FLAGS: &[(&str, &str)] = &[(
    "shebang_and_ro",
    r##"
    SCRIPT FLUSH
    SET key:1 v
    EVAL "#!lua\nreturn redis.call('get', KEYS[1])" 1 key:1
    EVAL "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])" 1 key:1
    EVAL "#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 'x')" 1 key:1
    EVAL "#!lua flags=no-writes\nreturn redis.pcall('set', KEYS[1], 'x')" 1 key:1
    EVAL "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1" 0
    EVAL "#!lua flags=\nreturn 1" 0
    EVAL "#!lua flags=no-writes,\nreturn 1" 0
    EVAL "#!lua flags=NO-WRITES\nreturn 1" 0
    EVAL "#!lua name=x\nreturn 1" 0
    EVAL "#!lua" 0
    EVAL "#!python\nreturn 1" 0
    EVAL "#!\nreturn 1" 0
    EVAL "#!lua\nerror('line two')" 0
    EVAL_RO "return redis.call('get', KEYS[1])" 1 key:1
    EVAL_RO "return redis.call('set', KEYS[1], 'x')" 1 key:1
    EVAL_RO "return redis.call('publish', 'ch', 'x')" 0
    EVAL_RO "#!lua\nreturn 1" 0
    EVAL_RO "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])" 1 key:1
    SCRIPT LOAD "#!lua\nreturn 1"
    EVALSHA_RO 5b3c2f1ee8b24fcc1fd0ab3e2a4bd8d17e2d8d64 0
    GET key:1
    "##,
)];

const CROSS_CORE: &[(&str, &str)] = &[(
    "keys_on_two_cores",
    r##"
    !cross key:1 key:2
    SCRIPT FLUSH
    EVAL "redis.call('set', KEYS[1], ARGV[1]); redis.call('set', KEYS[2], ARGV[2]); return {redis.call('get', KEYS[1]), redis.call('get', KEYS[2])}" 2 key:1 key:2 a b
    GET key:1
    GET key:2
    EVAL "return redis.call('mget', KEYS[1], KEYS[2])" 2 key:1 key:2
    EVAL "redis.call('rename', KEYS[1], KEYS[2]); return redis.call('get', KEYS[2])" 2 key:1 key:2
    EXISTS key:1
    GET key:2
    EVAL "for i, k in ipairs(KEYS) do redis.call('rpush', k, i) end; return #KEYS" 4 key:3 key:4 key:5 key:6
    LRANGE key:3 0 -1
    LRANGE key:6 0 -1
    EVAL "return redis.call('lmove', KEYS[1], KEYS[2], 'left', 'right')" 2 key:3 key:4
    LRANGE key:4 0 -1
    EVAL "return redis.call('sunionstore', KEYS[1], KEYS[2], KEYS[3])" 3 key:7 key:8 key:9
    "##,
)];

const FUNCTIONS: &[(&str, &str)] = &[
    (
        "load_call_list",
        r##"
        FUNCTION FLUSH
        FUNCTION LOAD "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return {keys[1], args[1]} end)"
        FCALL myfunc 1 key:1 a
        FCALL myfunc 0
        FCALL_RO myfunc 0
        FCALL nosuch 0
        FCALL myfunc x
        FCALL myfunc 3 a
        FCALL myfunc -1
        FUNCTION LIST
        FUNCTION LIST WITHCODE
        FUNCTION LIST LIBRARYNAME my*
        FUNCTION LIST LIBRARYNAME nomatch*
        FUNCTION LIST LIBRARYNAME
        FUNCTION LIST bad
        FUNCTION LIST WITHCODE WITHCODE
        FUNCTION LOAD "#!lua name=mylib\nredis.register_function('myfunc', function() return 1 end)"
        FUNCTION LOAD REPLACE "#!lua name=mylib\nredis.register_function('myfunc', function() return 2 end)"
        FCALL myfunc 0
        FUNCTION LOAD "#!lua name=other\nredis.register_function('myfunc', function() return 3 end)"
        FUNCTION LOAD "#!lua name=other\nredis.register_function{function_name='ro', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}"
        FUNCTION LIST LIBRARYNAME other
        SET key:2 val
        FCALL_RO ro 1 key:2
        FCALL ro 1 key:2
        FUNCTION STATS
        FUNCTION DELETE mylib
        FUNCTION DELETE mylib
        FCALL myfunc 0
        FUNCTION FLUSH bad
        FUNCTION FLUSH ASYNC
        FUNCTION LIST
        FUNCTION STATS
        FUNCTION KILL
        "##,
    ),
    (
        "load_errors",
        r##"
        FUNCTION FLUSH
        FUNCTION LOAD "return 1"
        FUNCTION LOAD "#!lua name=x"
        FUNCTION LOAD "#!lua\nreturn 1"
        FUNCTION LOAD "#!lua name=x foo=bar\nreturn 1"
        FUNCTION LOAD "#!lua name=x name=y\nreturn 1"
        FUNCTION LOAD "#!lua name=bad-name\nreturn 1"
        FUNCTION LOAD "#!nosuch name=x\nreturn 1"
        FUNCTION LOAD "#!lua name=x\nreturn 1"
        FUNCTION LOAD "#!lua name=x\nreturn +"
        FUNCTION LOAD "#!lua name=x\nerror('boom')"
        FUNCTION LOAD "#!lua name=x\nredis.call('ping')"
        FUNCTION LOAD "#!lua name=x\nlocal s = string.format('a')"
        FUNCTION LOAD "#!lua name=x\nredis.register_function('f')"
        FUNCTION LOAD "#!lua name=x\nredis.register_function('f', 1)"
        FUNCTION LOAD "#!lua name=x\nredis.register_function(1, function() end)"
        FUNCTION LOAD "#!lua name=x\nredis.register_function('bad name', function() end)"
        FUNCTION LOAD "#!lua name=x\nredis.register_function('f', function() end); redis.register_function('f', function() end)"
        FUNCTION LOAD "#!lua name=x\nredis.register_function{function_name='f'}"
        FUNCTION LOAD "#!lua name=x\nredis.register_function{callback=function() end}"
        FUNCTION LOAD "#!lua name=x\nredis.register_function{function_name='f', callback=function() end, flags={'bad'}}"
        FUNCTION LOAD "#!lua name=x\nredis.register_function{function_name='f', callback=function() end, other=1}"
        FUNCTION LOAD "#!lua name=x\nredis.register_function{function_name='f', callback=function() end, flags='no-writes'}"
        FUNCTION LOAD "#!lua name=x\nredis.register_function()"
        FUNCTION LOAD "#!lua name=x\nx = 1"
        FUNCTION LOAD "#!lua name=x\nredis.register_function('f', function() return redis.call('set', 'k', 'v') end)"
        FUNCTION LOAD BAD "#!lua name=x\nreturn 1"
        FUNCTION LOAD REPLACE
        FUNCTION LOAD
        FUNCTION LIST
        "##,
    ),
    (
        "function_runtime",
        r##"
        FUNCTION FLUSH
        FUNCTION LOAD "#!lua name=rt\nlocal function helper() return 'h' end\nredis.register_function('h', function() return helper() end)\nredis.register_function('w', function(keys, args) return redis.call('set', keys[1], args[1]) end)\nredis.register_function('g', function() return nosuch end)\nredis.register_function('e', function() error('fail') end)\nredis.register_function('c', function() return redis.call('nosuch') end)\nredis.register_function('t', function() return type(redis.setresp) end)"
        FCALL h 0
        FCALL w 1 key:1 v1
        GET key:1
        FCALL_RO w 1 key:1 v2
        FCALL g 0
        FCALL e 0
        FCALL c 0
        FCALL t 0
        "##,
    ),
];

const FUNCTIONS_RESP3: &[(&str, &str)] = &[(
    "resp3",
    r##"
    FUNCTION FLUSH
    HELLO 3
    FUNCTION LOAD "#!lua name=r3\nredis.register_function{function_name='f', callback=function(keys, args) return {map={a=1}} end, flags={'no-writes', 'allow-stale'}, description='d'}"
    FUNCTION LIST
    FUNCTION LIST WITHCODE
    FUNCTION STATS
    FCALL f 0
    FCALL_RO f 0
    FUNCTION DELETE r3
    FUNCTION STATS
    "##,
)];

const LIBRARIES: &[(&str, &str)] = &[
    (
        "bit",
        r##"
    SCRIPT FLUSH
    EVAL "return bit.band(0xff, 0x0f)" 0
    EVAL "return bit.bor(1, 2, 4)" 0
    EVAL "return bit.bxor(5, 3)" 0
    EVAL "return bit.bnot(0)" 0
    EVAL "return bit.lshift(1, 31)" 0
    EVAL "return bit.rshift(-1, 28)" 0
    EVAL "return bit.arshift(-256, 4)" 0
    EVAL "return bit.rol(0x12345678, 8)" 0
    EVAL "return bit.ror(0x12345678, 8)" 0
    EVAL "return bit.bswap(0x12345678)" 0
    EVAL "return bit.tobit(0xffffffff)" 0
    EVAL "return bit.tobit(2^32 + 5)" 0
    EVAL "return bit.tohex(255)" 0
    EVAL "return bit.tohex(255, -4)" 0
    EVAL "return bit.tohex(-1, 2)" 0
    EVAL "return bit.band('12', 4)" 0
    EVAL "return bit.band('x')" 0
    "##,
    ),
    (
        "cjson",
        r##"
    SCRIPT FLUSH
    EVAL "return cjson.encode({1,2,3})" 0
    EVAL "return cjson.encode({a=1})" 0
    EVAL "return cjson.encode({})" 0
    EVAL "return cjson.encode('a/b\"c\n')" 0
    EVAL "return cjson.encode(1.5)" 0
    EVAL "return cjson.encode(0.1)" 0
    EVAL "return cjson.encode(1e300)" 0
    EVAL "return cjson.encode(true)" 0
    EVAL "return cjson.encode(nil)" 0
    EVAL "return cjson.encode(cjson.null)" 0
    EVAL "return cjson.encode({1,nil,3})" 0
    EVAL "return cjson.encode({[1]=1,[20]=2})" 0
    EVAL "return cjson.encode({[1.5]=1})" 0
    EVAL "return cjson.encode({{},{{}}})" 0
    EVAL "return cjson.encode(0/0)" 0
    EVAL "return cjson.encode(function() end)" 0
    EVAL "return cjson.encode()" 0
    EVAL "return cjson.decode('[1,2,3]')" 0
    EVAL "return cjson.decode('{\"a\":[1,\"x\",true]}').a" 0
    EVAL "return cjson.decode('\"\\u00e9\\n\"')" 0
    EVAL "return cjson.decode('1.5e2')" 0
    EVAL "return type(cjson.decode('null'))" 0
    EVAL "return cjson.decode('null') == cjson.null" 0
    EVAL "return cjson.decode('')" 0
    EVAL "return cjson.decode('[1,2')" 0
    EVAL "return cjson.decode('{1:2}')" 0
    EVAL "return cjson.decode('{\"a\" 1}')" 0
    EVAL "return cjson.decode('[1] x')" 0
    EVAL "return cjson.decode('nope')" 0
    EVAL "return cjson.decode('\"abc')" 0
    EVAL "return cjson.decode('\"\\q\"')" 0
    EVAL "return cjson.decode()" 0
    EVAL "return cjson.decode({})" 0
    "##,
    ),
    (
        "cmsgpack",
        r##"
    SCRIPT FLUSH
    EVAL "return cmsgpack.pack(1, -1, 200, -200, 70000, -70000, 2^31, -2^31 - 1, 1.5, 0.1, 'abc', true, false, nil)" 0
    EVAL "return cmsgpack.pack({1,2,3}, {a=1}, {})" 0
    EVAL "return cmsgpack.pack(string.rep('x', 40), string.rep('y', 300))" 0
    EVAL "return cmsgpack.pack(2^40, -2^40, 2^63, 0/0 ~= 0/0)" 0
    EVAL "return cmsgpack.pack(function() end)" 0
    EVAL "local t = {} t[1]=t return cmsgpack.pack(t)" 0
    EVAL "local t = {} for i=1,20 do t[i]=i end return cmsgpack.pack(t)" 0
    EVAL "return {cmsgpack.unpack(cmsgpack.pack(1,'a',{1,2},{a='b'}))}" 0
    EVAL "return cmsgpack.unpack(cmsgpack.pack({a='b'})).a" 0
    EVAL "return cmsgpack.unpack('')" 0
    EVAL "return cmsgpack.pack()" 0
    EVAL "return {cmsgpack.unpack_one(cmsgpack.pack(1,2))}" 0
    EVAL "return {cmsgpack.unpack_one(cmsgpack.pack(7))}" 0
    EVAL "return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), 1)}" 0
    EVAL "return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2)}" 0
    EVAL "return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 0)}" 0
    EVAL "return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 5)}" 0
    EVAL "return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), -1)}" 0
    EVAL "return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), 5)}" 0
    EVAL "return {cmsgpack.unpack_one('', 0)}" 0
    EVAL "return cmsgpack.unpack(string.char(0xc1))" 0
    EVAL "return cmsgpack.unpack(string.char(0x92, 1))" 0
    EVAL "return cmsgpack.unpack(string.char(0xcd, 1))" 0
    EVAL "return cmsgpack.unpack(string.char(0xc4, 2, 65, 66))" 0
    EVAL "return cmsgpack.unpack(string.char(0x81, 0xc0, 1))" 0
    EVAL "return cmsgpack.unpack(string.char(0xca, 0x3f, 0xc0, 0, 0)) * 10" 0
    EVAL "return cmsgpack.unpack(string.char(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe))" 0
    EVAL "return cmsgpack.unpack()" 0
    "##,
    ),
    (
        "struct",
        r##"
    SCRIPT FLUSH
    EVAL "return struct.pack('>I2', 258)" 0
    EVAL "return struct.pack('<i4', -2)" 0
    EVAL "return struct.pack('bBhHlL', -1, 255, -2, 65535, -3, 4)" 0
    EVAL "return struct.pack('>d', 1.5)" 0
    EVAL "return struct.pack('<f', 0.25)" 0
    EVAL "return struct.pack('s', 'abc')" 0
    EVAL "return struct.pack('c3', 'abcdef')" 0
    EVAL "return struct.pack('c0', 'xyz')" 0
    EVAL "return struct.pack('!4 b i4', 1, 2)" 0
    EVAL "return struct.pack('x')" 0
    EVAL "return struct.pack('c5', 'ab')" 0
    EVAL "return struct.pack('i4', 'x')" 0
    EVAL "return struct.pack('i4')" 0
    EVAL "return struct.pack('q', 1)" 0
    EVAL "return struct.pack('i40', 1)" 0
    EVAL "return struct.pack('!3 i4', 1)" 0
    EVAL "return {struct.unpack('>I2', string.char(1, 2))}" 0
    EVAL "return {struct.unpack('<i4', struct.pack('<i4', -2))}" 0
    EVAL "return {struct.unpack('bBhH', struct.pack('bBhH', -1, 255, -2, 65535))}" 0
    EVAL "return {struct.unpack('s', 'abc' .. string.char(0) .. 'rest')}" 0
    EVAL "return {struct.unpack('c2', 'abcd', 2)}" 0
    EVAL "return {struct.unpack('b c0', string.char(3) .. 'xyzw')}" 0
    EVAL "return {struct.unpack('i4', 'ab')}" 0
    EVAL "return {struct.unpack('s', 'abc')}" 0
    EVAL "return {struct.unpack('c0', 'abc')}" 0
    EVAL "return tostring(struct.unpack('>d', struct.pack('>d', 2.5)))" 0
    EVAL "return struct.size('i4 h !8 d')" 0
    EVAL "return struct.size('bhl')" 0
    EVAL "return struct.size('s')" 0
    EVAL "return struct.unpack('i4')" 0
    "##,
    ),
];

#[test]
fn eval_conversions() {
    run_group(2, EVAL_CONVERSIONS);
}

#[test]
fn eval_errors() {
    run_group(2, EVAL_ERRORS);
}

#[test]
fn globals() {
    run_group(2, GLOBALS);
}

#[test]
fn script_cache() {
    run_group(2, SCRIPT_CACHE);
}

#[test]
fn flags() {
    run_group(2, FLAGS);
}

#[test]
fn cross_core_2() {
    run_group(2, CROSS_CORE);
}

#[test]
fn cross_core_4() {
    run_group(4, CROSS_CORE);
}

#[test]
fn functions() {
    run_group(2, FUNCTIONS);
}

#[test]
fn libraries() {
    run_group(2, LIBRARIES);
}

/// One core: independent of how the server shares the script store between cores.
#[test]
fn functions_one_core() {
    run_group(1, FUNCTIONS);
    run_group(1, FUNCTIONS_RESP3);
}

#[test]
fn script_cache_one_core() {
    run_group(1, SCRIPT_CACHE);
}
