package cli

import (
	"context"
	"fmt"

	"github.com/cscs-dev/cscs/core/identity"
)

func keysShowCommand(_ context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "keys show")
	s.dataFlags(fs, env)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	id, created, err := identity.LoadOrCreate(s.dataDir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs keys show: %v\n", err)
		return ExitSomeFailed
	}
	if created {
		fmt.Fprintf(env.Stderr, "created a new core key in %s\n", s.dataDir)
	}
	fmt.Fprintln(env.Stdout, id.Recipient().String())
	return ExitOK
}
