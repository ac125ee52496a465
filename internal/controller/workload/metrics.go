package workload

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// startSeconds is how long workloads take to run: from their creation, or from the moment
// they were resumed or released from a credit hold, until their status first says Running.
var startSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
	Name:    "dora_workload_start_seconds",
	Help:    "Seconds from a Workload's creation (or its resume, or its release from a credit hold) until every replica runs.",
	Buckets: []float64{0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
})

func init() {
	ctrlmetrics.Registry.MustRegister(startSeconds)
}

// observeStart records the start of a workload whose written status has just become Running.
func observeStart(wl *doradev1.Workload, before *doradev1.WorkloadStatus, now time.Time) {
	if before.Phase == doradev1.WorkloadPhaseRunning || wl.Status.Phase != doradev1.WorkloadPhaseRunning {
		return
	}
	startSeconds.Observe(startedWaiting(wl).Sub(now).Abs().Seconds())
}

// startedWaiting is when the workload last began to wait to run: its creation, or the last
// time it stopped being paused or held.
func startedWaiting(wl *doradev1.Workload) time.Time {
	from := wl.CreationTimestamp.Time
	for _, t := range []string{doradev1.WorkloadPaused, doradev1.CreditsExhausted} {
		if c := meta.FindStatusCondition(wl.Status.Conditions, t); c != nil && c.Status != metav1.ConditionTrue && c.LastTransitionTime.After(from) {
			from = c.LastTransitionTime.Time
		}
	}
	return from
}
