package cli

import (
	"context"
	"fmt"

	"github.com/cscs-dev/cscs/core/pipeline"
)

func dbInitCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "db init")
	s.dbFlags(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	if err := s.resolveDB(env); err != nil {
		fmt.Fprintf(env.Stderr, "cscs db init: %v\n", err)
		return ExitBadConfig
	}
	store, err := openStore(ctx, s.db)
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
	fmt.Fprintf(env.Stdout, "%s: schema version %d\n", pipeline.DisplayName(s.db), v)
	return ExitOK
}
