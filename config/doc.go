// Package config holds sessiond's configuration parameters in one table
// (Params) that drives the command-line flags, the redis.conf-style config
// file and CONFIG GET/SET, so the three can never disagree.
//
// Precedence, lowest first: the defaults in Params, the file named by
// --config, command-line flags, then CONFIG SET at run time (mutable
// parameters only). Every value is validated by its parameter's Check and
// held in canonical form (sizes in bytes, booleans as yes/no, durations as
// Go durations), which is what CONFIG GET returns.
//
// Parameters marked Inert are accepted and reported so that tools and
// client libraries written for Redis keep working, but change nothing.
package config
