package workspace

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// Kinds a clone copies.
const (
	kindVolume   = "Volume"
	kindWorkload = "Workload"
)

// clone fills a new workspace with copies of its source's objects: each Volume (a new
// directory; with copyData, a Job copies the data once both directories exist) and each
// Workload, paused. The objects are the source's when the clone started, recorded in
// status.clone.objects. Copies have the source's names and carry dora.dev/cloned-from, so a
// manager restarted mid-clone finds what it made and makes nothing twice. It updates
// ws.Status; the caller writes it.
func (r *Reconciler) clone(ctx context.Context, ws *doradev1.Workspace, namespace string) error {
	status := ws.Status.Clone
	if status != nil && status.Phase != doradev1.CloneRunning {
		return nil
	}
	sourceNS := naming.WorkspaceNamespace(ws.Spec.CloneFrom)
	if status == nil {
		src := &doradev1.Workspace{}
		switch err := r.client.Get(ctx, types.NamespacedName{Name: ws.Spec.CloneFrom}, src); {
		case apierrors.IsNotFound(err):
			setCloned(ws, metav1.ConditionFalse, doradev1.ReasonSourceNotFound,
				fmt.Sprintf("workspace %s does not exist; the clone starts when it does", ws.Spec.CloneFrom))
			return nil
		case err != nil:
			return fmt.Errorf("reading workspace %s: %w", ws.Spec.CloneFrom, err)
		}
		objects, err := r.cloneObjects(ctx, sourceNS)
		if err != nil {
			return err
		}
		now := metav1.NewTime(r.clock.Now())
		status = &doradev1.CloneStatus{Source: ws.Spec.CloneFrom, Phase: doradev1.CloneRunning, StartTime: &now, Objects: objects}
		ws.Status.Clone = status
	}

	for i := range status.Objects {
		obj := &status.Objects[i]
		if obj.State == doradev1.CloneDone || obj.State == doradev1.CloneFailed {
			continue
		}
		var err error
		switch obj.Kind {
		case kindVolume:
			obj.State, obj.Message, err = r.cloneVolume(ctx, ws, sourceNS, namespace, obj.Name)
		case kindWorkload:
			obj.State, obj.Message, err = r.cloneWorkload(ctx, sourceNS, namespace, obj.Name)
		default:
			obj.State, obj.Message = doradev1.CloneFailed, "this manager does not clone kind "+obj.Kind
		}
		if err != nil {
			return err
		}
	}
	summarizeClone(ws, r.clock.Now())
	return nil
}

// cloneObjects lists what a clone of the workspace in namespace copies: its volumes, then
// its workloads, each by name.
func (r *Reconciler) cloneObjects(ctx context.Context, namespace string) ([]doradev1.ClonedObject, error) {
	vols := &doradev1.VolumeList{}
	if err := r.client.List(ctx, vols, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing the source's volumes: %w", err)
	}
	wls := &doradev1.WorkloadList{}
	if err := r.client.List(ctx, wls, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing the source's workloads: %w", err)
	}
	objects := []doradev1.ClonedObject{}
	for _, v := range vols.Items {
		if v.DeletionTimestamp == nil {
			objects = append(objects, doradev1.ClonedObject{Kind: kindVolume, Name: v.Name, State: doradev1.ClonePending})
		}
	}
	for _, w := range wls.Items {
		if w.DeletionTimestamp == nil {
			objects = append(objects, doradev1.ClonedObject{Kind: kindWorkload, Name: w.Name, State: doradev1.ClonePending})
		}
	}
	slices.SortStableFunc(objects, func(a, b doradev1.ClonedObject) int {
		if a.Kind != b.Kind {
			// Volumes first: the workloads mount them.
			return strings.Compare(a.Kind, b.Kind)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return objects, nil
}

// copyMeta is the metadata of a copy of src in namespace: its name, labels and annotations
// (less kubectl's record of the last apply), marked as cloned from src.
func copyMeta(src metav1.Object, namespace string) metav1.ObjectMeta {
	annotations := maps.Clone(src.GetAnnotations())
	if annotations == nil {
		annotations = map[string]string{}
	}
	delete(annotations, corev1.LastAppliedConfigAnnotation)
	annotations[doradev1.AnnotationClonedFrom] = src.GetNamespace() + "/" + src.GetName()
	return metav1.ObjectMeta{Namespace: namespace, Name: src.GetName(), Labels: maps.Clone(src.GetLabels()), Annotations: annotations}
}

// createCopy creates a copy; an empty state means it was made. The API server refusing it (the source's spec no longer
// passes validation, or admission says no) fails that object; any other error is retried.
func createCopy(ctx context.Context, c client.Client, obj client.Object) (string, string, error) {
	err := c.Create(ctx, obj)
	switch {
	case err == nil:
		return "", "", nil
	case apierrors.IsAlreadyExists(err):
		// Made before the cache saw it, or not by this clone: the next look tells.
		return doradev1.ClonePending, "an object of this name exists; checking whose it is", nil
	case apierrors.IsInvalid(err), apierrors.IsForbidden(err), apierrors.IsBadRequest(err):
		return doradev1.CloneFailed, fmt.Sprintf("the API server refused the copy: %v", err), nil
	}
	return "", "", fmt.Errorf("creating %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
}

// madeByClone reports whether obj is the copy of source/name.
func madeByClone(obj metav1.Object, sourceNS, name string) bool {
	return obj.GetAnnotations()[doradev1.AnnotationClonedFrom] == sourceNS+"/"+name
}

// cloneVolume copies one volume and, with copyData, its data.
func (r *Reconciler) cloneVolume(ctx context.Context, ws *doradev1.Workspace, sourceNS, namespace, name string) (string, string, error) {
	src := &doradev1.Volume{}
	switch err := r.client.Get(ctx, types.NamespacedName{Namespace: sourceNS, Name: name}, src); {
	case apierrors.IsNotFound(err):
		return doradev1.CloneFailed, "the source volume no longer exists", nil
	case err != nil:
		return "", "", err
	}
	dst := &doradev1.Volume{}
	switch err := r.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, dst); {
	case apierrors.IsNotFound(err):
		dst = &doradev1.Volume{ObjectMeta: copyMeta(src, namespace), Spec: *src.Spec.DeepCopy()}
		if state, msg, err := createCopy(ctx, r.client, dst); state != "" || err != nil {
			return state, msg, err
		}
		if !ws.Spec.CopyData {
			return doradev1.CloneDone, "", nil
		}
		return doradev1.CloneCopying, "waiting for the new volume's directory", nil
	case err != nil:
		return "", "", err
	}
	if !madeByClone(dst, sourceNS, name) {
		return doradev1.CloneFailed, fmt.Sprintf("a volume %s already exists in namespace %s and is not a copy of the source's; it is left as it is", name, namespace), nil
	}
	if !ws.Spec.CopyData {
		return doradev1.CloneDone, "", nil
	}
	return r.copyData(ctx, ws, src, dst)
}

// copyData runs the Job that copies src's data into dst, once both directories exist.
func (r *Reconciler) copyData(ctx context.Context, ws *doradev1.Workspace, src, dst *doradev1.Volume) (string, string, error) {
	ready := func(v *doradev1.Volume) bool {
		return meta.IsStatusConditionTrue(v.Status.Conditions, doradev1.VolumeDirectoryReady)
	}
	switch {
	case !ready(src):
		return doradev1.CloneCopying, "waiting for the source volume's directory (see its status)", nil
	case !ready(dst):
		return doradev1.CloneCopying, "waiting for the new volume's directory (see its status)", nil
	}
	from, err := r.directory(ctx, src, ws.Spec.CloneFrom)
	if err != nil {
		return doradev1.CloneCopying, err.Error(), nil
	}
	to, err := r.directory(ctx, dst, ws.Name)
	if err != nil {
		return doradev1.CloneCopying, err.Error(), nil
	}
	want, err := nfs.CopyJob(nfs.JobInputs{Namespace: dst.Namespace, Volume: dst.Name, Image: r.helperImage}, from, to)
	if err != nil {
		return doradev1.CloneFailed, err.Error(), nil
	}
	job := want.DeepCopy()
	switch err := r.client.Get(ctx, client.ObjectKeyFromObject(want), job); {
	case apierrors.IsNotFound(err):
		if err := ctrl.SetControllerReference(ws, want, r.client.Scheme()); err != nil {
			return "", "", err
		}
		if err := r.client.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", "", fmt.Errorf("creating job %s: %w", want.Name, err)
		}
		return doradev1.CloneCopying, fmt.Sprintf("Job %s is copying %s:%s", want.Name, from.Server, from.Path()), nil
	case err != nil:
		return "", "", err
	}
	if !metav1.IsControlledBy(job, ws) {
		return doradev1.CloneFailed, fmt.Sprintf("Job %s exists and is not this clone's", job.Name), nil
	}
	switch outcome, msg := nfs.Outcome(job); outcome {
	case nfs.JobSucceeded:
		return doradev1.CloneDone, fmt.Sprintf("data copied from %s:%s", from.Server, from.Path()), nil
	case nfs.JobFailed:
		return doradev1.CloneFailed, msg, nil
	}
	return doradev1.CloneCopying, fmt.Sprintf("Job %s is copying %s:%s", job.Name, from.Server, from.Path()), nil
}

// directory is where vol, of workspace, keeps its data.
func (r *Reconciler) directory(ctx context.Context, vol *doradev1.Volume, workspace string) (nfs.Directory, error) {
	st := &doradev1.Storage{}
	if err := r.client.Get(ctx, types.NamespacedName{Name: vol.Spec.Storage}, st); err != nil {
		return nfs.Directory{}, fmt.Errorf("waiting for Storage %s: %w", vol.Spec.Storage, err)
	}
	return nfs.VolumeDirectory(st, workspace, vol)
}

// cloneWorkload copies one workload, paused, so nothing runs (or spends credits) until the
// user resumes it.
func (r *Reconciler) cloneWorkload(ctx context.Context, sourceNS, namespace, name string) (string, string, error) {
	src := &doradev1.Workload{}
	switch err := r.client.Get(ctx, types.NamespacedName{Namespace: sourceNS, Name: name}, src); {
	case apierrors.IsNotFound(err):
		return doradev1.CloneFailed, "the source workload no longer exists", nil
	case err != nil:
		return "", "", err
	}
	dst := &doradev1.Workload{}
	switch err := r.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, dst); {
	case apierrors.IsNotFound(err):
		dst = &doradev1.Workload{ObjectMeta: copyMeta(src, namespace), Spec: *src.Spec.DeepCopy()}
		dst.Spec.Paused = true
		if state, msg, err := createCopy(ctx, r.client, dst); state != "" || err != nil {
			return state, msg, err
		}
		return doradev1.CloneDone, "", nil
	case err != nil:
		return "", "", err
	}
	if !madeByClone(dst, sourceNS, name) {
		return doradev1.CloneFailed, fmt.Sprintf("a workload %s already exists in namespace %s and is not a copy of the source's; it is left as it is", name, namespace), nil
	}
	return doradev1.CloneDone, "", nil
}

// summarizeClone sets the clone's phase and the Cloned condition from its objects.
func summarizeClone(ws *doradev1.Workspace, now time.Time) {
	status := ws.Status.Clone
	var waiting, failed []string
	volumes, workloads := 0, 0
	for _, o := range status.Objects {
		switch o.State {
		case doradev1.CloneDone:
			if o.Kind == kindVolume {
				volumes++
			} else {
				workloads++
			}
		case doradev1.CloneFailed:
			failed = append(failed, fmt.Sprintf("%s %s: %s", o.Kind, o.Name, o.Message))
		default:
			waiting = append(waiting, fmt.Sprintf("%s %s", o.Kind, o.Name))
		}
	}
	switch {
	case len(waiting) > 0:
		status.Phase = doradev1.CloneRunning
		setCloned(ws, metav1.ConditionFalse, doradev1.ReasonCloning, fmt.Sprintf("copying %s: %d of %d objects left: %s",
			status.Source, len(waiting), len(status.Objects), strings.Join(waiting, ", ")))
		return
	case len(failed) > 0:
		status.Phase = doradev1.CloneFailed
		setCloned(ws, metav1.ConditionFalse, doradev1.ReasonCloneFailed, fmt.Sprintf("%d of %d objects of %s could not be copied: %s",
			len(failed), len(status.Objects), status.Source, strings.Join(failed, "; ")))
	default:
		status.Phase = doradev1.CloneComplete
		setCloned(ws, metav1.ConditionTrue, doradev1.ReasonCloneComplete, fmt.Sprintf("copied %d volumes and %d workloads from %s; the workloads are paused: set spec.paused to false to start one",
			volumes, workloads, status.Source))
	}
	if status.CompletionTime == nil {
		t := metav1.NewTime(now)
		status.CompletionTime = &t
	}
}

func setCloned(ws *doradev1.Workspace, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&ws.Status.Conditions, metav1.Condition{
		Type: doradev1.WorkspaceCloned, Status: status, Reason: reason, Message: message, ObservedGeneration: ws.Generation,
	})
}

// emitCloneEvents tells the user when a clone ends, after the status was written.
func (r *Reconciler) emitCloneEvents(ws *doradev1.Workspace, before *doradev1.WorkspaceStatus) {
	now := meta.FindStatusCondition(ws.Status.Conditions, doradev1.WorkspaceCloned)
	was := meta.FindStatusCondition(before.Conditions, doradev1.WorkspaceCloned)
	if now == nil || (was != nil && was.Reason == now.Reason) {
		return
	}
	switch now.Reason {
	case doradev1.ReasonCloneComplete:
		r.recorder.Eventf(ws, nil, corev1.EventTypeNormal, now.Reason, "Clone", "%s", now.Message)
	case doradev1.ReasonCloneFailed, doradev1.ReasonSourceNotFound:
		r.recorder.Eventf(ws, nil, corev1.EventTypeWarning, now.Reason, "Clone", "%s", now.Message)
	}
}
