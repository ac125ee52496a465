package workload

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func testWorkload(replicas int32, mutate ...func(*doradev1.Workload)) *doradev1.Workload {
	wl := &doradev1.Workload{
		ObjectMeta: metav1.ObjectMeta{Name: "train", Namespace: "team", Generation: 3},
		Spec: doradev1.WorkloadSpec{
			Replica: &doradev1.ReplicaSpec{Count: ptr.To(replicas)},
			Image:   doradev1.ImageSpec{Image: "pytorch"},
			Config:  &doradev1.ContainerConfig{RestartPolicy: doradev1.RestartNever},
		},
	}
	for _, m := range mutate {
		m(wl)
	}
	return wl
}

func TestComputeStatus(t *testing.T) {
	const queuedMsg = "0/6 nodes are available: 6 Insufficient nvidia.com/gpu."
	cases := []struct {
		name       string
		in         statusInput
		wantPhase  doradev1.WorkloadPhase
		wantReady  string
		wantCond   map[string]metav1.ConditionStatus
		wantReason string // of Ready
		wantInMsg  string // a piece of Ready's message
	}{
		{
			name:      "all replicas ready",
			in:        statusInput{wl: testWorkload(2), desired: 2, pods: []*corev1.Pod{replica(0, "r1").ready().scheduledOn("n1").build(), replica(1, "r1").ready().scheduledOn("n2").build()}},
			wantPhase: doradev1.WorkloadPhaseRunning, wantReady: "2/2", wantReason: doradev1.ReasonAllReplicasReady,
			wantCond: map[string]metav1.ConditionStatus{doradev1.ConditionReady: metav1.ConditionTrue, doradev1.WorkloadQueued: metav1.ConditionFalse, doradev1.WorkloadProgressing: metav1.ConditionFalse,
				doradev1.WorkloadPodsAdmitted: metav1.ConditionTrue},
		},
		{
			name:      "a replica waits for GPUs: Queued with the scheduler's words",
			in:        statusInput{wl: testWorkload(2), desired: 2, pods: []*corev1.Pod{replica(0, "r1").ready().scheduledOn("n1").build(), replica(1, "r1").unschedulable(queuedMsg).build()}},
			wantPhase: doradev1.WorkloadPhaseQueued, wantReady: "1/2", wantReason: doradev1.ReasonUnschedulable, wantInMsg: "Insufficient nvidia.com/gpu",
			wantCond: map[string]metav1.ConditionStatus{doradev1.WorkloadQueued: metav1.ConditionTrue},
		},
		{
			name: "no node has the product: said plainly",
			in: statusInput{wl: testWorkload(1), desired: 1, noProduct: "Tesla T4",
				pods: []*corev1.Pod{replica(0, "r1").unschedulable("0/6 nodes are available: 6 node(s) didn't match Pod's node affinity/selector.").build()}},
			wantPhase: doradev1.WorkloadPhaseQueued, wantReady: "0/1", wantReason: doradev1.ReasonUnschedulable, wantInMsg: "no node has product Tesla T4",
		},
		{
			name:      "paused",
			in:        statusInput{wl: testWorkload(2, func(w *doradev1.Workload) { w.Spec.Paused = true }), desired: 0},
			wantPhase: doradev1.WorkloadPhasePaused, wantReady: "0/0", wantReason: doradev1.ReasonPaused,
			wantCond: map[string]metav1.ConditionStatus{doradev1.WorkloadPaused: metav1.ConditionTrue},
		},
		{
			name: "volumes not ready: pending, and why",
			in: statusInput{wl: testWorkload(1), desired: 1,
				volumes: &blocker{reason: doradev1.ReasonVolumesNotReady, message: "waiting for volumes: claim home for volume home does not exist yet"}},
			wantPhase: doradev1.WorkloadPhasePending, wantReady: "0/1", wantReason: doradev1.ReasonVolumesNotReady, wantInMsg: "claim home",
			wantCond: map[string]metav1.ConditionStatus{doradev1.WorkloadVolumesReady: metav1.ConditionFalse, doradev1.WorkloadProgressing: metav1.ConditionTrue},
		},
		{
			name: "port refused",
			in: statusInput{wl: testWorkload(1), desired: 1,
				ports: &blocker{reason: doradev1.ReasonPortUnavailable, message: "the API server refused a NodePort: provided port is not in the valid range"}},
			wantPhase: doradev1.WorkloadPhasePending, wantReason: doradev1.ReasonPortUnavailable, wantReady: "0/1", wantInMsg: "valid range",
			wantCond: map[string]metav1.ConditionStatus{doradev1.WorkloadPortsReady: metav1.ConditionFalse},
		},
		{
			name: "pods refused by the API server: pending, with its words",
			in: statusInput{wl: testWorkload(3), desired: 3, plan: plan{create: []int32{1, 2}},
				pods:        []*corev1.Pod{replica(0, "r1").ready().scheduledOn("n1").build()},
				podsRefused: refusedBlocker([]refusal{{pod: "train-1", message: "exceeded quota: pods"}, {pod: "train-2", message: "exceeded quota: pods"}})},
			wantPhase: doradev1.WorkloadPhasePending, wantReady: "1/3", wantReason: doradev1.ReasonPodsRefused, wantInMsg: "exceeded quota",
			wantCond: map[string]metav1.ConditionStatus{doradev1.WorkloadPodsAdmitted: metav1.ConditionFalse, doradev1.WorkloadProgressing: metav1.ConditionTrue},
		},
		{
			name:      "every replica ran to completion under Never",
			in:        statusInput{wl: testWorkload(2), desired: 2, pods: []*corev1.Pod{replica(0, "r1").phase(corev1.PodSucceeded).build(), replica(1, "r1").phase(corev1.PodSucceeded).build()}},
			wantPhase: doradev1.WorkloadPhaseCompleted, wantReady: "0/2", wantReason: doradev1.ReasonCompleted,
		},
		{
			name:      "replicas failed under Never",
			in:        statusInput{wl: testWorkload(2), desired: 2, pods: []*corev1.Pod{replica(0, "r1").phase(corev1.PodSucceeded).build(), replica(1, "r1").phase(corev1.PodFailed).build()}},
			wantPhase: doradev1.WorkloadPhaseFailed, wantReady: "0/2", wantReason: doradev1.ReasonFailed, wantInMsg: "1 of 2 replicas failed",
		},
		{
			name:      "scaled to zero",
			in:        statusInput{wl: testWorkload(0), desired: 0},
			wantPhase: doradev1.WorkloadPhaseRunning, wantReady: "0/0", wantReason: doradev1.ReasonScaledToZero,
		},
		{
			name:      "creating",
			in:        statusInput{wl: testWorkload(2), desired: 2, plan: plan{create: []int32{0, 1}}},
			wantPhase: doradev1.WorkloadPhasePending, wantReady: "0/2", wantReason: doradev1.ReasonReplicasNotReady,
			wantCond: map[string]metav1.ConditionStatus{doradev1.WorkloadProgressing: metav1.ConditionTrue},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := computeStatus(tc.in)
			if st.Phase != tc.wantPhase || st.Ready != tc.wantReady || st.ObservedGeneration != 3 {
				t.Errorf("phase %s ready %s gen %d, want %s %s 3", st.Phase, st.Ready, st.ObservedGeneration, tc.wantPhase, tc.wantReady)
			}
			ready := meta.FindStatusCondition(st.Conditions, doradev1.ConditionReady)
			if ready == nil || ready.Reason != tc.wantReason || !strings.Contains(ready.Message, tc.wantInMsg) {
				t.Errorf("Ready = %+v, want reason %s and %q in the message", ready, tc.wantReason, tc.wantInMsg)
			}
			for condType, want := range tc.wantCond {
				if c := meta.FindStatusCondition(st.Conditions, condType); c == nil || c.Status != want {
					t.Errorf("%s = %+v, want %s", condType, c, want)
				}
			}
		})
	}
}

// A second computation over the same inputs gives the very same status: no write.
func TestComputeStatusIsStable(t *testing.T) {
	in := statusInput{wl: testWorkload(2), desired: 2, revision: "r1", pods: []*corev1.Pod{replica(0, "r1").ready().scheduledOn("n1").build(), replica(1, "r1").unschedulable("0/6 nodes").build()}}
	first := computeStatus(in)
	in.wl.Status = first
	second := computeStatus(in)
	if !equalStatus(first, second) {
		t.Fatalf("status changed on recomputation:\n%+v\n%+v", first, second)
	}
	if len(first.Containers) != 2 || first.Containers[0].Node != "n1" || first.Containers[1].Reason != doradev1.ReasonUnschedulable {
		t.Errorf("containers = %+v", first.Containers)
	}
}
