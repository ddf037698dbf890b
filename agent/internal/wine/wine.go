// Package wine tells tests whether they run under Wine, which lacks some
// Windows APIs the agent uses (wevtapi queries, PDH counters): tests of
// those skip there, saying so.
package wine

// Env is set to 1 by `make test-windows`, which runs the tests under Wine;
// Running also finds Wine without it.
const Env = "CSCS_WINE"
