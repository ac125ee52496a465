// Package v1alpha1 holds the Dora API: every Dora kind as a Kubernetes custom resource in the
// dora.dev group. Field names are Dora's own, so the spec block of a Dora document is accepted
// as it is.
//
// +kubebuilder:object:generate=true
// +groupName=dora.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every Dora kind.
	GroupVersion = schema.GroupVersion{Group: "dora.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the Dora kinds with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the Dora kinds to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme

	knownTypes []runtime.Object
)

// register records kinds for addKnownTypes; each *_types.go file calls it from init.
func register(objects ...runtime.Object) { knownTypes = append(knownTypes, objects...) }

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, knownTypes...)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
