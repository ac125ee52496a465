package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

func init() { Register("events", newEventsCommand) }

func newEventsCommand(env *Env) *cobra.Command {
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:     "events [WORKLOAD]",
		GroupID: GroupRun,
		Short:   "List the events of a workspace, or of a workload and its containers",
		Long: `List the events of the workspace (-A: of every workspace), oldest first, or only those
of a workload and its containers: scale up and down, replacements, pause and resume,
credit holds, and the scheduler's reasons for a container that waits.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeWorkloads(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(args) == 1 {
				return workloadEvents(ctx, env, args[0])
			}
			s, err := env.Current(ctx)
			if err != nil {
				return err
			}
			ns, ws := "", ""
			if !allNamespaces {
				if ws, ns, err = s.Workspace(ctx); err != nil {
					return err
				}
			}
			events, err := eventsRegarding(ctx, s, ns, func(corev1.ObjectReference) bool { return true })
			if err != nil {
				return err
			}
			where := "in zone " + s.Zone.Name
			if ws != "" {
				where = fmt.Sprintf("in workspace %s (zone %s)", ws, s.Zone.Name)
			}
			return printEvents(env, events, allNamespaces, where)
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "The events of every workspace.")
	return cmd
}

func workloadEvents(ctx context.Context, env *Env, name string) error {
	t, err := FindWorkload(ctx, env, name)
	if err != nil {
		return err
	}
	wl := t.Workload
	podNames := map[string]bool{}
	pods, err := t.S.Kube.CoreV1().Pods(wl.Namespace).List(ctx, metav1.ListOptions{LabelSelector: doradev1.LabelWorkload + "=" + naming.WorkloadLabelValue(wl.Name)})
	if err == nil {
		for _, p := range pods.Items {
			podNames[p.Name] = true
		}
	}
	for _, c := range wl.Status.Containers {
		podNames[c.Name] = true
	}
	events, err := eventsRegarding(ctx, t.S, wl.Namespace, func(ref corev1.ObjectReference) bool {
		return ref.Kind == "Workload" && ref.Name == wl.Name || ref.Kind == "Pod" && podNames[ref.Name]
	})
	if err != nil {
		return err
	}
	return printEvents(env, events, false, "for workload "+wl.Name+" "+t.Where())
}

func printEvents(env *Env, events []eventsv1.Event, namespaces bool, where string) error {
	if len(events) == 0 {
		env.Errf("No events %s.\n", where)
		return nil
	}
	t := EventTable(events, time.Now())
	if namespaces {
		for i := range t.Rows {
			t.Rows[i].Cells = append([]any{events[i].Namespace}, t.Rows[i].Cells...)
		}
		t.ColumnDefinitions = append([]metav1.TableColumnDefinition{{Name: "Namespace", Type: "string"}}, t.ColumnDefinitions...)
	}
	return PrintTable(env.IO.Out, t, false, false)
}
