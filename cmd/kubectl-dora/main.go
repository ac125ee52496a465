// Command kubectl-dora is the Dora CLI as a kubectl plugin: kubectl finds it on PATH and runs
// it for `kubectl dora ...`. Everything it does is in internal/cli.
package main

import (
	"os"
	"path/filepath"

	"github.com/dora-hpc/dora-operator/internal/cli"
)

func main() {
	args := os.Args[1:]
	// Linked as kubectl_complete-dora, it answers kubectl's completion requests.
	if filepath.Base(os.Args[0]) == cli.CompletionProgram {
		args = cli.CompletionArgs(args)
	}
	os.Exit(cli.Main(args))
}
