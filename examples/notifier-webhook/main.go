// Command notifier-webhook is a CSCS notifier plugin that delivers each
// notification as a JSON document POSTed to an HTTP(S) URL. See README.md.
package main

import sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"

func main() {
	sdkplugin.Serve(sdkplugin.ServeConfig{Notifier: &Notifier{}})
}
