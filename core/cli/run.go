package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/cscs-dev/cscs/core/collect"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/engine"
	"github.com/cscs-dev/cscs/core/identity"
	"github.com/cscs-dev/cscs/core/spool"
	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/plugins/storage/sqlite"
	"github.com/cscs-dev/cscs/sdk/storage"
)

func runCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "run")
	s.configFlags(fs)
	s.dataFlags(fs, env)
	s.dbFlags(fs)
	s.roundFlags(fs)
	if ok, code := parse(fs, env); !ok {
		return code
	}
	if err := s.check(); err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
		return ExitBadConfig
	}
	cfg, code := loadForRound(env, &s)
	if cfg == nil {
		return code
	}
	return runRound(ctx, env, &s, cfg)
}

// loadForRound loads the inventory and, when present, the mail settings;
// it prints diagnostics and returns nil with an exit code on errors.
func loadForRound(env *Env, s *settings) (*config.Config, int) {
	cfg, diags := config.LoadInventory(s.configPath, config.LoadOptions{})
	printDiagnostics(env, diags)
	if diags.HasErrors() {
		fmt.Fprintf(env.Stderr, "cscs: %s has errors; fix them and run again (`cscs validate` checks without collecting)\n", s.configPath)
		return nil, ExitBadConfig
	}
	return cfg, ExitOK
}

func printDiagnostics(env *Env, diags config.Diagnostics) {
	for _, d := range diags {
		fmt.Fprintln(env.Stderr, d.String())
	}
}

// runRound performs one round over cfg's clients and stores it in the
// SQLite database of s.
func runRound(ctx context.Context, env *Env, s *settings, cfg *config.Config) int {
	id, created, err := identity.LoadOrCreate(s.dataDir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: core key: %v\n", err)
		return ExitSomeFailed
	}
	if created {
		fmt.Fprintf(env.Stderr, "created the core key in %s (public key %s)\n", s.dataDir, id.Recipient())
	}
	hostKeys, err := transport.NewHostKeys(filepath.Join(s.dataDir, "known_hosts"), s.acceptNew)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
		return ExitSomeFailed
	}
	spooled, err := spool.Open(filepath.Join(s.dataDir, "spool"), spoolName(s.dbPath), id)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
		return ExitSomeFailed
	}
	// A database that is down does not stop the round: its results are
	// spooled and replayed next time.
	store, storeErr := openStore(ctx, s.dbPath)
	if storeErr != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v; this round's results will be spooled in %s\n", storeErr, spooled.Dir())
	} else {
		defer store.Close()
	}

	collector := collect.New(collect.Settings{
		Identity: id, Agents: s.agents(), HostKeys: hostKeys,
		ConnectTimeout: s.connectTO, HandshakeTimeout: s.handshakeTO,
		CPUSample: s.cpuSample, UseSSHAgent: env.Getenv("SSH_AUTH_SOCK") != "",
	})
	hosts := make([]engine.Host, len(cfg.Clients))
	for i, cl := range cfg.Clients {
		hosts[i] = engine.Host{IP: cl.IP, Port: cl.Port}
	}
	prog := &progress{w: env.Stderr, tty: isTerminal(env.Stderr)}
	batch := engine.Run(ctx, hosts, engine.CollectorFunc(func(ctx context.Context, i int) storage.Collection {
		return collector.Collect(ctx, cfg.Clients[i])
	}), engine.Options{
		Concurrency: s.concurrency,
		HostTimeout: s.hostTO,
		Progress:    prog.host,
	})

	// Store even when the round was cancelled: what finished is kept.
	if storeErr == nil {
		storeErr = writeWithSpool(context.WithoutCancel(ctx), env, store, spooled, batch)
	} else if err := spooled.Put(batch); err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %v\n", err)
	}

	if s.output == "json" {
		if err := writeJSON(env.Stdout, batch, s.dbPath); err != nil {
			fmt.Fprintf(env.Stderr, "cscs run: writing JSON: %v\n", err)
		}
	} else {
		writeTable(env.Stdout, batch)
		fmt.Fprintln(env.Stdout)
		fmt.Fprintln(env.Stdout, summaryLine(batch))
		if storeErr == nil {
			fmt.Fprintf(env.Stdout, "stored round %s in %s\n", batch.RoundID, s.dbPath)
		}
	}
	if storeErr != nil {
		fmt.Fprintf(env.Stderr, "cscs run: round %s was not stored in %s (%v); it is spooled in %s and will be stored by the next run\n",
			batch.RoundID, s.dbPath, storeErr, spooled.Dir())
		return ExitSomeFailed
	}
	if !engine.AllOK(batch) {
		return ExitSomeFailed
	}
	return ExitOK
}

// writeWithSpool first replays rounds spooled by earlier runs, then writes
// batch; a batch that cannot be written is spooled.
func writeWithSpool(ctx context.Context, env *Env, store spool.Writer, sp *spool.Spool, batch *storage.Batch) error {
	n, err := sp.Replay(ctx, store)
	if n > 0 {
		fmt.Fprintf(env.Stderr, "stored %d round(s) spooled by earlier runs\n", n)
	}
	if err == nil {
		err = store.WriteBatch(ctx, batch)
	}
	if err != nil {
		if perr := sp.Put(batch); perr != nil {
			return fmt.Errorf("%w; spooling failed too: %v", err, perr)
		}
	}
	return err
}

// spoolName keeps the rounds of each database apart: "sqlite-" and a short
// hash of the database's absolute path.
func spoolName(dbPath string) string {
	if abs, err := filepath.Abs(dbPath); err == nil {
		dbPath = abs
	}
	sum := sha256.Sum256([]byte(dbPath))
	return "sqlite-" + hex.EncodeToString(sum[:6])
}

// openStore opens the SQLite database and brings its schema up to date.
func openStore(ctx context.Context, path string) (*sqlite.Store, error) {
	store, err := sqlite.New(path)
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("preparing database %s: %w", path, err)
	}
	return store, nil
}
