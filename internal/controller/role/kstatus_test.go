package role

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/rbac"
	"github.com/dora-hpc/dora-operator/test/gitops"
)

// A Role is always Ready once its ClusterRoles are made (verbs with no Kubernetes meaning
// are accepted and listed): kstatus reads it as Current, or InProgress while the manager
// has not seen its latest spec. It needs no Argo CD health check.
func TestKStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		perm   map[string][]string
		behind bool
		want   status.Status
	}{
		{name: "ClusterRoles made", perm: map[string][]string{"Workload": {"Apply", "Delete", "Get"}}, want: status.CurrentStatus},
		{name: "a verb with no Kubernetes meaning", perm: map[string][]string{"Workload": {"Get", "Shout"}}, want: status.CurrentStatus},
		{name: "the spec changed since the status was written", perm: map[string][]string{"All": {"All"}}, behind: true, want: status.InProgressStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			role := &doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "user", Generation: 1}, Spec: doradev1.RoleSpec{Permission: tc.perm}}
			role.Status = computeStatus(role, rbac.ClusterRoles(role), rbac.Expand(role).Unmapped)
			if tc.behind {
				role.Generation++
			}
			res, err := gitops.KStatus(role)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want {
				t.Errorf("kstatus = %s (%s), want %s; conditions %+v", res.Status, res.Message, tc.want, role.Status.Conditions)
			}
		})
	}
}
