package cli

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/cli/why"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

func init() { Register("why", newWhyCommand) }

func newWhyCommand(env *Env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "why WORKLOAD",
		GroupID: GroupRun,
		Short:   "Why a workload is not running, and what to do about it",
		Long: `One screen that says why a workload is not running and what to do: the causes, most
important first (paused, held for credits until the reset, a volume or port problem, no
node with the GPU model asked for and the models there are, the GPUs busy, an image that
cannot be pulled, a container that keeps exiting...), each replica with the scheduler's
message, the GPUs of the asked models free now per node, the conditions and the recent
events. -o json|yaml writes the report as data.`,
		Example: `  kubectl dora why blue.red
  kubectl dora why train -g amedeo.setti -o yaml`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeWorkloads(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "" && output != "json" && output != "yaml" {
				return fmt.Errorf("-o %s: use json or yaml", output)
			}
			ctx := cmd.Context()
			t, err := FindWorkload(ctx, env, args[0])
			if err != nil {
				return err
			}
			in, notes, err := WhyInput(ctx, t, time.Now().In(CallerLocation(env.Getenv)))
			if err != nil {
				return err
			}
			for _, n := range notes {
				env.Errln("note:", n)
			}
			report := why.Explain(in)
			if output != "" {
				return writeStructured(env.IO.Out, output, report)
			}
			return env.Render(func(out *bytes.Buffer) error { return report.Render(out) })
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml instead of text.")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// WhyInput reads what why.Explain needs of a workload: its pods, the zone's fleet (Dora
// Nodes, Kubernetes Nodes, every pod bound to a node), the events about the workload and
// its pods, and its owner's UserCredit. Only the pods are required; what else cannot be
// read is left out, and the notes say so.
func WhyInput(ctx context.Context, t *Target, now time.Time) (why.Input, []string, error) {
	s, wl := t.S, t.Workload
	in := why.Input{Workload: wl, Zone: s.Zone.Name, Now: now}
	var notes []string
	pods, err := s.Kube.CoreV1().Pods(wl.Namespace).List(ctx, metav1.ListOptions{LabelSelector: doradev1.LabelWorkload + "=" + naming.WorkloadLabelValue(wl.Name)})
	if err != nil {
		return in, nil, s.Explain(err, fmt.Sprintf("listing the containers of workload %s %s", wl.Name, t.Where()))
	}
	podNames := map[string]bool{}
	for i := range pods.Items {
		if WorkloadOfPod(&pods.Items[i]) == wl.Name {
			in.Pods = append(in.Pods, pods.Items[i])
			podNames[pods.Items[i].Name] = true
		}
	}
	for _, c := range wl.Status.Containers {
		podNames[c.Name] = true
	}
	if f, err := ReadFleet(ctx, s, wl.Namespace); err != nil {
		notes = append(notes, err.Error()+": the GPUs of the zone are not shown")
	} else {
		if f.Pods == nil {
			// The workload's own pods hold GPUs too.
			f.Pods = in.Pods
		}
		in.Nodes, in.KubeNodes, in.NodePods = f.ReportedNodes(), f.KubeNodes, f.Pods
		notes = append(notes, f.Notes...)
	}
	in.Events, err = eventsRegarding(ctx, s, wl.Namespace, func(ref corev1.ObjectReference) bool {
		return ref.Kind == "Workload" && ref.Name == wl.Name || ref.Kind == "Pod" && podNames[ref.Name]
	})
	if err != nil {
		notes = append(notes, err.Error()+": the events are not shown")
	}
	if owner := wl.Annotations[doradev1.AnnotationOwner]; owner != "" {
		uc := &doradev1.UserCredit{}
		err := s.Client.Get(ctx, client.ObjectKey{Name: ObjectName(owner)}, uc)
		switch {
		case err == nil:
			in.UserCredit = uc
		case apierrors.IsNotFound(err), apierrors.IsForbidden(err):
			// No credits kept for the owner, or not the caller's to read: the workload's own
			// conditions still say whether it is held.
		default:
			notes = append(notes, s.Explain(err, "reading the credits of "+owner).Error())
		}
	}
	return in, notes, nil
}
