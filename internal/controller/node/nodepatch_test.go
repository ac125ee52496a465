package node

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestNodePatch(t *testing.T) {
	both := []string{doradev1.CPUWorkload, doradev1.GPUWorkload}
	node := func(unschedulable bool, labels map[string]string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gpu-1", Labels: labels}, Spec: corev1.NodeSpec{Unschedulable: unschedulable}}
	}
	allowBoth := map[string]string{doradev1.LabelAllowCPUWorkload: "true", doradev1.LabelAllowGPUWorkload: "true", "other": "kept"}
	cases := map[string]struct {
		spec doradev1.NodeSpec
		node *corev1.Node
		// settled: the spec has not changed since the manager last acted on it.
		settled bool
		want    map[string]any
	}{
		"a drain while the spec is settled is left alone": {
			spec: doradev1.NodeSpec{Allow: both}, settled: true,
			node: node(true, allowBoth),
		},
		"an uncordon by hand while the spec is settled is left alone": {
			spec: doradev1.NodeSpec{SchedulingDisabled: true, Allow: both}, settled: true,
			node: node(false, allowBoth),
		},
		"labels follow the spec even when it is settled": {
			spec: doradev1.NodeSpec{Allow: []string{doradev1.GPUWorkload}}, settled: true,
			node: node(true, allowBoth),
			want: map[string]any{"metadata": map[string]any{"labels": map[string]any{doradev1.LabelAllowCPUWorkload: "false"}}},
		},
		"already in line": {
			spec: doradev1.NodeSpec{Allow: both},
			node: node(false, allowBoth),
		},
		"cordon": {
			spec: doradev1.NodeSpec{SchedulingDisabled: true, Allow: both},
			node: node(false, allowBoth),
			want: map[string]any{"spec": map[string]any{"unschedulable": true}},
		},
		"uncordon": {
			spec: doradev1.NodeSpec{Allow: both},
			node: node(true, allowBoth),
			want: map[string]any{"spec": map[string]any{"unschedulable": false}},
		},
		"a new node gets both labels": {
			spec: doradev1.NodeSpec{Allow: both},
			node: node(false, map[string]string{"other": "kept"}),
			want: map[string]any{"metadata": map[string]any{"labels": map[string]any{
				doradev1.LabelAllowCPUWorkload: "true", doradev1.LabelAllowGPUWorkload: "true",
			}}},
		},
		"allow left out means both, as the CRD defaults it": {
			spec: doradev1.NodeSpec{},
			node: node(false, allowBoth),
		},
		"GPU workloads only: only the changed label is sent": {
			spec: doradev1.NodeSpec{Allow: []string{doradev1.GPUWorkload}},
			node: node(false, allowBoth),
			want: map[string]any{"metadata": map[string]any{"labels": map[string]any{doradev1.LabelAllowCPUWorkload: "false"}}},
		},
		"an empty allow takes no workload": {
			spec: doradev1.NodeSpec{Allow: []string{}},
			node: node(false, allowBoth),
			want: map[string]any{"metadata": map[string]any{"labels": map[string]any{
				doradev1.LabelAllowCPUWorkload: "false", doradev1.LabelAllowGPUWorkload: "false",
			}}},
		},
		"a label someone changed by hand is set back": {
			spec: doradev1.NodeSpec{Allow: both},
			node: node(false, map[string]string{doradev1.LabelAllowCPUWorkload: "true", doradev1.LabelAllowGPUWorkload: "nope"}),
			want: map[string]any{"metadata": map[string]any{"labels": map[string]any{doradev1.LabelAllowGPUWorkload: "true"}}},
		},
		"cordon and relabel at once": {
			spec: doradev1.NodeSpec{SchedulingDisabled: true, Allow: []string{doradev1.CPUWorkload}},
			node: node(false, nil),
			want: map[string]any{
				"spec": map[string]any{"unschedulable": true},
				"metadata": map[string]any{"labels": map[string]any{
					doradev1.LabelAllowCPUWorkload: "true", doradev1.LabelAllowGPUWorkload: "false",
				}},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, nodePatch(tc.spec, tc.node, !tc.settled)); diff != "" {
				t.Errorf("patch (-want +got):\n%s", diff)
			}
		})
	}
}
