// Command storage-jsonl is a CSCS storage plugin that appends one JSON
// line per host and round to a file. See README.md.
package main

import sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"

func main() {
	sdkplugin.Serve(sdkplugin.ServeConfig{Storage: &Store{}})
}
