// Package podspec turns a Workload into the objects that run it: one pod per replica and one
// NodePort Service per replica and port. It is pure: no client, no API server. The controller
// looks up what the builders need (the claims behind spec.volumes), calls them, and sets owner
// references on what they return.
package podspec

import (
	"strconv"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// Labels on every pod and service of a workload.
const (
	// LabelWorkload holds naming.WorkloadLabelValue of the workload's name.
	LabelWorkload = doradev1.LabelWorkload
	// LabelReplica holds the replica index, in decimal.
	LabelReplica = doradev1.LabelReplica
	// LabelRevision holds the TemplateHash of the spec the object was built from.
	LabelRevision = "dora.dev/revision"
)

// AnnotationWorkload holds the workload's full name on its pods and services, for when the
// label value had to be shortened.
const AnnotationWorkload = "dora.dev/workload"

// ContainerName is the name of the one container in every workload pod.
const ContainerName = "workload"

// PodName is the name of replica index of the workload: <workload>-<index>, such as
// blue.red-1. A workload name too long to take the suffix is shortened with a hash.
func PodName(wl *doradev1.Workload, index int32) string {
	return naming.WithSuffix(wl.Name, "-"+strconv.FormatInt(int64(index), 10))
}

// labels are the labels every pod and service of replica index carries.
func labels(wl *doradev1.Workload, index int32) map[string]string {
	return map[string]string{
		LabelWorkload: naming.WorkloadLabelValue(wl.Name),
		LabelReplica:  strconv.FormatInt(int64(index), 10),
		LabelRevision: TemplateHash(wl),
	}
}

// annotations are the annotations every pod and service of the workload carries.
func annotations(wl *doradev1.Workload) map[string]string {
	return map[string]string{AnnotationWorkload: wl.Name}
}
