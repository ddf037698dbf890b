package all

import (
	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/modules/eventlog"
)

// platformModules are the modules only some operating systems have: on
// Windows the event log reader (and no load averages).
func platformModules() []module.Module { return []module.Module{eventlog.New()} }
