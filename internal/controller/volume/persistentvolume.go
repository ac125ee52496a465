package volume

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// pvStep is what to do with the PersistentVolume found under a binding's name.
type pvStep int

const (
	// pvFine: it is the binding's, as wanted.
	pvFine pvStep = iota
	// pvGoing: it is being deleted; its deletion brings the volume back to make it again.
	pvGoing
	// pvClash: it is someone else's; it is reported and left alone.
	pvClash
	// pvReplace: it is the binding's with a read-only mode the volume's sharing no longer
	// says, and no claim holds it: it is deleted and made again. (One a claim holds keeps
	// its mode until that claim goes with its workloads.)
	pvReplace
	// pvRebind: its claim was deleted (Released): it is bound ahead to the claim of the
	// same name that replaces it.
	pvRebind
)

// persistentVolumeStep decides what to do with pv, found under b's name.
func persistentVolumeStep(pv *corev1.PersistentVolume, b nfs.Binding) pvStep {
	switch {
	case pv.DeletionTimestamp != nil:
		return pvGoing
	case !nfs.ReachesDirectory(pv, b.Source) || pv.Spec.NFS == nil || pv.Spec.NFS.Path != b.Dir.Path() || pv.Spec.NFS.Server != b.Dir.Server:
		return pvClash
	case pv.Spec.NFS.ReadOnly != b.ReadOnly && pv.Status.Phase != corev1.VolumeBound:
		return pvReplace
	case pv.Status.Phase == corev1.VolumeReleased && pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.UID != "":
		return pvRebind
	}
	return pvFine
}

// ensurePersistentVolume makes b's PersistentVolume exist, and says which clash keeps it
// from being the binding's.
func (r *Reconciler) ensurePersistentVolume(ctx context.Context, b nfs.Binding) (clash string, err error) {
	name := b.PersistentVolumeName()
	pv := &corev1.PersistentVolume{}
	err = r.client.Get(ctx, client.ObjectKey{Name: name}, pv)
	if apierrors.IsNotFound(err) {
		r.creating.Lock()
		defer r.creating.Unlock()
		// The cache holds only our labelled PersistentVolumes: ask the API server.
		err = r.reader.Get(ctx, client.ObjectKey{Name: name}, pv)
		if apierrors.IsNotFound(err) {
			pv = b.PersistentVolume()
			switch err := r.client.Create(ctx, pv); {
			case err == nil:
				ctrl.LoggerFrom(ctx).Info("Created a PersistentVolume", "persistentVolume", name, "server", b.Dir.Server, "path", b.Dir.Path())
				return "", nil
			case !apierrors.IsAlreadyExists(err):
				return "", fmt.Errorf("creating PersistentVolume %s: %w", name, err)
			}
			err = r.reader.Get(ctx, client.ObjectKey{Name: name}, pv)
		}
	}
	if err != nil {
		return "", client.IgnoreNotFound(err)
	}
	switch persistentVolumeStep(pv, b) {
	case pvClash:
		return fmt.Sprintf("PersistentVolume %s exists and is not this volume's (it is not for %s:%s); it is left untouched: an administrator must delete or rename it",
			name, b.Dir.Server, b.Dir.Path()), nil
	case pvReplace:
		if err := r.client.Delete(ctx, pv); err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("replacing PersistentVolume %s: %w", name, err)
		}
	case pvRebind:
		patch := client.MergeFrom(pv.DeepCopy())
		pv.Spec.ClaimRef = b.PersistentVolume().Spec.ClaimRef
		if err := r.client.Patch(ctx, pv, patch); err != nil {
			return "", fmt.Errorf("freeing released PersistentVolume %s: %w", name, err)
		}
	}
	return "", nil
}

// ensureClaim makes the volume's own claim exist, controlled by the volume, and says which
// clash keeps it from being the volume's.
func (r *Reconciler) ensureClaim(ctx context.Context, vol *doradev1.Volume) (claim *corev1.PersistentVolumeClaim, clash string, err error) {
	self := client.ObjectKeyFromObject(vol)
	claim = &corev1.PersistentVolumeClaim{}
	err = r.client.Get(ctx, self, claim)
	if apierrors.IsNotFound(err) {
		claim = nfs.Claim(self, self)
		if err := ctrl.SetControllerReference(vol, claim, r.client.Scheme()); err != nil {
			return nil, "", fmt.Errorf("owning claim %s: %w", vol.Name, err)
		}
		if err = r.client.Create(ctx, claim); err == nil {
			return claim, "", nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, "", fmt.Errorf("creating claim %s: %w", vol.Name, err)
		}
		// A claim of that name the cache does not hold: not labelled, so not ours.
		err = r.reader.Get(ctx, self, claim)
	}
	if err != nil {
		return nil, "", client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(claim, vol) {
		return nil, fmt.Sprintf("claim %s exists in namespace %s and is not this volume's; it is left untouched: delete or rename it", vol.Name, vol.Namespace), nil
	}
	return claim, "", nil
}

// persistentVolumesOf lists the PersistentVolumes made for vol's directory.
func (r *Reconciler) persistentVolumesOf(ctx context.Context, vol *doradev1.Volume) ([]*corev1.PersistentVolume, error) {
	list := &corev1.PersistentVolumeList{}
	if err := r.client.List(ctx, list, client.MatchingLabels{doradev1.LabelVolume: naming.WorkloadLabelValue(vol.Name)}); err != nil {
		return nil, fmt.Errorf("listing PersistentVolumes: %w", err)
	}
	var out []*corev1.PersistentVolume
	for i := range list.Items {
		if nfs.ReachesDirectory(&list.Items[i], client.ObjectKeyFromObject(vol)) {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}
