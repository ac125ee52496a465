package workload

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// podlessCache is the manager's cache a moment after it created pods: it shows none of them.
type podlessCache struct{ client.Client }

func (c podlessCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*corev1.PodList); ok {
		return nil
	}
	return c.Client.List(ctx, list, opts...)
}

// A reconcile that runs before the cache shows the pods just created does not create them
// again (each would be a write the API server refuses); a pod the cache still lacks
// createExpectation later was deleted before it was seen, and is made again.
func TestPodsOnTheirWayToTheCacheAreNotCreatedAgain(t *testing.T) {
	e := newHistoryEnv(t, testWorkload(4, image("pytorch:1")))
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	e.r.clock = clk
	e.reconcile()
	want := map[string]int{"create pod": 4}

	cached := e.r.client
	e.r.client = podlessCache{cached}
	result, err := e.r.Reconcile(e.ctx, ctrl.Request{NamespacedName: e.key})
	if err != nil || result.RequeueAfter <= 0 || result.RequeueAfter > createExpectation {
		t.Errorf("Reconcile before the cache has the pods = %+v, %v; want a look again within %v", result, err, createExpectation)
	}
	if diff := cmp.Diff(want, e.writes); diff != "" {
		t.Errorf("writes before the cache has the pods (-want +got):\n%s", diff)
	}

	for _, pod := range e.pods() {
		if err := e.c.Delete(e.ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	clk.SetTime(clk.Now().Add(createExpectation))
	e.reconcile()
	if got := e.writes["create pod"]; got != 8 {
		t.Errorf("pods created once the pods never seen are past createExpectation: %d, want 8 (the 4 again)", got)
	}
}

// A workload deleted before the cache showed its pods leaves nothing behind: once it is
// gone, what it created more than createExpectation ago is forgotten; a create of a
// moment ago (another workload's, on its way) is kept.
func TestADeletedWorkloadsCreatesAreForgotten(t *testing.T) {
	e := newHistoryEnv(t, testWorkload(2, image("pytorch:1")))
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	e.r.clock = clk
	e.r.client = podlessCache{e.r.client}
	e.reconcile()
	clk.SetTime(clk.Now().Add(createExpectation))
	onItsWay := client.ObjectKey{Namespace: "team", Name: "other-0"}
	e.r.creating.Store(onItsWay, clk.Now())

	wl := &doradev1.Workload{}
	if err := e.c.Get(e.ctx, e.key, wl); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Delete(e.ctx, wl); err != nil {
		t.Fatal(err)
	}
	if _, err := e.r.Reconcile(e.ctx, ctrl.Request{NamespacedName: e.key}); err != nil {
		t.Fatal(err)
	}
	var left []client.ObjectKey
	e.r.creating.Range(func(key, _ any) bool {
		left = append(left, key.(client.ObjectKey))
		return true
	})
	if diff := cmp.Diff([]client.ObjectKey{onItsWay}, left); diff != "" {
		t.Errorf("creates remembered after the workload went (-want +got):\n%s", diff)
	}
}
