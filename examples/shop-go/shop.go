package main

import (
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/alexedwards/scs/v2"
)

// product is one thing for sale; prices are in cents.
type product struct {
	ID    string
	Name  string
	Price int
}

var products = []product{
	{"tea", "Green tea, 100 g", 450},
	{"mug", "Stoneware mug", 1200},
	{"honey", "Acacia honey, 250 g", 780},
	{"biscuits", "Oat biscuits", 320},
}

func findProduct(id string) (product, bool) {
	for _, p := range products {
		if p.ID == id {
			return p, true
		}
	}
	return product{}, false
}

// cart maps a product ID to a quantity. It is stored in the session as a
// whole on every change (scs serialises the session with gob).
type cart map[string]int

// line is one row of the cart page.
type line struct {
	product
	Qty      int
	Subtotal int
}

func (c cart) lines() (out []line, total int) {
	for id, qty := range c {
		p, ok := findProduct(id)
		if !ok {
			continue // a product that was withdrawn since it was added
		}
		out = append(out, line{p, qty, qty * p.Price})
		total += qty * p.Price
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, total
}

type shop struct {
	sm       *scs.SessionManager
	instance string
	log      *slog.Logger
}

// newShop returns the application's handler: every route runs inside
// scs's LoadAndSave, which loads the session from sessiond before the
// handler and writes it back (SET with a TTL) after.
func newShop(sm *scs.SessionManager, instance string, log *slog.Logger) http.Handler {
	s := &shop{sm: sm, instance: instance, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /cart/add", s.add)
	mux.HandleFunc("GET /cart", s.cartPage)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return sm.LoadAndSave(mux)
}

// page is what every template gets.
type page struct {
	Title    string
	Instance string
	User     string
	Products []product
	Lines    []line
	Total    int
	Count    int
	Error    string
}

func (s *shop) page(r *http.Request, title string) page {
	c, _ := s.sm.Get(r.Context(), "cart").(cart)
	n := 0
	for _, q := range c {
		n += q
	}
	return page{Title: title, Instance: s.instance, User: s.sm.GetString(r.Context(), "user"), Count: n}
}

func (s *shop) render(w http.ResponseWriter, status int, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // pages depend on the session
	w.WriteHeader(status)
	if err := tmpl.ExecuteTemplate(w, name, p); err != nil {
		s.log.Error("render", "template", name, "err", err)
	}
}

func (s *shop) home(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Shop")
	if p.User == "" {
		s.render(w, http.StatusOK, "login", p)
		return
	}
	p.Products = products
	s.render(w, http.StatusOK, "products", p)
}

func (s *shop) login(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.FormValue("name"))
	if name == "" || len(name) > 40 {
		p := s.page(r, "Shop")
		p.Error = "Please enter a name of 1 to 40 characters."
		s.render(w, http.StatusBadRequest, "login", p)
		return
	}
	// A new token on every change of privilege prevents session fixation.
	if err := s.sm.RenewToken(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.sm.Put(r.Context(), "user", name)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *shop) add(w http.ResponseWriter, r *http.Request) {
	if s.sm.GetString(r.Context(), "user") == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	p, ok := findProduct(r.FormValue("product"))
	if !ok {
		http.Error(w, "no such product", http.StatusNotFound)
		return
	}
	// Copy before changing: the value came out of the session's map.
	c := cart{}
	if old, ok := s.sm.Get(r.Context(), "cart").(cart); ok {
		for k, v := range old {
			c[k] = v
		}
	}
	c[p.ID]++
	s.sm.Put(r.Context(), "cart", c)
	http.Redirect(w, r, "/cart", http.StatusSeeOther)
}

func (s *shop) cartPage(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "Your cart")
	if p.User == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	c, _ := s.sm.Get(r.Context(), "cart").(cart)
	p.Lines, p.Total = c.lines()
	s.render(w, http.StatusOK, "cart", p)
}

func (s *shop) logout(w http.ResponseWriter, r *http.Request) {
	// Destroy deletes the key in sessiond (DEL) and expires the cookie.
	if err := s.sm.Destroy(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func money(cents int) string { return fmt.Sprintf("€%d.%02d", cents/100, cents%100) }

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{"money": money}).Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
header,footer{display:flex;justify-content:space-between;align-items:center;gap:1rem}
footer{margin-top:2rem;color:#666;font-size:.9rem;border-top:1px solid #ddd;padding-top:.5rem}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem;border-bottom:1px solid #eee;text-align:left}
td.num,th.num{text-align:right}form.inline{display:inline}.error{color:#b00}
</style></head><body>
<header><h1>{{.Title}}</h1>{{if .User}}<nav>Hello, <b id="user">{{.User}}</b> ·
<a href="/">Products</a> · <a id="cart-link" href="/cart">Cart (<span id="cart-count">{{.Count}}</span>)</a> ·
<form class="inline" method="post" action="/logout"><button id="logout">Log out</button></form></nav>{{end}}</header>
{{end}}
{{define "foot"}}<footer><span>Sessions are kept in sessiond.</span><span>Served by instance <b id="instance">{{.Instance}}</b></span></footer>
</body></html>{{end}}

{{define "login"}}{{template "head" .}}
<p>Log in with any name to start shopping.</p>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<form method="post" action="/login"><label>Name <input id="name" name="name" autofocus required maxlength="40"></label>
<button id="login">Log in</button></form>
{{template "foot" .}}{{end}}

{{define "products"}}{{template "head" .}}
<table id="products"><tr><th>Product</th><th class="num">Price</th><th></th></tr>
{{range .Products}}<tr data-product="{{.ID}}"><td>{{.Name}}</td><td class="num">{{money .Price}}</td>
<td><form method="post" action="/cart/add"><input type="hidden" name="product" value="{{.ID}}">
<button id="add-{{.ID}}">Add to cart</button></form></td></tr>
{{end}}</table>
{{template "foot" .}}{{end}}

{{define "cart"}}{{template "head" .}}
{{if .Lines}}<table id="cart"><tr><th>Product</th><th class="num">Quantity</th><th class="num">Subtotal</th></tr>
{{range .Lines}}<tr data-product="{{.ID}}"><td>{{.Name}}</td><td class="num qty">{{.Qty}}</td><td class="num">{{money .Subtotal}}</td></tr>
{{end}}<tr><th>Total</th><th></th><th class="num" id="total">{{money .Total}}</th></tr></table>
{{else}}<p id="empty">Your cart is empty.</p>{{end}}
<p><a href="/">Continue shopping</a></p>
{{template "foot" .}}{{end}}
`))
