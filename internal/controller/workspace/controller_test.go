package workspace

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
)

// callLog records, in order, the writes a reconcile sends and the events it records.
type callLog struct{ calls []string }

func (l *callLog) Eventf(_, _ runtime.Object, _, reason, _, _ string, _ ...any) {
	l.calls = append(l.calls, "event "+reason)
}

func (l *callLog) funcs() interceptor.Funcs {
	return interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			l.calls = append(l.calls, fmt.Sprintf("patch %T", obj))
			return c.Patch(ctx, obj, patch, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			l.calls = append(l.calls, fmt.Sprintf("delete %T", obj))
			return c.Delete(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			l.calls = append(l.calls, fmt.Sprintf("patch %T %s", obj, sub))
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}
}

// Each reconcile of a teardown writes the status once, with the step it is at; the event
// of a new step follows that write, and the finalizer goes last, once the namespace is.
func TestTeardownWritesEachStepOnceThenReleasesTheWorkspace(t *testing.T) {
	ctx := context.Background()
	gone := metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{
		Name: "bob", UID: "bob-uid", Generation: 1, DeletionTimestamp: &gone, Finalizers: []string{doradev1.FinalizerWorkspace},
	}}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bob", OwnerReferences: []metav1.OwnerReference{{
		APIVersion: "dora.dev/v1alpha1", Kind: "Workspace", Name: "bob", UID: "bob-uid", Controller: ptr.To(true)}}}}
	wl := &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: "bob", Name: "train"}}
	log := &callLog{}
	c := testclient.NewBuilder().WithObjects(ws, ns, wl).WithInterceptorFuncs(log.funcs()).Build()
	r := NewReconciler(c, log, clocktesting.NewFakeClock(gone.Time), Options{HelperImage: "helper"})
	reconcile := func() []string {
		t.Helper()
		log.calls = nil
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ws)}); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		return log.calls
	}

	want := []string{"delete *v1alpha1.Workload", "patch *v1alpha1.Workspace status", "event " + doradev1.ReasonStoppingWorkloads}
	if diff := cmp.Diff(want, reconcile()); diff != "" {
		t.Errorf("stopping the workloads (-want +got):\n%s", diff)
	}
	got := &doradev1.Workspace{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(ws), got); err != nil {
		t.Fatal(err)
	}
	for _, condType := range []string{doradev1.WorkspaceDeleting, doradev1.ConditionReady} {
		if c := meta.FindStatusCondition(got.Status.Conditions, condType); c == nil || c.Reason != doradev1.ReasonStoppingWorkloads {
			t.Errorf("%s = %+v, want reason %s", condType, c, doradev1.ReasonStoppingWorkloads)
		}
	}

	want = []string{"delete *v1.Namespace", "patch *v1alpha1.Workspace status", "event " + doradev1.ReasonDeletingNamespace, "patch *v1alpha1.Workspace"}
	if diff := cmp.Diff(want, reconcile()); diff != "" {
		t.Errorf("deleting the namespace (-want +got):\n%s", diff)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(ws), got); err == nil {
		t.Errorf("the workspace is still there, with finalizers %v", got.Finalizers)
	}
}

// A reconcile that finds nothing new writes nothing and tells nothing.
func TestAWorkspaceWithItsNamespaceWritesNothingTwice(t *testing.T) {
	ctx := context.Background()
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "bob", UID: "bob-uid", Generation: 1}}
	log := &callLog{}
	c := testclient.NewBuilder().WithObjects(ws).WithInterceptorFuncs(log.funcs()).Build()
	r := NewReconciler(c, log, clocktesting.NewFakeClock(time.Now()), Options{HelperImage: "helper"})
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ws)}

	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatalf("first reconcile: %v", err)
	}
	want := []string{"patch *v1alpha1.Workspace", "patch *v1alpha1.Workspace status", "event " + doradev1.ReasonNamespaceCreated}
	if diff := cmp.Diff(want, log.calls); diff != "" {
		t.Errorf("first reconcile (-want +got):\n%s", diff)
	}
	log.calls = nil
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatalf("second reconcile: %v", err)
	}
	if len(log.calls) != 0 {
		t.Errorf("second reconcile sent %v, want nothing", log.calls)
	}
}
