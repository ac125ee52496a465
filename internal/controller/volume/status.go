package volume

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// dirState is how far the volume's directory is.
type dirState int

const (
	dirUnknown dirState = iota
	dirPending
	dirCreated
	dirFailed
)

// observation is what one reconcile found of a live volume; the status follows from it
// alone, so a reconcile that finds nothing new writes nothing.
type observation struct {
	// storageMissing: spec.storage names no Storage.
	storageMissing bool
	// storageDeleting: the Storage is going and the volume has no directory yet.
	storageDeleting bool
	// overlap is an older Storage whose export overlaps this volume's Storage.
	overlap *doradev1.Storage
	// invalid says why no directory can be computed.
	invalid string
	// dir is the volume's directory, once its Storage is known.
	dir *nfs.Directory
	// dirState and dirMessage report the directory Job.
	dirState   dirState
	dirMessage string
	// clash says which PersistentVolume or claim of the volume's names is someone else's.
	clash string
	// shareClash: a PersistentVolume another workspace's claim needs is someone else's
	// (reported by an event on the volume).
	shareClash bool
	// claim is the volume's claim, once made.
	claim *corev1.PersistentVolumeClaim
	// doneJob is a finished mkdir Job to delete once the status records the directory.
	doneJob *batchv1.Job
}

// clashed reports whether something not the volume's keeps it from being made (a name
// taken, or a directory Job that failed or is not ours): nothing may tell the volume when
// that changes, so it looks again later.
func (obs observation) clashed() bool {
	return obs.clash != "" || obs.shareClash || obs.dirState == dirFailed
}

// computeStatus is the volume's status for what was observed. Conditions keep their
// transition times when their status stays (meta.SetStatusCondition).
func computeStatus(vol *doradev1.Volume, obs observation) doradev1.VolumeStatus {
	st := *vol.Status.DeepCopy()
	st.ObservedGeneration = vol.Generation
	if obs.dir != nil {
		st.Server, st.Path = obs.dir.Server, obs.dir.Path()
		st.PersistentVolumeName = nfs.PersistentVolumeName(vol.Namespace, vol.Name)
		st.ClaimName = vol.Name
	}

	set := func(c metav1.Condition) {
		c.ObservedGeneration = vol.Generation
		meta.SetStatusCondition(&st.Conditions, c)
	}
	switch obs.dirState {
	case dirPending:
		set(metav1.Condition{Type: doradev1.VolumeDirectoryReady, Status: metav1.ConditionFalse, Reason: doradev1.ReasonDirectoryPending,
			Message: fmt.Sprintf("a Job is creating %s on %s", obs.dir.Path(), obs.dir.Server)})
	case dirCreated:
		set(metav1.Condition{Type: doradev1.VolumeDirectoryReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonDirectoryCreated,
			Message: fmt.Sprintf("%s exists on %s", obs.dir.Path(), obs.dir.Server)})
	case dirFailed:
		set(metav1.Condition{Type: doradev1.VolumeDirectoryReady, Status: metav1.ConditionFalse, Reason: doradev1.ReasonDirectoryFailed,
			Message: obs.dirMessage})
	}

	ready := metav1.Condition{Type: doradev1.ConditionReady, Status: metav1.ConditionFalse}
	switch {
	case obs.storageMissing:
		ready.Reason = doradev1.ReasonStorageNotFound
		ready.Message = fmt.Sprintf("Storage %s does not exist: create it, or name an existing one in spec.storage (kubectl get storages); the volume is made as soon as it exists",
			vol.Spec.Storage)
	case obs.storageDeleting:
		ready.Reason = doradev1.ReasonStorageDeleting
		ready.Message = fmt.Sprintf("Storage %s is being deleted and takes no new volumes", vol.Spec.Storage)
	case obs.overlap != nil:
		ready.Reason = doradev1.ReasonDirectoryClash
		ready.Message = fmt.Sprintf("Storage %s exports a directory that overlaps Storage %s's (%s:%s), so its volumes could share directories with that storage's; an administrator must fix one of the two Storages",
			vol.Spec.Storage, obs.overlap.Name, obs.overlap.Spec.Endpoint, obs.overlap.Spec.Mountpath)
	case obs.invalid != "":
		ready.Reason = doradev1.ReasonDirectoryFailed
		ready.Message = obs.invalid
	case obs.dirState == dirPending:
		ready.Reason = doradev1.ReasonDirectoryPending
		ready.Message = fmt.Sprintf("waiting for the Job that creates %s on %s", obs.dir.Path(), obs.dir.Server)
	case obs.dirState == dirFailed:
		ready.Reason = doradev1.ReasonDirectoryFailed
		ready.Message = obs.dirMessage
	case obs.clash != "":
		ready.Reason = doradev1.ReasonNameClash
		ready.Message = obs.clash
	case obs.claim == nil || obs.claim.Status.Phase != corev1.ClaimBound:
		phase := corev1.ClaimPending
		if obs.claim != nil && obs.claim.Status.Phase != "" {
			phase = obs.claim.Status.Phase
		}
		ready.Reason = doradev1.ReasonClaimPending
		ready.Message = fmt.Sprintf("claim %s is %s, waiting for it to bind to PersistentVolume %s", vol.Name, phase, st.PersistentVolumeName)
	default:
		ready.Status = metav1.ConditionTrue
		ready.Reason = doradev1.ReasonClaimBound
		ready.Message = fmt.Sprintf("claim %s is bound to %s:%s", vol.Name, obs.dir.Server, obs.dir.Path())
	}
	set(ready)
	setKStatus(&st, ready, vol.Generation)
	return st
}

// setKStatus sets kstatus's Stalled, with Ready's reason and message, while the volume
// cannot be made without someone changing something: its Storage going, an overlapping
// export, a directory that cannot be computed or made, a name someone else holds. A volume
// waiting for its Storage to exist, its directory Job or its claim is only not Ready yet,
// which kstatus reads as InProgress.
func setKStatus(st *doradev1.VolumeStatus, ready metav1.Condition, generation int64) {
	switch ready.Reason {
	case doradev1.ReasonStorageDeleting, doradev1.ReasonDirectoryClash, doradev1.ReasonDirectoryFailed, doradev1.ReasonNameClash:
		doradev1.SetStalled(&st.Conditions, generation, ready.Reason, ready.Message)
	default:
		doradev1.ClearKStatus(&st.Conditions)
	}
}

// deletingStatus is the status of a volume on its way out: reason Deleting, or
// DeleteFailed when removing its data failed.
func deletingStatus(vol *doradev1.Volume, reason, message string) doradev1.VolumeStatus {
	st := *vol.Status.DeepCopy()
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: doradev1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason,
		Message: message, ObservedGeneration: vol.Generation,
	})
	return st
}
