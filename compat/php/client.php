<?php
// phpredis's Redis class (what Laravel's phpredis connector uses) against
// sessiond. Run by ../php_test.go: php client.php PORT PW_PORT
// Prints "ok <check>" per passing check, "FAIL <check>: why" otherwise, and
// exits 1 if anything failed.
[$script, $port, $pwPort] = $argv;
$failed = 0;
function check(string $name, callable $fn): void {
    global $failed;
    try {
        $fn();
        echo "ok $name\n";
    } catch (Throwable $e) {
        $failed++;
        echo "FAIL $name: " . get_class($e) . ': ' . $e->getMessage() . ' at line ' . $e->getLine() . "\n";
    }
}
function eq($want, $got, string $what = ''): void {
    if ($want !== $got) {
        throw new Exception("$what: want " . var_export($want, true) . ', got ' . var_export($got, true));
    }
}

$r = new Redis();
check('connect + select 0 (Laravel sends it explicitly)', function () use ($r, $port) {
    eq(true, $r->connect('127.0.0.1', (int)$port, 2.0));
    eq(true, $r->select(0));
    eq(true, $r->flushAll());
    eq(true, $r->ping(), 'PING');
});
check('setex/get/ttl/exists/del', function () use ($r) {
    eq(true, $r->setex('laravel_session:abc', 7200, serialize(['user' => 1])));
    eq(['user' => 1], unserialize($r->get('laravel_session:abc')));
    eq(7200, $r->ttl('laravel_session:abc'));
    eq(1, $r->exists('laravel_session:abc'));
    eq(false, $r->get('laravel_session:missing'));
    eq(-2, $r->ttl('laravel_session:missing'));
    eq(1, $r->del('laravel_session:abc'));
    eq(0, $r->del('laravel_session:abc'));
});
check('set with options (locks: NX EX / NX PX)', function () use ($r) {
    eq(true, $r->set('lock', 'owner1', ['nx', 'ex' => 10]));
    eq(false, $r->set('lock', 'owner2', ['nx', 'ex' => 10]));
    eq('owner1', $r->get('lock'));
    eq(true, $r->set('lock2', 'o', ['nx', 'px' => 1500]));
    $pttl = $r->pttl('lock2');
    if ($pttl < 1000 || $pttl > 1500) throw new Exception("pttl $pttl");
    eq(true, $r->setnx('nx', 'a'));
    eq(false, $r->setnx('nx', 'b'));
});
check('mget/mset/incrby (cache store)', function () use ($r) {
    eq(true, $r->mset(['c:a' => '1', 'c:b' => '2']));
    eq(['1', false, '2'], $r->mget(['c:a', 'c:missing', 'c:b']));
    eq(11, $r->incrBy('c:a', 10));
    eq(9, $r->decrBy('c:a', 2));
});
check('multi/exec putMany (+OK, +QUEUED, *N)', function () use ($r) {
    $res = $r->multi()->setex('m:1', 60, 'a')->setex('m:2', 60, 'b')->expire('m:1', 120)->get('m:2')->exec();
    eq([true, true, true, 'b'], $res);
    eq(120, $r->ttl('m:1'));
    $res = $r->multi(Redis::PIPELINE)->set('p:1', 'x')->get('p:1')->exec();
    eq([true, 'x'], $res);
});
check('watch conflict', function () use ($r, $port) {
    $other = new Redis();
    $other->connect('127.0.0.1', (int)$port);
    $r->set('w', '1');
    $r->watch('w');
    $other->set('w', '2');
    eq(false, $r->multi()->set('w', '3')->exec());
    eq('2', $r->get('w'));
});
check('expire 0 deletes, persist, pexpireat', function () use ($r) {
    $r->set('e', 'v');
    eq(true, $r->expire('e', 0));
    eq(0, $r->exists('e'));
    $r->set('e', 'v', ['ex' => 100]);
    eq(true, $r->persist('e'));
    eq(-1, $r->ttl('e'));
    eq(true, $r->pexpireAt('e', (int)(microtime(true) * 1000) + 5000));
    $t = $r->ttl('e');
    if ($t < 4 || $t > 5) throw new Exception("ttl $t");
});
check('scan iterator MATCH COUNT', function () use ($r) {
    for ($i = 0; $i < 150; $i++) $r->set("sess:$i", 'v');
    $r->setOption(Redis::OPT_SCAN, Redis::SCAN_RETRY);
    $seen = [];
    $it = null;
    while (($keys = $r->scan($it, 'sess:*', 40)) !== false) {
        foreach ($keys as $k) $seen[$k] = true;
    }
    eq(150, count($seen));
    eq(0, $it);
});
check('sets', function () use ($r) {
    eq(2, $r->sAdd('s', 'a', 'b'));
    eq(1, $r->sRem('s', 'a'));
    eq(['b'], $r->sMembers('s'));
    eq(true, $r->sIsMember('s', 'b'));
});
check('info parsed into an array', function () use ($r) {
    $info = $r->info();
    if (!preg_match('/^7\.\d+\.\d+$/', $info['redis_version'] ?? '')) throw new Exception('redis_version ' . var_export($info['redis_version'] ?? null, true));
    eq('0', (string)$info['loading']);
    $srv = $r->info('server');
    eq($info['redis_version'], $srv['redis_version']);
    eq(true, $r->dbSize() > 0);
});
check('errors: ERR returns false, WRONGTYPE returns false (no exception)', function () use ($r) {
    $r->clearLastError();
    eq(false, $r->rawCommand('NOSUCHCMD', 'x'));
    eq("ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' ", $r->getLastError());
    eq(false, $r->get('s'));
    // phpredis 5.3 keeps a trailing NUL on this message; compare the prefix.
    $err = (string)$r->getLastError();
    if (strpos($err, 'WRONGTYPE Operation against a key holding the wrong kind of value') !== 0) throw new Exception("last error $err");
    eq(true, $r->ping());
});
check('binary values', function () use ($r) {
    $v = "\x00\xff\r\n" . str_repeat("\x01", 70000);
    eq(true, $r->set('bin', $v));
    eq($v, $r->get('bin'));
});
check('client setname / getname, echo', function () use ($r) {
    eq(true, $r->client('setname', 'php-app'));
    eq('php-app', $r->client('getname'));
    eq('hi', $r->echo('hi'));
});
check('eval: Laravel lock release and cache add, script load, evalsha', function () use ($r) {
    $release = 'if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end';
    eq(true, $r->set('lock:x', 'owner1', ['NX', 'EX' => 10]));
    eq(false, $r->set('lock:x', 'owner2', ['NX', 'EX' => 10]));
    eq(0, $r->eval($release, ['lock:x', 'owner2'], 1), 'release by another owner');
    eq(1, $r->eval($release, ['lock:x', 'owner1'], 1), 'release by the owner');
    eq(0, $r->exists('lock:x'));
    $add = "return redis.call('exists',KEYS[1])<1 and redis.call('setex',KEYS[1],ARGV[2],ARGV[1])";
    eq(true, $r->eval($add, ['cache:k', 'v', 60], 1), 'add of a new key');
    eq(false, $r->eval($add, ['cache:k', 'v', 60], 1), 'add of an existing key');
    eq(60, $r->ttl('cache:k'));
    $sha = $r->script('load', 'return ARGV[1]');
    eq(sha1('return ARGV[1]'), $sha);
    eq('x', $r->evalSha($sha, ['x'], 0));
    eq([1, 0], $r->script('exists', $sha, str_repeat('0', 40)));
    $r->clearLastError();
    eq(false, $r->evalSha(str_repeat('0', 40), [], 0));
    eq('NOSCRIPT No matching script. Please use EVAL.', $r->getLastError());
    eq([1, 'a', [2], false], $r->eval('return {1, "a", {2}, false}'), 'nested reply');
    $r->clearLastError();
    eq(false, $r->eval('return redis.call("incr", "cache:k")'));
    if (strpos((string)$r->getLastError(), 'ERR value is not an integer or out of range script: ') !== 0) throw new Exception('last error ' . $r->getLastError());
    eq(true, $r->ping());
});
check('auth + select', function () use ($pwPort) {
    $a = new Redis();
    $a->connect('127.0.0.1', (int)$pwPort);
    try {
        $a->get('x');
        throw new Exception('no NOAUTH');
    } catch (RedisException $e) {
        if (strpos($e->getMessage(), 'NOAUTH') === false) throw $e;
    }
    $b = new Redis();
    $b->connect('127.0.0.1', (int)$pwPort);
    eq(true, $b->auth('pw'));
    eq(true, $b->select(1));
    eq(true, $b->set('k', 'db1'));
    eq(true, $b->select(0));
    eq(false, $b->get('k'));
    $c = new Redis();
    $c->connect('127.0.0.1', (int)$pwPort);
    try {
        eq(false, $c->auth('wrong'));
    } catch (RedisException $e) {
        if (strpos($e->getMessage(), 'WRONGPASS') === false) throw $e;
    }
});
if ($failed) {
    echo "$failed check(s) failed\n";
    exit(1);
}
echo "all php client checks passed\n";
