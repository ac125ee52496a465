package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func init() { Register("clone", newCloneCommand) }

func newCloneCommand(env *Env) *cobra.Command {
	var copyData bool
	cmd := &cobra.Command{
		Use:     "clone SOURCE NEW [--copy-data]",
		GroupID: GroupData,
		Short:   "Clone a workspace: its volumes, its workloads (paused) and its grants",
		Long: `Clone workspace SOURCE into a new workspace NEW: a Workspace with spec.cloneFrom, which
the manager fills with a copy of every volume of SOURCE (new directories; with
--copy-data, their data too), every workload as a paused copy, and the role bindings.

Workspaces exist in every zone: the clone is made in every configured zone that has
SOURCE, or only in the zone given with -z. Each is first checked as a server dry run;
nothing is made if any zone refuses. Follow it with: kubectl dora get ws NEW -o wide`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeWorkspaceArg(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runClone(cmd.Context(), env, args[0], args[1], copyData, env.ZoneFlag != "")
		},
	}
	cmd.Flags().BoolVar(&copyData, "copy-data", false, "Copy the data of the volumes too, not only the volumes.")
	return cmd
}

func completeWorkspaceArg(env *Env) cobra.CompletionFunc {
	ws := completeWorkspaces(env)
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return ws(cmd, args, toComplete)
	}
}

func runClone(ctx context.Context, env *Env, source, name string, copyData, oneZone bool) error {
	sessions, err := env.Sessions(ctx, !oneZone)
	if err != nil {
		return err
	}
	k, _ := LookupKind("workspace")
	var targets []*Session
	var errs []error
	for _, s := range sessions {
		err := s.Client.Get(ctx, client.ObjectKey{Name: ObjectName(source)}, &doradev1.Workspace{})
		switch {
		case err == nil:
			targets = append(targets, s)
		case apierrors.IsNotFound(err) && oneZone:
			errs = append(errs, s.NotFound(ctx, k, "", "", source))
		case apierrors.IsNotFound(err):
		default:
			errs = append(errs, s.Explain(err, "reading workspace "+source))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if len(targets) == 0 {
		return sessions[0].NotFound(ctx, k, "", "", source)
	}
	ws := func() *doradev1.Workspace {
		return &doradev1.Workspace{
			TypeMeta:   metav1.TypeMeta{APIVersion: doradev1.GroupVersion.String(), Kind: "Workspace"},
			ObjectMeta: metav1.ObjectMeta{Name: ObjectName(name)},
			Spec:       doradev1.WorkspaceSpec{CloneFrom: ObjectName(source), CopyData: copyData},
		}
	}
	for _, s := range targets {
		if err := s.Client.Create(ctx, ws(), client.DryRunAll, client.FieldOwner(FieldManager)); err != nil {
			errs = append(errs, s.Explain(err, fmt.Sprintf("cloning workspace %s into %s", source, name)))
		}
	}
	if len(errs) > 0 {
		env.Errln("nothing was cloned:")
		return errors.Join(errs...)
	}
	what := "its volumes (without data), its workloads (paused) and grants"
	if copyData {
		what = "its volumes with their data, its workloads (paused) and grants"
	}
	for _, s := range targets {
		if err := s.Client.Create(ctx, ws(), client.FieldOwner(FieldManager)); err != nil {
			return s.Explain(err, fmt.Sprintf("cloning workspace %s into %s", source, name))
		}
		env.Outf("workspace.dora.dev/%s created in zone %s: a clone of %s, copying %s\n", ObjectName(name), s.Zone.Name, source, what)
	}
	return nil
}
