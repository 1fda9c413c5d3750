// A small shop whose cart lives in the session, and the session lives in
// sessiond: express, express-session and connect-redis over node-redis.
// No instance keeps state between requests, so several can run behind a
// round-robin load balancer without sticky sessions.
//
//   npm ci && node server.js            # sessiond on 127.0.0.1:6379
//   node server.js --addr 127.0.0.1:3001 --instance b --sessiond 10.0.0.5:6379
import os from "node:os";
import { parseArgs } from "node:util";
import express from "express";
import session from "express-session";
import { RedisStore } from "connect-redis";
import { createClient } from "redis";

const env = process.env;
const { values: opts } = parseArgs({
  options: {
    addr: { type: "string", default: env.SHOP_ADDR || "127.0.0.1:3000" },
    sessiond: { type: "string", default: env.SESSIOND_ADDR || "127.0.0.1:6379" },
    "sessiond-password": { type: "string", default: env.SESSIOND_PASSWORD || "" },
    instance: { type: "string", default: env.SHOP_INSTANCE || os.hostname() },
  },
});
const splitHostPort = (a) => {
  const i = a.lastIndexOf(":");
  return { host: a.slice(0, i) || "127.0.0.1", port: Number(a.slice(i + 1)) };
};
const listen = splitHostPort(opts.addr);
const store = splitHostPort(opts.sessiond);

let secret = env.SESSION_SECRET;
if (!secret) {
  // Every instance must sign cookies with the same secret, or a cookie set
  // by one is rejected by the next. Fine for a demo, never for production.
  secret = "shop-demo-secret";
  console.warn("SESSION_SECRET is not set: using a fixed demo secret");
}

const products = [
  { id: "tea", name: "Green tea, 100 g", price: 450 },
  { id: "mug", name: "Stoneware mug", price: 1200 },
  { id: "honey", name: "Acacia honey, 250 g", price: 780 },
  { id: "biscuits", name: "Oat biscuits", price: 320 },
];
const byId = new Map(products.map((p) => [p.id, p]));

// node-redis reconnects by itself after sessiond restarts; the "error"
// listener keeps a lost connection from crashing the process.
const client = createClient({
  socket: { host: store.host, port: store.port },
  password: opts["sessiond-password"] || undefined,
});
client.on("error", (err) => console.error("sessiond:", err.message));
await client.connect();

const app = express();
app.disable("x-powered-by");
app.use(express.urlencoded({ extended: false }));
app.get("/healthz", (req, res) => res.type("text").send("ok\n"));
app.use(
  session({
    // Sessions are JSON under shop:sess:<id>, with the cookie's maxAge as TTL.
    store: new RedisStore({ client, prefix: "shop:sess:" }),
    name: "shop.sid",
    secret,
    resave: false, // write only when the session changed...
    rolling: true, // ...but refresh the cookie and the key's TTL on every request
    saveUninitialized: false, // no key for visitors who have not logged in
    cookie: { maxAge: 60 * 60 * 1000, httpOnly: true, sameSite: "lax" },
  }),
);

const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const money = (cents) => `€${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;

function page(req, title, body) {
  const user = req.session.user;
  const count = Object.values(req.session.cart || {}).reduce((a, b) => a + b, 0);
  const nav = user
    ? `<nav>Hello, <b id="user">${esc(user)}</b> · <a href="/">Products</a> ·
<a id="cart-link" href="/cart">Cart (<span id="cart-count">${count}</span>)</a> ·
<form class="inline" method="post" action="/logout"><button id="logout">Log out</button></form></nav>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
header,footer{display:flex;justify-content:space-between;align-items:center;gap:1rem}
footer{margin-top:2rem;color:#666;font-size:.9rem;border-top:1px solid #ddd;padding-top:.5rem}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem;border-bottom:1px solid #eee;text-align:left}
td.num,th.num{text-align:right}form.inline{display:inline}.error{color:#b00}
</style></head><body>
<header><h1>${esc(title)}</h1>${nav}</header>
${body}
<footer><span>Sessions are kept in sessiond.</span><span>Served by instance <b id="instance">${esc(opts.instance)}</b></span></footer>
</body></html>`;
}

function send(res, status, html) {
  res.status(status).set("Cache-Control", "no-store").type("html").send(html);
}

function loginPage(req, res, status, error) {
  send(
    res,
    status,
    page(
      req,
      "Shop",
      `<p>Log in with any name to start shopping.</p>
${error ? `<p class="error">${esc(error)}</p>` : ""}
<form method="post" action="/login"><label>Name <input id="name" name="name" autofocus required maxlength="40"></label>
<button id="login">Log in</button></form>`,
    ),
  );
}

app.get("/", (req, res) => {
  if (!req.session.user) return loginPage(req, res, 200);
  const rows = products
    .map(
      (p) => `<tr data-product="${p.id}"><td>${esc(p.name)}</td><td class="num">${money(p.price)}</td>
<td><form method="post" action="/cart/add"><input type="hidden" name="product" value="${p.id}">
<button id="add-${p.id}">Add to cart</button></form></td></tr>`,
    )
    .join("\n");
  send(res, 200, page(req, "Shop", `<table id="products"><tr><th>Product</th><th class="num">Price</th><th></th></tr>\n${rows}</table>`));
});

app.post("/login", (req, res, next) => {
  const name = String(req.body?.name ?? "").trim();
  if (!name || name.length > 40) return loginPage(req, res, 400, "Please enter a name of 1 to 40 characters.");
  // A new session id at login prevents session fixation; regenerate
  // deletes the old key from sessiond.
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.user = name;
    req.session.cart = {};
    req.session.save((err) => (err ? next(err) : res.redirect(303, "/")));
  });
});

app.post("/cart/add", (req, res) => {
  if (!req.session.user) return res.redirect(303, "/");
  const p = byId.get(String(req.body?.product ?? ""));
  if (!p) return res.status(404).type("text").send("no such product\n");
  const cart = req.session.cart || {};
  cart[p.id] = (cart[p.id] || 0) + 1;
  req.session.cart = cart;
  res.redirect(303, "/cart");
});

app.get("/cart", (req, res) => {
  if (!req.session.user) return res.redirect(303, "/");
  const lines = Object.entries(req.session.cart || {})
    .filter(([id]) => byId.has(id))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, qty]) => ({ ...byId.get(id), qty }));
  const total = lines.reduce((t, l) => t + l.qty * l.price, 0);
  const body = lines.length
    ? `<table id="cart"><tr><th>Product</th><th class="num">Quantity</th><th class="num">Subtotal</th></tr>
${lines.map((l) => `<tr data-product="${l.id}"><td>${esc(l.name)}</td><td class="num qty">${l.qty}</td><td class="num">${money(l.qty * l.price)}</td></tr>`).join("\n")}
<tr><th>Total</th><th></th><th class="num" id="total">${money(total)}</th></tr></table>`
    : `<p id="empty">Your cart is empty.</p>`;
  send(res, 200, page(req, "Your cart", `${body}\n<p><a href="/">Continue shopping</a></p>`));
});

app.post("/logout", (req, res, next) => {
  // destroy deletes the key in sessiond (DEL); the cookie is cleared too.
  req.session.destroy((err) => {
    if (err) return next(err);
    res.clearCookie("shop.sid");
    res.redirect(303, "/");
  });
});

const server = app.listen(listen.port, listen.host, () => {
  console.log(`shop-node instance=${opts.instance} listening on http://${opts.addr}/ sessiond=${opts.sessiond}`);
});
server.on("error", (err) => {
  console.error(err.message);
  process.exit(1);
});
const stop = () => server.close(() => client.close().finally(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
