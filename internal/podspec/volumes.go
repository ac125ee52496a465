package podspec

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// VolumeClaim says which PersistentVolumeClaim (in the workload's namespace) backs one entry
// of spec.volumes, and whether it must be mounted read-only.
type VolumeClaim struct {
	// ClaimName is the claim's name.
	ClaimName string
	// ReadOnly is true when the workload may only read the volume (another workspace's
	// volume, or a Volume whose policy says so). spec.volumes[].readOnly can only add to it.
	ReadOnly bool
}

// ClaimName is the PersistentVolumeClaim, in the workload's namespace, that backs a volume
// entry: the Volume's own name for a volume of the workload's workspace, and for a volume of
// another workspace a name that says whose it is and cannot meet a local one.
func ClaimName(workloadNamespace string, v doradev1.WorkloadVolume) string {
	ws := VolumeWorkspace(v)
	if ws == "" || naming.WorkspaceNamespace(ws) == workloadNamespace {
		return v.Name
	}
	base := strings.Trim(naming.WorkspaceNamespace(ws)+"."+v.Name, ".-")
	if len(base) > 200 {
		base = base[:200]
	}
	return "shared." + base + "." + naming.ShortHash(ws+"/"+v.Name)
}

// VolumeWorkspace is the workspace a volume entry names (workspace, or Dora's group), or
// "" for the workload's own.
func VolumeWorkspace(v doradev1.WorkloadVolume) string {
	if v.Workspace != "" {
		return v.Workspace
	}
	return v.Group
}

// VolumeKey is the Volume a volume entry of a workload in namespace names.
func VolumeKey(namespace string, v doradev1.WorkloadVolume) types.NamespacedName {
	if ws := VolumeWorkspace(v); ws != "" {
		namespace = naming.WorkspaceNamespace(ws)
	}
	return types.NamespacedName{Namespace: namespace, Name: v.Name}
}

// PodInputs is what the controller looked up for the builder.
type PodInputs struct {
	// Claims is indexed like spec.volumes.
	Claims []VolumeClaim
	// PodSecurity is the Pod Security level of the workload's workspace (its
	// spec.podSecurity; "" is baseline). restricted makes the pod run as a non-root user
	// with no capabilities; the other levels get the same baseline-safe pod.
	PodSecurity string
}

// Shared memory: config.shmSize is a memory-backed emptyDir over /dev/shm, as docker run
// --shm-size gives.
const (
	shmVolume = "dshm"
	shmPath   = "/dev/shm"
)

// volumes are the pod's volumes and the container's mounts: /dev/shm when config.shmSize is
// set, then each entry of spec.volumes from the claim the controller found for it.
func volumes(wl *doradev1.Workload, in PodInputs) ([]corev1.Volume, []corev1.VolumeMount, error) {
	var vols []corev1.Volume
	var mounts []corev1.VolumeMount
	if cfg := wl.Spec.Config; cfg != nil && cfg.ShmSize != nil {
		size := *cfg.ShmSize
		if size < 0 {
			return nil, nil, fmt.Errorf("config.shmSize: %d is negative; give the size of /dev/shm in bytes", size)
		}
		// 0 leaves the runtime's own /dev/shm, as Dora did.
		if size > 0 {
			vols = append(vols, corev1.Volume{
				Name: shmVolume,
				VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
					Medium:    corev1.StorageMediumMemory,
					SizeLimit: resource.NewQuantity(size, resource.DecimalSI),
				}},
			})
			mounts = append(mounts, corev1.VolumeMount{Name: shmVolume, MountPath: shmPath})
		}
	}
	if len(in.Claims) != len(wl.Spec.Volumes) {
		return nil, nil, fmt.Errorf("spec.volumes: %d volumes but %d claims were looked up for them", len(wl.Spec.Volumes), len(in.Claims))
	}
	for i, v := range wl.Spec.Volumes {
		claim := in.Claims[i]
		if claim.ClaimName == "" {
			return nil, nil, fmt.Errorf("spec.volumes[%d] (%s): no claim was looked up for it", i, v.Name)
		}
		name := "vol-" + strconv.Itoa(i)
		readOnly := claim.ReadOnly || v.ReadOnly
		vols = append(vols, corev1.Volume{
			Name: name,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
				ClaimName: claim.ClaimName,
				ReadOnly:  readOnly,
			}},
		})
		mounts = append(mounts, corev1.VolumeMount{
			Name:      name,
			MountPath: v.Target,
			SubPath:   v.Subpath,
			ReadOnly:  readOnly,
		})
	}
	return vols, mounts, nil
}
