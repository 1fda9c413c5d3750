package resp

// opsCommands are the operator's commands: SLOWLOG, LATENCY, MONITOR,
// CLIENT PAUSE/UNPAUSE and CONFIG REWRITE.
func opsCommands() []*command {
	var out []*command
	for _, f := range [][]*command{slowlogCommands(), latencyCommands(), monitorCommands(), pauseCommands()} {
		out = append(out, f...)
	}
	return append(out,
		&command{name: "config|rewrite", arity: 2, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: "server", since: "2.8.0", summary: "Rewrite the configuration file with the in memory configuration", run: cmdConfigRewrite},
	)
}

func cmdConfigRewrite(x *call) {
	if x.s.cfg.File() == "" {
		x.r.error("ERR The server is running without a config file")
		return
	}
	if err := x.s.cfg.Rewrite(); err != nil {
		x.s.log.Warn("CONFIG REWRITE failed", "err", err)
		x.r.error("ERR Rewriting config file: " + err.Error())
		return
	}
	x.s.log.Info("CONFIG REWRITE executed with success")
	x.r.ok()
}
