// Package testclient builds fake clients for the controllers' unit tests: the manager's
// scheme, every field index the controllers list by, and the status subresource of every
// Dora kind, so a test's client answers as the manager's cache would. Behaviour the API
// server owns (validation, defaulting, garbage collection) is tested against a real one in
// test/integration and test/e2e, never here.
package testclient

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
)

// Scheme has the Kubernetes and Dora kinds.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(doradev1.AddToScheme(s))
	return s
}

// NewBuilder returns a fake client builder with the scheme, the indexes and the status
// subresources registered; add objects with WithObjects and build.
func NewBuilder() *fake.ClientBuilder {
	b := fake.NewClientBuilder().WithScheme(Scheme()).WithStatusSubresource(
		&doradev1.Workload{}, &doradev1.Workspace{}, &doradev1.Volume{}, &doradev1.Storage{},
		&doradev1.Node{}, &doradev1.Zone{}, &doradev1.User{}, &doradev1.Role{},
		&doradev1.UserCredit{}, &doradev1.ResourceCredit{},
	)
	for _, idx := range indexes.All() {
		b = b.WithIndex(idx.Object, idx.Field, idx.Extract)
	}
	return b
}

// Objects is a shorthand for NewBuilder().WithObjects(objs...).Build().
func Objects(objs ...client.Object) client.WithWatch {
	return NewBuilder().WithObjects(objs...).Build()
}
