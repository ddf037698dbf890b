// Command cscs-modbuild builds a Go agent module for each platform a
// source serves, static, stripped and gzip-compressed, into a directory a
// source plugin embeds and serves with source.EmbeddedModule:
//
//	//go:generate go run github.com/cscs-dev/cscs/sdk/cmd/cscs-modbuild -name users -o modules ./module
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/cscs-dev/cscs/sdk/agentmod/modbuild"
)

func main() {
	name := flag.String("name", "", "the source's name: the files are NAME-OS-ARCH[.exe].gz (required)")
	out := flag.String("o", "modules", "directory receiving the compressed modules")
	platforms := flag.String("platforms", strings.Join(modbuild.DefaultPlatforms(), ","), "comma-separated os/arch pairs to build for")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "Usage: cscs-modbuild -name NAME [-o DIR] [-platforms os/arch,...] PACKAGE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *name == "" || flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	built, err := modbuild.Build(context.Background(), modbuild.Options{
		Package: flag.Arg(0), Name: *name, OutDir: *out, Platforms: strings.Split(*platforms, ","),
	})
	for _, b := range built {
		fmt.Printf("%-14s %s: %d bytes (program %d bytes)\n", b.Platform, b.Path, b.Size, b.Binary)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cscs-modbuild:", err)
		os.Exit(1)
	}
}
