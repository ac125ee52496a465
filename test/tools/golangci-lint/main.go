// Command golangci-lint is golangci-lint with the Kubernetes API linter compiled in.
//
// It is what `golangci-lint custom` would build from .custom-gcl.yml, written out by
// hand because that command git-clones golangci-lint and only the Go module proxy is
// reachable here. main mirrors golangci-lint's own cmd/golangci-lint; plugins.go
// holds the plugin imports.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/golangci/golangci-lint/v2/pkg/commands"
	"github.com/golangci/golangci-lint/v2/pkg/exitcodes"
)

const (
	golangciModule = "github.com/golangci/golangci-lint/v2"
	kalModule      = "sigs.k8s.io/kube-api-linter"
)

func main() {
	if err := commands.Execute(buildInfo()); err != nil {
		_, _ = fmt.Fprintf(os.Stderr, "The command is terminated due to an error: %v\n", err)
		os.Exit(exitcodes.Failure)
	}
}

// buildInfo reports the golangci-lint and kube-api-linter versions pinned in go.mod,
// so `golangci-lint version` says what was built rather than "(devel)".
func buildInfo() commands.BuildInfo {
	info := commands.BuildInfo{Version: "unknown", Commit: "?", Date: "(unknown)", GoVersion: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	info.GoVersion = bi.GoVersion
	for _, dep := range bi.Deps {
		switch dep.Path {
		case golangciModule:
			info.Version = strings.TrimPrefix(dep.Version, "v")
		case kalModule:
			info.Commit = "kube-api-linter " + dep.Version
		}
	}
	return info
}
