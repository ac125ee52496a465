// Package rbac turns Dora's Roles and Users into Kubernetes RBAC, and is the one place
// that says what each Dora verb means there (verbs.go). It is pure: it builds the
// ClusterRoles, RoleBindings and ClusterRoleBindings; the role and user controllers write
// them and set owner references.
//
// A Role becomes ClusterRoles (roles.go): one with its namespaced rules, one with its
// cluster-scoped rules, and one per kind it names. A User's grants become (bindings.go)
// RoleBindings in the namespaces of the workspaces they name, ClusterRoleBindings to the
// cluster-scoped ClusterRoles only, and one ClusterRole of the user's own for what names
// the user or a workspace (their User, their UserCredit, the workspaces they may clone).
package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/dora-hpc/dora-operator/internal/naming"
)

// Labels on every RBAC object the manager makes, so it caches only its own.
const (
	// LabelManaged marks every ClusterRole and binding the manager makes from Dora Roles
	// and Users; the manager's cache holds only those.
	LabelManaged = "rbac.dora.dev/managed"
	// LabelRole marks a ClusterRole made from a Dora Role with the role's name.
	LabelRole = "rbac.dora.dev/role"
	// LabelUser marks the bindings and ClusterRole made for a Dora User with its name.
	LabelUser = "rbac.dora.dev/user"
)

// objectName joins parts into a ClusterRole or binding name ("dora:role:user:volume"),
// shortened with a hash when it would pass the 253 characters names may have.
func objectName(parts ...string) string {
	name := strings.Join(parts, ":")
	if len(name) <= 253 {
		return name
	}
	return naming.WithSuffix(name[:200], ":"+naming.ShortHash(name))
}

// labelValue is name as a label value (Dora names may pass 63 characters).
func labelValue(name string) string { return naming.WorkloadLabelValue(name) }

// merge folds rules on the same API group and resources (and resource names) into one,
// with the union of their verbs, in a deterministic order, so a ClusterRole made twice
// from the same Role is byte for byte the same and never rewritten.
func merge(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	type key struct{ groups, resources, names string }
	byKey := map[key]*rbacv1.PolicyRule{}
	var keys []key
	for _, r := range rules {
		k := key{strings.Join(r.APIGroups, ","), strings.Join(r.Resources, ","), strings.Join(r.ResourceNames, ",")}
		if have, ok := byKey[k]; ok {
			have.Verbs = append(have.Verbs, r.Verbs...)
			continue
		}
		c := r.DeepCopy()
		byKey[k] = c
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return strings.Compare(a.groups+"/"+a.resources+"/"+a.names, b.groups+"/"+b.resources+"/"+b.names)
	})
	out := make([]rbacv1.PolicyRule, 0, len(keys))
	for _, k := range keys {
		r := byKey[k]
		slices.Sort(r.Verbs)
		r.Verbs = slices.Compact(r.Verbs)
		out = append(out, *r)
	}
	return out
}
