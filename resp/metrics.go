package resp

import (
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sessiond/keyspace"
)

// Metrics for Prometheus are read at scrape time from the counters INFO
// uses (a prometheus.Collector), so they add nothing to the command path.

// MetricsHandler serves --metrics-addr: /metrics (Prometheus), /healthz
// (200 while the process is up) and /readyz (503 while a snapshot loads).
func (s *Server) MetricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		metricsCollector{s},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if s.loading.Load() {
			http.Error(w, "loading the dataset", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("sessiond_"+name, help, labels, nil)
}

var (
	mCommands       = desc("commands_total", "Commands run, by command (INFO commandstats calls).", "cmd")
	mCommandErrors  = desc("command_errors_total", "Commands answered with an error, by command: rejected before running or failed while running.", "cmd")
	mCommandLatency = desc("command_duration_seconds", "Command execution time, by command (INFO latencystats).", "cmd")
	mErrorReplies   = desc("error_replies_total", "Error replies by error prefix (INFO errorstats).", "prefix")
	mClients        = desc("connected_clients", "Connected clients.")
	mConnections    = desc("connections_received_total", "Connections accepted.")
	mRejectedConns  = desc("rejected_connections_total", "Connections refused at maxclients.")
	mKeys           = desc("keys", "Keys per database (may count expired keys not yet reclaimed).", "db")
	mExpiringKeys   = desc("expiring_keys", "Keys with a deadline, per database.", "db")
	mAvgTTL         = desc("avg_ttl_seconds", "Mean time to live of the keys with a deadline, per database (INFO's avg_ttl).", "db")
	mExpired        = desc("expired_keys_total", "Keys deleted because their deadline passed.")
	mEvicted        = desc("evicted_keys_total", "Keys evicted at maxmemory.")
	mHits           = desc("keyspace_hits_total", "Key lookups that found the key.")
	mMisses         = desc("keyspace_misses_total", "Key lookups that did not.")
	mUsedMemory     = desc("used_memory_bytes", "Go heap in use (INFO used_memory).")
	mRSS            = desc("used_memory_rss_bytes", "Resident set size (INFO used_memory_rss).")
	mLoading        = desc("loading", "1 while the snapshot is being loaded at start.")
	mSnapRunning    = desc("snapshot_in_progress", "1 while a snapshot is being written.")
	mSnapLastOK     = desc("snapshot_last_success", "1 if the last snapshot succeeded.")
	mSnapLastTime   = desc("snapshot_last_success_timestamp_seconds", "Unix time of the last successful snapshot.")
	mSnapAge        = desc("snapshot_age_seconds", "Seconds since the last successful snapshot.")
	mSnapDuration   = desc("snapshot_last_duration_seconds", "How long the last snapshot took.")
	mSnapChanges    = desc("changes_since_last_snapshot", "Writes since the last successful snapshot.")
	mUptime         = desc("uptime_seconds", "Seconds since the server started.")
	mSlowlogLen     = desc("slowlog_length", "Entries in the slow log.")
)

// latencyBucketsExp are the histogram's exported bounds: every power of two
// nanoseconds from 2^10 (about 1 µs) to 2^30 (about 1.07 s); they are bucket
// edges of the per-command histogram, so the counts are exact.
const latencyBucketsMinExp, latencyBucketsMaxExp = 10, 30

type metricsCollector struct{ s *Server }

func (m metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mCommands, mCommandErrors, mCommandLatency, mErrorReplies, mClients, mConnections,
		mRejectedConns, mKeys, mExpiringKeys, mAvgTTL, mExpired, mEvicted, mHits, mMisses, mUsedMemory, mRSS, mLoading, mSnapRunning,
		mSnapLastOK, mSnapLastTime, mSnapAge, mSnapDuration, mSnapChanges, mUptime, mSlowlogLen} {
		ch <- d
	}
}

func (m metricsCollector) Collect(ch chan<- prometheus.Metric) {
	s := m.s
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, c := range s.table.allCommands() {
		st := &c.stats
		calls, errs := st.calls.Load(), st.failed.Load()+st.rejected.Load()
		if calls == 0 && errs == 0 {
			continue
		}
		counter(mCommands, float64(calls), c.name)
		counter(mCommandErrors, float64(errs), c.name)
		counts, total := st.hist.counts()
		if total == 0 {
			continue
		}
		buckets := make(map[float64]uint64, latencyBucketsMaxExp-latencyBucketsMinExp+1)
		var cum uint64
		i := 0
		for e := latencyBucketsMinExp; e <= latencyBucketsMaxExp; e++ {
			for end := histIndex(1 << e); i < end; i++ {
				cum += uint64(counts[i])
			}
			buckets[float64(int64(1)<<e)/1e9] = cum
		}
		ch <- prometheus.MustNewConstHistogram(mCommandLatency, uint64(total), float64(st.nanos.Load())/1e9, buckets, c.name)
	}
	for prefix, n := range s.errStats.snapshot() {
		counter(mErrorReplies, float64(n), prefix)
	}
	s.mu.Lock()
	nc := len(s.clients)
	s.mu.Unlock()
	gauge(mClients, float64(nc))
	counter(mConnections, float64(s.totalConns.Load()))
	counter(mRejectedConns, float64(s.rejectedConns.Load()))
	for i := range keyspace.NumDBs {
		keys, exp := s.ks.Size(i)
		db := strconv.Itoa(i)
		gauge(mKeys, float64(keys), db)
		gauge(mExpiringKeys, float64(exp), db)
		gauge(mAvgTTL, float64(s.avgTTL(i, exp))/1000, db)
	}
	st := s.ks.Stats()
	counter(mExpired, float64(st.ExpiredKeys))
	counter(mEvicted, float64(st.EvictedKeys))
	counter(mHits, float64(st.KeyHits))
	counter(mMisses, float64(st.KeyMisses))
	gauge(mUsedMemory, float64(heapInUse()))
	gauge(mRSS, float64(readRSS()))
	gauge(mLoading, float64(b2i(s.loading.Load())))
	if s.persist != nil {
		pi := s.persist.Info()
		gauge(mSnapRunning, float64(b2i(pi.BGSaveInProgress)))
		gauge(mSnapLastOK, float64(b2i(pi.LastBGSaveOK)))
		gauge(mSnapLastTime, float64(pi.LastSaveTime))
		gauge(mSnapAge, time.Since(time.Unix(pi.LastSaveTime, 0)).Seconds())
		gauge(mSnapDuration, pi.LastDuration.Seconds())
		gauge(mSnapChanges, float64(pi.ChangesSinceSave))
	}
	gauge(mUptime, time.Since(s.started).Seconds())
	s.slowMu.Lock()
	n := len(s.slowEntries)
	s.slowMu.Unlock()
	gauge(mSlowlogLen, float64(n))
}

// heapInUse is INFO's used_memory: the Go heap's live and not yet swept objects.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
