//go:build !linux && !darwin && !windows

package all

import "github.com/cscs-dev/cscs/agent/module"

// platformModules are the modules only some operating systems have; the
// other systems have neither load averages nor a log module.
func platformModules() []module.Module { return nil }
