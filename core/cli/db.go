package cli

import (
	"context"
	"fmt"
)

func dbInitCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "db init")
	s.dbFlags(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	store, err := openStore(ctx, s.dbPath)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs db init: %v\n", err)
		return ExitSomeFailed
	}
	defer store.Close()
	v, err := store.SchemaVersion(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs db init: %v\n", err)
		return ExitSomeFailed
	}
	fmt.Fprintf(env.Stdout, "%s: schema version %d\n", s.dbPath, v)
	return ExitOK
}
