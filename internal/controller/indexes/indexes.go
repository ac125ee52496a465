// Package indexes is the one place that names and registers the cache's field indexes.
// The manager registers them all at start; tests register the same ones on a fake client
// (testclient), so a controller lists by an index the same way everywhere.
package indexes

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// The indexes, by the field they hold.
const (
	// WorkloadVolumes indexes Workloads by the Volumes they mount (<namespace>/<name>), so
	// that a Volume's change reaches the workloads of any namespace that mount it.
	WorkloadVolumes = "workload.dora.dev/volumes"
	// WorkspaceNamespace indexes Workspaces by the namespace they want, so that a change to
	// any namespace reaches the workspace that wants its name.
	WorkspaceNamespace = "workspace.dora.dev/namespace"
	// WorkspaceCloneSource indexes Workspaces by the namespace of the workspace they clone.
	WorkspaceCloneSource = "workspace.dora.dev/clone-source"
	// VolumeStorage indexes Volumes by spec.storage.
	VolumeStorage = "volume.dora.dev/storage"
	// ClaimSourceVolume indexes claims by the Volume they reach (dora.dev/source-volume).
	ClaimSourceVolume = "volume.dora.dev/source"
	// PodOwner indexes pods by the Dora user their workload belongs to (dora.dev/owner), and
	// the counted pods of workloads without an owner under Unowned.
	PodOwner = "pod.dora.dev/owner"
	// WorkloadOwner indexes Workloads by their owner (dora.dev/owner).
	WorkloadOwner = "workload.dora.dev/owner"
	// PodNode indexes pods by the node they are bound to (spec.nodeName).
	PodNode = "pod.dora.dev/node"
	// ControllerWorkload indexes pods, services and ControllerRevisions by the Workload that
	// controls them (its name; list with InNamespace). A workload's reconcile reads its own
	// objects through it, at a cost that does not grow with its namespace.
	ControllerWorkload = "dora.dev/controller-workload"
)

// Unowned is PodOwner's key for the pods of unowned workloads that the credit controller
// counts (they carry its finalizer). No Dora user has this name: a ':' cannot be in one.
const Unowned = ":unowned"

// Index is one field index: the kind it is on, its name, and what it holds for an object.
type Index struct {
	Object  client.Object
	Field   string
	Extract client.IndexerFunc
}

// All lists every index the controllers list by.
func All() []Index {
	return []Index{
		{Object: &doradev1.Workload{}, Field: WorkloadVolumes, Extract: workloadVolumes},
		{Object: &doradev1.Workspace{}, Field: WorkspaceNamespace, Extract: func(o client.Object) []string {
			return []string{naming.WorkspaceNamespace(o.GetName())}
		}},
		{Object: &doradev1.Workspace{}, Field: WorkspaceCloneSource, Extract: workspaceCloneSource},
		{Object: &doradev1.Volume{}, Field: VolumeStorage, Extract: func(o client.Object) []string {
			return []string{o.(*doradev1.Volume).Spec.Storage}
		}},
		{Object: &corev1.PersistentVolumeClaim{}, Field: ClaimSourceVolume, Extract: claimSourceVolume},
		{Object: &corev1.Pod{}, Field: PodOwner, Extract: PodAccount},
		{Object: &doradev1.Workload{}, Field: WorkloadOwner, Extract: owner},
		{Object: &corev1.Pod{}, Field: ControllerWorkload, Extract: controllerWorkload},
		{Object: &corev1.Service{}, Field: ControllerWorkload, Extract: controllerWorkload},
		{Object: &appsv1.ControllerRevision{}, Field: ControllerWorkload, Extract: controllerWorkload},
		{Object: &corev1.Pod{}, Field: PodNode, Extract: func(o client.Object) []string {
			if node := o.(*corev1.Pod).Spec.NodeName; node != "" {
				return []string{node}
			}
			return nil
		}},
	}
}

// Register adds every index to the manager's cache.
func Register(ctx context.Context, indexer client.FieldIndexer) error {
	for _, idx := range All() {
		if err := indexer.IndexField(ctx, idx.Object, idx.Field, idx.Extract); err != nil {
			return fmt.Errorf("registering index %s: %w", idx.Field, err)
		}
	}
	return nil
}

func workloadVolumes(o client.Object) []string {
	wl := o.(*doradev1.Workload)
	keys := make([]string, 0, len(wl.Spec.Volumes))
	for _, v := range wl.Spec.Volumes {
		keys = append(keys, podspec.VolumeKey(wl.Namespace, v).String())
	}
	return keys
}

func workspaceCloneSource(o client.Object) []string {
	if from := o.(*doradev1.Workspace).Spec.CloneFrom; from != "" {
		return []string{naming.WorkspaceNamespace(from)}
	}
	return nil
}

func claimSourceVolume(o client.Object) []string {
	if key := o.GetAnnotations()[doradev1.AnnotationSourceVolume]; key != "" {
		return []string{key}
	}
	return nil
}

// PodAccount is who a pod is charged to: its owner, Unowned for a counted pod without one
// (it carries the credits finalizer), or nobody.
func PodAccount(o client.Object) []string {
	if user := o.GetAnnotations()[doradev1.AnnotationOwner]; user != "" {
		return []string{user}
	}
	if slices.Contains(o.GetFinalizers(), doradev1.FinalizerCredits) {
		return []string{Unowned}
	}
	return nil
}

// owner is the object's dora.dev/owner, if it has one.
func owner(o client.Object) []string {
	if user := o.GetAnnotations()[doradev1.AnnotationOwner]; user != "" {
		return []string{user}
	}
	return nil
}

// controllerWorkload is the name of the Workload that controls the object, if one does.
func controllerWorkload(o client.Object) []string {
	ref := metav1.GetControllerOfNoCopy(o)
	if ref == nil || ref.Kind != "Workload" {
		return nil
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != doradev1.GroupVersion.Group {
		return nil
	}
	return []string{ref.Name}
}
