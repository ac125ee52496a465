// Package access decides who may use what across workspaces. ByRoles, the manager's policy,
// lets a namespace's workloads mount another workspace's volume when their owners have
// Dora's Use verb on it, and write only where the volume invites writers (SharedWriters,
// the policy without roles, which tests and tools may still use). The workload controller
// asks before it requests a claim; the volume controller asks again before it grants one.
package access

import (
	"context"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Decision is whether a workspace may mount a volume, and how.
type Decision struct {
	// Allowed: the workspace may mount the volume.
	Allowed bool
	// Write: it may also write to it.
	Write bool
	// Reason says why not, for a condition the user reads.
	Reason string
}

// VolumePolicy decides whether the workloads of namespace may mount vol, a Volume of
// another workspace. The workload controller asks it before it requests a claim, and the
// volume controller asks it again before it grants one.
type VolumePolicy interface {
	MountVolume(ctx context.Context, namespace string, vol *doradev1.Volume) (Decision, error)
}

// SharedWriters is the policy before roles: any workspace may read any volume; it may
// write only to a readwrite volume with sharedWriters.
type SharedWriters struct{}

// MountVolume implements VolumePolicy.
func (SharedWriters) MountVolume(_ context.Context, _ string, vol *doradev1.Volume) (Decision, error) {
	return Decision{Allowed: true, Write: vol.Spec.SharedWriters && vol.Spec.Policy != doradev1.VolumeReadOnly}, nil
}

// Default is the policy the manager uses.
var Default VolumePolicy = SharedWriters{}
