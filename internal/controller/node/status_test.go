package node

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestOwnedConditions(t *testing.T) {
	earlier := metav1.NewTime(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC))
	now := metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	cond := func(typ string, status metav1.ConditionStatus, reason string, generation int64, at metav1.Time) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: reason + " message", ObservedGeneration: generation, LastTransitionTime: at}
	}
	ready := cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAgentReporting, 1, metav1.Time{})
	healthy := cond(doradev1.NodeGPUsHealthy, metav1.ConditionTrue, doradev1.ReasonAllGPUsHealthy, 1, metav1.Time{})
	nvml := cond(doradev1.NodeNVMLAvailable, metav1.ConditionTrue, "NVMLLoaded", 1, earlier)
	cases := map[string]struct {
		current     []metav1.Condition
		want        []metav1.Condition
		wantChanged bool
	}{
		"first write: both transition now": {
			want: []metav1.Condition{
				cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAgentReporting, 1, now),
				cond(doradev1.NodeGPUsHealthy, metav1.ConditionTrue, doradev1.ReasonAllGPUsHealthy, 1, now),
			},
			wantChanged: true,
		},
		"unchanged: nothing to write, times kept": {
			current: []metav1.Condition{
				nvml,
				cond(doradev1.NodeGPUsHealthy, metav1.ConditionTrue, doradev1.ReasonAllGPUsHealthy, 1, earlier),
				cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAgentReporting, 1, earlier),
			},
			want: []metav1.Condition{
				cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAgentReporting, 1, earlier),
				cond(doradev1.NodeGPUsHealthy, metav1.ConditionTrue, doradev1.ReasonAllGPUsHealthy, 1, earlier),
			},
		},
		"status flips: its time moves, the other's is kept, the agent's is not returned": {
			current: []metav1.Condition{
				nvml,
				cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonAgentLeaseExpired, 1, earlier),
				cond(doradev1.NodeGPUsHealthy, metav1.ConditionTrue, doradev1.ReasonAllGPUsHealthy, 1, earlier),
			},
			want: []metav1.Condition{
				cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAgentReporting, 1, now),
				cond(doradev1.NodeGPUsHealthy, metav1.ConditionTrue, doradev1.ReasonAllGPUsHealthy, 1, earlier),
			},
			wantChanged: true,
		},
		"only the generation moved": {
			current: []metav1.Condition{
				cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAgentReporting, 0, earlier),
				cond(doradev1.NodeGPUsHealthy, metav1.ConditionTrue, doradev1.ReasonAllGPUsHealthy, 1, earlier),
			},
			want: []metav1.Condition{
				cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAgentReporting, 1, earlier),
				cond(doradev1.NodeGPUsHealthy, metav1.ConditionTrue, doradev1.ReasonAllGPUsHealthy, 1, earlier),
			},
			wantChanged: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := append([]metav1.Condition(nil), tc.current...)
			got, changed := ownedConditions(tc.current, now, ready, healthy)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			if diff := cmp.Diff(before, tc.current); diff != "" {
				t.Errorf("the current conditions were modified (-before +after):\n%s", diff)
			}
		})
	}
}

// The apply body holds only what the manager owns, so server-side apply never takes the
// agent's fields.
func TestStatusApplyConfiguration(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	u, err := statusApplyConfiguration("gpu-1", 3, []metav1.Condition{{
		Type: doradev1.ConditionReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonAgentReporting,
		Message: "ok", ObservedGeneration: 3, LastTransitionTime: at,
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"apiVersion": "dora.dev/v1alpha1",
		"kind":       "Node",
		"metadata":   map[string]any{"name": "gpu-1"},
		"status": map[string]any{
			"observedGeneration": int64(3),
			"conditions": []any{map[string]any{
				"type": "Ready", "status": "True", "reason": "AgentReporting", "message": "ok",
				"observedGeneration": int64(3), "lastTransitionTime": "2026-03-01T12:00:00Z",
			}},
		},
	}
	if diff := cmp.Diff(want, u.Object); diff != "" {
		t.Errorf("apply body (-want +got):\n%s", diff)
	}
}
