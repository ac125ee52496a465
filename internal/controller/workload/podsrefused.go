package workload

import (
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// A pod the API server refuses (a ResourceQuota, Pod Security admission, an admission
// webhook) is refused again until someone changes something the manager does not watch, so
// retrying at the work queue's pace would only fill the log. The refusal becomes the
// PodsAdmitted condition, with the API server's words, and the workload looks again after a
// pause that grows with how long it has been refused.
const (
	// minPodRetry is the first pause after a refusal.
	minPodRetry = 5 * time.Second
	// maxPodRetry caps the pause: a quota raised is noticed within this long.
	maxPodRetry = 5 * time.Minute
)

// refusal is a pod the API server would not create, and what it said.
type refusal struct {
	pod, message string
}

// refusedByServer reports whether a pod create failed because the API server (or its
// admission chain) will not accept the pod as it is, rather than for a reason a plain retry
// could fix (a timeout, a conflict, a server going away).
func refusedByServer(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)
}

// refusedBlocker turns this reconcile's refusals into what the user is told: the first
// refused pod, how many more, and the API server's message. nil when nothing was refused.
func refusedBlocker(refused []refusal) *blocker {
	if len(refused) == 0 {
		return nil
	}
	first := refused[0]
	for _, r := range refused[1:] {
		if r.pod < first.pod {
			first = r
		}
	}
	which := "pod " + first.pod
	if n := len(refused) - 1; n > 0 {
		which = fmt.Sprintf("pod %s and %d more", first.pod, n)
	}
	return &blocker{reason: doradev1.ReasonPodsRefused, message: truncate(fmt.Sprintf(
		"%s could not be created: %s; fix what it names (the spec, a ResourceQuota, the namespace's Pod Security level, an admission policy) and the manager creates the pods on its next try, at most 5 minutes later",
		which, first.message), 4096)}
}

// refusedFor is how long the workload's pods have been refused, as its stored status says:
// zero when they were not refused before this reconcile.
func refusedFor(before doradev1.WorkloadStatus, now time.Time) time.Duration {
	c := meta.FindStatusCondition(before.Conditions, doradev1.WorkloadPodsAdmitted)
	if c == nil || c.Status != metav1.ConditionFalse || c.LastTransitionTime.IsZero() {
		return 0
	}
	return max(now.Sub(c.LastTransitionTime.Time), 0)
}

// podRetryDelay is how long a workload whose pods have been refused for so long waits
// before trying again: as long again as it has been refused (so the pauses double), at
// least minPodRetry and at most maxPodRetry.
func podRetryDelay(refusedFor time.Duration) time.Duration {
	return min(max(refusedFor, minPodRetry), maxPodRetry)
}
