package workspace

import (
	"fmt"
	"maps"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// objectState is where one object of a clone stands: what its status.clone.objects entry
// says. The zero value is no state at all; only an error comes with it.
type objectState struct {
	// state is doradev1.ClonePending, CloneCopying, CloneDone or CloneFailed.
	state string
	// message says what the object waits for or why it failed; empty when there is
	// nothing to add.
	message string
}

// copySituation is what a clone found of one object: its source, and an object of its name
// in the clone's namespace.
type copySituation int

const (
	// sourceGone: the source object no longer exists (its copy is not looked for).
	sourceGone copySituation = iota
	// copyMissing: the source exists, and nothing of its name in the clone's namespace.
	copyMissing
	// copyOurs: the source exists, and so does the copy this clone made of it.
	copyOurs
	// copyForeign: the source exists, and so does an object of its name this clone did not
	// make.
	copyForeign
)

// cloneStep is what a clone does next with one object. The zero value does nothing and
// leaves the object with no state: every decision sets one of its fields.
type cloneStep struct {
	// create is true when what the step makes (the copy, or the Job copying its data) does
	// not exist yet: the caller creates it, and the object is then in state.
	create bool
	// copyData is true when the copy exists, is the clone's, and its data is copied next;
	// state is then left to that step.
	copyData bool
	// state is where the object stands: once created when create is true, now otherwise.
	state objectState
}

// copyStep decides what a clone does next with one object of kind (kindVolume or
// kindWorkload), named name, to be copied into namespace. withData says its data is copied
// once the copy exists: a volume of a workspace with spec.copyData.
func copyStep(kind, name, namespace string, found copySituation, withData bool) cloneStep {
	noun := strings.ToLower(kind)
	switch found {
	case sourceGone:
		return cloneStep{state: objectState{doradev1.CloneFailed, "the source " + noun + " no longer exists"}}
	case copyMissing:
		if withData {
			return cloneStep{create: true, state: objectState{doradev1.CloneCopying, "waiting for the new volume's directory"}}
		}
		return cloneStep{create: true, state: objectState{state: doradev1.CloneDone}}
	case copyForeign:
		return cloneStep{state: objectState{doradev1.CloneFailed, fmt.Sprintf(
			"a %s %s already exists in namespace %s and is not a copy of the source's; it is left as it is", noun, name, namespace)}}
	}
	if withData {
		return cloneStep{copyData: true}
	}
	return cloneStep{state: objectState{state: doradev1.CloneDone}}
}

// stateAfterCreate says where an object stands once the create of its copy returned err:
// made when the API server took it. The API server refusing it (the source's spec no
// longer passes validation, or admission says no) fails that object. It reports false for
// any other error, which the reconcile returns and retries.
func stateAfterCreate(err error, made objectState) (objectState, bool) {
	switch {
	case err == nil:
		return made, true
	case apierrors.IsAlreadyExists(err):
		// Made before the cache saw it, or not by this clone: the next look tells.
		return objectState{doradev1.ClonePending, "an object of this name exists; checking whose it is"}, true
	case apierrors.IsInvalid(err), apierrors.IsForbidden(err), apierrors.IsBadRequest(err):
		return objectState{doradev1.CloneFailed, fmt.Sprintf("the API server refused the copy: %v", err)}, true
	}
	return objectState{}, false
}

// directoryWait is the state of a volume whose data is to be copied while the source's
// directory or the copy's is not made yet; false once both are.
func directoryWait(src, dst *doradev1.Volume) (objectState, bool) {
	ready := func(v *doradev1.Volume) bool {
		return meta.IsStatusConditionTrue(v.Status.Conditions, doradev1.VolumeDirectoryReady)
	}
	switch {
	case !ready(src):
		return objectState{doradev1.CloneCopying, "waiting for the source volume's directory (see its status)"}, true
	case !ready(dst):
		return objectState{doradev1.CloneCopying, "waiting for the new volume's directory (see its status)"}, true
	}
	return objectState{}, false
}

// jobStep decides the data copy into the volume dst of clone ws from the Job named name
// that copies it from the directory from: job is the one found of that name, nil when
// there is none.
func jobStep(ws *doradev1.Workspace, dst *doradev1.Volume, name string, job *batchv1.Job, from nfs.Directory) cloneStep {
	copying := objectState{doradev1.CloneCopying, fmt.Sprintf("Job %s is copying %s:%s", name, from.Server, from.Path())}
	switch {
	case job == nil:
		return cloneStep{create: true, state: copying}
	case !copyJobOf(job, ws, types.NamespacedName{Namespace: dst.Namespace, Name: dst.Name}):
		return cloneStep{state: objectState{doradev1.CloneFailed, fmt.Sprintf("Job %s exists and is not this clone's", name)}}
	}
	switch outcome, msg := nfs.Outcome(job); outcome {
	case nfs.JobSucceeded:
		return cloneStep{state: objectState{doradev1.CloneDone, fmt.Sprintf("data copied from %s:%s", from.Server, from.Path())}}
	case nfs.JobFailed:
		return cloneStep{state: objectState{doradev1.CloneFailed, msg}}
	}
	return cloneStep{state: copying}
}

// copyJobOf reports whether job is the Job of clone ws that copies data into the volume
// dst: owned by the workspace (cluster-scoped, so it can own a Job in the manager's
// namespace) and marked by the manager as a copy for dst.
func copyJobOf(job *batchv1.Job, ws *doradev1.Workspace, dst types.NamespacedName) bool {
	target, ok := nfs.TargetOf(job)
	return ok && target.Kind == nfs.JobCopy && target.Volume == dst && metav1.IsControlledBy(job, ws)
}

// volumeCopy is the copy of src that a clone makes in namespace: a new directory of the
// same spec.
func volumeCopy(src *doradev1.Volume, namespace, owner string) *doradev1.Volume {
	return &doradev1.Volume{ObjectMeta: copyMeta(src, namespace, owner), Spec: *src.Spec.DeepCopy()}
}

// workloadCopy is the copy of src that a clone makes in namespace: paused, so nothing runs
// (or spends credits) until the user resumes it.
func workloadCopy(src *doradev1.Workload, namespace, owner string) *doradev1.Workload {
	dst := &doradev1.Workload{ObjectMeta: copyMeta(src, namespace, owner), Spec: *src.Spec.DeepCopy()}
	dst.Spec.Paused = true
	return dst
}

// copyMeta is the metadata of a copy of src in namespace: its name, labels and annotations
// (less kubectl's record of the last apply), marked as cloned from src.
func copyMeta(src metav1.Object, namespace, owner string) metav1.ObjectMeta {
	annotations := maps.Clone(src.GetAnnotations())
	if annotations == nil {
		annotations = map[string]string{}
	}
	delete(annotations, corev1.LastAppliedConfigAnnotation)
	// A copy is its cloner's (the clone workspace's owner), never the source's owner.
	delete(annotations, doradev1.AnnotationOwner)
	if owner != "" {
		annotations[doradev1.AnnotationOwner] = owner
	}
	annotations[doradev1.AnnotationClonedFrom] = src.GetNamespace() + "/" + src.GetName()
	return metav1.ObjectMeta{Namespace: namespace, Name: src.GetName(), Labels: maps.Clone(src.GetLabels()), Annotations: annotations}
}

// madeByClone reports whether obj is the copy of source/name.
func madeByClone(obj metav1.Object, sourceNS, name string) bool {
	return obj.GetAnnotations()[doradev1.AnnotationClonedFrom] == sourceNS+"/"+name
}
