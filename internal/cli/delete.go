package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func init() { Register("delete", newDeleteCommand) }

type deleteOptions struct {
	Docs           DocFlags
	IgnoreNotFound bool
	DryRun         string
}

func newDeleteCommand(env *Env) *cobra.Command {
	o := &deleteOptions{}
	cmd := &cobra.Command{
		Use:     "delete (-f FILE | WORKLOAD... | KIND NAME...)",
		GroupID: GroupBasic,
		Short:   "Delete what documents describe, or workloads and other objects by name",
		Long: `Delete the objects of documents (-f, as apply reads them: the same zones, the same
-e substitution), or workloads by name, or objects of any kind: delete KIND NAME...

With -f every document is translated and every deletion checked as a server dry run
first; nothing is deleted if any is refused. Deleting a workload removes its containers;
deleting a workspace stops its workloads, removes its volumes' claims, then its namespace,
and never touches data on storage.`,
		Example: `  kubectl dora delete blue.red
  kubectl dora delete vol scratch
  kubectl dora delete -f experiment.yaml -e RUN=3`,
		ValidArgsFunction: completeWorkloadOrKind(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(o.Docs.Files) > 0 {
				if len(args) > 0 {
					return errors.New("give -f or names, not both")
				}
				return deleteDocuments(cmd.Context(), env, o)
			}
			return deleteNamed(cmd.Context(), env, o, args)
		},
	}
	o.Docs.AddFlags(cmd, "delete")
	cmd.Flags().BoolVar(&o.IgnoreNotFound, "ignore-not-found", false, "An object that is already gone is no error.")
	cmd.Flags().StringVar(&o.DryRun, "dry-run", DryRunNone, "none, or server: check the deletions and delete nothing.")
	return cmd
}

// completeWorkloadOrKind completes workload names, or kind then names.
func completeWorkloadOrKind(env *Env) cobra.CompletionFunc {
	kinds := completeKindThenNames(env)
	workloads := completeWorkloads(env)
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			if _, ok := LookupKind(args[0]); ok {
				return kinds(cmd, args, toComplete)
			}
			return workloads(cmd, nil, toComplete)
		}
		names, d := workloads(cmd, nil, toComplete)
		return append(names, filterPrefix(kindCompletions(), toComplete)...), d
	}
}

func deleteDocuments(ctx context.Context, env *Env, o *deleteOptions) error {
	if o.DryRun != DryRunNone && o.DryRun != DryRunServer {
		return fmt.Errorf("--dry-run=%s: use none or server", o.DryRun)
	}
	plan, err := translateFor(ctx, env, o.Docs, "delete")
	if err != nil {
		return err
	}
	steps := slices.Clone(plan.Steps)
	slices.Reverse(steps) // workloads before their volumes, workspaces last
	sessions := map[string]*Session{}
	for _, zone := range plan.Zones {
		z, err := env.ResolveZone(zone)
		if err != nil {
			return err
		}
		if sessions[zone], err = env.Session(z); err != nil {
			return err
		}
	}
	var errs []error
	gone := map[string]bool{}
	for _, st := range steps {
		s := sessions[st.Zone]
		err := resourceFor(s, st.Doc.Kind, st.Object.GetNamespace()).Delete(ctx, st.Object.GetName(), metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
		switch {
		case apierrors.IsNotFound(err):
			gone[st.Key()] = true
			if !o.IgnoreNotFound {
				errs = append(errs, st.Doc.docError(st.Zone, "metadata.name", "%s %s not found in zone %s", st.Doc.Kind.Singular(), st.Doc.Name(), st.Zone))
			}
		case err != nil:
			errs = append(errs, refusal(s, st, err))
		}
	}
	if len(errs) > 0 && !allNotFound(errs, gone, len(steps)) {
		return refuse(env, errs, "delete")
	}
	for _, err := range errs {
		env.Errln("error:", err)
	}
	suffix := ""
	if o.DryRun == DryRunServer {
		suffix = " (server dry run)"
	}
	for _, st := range steps {
		if gone[st.Key()] {
			continue
		}
		s := sessions[st.Zone]
		if o.DryRun == DryRunNone {
			err := resourceFor(s, st.Doc.Kind, st.Object.GetNamespace()).Delete(ctx, st.Object.GetName(), metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return refusal(s, st, err)
			}
		}
		env.Outf("%s/%s deleted%s (zone %s)\n", st.Doc.Kind.Ref(), st.Object.GetName(), suffix, st.Zone)
	}
	if len(errs) > 0 {
		return &SilentError{Err: errors.New("some objects were not found")}
	}
	return nil
}

// allNotFound reports whether the only problems are objects already gone (while some are
// left to delete): those are reported, and do not stop the others.
func allNotFound(errs []error, gone map[string]bool, steps int) bool {
	return len(errs) == len(gone) && len(gone) < steps
}

// deleteNamed deletes workloads by name, or objects of a kind: delete KIND NAME...
func deleteNamed(ctx context.Context, env *Env, o *deleteOptions, args []string) error {
	if len(args) == 0 {
		return errors.New("give workload names, KIND NAME..., or -f FILE")
	}
	k, _ := LookupKind("workload")
	names := args
	if kind, ok := LookupKind(args[0]); ok && len(args) > 1 {
		k, names = kind, args[1:]
	}
	s, err := env.Current(ctx)
	if err != nil {
		return err
	}
	ns, ws := "", ""
	if k.Namespaced {
		if ws, ns, err = s.Workspace(ctx); err != nil {
			return err
		}
	}
	opts := metav1.DeleteOptions{}
	if o.DryRun == DryRunServer {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var errs []error
	for _, name := range names {
		objName := ObjectName(name)
		if k.Container {
			pod, err := s.Kube.CoreV1().Pods(ns).Get(ctx, objName, metav1.GetOptions{})
			if err == nil && pod.Labels[doradev1.LabelWorkload] == "" {
				err = apierrors.NewNotFound(k.Resource.GroupResource(), objName)
			}
			if err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, s.Explain(err, "reading container "+name))
				continue
			}
		}
		err := resourceFor(s, k, ns).Delete(ctx, objName, opts)
		switch {
		case apierrors.IsNotFound(err):
			if !o.IgnoreNotFound {
				errs = append(errs, s.NotFound(ctx, k, ns, ws, name))
			}
		case err != nil:
			errs = append(errs, s.Explain(err, fmt.Sprintf("deleting %s %s %s", k.Singular(), name, Scope(k, ws, s.Zone.Name))))
		default:
			env.Outf("%s/%s deleted (%s)\n", k.Ref(), objName, Place(k, ws, s.Zone.Name))
		}
	}
	return errors.Join(errs...)
}
