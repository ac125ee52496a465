package workload

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/nfs"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// resolveVolumes finds the claim of every volume entry and whether it is mounted read-only.
// For a volume of another workspace it asks the policy, then requests the claim in the
// workload's namespace (the volume controller grants it a PersistentVolume), owned by every
// workload that mounts it so that it goes with the last of them. A blocker says which
// claims are missing or not yet bound; the pods wait for them.
func (r *Reconciler) resolveVolumes(ctx context.Context, wl *doradev1.Workload) ([]podspec.VolumeClaim, *blocker, error) {
	claims := make([]podspec.VolumeClaim, 0, len(wl.Spec.Volumes))
	var problems []string
	for _, v := range wl.Spec.Volumes {
		key := podspec.VolumeKey(wl.Namespace, v)
		own := key.Namespace == wl.Namespace
		claim := podspec.VolumeClaim{ClaimName: podspec.ClaimName(wl.Namespace, v), ReadOnly: v.ReadOnly}
		claims = append(claims, claim)

		vol := &doradev1.Volume{}
		switch err := r.client.Get(ctx, key, vol); {
		case apierrors.IsNotFound(err):
			problems = append(problems, fmt.Sprintf("Volume %s does not exist in namespace %s", v.Name, key.Namespace))
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("reading volume %s: %w", key, err)
		case vol.DeletionTimestamp != nil:
			problems = append(problems, fmt.Sprintf("Volume %s in namespace %s is being deleted", v.Name, key.Namespace))
			continue
		}
		if vol.Spec.Policy == doradev1.VolumeReadOnly {
			claims[len(claims)-1].ReadOnly = true
		}
		if !own {
			decision, err := r.policy.MountVolume(ctx, wl.Namespace, vol)
			if err != nil {
				return nil, nil, fmt.Errorf("deciding access to volume %s: %w", key, err)
			}
			if !decision.Allowed {
				problems = append(problems, decision.Reason)
				continue
			}
			if !decision.Write {
				claims[len(claims)-1].ReadOnly = true
			}
		}

		pvc := &corev1.PersistentVolumeClaim{}
		switch err := r.client.Get(ctx, client.ObjectKey{Namespace: wl.Namespace, Name: claim.ClaimName}, pvc); {
		case apierrors.IsNotFound(err) && !own:
			if err := r.requestClaim(ctx, wl, key, claim.ClaimName); err != nil {
				return nil, nil, err
			}
			problems = append(problems, fmt.Sprintf("claim %s for volume %s of namespace %s was requested", claim.ClaimName, v.Name, key.Namespace))
		case apierrors.IsNotFound(err):
			problems = append(problems, fmt.Sprintf("claim %s for volume %s does not exist yet", claim.ClaimName, v.Name))
		case err != nil:
			return nil, nil, fmt.Errorf("reading claim %s/%s: %w", wl.Namespace, claim.ClaimName, err)
		case pvc.DeletionTimestamp != nil:
			problems = append(problems, fmt.Sprintf("claim %s for volume %s is being deleted", claim.ClaimName, v.Name))
		case pvc.Status.Phase != corev1.ClaimBound:
			phase := pvc.Status.Phase
			if phase == "" {
				phase = corev1.ClaimPending
			}
			problems = append(problems, fmt.Sprintf("claim %s for volume %s is %s, not Bound", claim.ClaimName, v.Name, phase))
		case !own:
			owned, err := controllerutil.HasOwnerReference(pvc.OwnerReferences, wl, r.client.Scheme())
			if err != nil {
				return nil, nil, err
			}
			if !owned {
				if err := r.addOwner(ctx, pvc, wl); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	if len(problems) > 0 {
		return claims, &blocker{reason: doradev1.ReasonVolumesNotReady,
			message: "waiting for volumes: " + strings.Join(problems, "; ")}, nil
	}
	return claims, nil, nil
}

// requestClaim creates the claim for another workspace's volume, owned by wl.
func (r *Reconciler) requestClaim(ctx context.Context, wl *doradev1.Workload, source types.NamespacedName, name string) error {
	claim := nfs.Claim(source, types.NamespacedName{Namespace: wl.Namespace, Name: name})
	if err := controllerutil.SetOwnerReference(wl, claim, r.client.Scheme()); err != nil {
		return err
	}
	if err := r.client.Create(ctx, claim); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("requesting claim %s for volume %s: %w", name, source, err)
	}
	return nil
}

// addOwner makes wl one more owner of a shared claim, so that the claim stays while any
// workload mounting it does.
func (r *Reconciler) addOwner(ctx context.Context, pvc *corev1.PersistentVolumeClaim, wl *doradev1.Workload) error {
	patch := client.MergeFromWithOptions(pvc.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if err := controllerutil.SetOwnerReference(wl, pvc, r.client.Scheme()); err != nil {
		return err
	}
	// A conflict is returned, so the workload is looked at again with the claim as it is now.
	if err := r.client.Patch(ctx, pvc, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("adding workload %s as an owner of claim %s: %w", wl.Name, pvc.Name, err)
	}
	return nil
}
