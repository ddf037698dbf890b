// Package all lists the built-in modules the agent offers on the operating
// system it was built for.
package all

import (
	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/modules/cpu"
	"github.com/cscs-dev/cscs/agent/modules/disk"
	"github.com/cscs-dev/cscs/agent/modules/memory"
	agentnet "github.com/cscs-dev/cscs/agent/modules/net"
	"github.com/cscs-dev/cscs/agent/modules/uptime"
)

// Builtin returns a fresh list of the modules available on this operating
// system, in the order an empty request runs them.
func Builtin() []module.Module {
	mods := []module.Module{cpu.New(), memory.New(), newSwap(), uptime.New(), disk.New(), agentnet.New()}
	return append(mods, platformModules()...)
}
