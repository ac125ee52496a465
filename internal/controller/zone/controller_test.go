package zone

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
)

// The zone's counts are written at once the first time, then at most every batch: a change
// within it waits for the rest of it, and an unchanged status is never written.
func TestZoneStatusIsWrittenAtMostEveryBatch(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	var patches atomic.Int32
	c := testclient.NewBuilder().WithObjects(
		&doradev1.Zone{ObjectMeta: metav1.ObjectMeta{Name: "dc-1"},
			// The credit controller's part of the status, which this controller keeps.
			Status: doradev1.ZoneStatus{Unowned: &doradev1.ZoneCredits{Zone: "dc-1", Used: "4"}}},
		&doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gpu-1"}},
	).WithInterceptorFuncs(interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			patches.Add(1)
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}).Build()
	r := NewReconciler(c, "dc-1", clk)
	reconcile := func() ctrl.Result {
		t.Helper()
		res, err := r.Reconcile(ctx, ctrl.Request{})
		if err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		return res
	}
	nodes := func() int32 {
		t.Helper()
		z := &doradev1.Zone{}
		if err := c.Get(ctx, client.ObjectKey{Name: "dc-1"}, z); err != nil {
			t.Fatal(err)
		}
		return z.Status.Nodes
	}

	if res := reconcile(); res.RequeueAfter != 0 || patches.Load() != 1 || nodes() != 1 {
		t.Fatalf("first reconcile: requeue %v, %d patches, %d nodes; want one write of 1 node", res.RequeueAfter, patches.Load(), nodes())
	}
	if res := reconcile(); res.RequeueAfter != 0 || patches.Load() != 1 {
		t.Fatalf("nothing changed: requeue %v, %d patches; want no write", res.RequeueAfter, patches.Load())
	}

	if err := c.Create(ctx, &doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gpu-2"}}); err != nil {
		t.Fatal(err)
	}
	clk.Step(2 * time.Second)
	if res := reconcile(); res.RequeueAfter != batch-2*time.Second || patches.Load() != 1 || nodes() != 1 {
		t.Fatalf("a change within the batch: requeue %v, %d patches, %d nodes; want a wait of the rest of the batch and no write", res.RequeueAfter, patches.Load(), nodes())
	}
	clk.Step(batch - 2*time.Second)
	if res := reconcile(); res.RequeueAfter != 0 || patches.Load() != 2 || nodes() != 2 {
		t.Fatalf("the batch over: requeue %v, %d patches, %d nodes; want a write of 2 nodes", res.RequeueAfter, patches.Load(), nodes())
	}
	z := &doradev1.Zone{}
	if err := c.Get(ctx, client.ObjectKey{Name: "dc-1"}, z); err != nil {
		t.Fatal(err)
	}
	if z.Status.Unowned == nil || z.Status.Unowned.Used != "4" {
		t.Errorf("status.unowned = %+v after the zone's writes, want the credit controller's, kept", z.Status.Unowned)
	}
}
