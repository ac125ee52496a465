package user

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/rbac"
	"github.com/dora-hpc/dora-operator/test/gitops"
)

// Every state a User takes, as kstatus reads the status the manager writes for it, and the
// Argo CD testdata (config/argocd/.../User/testdata/<argocd>.yaml) made of it. A grant of
// a Role or workspace that does not exist yet is bound once it does (the controller
// watches both), so it is InProgress, not Stalled: GitOps tools often apply a User before
// the Roles and workspaces it names.
func TestKStatus(t *testing.T) {
	role := &doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "user"}, Spec: doradev1.RoleSpec{Permission: map[string][]string{
		"Workload": {"Apply", "Delete", "Get"}, "Volume": {"Get"}}}}
	user := &doradev1.User{
		ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti", Generation: 2},
		Spec: doradev1.UserSpec{Resources: []doradev1.RoleBinding{
			{Role: "user", Workspace: "amedeo.setti"},
			{Role: "user", Workspace: "team.vision", Kind: "Workload"},
		}},
	}
	all := map[string]rbac.Workspace{
		"amedeo.setti": {Namespace: "amedeo-setti", Owner: "amedeo.setti"},
		"team.vision":  {Namespace: "team-vision"},
	}
	cases := []struct {
		name       string
		roles      map[string]*doradev1.Role
		workspaces map[string]rbac.Workspace
		behind     bool
		want       status.Status
		reason     string
		argocd     string
	}{
		{name: "every grant bound", roles: map[string]*doradev1.Role{"user": role}, workspaces: all, want: status.CurrentStatus, argocd: "ready"},
		{name: "a workspace not made yet", roles: map[string]*doradev1.Role{"user": role}, workspaces: map[string]rbac.Workspace{"amedeo.setti": all["amedeo.setti"]},
			want: status.InProgressStatus, reason: doradev1.ReasonGrantsIncomplete, argocd: "grants-incomplete"},
		{name: "a Role missing", workspaces: all, want: status.InProgressStatus, reason: doradev1.ReasonGrantsIncomplete},
		{name: "the spec changed since the status was written", roles: map[string]*doradev1.Role{"user": role}, workspaces: all, behind: true,
			want: status.InProgressStatus, reason: "LatestGenerationNotObserved", argocd: "generation-behind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := user.DeepCopy()
			plan := rbac.PlanUser(rbac.UserInputs{User: u, Zone: "zone-a", Roles: tc.roles, Workspaces: tc.workspaces})
			u.Status = computeStatus(u, plan)
			u.Status = computeStatus(u, plan)
			if tc.behind {
				u.Generation++
			}
			res, err := gitops.KStatus(u)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want {
				t.Errorf("kstatus = %s (%s), want %s; conditions %+v", res.Status, res.Message, tc.want, u.Status.Conditions)
			}
			if tc.reason != "" && (len(res.Conditions) == 0 || res.Conditions[0].Reason != tc.reason) {
				t.Errorf("kstatus conditions = %+v, want reason %s", res.Conditions, tc.reason)
			}
			if tc.argocd != "" {
				gitops.Golden(t, u, tc.argocd, "internal/controller/user/kstatus_test.go ("+tc.name+")")
			}
		})
	}
}
