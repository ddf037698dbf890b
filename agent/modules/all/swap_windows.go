package all

import (
	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/modules/swap"
)

// newSwap reads the page file with the swap package's own Windows reader,
// whose errors name the PDH status and which falls back to
// GlobalMemoryStatusEx when the counter cannot be read.
func newSwap() module.Module { return swap.NewWithReader(swap.PageFileReader{}) }
