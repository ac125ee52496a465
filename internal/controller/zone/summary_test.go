package zone

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestSummarize(t *testing.T) {
	node := func(products ...string) doradev1.Node {
		n := doradev1.Node{}
		for _, p := range products {
			n.Status.GPUs = append(n.Status.GPUs, doradev1.GPUInfo{Product: p})
		}
		return n
	}
	wl := func(phase doradev1.WorkloadPhase) doradev1.Workload {
		return doradev1.Workload{Status: doradev1.WorkloadStatus{Phase: phase}}
	}
	got := summarize(
		[]doradev1.Node{node("Tesla V100-SXM2-16GB", "Tesla V100-SXM2-16GB"), node("Quadro RTX 6000", "Tesla V100-SXM2-16GB"), node()},
		[]doradev1.Workload{wl(doradev1.WorkloadPhaseRunning), wl(doradev1.WorkloadPhaseRunning), wl(doradev1.WorkloadPhaseQueued), wl("")},
		[]doradev1.ResourceCredit{{Spec: doradev1.ResourceCreditSpec{ProductName: "Tesla V100-SXM2-16GB"}}},
	)
	want := doradev1.ZoneStatus{
		Nodes: 3,
		GPUs: []doradev1.GPUCount{
			{Product: "Quadro RTX 6000", Count: 1},
			{Product: "Tesla V100-SXM2-16GB", Count: 3},
		},
		Workloads: map[string]int32{string(doradev1.WorkloadPhaseRunning): 2, string(doradev1.WorkloadPhaseQueued): 1, string(doradev1.WorkloadPhasePending): 1},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(doradev1.ZoneStatus{}, "Conditions")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if c := meta.FindStatusCondition(got.Conditions, doradev1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Ready = %+v, want True", c)
	}
	// The Quadro has no price: the admin is told before anybody is charged 0 for it.
	if c := meta.FindStatusCondition(got.Conditions, doradev1.Unpriced); c == nil || c.Status != metav1.ConditionTrue ||
		c.Message != `no ResourceCredit prices "Quadro RTX 6000" (1 GPUs): time on them is charged 0; create a ResourceCredit with that product_name` {
		t.Errorf("Unpriced = %+v, want True naming the Quadro", c)
	}
	empty := summarize(nil, nil, nil)
	if empty.Nodes != 0 || empty.GPUs != nil || empty.Workloads != nil {
		t.Errorf("empty zone = %+v", empty)
	}
	if c := meta.FindStatusCondition(empty.Conditions, doradev1.Unpriced); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("Unpriced of a zone without GPUs = %+v, want False", c)
	}
}
