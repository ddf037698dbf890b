//go:build !linux && !darwin

package all

import "github.com/cscs-dev/cscs/agent/module"

// platformModules are the modules only some operating systems have; this
// one (Windows among others) has no load averages.
func platformModules() []module.Module { return nil }
