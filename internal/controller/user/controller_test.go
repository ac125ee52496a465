package user

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/rbac"
)

// A User's status lists what was bound; Ready is False, naming each grant, while a grant
// names a Role or workspace that does not exist.
func TestComputeStatus(t *testing.T) {
	u := &doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti", Generation: 2}}
	ok := computeStatus(u, rbac.UserPlan{Bound: []string{"user on All in namespace amedeo-setti"}})
	if c := meta.FindStatusCondition(ok.Conditions, doradev1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || c.Reason != doradev1.ReasonGrantsBound {
		t.Errorf("Ready = %+v, want True/%s", c, doradev1.ReasonGrantsBound)
	}
	if ok.ObservedGeneration != 2 || len(ok.Bound) != 1 {
		t.Errorf("status %+v", ok)
	}
	missing := computeStatus(u, rbac.UserPlan{Problems: []string{"spec.resources[1] (...): Role admin does not exist", "spec.resources[2] (...): workspace x does not exist"}})
	c := meta.FindStatusCondition(missing.Conditions, doradev1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != doradev1.ReasonGrantsIncomplete ||
		c.Message != "spec.resources[1] (...): Role admin does not exist; spec.resources[2] (...): workspace x does not exist" {
		t.Errorf("Ready = %+v, want False/%s naming both grants", c, doradev1.ReasonGrantsIncomplete)
	}
}
