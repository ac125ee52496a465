package workload

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Host networking is only for a workload whose workspace (by the namespace's owner, never
// a label) allows it; bridge needs nothing.
func TestCheckHostNetwork(t *testing.T) {
	host := &doradev1.Workload{Spec: doradev1.WorkloadSpec{Network: &doradev1.NetworkSpec{Mode: doradev1.NetworkModeHost}}}
	bridge := &doradev1.Workload{Spec: doradev1.WorkloadSpec{Network: &doradev1.NetworkSpec{Mode: doradev1.NetworkModeBridge}}}
	allowing := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "ops"}, Spec: doradev1.WorkspaceSpec{AllowHostNetwork: true}}
	plain := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}
	cases := []struct {
		name    string
		wl      *doradev1.Workload
		ws      *doradev1.Workspace
		blocked bool
	}{
		{"bridge in any namespace", bridge, nil, false},
		{"host in a workspace that allows it", host, allowing, false},
		{"host in a workspace that does not", host, plain, true},
		{"host in a namespace of no workspace", host, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := checkHostNetwork(tc.wl, tc.ws)
			if (b != nil) != tc.blocked {
				t.Fatalf("blocker %+v, want blocked %v", b, tc.blocked)
			}
			if b != nil && b.reason != doradev1.ReasonHostNetworkNotAllowed {
				t.Errorf("reason %s, want %s", b.reason, doradev1.ReasonHostNetworkNotAllowed)
			}
		})
	}
}
