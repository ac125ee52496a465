package gitops_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/credits"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
	"github.com/dora-hpc/dora-operator/internal/controller/zone"
	"github.com/dora-hpc/dora-operator/test/gitops"
)

// The kstatus tables of the kinds whose status functions are unexported live in their
// controllers' packages (internal/controller/<kind>/kstatus_test.go: Workload, Volume,
// Workspace, Storage, Node, User, Role). This file has the kinds whose controllers export
// their reconcilers (Zone, ResourceCredit, UserCredit), run here against a fake client, and
// the rules every kind shares.

// nopRecorder drops events.
type nopRecorder struct{}

func (nopRecorder) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {}

var kstatusNow = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// The credit controller's objects, as its reconciler writes them. A ResourceCredit that an
// older one overrides is Ready False: kstatus reads it as InProgress, although it stays so
// until someone deletes one of the two; Argo CD's health check says Degraded. (Making it
// Failed needs a Stalled condition from internal/controller/credits.) A UserCredit has no
// Ready: it is Current whatever its credits, the workloads it holds saying so themselves.
func TestKStatusCredits(t *testing.T) {
	ctx := context.Background()
	created := func(d time.Duration) metav1.Time { return metav1.NewTime(kstatusNow.Add(-d)) }
	h100 := func(name string, age time.Duration, perHour doradev1.Amount) *doradev1.ResourceCredit {
		return &doradev1.ResourceCredit{
			ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1, CreationTimestamp: created(age)},
			Spec: doradev1.ResourceCreditSpec{ProductName: "NVIDIA H100 80GB HBM3", Credit: doradev1.CreditPrice{Per: doradev1.CreditRate{Hour: perHour}},
				Annotations: map[string]string{"priceUnit": "credits"}},
		}
	}
	user := func(name string, weekly doradev1.Amount) *doradev1.User {
		u := &doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1}}
		if weekly != "" {
			u.Spec.Credits = []doradev1.WeeklyCredits{{Zone: "zone-a", Weekly: weekly}}
		}
		return u
	}
	c := testclient.Objects(h100("h100", 48*time.Hour, "2.5"), h100("h100-new", time.Hour, "3"),
		user("amedeo", "500"), user("bruno", "0"), user("carla", ""))
	r := credits.NewReconciler(c, nopRecorder{}, clocktesting.NewFakeClock(kstatusNow), credits.Options{Zone: "zone-a"})
	for _, name := range []string{"amedeo", "bruno", "carla"} {
		for range 2 {
			if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: name}}); err != nil {
				t.Fatalf("reconcile %s: %v", name, err)
			}
		}
	}

	cases := []struct {
		name   string
		obj    client.Object
		behind bool
		want   status.Status
		reason string
		argocd string
	}{
		{name: "a price in force", obj: &doradev1.ResourceCredit{ObjectMeta: metav1.ObjectMeta{Name: "h100"}}, want: status.CurrentStatus, argocd: "ready"},
		{name: "a second price of the product, ignored", obj: &doradev1.ResourceCredit{ObjectMeta: metav1.ObjectMeta{Name: "h100-new"}},
			want: status.InProgressStatus, reason: doradev1.ReasonDuplicateProduct, argocd: "duplicate-product"},
		{name: "a price changed since the manager read it", obj: &doradev1.ResourceCredit{ObjectMeta: metav1.ObjectMeta{Name: "h100"}}, behind: true,
			want: status.InProgressStatus, reason: "LatestGenerationNotObserved", argocd: "generation-behind"},
		{name: "credits left", obj: &doradev1.UserCredit{ObjectMeta: metav1.ObjectMeta{Name: "amedeo"}}, want: status.CurrentStatus},
		{name: "credits spent", obj: &doradev1.UserCredit{ObjectMeta: metav1.ObjectMeta{Name: "bruno"}}, want: status.CurrentStatus},
		{name: "no budget in the zone", obj: &doradev1.UserCredit{ObjectMeta: metav1.ObjectMeta{Name: "carla"}}, want: status.CurrentStatus},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Get(ctx, client.ObjectKeyFromObject(tc.obj), tc.obj); err != nil {
				t.Fatal(err)
			}
			if tc.behind {
				tc.obj.SetGeneration(tc.obj.GetGeneration() + 1)
			}
			if uc, ok := tc.obj.(*doradev1.UserCredit); ok && tc.name == "credits spent" && !meta.IsStatusConditionTrue(uc.Status.Conditions, doradev1.CreditsExhausted) {
				t.Fatalf("the test's user should have spent a budget of 0: %+v", uc.Status.Conditions)
			}
			checkKStatus(t, tc.obj, tc.want, tc.reason)
			if tc.argocd != "" {
				gitops.Golden(t, tc.obj, tc.argocd, "test/gitops/kstatus_test.go ("+tc.name+")")
			}
		})
	}
}

// The Zone, as its reconciler writes it: always Ready while its manager runs (an unpriced
// GPU model is a warning, Unpriced, not a failure).
func TestKStatusZone(t *testing.T) {
	ctx := context.Background()
	node := &doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gpu-node-1"}, Status: doradev1.NodeStatus{GPUs: []doradev1.GPUInfo{{UUID: "GPU-1", Product: "NVIDIA H100 80GB HBM3", Healthy: true}}}}
	for _, tc := range []struct {
		name    string
		objects []client.Object
		behind  bool
		want    status.Status
	}{
		{name: "every GPU model priced", want: status.CurrentStatus},
		{name: "a GPU model without a price", objects: []client.Object{node}, want: status.CurrentStatus},
		{name: "the spec changed since the status was written", behind: true, want: status.InProgressStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z := &doradev1.Zone{ObjectMeta: metav1.ObjectMeta{Name: "zone-a", Generation: 1}}
			c := testclient.Objects(append([]client.Object{z}, tc.objects...)...)
			r := zone.NewReconciler(c, "zone-a", clocktesting.NewFakeClock(kstatusNow))
			for range 2 {
				if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "zone-a"}}); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Get(ctx, client.ObjectKey{Name: "zone-a"}, z); err != nil {
				t.Fatal(err)
			}
			if tc.behind {
				z.Generation++
			}
			checkKStatus(t, z, tc.want, "")
		})
	}
}

// What kstatus decides before it reads any condition holds for every Dora kind: a
// deletionTimestamp is Terminating, an observedGeneration behind the generation is
// InProgress. An object whose manager has not written a status yet reads as Current:
// kstatus cannot tell it from an object that has no status to report (its documented
// limitation); the Argo CD health checks call it Progressing.
func TestKStatusEveryKind(t *testing.T) {
	pkg := reflect.TypeFor[doradev1.Workload]().PkgPath()
	var kinds []string
	for name, typ := range testclient.Scheme().KnownTypes(doradev1.GroupVersion) {
		if typ.PkgPath() != pkg || strings.HasSuffix(name, "List") {
			continue
		}
		kinds = append(kinds, name)
		t.Run(name, func(t *testing.T) {
			obj := reflect.New(typ).Interface().(client.Object)
			obj.SetName("x")
			obj.SetGeneration(2)
			u, err := gitops.Object(obj)
			if err != nil {
				t.Fatal(err)
			}
			for _, step := range []struct {
				what   string
				change func() error
				want   status.Status
			}{
				{"no status yet", func() error { return nil }, status.CurrentStatus},
				{"observedGeneration behind", func() error { return unstructured.SetNestedField(u.Object, int64(1), "status", "observedGeneration") }, status.InProgressStatus},
				{"observedGeneration caught up", func() error { return unstructured.SetNestedField(u.Object, int64(2), "status", "observedGeneration") }, status.CurrentStatus},
				{"deleted", func() error { u.SetDeletionTimestamp(&metav1.Time{Time: kstatusNow}); return nil }, status.TerminatingStatus},
			} {
				if err := step.change(); err != nil {
					t.Fatal(err)
				}
				res, err := status.Compute(u)
				if err != nil {
					t.Fatal(err)
				}
				if res.Status != step.want {
					t.Errorf("%s: kstatus = %s (%s), want %s", step.what, res.Status, res.Message, step.want)
				}
			}
		})
	}
	if len(kinds) != 10 {
		t.Errorf("Dora kinds %v: the kstatus tables cover 10 (Workload, Volume, Workspace, Storage, Node, Zone, User, Role, ResourceCredit, UserCredit)", kinds)
	}
}

// Every Argo CD testdata object gets the verdict from kstatus that its health check gives:
// Healthy and Suspended are Current, Progressing InProgress, Degraded Failed; an object
// being deleted is Terminating. The exceptions are where the two tools differ by design.
func TestKStatusAgreesWithArgoCD(t *testing.T) {
	exceptions := map[string]status.Status{
		// kstatus speaks of reconciliation, Argo CD of health: a node whose agent reports is
		// reconciled whatever its GPUs, and one whose agent is silent is Ready False, which
		// kstatus reads as InProgress.
		"Node/gpu-unhealthy":       status.CurrentStatus,
		"Node/nvml-unavailable":    status.CurrentStatus,
		"Node/agent-lease-expired": status.InProgressStatus,
		// The credit controller writes no Stalled (see TestKStatusCredits).
		"ResourceCredit/duplicate-product": status.InProgressStatus,
		// Argo CD calls a workload Suspended as soon as spec.paused is set, as it does a
		// paused Deployment; kstatus waits for the manager to see the new generation and
		// remove the pods.
		"Workload/paused-not-observed": status.InProgressStatus,
		"Workload/pausing":             status.InProgressStatus,
	}
	want := map[string]status.Status{
		"Healthy": status.CurrentStatus, "Suspended": status.CurrentStatus,
		"Progressing": status.InProgressStatus, "Degraded": status.FailedStatus,
	}
	for _, c := range customizations(t) {
		for _, tc := range c.tests {
			name := c.kind + "/" + strings.TrimSuffix(filepath.Base(tc.InputPath), ".yaml")
			t.Run(name, func(t *testing.T) {
				obj, err := gitops.ReadObject(filepath.Join(c.dir, tc.InputPath))
				if err != nil {
					t.Fatal(err)
				}
				res, err := status.Compute(obj)
				if err != nil {
					t.Fatal(err)
				}
				_, reported := obj.Object["status"]
				expect, ok := exceptions[name]
				switch {
				case ok:
				case !reported:
					// Nothing written yet: kstatus cannot tell (see TestKStatusEveryKind).
					expect = status.CurrentStatus
				case obj.GetDeletionTimestamp() != nil:
					expect = status.TerminatingStatus
				default:
					expect = want[tc.HealthStatus.Status]
				}
				if res.Status != expect {
					t.Errorf("Argo CD says %s (%q), kstatus %s (%q); want kstatus %s", tc.HealthStatus.Status, tc.HealthStatus.Message, res.Status, res.Message, expect)
				}
			})
		}
	}
}

func checkKStatus(t *testing.T, obj runtime.Object, want status.Status, reason string) {
	t.Helper()
	res, err := gitops.KStatus(obj)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != want {
		t.Errorf("kstatus = %s (%s), want %s", res.Status, res.Message, want)
	}
	if reason != "" && (len(res.Conditions) == 0 || res.Conditions[0].Reason != reason) {
		t.Errorf("kstatus conditions = %+v, want reason %s", res.Conditions, reason)
	}
}
