package node

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestReadiness(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const grace = 40 * time.Second
	lease := func(renewed, acquired *time.Time, durationSeconds *int32) *coordinationv1.Lease {
		l := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: durationSeconds}}
		if renewed != nil {
			l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(*renewed))
		}
		if acquired != nil {
			l.Spec.AcquireTime = ptr.To(metav1.NewMicroTime(*acquired))
		}
		return l
	}
	ago := func(d time.Duration) *time.Time { return ptr.To(now.Add(-d)) }
	reporting := metav1.Condition{
		Type: doradev1.ConditionReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonAgentReporting,
		Message: "the agent on node gpu-1 renews its lease dora-system/dora-agent-gpu-1",
	}
	cases := map[string]struct {
		lease       *coordinationv1.Lease
		want        metav1.Condition
		wantStaleIn time.Duration
	}{
		"no lease": {
			want: metav1.Condition{
				Type: doradev1.ConditionReady, Status: metav1.ConditionUnknown, Reason: doradev1.ReasonAgentNotFound,
				Message: "no agent lease dora-system/dora-agent-gpu-1: the dora-node-agent DaemonSet must run on node gpu-1",
			},
		},
		"renewed now: fresh for the lease duration plus the grace": {
			lease:       lease(ago(0), nil, ptr.To[int32](30)),
			want:        reporting,
			wantStaleIn: 70 * time.Second,
		},
		"past the lease duration but within the grace": {
			lease:       lease(ago(60*time.Second), nil, ptr.To[int32](30)),
			want:        reporting,
			wantStaleIn: 10 * time.Second,
		},
		"renewed with sub-second precision": {
			lease:       lease(ago(1500*time.Millisecond), nil, ptr.To[int32](30)),
			want:        reporting,
			wantStaleIn: 68500 * time.Millisecond,
		},
		"only acquired, not yet renewed": {
			lease:       lease(nil, ago(5*time.Second), ptr.To[int32](30)),
			want:        reporting,
			wantStaleIn: 65 * time.Second,
		},
		"no lease duration: the grace alone": {
			lease:       lease(ago(30*time.Second), nil, nil),
			want:        reporting,
			wantStaleIn: 10 * time.Second,
		},
		"stale at the very moment it expires": {
			lease: lease(ago(70*time.Second), nil, ptr.To[int32](30)),
			want: metav1.Condition{
				Type: doradev1.ConditionReady, Status: metav1.ConditionFalse, Reason: doradev1.ReasonAgentLeaseExpired,
				Message: "the agent on node gpu-1 last renewed its lease dora-system/dora-agent-gpu-1 at 2026-03-01T11:58:50Z, " +
					"more than 1m10s ago (lease duration 30s plus 40s grace); check the dora-node-agent pod on that node",
			},
		},
		"renewed ten minutes ago": {
			lease: lease(ago(10*time.Minute), ago(time.Hour), ptr.To[int32](30)),
			want: metav1.Condition{
				Type: doradev1.ConditionReady, Status: metav1.ConditionFalse, Reason: doradev1.ReasonAgentLeaseExpired,
				Message: "the agent on node gpu-1 last renewed its lease dora-system/dora-agent-gpu-1 at 2026-03-01T11:50:00Z, " +
					"more than 1m10s ago (lease duration 30s plus 40s grace); check the dora-node-agent pod on that node",
			},
		},
		"never renewed nor acquired": {
			lease: lease(nil, nil, ptr.To[int32](30)),
			want: metav1.Condition{
				Type: doradev1.ConditionReady, Status: metav1.ConditionFalse, Reason: doradev1.ReasonAgentLeaseExpired,
				Message: "the agent on node gpu-1 created its lease dora-system/dora-agent-gpu-1 but never renewed it",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, staleIn := readiness("gpu-1", "dora-system", tc.lease, now, grace)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("condition (-want +got):\n%s", diff)
			}
			if staleIn != tc.wantStaleIn {
				t.Errorf("stale in %v, want %v", staleIn, tc.wantStaleIn)
			}
		})
	}
}

// The message of a stale lease must not change as time passes, or every reconcile would
// rewrite the status.
func TestReadinessOfAStaleLeaseDoesNotAge(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{
		RenewTime: ptr.To(metav1.NewMicroTime(now.Add(-time.Hour))), LeaseDurationSeconds: ptr.To[int32](30),
	}}
	first, _ := readiness("gpu-1", "dora-system", l, now, DefaultLeaseGrace)
	later, _ := readiness("gpu-1", "dora-system", l, now.Add(17*time.Minute), DefaultLeaseGrace)
	if diff := cmp.Diff(first, later); diff != "" {
		t.Errorf("the condition changed with time alone (-first +later):\n%s", diff)
	}
}
