package volume

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// The mkdir and rmdir Jobs mount the export root, so they run in the manager's namespace
// (Options.HelperNamespace), out of every tenant's reach. A Job there cannot be owned by a
// Volume of another namespace: it is this volume's when its labels and annotation say so
// (nfs.TargetOf), which only the manager can write there. Nothing deletes such a Job but
// the manager: the mkdir Job goes once the status records the directory, and every helper
// Job of a volume goes once its finalizer is released or the volume is gone.

// helperKinds are the Jobs the volume controller runs for a volume.
var helperKinds = []string{nfs.JobMkdir, nfs.JobRmdir}

// jobNamespace is where the helper Jobs of volumes in namespace run: the manager's
// namespace, or, when the controller was given none (unit tests), the volume's own.
func (r *Reconciler) jobNamespace(namespace string) string {
	if r.opts.HelperNamespace != "" {
		return r.opts.HelperNamespace
	}
	return namespace
}

// jobKey is the helper Job of kind for the volume vol.
func (r *Reconciler) jobKey(kind string, vol types.NamespacedName) client.ObjectKey {
	return client.ObjectKey{Namespace: r.jobNamespace(vol.Namespace), Name: nfs.JobName(kind, vol.Namespace, vol.Name)}
}

// jobInputs are the inputs of the volume's helper Jobs.
func (r *Reconciler) jobInputs(vol *doradev1.Volume) nfs.JobInputs {
	return nfs.JobInputs{
		Namespace: r.jobNamespace(vol.Namespace),
		Volume:    client.ObjectKeyFromObject(vol),
		VolumeUID: vol.UID,
		Image:     r.opts.HelperImage,
	}
}

// jobRelation is what a Job of a helper Job's name is to a volume.
type jobRelation int

const (
	// jobForeign: not a Job the manager made for this volume; it is never touched.
	jobForeign jobRelation = iota
	// jobStale: the manager made it, of this kind, for an earlier Volume of this name: a
	// leftover that an owner reference would have let the garbage collector take.
	jobStale
	// jobOurs: the manager made it, of this kind, for this volume.
	jobOurs
)

// relationOf says what job is to vol, as a helper Job of kind.
func relationOf(job *batchv1.Job, kind string, vol *doradev1.Volume) jobRelation {
	target, ok := nfs.TargetOf(job)
	switch {
	case !ok || target.Kind != kind || target.Volume != client.ObjectKeyFromObject(vol):
		return jobForeign
	case target.UID != vol.UID:
		return jobStale
	}
	return jobOurs
}

// deleteJobs deletes the helper Jobs of the volume vol that the manager made: those for
// the Volume of UID uid, or, when uid is empty (the volume is gone), those for any Volume
// of its name. It runs once the finalizer is released, and for a volume no longer there,
// since no owner reference takes them away.
func (r *Reconciler) deleteJobs(ctx context.Context, vol types.NamespacedName, uid types.UID) error {
	for _, kind := range helperKinds {
		job := &batchv1.Job{}
		key := r.jobKey(kind, vol)
		switch err := r.client.Get(ctx, key, job); {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return fmt.Errorf("reading job %s: %w", key.Name, err)
		}
		target, ok := nfs.TargetOf(job)
		if !ok || target.Kind != kind || target.Volume != vol || (uid != "" && target.UID != uid) || job.DeletionTimestamp != nil {
			continue
		}
		if err := r.client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting job %s: %w", key.Name, err)
		}
		ctrl.LoggerFrom(ctx).Info("Deleted a storage Job", "job", klog.KObj(job))
	}
	return nil
}

// jobVolume maps a mkdir or rmdir Job the manager made in the helper namespace to the
// Volume it works for (a volume that is gone has its Jobs cleaned up by that reconcile).
func (r *Reconciler) jobVolume(_ context.Context, o client.Object) []reconcile.Request {
	target, ok := nfs.TargetOf(o)
	if !ok || (target.Kind != nfs.JobMkdir && target.Kind != nfs.JobRmdir) || o.GetNamespace() != r.jobNamespace(target.Volume.Namespace) {
		return nil
	}
	return []reconcile.Request{{NamespacedName: target.Volume}}
}
