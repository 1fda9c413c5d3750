// Package e2e holds end-to-end tests of the storage architecture sessiond
// is built for, with real processes only: the example shops in examples/
// (Go with scs, Node with express-session and connect-redis) sharing one
// sessiond, two shop instances behind a round-robin HAProxy without
// sticky sessions, a headless Chromium as the user, and a sessiond restart
// in the middle (SIGTERM, snapshot, start again) that must not lose the
// cart.
//
// The tests need tools outside Go: node/npm (shop-node), haproxy and
// chromium (the architecture test). A missing tool skips the test loudly
// with the install command; under CI=true it fails instead. Artifacts
// (the cart page's screenshot) go to $E2E_ARTIFACTS, or a temporary
// directory whose path the test logs.
package e2e
