package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

func init() {
	Register("history", newHistoryCommand)
	Register("rollback", newRollbackCommand)
}

// Revision is one kept spec of a workload. From a workload's first spec change on, the
// manager keeps the spec of every revision (all of spec but replica.count and paused) as a
// ControllerRevision labelled dora.dev/workload and dora.dev/revision (the pod-template
// hash), numbered from 1, the newest ten; until then the workload's own spec is its one
// revision, 1.
type Revision struct {
	Number int64
	Hash   string
	// Name is the ControllerRevision's; "" for the revision that is the workload's spec.
	Name    string
	Created time.Time
	Spec    *doradev1.WorkloadSpec
	// Current is the revision the workload's pods are made from now.
	Current bool
}

// WorkloadRevisions are the kept revisions of wl among revisions, oldest first: those the
// workload controls, or, when it controls none (its spec has never changed), its spec as
// revision 1, the current one.
func WorkloadRevisions(wl *doradev1.Workload, revisions []appsv1.ControllerRevision) ([]Revision, error) {
	var out []Revision
	for _, cr := range revisions {
		if !metav1.IsControlledBy(&cr, wl) {
			continue
		}
		spec := &doradev1.WorkloadSpec{}
		if err := json.Unmarshal(cr.Data.Raw, spec); err != nil {
			return nil, fmt.Errorf("reading revision %d of workload %s: %w", cr.Revision, wl.Name, err)
		}
		hash := cr.Labels[LabelRevision]
		out = append(out, Revision{Number: cr.Revision, Hash: hash, Name: cr.Name, Created: cr.CreationTimestamp.Time, Spec: spec,
			Current: hash != "" && hash == wl.Status.CurrentRevision})
	}
	if len(out) == 0 {
		spec := wl.Spec.DeepCopy()
		spec.Replica, spec.Paused = nil, false
		return []Revision{{Number: 1, Hash: wl.Status.CurrentRevision, Created: wl.CreationTimestamp.Time, Spec: spec, Current: true}}, nil
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

// RollbackTarget is the revision a rollback goes to: number to, or (0) the newest revision
// that is not the current one. Asked for the current one, it returns it: a rollback to it
// changes nothing.
func RollbackTarget(revisions []Revision, to int64) (Revision, error) {
	numbers := make([]string, 0, len(revisions))
	for _, r := range revisions {
		numbers = append(numbers, strconv.FormatInt(r.Number, 10))
	}
	if to == 0 {
		for i := len(revisions) - 1; i >= 0; i-- {
			if !revisions[i].Current {
				return revisions[i], nil
			}
		}
		return Revision{}, fmt.Errorf("there is no earlier revision to go back to (kept: %s)", orNone(strings.Join(numbers, ", ")))
	}
	for _, r := range revisions {
		if r.Number == to {
			return r, nil
		}
	}
	return Revision{}, fmt.Errorf("no revision %d; the kept revisions are %s", to, orNone(strings.Join(numbers, ", ")))
}

// RolledBackSpec is the spec that returns wl to revision r: the revision's spec, with the
// workload's own replica count and paused, which are no part of a revision.
func RolledBackSpec(wl *doradev1.Workload, r Revision) doradev1.WorkloadSpec {
	spec := *r.Spec.DeepCopy()
	spec.Replica = wl.Spec.Replica.DeepCopy()
	spec.Paused = wl.Spec.Paused
	return spec
}

// HistoryTable lists revisions: REVISION, CREATED, CURRENT; wide adds HASH, IMAGE, GPUS
// and CMD.
func HistoryTable(revisions []Revision, now time.Time) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Revision", Type: "integer"}, {Name: "Created", Type: "string"}, {Name: "Current", Type: "string"},
		{Name: "Hash", Type: "string", Priority: 1}, {Name: "Image", Type: "string", Priority: 1},
		{Name: "GPUs", Type: "string", Priority: 1}, {Name: "Cmd", Type: "string", Priority: 1},
	}}
	for _, r := range revisions {
		current := ""
		if r.Current {
			current = "*"
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{r.Number, Age(r.Created, now), current, r.Hash, r.Spec.Image.Image, gpuSummary(r.Spec), cmdSummary(r.Spec)}})
	}
	return t
}

// gpuSummary says the GPUs a spec asks for per replica: "2 x Tesla V100-SXM2-16GB".
func gpuSummary(spec *doradev1.WorkloadSpec) string {
	g := spec.Selectors.GPU
	if g == nil || g.Count == nil {
		return "<none>"
	}
	products := strings.Join(g.ProductName.Values, " | ")
	if products == "" {
		products = doradev1.All
	}
	return g.Count.String() + " x " + products
}

func cmdSummary(spec *doradev1.WorkloadSpec) string {
	if spec.Config == nil || len(spec.Config.Cmd.Values) == 0 {
		return "<image's>"
	}
	return strings.Join(spec.Config.Cmd.Values, " ")
}

// workloadRevisions reads the revisions of a target's workload.
func workloadRevisions(ctx context.Context, t *Target) ([]Revision, error) {
	list := &appsv1.ControllerRevisionList{}
	err := t.S.Client.List(ctx, list, client.InNamespace(t.Workload.Namespace),
		client.MatchingLabels{doradev1.LabelWorkload: naming.WorkloadLabelValue(t.Workload.Name)})
	if err != nil {
		return nil, t.S.Explain(err, fmt.Sprintf("reading the revisions of workload %s %s", t.Workload.Name, t.Where()))
	}
	return WorkloadRevisions(t.Workload, list.Items)
}

func newHistoryCommand(env *Env) *cobra.Command {
	out := NewOutputFlags(false)
	cmd := &cobra.Command{
		Use:               "history WORKLOAD",
		GroupID:           GroupRun,
		Short:             "List a workload's kept revisions (its earlier specs)",
		Long:              "List the revisions the manager keeps of a workload's spec (the newest ten): each change under spec but replica.count and paused is a revision; a workload whose spec never changed has one, revision 1. CURRENT marks the one its containers run. rollback returns to one.",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeWorkloads(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f := out.Format(); f != "" && f != FormatWide {
				return fmt.Errorf("-o %s: history prints a table; use -o wide for more columns", f)
			}
			t, err := FindWorkload(cmd.Context(), env, args[0])
			if err != nil {
				return err
			}
			revisions, err := workloadRevisions(cmd.Context(), t)
			if err != nil {
				return err
			}
			return PrintTable(env.IO.Out, HistoryTable(revisions, time.Now()), out.Wide(), out.NoHeaders)
		},
	}
	cmd.Flags().StringVarP(out.Print.OutputFormat, "output", "o", "", "Output format: wide adds the hash, image, GPUs and command of each revision.")
	cmd.Flags().BoolVar(&out.NoHeaders, "no-headers", false, "Leave out the headers.")
	return cmd
}

func newRollbackCommand(env *Env) *cobra.Command {
	var to int64
	cmd := &cobra.Command{
		Use:               "rollback WORKLOAD [--to-revision N]",
		GroupID:           GroupRun,
		Short:             "Return a workload to a kept revision (by default the one before the current)",
		Long:              "Return a workload's spec to a kept revision (see history): the revision's spec is written back, keeping the workload's replica count and paused; its containers are then replaced as for any change.",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeWorkloads(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := FindWorkload(ctx, env, args[0])
			if err != nil {
				return err
			}
			revisions, err := workloadRevisions(ctx, t)
			if err != nil {
				return err
			}
			target, err := RollbackTarget(revisions, to)
			if err != nil {
				return fmt.Errorf("rolling back workload %s %s: %w", t.Workload.Name, t.Where(), err)
			}
			if target.Current {
				env.Outf("workload.dora.dev/%s is at revision %d already (%s): nothing to roll back\n", t.Workload.Name, target.Number, t.Place())
				return nil
			}
			err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
				wl := &doradev1.Workload{}
				if err := t.S.Client.Get(ctx, client.ObjectKeyFromObject(t.Workload), wl); err != nil {
					return err
				}
				wl.Spec = RolledBackSpec(wl, target)
				return t.S.Client.Update(ctx, wl, client.FieldOwner(FieldManager))
			})
			if err != nil {
				return t.S.Explain(err, fmt.Sprintf("rolling back workload %s %s", t.Workload.Name, t.Where()))
			}
			env.Outf("workload.dora.dev/%s rolled back to revision %d (%s)\n", t.Workload.Name, target.Number, t.Place())
			return nil
		},
	}
	cmd.Flags().Int64Var(&to, "to-revision", 0, "The revision to return to (see history); default: the newest one before the current.")
	return cmd
}
