package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cscs-dev/cscs/core/identity"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/round/pool"
	"github.com/cscs-dev/cscs/core/spool"
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
	spools, err := spool.List(filepath.Join(s.dataDir, "spool"))
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs spool list: %v\n", err)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SPOOL\tSTORAGE\tROUNDS\tOLDEST")
	for _, sp := range spools {
		oldest := "-"
		if len(sp.Rounds) > 0 {
			if t, ok := pool.RoundTime(sp.Rounds[0]); ok {
				oldest = fmt.Sprintf("%s (%s ago)", t.Local().Format(time.DateTime), time.Since(t).Round(time.Second))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", sp.Name, orDash(sp.Label), len(sp.Rounds), oldest)
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
	sp, err := openSpool(s.dataDir, name)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs spool replay: %v\n", err)
		return ExitBadConfig
	}
	targets, opts, redact, ok := s.dbTargets(ctx, env, fs, "spool replay")
	if !ok {
		return ExitBadConfig
	}
	var names []string
	for _, t := range targets {
		names = append(names, t.name)
	}
	i := slices.Index(names, *to)
	if i < 0 {
		fmt.Fprintf(env.Stderr, "cscs spool replay: --to %q: the configuration has no such storage block; give one of: %s\n", *to, strings.Join(names, ", "))
		return ExitBadConfig
	}
	t := targets[i]
	st, stop, err := pipeline.OpenStorage(ctx, opts, t.plugin, t.config)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs spool replay: %s%s\n", t.label, redact(err.Error()))
		return ExitSomeFailed
	}
	defer stop()
	n, err := sp.Replay(ctx, st)
	fmt.Fprintf(env.Stdout, "%sstored %d round(s) from spool %s\n", t.label, n, name)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs spool replay: %s%s; the rounds not stored stay in the spool\n", t.label, redact(err.Error()))
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
	sp, err := openSpool(s.dataDir, name)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs spool drop: %v\n", err)
		return ExitBadConfig
	}
	label := orDash(sp.Label())
	n, err := sp.Drop()
	fmt.Fprintf(env.Stdout, "deleted %d round(s) spooled for %s\n", n, label)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs spool drop: %v\n", err)
		return ExitSomeFailed
	}
	return ExitOK
}

// openSpool opens the spool called name in dataDir, which must exist;
// the core key decrypts it.
func openSpool(dataDir, name string) (*spool.Spool, error) {
	root := filepath.Join(dataDir, "spool")
	spools, err := spool.List(root)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, sp := range spools {
		names = append(names, sp.Name)
	}
	if !slices.Contains(names, name) {
		return nil, fmt.Errorf("no spool %q in %s; `cscs spool list` lists them (%s)", name, root, orDash(strings.Join(names, ", ")))
	}
	id, _, err := identity.LoadOrCreate(dataDir)
	if err != nil {
		return nil, fmt.Errorf("core key: %w", err)
	}
	return spool.Open(root, name, id)
}
