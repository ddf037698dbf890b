package round

import (
	"fmt"

	"github.com/cscs-dev/cscs/core/pluginhost"
)

// ValidationSchema is the name and version of Validation's JSON format
// (docs/json.md).
const ValidationSchema = "cscs/validate/v1"

// Validation is what checking a configuration found (`cscs validate`);
// the diagnostics themselves were written by Load.
type Validation struct {
	Schema string `json:"schema"`
	// OK is set when a round would start.
	OK      bool             `json:"ok"`
	Config  ValidatedFile    `json:"config"`
	Email   ValidatedEmail   `json:"email"`
	Overlay *ValidatedBlocks `json:"overlay,omitempty"`
	// DevPlugins name the plugins not pinned by their checksum.
	DevPlugins []string `json:"dev_plugins"`
}

// ValidatedFile is config.xml.
type ValidatedFile struct {
	Path    string `json:"path"`
	Clients int    `json:"clients"`
}

// ValidatedEmail is email_config.json; Found is false when it does not
// exist.
type ValidatedEmail struct {
	Path  string `json:"path"`
	Found bool   `json:"found"`
}

// ValidatedBlocks counts the overlays' blocks.
type ValidatedBlocks struct {
	Files     []string `json:"files"`
	Groups    int      `json:"groups"`
	Storages  int      `json:"storages"`
	Notifiers int      `json:"notifiers"`
	Routes    int      `json:"routes"`
}

// Validate summarizes the configuration of files as Load returned it (c
// nil: it has errors) with the development plugins a round would run
// (DevPlugins); strict makes those a failure.
func Validate(files Files, c *Config, pluginsDir string, strict bool) Validation {
	v := Validation{Schema: ValidationSchema, Config: ValidatedFile{Path: files.Inventory}, Email: ValidatedEmail{Path: files.Email}, DevPlugins: []string{}}
	if c == nil {
		return v
	}
	v.OK = true
	v.Config.Clients = len(c.Inventory.Clients)
	v.Email.Found = c.Email != nil
	if ov := c.Overlay; ov != nil {
		v.Overlay = &ValidatedBlocks{Files: ov.Files, Groups: len(ov.Groups), Storages: len(ov.Storages), Notifiers: len(ov.Notifiers), Routes: len(ov.Routes)}
	}
	v.DevPlugins = append(v.DevPlugins, c.DevPlugins(pluginsDir)...)
	if strict && len(v.DevPlugins) > 0 {
		v.OK = false
	}
	return v
}

// DevPlugins names the development plugins a round of c would run:
// installed in pluginsDir with --dev, or declared with dev = true.
func (c *Config) DevPlugins(pluginsDir string) []string {
	var out []string
	if m, err := pluginhost.LoadManifest(pluginsDir); err == nil {
		for _, e := range m.Plugins {
			if e.Dev {
				out = append(out, fmt.Sprintf("%s (installed with --dev from %s)", e, e.File))
			}
		}
	}
	if c.Overlay != nil {
		for _, p := range c.Overlay.Plugins {
			if p.Dev {
				out = append(out, fmt.Sprintf("%s %s (plugin block with dev = true, %s)", p.Kind, p.Name, p.Range))
			}
		}
	}
	return out
}
