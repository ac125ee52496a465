package cli

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Kind is one kind the plugin knows by Dora's names: a dora.dev resource, or Dora's
// Container, which is the pods of workloads.
type Kind struct {
	// Dora is the kind as Dora spells it: Workload, Resourcecredit, Container.
	Dora string
	// Kind is the Kubernetes kind: Workload, ResourceCredit, Pod.
	Kind string
	// Resource is the plural resource, with its group and version.
	Resource schema.GroupVersionResource
	// Namespaced kinds live in a workspace.
	Namespaced bool
	// Names are what a user may type for it, lower case: singular, plural, then short names.
	Names []string
	// Container marks Dora's Container: the pods labelled dora.dev/workload.
	Container bool
	// Zoned kinds belong to one zone. The others (User, Role, Workspace, Zone) exist in every
	// zone: an apply without metadata.zone sends them to every configured zone.
	Zoned bool
	// New returns an empty typed object of the kind.
	New func() client.Object
}

// Singular is the kind's name in messages: "workload", "resourcecredit", "container".
func (k Kind) Singular() string { return strings.ToLower(k.Dora) }

// Plural is the kind's plural in messages: "workloads", "containers".
func (k Kind) Plural() string {
	if k.Container {
		return "containers"
	}
	return k.Resource.Resource
}

// Ref is how kubectl names objects of the kind in what it prints: workload.dora.dev, pod.
func (k Kind) Ref() string {
	if k.Resource.Group == "" {
		return strings.ToLower(k.Kind)
	}
	return strings.ToLower(k.Kind) + "." + k.Resource.Group
}

// GroupResource is how kubectl names the resource: workloads.dora.dev, pods.
func (k Kind) GroupResource() string {
	if k.Resource.Group == "" {
		return k.Resource.Resource
	}
	return k.Resource.Resource + "." + k.Resource.Group
}

func dora(resource string) schema.GroupVersionResource {
	return doradev1.GroupVersion.WithResource(resource)
}

// Kinds are the kinds the plugin speaks of, in the order help texts list them.
var Kinds = []Kind{
	{Dora: "Workload", Kind: "Workload", Resource: dora("workloads"), Namespaced: true, Zoned: true,
		Names: []string{"workload", "workloads", "wk", "wks"}, New: func() client.Object { return &doradev1.Workload{} }},
	{Dora: "Container", Kind: "Pod", Resource: corev1.SchemeGroupVersion.WithResource("pods"), Namespaced: true, Zoned: true, Container: true,
		Names: []string{"container", "containers", "c"}, New: func() client.Object { return &corev1.Pod{} }},
	{Dora: "Volume", Kind: "Volume", Resource: dora("volumes"), Namespaced: true, Zoned: true,
		Names: []string{"volume", "volumes", "vol", "vols"}, New: func() client.Object { return &doradev1.Volume{} }},
	{Dora: "Workspace", Kind: "Workspace", Resource: dora("workspaces"),
		Names: []string{"workspace", "workspaces", "ws"}, New: func() client.Object { return &doradev1.Workspace{} }},
	{Dora: "Node", Kind: "Node", Resource: dora("nodes"), Zoned: true,
		Names: []string{"node", "nodes", "dn"}, New: func() client.Object { return &doradev1.Node{} }},
	{Dora: "Storage", Kind: "Storage", Resource: dora("storages"), Zoned: true,
		Names: []string{"storage", "storages", "sto"}, New: func() client.Object { return &doradev1.Storage{} }},
	{Dora: "Resourcecredit", Kind: "ResourceCredit", Resource: dora("resourcecredits"), Zoned: true,
		Names: []string{"resourcecredit", "resourcecredits", "rc"}, New: func() client.Object { return &doradev1.ResourceCredit{} }},
	{Dora: "Usercredit", Kind: "UserCredit", Resource: dora("usercredits"), Zoned: true,
		Names: []string{"usercredit", "usercredits", "uc"}, New: func() client.Object { return &doradev1.UserCredit{} }},
	{Dora: "Zone", Kind: "Zone", Resource: dora("zones"),
		Names: []string{"zone", "zones", "z"}, New: func() client.Object { return &doradev1.Zone{} }},
	{Dora: "User", Kind: "User", Resource: dora("users"),
		Names: []string{"user", "users", "du"}, New: func() client.Object { return &doradev1.User{} }},
	{Dora: "Role", Kind: "Role", Resource: dora("roles"),
		Names: []string{"role", "roles", "dr"}, New: func() client.Object { return &doradev1.Role{} }},
}

// LookupKind finds a kind by any of its names, ignoring case: Dora's (Workload,
// Resourcecredit), Kubernetes' (ResourceCredit), plurals, short names (wk, c, rc, uc, z, ws,
// vol) and the qualified resource (workloads.dora.dev).
func LookupKind(name string) (Kind, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, k := range Kinds {
		if slices.Contains(k.Names, n) {
			return k, true
		}
		// Kubernetes' names too, but not pods for Dora's containers: those are not all pods.
		if !k.Container && (n == strings.ToLower(k.Kind) || n == k.GroupResource() || n == k.Ref()) {
			return k, true
		}
	}
	return Kind{}, false
}

// KindOf finds the kind of a Kubernetes kind name (Workload, ResourceCredit, Pod).
func KindOf(kubeKind string) (Kind, bool) {
	for _, k := range Kinds {
		if k.Kind == kubeKind {
			return k, true
		}
	}
	return Kind{}, false
}

// UnknownKindError says a kind name is none of Dora's, listing the names that are.
type UnknownKindError struct {
	Name string
	// Extra are other names the command takes (views registered by other commands).
	Extra []string
}

func (e *UnknownKindError) Error() string {
	names := make([]string, 0, len(Kinds)+len(e.Extra))
	for _, k := range Kinds {
		// Names are singular, plural, then short names.
		if len(k.Names) > 2 {
			names = append(names, fmt.Sprintf("%s (%s)", k.Names[1], k.Names[2]))
		} else {
			names = append(names, k.Names[1])
		}
	}
	names = append(names, e.Extra...)
	msg := fmt.Sprintf("unknown kind %q; the kinds are %s", e.Name, strings.Join(names, ", "))
	if near := Nearest(strings.ToLower(e.Name), allKindNames(e.Extra)); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	return msg
}

func allKindNames(extra []string) []string {
	var names []string
	for _, k := range Kinds {
		names = append(names, k.Names...)
	}
	return append(names, extra...)
}
