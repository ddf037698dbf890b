// Package overlay reads the optional HCL files layered over config.xml:
// round settings, host groups with selectors, per-group sources, module
// settings and alert rules, storage and notifier instances, external
// plugin declarations, expression alert rules and notification routes,
// with variables, locals and the env() and file() functions for secrets.
//
// Loading happens in two steps. Load parses every file, evaluates
// variables and locals and decodes every block the core itself
// understands; the bodies of plugin blocks (storage, notifier, and the
// module blocks of groups) are kept undecoded, because only the plugin
// knows their schema. Resolve then decodes each of those bodies against
// the schema its plugin declares through the SDK, so an unknown or
// mistyped attribute in a third-party plugin's block is reported with the
// file, line and column like any other.
//
// Precedence (documented in docs/overlay.md): built-in defaults, then the
// overlay files in the order given (a later file's round setting wins),
// then command-line flags that were set explicitly. Named blocks (plugin,
// storage, notifier, group, alert, variable, local) must be unique across
// all files; a second declaration is an error pointing at the first.
package overlay
