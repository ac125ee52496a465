package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	utilexec "k8s.io/client-go/util/exec"
)

// Command groups of the help text.
const (
	GroupBasic   = "basic"
	GroupRun     = "run"
	GroupData    = "data"
	GroupAccount = "account"
	GroupSetup   = "setup"
)

var groups = []*cobra.Group{
	{ID: GroupBasic, Title: "Objects (Dora's kinds, in any zone):"},
	{ID: GroupRun, Title: "Workloads and their containers:"},
	{ID: GroupData, Title: "Workspaces and volumes:"},
	{ID: GroupAccount, Title: "You, your grants and your credits:"},
	{ID: GroupSetup, Title: "Zones and the plugin:"},
}

// NewCommandFunc builds one top-level command on the shared environment.
type NewCommandFunc func(env *Env) *cobra.Command

var (
	registryMu sync.Mutex
	registry   = map[string]NewCommandFunc{}
)

// Register adds a top-level command, built by newCommand, under name (which must be the
// command's name, and unique). Each command file calls it from its init function, so
// adding a command is adding a file: see the package documentation.
func Register(name string, newCommand NewCommandFunc) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("kubectl-dora: command " + name + " registered twice")
	}
	registry[name] = newCommand
}

// NewRootCommand is `kubectl dora` with every registered command.
func NewRootCommand(streams genericiooptions.IOStreams) (*cobra.Command, *Env) {
	env := NewEnv(streams)
	root := &cobra.Command{
		Use:   "kubectl-dora",
		Short: "Dora's CLI as a kubectl plugin: Dora's documents, kinds and verbs over every zone",
		Long: `kubectl dora speaks Dora: it applies Dora's own YAML documents (apiVersion v1,
metadata.zone, metadata.group) as well as dora.dev CRD YAML, knows Dora's kinds by their
names (workload, wk, container, c, ws, vol, rc, uc, zone...), and works over many zones,
one kubeconfig context each.

The zone is -z ZONE, else the config's defaultZone (kubectl dora zones use), else your Dora
User's spec.default.zone, else the kubeconfig's current context. The workspace is -g
WORKSPACE (or --workspace), else -n NAMESPACE, else your User's spec.default.workspace.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl dora"},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// completion is the plugin's own command (completion.go).
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	flags := root.PersistentFlags()
	env.Kube.AddFlags(flags)
	flags.StringVarP(&env.ZoneFlag, "zone", "z", "", "The Dora zone (a kubeconfig context, see kubectl dora zones).")
	flags.StringVarP(&env.WorkspaceFlag, "group", "g", "", "The Dora workspace (its namespace is the name with '.' turned into '-').")
	flags.StringVar(&env.WorkspaceFlag, "workspace", "", "The Dora workspace; the same as --group.")
	_ = root.RegisterFlagCompletionFunc("zone", completeZones(env))
	_ = root.RegisterFlagCompletionFunc("group", completeWorkspaces(env))
	_ = root.RegisterFlagCompletionFunc("workspace", completeWorkspaces(env))

	root.AddGroup(groups...)
	registryMu.Lock()
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		root.AddCommand(registry[name](env))
	}
	registryMu.Unlock()
	return root, env
}

// Main runs kubectl dora with args and returns the process's exit code: 0, 1 for an error,
// or the exit code of a command run in a container (exec, shell).
func Main(args []string) int {
	// Client-go's own warnings go to stderr once each, as kubectl prints them.
	rest.SetDefaultWarningHandler(rest.NewWarningWriter(os.Stderr, rest.WarningWriterOptions{Deduplicate: true}))
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	root, _ := NewRootCommand(streams)
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if ctx.Err() != nil {
		return 130 // interrupted: the user knows
	}
	var exit utilexec.ExitError
	if errors.As(err, &exit) && exit.Exited() {
		return exit.ExitStatus()
	}
	var silent *SilentError
	if !errors.As(err, &silent) {
		_, _ = fmt.Fprintln(streams.ErrOut, "error:", err)
	}
	return 1
}

// SilentError fails a command whose problems were printed already.
type SilentError struct{ Err error }

func (e *SilentError) Error() string { return e.Err.Error() }
func (e *SilentError) Unwrap() error { return e.Err }
