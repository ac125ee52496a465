package workload

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestStatusWriteDecision(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cond := func(condType string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: condType, Status: status, Reason: reason}
	}
	status := func(gen int64, phase doradev1.WorkloadPhase, ready string, conds ...metav1.Condition) doradev1.WorkloadStatus {
		return doradev1.WorkloadStatus{ObservedGeneration: gen, Phase: phase, Ready: ready, Conditions: conds}
	}
	notReady := cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonReplicasNotReady)
	isReady := cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAllReplicasReady)
	queued := cond(doradev1.WorkloadQueued, metav1.ConditionTrue, doradev1.ReasonUnschedulable)
	refused := cond(doradev1.WorkloadPodsAdmitted, metav1.ConditionFalse, doradev1.ReasonPodsRefused)
	noVolume := cond(doradev1.WorkloadVolumesReady, metav1.ConditionFalse, "VolumeNotFound")
	noPort := cond(doradev1.WorkloadPortsReady, metav1.ConditionFalse, doradev1.ReasonPortUnavailable)
	held := cond(doradev1.CreditsExhausted, metav1.ConditionTrue, doradev1.ReasonBudgetSpent)
	stalled := cond(doradev1.ConditionStalled, metav1.ConditionTrue, doradev1.ReasonHostNetworkNotAllowed)
	never := status(0, "", "")
	cases := []struct {
		name      string
		before    doradev1.WorkloadStatus
		next      doradev1.WorkloadStatus
		lastWrite time.Duration // before now; for a status never written, since it was first held back
		inTransit bool
		wantWrite bool
		wantWait  time.Duration
	}{
		{"nothing changed", status(1, doradev1.WorkloadPhasePending, "0/4", notReady), status(1, doradev1.WorkloadPhasePending, "0/4", notReady), time.Hour, true, false, 0},
		{"a settled workload that stays settled: nothing", status(1, doradev1.WorkloadPhaseRunning, "4/4", isReady), status(1, doradev1.WorkloadPhaseRunning, "4/4", isReady), time.Hour, false, false, 0},

		// A new workload coming up: one write, once its pods are out of transit.
		{"a new workload waits for its pods", never, status(1, doradev1.WorkloadPhasePending, "0/4", notReady), 0, true, false, firstStatusDelay},
		{"a new workload waits past the delay of later counts", never, status(1, doradev1.WorkloadPhaseRunning, "2/4", notReady), 3 * time.Second, true, false, firstStatusDelay - 3*time.Second},
		{"a new workload whose pods run: written once", never, status(1, doradev1.WorkloadPhaseRunning, "4/4", isReady), 4 * time.Second, false, true, 0},
		{"a new workload whose pods take long is shown as it is", never, status(1, doradev1.WorkloadPhasePending, "1/4", notReady), firstStatusDelay, true, true, 0},
		{"a new workload of finished or waiting pods: written", never, status(1, doradev1.WorkloadPhaseCompleted, "0/4"), time.Second, false, true, 0},
		{"a new workload some of whose pods are refused: at once", never, status(1, doradev1.WorkloadPhasePending, "0/4", notReady, refused), 0, true, true, 0},
		{"a new workload that waits for hardware: at once", never, status(1, doradev1.WorkloadPhaseQueued, "0/4", notReady, queued), 0, true, true, 0},
		{"a new workload whose volume is missing: at once", never, status(1, doradev1.WorkloadPhasePending, "0/4", noVolume), 0, false, true, 0},
		{"a new workload whose NodePort is refused: at once", never, status(1, doradev1.WorkloadPhasePending, "0/4", notReady, noPort), 0, true, true, 0},
		{"a new workload held for credits: at once", never, status(1, doradev1.WorkloadPhasePaused, "0/0", held), 0, true, true, 0},
		{"a new workload that is stalled: at once", never, status(1, doradev1.WorkloadPhasePending, "0/4", stalled), 0, true, true, 0},

		// Later: what users act on at once, counts batched while pods are on their way.
		{"settled: written at once", status(1, doradev1.WorkloadPhasePending, "3/4", notReady), status(1, doradev1.WorkloadPhaseRunning, "4/4", isReady), 0, false, true, 0},
		{"a count moves while pods are on their way: waits", status(1, doradev1.WorkloadPhasePending, "0/4", notReady), status(1, doradev1.WorkloadPhaseRunning, "2/4", notReady), time.Second, true, false, statusDelay - time.Second},
		{"a count moves, long after the last write: written", status(1, doradev1.WorkloadPhasePending, "0/4", notReady), status(1, doradev1.WorkloadPhaseRunning, "2/4", notReady), statusDelay + time.Second, true, true, 0},
		{"queued: written at once", status(1, doradev1.WorkloadPhasePending, "0/4", notReady), status(1, doradev1.WorkloadPhaseQueued, "0/4", notReady, queued), 0, true, true, 0},
		{"new generation: written at once", status(1, doradev1.WorkloadPhaseRunning, "4/4", isReady), status(2, doradev1.WorkloadPhaseRunning, "4/4", isReady), 0, true, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			write, wait := statusWriteDecision(tc.before, tc.next, now.Add(-tc.lastWrite), tc.inTransit, now)
			if write != tc.wantWrite || wait != tc.wantWait {
				t.Errorf("write %v in %v, want %v in %v", write, wait, tc.wantWrite, tc.wantWait)
			}
		})
	}
}

// A resumed or released workload waits from the moment it was let go, not from its
// creation.
func TestStartedWaiting(t *testing.T) {
	created := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	resumed := created.Add(time.Hour)
	wl := &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(created)}}
	if got := startedWaiting(wl); !got.Equal(created) {
		t.Errorf("a new workload waits from %s, want its creation %s", got, created)
	}
	wl.Status.Conditions = []metav1.Condition{
		{Type: doradev1.WorkloadPaused, Status: metav1.ConditionFalse, LastTransitionTime: metav1.NewTime(resumed)},
		{Type: doradev1.CreditsExhausted, Status: metav1.ConditionTrue, LastTransitionTime: metav1.NewTime(resumed.Add(time.Hour))},
	}
	if got := startedWaiting(wl); !got.Equal(resumed) {
		t.Errorf("a resumed workload (still held) waits from %s, want the resume %s", got, resumed)
	}
}
