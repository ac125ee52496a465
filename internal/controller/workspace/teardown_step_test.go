package workspace

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestTeardownStepOf(t *testing.T) {
	cases := map[string]struct {
		left remaining
		want teardownStep
	}{
		"workloads left: stopping them, saying how many of each": {
			left: remaining{workloads: 2, pods: 3},
			want: teardownStep{reason: doradev1.ReasonStoppingWorkloads,
				message: "stopping workloads: 2 workloads and 3 pods remain in namespace ws-bob (kubectl get workloads,pods -n ws-bob)"},
		},
		"only pods left, their workloads gone: still stopping workloads": {
			left: remaining{pods: 1},
			want: teardownStep{reason: doradev1.ReasonStoppingWorkloads,
				message: "stopping workloads: 0 workloads and 1 pods remain in namespace ws-bob (kubectl get workloads,pods -n ws-bob)"},
		},
		"workloads left with volumes: the volumes wait": {
			left: remaining{workloads: 1, volumes: 4, claims: 4},
			want: teardownStep{reason: doradev1.ReasonStoppingWorkloads,
				message: "stopping workloads: 1 workloads and 0 pods remain in namespace ws-bob (kubectl get workloads,pods -n ws-bob)"},
		},
		"volumes and claims left: removing claims, the data kept": {
			left: remaining{volumes: 1, claims: 2},
			want: teardownStep{reason: doradev1.ReasonRemovingClaims,
				message: "removing volume claims: 1 volumes and 2 claims remain in namespace ws-bob (kubectl get volumes,pvc -n ws-bob says why); the data stays on the storage"},
		},
		"only claims for other workspaces' volumes left: removing claims": {
			left: remaining{claims: 1},
			want: teardownStep{reason: doradev1.ReasonRemovingClaims,
				message: "removing volume claims: 0 volumes and 1 claims remain in namespace ws-bob (kubectl get volumes,pvc -n ws-bob says why); the data stays on the storage"},
		},
		"nothing left: the namespace goes, and then the workspace": {
			want: teardownStep{reason: doradev1.ReasonDeletingNamespace, deleteNamespace: true,
				message: "workloads stopped and claims removed; namespace ws-bob is being deleted (the volumes' data stays on the storage)"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := teardownStepOf("ws-bob", tc.left)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(teardownStep{})); diff != "" {
				t.Errorf("step (-want +got):\n%s", diff)
			}
		})
	}
}

// Deleting is true and Ready false, both with the step's reason and message; a step
// reached again keeps its transition times, so that it writes nothing.
func TestSetDeleting(t *testing.T) {
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "bob", Generation: 4}}
	ws.Status.Conditions = []metav1.Condition{{
		Type: doradev1.ConditionReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonNamespaceOwned, Message: "namespace ws-bob belongs to this workspace",
		LastTransitionTime: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
	}}
	step := teardownStepOf("ws-bob", remaining{workloads: 1})

	setDeleting(ws, step)

	want := []metav1.Condition{
		{Type: doradev1.ConditionReady, Status: metav1.ConditionFalse, Reason: step.reason, Message: step.message, ObservedGeneration: 4},
		{Type: doradev1.WorkspaceDeleting, Status: metav1.ConditionTrue, Reason: step.reason, Message: step.message, ObservedGeneration: 4},
	}
	if diff := cmp.Diff(want, ws.Status.Conditions, cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime")); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	first := ws.Status.DeepCopy()
	setDeleting(ws, step)
	if diff := cmp.Diff(*first, ws.Status); diff != "" {
		t.Errorf("the same step again changed the status (-first +second):\n%s", diff)
	}
}

func TestTeardownNews(t *testing.T) {
	deleting := func(reason string) metav1.Condition {
		return metav1.Condition{Type: doradev1.WorkspaceDeleting, Status: metav1.ConditionTrue, Reason: reason, Message: "m " + reason}
	}
	ready := metav1.Condition{Type: doradev1.ConditionReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonNamespaceOwned}
	cases := map[string]struct {
		before, after []metav1.Condition
		want          *metav1.Condition
	}{
		"a live workspace: no news": {before: []metav1.Condition{ready}, after: []metav1.Condition{ready}},
		"the first step": {
			before: []metav1.Condition{ready}, after: []metav1.Condition{deleting(doradev1.ReasonStoppingWorkloads)},
			want: &metav1.Condition{Type: doradev1.WorkspaceDeleting, Status: metav1.ConditionTrue, Reason: doradev1.ReasonStoppingWorkloads, Message: "m " + doradev1.ReasonStoppingWorkloads},
		},
		"the next step": {
			before: []metav1.Condition{deleting(doradev1.ReasonStoppingWorkloads)}, after: []metav1.Condition{deleting(doradev1.ReasonRemovingClaims)},
			want: &metav1.Condition{Type: doradev1.WorkspaceDeleting, Status: metav1.ConditionTrue, Reason: doradev1.ReasonRemovingClaims, Message: "m " + doradev1.ReasonRemovingClaims},
		},
		"the same step, another count: no news": {
			before: []metav1.Condition{deleting(doradev1.ReasonStoppingWorkloads)},
			after:  []metav1.Condition{{Type: doradev1.WorkspaceDeleting, Status: metav1.ConditionTrue, Reason: doradev1.ReasonStoppingWorkloads, Message: "other"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, teardownNews(tc.before, tc.after)); diff != "" {
				t.Errorf("news (-want +got):\n%s", diff)
			}
		})
	}
}
