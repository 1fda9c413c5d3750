package resp

// MODULE, as a Redis 7.0.15 with no modules loaded answers it: MODULE
// LIST is empty and MODULE HELP is Redis's text. sessiond cannot load
// modules (they are C shared objects written against Redis's internals),
// so MODULE LOAD and LOADEX fail with Redis's reply to a module that does
// not load, and MODULE UNLOAD with Redis's reply for a name that is not
// loaded. LOAD, LOADEX and UNLOAD are protected commands, refused with
// Redis's error unless enable-module-command allows them (dispatch).

func moduleCommands() []*command {
	const g = "server"
	const fl = flagNoAsyncLoading | flagAdmin | flagNoScript | flagProtected
	return []*command{
		{name: "module", arity: -2, group: g, since: "4.0.0", summary: "A container for module commands"},
		{name: "module|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "5.0.0", summary: "Show helpful text about the different subcommands", run: cmdModuleHelp},
		{name: "module|list", arity: 2, flags: flagAdmin | flagNoScript, group: g, since: "4.0.0", summary: "List all modules loaded by the server", run: cmdModuleList},
		{name: "module|load", arity: -3, flags: fl, group: g, since: "4.0.0", summary: "Load a module", run: cmdModuleLoad},
		{name: "module|loadex", arity: -3, flags: fl, group: g, since: "7.0.0", summary: "Load a module with extended parameters", run: cmdModuleLoad},
		{name: "module|unload", arity: 3, flags: fl, group: g, since: "4.0.0", summary: "Unload a module", run: cmdModuleUnload},
	}
}

func cmdModuleHelp(x *call) {
	x.help("MODULE",
		"LIST",
		"    Return a list of loaded modules.",
		"LOAD <path> [<arg> ...]",
		"    Load a module library from <path>, passing to it any optional arguments.",
		"LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
		"    Load a module library from <path>, while passing it module configurations and optional arguments.",
		"UNLOAD <name>",
		"    Unload a module.",
	)
}

// cmdModuleList is MODULE LIST: no module is loaded.
func cmdModuleList(x *call) { x.r.array(0) }

// cmdModuleLoad is MODULE LOAD and LOADEX: the module does not load, and
// the log says why, as Redis's does for a module that fails to.
func cmdModuleLoad(x *call) {
	x.s.log.Warn("module failed to load: sessiond cannot load Redis modules", "path", cstr(x.args[2]))
	x.r.error("ERR Error loading the extension. Please check the server logs.")
}

func cmdModuleUnload(x *call) {
	x.r.error("ERR Error unloading module: no such module with that name")
}
