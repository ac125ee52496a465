package rbac

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Scope says where a rule applies, and so how it is bound.
type Scope int

const (
	// Namespaced rules act in a workspace's namespace: bound by RoleBindings there.
	Namespaced Scope = iota
	// Cluster rules act on cluster-scoped kinds: bound by a ClusterRoleBinding, to a
	// ClusterRole that holds nothing namespaced (a ClusterRoleBinding to a namespaced rule
	// would grant it in every namespace).
	Cluster
	// Self rules act on the user's own objects (their User, their UserCredit) or on the
	// workspaces a grant names: they carry resourceNames, so they live in the user's own
	// ClusterRole.
	Self
)

// Rule is one Kubernetes permission a Dora verb becomes.
type Rule struct {
	Scope Scope
	rbacv1.PolicyRule
	// ownNames: the rule applies only to objects named after the user (Self scope).
	ownNames bool
	// workspaceNames: the rule applies only to the workspaces a grant names (Self scope).
	workspaceNames bool
}

var (
	read  = []string{"get", "list", "watch"}
	write = []string{"create", "update", "patch"}
)

func rule(scope Scope, group string, resources []string, verbs ...string) Rule {
	return Rule{Scope: scope, PolicyRule: rbacv1.PolicyRule{APIGroups: []string{group}, Resources: resources, Verbs: verbs}}
}

func dora(scope Scope, resource string, verbs ...string) Rule {
	return rule(scope, doradev1.GroupVersion.Group, []string{resource}, verbs...)
}

// events are read by Describe and Event, in both event APIs.
var events = []Rule{
	rule(Namespaced, "", []string{"events"}, read...),
	rule(Namespaced, "events.k8s.io", []string{"events"}, read...),
}

// crud is what Apply, Delete, Get and Describe mean on a kind stored as resource.
func crud(scope Scope, resource string) map[string][]Rule {
	describe := []Rule{dora(scope, resource, read...)}
	if scope == Namespaced {
		describe = append(describe, events...)
	}
	return map[string][]Rule{
		doradev1.DoraVerbApply:    {dora(scope, resource, write...)},
		doradev1.DoraVerbDelete:   {dora(scope, resource, "delete")},
		doradev1.DoraVerbGet:      {dora(scope, resource, read...)},
		doradev1.DoraVerbDescribe: describe,
	}
}

func with(m map[string][]Rule, more map[string][]Rule) map[string][]Rule {
	for k, v := range more {
		m[k] = v
	}
	return m
}

// verbTable is Dora's verbs on each kind, as Kubernetes permissions. A verb missing from a
// kind's map has no Kubernetes meaning there: it is accepted and reported as unmapped.
var verbTable = map[string]map[string][]Rule{
	doradev1.DoraKindWorkload: with(crud(Namespaced, "workloads"), map[string][]Rule{
		doradev1.DoraVerbEvent:   events,
		doradev1.DoraVerbVersion: {rule(Namespaced, "apps", []string{"controllerrevisions"}, read...)},
		doradev1.DoraVerbPause:   {dora(Namespaced, "workloads", doradev1.VerbPause)},
		doradev1.DoraVerbResume:  {dora(Namespaced, "workloads", doradev1.VerbResume)},
	}),
	// A Container is a workload's pod. Tenants never create pods (the manager does), so
	// Apply has no meaning; Delete restarts a replica; Pause and Resume act on the workload.
	doradev1.DoraKindContainer: {
		doradev1.DoraVerbGet:      {rule(Namespaced, "", []string{"pods"}, read...)},
		doradev1.DoraVerbDescribe: append([]Rule{rule(Namespaced, "", []string{"pods"}, read...)}, events...),
		doradev1.DoraVerbDelete:   {rule(Namespaced, "", []string{"pods"}, "delete")},
		doradev1.DoraVerbEvent:    events,
		doradev1.DoraVerbLog:      {rule(Namespaced, "", []string{"pods/log"}, "get")},
		doradev1.DoraVerbShell:    {rule(Namespaced, "", []string{"pods/exec", "pods/attach"}, "get", "create")},
		doradev1.DoraVerbPause:    {dora(Namespaced, "workloads", doradev1.VerbPause)},
		doradev1.DoraVerbResume:   {dora(Namespaced, "workloads", doradev1.VerbResume)},
	},
	doradev1.DoraKindVolume: with(crud(Namespaced, "volumes"), map[string][]Rule{
		doradev1.DoraVerbEvent:    events,
		doradev1.DoraVerbUse:      {dora(Namespaced, "volumes", doradev1.VerbUse)},
		doradev1.DoraVerbUpload:   {dora(Namespaced, "volumes", doradev1.VerbUpload)},
		doradev1.DoraVerbDownload: {dora(Namespaced, "volumes", doradev1.VerbDownload)},
		doradev1.DoraVerbLs:       {dora(Namespaced, "volumes", doradev1.VerbLs)},
		doradev1.DoraVerbSync:     {dora(Namespaced, "volumes", doradev1.VerbSync)},
	}),
	doradev1.DoraKindStorage:        crud(Cluster, "storages"),
	doradev1.DoraKindNode:           crud(Cluster, "nodes"),
	doradev1.DoraKindZone:           crud(Cluster, "zones"),
	doradev1.DoraKindResourcecredit: crud(Cluster, "resourcecredits"),
	doradev1.DoraKindRole:           crud(Cluster, "roles"),
	// CPUs and GPUs are views of the Dora Nodes' inventory.
	doradev1.DoraKindCPU: {
		doradev1.DoraVerbGet:      {dora(Cluster, "nodes", read...)},
		doradev1.DoraVerbDescribe: {dora(Cluster, "nodes", read...)},
	},
	doradev1.DoraKindGPU: {
		doradev1.DoraVerbGet:      {dora(Cluster, "nodes", read...)},
		doradev1.DoraVerbDescribe: {dora(Cluster, "nodes", read...)},
	},
	// Workspace rules name the workspaces the grant is for; a workspace is created by
	// whoever may create any (RBAC cannot check the name of an object being created).
	doradev1.DoraKindWorkspace: {
		doradev1.DoraVerbApply:    {workspaces(write...)},
		doradev1.DoraVerbDelete:   {workspaces("delete")},
		doradev1.DoraVerbGet:      {workspaces(read...)},
		doradev1.DoraVerbDescribe: {workspaces(read...)},
		doradev1.DoraVerbClone:    {workspaces(doradev1.VerbClone)},
	},
	// Get lists everyone's credits (an admin's view); GetOne and Describe read one's own.
	doradev1.DoraKindUsercredit: with(crud(Cluster, "usercredits"), map[string][]Rule{
		doradev1.DoraVerbGetOne:   {own("usercredits", "get", "watch")},
		doradev1.DoraVerbDescribe: {own("usercredits", "get", "watch")},
	}),
	doradev1.DoraKindUser: with(crud(Cluster, "users"), map[string][]Rule{
		doradev1.DoraVerbCredits: {own("users", doradev1.VerbCredits), own("usercredits", "get", "watch")},
	}),
	// Projects do not exist in Kubernetes: every verb on them is unmapped.
	doradev1.DoraKindProject: {},
}

func workspaces(verbs ...string) Rule {
	r := dora(Self, "workspaces", verbs...)
	r.workspaceNames = true
	return r
}

func own(resource string, verbs ...string) Rule {
	r := dora(Self, resource, verbs...)
	r.ownNames = true
	return r
}

// Kinds lists every Dora kind a Role may name, but All.
func Kinds() []string {
	kinds := make([]string, 0, len(verbTable))
	for k := range verbTable {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// VerbsOf lists the verbs with a Kubernetes meaning on kind, sorted.
func VerbsOf(kind string) []string {
	verbs := make([]string, 0, len(verbTable[kind]))
	for v := range verbTable[kind] {
		verbs = append(verbs, v)
	}
	slices.Sort(verbs)
	return verbs
}

// RulesFor is what verb on kind means in Kubernetes, and whether it means anything. Verb
// All is every verb of the kind; kind All is not a kind (expand it first).
func RulesFor(kind, verb string) ([]Rule, bool) {
	verbs, ok := verbTable[kind]
	if !ok {
		return nil, false
	}
	if verb == doradev1.DoraVerbAll {
		var out []Rule
		for _, v := range VerbsOf(kind) {
			out = append(out, verbs[v]...)
		}
		return out, true
	}
	rules, ok := verbs[verb]
	return rules, ok
}
