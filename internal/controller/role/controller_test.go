package role

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/rbac"
)

// A Role's status names every ClusterRole made from it and, in Ready's message too, the
// verbs that mean nothing in Kubernetes.
func TestComputeStatus(t *testing.T) {
	role := &doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "user", Generation: 4}, Spec: doradev1.RoleSpec{Permission: map[string][]string{
		"Workload": {"Get"}, "Container": {"Token"}, "Project": {"Apply"},
	}}}
	made := rbac.ClusterRoles(role)
	st := computeStatus(role, made, rbac.Expand(role).Unmapped)
	if st.ObservedGeneration != 4 || st.ClusterRole != "dora:role:user:namespaced" || len(st.ClusterRoles) != len(made) {
		t.Errorf("status %+v", st)
	}
	if got := strings.Join(st.UnmappedVerbs, ","); got != "Container/Token,Project/Apply" {
		t.Errorf("unmappedVerbs = %s", got)
	}
	c := meta.FindStatusCondition(st.Conditions, doradev1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "Container/Token, Project/Apply") {
		t.Errorf("Ready = %+v, want True naming the unmapped verbs", c)
	}
}
