package cli

import (
	"flag"
	"path/filepath"
)

// pluginFlags registers --plugins-dir. Register dataFlags as well: the
// returned function gives the plugins directory once fs is parsed, which
// is --plugins-dir when set and <data-dir>/plugins otherwise.
func (s *settings) pluginFlags(fs *flag.FlagSet) (pluginsDir func() string) {
	dir := fs.String("plugins-dir", "", "directory of external plugins and their manifest.json (default <data-dir>/plugins)")
	return func() string {
		if *dir != "" {
			return *dir
		}
		return filepath.Join(s.dataDir, "plugins")
	}
}
