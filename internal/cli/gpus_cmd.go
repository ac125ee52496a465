package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/cli/gpus"
)

func init() {
	Register("gpus", newGPUsCommand)
	RegisterGetView(GetView{Names: []string{"gpu", "gpus"}, Run: runGetGPUs})
}

// gpuOptions are what a GPU view shows: the table's options, -o and the zones.
type gpuOptions struct {
	Table gpus.Options
	// Format is -o: "" or wide (a table), json or yaml (the Summary).
	Format   string
	AllZones bool
}

func newGPUsCommand(env *Env) *cobra.Command {
	o := &gpuOptions{}
	cmd := &cobra.Command{
		Use:     "gpus [--free] [--model MODEL] [--summary | --nodes]",
		Aliases: []string{"gpu"},
		GroupID: GroupBasic,
		Short:   "The zone's GPUs: per model total, used and free; per node and GPU who holds them",
		Long: `The zone's GPUs, as sinfo shows Slurm's: one line per GPU (node, index, model, memory,
utilisation, state and the pod holding it), per node (--nodes) or per model (--summary:
total, used, free, unavailable, and the most free on one node, the largest replica that
could start now). --free keeps the free ones, --model the models whose name contains
the text given (v100 matches Tesla V100-SXM2-16GB). -o wide adds each GPU's UUID and
health; -o json|yaml writes the whole summary.

A GPU is used when its node's agent reports the pod holding it, or when the pods bound to
its node ask for it (the scheduler's count, read where you may list pods). The same view
is kubectl dora get gpus [MODEL].`,
		Example: `  kubectl dora gpus --summary
  kubectl dora gpus --free --model v100
  kubectl dora gpus --nodes -z dc-test-01
  kubectl dora get gpus h100 -o wide`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGPUs(cmd.Context(), env, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Table.Free, "free", false, "Only the GPUs free now (with --summary or --nodes: the models or nodes with some).")
	f.StringVar(&o.Table.Model, "model", "", "Only the GPUs of models matching this name (v100, \"Tesla T4\").")
	f.BoolVar(&o.Table.Summary, "summary", false, "One line per model.")
	f.BoolVar(&o.Table.Nodes, "nodes", false, "One line per node.")
	f.BoolVar(&o.Table.NoHeaders, "no-headers", false, "Leave out the header line.")
	f.StringVarP(&o.Format, "output", "o", "", "Output format: wide, json or yaml.")
	f.BoolVar(&o.AllZones, "all-zones", false, "The GPUs of every configured zone, one table each.")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{FormatWide, "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// runGetGPUs is get gpus [MODEL]: the per-GPU table, with get's -o, --no-headers and
// --all-zones.
func runGetGPUs(ctx context.Context, env *Env, g *GetOptions, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("get gpus takes at most one model name, not %d (%s)", len(args), strings.Join(args, " "))
	}
	o := &gpuOptions{Format: g.Out.Format(), AllZones: g.AllZones}
	o.Table.NoHeaders = g.Out.NoHeaders
	if len(args) == 1 {
		o.Table.Model = args[0]
	}
	if g.Watch {
		return errors.New("get gpus cannot watch (-w); run kubectl dora gpus again")
	}
	return runGPUs(ctx, env, o)
}

func runGPUs(ctx context.Context, env *Env, o *gpuOptions) error {
	switch o.Format {
	case "", FormatWide, "json", "yaml":
	default:
		return fmt.Errorf("-o %s: unknown output format; use wide, json or yaml", o.Format)
	}
	o.Table.Wide = o.Format == FormatWide
	sessions, err := env.Sessions(ctx, o.AllZones)
	if err != nil {
		return err
	}
	summaries := map[string]gpus.Summary{}
	var errs []error
	for i, s := range sessions {
		// Where the caller may not list every pod, their workspace's pods still count.
		_, ns, _ := s.Workspace(ctx)
		f, err := ReadFleet(ctx, s, ns)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f.PrintNotes(env)
		sum := f.Summary()
		if o.Table.Model != "" {
			sum = sum.Filter(o.Table.Model)
		}
		summaries[s.Zone.Name] = sum
		if o.Format == "json" || o.Format == "yaml" {
			continue
		}
		err = env.Render(func(out *bytes.Buffer) error {
			if o.AllZones {
				if i > 0 {
					out.WriteString("\n")
				}
				fmt.Fprintf(out, "Zone %s:\n", s.Zone.Name)
			}
			return gpus.Render(out, sum, o.Table)
		})
		if err != nil {
			return err
		}
	}
	if o.Format == "json" || o.Format == "yaml" {
		var v any = summaries
		if !o.AllZones && len(sessions) == 1 {
			v = summaries[sessions[0].Zone.Name]
		}
		if err := writeStructured(env.IO.Out, o.Format, v); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// writeStructured writes v as json or yaml (through its json tags).
func writeStructured(w io.Writer, format string, v any) error {
	var data []byte
	var err error
	if format == "json" {
		data, err = json.MarshalIndent(v, "", "    ")
		data = append(data, '\n')
	} else {
		data, err = yaml.Marshal(v)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// Fleet is what the GPU views read of a zone: its Dora Nodes (the agents' reports), its
// Kubernetes Nodes and the pods bound to them, as far as the caller may read them.
type Fleet struct {
	Zone string
	// Nodes are the Dora Nodes; nil when they cannot be read.
	Nodes []doradev1.Node
	// KubeNodes are the Kubernetes Nodes; nil when they cannot be read.
	KubeNodes []corev1.Node
	// Pods are the pods bound to a node: of every namespace, or of PodsNamespace alone when
	// the caller may list only those; nil when none can be read.
	Pods          []corev1.Pod
	PodsNamespace string
	// Notes say what could not be read, and what that changes.
	Notes []string
}

// ReadFleet reads a zone's fleet. Only when neither the Dora Nodes nor the Kubernetes Nodes
// can be read is it an error. A user may not read the Kubernetes Nodes nor everyone's pods:
// the agents' reports, and the pods of namespace (the caller's workspace; "" for none), are
// then all there is, which is said only when it matters.
func ReadFleet(ctx context.Context, s *Session, namespace string) (*Fleet, error) {
	f := &Fleet{Zone: s.Zone.Name}
	dora := &doradev1.NodeList{}
	doraErr := s.Client.List(ctx, dora)
	if doraErr == nil {
		f.Nodes = dora.Items
	}
	kube, kubeErr := s.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if kubeErr == nil {
		f.KubeNodes = kube.Items
	}
	if doraErr != nil && kubeErr != nil {
		return nil, s.Explain(doraErr, "listing the Dora Nodes (the GPUs their agents report)")
	}
	bound := metav1.ListOptions{FieldSelector: "spec.nodeName!="}
	pods, podsErr := s.Kube.CoreV1().Pods("").List(ctx, bound)
	if apierrors.IsForbidden(podsErr) && namespace != "" {
		if own, err := s.Kube.CoreV1().Pods(namespace).List(ctx, bound); err == nil {
			pods, podsErr, f.PodsNamespace = own, nil, namespace
		}
	}
	if podsErr == nil {
		f.Pods = pods.Items
	}
	switch {
	case doraErr != nil:
		f.Notes = append(f.Notes, s.Explain(doraErr, "listing the Dora Nodes").Error()+
			": the GPUs are counted from the Kubernetes Nodes' allocatable, without index, memory in use or utilisation")
	case kubeErr != nil && !apierrors.IsForbidden(kubeErr):
		f.Notes = append(f.Notes, s.Explain(kubeErr, "listing the Kubernetes Nodes").Error()+": cordons are those of the Dora Nodes only")
	}
	if podsErr != nil && !apierrors.IsForbidden(podsErr) {
		f.Notes = append(f.Notes, s.Explain(podsErr, "listing the pods bound to nodes").Error()+": a GPU is used only where an agent reports its pod")
	}
	return f, nil
}

// PrintNotes writes the fleet's notes on the error stream.
func (f *Fleet) PrintNotes(env *Env) {
	for _, n := range f.Notes {
		env.Errln("note:", n)
	}
}

// Summary is the fleet's GPUs, the agents' reports completed with the pods bound to the
// nodes (HoldersFromPods).
func (f *Fleet) Summary() gpus.Summary {
	return gpus.Summarize(f.ReportedNodes(), f.KubeNodes, f.Pods)
}

// ReportedNodes are the Dora Nodes with the GPUs' holders completed from the pods
// (HoldersFromPods), when the pods could be read.
func (f *Fleet) ReportedNodes() []doradev1.Node {
	if f.Pods == nil {
		return f.Nodes
	}
	return HoldersFromPods(f.Nodes, f.Pods)
}

// HoldersFromPods completes the agents' reports with the scheduler's count: a GPU the
// report names no pod for, on a node where pods the report does not name ask for GPUs
// (not finished), is given to one of those pods. An agent without the kubelet's
// PodResources API names no holder at all, and one that has it reports only every poll,
// after the pod started: the scheduler has allocated the GPU already. The pods take the
// unnamed healthy GPUs in the order of their index, the pods in the order of their names;
// which index a pod really holds only the report can say. The nodes given are not changed.
func HoldersFromPods(nodes []doradev1.Node, pods []corev1.Pod) []doradev1.Node {
	type want struct {
		pod  string
		gpus int64
	}
	byNode := map[string][]want{}
	for i := range pods {
		p := &pods[i]
		if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if n := gpus.PodGPUs(p); n > 0 {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], want{pod: p.Namespace + "/" + p.Name, gpus: n})
		}
	}
	out := make([]doradev1.Node, len(nodes))
	for i := range nodes {
		n := &nodes[i]
		wants := byNode[n.Name]
		if len(wants) == 0 || len(n.Status.GPUs) == 0 {
			out[i] = *n
			continue
		}
		c := n.DeepCopy()
		named := map[string]int64{}
		for _, g := range c.Status.GPUs {
			if g.Pod != "" {
				named[g.Pod]++
			}
		}
		sort.Slice(wants, func(a, b int) bool { return wants[a].pod < wants[b].pod })
		order := make([]int, 0, len(c.Status.GPUs))
		for j := range c.Status.GPUs {
			order = append(order, j)
		}
		sort.SliceStable(order, func(a, b int) bool {
			ga, gb := c.Status.GPUs[order[a]], c.Status.GPUs[order[b]]
			if ga.Healthy != gb.Healthy {
				return ga.Healthy
			}
			return ga.Index < gb.Index
		})
		next := 0
		for _, w := range wants {
			for missing := w.gpus - named[w.pod]; missing > 0; missing-- {
				for next < len(order) && c.Status.GPUs[order[next]].Pod != "" {
					next++
				}
				if next == len(order) {
					break
				}
				c.Status.GPUs[order[next]].Pod = w.pod
			}
		}
		out[i] = *c
	}
	return out
}
