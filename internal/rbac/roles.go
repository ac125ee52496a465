package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// NamespacedClusterRoleName is the ClusterRole with a role's namespaced rules, bound in
// workspace namespaces for grants of kind All.
func NamespacedClusterRoleName(role string) string {
	return objectName("dora", "role", role, "namespaced")
}

// ClusterClusterRoleName is the ClusterRole with a role's cluster-scoped rules, bound
// cluster-wide for grants of kind All.
func ClusterClusterRoleName(role string) string { return objectName("dora", "role", role, "cluster") }

// KindClusterRoleName is the ClusterRole with a role's rules on one kind, for grants that
// name that kind. A kind's rules are all namespaced or all cluster-scoped.
func KindClusterRoleName(role, kind string) string {
	return objectName("dora", "role", role, strings.ToLower(kind))
}

// Permissions is a Role's permission map with kind All and verb All expanded: the rules
// of each kind, and the verbs that mean nothing in Kubernetes.
type Permissions struct {
	byKind map[string][]Rule
	// Unmapped lists, as Kind/Verb and sorted, the verbs accepted but with no Kubernetes
	// meaning (Token, anything on Project, a verb a kind does not have).
	Unmapped []string
}

// Expand reads a role's permissions.
func Expand(role *doradev1.Role) Permissions {
	verbsOf := map[string][]string{}
	for kind, verbs := range role.Spec.Permission {
		if kind == doradev1.DoraKindAll {
			for _, k := range Kinds() {
				verbsOf[k] = append(verbsOf[k], verbs...)
			}
			continue
		}
		verbsOf[kind] = append(verbsOf[kind], verbs...)
	}
	p := Permissions{byKind: map[string][]Rule{}}
	unmapped := map[string]bool{}
	for kind, verbs := range verbsOf {
		slices.Sort(verbs)
		for _, verb := range slices.Compact(verbs) {
			rules, ok := RulesFor(kind, verb)
			if !ok {
				// Verb All on a kind with no verbs (Project) maps nothing and is no error.
				if verb != doradev1.DoraVerbAll {
					unmapped[kind+"/"+verb] = true
				}
				continue
			}
			p.byKind[kind] = append(p.byKind[kind], rules...)
		}
	}
	for k := range unmapped {
		p.Unmapped = append(p.Unmapped, k)
	}
	slices.Sort(p.Unmapped)
	return p
}

// Rules are the role's rules of one scope, on kind (every kind for All), merged.
func (p Permissions) Rules(kind string, scope Scope) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for k, rules := range p.byKind {
		if kind != doradev1.DoraKindAll && k != kind {
			continue
		}
		for _, r := range rules {
			if r.Scope == scope {
				out = append(out, r.PolicyRule)
			}
		}
	}
	return merge(out)
}

// selfRules are the role's Self rules on kind (every kind for All), with the names they
// apply to filled in: the user's for their own objects; workspace's for workspace rules
// (no names at all for workspace All: every workspace).
func (p Permissions) selfRules(kind, user, workspace string) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for k, rules := range p.byKind {
		if kind != doradev1.DoraKindAll && k != kind {
			continue
		}
		for _, r := range rules {
			if r.Scope != Self {
				continue
			}
			pr := *r.DeepCopy()
			switch {
			case r.ownNames:
				pr.ResourceNames = []string{user}
			case r.workspaceNames && workspace != doradev1.All:
				pr.ResourceNames = []string{workspace}
			}
			out = append(out, pr)
		}
	}
	return out
}

// kindsWith lists the kinds the role has rules of scope on, sorted.
func (p Permissions) kindsWith(scope Scope) []string {
	var kinds []string
	for k, rules := range p.byKind {
		if slices.ContainsFunc(rules, func(r Rule) bool { return r.Scope == scope }) {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	return kinds
}

// ClusterRoles are what a role becomes: its namespaced rules, its cluster-scoped rules,
// and one per kind it has rules on. Every one is made, even empty, so the names a User
// binds never dangle while the role exists. The controller owns them by the Role.
func ClusterRoles(role *doradev1.Role) []*rbacv1.ClusterRole {
	p := Expand(role)
	out := []*rbacv1.ClusterRole{
		clusterRole(role.Name, NamespacedClusterRoleName(role.Name), p.Rules(doradev1.DoraKindAll, Namespaced)),
		clusterRole(role.Name, ClusterClusterRoleName(role.Name), p.Rules(doradev1.DoraKindAll, Cluster)),
	}
	kinds := append(p.kindsWith(Namespaced), p.kindsWith(Cluster)...)
	slices.Sort(kinds)
	for _, kind := range slices.Compact(kinds) {
		rules := append(p.Rules(kind, Namespaced), p.Rules(kind, Cluster)...)
		out = append(out, clusterRole(role.Name, KindClusterRoleName(role.Name, kind), rules))
	}
	return out
}

func clusterRole(role, name string, rules []rbacv1.PolicyRule) *rbacv1.ClusterRole {
	if rules == nil {
		rules = []rbacv1.PolicyRule{}
	}
	return &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelManaged: "true", LabelRole: labelValue(role)}},
		Rules:      rules,
	}
}
