package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/round"
)

// spoolListCommand lists what waits in the spools of the data directory:
// the rounds a storage could not take, by storage, with the oldest.
func spoolListCommand(_ context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "spool list")
	s.dataFlags(fs, env)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	spools, err := round.Spools(s.dataDir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs spool list: %v\n", err)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SPOOL\tSTORAGE\tROUNDS\tOLDEST")
	for _, sp := range spools {
		oldest := "-"
		if !sp.Oldest.IsZero() {
			oldest = fmt.Sprintf("%s (%s ago)", sp.Oldest.Local().Format(time.DateTime), time.Since(sp.Oldest).Round(time.Second))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", sp.Storage, orDash(sp.Label), sp.Rounds, oldest)
	}
	_ = tw.Flush()
	if err != nil {
		return ExitSomeFailed
	}
	return ExitOK
}

// spoolReplayCommand stores the rounds of one spool in a storage of the
// configuration (--to, a storage block's name; --db without storage
// blocks), oldest first, deleting each one stored: for rounds spooled for
// a storage the configuration no longer has.
func spoolReplayCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "spool replay")
	to := fs.String("to", "", "the storage block to store the rounds in (not needed with --db)")
	s.dbFlags(fs)
	s.dataFlags(fs, env)
	s.pluginFlags(fs)
	s.overlayFlags(fs)
	name, ok, code := parseOneArg(fs, env, "SPOOL (a name `cscs spool list` prints)")
	if !ok {
		return code
	}
	if err := round.CheckSpool(s.dataDir, name); err != nil {
		fmt.Fprintf(env.Stderr, "cscs spool replay: %v\n", err)
		return spoolErrorCode(err)
	}
	targets, opts, redact, ok := s.dbTargets(ctx, env, fs, "spool replay")
	if !ok {
		return ExitBadConfig
	}
	var names []string
	for _, t := range targets {
		names = append(names, t.Name)
	}
	i := slices.Index(names, *to)
	if i < 0 {
		fmt.Fprintf(env.Stderr, "cscs spool replay: --to %q: the configuration has no such storage block; give one of: %s\n", *to, strings.Join(names, ", "))
		return ExitBadConfig
	}
	t := targets[i]
	st, stop, err := pipeline.OpenStorage(ctx, opts, t.Plugin, t.Config)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs spool replay: %s%s\n", t.Label, redact(err.Error()))
		return ExitSomeFailed
	}
	defer stop()
	n, err := round.ReplaySpool(ctx, s.dataDir, name, st)
	fmt.Fprintf(env.Stdout, "%sstored %d round(s) from spool %s\n", t.Label, n, name)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs spool replay: %s%s; the rounds not stored stay in the spool\n", t.Label, redact(err.Error()))
		return ExitSomeFailed
	}
	return ExitOK
}

// spoolDropCommand deletes every round waiting in one spool.
func spoolDropCommand(_ context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "spool drop")
	s.dataFlags(fs, env)
	name, ok, code := parseOneArg(fs, env, "SPOOL (a name `cscs spool list` prints)")
	if !ok {
		return code
	}
	label, n, err := round.DropSpool(s.dataDir, name)
	if n > 0 || err == nil {
		fmt.Fprintf(env.Stdout, "deleted %d round(s) spooled for %s\n", n, orDash(label))
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs spool drop: %v\n", err)
		return spoolErrorCode(err)
	}
	return ExitOK
}

// spoolErrorCode is the exit code for err from a spool: a name not in the
// data directory is a usage error.
func spoolErrorCode(err error) int {
	if errors.Is(err, round.ErrNoSpool) {
		return ExitBadConfig
	}
	return ExitSomeFailed
}
