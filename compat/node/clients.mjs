// Drives real Node Redis clients against sessiond. Run by ../node_test.go
// with SESSIOND_PORT (no password) and SESSIOND_PW_PORT (requirepass "pw").
// Prints "ok <check>" per passing check; any failure prints "FAIL <check>"
// with the error and exits 1.
import assert from "node:assert/strict";
import http from "node:http";
import { once } from "node:events";
import * as ioredis5 from "ioredis5";
import * as ioredis6 from "ioredis6";
import * as redis6 from "redis";
import * as redis5 from "redis5";
import { RedisStore } from "connect-redis";
import session from "express-session";

const host = "127.0.0.1";
const port = Number(process.env.SESSIOND_PORT);
const pwPort = Number(process.env.SESSIOND_PW_PORT);
assert.ok(port && pwPort, "SESSIOND_PORT and SESSIOND_PW_PORT must be set");

let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err && err.stack ? err.stack : err}`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- ioredis

async function ioredisSuite(label, Redis, extra, wantResp) {
  const p = `${label}:`;
  const opts = { host, port, connectionName: label, maxRetriesPerRequest: 1, retryStrategy: () => null, ...extra };
  const c = new Redis(opts);
  c.on("error", () => {});
  try {
    await check(`${label} ready (INFO ready check)`, async () => {
      if (c.status !== "ready") await once(c, "ready");
      const info = await c.call("CLIENT", "INFO");
      assert.match(String(info), new RegExp(`name=${label.replace(/[()]/g, ".")} `));
      assert.match(String(info), new RegExp(` resp=${wantResp}(\\s|$)`));
      if (/lib-name=/.test(info)) assert.match(String(info), / lib-name=ioredis /); // Redis >= 7.2
    });
    await check(`${label} set/get/ttl`, async () => {
      assert.equal(await c.set(p + "k", "v", "EX", 60), "OK");
      assert.equal(await c.get(p + "k"), "v");
      const ttl = await c.ttl(p + "k");
      assert.ok(ttl >= 59 && ttl <= 60, `ttl ${ttl}`);
      assert.equal(await c.get(p + "missing"), null);
      assert.equal(await c.set(p + "k", "w", "PX", 1500, "NX"), null);
      assert.equal(await c.set(p + "k", "w", "KEEPTTL", "GET"), "v");
      assert.ok((await c.pttl(p + "k")) > 58000);
      assert.equal(await c.setex(p + "sx", 30, "v"), "OK");
      assert.equal(await c.ttl(p + "sx"), 30);
      assert.equal(await c.ttl(p + "missing"), -2);
    });
    await check(`${label} mget/del/exists/expire`, async () => {
      assert.deepEqual(await c.mget(p + "k", p + "missing", p + "sx"), ["w", null, "v"]);
      assert.equal(await c.exists(p + "k"), 1);
      assert.equal(await c.expire(p + "sx", 0), 1, "EXPIRE 0 deletes and returns 1");
      assert.equal(await c.exists(p + "sx"), 0);
      assert.equal(await c.expire(p + "k", 100, "NX"), 0);
      assert.equal(await c.del(p + "k", p + "missing"), 1);
    });
    await check(`${label} scan MATCH COUNT (string cursor)`, async () => {
      const pipe = c.pipeline();
      for (let i = 0; i < 230; i++) pipe.set(`${p}sess:${i}`, String(i), "EX", 600);
      for (let i = 0; i < 20; i++) pipe.set(`${p}other:${i}`, "x");
      const res = await pipe.exec();
      assert.equal(res.length, 250);
      for (const [err, r] of res) assert.equal(err, null) || assert.equal(r, "OK");
      const seen = new Set();
      let cursor = "0";
      let rounds = 0;
      do {
        const [next, keys] = await c.scan(cursor, "MATCH", `${p}sess:*`, "COUNT", 100);
        assert.equal(typeof next, "string", "cursor must be a bulk string");
        keys.forEach((k) => seen.add(k));
        cursor = next;
        assert.ok(++rounds < 1000, "SCAN never returned cursor \"0\"");
      } while (cursor !== "0");
      assert.equal(seen.size, 230);
      // scanStream, as some stores use it.
      const streamed = new Set();
      await new Promise((resolve, reject) => {
        const s = c.scanStream({ match: `${p}other:*`, count: 7 });
        s.on("data", (keys) => keys.forEach((k) => streamed.add(k)));
        s.on("end", resolve);
        s.on("error", reject);
      });
      assert.equal(streamed.size, 20);
    });
    await check(`${label} pipeline of 100`, async () => {
      const pipe = c.pipeline();
      for (let i = 0; i < 100; i++) pipe.incr(p + "counter");
      const res = await pipe.exec();
      assert.equal(res.length, 100);
      assert.deepEqual(res[99], [null, 100]);
    });
    await check(`${label} multi/exec`, async () => {
      const res = await c.multi().set(p + "t", "1").incr(p + "t").expire(p + "t", 60).get(p + "t").exec();
      assert.deepEqual(res, [[null, "OK"], [null, 2], [null, 1], [null, "2"]]);
    });
    await check(`${label} watch conflict aborts exec`, async () => {
      const other = new Redis({ ...opts, connectionName: label + "-other" });
      try {
        await c.set(p + "w", "1");
        assert.equal(await c.watch(p + "w"), "OK");
        await other.set(p + "w", "2");
        const res = await c.multi().set(p + "w", "3").exec();
        assert.equal(res, null, "EXEC after a conflicting write returns null");
        assert.equal(await c.get(p + "w"), "2");
      } finally {
        other.disconnect();
      }
    });
    await check(`${label} sets`, async () => {
      assert.equal(await c.sadd(p + "set", "a", "b", "c"), 3);
      assert.equal(await c.srem(p + "set", "b"), 1);
      assert.deepEqual((await c.smembers(p + "set")).sort(), ["a", "c"]);
      await assert.rejects(c.get(p + "set"), /^ReplyError: WRONGTYPE/);
    });
    await check(`${label} info`, async () => {
      const info = await c.info("server");
      assert.match(info, /^# Server\r\n/);
      assert.match(info, /\r\nredis_version:\d+\.\d+/);
    });
    await check(`${label} binary values`, async () => {
      const buf = Buffer.from([0, 255, 13, 10, 1]);
      await c.set(p + "bin", buf);
      assert.deepEqual(await c.getBuffer(p + "bin"), buf);
    });
  } finally {
    await check(`${label} quit`, async () => assert.equal(await c.quit(), "OK"));
  }

  // Password and database selection.
  await check(`${label} auth + select db 2`, async () => {
    const a = new Redis({ host, port: pwPort, password: "pw", db: 2, ...extra, maxRetriesPerRequest: 1, retryStrategy: () => null });
    a.on("error", () => {});
    try {
      if (a.status !== "ready") await once(a, "ready");
      await a.set(p + "db2", "yes");
      assert.match(String(await a.call("CLIENT", "INFO")), / db=2 /);
    } finally {
      a.disconnect();
    }
  });
  await check(`${label} wrong password is fatal`, async () => {
    const b = new Redis({ host, port: pwPort, password: "nope", lazyConnect: true, ...extra, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const errors = [];
    b.on("error", (e) => errors.push(String(e)));
    await assert.rejects(b.connect());
    b.disconnect();
    assert.ok(errors.some((e) => /WRONGPASS invalid username-password pair/.test(e)), `errors: ${errors}`);
  });
}

// ------------------------------------------------------------- node-redis

async function nodeRedisSuite(label, mod, extra, wantResp) {
  const p = `${label}:`;
  const c = mod.createClient({ socket: { host, port, reconnectStrategy: false }, name: label.replace(/[^a-z0-9.-]/gi, "-"), ...extra });
  c.on("error", () => {});
  await check(`${label} connect`, async () => {
    await c.connect();
    const info = await c.sendCommand(["CLIENT", "INFO"]);
    assert.match(String(info), new RegExp(` resp=${wantResp}(\\s|$)`));
    if (/lib-name=/.test(info)) assert.match(String(info), / lib-name=node-redis/); // Redis >= 7.2
  });
  if (!c.isReady) return;
  try {
    await check(`${label} set/get/ttl`, async () => {
      assert.equal(await c.set(p + "k", "v", { expiration: { type: "EX", value: 60 } }), "OK");
      assert.equal(await c.get(p + "k"), "v");
      assert.ok((await c.ttl(p + "k")) >= 59);
      assert.equal(await c.get(p + "missing"), null);
      assert.equal(await c.set(p + "k", "x", { condition: "NX" }), null);
      assert.equal(await c.set(p + "k", "x", { expiration: "KEEPTTL", GET: true }), "v");
      assert.ok((await c.pTTL(p + "k")) > 58000);
      assert.equal(await c.ttl(p + "missing"), -2);
      assert.equal(await c.setEx(p + "sx", 30, "v"), "OK");
      assert.equal(await c.getEx(p + "sx", { type: "EX", value: 45 }), "v");
      assert.equal(await c.ttl(p + "sx"), 45);
    });
    await check(`${label} mGet/del/expire`, async () => {
      assert.deepEqual(await c.mGet([p + "k", p + "missing", p + "sx"]), ["x", null, "v"]);
      assert.equal(await c.expire(p + "sx", -5), 1, "EXPIRE with a negative TTL deletes and returns 1");
      assert.equal(await c.exists(p + "sx"), 0);
      assert.equal(await c.del([p + "k", p + "missing"]), 1);
    });
    await check(`${label} scanIterator MATCH COUNT`, async () => {
      const m = c.multi();
      for (let i = 0; i < 230; i++) m.set(`${p}sess:${i}`, String(i));
      await m.exec();
      const seen = new Set();
      for await (const keys of c.scanIterator({ MATCH: `${p}sess:*`, COUNT: 100 })) {
        for (const k of keys) seen.add(k);
      }
      assert.equal(seen.size, 230);
      const r = await c.scan("0", { MATCH: `${p}sess:*`, COUNT: 10 });
      assert.equal(typeof r.cursor, "string");
    });
    await check(`${label} multi/exec and pipeline`, async () => {
      const res = await c.multi().set(p + "t", "1").incr(p + "t").get(p + "t").exec();
      assert.deepEqual(res, ["OK", 2, "2"]);
      const pipe = c.multi();
      for (let i = 0; i < 100; i++) pipe.incr(p + "counter");
      const pres = await pipe.execAsPipeline();
      assert.equal(pres.length, 100);
      assert.equal(pres[99], 100);
    });
    await check(`${label} watch conflict`, async () => {
      const other = c.duplicate();
      other.on("error", () => {});
      await other.connect();
      try {
        await c.set(p + "w", "1");
        await c.watch(p + "w");
        await other.set(p + "w", "2");
        await assert.rejects(c.multi().set(p + "w", "3").exec(), (e) => e instanceof mod.WatchError);
        assert.equal(await c.get(p + "w"), "2");
      } finally {
        other.destroy();
      }
    });
    await check(`${label} sets and info`, async () => {
      assert.equal(await c.sAdd(p + "set", ["a", "b"]), 2);
      assert.equal(await c.sRem(p + "set", "a"), 1);
      assert.deepEqual(await c.sMembers(p + "set"), ["b"]);
      const info = await c.info("server");
      assert.match(String(info), /\r\nredis_version:/);
    });
    await check(`${label} errors keep the connection`, async () => {
      await assert.rejects(c.sendCommand(["NOSUCHCMD", "x"]), /ERR unknown command 'NOSUCHCMD'/);
      assert.equal(await c.ping(), "PONG");
    });
  } finally {
    await check(`${label} close`, async () => {
      if (typeof c.close === "function") await c.close();
      else await c.quit();
    });
  }
  await check(`${label} auth + select db 3`, async () => {
    const a = mod.createClient({ socket: { host, port: pwPort, reconnectStrategy: false }, password: "pw", database: 3, ...extra });
    a.on("error", () => {});
    await a.connect();
    try {
      assert.match(String(await a.sendCommand(["CLIENT", "INFO"])), / db=3 /);
    } finally {
      a.destroy();
    }
  });
}

// ---------------------------------------------------------- connect-redis

const cb = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));

async function connectRedisSuite(label, mod, extra) {
  const client = mod.createClient({ socket: { host, port, reconnectStrategy: false }, ...extra });
  client.on("error", () => {});
  await client.connect();
  const prefix = `${label}:sess:`;
  const store = new RedisStore({ client, prefix });
  const cookie = (ms) => ({ originalMaxAge: ms, expires: new Date(Date.now() + ms).toISOString() });
  try {
    await check(`${label} store set/get/touch/destroy`, async () => {
      await cb((done) => store.set("a", { cookie: cookie(60000), user: "alice" }, done));
      const ttl = await client.ttl(prefix + "a");
      assert.ok(ttl >= 59 && ttl <= 60, `ttl ${ttl}`);
      const sess = await cb((done) => store.get("a", done));
      assert.equal(sess.user, "alice");
      await cb((done) => store.touch("a", { cookie: cookie(300000) }, done));
      assert.ok((await client.ttl(prefix + "a")) >= 299);
      assert.equal(await cb((done) => store.get("missing", done)), null);
      // Touch with an already expired cookie: EXPIRE with ttl <= 0 deletes.
      await cb((done) => store.set("old", { cookie: cookie(60000) }, done));
      await cb((done) => store.touch("old", { cookie: cookie(-5000) }, done));
      assert.equal(await client.exists(prefix + "old"), 0);
      await cb((done) => store.destroy("a", done));
      assert.equal(await cb((done) => store.get("a", done)), null);
    });
    await check(`${label} store all/length/ids/clear (SCAN MATCH COUNT + MGET)`, async () => {
      const n = 260; // more than one SCAN page of COUNT 100
      const m = client.multi();
      for (let i = 0; i < n; i++) m.set(prefix + `s${i}`, JSON.stringify({ cookie: cookie(60000), i }), { expiration: { type: "EX", value: 60 } });
      await m.exec();
      await client.set(`${label}:notsess`, "x");
      assert.equal(await cb((done) => store.length(done)), n);
      const ids = await cb((done) => store.ids(done));
      assert.equal(new Set(ids).size, n);
      assert.ok(ids.includes("s17"));
      const all = await cb((done) => store.all(done));
      assert.equal(all.length, n);
      assert.equal(all.find((s) => s.id === "s42").i, 42);
      await cb((done) => store.clear(done));
      assert.equal(await cb((done) => store.length(done)), 0);
      assert.equal(await client.get(`${label}:notsess`), "x", "clear() only deletes the prefix");
    });
    await check(`${label} express-session middleware over HTTP`, async () => {
      const mw = session({ store, secret: "compat-secret", resave: false, saveUninitialized: false, cookie: { maxAge: 120000 }, name: "sid" });
      const server = http.createServer((req, res) => {
        mw(req, res, () => {
          if (req.url === "/login") req.session.user = "alice";
          if (req.url === "/logout") return req.session.destroy(() => res.end("bye"));
          req.session.views = (req.session.views || 0) + 1;
          res.end(`${req.session.user || ""}:${req.session.views}`);
        });
      });
      server.listen(0, host);
      await once(server, "listening");
      const base = `http://${host}:${server.address().port}`;
      try {
        let r = await fetch(base + "/login");
        assert.equal(await r.text(), "alice:1");
        const set = r.headers.get("set-cookie");
        assert.ok(set, "no session cookie");
        const sid = decodeURIComponent(set.split(";")[0].split("=")[1]).slice(2).split(".")[0];
        const ttl = await client.ttl(prefix + sid);
        assert.ok(ttl >= 118 && ttl <= 120, `session TTL ${ttl}`);
        const jar = set.split(";")[0];
        r = await fetch(base + "/", { headers: { cookie: jar } });
        assert.equal(await r.text(), "alice:2");
        assert.equal(JSON.parse(await client.get(prefix + sid)).views, 2);
        r = await fetch(base + "/logout", { headers: { cookie: jar } });
        assert.equal(await r.text(), "bye");
        assert.equal(await client.exists(prefix + sid), 0);
        r = await fetch(base + "/", { headers: { cookie: jar } });
        assert.equal(await r.text(), ":1");
      } finally {
        server.close();
      }
    });
  } finally {
    client.destroy();
  }
}

// Start from empty servers.
for (const [p, password] of [[port, undefined], [pwPort, "pw"]]) {
  const c = new ioredis5.Redis({ host, port: p, password });
  await c.flushall();
  c.disconnect();
}

// A password configured against a server without requirepass: ioredis 5
// sends AUTH pw, gets Redis's "called without any password configured"
// error, which it only warns about; ioredis 6 sends HELLO 3 AUTH default
// pw, which a nopass default user accepts.
for (const [label, Redis] of [["ioredis5", ioredis5.Redis], ["ioredis6", ioredis6.Redis]]) {
  await check(`${label} password against a server without one`, async () => {
    const warned = [];
    const warn = console.warn;
    console.warn = (...a) => warned.push(a.join(" "));
    const c = new Redis({ host, port, password: "pw", retryStrategy: () => null });
    c.on("error", () => {});
    try {
      assert.equal(await c.ping(), "PONG");
      if (label === "ioredis5") assert.match(warned.join("\n"), /does not require a password/);
    } finally {
      console.warn = warn;
      c.disconnect();
    }
  });
}

// node-redis client-side caching: CLIENT TRACKING ON at connect (default
// mode, RESP3), a second GET answered from the cache, and the cache entry
// dropped by the invalidation another client's write sends.
await check("redis6 clientSideCache", async () => {
  const c = redis6.createClient({ socket: { host, port, reconnectStrategy: false }, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 0 } });
  const w = redis6.createClient({ socket: { host, port, reconnectStrategy: false } });
  c.on("error", () => {});
  w.on("error", () => {});
  await c.connect();
  await w.connect();
  try {
    const cache = c.clientSideCache;
    await w.set("csc:k", "v1");
    assert.equal(await c.get("csc:k"), "v1");
    assert.equal(await c.get("csc:k"), "v1");
    assert.equal(cache.stats().hitCount, 1, "the second GET is a cache hit");
    await w.set("csc:k", "v2");
    for (let i = 0; i < 100 && cache.size() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(cache.size(), 0, "the invalidation emptied the cache");
    assert.equal(await c.get("csc:k"), "v2");
  } finally {
    c.destroy();
    w.destroy();
  }
});

await ioredisSuite("ioredis5", ioredis5.Redis, {}, 2);
await ioredisSuite("ioredis6", ioredis6.Redis, {}, 3);
await ioredisSuite("ioredis6-resp2", ioredis6.Redis, { protocol: 2 }, 2);
await nodeRedisSuite("redis5", redis5, {}, 2);
await nodeRedisSuite("redis5-resp3", redis5, { RESP: 3 }, 3);
await nodeRedisSuite("redis6", redis6, {}, 3);
await nodeRedisSuite("redis6-resp2", redis6, { RESP: 2 }, 2);
await connectRedisSuite("connect-redis9+redis6", redis6, {});
await connectRedisSuite("connect-redis9+redis5", redis5, {});

if (failed) {
  console.log(`${failed} check(s) failed`);
  process.exit(1);
}
console.log("all node checks passed");
