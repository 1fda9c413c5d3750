// Command shop-go is a small shop whose cart lives in the session, and the
// session lives in sessiond: net/http, github.com/alexedwards/scs/v2 and its
// goredisstore (go-redis v9). Any number of instances can run behind a
// round-robin load balancer without sticky sessions, because no instance
// keeps anything in memory between requests.
//
//	go run ./examples/shop-go            # sessiond on 127.0.0.1:6379
//	go run ./examples/shop-go --addr :8081 --instance b --sessiond 10.0.0.5:6379
package main

import (
	"context"
	"encoding/gob"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
)

// env returns the environment variable name, or def when it is unset.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func main() {
	host, _ := os.Hostname()
	addr := flag.String("addr", env("SHOP_ADDR", "127.0.0.1:8080"), "HTTP listen address (env SHOP_ADDR)")
	sessiondAddr := flag.String("sessiond", env("SESSIOND_ADDR", "127.0.0.1:6379"), "sessiond address host:port (env SESSIOND_ADDR)")
	password := flag.String("sessiond-password", env("SESSIOND_PASSWORD", ""), "sessiond requirepass, if set (env SESSIOND_PASSWORD)")
	instance := flag.String("instance", env("SHOP_INSTANCE", host), "instance name shown on every page (env SHOP_INSTANCE)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("instance", *instance)

	client := redis.NewClient(&redis.Options{Addr: *sessiondAddr, Password: *password})
	defer client.Close()
	sm := newSessionManager(client)

	srv := &http.Server{Addr: *addr, Handler: newShop(sm, *instance, log), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("shop listening", "addr", *addr, "sessiond", *sessiondAddr)
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "shop-go:", err)
			os.Exit(1)
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}
}

// newSessionManager keeps sessions in sessiond under scs's default key
// prefix, "scs:session:<token>", with a TTL equal to the session's expiry.
func newSessionManager(client *redis.Client) *scs.SessionManager {
	sm := scs.New()
	sm.Store = goredisstore.New(client)
	sm.Lifetime = 24 * time.Hour
	sm.IdleTimeout = time.Hour // every request pushes the TTL forward
	sm.Cookie.Name = "shop_session"
	sm.Cookie.HttpOnly = true
	// Lax keeps the cookie off cross-site POSTs: the forms need no CSRF token
	// for this demo (a real shop should add one).
	sm.Cookie.SameSite = http.SameSiteLaxMode
	return sm
}

func init() {
	// scs encodes session values with gob; a cart is a named map type.
	gob.Register(cart{})
}
