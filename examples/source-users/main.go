// Command source-users is a CSCS source plugin: the "users" source counts
// login sessions and distinct logged-in users on Linux and macOS hosts with
// a shell script the agent runs. See README.md.
package main

import sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"

func main() {
	sdkplugin.Serve(sdkplugin.ServeConfig{Source: Source{}})
}
