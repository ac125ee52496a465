// Command kubectl_complete-dora answers kubectl's completion of `kubectl dora ...`: kubectl
// runs it with the words typed so far and reads back the completions. It is kubectl-dora's
// own completion (cobra's __complete), installed beside it.
package main

import (
	"os"

	"github.com/dora-hpc/dora-operator/internal/cli"
)

func main() {
	os.Exit(cli.Main(cli.CompletionArgs(os.Args[1:])))
}
