package workspace

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
	"github.com/dora-hpc/dora-operator/test/gitops"
)

// Every state a workspace takes, as kstatus reads the status the reconciler writes for it
// (a real reconcile against a fake client), and the Argo CD testdata
// (config/argocd/.../Workspace/testdata/<argocd>.yaml) made of it.
//
// Ready only says whether the namespace is the workspace's, so a clone still copying is
// Ready: its Reconciling condition makes it InProgress. A namespace of the name that is
// someone else's, and a clone that failed, stay so until a person acts: Stalled, Failed.
func TestKStatus(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	gone := metav1.NewTime(now.Add(time.Hour))
	owned := func(ws *doradev1.Workspace, name string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{doradev1.LabelWorkspace: ws.Name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "dora.dev/v1alpha1", Kind: "Workspace", Name: ws.Name, UID: ws.UID, Controller: ptr.To(true)}}}}
	}
	workspace := func(name string, mutate ...func(*doradev1.Workspace)) *doradev1.Workspace {
		ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Generation: 1},
			Spec: doradev1.WorkspaceSpec{PodSecurity: doradev1.PodSecurityBaseline}}
		for _, m := range mutate {
			m(ws)
		}
		return ws
	}
	cloneOf := func(source string, data bool) func(*doradev1.Workspace) {
		return func(ws *doradev1.Workspace) { ws.Spec.CloneFrom, ws.Spec.CopyData = source, data }
	}
	source := workspace("team.a")
	clone := workspace("team.b", cloneOf("team.a", false))
	dataClone := workspace("team.b", cloneOf("team.a", true))
	sourceWorkload := &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "train"},
		Spec: doradev1.WorkloadSpec{Image: doradev1.ImageSpec{Image: "pytorch"}}}
	sourceVolume := &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "data"}, Spec: doradev1.VolumeSpec{Storage: "nfs-home"}}
	foreignWorkload := &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "train"},
		Spec: doradev1.WorkloadSpec{Image: doradev1.ImageSpec{Image: "ubuntu"}}}

	cases := []struct {
		name    string
		ws      *doradev1.Workspace
		objects []client.Object
		// deleting marks the workspace deleted before the reconcile; behind bumps its
		// generation after.
		deleting, behind bool
		want             status.Status
		reason           string
		argocd           string
	}{
		{name: "namespace made", ws: source, want: status.CurrentStatus, argocd: "ready"},
		{name: "the namespace is someone else's", ws: source,
			objects: []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}},
			want:    status.FailedStatus, reason: doradev1.ReasonNamespaceClash, argocd: "namespace-clash"},
		{name: "the namespace is still being deleted", ws: source,
			objects: []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", DeletionTimestamp: &gone, Finalizers: []string{"kubernetes"}}}},
			want:    status.InProgressStatus, reason: doradev1.ReasonNamespaceTerminating, argocd: "namespace-terminating"},
		{name: "clone waiting for its source", ws: clone,
			want: status.InProgressStatus, reason: doradev1.ReasonSourceNotFound, argocd: "clone-source-missing"},
		{name: "clone copying a volume's data", ws: dataClone, objects: []client.Object{source, owned(source, "team-a"), sourceVolume},
			want: status.InProgressStatus, reason: doradev1.ReasonCloning, argocd: "cloning"},
		{name: "clone complete", ws: clone, objects: []client.Object{source, owned(source, "team-a"), sourceWorkload},
			want: status.CurrentStatus, argocd: "clone-complete"},
		{name: "clone failed: a workload of the name is in the way", ws: clone,
			objects: []client.Object{source, owned(source, "team-a"), sourceWorkload, owned(clone, "team-b"), foreignWorkload},
			want:    status.FailedStatus, reason: doradev1.ReasonCloneFailed, argocd: "clone-failed"},
		{name: "the spec changed since the status was written", ws: source, behind: true,
			want: status.InProgressStatus, reason: "LatestGenerationNotObserved", argocd: "generation-behind"},
		{name: "being taken down", ws: source, deleting: true,
			objects: []client.Object{owned(source, "team-a"), &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "train"}}},
			want:    status.TerminatingStatus, argocd: "deleting"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ws := tc.ws.DeepCopy()
			if tc.deleting {
				ws.DeletionTimestamp = &gone
				ws.Finalizers = []string{doradev1.FinalizerWorkspace}
			}
			c := testclient.NewBuilder().WithObjects(append([]client.Object{ws}, tc.objects...)...).Build()
			r := NewReconciler(c, &callLog{}, clocktesting.NewFakeClock(now), Options{HelperImage: "helper"})
			// Twice, as a settled workspace is reconciled again; a teardown moves on at each
			// reconcile, so it is looked at after its first.
			rounds := 2
			if tc.deleting {
				rounds = 1
			}
			for range rounds {
				if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ws)}); err != nil {
					t.Fatalf("reconcile: %v", err)
				}
			}
			got := &doradev1.Workspace{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(ws), got); err != nil {
				t.Fatal(err)
			}
			if tc.behind {
				got.Generation++
			}
			res, err := gitops.KStatus(got)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want {
				t.Errorf("kstatus = %s (%s), want %s; conditions %+v", res.Status, res.Message, tc.want, got.Status.Conditions)
			}
			if tc.reason != "" && (len(res.Conditions) == 0 || res.Conditions[0].Reason != tc.reason) {
				t.Errorf("kstatus conditions = %+v, want reason %s", res.Conditions, tc.reason)
			}
			if tc.argocd != "" {
				gitops.Golden(t, got, tc.argocd, "internal/controller/workspace/kstatus_test.go ("+tc.name+")")
			}
		})
	}
}
