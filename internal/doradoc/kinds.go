package doradoc

import (
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// kindInfo is what the translator knows of one Dora kind.
type kindInfo struct {
	// dora is the kind as Dora documents spell it.
	dora string
	// kube is the Kubernetes kind in dora.dev/v1alpha1.
	kube string
	// namespaced kinds live in a workspace.
	namespaced bool
	// newObject returns an empty typed object.
	newObject func() client.Object
	// required lists spec fields a document must give, as dotted paths below spec.
	required []string
}

var kinds = []kindInfo{
	{dora: "Workload", kube: "Workload", namespaced: true, newObject: func() client.Object { return &doradev1.Workload{} }, required: []string{"image.image"}},
	{dora: "Volume", kube: "Volume", namespaced: true, newObject: func() client.Object { return &doradev1.Volume{} }, required: []string{"storage"}},
	{dora: "Workspace", kube: "Workspace", newObject: func() client.Object { return &doradev1.Workspace{} }},
	{dora: "Zone", kube: "Zone", newObject: func() client.Object { return &doradev1.Zone{} }},
	{dora: "Storage", kube: "Storage", newObject: func() client.Object { return &doradev1.Storage{} }, required: []string{"endpoint", "mountpath"}},
	{dora: "Node", kube: "Node", newObject: func() client.Object { return &doradev1.Node{} }},
	{dora: "User", kube: "User", newObject: func() client.Object { return &doradev1.User{} }},
	{dora: "Role", kube: "Role", newObject: func() client.Object { return &doradev1.Role{} }},
	{dora: "Resourcecredit", kube: "ResourceCredit", newObject: func() client.Object { return &doradev1.ResourceCredit{} }, required: []string{"product_name", "credit.per.hour"}},
	{dora: "Usercredit", kube: "UserCredit", newObject: func() client.Object { return &doradev1.UserCredit{} }},
}

// lookupKind finds a kind by its Dora or Kubernetes spelling, ignoring case.
func lookupKind(kind string) (kindInfo, bool) {
	for _, k := range kinds {
		if strings.EqualFold(kind, k.dora) || strings.EqualFold(kind, k.kube) {
			return k, true
		}
	}
	return kindInfo{}, false
}

// kindOf finds the kind of a typed object.
func kindOf(obj runtime.Object) (kindInfo, bool) {
	t := reflect.TypeOf(obj)
	for _, k := range kinds {
		if reflect.TypeOf(k.newObject()) == t {
			return k, true
		}
	}
	return kindInfo{}, false
}

// knownKinds lists the Dora kinds for error messages.
func knownKinds() string {
	names := make([]string, 0, len(kinds))
	for _, k := range kinds {
		names = append(names, k.dora)
	}
	return strings.Join(names, ", ")
}
