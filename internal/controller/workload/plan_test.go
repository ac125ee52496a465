package workload

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// podBuilder makes test pods of a workload.
type podBuilder struct{ pod *corev1.Pod }

func replica(index int, revision string) *podBuilder {
	return &podBuilder{pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name:   "train-" + strconv.Itoa(index),
		Labels: map[string]string{podspec.LabelReplica: strconv.Itoa(index), podspec.LabelRevision: revision},
	}}}
}

func (b *podBuilder) phase(p corev1.PodPhase) *podBuilder { b.pod.Status.Phase = p; return b }
func (b *podBuilder) reason(r string) *podBuilder         { b.pod.Status.Reason = r; return b }
func (b *podBuilder) deleting() *podBuilder {
	now := metav1.NewTime(time.Now())
	b.pod.DeletionTimestamp = &now
	return b
}
func (b *podBuilder) scheduledOn(node string) *podBuilder { b.pod.Spec.NodeName = node; return b }
func (b *podBuilder) ready() *podBuilder {
	b.pod.Status.Phase = corev1.PodRunning
	b.pod.Status.Conditions = append(b.pod.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
	return b
}
func (b *podBuilder) unschedulable(msg string) *podBuilder {
	b.pod.Status.Phase = corev1.PodPending
	b.pod.Status.Conditions = append(b.pod.Status.Conditions, corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg})
	return b
}
func (b *podBuilder) build() *corev1.Pod { return b.pod }

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestPlanReplicas(t *testing.T) {
	cases := []struct {
		name          string
		pods          []*corev1.Pod
		desired       int32
		canCreate     bool
		wantCreate    []int32
		wantReplace   []string
		wantScaleDown []string
		wantRecreate  []string
	}{
		{name: "new workload creates every replica", desired: 3, canCreate: true, wantCreate: []int32{0, 1, 2}},
		{name: "blocked (volumes, ports) creates nothing", desired: 2, canCreate: false},
		{
			name:    "settled does nothing",
			pods:    []*corev1.Pod{replica(0, "r1").ready().build(), replica(1, "r1").ready().build()},
			desired: 2, canCreate: true,
		},
		{
			name:    "a vanished replica is recreated",
			pods:    []*corev1.Pod{replica(0, "r1").ready().build()},
			desired: 2, canCreate: true, wantCreate: []int32{1},
		},
		{
			name:    "a spec change replaces outdated pods",
			pods:    []*corev1.Pod{replica(0, "r0").ready().build(), replica(1, "r1").ready().build()},
			desired: 2, canCreate: true, wantReplace: []string{"train-0"},
		},
		{
			name: "scale down removes the highest indexes first, and only scales",
			pods: []*corev1.Pod{replica(0, "r1").ready().build(), replica(3, "r1").ready().build(),
				replica(1, "r1").ready().build(), replica(2, "r1").ready().build()},
			desired: 2, canCreate: true, wantScaleDown: []string{"train-3", "train-2"},
		},
		{
			name:    "pause (desired 0) removes every pod",
			pods:    []*corev1.Pod{replica(0, "r1").ready().build(), replica(1, "r1").build()},
			desired: 0, canCreate: true, wantScaleDown: []string{"train-1", "train-0"},
		},
		{
			name:    "a pod being deleted is waited for, not recreated",
			pods:    []*corev1.Pod{replica(0, "r0").deleting().build()},
			desired: 1, canCreate: true,
		},
		{
			name:    "a finished pod stays and counts, whatever its revision",
			pods:    []*corev1.Pod{replica(0, "r0").phase(corev1.PodSucceeded).build(), replica(1, "r1").phase(corev1.PodFailed).reason("DeadlineExceeded").build()},
			desired: 2, canCreate: true,
		},
		{
			name:    "an evicted pod is recreated",
			pods:    []*corev1.Pod{replica(0, "r1").phase(corev1.PodFailed).reason("Evicted").build()},
			desired: 1, canCreate: true, wantRecreate: []string{"train-0"},
		},
		{
			name:    "a blocked workload still scales down",
			pods:    []*corev1.Pod{replica(0, "r1").ready().build(), replica(1, "r1").ready().build()},
			desired: 1, canCreate: false, wantScaleDown: []string{"train-1"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := planReplicas(tc.pods, tc.desired, "r1", tc.canCreate)
			got := map[string]any{"create": p.create, "replace": names(p.replace), "scaleDown": names(p.scaleDown), "recreate": names(p.recreate)}
			want := map[string]any{"create": tc.wantCreate, "replace": tc.wantReplace, "scaleDown": tc.wantScaleDown, "recreate": tc.wantRecreate}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}
