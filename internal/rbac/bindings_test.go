package rbac

import (
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// The seed's user role (config/samples/dora_v1alpha1_role.yaml).
func seedRole() *doradev1.Role {
	return &doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "user"}, Spec: doradev1.RoleSpec{Permission: map[string][]string{
		"Workload":       {"Apply", "Delete", "Get", "Describe", "Pause", "Resume", "Event", "Version"},
		"Container":      {"Apply", "Delete", "Get", "Describe", "Pause", "Resume", "Shell", "Token", "Log", "Event"},
		"Volume":         {"Get", "Describe", "Use", "Upload", "Download", "Ls", "Sync"},
		"Project":        {"Apply", "Delete", "Get", "Describe"},
		"Storage":        {"Get", "Describe"},
		"CPU":            {"Get"},
		"GPU":            {"Get"},
		"Resourcecredit": {"Get", "Describe"},
		"Usercredit":     {"GetOne", "Describe"},
		"Workspace":      {"Clone"},
		"User":           {"Credits"},
	}}}
}

// The seed's user (config/samples/dora_v1alpha1_user.yaml).
func seedUser() *doradev1.User {
	return &doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti"}, Spec: doradev1.UserSpec{Resources: []doradev1.RoleBinding{
		{Kind: "All", Zone: "All", Workspace: "amedeo.setti", Role: "user"},
		{Kind: "Volume", Zone: "All", Workspace: "datasets", Role: "user"},
	}}}
}

func names[T interface {
	GetNamespace() string
	GetName() string
}](objs []T) []string {
	var out []string
	for _, o := range objs {
		n := o.GetName()
		if ns := o.GetNamespace(); ns != "" {
			n = ns + "/" + n
		}
		out = append(out, n)
	}
	return out
}

// A Role becomes its namespaced rules, its cluster-scoped rules and one ClusterRole per
// kind; verbs with no Kubernetes meaning are listed, never silently dropped.
func TestClusterRolesOfTheSeedRole(t *testing.T) {
	crs := ClusterRoles(seedRole())
	want := []string{"dora:role:user:namespaced", "dora:role:user:cluster", "dora:role:user:cpu", "dora:role:user:container",
		"dora:role:user:gpu", "dora:role:user:resourcecredit", "dora:role:user:storage", "dora:role:user:volume", "dora:role:user:workload"}
	if got := names(crs); !slices.Equal(got, want) {
		t.Errorf("ClusterRoles = %v\nwant %v", got, want)
	}
	for _, cr := range crs {
		if cr.Labels[LabelRole] != "user" {
			t.Errorf("%s is not labelled with its role", cr.Name)
		}
		for _, r := range cr.Rules {
			if len(r.ResourceNames) > 0 {
				t.Errorf("%s has a rule with resource names %v: those belong in the user's own ClusterRole", cr.Name, r.ResourceNames)
			}
			if cr.Name == "dora:role:user:cluster" && (slices.Contains(r.Resources, "workloads") || slices.Contains(r.Resources, "pods") || slices.Contains(r.Resources, "volumes")) {
				t.Errorf("the cluster-scoped ClusterRole holds namespaced %v: a ClusterRoleBinding would grant it in every namespace", r.Resources)
			}
		}
	}
	if got, want := Expand(seedRole()).Unmapped, []string{"Container/Apply", "Container/Token", "Project/Apply", "Project/Delete", "Project/Describe", "Project/Get"}; !slices.Equal(got, want) {
		t.Errorf("Unmapped = %v, want %v", got, want)
	}
	// Made twice, the same: no rewrite on every reconcile.
	again := ClusterRoles(seedRole())
	for i := range crs {
		if !slices.EqualFunc(crs[i].Rules, again[i].Rules, func(a, b rbacv1.PolicyRule) bool { return a.String() == b.String() }) {
			t.Errorf("%s differs between two builds", crs[i].Name)
		}
	}
}

// Kind All and verb All give an admin role every mapped permission.
func TestAdminRole(t *testing.T) {
	admin := &doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "admin"}, Spec: doradev1.RoleSpec{Permission: map[string][]string{"All": {"All"}}}}
	p := Expand(admin)
	if len(p.Unmapped) != 0 {
		t.Errorf("All/All leaves %v unmapped", p.Unmapped)
	}
	ns := p.Rules(doradev1.DoraKindAll, Namespaced)
	if !slices.ContainsFunc(ns, func(r rbacv1.PolicyRule) bool {
		return slices.Contains(r.Resources, "workloads") && slices.Contains(r.Verbs, "pause") && slices.Contains(r.Verbs, "create")
	}) {
		t.Errorf("admin namespaced rules lack workloads create/pause: %v", ns)
	}
	if cl := p.Rules(doradev1.DoraKindAll, Cluster); !slices.ContainsFunc(cl, func(r rbacv1.PolicyRule) bool { return slices.Contains(r.Resources, "storages") }) {
		t.Errorf("admin cluster rules lack storages: %v", cl)
	}
}

// The seed's user: everything the user role allows in their own workspace, only volumes
// in datasets, the cluster-wide views, and their own User, UserCredit and workspace
// (clone) by name. Grants for another zone, and of missing Roles or workspaces, are told.
func TestPlanTheSeedUser(t *testing.T) {
	in := UserInputs{
		User: seedUser(), Zone: "dc-rov-01", UsernamePrefix: "oidc:",
		Roles:      map[string]*doradev1.Role{"user": seedRole()},
		Workspaces: map[string]Workspace{"amedeo.setti": {Namespace: "amedeo-setti"}, "datasets": {Namespace: "datasets"}, "other": {Namespace: "other"}},
	}
	plan := PlanUser(in)
	if got, want := names(plan.RoleBindings), []string{"amedeo-setti/dora:user:amedeo.setti:user:all", "datasets/dora:user:amedeo.setti:user:volume"}; !slices.Equal(got, want) {
		t.Errorf("RoleBindings = %v, want %v (never one in workspace other)", got, want)
	}
	for _, rb := range plan.RoleBindings {
		if len(rb.Subjects) != 1 || rb.Subjects[0].Name != "oidc:amedeo.setti" || rb.Subjects[0].Kind != rbacv1.UserKind {
			t.Errorf("%s binds %v, want the user oidc:amedeo.setti", rb.Name, rb.Subjects)
		}
	}
	if rb := plan.RoleBindings[1]; rb.RoleRef.Name != "dora:role:user:volume" {
		t.Errorf("the datasets grant binds %s, want only the role's Volume rules", rb.RoleRef.Name)
	}
	if got, want := names(plan.ClusterRoleBindings), []string{"dora:user:amedeo.setti", "dora:user:amedeo.setti:user:all"}; !slices.Equal(got, want) {
		t.Errorf("ClusterRoleBindings = %v, want %v", got, want)
	}
	for _, crb := range plan.ClusterRoleBindings {
		if crb.RoleRef.Name != "dora:role:user:cluster" && crb.RoleRef.Name != "dora:user:amedeo.setti" {
			t.Errorf("ClusterRoleBinding %s binds %s: cluster bindings go to cluster-scoped or the user's own ClusterRoles only", crb.Name, crb.RoleRef.Name)
		}
	}
	var rules []string
	for _, r := range plan.ClusterRole.Rules {
		rules = append(rules, strings.Join(r.Resources, ",")+":"+strings.Join(r.Verbs, ",")+"@"+strings.Join(r.ResourceNames, ","))
	}
	want := []string{"usercredits:get,watch@amedeo.setti", "users:credits,get,watch@amedeo.setti", "workspaces:clone@amedeo.setti"}
	if !slices.Equal(rules, want) {
		t.Errorf("the user's own rules = %v\nwant %v", rules, want)
	}
	if len(plan.Problems) != 0 {
		t.Errorf("problems %v, want none", plan.Problems)
	}

	// Another zone's grant is not bound here; a missing Role and workspace are problems.
	u := seedUser()
	u.Spec.Resources = append(u.Spec.Resources,
		doradev1.RoleBinding{Kind: "All", Zone: "dc-test-01", Workspace: "other", Role: "user"},
		doradev1.RoleBinding{Kind: "All", Zone: "All", Workspace: "amedeo.setti", Role: "admin"},
		doradev1.RoleBinding{Kind: "Workload", Zone: "All", Workspace: "not.yet", Role: "user"},
	)
	in.User = u
	plan = PlanUser(in)
	if slices.ContainsFunc(plan.RoleBindings, func(rb *rbacv1.RoleBinding) bool { return rb.Namespace == "other" }) {
		t.Error("a grant for zone dc-test-01 was bound in dc-rov-01")
	}
	if len(plan.Problems) != 2 || !strings.Contains(plan.Problems[0], "spec.resources[3]") || !strings.Contains(plan.Problems[0], "Role admin does not exist") ||
		!strings.Contains(plan.Problems[1], "spec.resources[4]") || !strings.Contains(plan.Problems[1], "workspace not.yet does not exist") {
		t.Errorf("problems = %q", plan.Problems)
	}
}

// Workspace All binds in every workspace's namespace, one by one: never over all namespaces.
func TestWorkspaceAllBindsEachWorkspace(t *testing.T) {
	u := &doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: "ops"}, Spec: doradev1.UserSpec{Resources: []doradev1.RoleBinding{{Kind: "Workload", Workspace: "All", Role: "user"}}}}
	plan := PlanUser(UserInputs{User: u, Zone: "z", Roles: map[string]*doradev1.Role{"user": seedRole()}, Workspaces: map[string]Workspace{"a": {Namespace: "a"}, "b.c": {Namespace: "b-c"}}})
	if got, want := names(plan.RoleBindings), []string{"a/dora:user:ops:user:workload", "b-c/dora:user:ops:user:workload"}; !slices.Equal(got, want) {
		t.Errorf("RoleBindings = %v, want %v", got, want)
	}
	for _, crb := range plan.ClusterRoleBindings {
		if crb.RoleRef.Name != UserClusterRoleName("ops") {
			t.Errorf("a Workload grant made ClusterRoleBinding %s to %s", crb.Name, crb.RoleRef.Name)
		}
	}
}

// A clone carries its maker's bindings on the source: the user who cloned gets the same
// grants in the clone; a clone someone else made of the same workspace does not.
func TestACloneCarriesItsMakersBindings(t *testing.T) {
	plan := PlanUser(UserInputs{User: seedUser(), Zone: "z", Roles: map[string]*doradev1.Role{"user": seedRole()}, Workspaces: map[string]Workspace{
		"amedeo.setti":       {Namespace: "amedeo-setti"},
		"datasets":           {Namespace: "datasets"},
		"amedeo.setti.clone": {Namespace: "amedeo-setti-clone", CloneFrom: "amedeo.setti", Owner: "amedeo.setti"},
		"ivans.copy":         {Namespace: "ivans-copy", CloneFrom: "amedeo.setti", Owner: "ivan.rossi"},
	}})
	want := []string{"amedeo-setti-clone/dora:user:amedeo.setti:user:all", "amedeo-setti/dora:user:amedeo.setti:user:all", "datasets/dora:user:amedeo.setti:user:volume"}
	if got := names(plan.RoleBindings); !slices.Equal(got, want) {
		t.Errorf("RoleBindings = %v, want %v (none in ivans-copy)", got, want)
	}
}
