package resp

import (
	"os"
	"strconv"
	"strings"
)

// infoExtras completes an INFO section with the fields Redis 7.0 prints
// that the section did not write itself: most have no meaning in sessiond
// (no allocator, no replication, no AOF) and are reported as zero, so that
// tools reading INFO by field name find every one. A field the section
// already wrote is never repeated.
func (s *Server) infoExtras(b *strings.Builder, section string, start int) {
	fields := infoExtraFields[section]
	if len(fields) == 0 {
		return
	}
	written := b.String()[start:]
	for _, f := range fields {
		if strings.Contains(written, "\r\n"+f[0]+":") || strings.HasPrefix(written, f[0]+":") {
			continue
		}
		v := f[1]
		switch f[0] {
		case "total_system_memory":
			v = strconv.FormatInt(totalSystemMemory(), 10)
		case "total_system_memory_human":
			v = humanBytes(totalSystemMemory())
		case "sync_full": // RDB transfers to redis-cli --rdb (cmd_sync.go)
			v = strconv.FormatInt(s.syncs.full.Load(), 10)
		case "tracking_total_keys", "tracking_total_items", "tracking_total_prefixes":
			_, keys, items, prefixes := s.trackStats()
			v = strconv.Itoa(map[string]int{"tracking_total_keys": keys, "tracking_total_items": items, "tracking_total_prefixes": prefixes}[f[0]])
		}
		b.WriteString(f[0] + ":" + v + "\r\n")
	}
}

var infoExtraFields = map[string][][2]string{
	"server": {{"atomicvar_api", "go-atomic"}, {"gcc_version", "0.0.0"}},
	"memory": {
		{"used_memory_peak_perc", "0.00%"}, {"used_memory_overhead", "0"}, {"used_memory_startup", "0"},
		{"used_memory_dataset", "0"}, {"used_memory_dataset_perc", "0.00%"}, {"allocator_allocated", "0"},
		{"allocator_active", "0"}, {"allocator_resident", "0"}, {"total_system_memory", ""},
		{"total_system_memory_human", ""}, {"used_memory_vm_eval", "0"}, {"used_memory_lua_human", "0B"},
		{"used_memory_scripts_eval", "0"}, {"number_of_cached_scripts", "0"}, {"number_of_functions", "0"},
		{"number_of_libraries", "0"}, {"used_memory_vm_functions", "0"}, {"used_memory_vm_total", "0"},
		{"used_memory_vm_total_human", "0B"}, {"used_memory_functions", "0"}, {"used_memory_scripts", "0"},
		{"used_memory_scripts_human", "0B"}, {"allocator_frag_ratio", "1.00"}, {"allocator_frag_bytes", "0"},
		{"allocator_rss_ratio", "1.00"}, {"allocator_rss_bytes", "0"}, {"rss_overhead_ratio", "1.00"},
		{"rss_overhead_bytes", "0"}, {"mem_fragmentation_bytes", "0"}, {"mem_not_counted_for_evict", "0"},
		{"mem_replication_backlog", "0"}, {"mem_total_replication_buffers", "0"}, {"mem_clients_slaves", "0"},
		{"mem_clients_normal", "0"}, {"mem_cluster_links", "0"}, {"mem_aof_buffer", "0"},
		{"active_defrag_running", "0"}, {"lazyfree_pending_objects", "0"}, {"lazyfreed_objects", "0"},
	},
	"persistence": {
		{"current_cow_size_age", "0"}, {"rdb_saves", "0"}, {"rdb_last_cow_size", "0"},
		{"rdb_last_load_keys_expired", "0"}, {"rdb_last_load_keys_loaded", "0"}, {"aof_last_rewrite_time_sec", "-1"},
		{"aof_current_rewrite_time_sec", "-1"}, {"aof_rewrites", "0"}, {"aof_rewrites_consecutive_failures", "0"},
		{"aof_last_cow_size", "0"}, {"module_fork_last_cow_size", "0"},
	},
	"stats": {
		{"total_net_repl_input_bytes", "0"}, {"total_net_repl_output_bytes", "0"}, {"instantaneous_input_kbps", "0.00"},
		{"instantaneous_output_kbps", "0.00"}, {"instantaneous_input_repl_kbps", "0.00"},
		{"instantaneous_output_repl_kbps", "0.00"}, {"sync_full", "0"}, {"sync_partial_ok", "0"},
		{"sync_partial_err", "0"}, {"expire_cycle_cpu_milliseconds", "0"}, {"evicted_clients", "0"},
		{"total_eviction_exceeded_time", "0"}, {"current_eviction_exceeded_time", "0"}, {"pubsubshard_channels", "0"},
		{"migrate_cached_sockets", "0"}, {"slave_expires_tracked_keys", "0"}, {"active_defrag_hits", "0"},
		{"active_defrag_misses", "0"}, {"active_defrag_key_hits", "0"}, {"active_defrag_key_misses", "0"},
		{"total_active_defrag_time", "0"}, {"current_active_defrag_time", "0"}, {"tracking_total_keys", "0"},
		{"tracking_total_items", "0"}, {"tracking_total_prefixes", "0"}, {"unexpected_error_replies", "0"},
		{"dump_payload_sanitizations", "0"}, {"total_reads_processed", "0"}, {"total_writes_processed", "0"},
		{"io_threaded_reads_processed", "0"}, {"io_threaded_writes_processed", "0"}, {"reply_buffer_shrinks", "0"},
		{"reply_buffer_expands", "0"},
	},
}

// totalSystemMemory reads MemTotal from /proc/meminfo (0 elsewhere).
func totalSystemMemory() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n * 1024
		}
	}
	return 0
}
