package access

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/authz"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
)

// ByRoles is the policy of Dora's roles: a namespace's workloads may mount another
// workspace's volume when one of the workloads there that mounts it may: its owner has the
// Dora verb Use on that volume (the same answer admission gave when the workload was
// written), or it has no owner (made by an administrator or a service account, whose
// write admission checked). Writes follow SharedWriters: a readwrite volume that invites
// them.
//
// The owner is asked about as the Kubernetes user they are, without groups: grants made to
// groups by plain RBAC are seen at admission, not here.
type ByRoles struct {
	// Client lists workloads by the volumes they mount (indexes.WorkloadVolumes).
	Client         client.Client
	Authorizer     authz.Authorizer
	UsernamePrefix string
}

// MountVolume implements VolumePolicy.
func (p ByRoles) MountVolume(ctx context.Context, namespace string, vol *doradev1.Volume) (Decision, error) {
	list := &doradev1.WorkloadList{}
	key := client.ObjectKeyFromObject(vol).String()
	if err := p.Client.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{indexes.WorkloadVolumes: key}); err != nil {
		return Decision{}, fmt.Errorf("listing the workloads of %s that mount %s: %w", namespace, key, err)
	}
	use := authorizationv1.ResourceAttributes{
		Group: doradev1.GroupVersion.Group, Resource: "volumes", Namespace: vol.Namespace, Name: vol.Name, Verb: doradev1.VerbUse,
	}
	write, _ := SharedWriters{}.MountVolume(ctx, namespace, vol)
	asked := map[string]bool{}
	for _, wl := range list.Items {
		owner := wl.Annotations[doradev1.AnnotationOwner]
		if owner == "" {
			return Decision{Allowed: true, Write: write.Write}, nil
		}
		if asked[owner] {
			continue
		}
		asked[owner] = true
		ok, err := p.Authorizer.Allowed(ctx, authz.KubernetesUser(p.UsernamePrefix, owner), use)
		if err != nil {
			return Decision{}, err
		}
		if ok {
			return Decision{Allowed: true, Write: write.Write}, nil
		}
	}
	return Decision{Reason: fmt.Sprintf("no workload of namespace %s that mounts volume %s has an owner with the Dora verb Use on it", namespace, key)}, nil
}
