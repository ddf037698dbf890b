package all

import (
	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/modules/authlog"
	"github.com/cscs-dev/cscs/agent/modules/load"
)

// platformModules are the modules only some operating systems have.
func platformModules() []module.Module {
	return []module.Module{load.New(), authlog.New()}
}
