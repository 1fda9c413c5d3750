package resp_test

// Regression tests for the blocking-command review fixes: a TLS client
// that leaves while blocked, a list and a sorted-set client blocked on one
// key, the time spent blocked left out of SLOWLOG and commandstats, a
// blocked client woken while a script is busy, a timeout counted from when
// the command runs (not from the clock a script holds still), keymiss
// events from a woken BLMOVE, and BLMOVE's source against destination of
// the wrong type. They reuse block_test.go's helpers, and, where the
// scenario allows, run against redis-server too (blkTargets).

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/config"
	"sessiond/keyspace"
	"sessiond/resp"
)

const blkWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value"

// startTLSSessiond runs sessiond in-process with a plain and a TLS
// listener, as main does with tls-port (resp.MergeListeners), and returns
// both addresses.
func startTLSSessiond(t *testing.T, loops string) (plainAddr, tlsAddr string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sessiond test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}

	cfg := config.New()
	require.NoError(t, cfg.Set("dir", t.TempDir()))
	require.NoError(t, cfg.Set("event-loops", loops))
	ks, err := keyspace.New(keyspace.Options{Stripes: 64})
	require.NoError(t, err)
	srv := resp.NewServer(resp.Options{Keyspace: ks, Config: cfg})
	require.NoError(t, srv.LoadACLFile())
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	tln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		plain.Close()
		require.NoError(t, err)
	}
	require.NoError(t, cfg.Set("addr", plain.Addr().String()))
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(resp.MergeListeners(nil, plain, tln))
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return plain.Addr().String(), tln.Addr().String()
}

// TestBlockReviewTLSClientLeaves: a client blocked over TLS that closes
// its connection (with a close_notify alert, or just the socket) is no
// longer blocked, and takes nothing: an element pushed afterwards stays.
// It was never watched for hang-up, so it stayed blocked and took the
// next element.
func TestBlockReviewTLSClientLeaves(t *testing.T) {
	for _, loops := range blkModes() {
		t.Run("sessiond-event-loops="+loops, func(t *testing.T) {
			t.Parallel()
			plain, tlsAddr := startTLSSessiond(t, loops)
			e := newBlkEnv(t, plain)
			for _, how := range []string{"tls-close", "socket-close"} {
				key := "q-" + how
				d := &net.Dialer{Timeout: 2 * time.Second}
				tc, err := tls.DialWithDialer(d, "tcp", tlsAddr, &tls.Config{InsecureSkipVerify: true})
				require.NoError(t, err)
				t.Cleanup(func() { tc.Close() })
				w := &blkConn{t: t, nc: tc, br: bufio.NewReader(tc)}
				w.run(blkStep{"PING", "+PONG"})
				w.send("BLPOP " + key + " 0")
				e.waitBlocked(1)
				if how == "tls-close" {
					require.NoError(t, tc.Close())
				} else {
					require.NoError(t, tc.NetConn().Close())
				}
				e.waitBlocked(0)
				e.ctl.run(blkStep{"RPUSH " + key + " job1", ":1"})
				e.ctl.quiet() // a late wake-up would take it now
				e.ctl.run(blkStep{"LLEN " + key, ":1"})
			}
		})
	}
}

// TestBlockReviewMixedKinds: a BLPOP and then a BZPOPMIN blocked on one
// key: a ZADD serves the BZPOPMIN although the BLPOP blocked first (it
// was stuck behind it), the BLPOP waits on, and a list pushed there later
// serves it.
func TestBlockReviewMixedKinds(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		a, b := e.dial(2), e.dial(2)
		a.send("BLPOP k 0")
		e.waitBlocked(1)
		b.send("BZPOPMIN k 0")
		e.waitBlocked(2)
		e.ctl.run(blkStep{"ZADD k 1 m", ":1"})
		require.Equal(t, `["k" "m" "1"]`, b.recv())
		a.quiet()
		e.waitBlocked(1)
		e.ctl.run(blkStep{"DEL k", ":0"}, blkStep{"RPUSH k x", ":1"})
		require.Equal(t, `["k" "x"]`, a.recv())
		e.waitBlocked(0)
		e.ctl.run(blkStep{"EXISTS k", ":0"})

		// The other way round: the list client is served past the
		// sorted-set client.
		b.send("BZPOPMAX k 0")
		e.waitBlocked(1)
		a.send("BRPOP k 0")
		e.waitBlocked(2)
		e.ctl.run(blkStep{"RPUSH k y", ":1"})
		require.Equal(t, `["k" "y"]`, a.recv())
		b.quiet()
		e.ctl.run(blkStep{"ZADD k 2 n", ":1"})
		require.Equal(t, `["k" "n" "2"]`, b.recv())
		e.waitBlocked(0)
	})
}

var blkCmdstatRE = regexp.MustCompile(`(?m)^cmdstat_(\w+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+),`)

// cmdstat is INFO commandstats' calls and usec_per_call for cmd.
func (e *blkEnv) cmdstat(cmd string) (calls int, usecPerCall float64) {
	e.t.Helper()
	v := e.ctl.req("INFO", "commandstats")
	for _, m := range blkCmdstatRE.FindAllStringSubmatch(v.str, -1) {
		if m[1] == cmd {
			calls, _ = strconv.Atoi(m[2])
			usecPerCall, _ = strconv.ParseFloat(m[3], 64)
			return calls, usecPerCall
		}
	}
	e.t.Fatalf("no cmdstat_%s in %q", cmd, v.str)
	return 0, 0
}

// TestBlockReviewSlowlogExcludesWait: the time a client spends blocked is
// not the command's: a BLPOP that waits 300 ms, to time out or to be
// served, is not slower than slowlog-log-slower-than 10 ms, and INFO
// commandstats gives it a small usec_per_call, as in Redis.
func TestBlockReviewSlowlogExcludesWait(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		e.ctl.run(
			blkStep{"CONFIG SET slowlog-log-slower-than 10000", "+OK"},
			blkStep{"SLOWLOG RESET", "+OK"},
			blkStep{"CONFIG RESETSTAT", "+OK"},
		)
		w := e.dial(2)
		start := time.Now()
		require.Equal(t, "*-1", w.do("BLPOP x 0.3"))
		require.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "BLPOP returned early")

		w.send("BRPOP y 0")
		e.waitBlocked(1)
		time.Sleep(300 * time.Millisecond)
		e.ctl.run(blkStep{"RPUSH y v", ":1"})
		require.Equal(t, `["y" "v"]`, w.recv())

		log := e.ctl.do("SLOWLOG GET 128")
		lower := strings.ToLower(log)
		require.NotContains(t, lower, `"blpop"`, "SLOWLOG: %s", log)
		require.NotContains(t, lower, `"brpop"`, "SLOWLOG: %s", log)
		for _, cmd := range []string{"blpop", "brpop"} {
			calls, perCall := e.cmdstat(cmd)
			require.Equal(t, 1, calls, "cmdstat_%s calls", cmd)
			require.Less(t, perCall, 100000.0, "cmdstat_%s usec_per_call counts the time blocked", cmd)
		}
	})
}

// TestBlockReviewWokenDuringBusyScript: a client blocked on a key that a
// script pushes to, and that then runs past busy-reply-threshold, gets
// the element once the script is over, as in Redis, not a BUSY error.
func TestBlockReviewWokenDuringBusyScript(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		e.ctl.run(blkStep{"CONFIG SET busy-reply-threshold 200", "+OK"})
		a, b := e.dial(2), e.dial(2)
		a.send("BLPOP q 0")
		e.waitBlocked(1)
		b.sendArgs("EVAL", "redis.call('lpush', KEYS[1], 'x')\n"+busyScript(1000), "1", "q")
		require.Equal(t, "$-1", b.recv())
		require.Equal(t, `["q" "x"]`, a.recv())
		e.waitBlocked(0)
		e.ctl.run(blkStep{"LLEN q", ":0"})
	})
}

// TestBlockReviewTimeoutAfterScript: a BLPOP sent while another client's
// script runs (not yet busy) runs when the script is over, and its
// timeout counts from then, as in Redis: it does not time out at once
// because the keyspace's clock stood still at the script's start, nor
// because it waited for the script. The client has blocked once before,
// so that its connection is on a goroutine of its own (on an event loop
// it would wait with the loop). The script records when it started: on a
// machine so slow that it started after the BLPOP was sent, the order
// this is about did not happen, and the test tries again.
func TestBlockReviewTimeoutAfterScript(t *testing.T) {
	script := "local t0 = redis.call('time')\nredis.call('set', KEYS[1], t0[1] .. ' ' .. t0[2])\n" + busyScript(1500)
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		a, b := e.dial(2), e.dial(2)
		a.send("BLPOP w 0")
		e.waitBlocked(1)
		e.ctl.run(blkStep{"RPUSH w v", ":1"})
		require.Equal(t, `["w" "v"]`, a.recv())
		e.waitBlocked(0)

		for attempt := 1; ; attempt++ {
			b.sendArgs("EVAL", script, "1", "started")
			time.Sleep(300 * time.Millisecond) // the script runs
			sent := time.Now()
			a.send("BLPOP q 1")
			require.Equal(t, "$-1", b.recv())
			scriptEnd := time.Now()
			a.nc.SetReadDeadline(time.Now().Add(blkReplyWait))
			v, err := readReply(a.br)
			require.NoError(t, err, "no reply to BLPOP q 1")
			after := time.Since(scriptEnd)
			require.Equal(t, "*-1", blkRender(v))

			var sec, usec int64
			_, err = fmt.Sscanf(e.ctl.req("GET", "started").str, "%d %d", &sec, &usec)
			require.NoError(t, err)
			if started := time.Unix(sec, usec*1000); started.After(sent) {
				require.Less(t, attempt, 3, "the script started %v after BLPOP was sent, every time", started.Sub(sent))
				t.Logf("the script started %v after BLPOP was sent: again", started.Sub(sent))
				continue
			}
			require.GreaterOrEqual(t, after, 800*time.Millisecond, "BLPOP q 1 timed out %v after the script ended", after)
			return
		}
	})
}

// blkEvents reads sub's keyevent messages, as "event key", up to the
// marker published on __keymarker__:end.
func blkEvents(t *testing.T, sub *blkConn) []string {
	t.Helper()
	var out []string
	for {
		v, err := sub.readRV()
		require.NoError(t, err, "waiting for the marker after %q", out)
		require.Equal(t, byte('*'), v.typ, "%s", blkRender(v))
		require.Len(t, v.elems, 4, "%s", blkRender(v))
		ch := v.elems[2].str
		if ch == "__keymarker__:end" {
			return out
		}
		out = append(out, strings.TrimPrefix(ch, "__keyevent@0__:")+" "+v.elems[3].str)
	}
}

// TestBlockReviewBlmoveEvents: a BLMOVE that blocks and is then served,
// and one whose destination turns out to be a string, cause Redis's
// keyevents and no more: no keymiss for their source (which a type
// lookup on the empty source caused) or their destination.
func TestBlockReviewBlmoveEvents(t *testing.T) {
	want := map[string][]string{
		"KEAm": {"rpush src", "lpush dst", "lpop src", "del src", "set s2", "rpush s3"},
		"Em":   nil,
	}
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		for _, events := range []string{"KEAm", "Em"} {
			e.ctl.run(blkStep{"FLUSHALL", "+OK"}, blkStep{"CONFIG SET notify-keyspace-events " + events, "+OK"})
			sub := e.dial(2)
			sub.send("PSUBSCRIBE __keyevent@0__:* __keymarker__:*")
			require.Equal(t, `["psubscribe" "__keyevent@0__:*" :1]`, sub.recv())
			require.Equal(t, `["psubscribe" "__keymarker__:*" :2]`, sub.recv())

			w := e.dial(2)
			w.send("BLMOVE src dst LEFT LEFT 0")
			e.waitBlocked(1)
			e.ctl.run(blkStep{"RPUSH src x", ":1"})
			require.Equal(t, `"x"`, w.recv())
			e.waitBlocked(0)

			w.run(blkStep{"SET s2 str", "+OK"})
			w.send("BLMOVE s3 s2 LEFT LEFT 0")
			e.waitBlocked(1)
			e.ctl.run(blkStep{"RPUSH s3 y", ":1"})
			require.Equal(t, blkWrongType, w.recv())
			e.waitBlocked(0)

			e.ctl.run(blkStep{"PUBLISH __keymarker__:end done", ":1"})
			require.Equal(t, want[events], blkEvents(t, sub), "notify-keyspace-events %s", events)
			sub.nc.Close()
		}
	})
}

// TestBlockReviewBlmoveWrongTypes: a blocked BLMOVE (or BRPOPLPUSH) whose
// source becomes a string stays blocked, and is served once the source is
// a list again; one served from its source whose destination is a string
// fails with WRONGTYPE, and the source keeps its element, as in Redis.
func TestBlockReviewBlmoveWrongTypes(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		for _, block := range []string{"BLMOVE src dst LEFT LEFT 0", "BRPOPLPUSH src dst 0"} {
			e.ctl.run(blkStep{"FLUSHALL", "+OK"})
			w := e.dial(2)
			w.send(block)
			e.waitBlocked(1)
			e.ctl.run(blkStep{"SET src str", "+OK"})
			w.quiet()
			require.Equal(t, 1, e.blocked(), "%s: a string source", block)
			e.ctl.run(blkStep{"DEL src", ":1"}, blkStep{"RPUSH src x", ":1"})
			require.Equal(t, `"x"`, w.recv(), block)
			e.waitBlocked(0)
			e.ctl.run(blkStep{"LRANGE dst 0 -1", `["x"]`}, blkStep{"EXISTS src", ":0"})

			e.ctl.run(blkStep{"SET dst str", "+OK"})
			w.send(block)
			e.waitBlocked(1)
			e.ctl.run(blkStep{"RPUSH src y", ":1"})
			require.Equal(t, blkWrongType, w.recv(), "%s: a string destination", block)
			e.waitBlocked(0)
			e.ctl.run(blkStep{"LRANGE src 0 -1", `["y"]`}, blkStep{"GET dst", `"str"`})
			w.run(blkStep{"PING", "+PONG"})
		}
	})
}

// TestBlockReviewWrongDestinationPassesOn: a BLMOVE woken with a string
// destination fails, and the element goes to the next client in line.
func TestBlockReviewWrongDestinationPassesOn(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		e.ctl.run(blkStep{"SET s str", "+OK"})
		a, b := e.dial(2), e.dial(2)
		a.send("BLMOVE src s LEFT LEFT 0")
		e.waitBlocked(1)
		b.send("BLPOP src 0")
		e.waitBlocked(2)
		e.ctl.run(blkStep{"RPUSH src x", ":1"})
		require.Equal(t, blkWrongType, a.recv())
		require.Equal(t, `["src" "x"]`, b.recv())
	})
}

// TestBlockReviewDeadlineDuringScript: Redis times blocked clients out
// between commands, so a deadline that passes while a script runs does
// not beat the script's own push.
func TestBlockReviewDeadlineDuringScript(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		a, b := e.dial(2), e.dial(2)
		a.send("BLPOP q 0.3")
		e.waitBlocked(1)
		b.sendArgs("EVAL", busyScript(800)+"\nredis.call('rpush', KEYS[1], 'x')", "1", "q")
		b.recv()
		require.Equal(t, `["q" "x"]`, a.recv())
		e.ctl.run(blkStep{"LLEN q", ":0"})
	})
}

// TestBlockReviewLeavesDuringBusyScript: a client that disconnects while
// a busy script holds off its wake-up does not take the element after it.
func TestBlockReviewLeavesDuringBusyScript(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		e.ctl.run(blkStep{"CONFIG SET busy-reply-threshold 100", "+OK"})
		a, b := e.dial(2), e.dial(2)
		a.send("BLPOP q 0")
		e.waitBlocked(1)
		b.sendArgs("EVAL", "redis.call('lpush', KEYS[1], 'x')\n"+busyScript(1000), "1", "q")
		time.Sleep(400 * time.Millisecond)
		a.nc.Close()
		b.recv()
		time.Sleep(200 * time.Millisecond)
		e.ctl.run(blkStep{"LLEN q", ":1"})
	})
}

// A blocked client whose wake-up a busy script held off (pending) leaves:
// the key must pass on to the next client blocked on it.
func TestBlockReviewLeaverPassesPendingKey(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		e.ctl.run(blkStep{"CONFIG SET busy-reply-threshold 100", "+OK"})
		a, b, c := e.dial(2), e.dial(2), e.dial(2)
		a.send("BLPOP q 0")
		e.waitBlocked(1)
		c.send("BLPOP q 0")
		e.waitBlocked(2)
		b.sendArgs("EVAL", "redis.call('lpush', KEYS[1], 'x')\n"+busyScript(1000), "1", "q")
		time.Sleep(400 * time.Millisecond)
		a.nc.Close()
		b.recv()
		require.Equal(t, `["q" "x"]`, c.recv())
	})
}

// A client whose deadline passes during a busy script and which then
// leaves must not take the script's element.
func TestBlockReviewTimedOutLeaverDuringBusyScript(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		e.ctl.run(blkStep{"CONFIG SET busy-reply-threshold 100", "+OK"})
		a, b := e.dial(2), e.dial(2)
		a.send("BLPOP q 0.3")
		e.waitBlocked(1)
		b.sendArgs("EVAL", "redis.call('lpush', KEYS[1], 'x')\n"+busyScript(1000), "1", "q")
		time.Sleep(500 * time.Millisecond)
		a.nc.Close()
		b.recv()
		time.Sleep(200 * time.Millisecond)
		e.ctl.run(blkStep{"LLEN q", ":1"})
	})
}

// A command refused with BUSY during the script (any client's) must not
// cost the blocked client its place: the script's push serves it before
// the script's client's next command, as in Redis.
func TestBlockReviewBusyRefusalKeepsOrder(t *testing.T)   { blockBusyOrder(t, true) }
func TestBlockReviewBusyNoRefusalKeepsOrder(t *testing.T) { blockBusyOrder(t, false) }

func blockBusyOrder(t *testing.T, withD bool) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		e.ctl.run(blkStep{"CONFIG SET busy-reply-threshold 100", "+OK"})
		a, b, d := e.dial(2), e.dial(2), e.dial(2)
		a.send("BLPOP q 0")
		e.waitBlocked(1)
		b.send("PING") // b leaves the event loop first: its later EVAL must not hold the loop
		require.Equal(t, "+PONG", b.recv())
		b.write(append(encodeCommand([]string{"EVAL", "redis.call('lpush', KEYS[1], 'x')\n" + busyScript(600), "1", "q"}), encodeCommand([]string{"LPOP", "q"})...))
		time.Sleep(300 * time.Millisecond)
		if withD {
			d.send("GET k") // refused with BUSY, and it serves blocked clients after it
			d.recv()
		}
		require.Equal(t, "$-1", b.recv())
		require.Equal(t, "$-1", b.recv(), "the script's client popped the blocked client's element")
		require.Equal(t, `["q" "x"]`, a.recv())
	})
}

// While other clients run commands (each runs serveBlocked after it), a
// client's pipelined RPUSH q x; LPOP q must still find the element gone.
func TestBlockReviewOtherClientsDoNotBreakOrder(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		defer wg.Wait()
		defer close(stop)
		for i := 0; i < 3; i++ {
			p := e.dial(2)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := p.nc.Write(encodeCommand([]string{"PING"})); err != nil {
						return
					}
					if _, err := p.br.ReadString('\n'); err != nil {
						return
					}
				}
			}()
		}
		a := e.dial(2)
		bad := 0
		for round := 0; round < 150; round++ {
			a.send("BLPOP q 0")
			e.waitBlocked(1)
			e.ctl.send("RPUSH q x", "LPOP q")
			e.ctl.recv()
			if got := e.ctl.recv(); got != "$-1" {
				bad++
				e.ctl.run(blkStep{"RPUSH q y", ":1"}) // a is still blocked: release it
			}
			a.recv()
			e.waitBlocked(0)
		}
		t.Logf("bad rounds: %d of 150", bad)
		require.Zero(t, bad, "LPOP took the blocked client's element")
	})
}
