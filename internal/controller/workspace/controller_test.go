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

// A change of spec.podSecurity reaches the workspace's namespace as one patch of its Pod
// Security labels; the namespace's other labels stay, and the next reconcile writes nothing.
func TestPodSecurityChangeRelabelsOnlyTheNamespacesPodSecurityLabels(t *testing.T) {
	ctx := context.Background()
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "bob", UID: "bob-uid", Generation: 1}}
	log := &callLog{}
	c := testclient.NewBuilder().WithObjects(ws).WithInterceptorFuncs(log.funcs()).Build()
	r := NewReconciler(c, log, clocktesting.NewFakeClock(time.Now()), Options{HelperImage: "helper"})
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ws)}
	reconcile := func() []string {
		t.Helper()
		log.calls = nil
		if _, err := r.Reconcile(ctx, req); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		return log.calls
	}
	labelsNow := func() map[string]string {
		t.Helper()
		ns := &corev1.Namespace{}
		if err := c.Get(ctx, client.ObjectKey{Name: "bob"}, ns); err != nil {
			t.Fatal(err)
		}
		return ns.Labels
	}
	reconcile()
	want := map[string]string{
		"dora.dev/workspace":                 "bob",
		"pod-security.kubernetes.io/enforce": "baseline",
		"pod-security.kubernetes.io/audit":   "baseline",
		"pod-security.kubernetes.io/warn":    "baseline",
	}
	if diff := cmp.Diff(want, labelsNow()); diff != "" {
		t.Fatalf("a new namespace's labels (-want +got):\n%s", diff)
	}

	// Someone labels the namespace; then an administrator makes the workspace restricted.
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: "bob"}, ns); err != nil {
		t.Fatal(err)
	}
	ns.Labels["team"] = "ml"
	if err := c.Update(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, req.NamespacedName, ws); err != nil {
		t.Fatal(err)
	}
	ws.Spec.PodSecurity = doradev1.PodSecurityRestricted
	ws.Generation = 2
	if err := c.Update(ctx, ws); err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff([]string{"patch *v1.Namespace", "patch *v1alpha1.Workspace status"}, reconcile()); diff != "" {
		t.Errorf("reconcile after the change (-want +got):\n%s", diff)
	}
	want = map[string]string{
		"dora.dev/workspace":                 "bob",
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/audit":   "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
		"team":                               "ml",
	}
	if diff := cmp.Diff(want, labelsNow()); diff != "" {
		t.Errorf("the namespace's labels after the change (-want +got):\n%s", diff)
	}
	if calls := reconcile(); len(calls) != 0 {
		t.Errorf("a reconcile with the namespace in line sent %v, want nothing", calls)
	}
}

// A namespace of the same name that is not the workspace's is never relabelled.
func TestAForeignNamespaceIsNotRelabelled(t *testing.T) {
	ctx := context.Background()
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "bob", UID: "bob-uid", Generation: 1},
		Spec: doradev1.WorkspaceSpec{PodSecurity: doradev1.PodSecurityRestricted}}
	foreign := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bob", Labels: map[string]string{"owner": "someone-else"}}}
	log := &callLog{}
	c := testclient.NewBuilder().WithObjects(ws, foreign).WithInterceptorFuncs(log.funcs()).Build()
	r := NewReconciler(c, log, clocktesting.NewFakeClock(time.Now()), Options{HelperImage: "helper"})
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ws)}); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	for _, call := range log.calls {
		if call == "patch *v1.Namespace" {
			t.Errorf("the reconcile patched a namespace that is not the workspace's: %v", log.calls)
		}
	}
	got := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: "bob"}, got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"owner": "someone-else"}, got.Labels); diff != "" {
		t.Errorf("the foreign namespace's labels (-want +got):\n%s", diff)
	}
}
