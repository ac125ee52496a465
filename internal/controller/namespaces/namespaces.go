// Package namespaces answers what the controllers ask of a namespace: which workspace it
// belongs to, and whether it (or its workspace) is going.
package namespaces

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// WorkspaceOf is the name of the workspace a namespace belongs to (OwningWorkspace); a
// namespace of no workspace stands for itself.
func WorkspaceOf(ctx context.Context, cached client.Client, reader client.Reader, namespace string) (string, error) {
	ws, err := OwningWorkspace(ctx, cached, reader, namespace)
	switch {
	case err != nil:
		return "", err
	case ws == nil:
		return namespace, nil
	}
	return ws.Name, nil
}

// OwningWorkspace is the Workspace a namespace belongs to, decided by what no tenant can
// forge: the namespace's controller owner reference, naming a live Workspace of that UID
// whose namespace has this name. It is nil for a namespace of no workspace. Labels are not
// read: anyone who may label a namespace could claim another workspace's data directory,
// or its allowHostNetwork, with them. A namespace or workspace the cache has not seen yet
// (a workspace's, just made) is read from the API server through reader: guessing would
// put data in another directory.
func OwningWorkspace(ctx context.Context, cached client.Client, reader client.Reader, namespace string) (*doradev1.Workspace, error) {
	ns := &corev1.Namespace{}
	if err := getCachedFirst(ctx, cached, reader, namespace, ns); err != nil {
		return nil, fmt.Errorf("reading namespace %s: %w", namespace, err)
	}
	owner := workspaceOwner(ns)
	if owner == nil {
		return nil, nil
	}
	ws := &doradev1.Workspace{}
	switch err := getCachedFirst(ctx, cached, reader, owner.Name, ws); {
	case apierrors.IsNotFound(err):
		// An owner that is gone (the namespace waits for the garbage collector) vouches
		// for nothing.
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading workspace %s, the owner of namespace %s: %w", owner.Name, namespace, err)
	case ws.UID != owner.UID:
		return nil, nil
	}
	return ws, nil
}

// workspaceOwner is the namespace's controller when that is a Workspace whose namespace has
// the namespace's name (the only one the workspace controller makes or claims), or nil.
func workspaceOwner(ns *corev1.Namespace) *metav1.OwnerReference {
	owner := metav1.GetControllerOf(ns)
	if owner == nil || owner.Kind != "Workspace" || owner.APIVersion != doradev1.GroupVersion.String() ||
		naming.WorkspaceNamespace(owner.Name) != ns.Name {
		return nil
	}
	return owner
}

// getCachedFirst reads the cluster-scoped object name from the cache, and from the API
// server when the cache has not seen it.
func getCachedFirst(ctx context.Context, cached client.Client, reader client.Reader, name string, obj client.Object) error {
	err := cached.Get(ctx, client.ObjectKey{Name: name}, obj)
	if apierrors.IsNotFound(err) {
		err = reader.Get(ctx, client.ObjectKey{Name: name}, obj)
	}
	return err
}

// Going says whether a namespace, or the workspace that owns it, is being deleted (or is
// gone), and why.
type Going struct {
	// Going is true when the namespace or its workspace is gone or being deleted.
	Going bool
	// Why says which, for events and conditions.
	Why string
}

// IsGoing reports whether the namespace, or the workspace that owns it, is gone or being
// deleted.
func IsGoing(ctx context.Context, c client.Client, namespace string) (Going, error) {
	ns := &corev1.Namespace{}
	switch err := c.Get(ctx, client.ObjectKey{Name: namespace}, ns); {
	case apierrors.IsNotFound(err):
		return Going{true, "namespace " + namespace + " is gone"}, nil
	case err != nil:
		return Going{}, fmt.Errorf("reading namespace %s: %w", namespace, err)
	case ns.DeletionTimestamp != nil:
		return Going{true, "namespace " + namespace + " is being deleted"}, nil
	}
	owner := metav1.GetControllerOf(ns)
	if owner == nil || owner.Kind != "Workspace" || owner.APIVersion != doradev1.GroupVersion.String() {
		return Going{}, nil
	}
	ws := &doradev1.Workspace{}
	switch err := c.Get(ctx, client.ObjectKey{Name: owner.Name}, ws); {
	case apierrors.IsNotFound(err):
		return Going{true, "workspace " + owner.Name + " is gone"}, nil
	case err != nil:
		return Going{}, fmt.Errorf("reading workspace %s: %w", owner.Name, err)
	case ws.DeletionTimestamp != nil || ws.UID != owner.UID:
		return Going{true, "workspace " + owner.Name + " is being deleted"}, nil
	}
	return Going{}, nil
}
