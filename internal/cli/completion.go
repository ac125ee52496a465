package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func init() { Register("completion", newCompletionCommand) }

func newCompletionCommand(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "completion bash|zsh|fish",
		GroupID: GroupSetup,
		Short:   "Print a shell completion script",
		Long: `Completion of kubectl dora, with the names of kinds, workloads, containers, zones and
workspaces read from the cluster.

Through kubectl (kubectl dora <TAB>): kubectl's own completion asks the program
kubectl_complete-dora, which is installed next to kubectl-dora (or link it:
ln -s kubectl-dora kubectl_complete-dora). Load kubectl's completion as usual:

  source <(kubectl completion bash)

For the plugin run by its own name (kubectl-dora <TAB>), load this script:

  source <(kubectl-dora completion bash)      # bash; zsh: source <(kubectl-dora completion zsh)
  kubectl-dora completion fish | source        # fish`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), env.IO.Out
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			}
			return fmt.Errorf("unknown shell %q: bash, zsh or fish", args[0])
		},
	}
	return cmd
}

// completionTimeout bounds the cluster reads of a completion: a shell waits for it.
const completionTimeout = 5 * time.Second

func completionContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, completionTimeout)
}

// filterPrefix keeps the names starting with prefix, sorted.
func filterPrefix(names []string, prefix string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && !seen[n] {
			out = append(out, n)
			seen[n] = true
		}
	}
	sort.Strings(out)
	return out
}

// kindCompletions are the names a kind may be typed as, for completion.
func kindCompletions() []string {
	var names []string
	for _, k := range Kinds {
		names = append(names, k.Names[1:]...)
	}
	return append(names, viewNames()...)
}

// namesOf lists the names of kind k where the command would act.
func namesOf(ctx context.Context, env *Env, k Kind) []string {
	s, err := env.Current(ctx)
	if err != nil {
		return nil
	}
	ns := ""
	if k.Namespaced {
		if _, ns, err = s.Workspace(ctx); err != nil {
			return nil
		}
	}
	names, err := s.Names(ctx, k, ns)
	if err != nil {
		return nil
	}
	return names
}

// completeKindThenNames completes a kind, then names of that kind.
func completeKindThenNames(env *Env) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return filterPrefix(kindCompletions(), toComplete), cobra.ShellCompDirectiveNoFileComp
		}
		k, ok := LookupKind(args[0])
		if !ok {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := completionContext(cmd)
		defer cancel()
		return filterPrefix(namesOf(ctx, env, k), toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeWorkloads completes the first argument with workload names.
func completeWorkloads(env *Env) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := completionContext(cmd)
		defer cancel()
		k, _ := LookupKind("workload")
		return filterPrefix(namesOf(ctx, env, k), toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeWorkloadsAndContainers completes the first argument with workload and container
// names.
func completeWorkloadsAndContainers(env *Env) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := completionContext(cmd)
		defer cancel()
		wk, _ := LookupKind("workload")
		names := append(namesOf(ctx, env, wk), namesOf(ctx, env, KindContainer())...)
		return filterPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeZones completes -z with the configured zones and the kubeconfig's contexts.
func completeZones(env *Env) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var names []string
		if cfg, err := env.Config(); err == nil {
			names = cfg.ZoneNames()
		}
		if contexts, _, err := env.Contexts(); err == nil {
			names = append(names, contexts...)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeWorkspaces completes -g with the workspaces of the current zone.
func completeWorkspaces(env *Env) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		ctx, cancel := completionContext(cmd)
		defer cancel()
		k, _ := LookupKind("workspace")
		return filterPrefix(namesOf(ctx, env, k), toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// CompletionProgram is the program kubectl runs to complete `kubectl dora ...`.
const CompletionProgram = "kubectl_complete-dora"

// CompletionArgs turns the words kubectl passes to kubectl_complete-dora into a request of
// cobra's own completion: kubectl passes the words after "dora", the last being the word
// to complete (perhaps empty).
func CompletionArgs(words []string) []string {
	return append([]string{cobra.ShellCompRequestCmd}, words...)
}
