package cli

import (
	"context"
	"fmt"
	"strings"
)

// configShowCommand prints the effective configuration: config.xml with
// every overlay and flag applied, secrets masked, each round setting with
// where it came from (round.Config.Effective).
func configShowCommand(ctx context.Context, env *Env) int {
	var s settings
	fs, cfg, code := s.loadForRound(ctx, env, "config show", s.roundSettingFlags)
	if cfg == nil {
		return code
	}
	eff := cfg.Effective(s.round, func(setting string) bool { return flagGiven(fs, strings.ReplaceAll(setting, "_", "-")) })
	if s.output != "json" {
		eff.WriteText(env.Stdout)
		return ExitOK
	}
	if err := writeJSONValue(env.Stdout, eff); err != nil {
		fmt.Fprintf(env.Stderr, "cscs config show: %v\n", err)
		return ExitSomeFailed
	}
	return ExitOK
}
