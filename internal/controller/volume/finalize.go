package volume

import (
	"context"
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/controller/namespaces"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// deletion is how far a deleted volume's going is.
type deletion struct {
	// done: its claims and PersistentVolumes are gone, and its data removed or kept: the
	// finalizer may go.
	done bool
	// reason and message say why it is not done yet (Deleting, or DeleteFailed).
	reason, message string
	// removed is where the data was removed from; kept why it stays (both empty when there
	// was never any data).
	removed, kept string
	// replace: the Job of the rmdir name was left by an earlier Volume of this name; it is
	// deleted, and this volume's made next.
	replace bool
}

// dataFate is what becomes of a deleted volume's directory.
type dataFate struct {
	// remove is the directory to remove; nil when the data stays.
	remove *nfs.Directory
	// keep says why the data stays (empty when there never was any).
	keep string
}

// finalize takes a deleted volume apart: its claims (own, and those of other workspaces),
// its PersistentVolumes, and, when it asked for it, its directory. The data is removed only
// after every claim is gone, so no pod still writes there; when the data stays, nothing
// waits (the PersistentVolumes are Retain, and go once their claims have).
func (r *Reconciler) finalize(ctx context.Context, vol *doradev1.Volume) (deletion, error) {
	fate, err := r.dataToRemove(ctx, vol)
	if err != nil {
		return deletion{}, err
	}
	remaining, err := r.deleteClaims(ctx, vol)
	if err != nil {
		return deletion{}, err
	}
	if fate.remove != nil && len(remaining) > 0 {
		return deletion{reason: doradev1.ReasonDeleting,
			message: fmt.Sprintf("waiting for claims %s to go before removing the data: they go once no pod mounts them", strings.Join(remaining, ", "))}, nil
	}
	pvs, err := r.persistentVolumesOf(ctx, vol)
	if err != nil {
		return deletion{}, err
	}
	for _, pv := range pvs {
		if err := r.client.Delete(ctx, pv); err != nil && !apierrors.IsNotFound(err) {
			return deletion{}, fmt.Errorf("deleting PersistentVolume %s: %w", pv.Name, err)
		}
	}
	if fate.remove == nil {
		return deletion{done: true, kept: fate.keep}, nil
	}
	return r.removeData(ctx, vol, *fate.remove)
}

// deleteClaims deletes the claims made for the volume's directory, its own and those other
// workspaces asked for, and names those still there.
func (r *Reconciler) deleteClaims(ctx context.Context, vol *doradev1.Volume) ([]string, error) {
	claims := &corev1.PersistentVolumeClaimList{}
	if err := r.client.List(ctx, claims, client.MatchingFields{indexes.ClaimSourceVolume: nfs.SourceKey(client.ObjectKeyFromObject(vol))}); err != nil {
		return nil, fmt.Errorf("listing claims: %w", err)
	}
	var remaining []string
	for i := range claims.Items {
		claim := &claims.Items[i]
		if claim.Namespace == vol.Namespace && !metav1.IsControlledBy(claim, vol) {
			continue
		}
		remaining = append(remaining, claim.Namespace+"/"+claim.Name)
		if claim.DeletionTimestamp == nil {
			if err := r.client.Delete(ctx, claim); err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("deleting claim %s: %w", claim.Name, err)
			}
		}
	}
	slices.Sort(remaining)
	return remaining, nil
}

// dataToRemove reads what decideData needs: the Storage, whether the namespace or its
// workspace is going, and any rmdir Job already made.
func (r *Reconciler) dataToRemove(ctx context.Context, vol *doradev1.Volume) (dataFate, error) {
	if !directoryMade(vol) || vol.Spec.ReclaimPolicy != doradev1.VolumeReclaimDelete {
		return decideData(vol, nil, namespaces.Going{}, nil), nil
	}
	st := &doradev1.Storage{}
	switch err := r.client.Get(ctx, client.ObjectKey{Name: vol.Spec.Storage}, st); {
	case apierrors.IsNotFound(err):
		st = nil
	case err != nil:
		return dataFate{}, fmt.Errorf("reading storage %s: %w", vol.Spec.Storage, err)
	}
	going, err := namespaces.IsGoing(ctx, r.client, vol.Namespace)
	if err != nil {
		return dataFate{}, err
	}
	var rmdir *batchv1.Job
	if going.Going {
		// The cache may not have seen a Job only just made: ask the API server too.
		job := &batchv1.Job{}
		key := r.jobKey(nfs.JobRmdir, client.ObjectKeyFromObject(vol))
		err := r.client.Get(ctx, key, job)
		if apierrors.IsNotFound(err) {
			err = r.reader.Get(ctx, key, job)
		}
		switch {
		case err == nil:
			rmdir = job
		case !apierrors.IsNotFound(err):
			return dataFate{}, fmt.Errorf("reading job %s: %w", key.Name, err)
		}
	}
	return decideData(vol, st, going, rmdir), nil
}

// decideData decides whether a deleted volume's directory goes: only for reclaimPolicy
// Delete, for a directory that was made, on a Storage (st, nil when gone) that holds it,
// and not when the volume goes because its workspace or namespace does (taking a workspace
// down never touches data), unless a removal had already started then (rmdir, the volume's
// Job of the rmdir name, if any): that one is finished, and one that failed is not tried
// again.
func decideData(vol *doradev1.Volume, st *doradev1.Storage, going namespaces.Going, rmdir *batchv1.Job) dataFate {
	switch {
	case !directoryMade(vol):
		return dataFate{}
	case vol.Spec.ReclaimPolicy != doradev1.VolumeReclaimDelete:
		return dataFate{keep: "reclaimPolicy is " + vol.Spec.ReclaimPolicy}
	case st == nil:
		return dataFate{keep: "Storage " + vol.Spec.Storage + " is gone"}
	}
	found, ok := recordedDirectory(st, vol)
	if !ok {
		return dataFate{keep: "Storage " + vol.Spec.Storage + " does not hold that directory"}
	}
	if !going.Going {
		return dataFate{remove: &found}
	}
	if rmdir != nil && relationOf(rmdir, nfs.JobRmdir, vol) == jobOurs {
		if outcome, _ := nfs.Outcome(rmdir); outcome != nfs.JobFailed {
			return dataFate{remove: &found}
		}
	}
	return dataFate{keep: going.Why}
}

// removeData runs the rmdir Job and reports how far it is.
func (r *Reconciler) removeData(ctx context.Context, vol *doradev1.Volume, dir nfs.Directory) (deletion, error) {
	want, err := nfs.RmdirJob(r.jobInputs(vol), dir)
	if err != nil {
		return deletion{reason: doradev1.ReasonDeleteFailed, message: err.Error()}, nil
	}
	job, err := r.ensureJob(ctx, want)
	if err != nil {
		return deletion{}, err
	}
	d := rmdirProgress(vol, dir, job, want)
	if d.replace {
		if err := r.client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return deletion{}, fmt.Errorf("replacing job %s: %w", job.Name, err)
		}
	}
	return d, nil
}

// rmdirProgress reads how far the removal of dir is from the Job of the rmdir name: job is
// nil when it was only just created.
func rmdirProgress(vol *doradev1.Volume, dir nfs.Directory, job, want *batchv1.Job) deletion {
	where := fmt.Sprintf("%s:%s", dir.Server, dir.Path())
	running := deletion{reason: doradev1.ReasonDeleting, message: "a Job is removing " + where}
	if job == nil {
		return running
	}
	switch rel := relationOf(job, nfs.JobRmdir, vol); {
	case rel == jobStale:
		// Left by an earlier Volume of this name: it goes, and this volume's is made.
		running.replace = true
		return running
	case rel != jobOurs || !sameWork(job, want):
		return deletion{reason: doradev1.ReasonDeleteFailed,
			message: fmt.Sprintf("Job %s exists and is not this volume's removal of %s; delete it, or remove the finalizer %s to keep the data", job.Name, where, doradev1.FinalizerVolume)}
	}
	switch outcome, msg := nfs.Outcome(job); outcome {
	case nfs.JobSucceeded:
		return deletion{done: true, removed: where}
	case nfs.JobFailed:
		return deletion{reason: doradev1.ReasonDeleteFailed,
			message: msg + "; delete the Job to try again, or remove the finalizer " + doradev1.FinalizerVolume + " to keep the data"}
	}
	return running
}

// emitDataEvent tells what became of a deleted volume's data.
func (r *Reconciler) emitDataEvent(vol *doradev1.Volume, d deletion) {
	switch {
	case d.removed != "":
		r.recorder.Eventf(vol, nil, corev1.EventTypeNormal, doradev1.EventDataRemoved, "DeleteVolume", "Removed %s", d.removed)
	case d.kept != "":
		r.recorder.Eventf(vol, nil, corev1.EventTypeNormal, doradev1.EventDataKept, "DeleteVolume", "The data stays at %s:%s: %s", vol.Status.Server, vol.Status.Path, d.kept)
	}
}
