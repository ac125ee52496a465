package rbac

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// UserInputs is what a user's bindings are made from.
type UserInputs struct {
	User *doradev1.User
	// Zone is this manager's zone: grants for other zones are not bound here.
	Zone string
	// UsernamePrefix turns the Dora user name into the authenticated user name
	// (--username-prefix, like the API server's --oidc-username-prefix).
	UsernamePrefix string
	// Roles are the Dora Roles that exist, by name.
	Roles map[string]*doradev1.Role
	// Workspaces are the workspaces that exist and own their namespace, by name.
	Workspaces map[string]Workspace
}

// Workspace is what bindings need of a workspace.
type Workspace struct {
	// Namespace is the namespace it owns.
	Namespace string
	// CloneFrom is the workspace it was cloned from, if any.
	CloneFrom string
	// Owner is the Dora user it belongs to (who made it, or cloned it).
	Owner string
}

// UserPlan is what a user's grants become here.
type UserPlan struct {
	// RoleBindings are in workspace namespaces, to the roles' namespaced ClusterRoles.
	RoleBindings []*rbacv1.RoleBinding
	// ClusterRoleBindings are to the roles' cluster-scoped ClusterRoles, and to the user's own.
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
	// ClusterRole is the user's own: their User (always readable), and whatever their roles
	// allow on their own UserCredit and on the workspaces their grants name.
	ClusterRole *rbacv1.ClusterRole
	// Bound lists what was bound, for the User's status.
	Bound []string
	// Problems lists the grants that could not be bound (a missing Role or workspace), each
	// naming its entry in spec.resources.
	Problems []string
}

// UserClusterRoleName is a user's own ClusterRole and the ClusterRoleBinding to it.
func UserClusterRoleName(user string) string { return objectName("dora", "user", user) }

// Subject is the Kubernetes user a Dora user is.
func Subject(prefix, user string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: prefix + user}
}

// PlanUser turns a user's grants into bindings. Grants for another zone are skipped; a
// grant of a missing Role binds nothing and is a problem; one of a missing workspace binds
// its cluster-wide part now and its namespaced part once the workspace exists.
func PlanUser(in UserInputs) UserPlan {
	user := in.User.Name
	subject := Subject(in.UsernamePrefix, user)
	plan := UserPlan{}
	selfRules := []rbacv1.PolicyRule{{APIGroups: []string{doradev1.GroupVersion.Group}, Resources: []string{"users"}, ResourceNames: []string{user}, Verbs: []string{"get", "watch"}}}
	seenRB, seenCRB := map[string]bool{}, map[string]bool{}

	for i, grant := range in.User.Spec.Resources {
		zone := orAll(grant.Zone)
		if zone != doradev1.All && zone != in.Zone {
			continue
		}
		kind := orAll(grant.Kind)
		entry := fmt.Sprintf("spec.resources[%d] (role %s on %s in workspace %s)", i, grant.Role, kind, grant.Workspace)
		role, ok := in.Roles[grant.Role]
		if !ok {
			plan.Problems = append(plan.Problems, fmt.Sprintf("%s: Role %s does not exist; create it or name another in spec.resources[%d].role", entry, grant.Role, i))
			continue
		}
		p := Expand(role)

		// Namespaced: a RoleBinding in each workspace's namespace.
		if len(p.Rules(kind, Namespaced)) > 0 {
			roleRef := NamespacedClusterRoleName(role.Name)
			if kind != doradev1.DoraKindAll {
				roleRef = KindClusterRoleName(role.Name, kind)
			}
			namespaces, missing := workspaceNamespaces(in.Workspaces, grant.Workspace, user)
			if missing {
				plan.Problems = append(plan.Problems, fmt.Sprintf("%s: workspace %s does not exist; it is bound once the workspace exists", entry, grant.Workspace))
			}
			for _, ns := range namespaces {
				name := objectName("dora", "user", user, role.Name, strings.ToLower(kind))
				if seenRB[ns+"/"+name] {
					continue
				}
				seenRB[ns+"/"+name] = true
				plan.RoleBindings = append(plan.RoleBindings, roleBinding(user, ns, name, roleRef, subject))
				plan.Bound = append(plan.Bound, fmt.Sprintf("%s on %s in namespace %s", role.Name, kind, ns))
			}
		}
		// Cluster-scoped: a ClusterRoleBinding to the role's cluster-scoped rules only.
		if len(p.Rules(kind, Cluster)) > 0 {
			roleRef := ClusterClusterRoleName(role.Name)
			if kind != doradev1.DoraKindAll {
				roleRef = KindClusterRoleName(role.Name, kind)
			}
			name := objectName("dora", "user", user, role.Name, strings.ToLower(kind))
			if !seenCRB[name] {
				seenCRB[name] = true
				plan.ClusterRoleBindings = append(plan.ClusterRoleBindings, clusterRoleBinding(user, name, roleRef, subject))
				plan.Bound = append(plan.Bound, fmt.Sprintf("%s on cluster-wide %s", role.Name, kindsNoun(kind)))
			}
		}
		selfRules = append(selfRules, p.selfRules(kind, user, grant.Workspace)...)
	}

	plan.ClusterRole = &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: UserClusterRoleName(user), Labels: map[string]string{LabelManaged: "true", LabelUser: labelValue(user)}},
		Rules:      mergeNamed(selfRules),
	}
	plan.ClusterRoleBindings = append(plan.ClusterRoleBindings, clusterRoleBinding(user, UserClusterRoleName(user), UserClusterRoleName(user), subject))
	slices.SortFunc(plan.RoleBindings, func(a, b *rbacv1.RoleBinding) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	slices.SortFunc(plan.ClusterRoleBindings, func(a, b *rbacv1.ClusterRoleBinding) int { return strings.Compare(a.Name, b.Name) })
	slices.Sort(plan.Bound)
	return plan
}

// mergeNamed merges self rules; rules on the same resource and verbs with different
// names are folded into one rule with all the names, unless one has none (all objects).
func mergeNamed(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	type key struct{ groups, resources, verbs string }
	all := map[key]bool{}
	names := map[key][]string{}
	var keys []key
	for _, r := range rules {
		verbs := slices.Clone(r.Verbs)
		slices.Sort(verbs)
		k := key{strings.Join(r.APIGroups, ","), strings.Join(r.Resources, ","), strings.Join(verbs, ",")}
		if _, ok := names[k]; !ok && !all[k] {
			keys = append(keys, k)
		}
		if len(r.ResourceNames) == 0 {
			all[k] = true
		}
		names[k] = append(names[k], r.ResourceNames...)
	}
	out := make([]rbacv1.PolicyRule, 0, len(keys))
	for _, k := range keys {
		r := rbacv1.PolicyRule{APIGroups: strings.Split(k.groups, ","), Resources: strings.Split(k.resources, ","), Verbs: strings.Split(k.verbs, ",")}
		if !all[k] {
			n := names[k]
			slices.Sort(n)
			r.ResourceNames = slices.Compact(n)
		}
		out = append(out, r)
	}
	return merge(out)
}

// workspaceNamespaces are the namespaces a grant's workspace names: every workspace's for
// All (never a binding over all namespaces), else the one workspace's and those of the
// clones of it that user made (a clone carries its maker's bindings on the source, as in
// Dora); missing when the workspace does not exist.
func workspaceNamespaces(workspaces map[string]Workspace, workspace, user string) (namespaces []string, missing bool) {
	for name, ws := range workspaces {
		if workspace == doradev1.All || name == workspace || (ws.CloneFrom == workspace && ws.Owner == user) {
			namespaces = append(namespaces, ws.Namespace)
		}
	}
	slices.Sort(namespaces)
	_, exists := workspaces[workspace]
	return namespaces, workspace != doradev1.All && !exists
}

func roleBinding(user, namespace, name, clusterRole string, subject rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{LabelManaged: "true", LabelUser: labelValue(user)}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects:   []rbacv1.Subject{subject},
	}
}

func clusterRoleBinding(user, name, clusterRole string, subject rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelManaged: "true", LabelUser: labelValue(user)}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects:   []rbacv1.Subject{subject},
	}
}

func orAll(s string) string {
	if s == "" {
		return doradev1.All
	}
	return s
}

func kindsNoun(kind string) string {
	if kind == doradev1.DoraKindAll {
		return "kinds"
	}
	return kind
}
