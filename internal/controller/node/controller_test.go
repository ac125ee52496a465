package node

import (
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestNodeNameOfLease(t *testing.T) {
	lease := func(namespace, name string) *coordinationv1.Lease {
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	}
	cases := map[string]struct {
		lease  *coordinationv1.Lease
		want   string
		wantOK bool
	}{
		"an agent's lease":         {lease: lease("dora-system", "dora-agent-gpu-1"), want: "gpu-1", wantOK: true},
		"another namespace":        {lease: lease("kube-node-lease", "dora-agent-gpu-1")},
		"not an agent's lease":     {lease: lease("dora-system", "manager.dora.dev")},
		"the prefix and no name":   {lease: lease("dora-system", "dora-agent-")},
		"a prefix inside the name": {lease: lease("dora-system", "x-dora-agent-gpu-1")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := nodeNameOfLease(tc.lease, "dora-system")
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("nodeNameOfLease = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestNodeFieldsChanged(t *testing.T) {
	base := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gpu-1", Labels: map[string]string{doradev1.LabelAllowCPUWorkload: "true"}}}
	withChange := func(change func(*corev1.Node)) *corev1.Node {
		n := base.DeepCopy()
		change(n)
		return n
	}
	now := metav1.Now()
	cases := map[string]struct {
		updated *corev1.Node
		want    bool
	}{
		"heartbeat only": {updated: withChange(func(n *corev1.Node) {
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		})},
		"an unrelated label": {updated: withChange(func(n *corev1.Node) { n.Labels["other"] = "x" })},
		"cordoned by hand":   {updated: withChange(func(n *corev1.Node) { n.Spec.Unschedulable = true }), want: true},
		"our label changed":  {updated: withChange(func(n *corev1.Node) { n.Labels[doradev1.LabelAllowCPUWorkload] = "false" }), want: true},
		"our label removed":  {updated: withChange(func(n *corev1.Node) { delete(n.Labels, doradev1.LabelAllowCPUWorkload) }), want: true},
		"being deleted":      {updated: withChange(func(n *corev1.Node) { n.DeletionTimestamp = &now }), want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := nodeFieldsChanged.Update(event.UpdateEvent{ObjectOld: base, ObjectNew: tc.updated}); got != tc.want {
				t.Errorf("Update = %v, want %v", got, tc.want)
			}
		})
	}
}
