//go:build !windows

package all

import (
	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/modules/swap"
)

// newSwap is the swap module reading the host its default way.
func newSwap() module.Module { return swap.New() }
