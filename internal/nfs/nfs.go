// Package nfs decides where a Volume's data lives on an NFS Storage and builds the
// objects that reach it: the PersistentVolume and claim workloads mount, and the short Jobs
// that create, copy and remove directories on the export. It is pure: no client, no clock.
package nfs

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// NominalCapacity is the size written on every PersistentVolume and claim. Kubernetes needs
// one, and NFS enforces none: a volume holds what the export holds.
var NominalCapacity = resource.MustParse("1Ti")

// Directory is one directory on an NFS server.
type Directory struct {
	// Server is the NFS server (Storage.spec.endpoint).
	Server string
	// Export is the exported path the directory is below (Storage.spec.mountpath).
	Export string
	// Rel is the directory relative to Export: <workspace>/<volume>[/<subpath>].
	Rel string
	// MountOptions are the Storage's NFS mount options.
	MountOptions []string
}

// Path is the directory's absolute path on the server.
func (d Directory) Path() string { return path.Join(d.Export, d.Rel) }

// VolumeDirectory is where the data of Volume volume of workspace lives on st:
// <mountpath>/<workspace>/<volume>[/<subpath>]. Workspace and volume names hold no '/', and
// a subpath is relative and free of '..' (the CRD refuses others), so two Volumes of one
// Storage never share a directory nor nest one in the other.
func VolumeDirectory(st *doradev1.Storage, workspace string, vol *doradev1.Volume) (Directory, error) {
	rel := path.Join(workspace, vol.Name)
	if sub := vol.Spec.Subpath; sub != "" {
		if path.IsAbs(sub) || strings.HasPrefix(path.Clean(sub), "..") {
			return Directory{}, fmt.Errorf("spec.subpath %q must be a relative path without '..'", sub)
		}
		rel = path.Join(rel, sub)
	}
	if workspace == "" || strings.Contains(workspace, "/") || strings.Contains(vol.Name, "/") {
		return Directory{}, fmt.Errorf("workspace %q and volume %q must be plain names", workspace, vol.Name)
	}
	return Directory{
		Server:       st.Spec.Endpoint,
		Export:       path.Clean(st.Spec.Mountpath),
		Rel:          rel,
		MountOptions: st.Spec.MountOptions,
	}, nil
}

// DirectoryAt is the directory server:dirPath on st, as a Volume's status recorded it once
// the directory was made; false when st does not hold it.
func DirectoryAt(st *doradev1.Storage, server, dirPath string) (Directory, bool) {
	export := path.Clean(st.Spec.Mountpath)
	dirPath = path.Clean(dirPath)
	if server == "" || server != st.Spec.Endpoint || !strings.HasPrefix(dirPath, strings.TrimSuffix(export, "/")+"/") {
		return Directory{}, false
	}
	rel := strings.TrimPrefix(dirPath, strings.TrimSuffix(export, "/")+"/")
	return Directory{Server: server, Export: export, Rel: rel, MountOptions: st.Spec.MountOptions}, true
}

// Overlap finds, among all, an older Storage on the same server whose export is st's or
// holds it or lies inside it: volumes of the two could then meet in one directory. The
// oldest of overlapping Storages keeps working; nil when st overlaps no older one.
func Overlap(st *doradev1.Storage, all []doradev1.Storage) *doradev1.Storage {
	mine := path.Clean(st.Spec.Mountpath)
	for i := range all {
		other := &all[i]
		if other.Name == st.Name || !strings.EqualFold(other.Spec.Endpoint, st.Spec.Endpoint) || !older(other, st) {
			continue
		}
		theirs := path.Clean(other.Spec.Mountpath)
		if within(mine, theirs) || within(theirs, mine) {
			return other
		}
	}
	return nil
}

// older orders Storages by creation, then by name, so that every reader agrees.
func older(a, b *doradev1.Storage) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// PersistentVolumeName is the PersistentVolume for the claim namespace/claim:
// dora.<namespace>.<claim>. A namespace holds no '.', so two claims never get one name.
func PersistentVolumeName(namespace, claim string) string {
	return naming.WithSuffix("dora."+namespace+"."+claim, "")
}

// SourceKey is the value of the dora.dev/source-volume annotation for a Volume.
func SourceKey(vol types.NamespacedName) string { return vol.Namespace + "/" + vol.Name }

// ParseSourceKey reads a dora.dev/source-volume annotation.
func ParseSourceKey(key string) (types.NamespacedName, bool) {
	ns, name, ok := strings.Cut(key, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, false
	}
	return types.NamespacedName{Namespace: ns, Name: name}, true
}

// Binding is one PersistentVolume and the claim it is bound to, both for the directory of
// the Volume Source.
type Binding struct {
	// Source is the Volume whose directory they reach.
	Source types.NamespacedName
	// Claim is the claim, in the namespace of the workloads that mount it.
	Claim types.NamespacedName
	// Dir is the directory.
	Dir Directory
	// ReadOnly makes the NFS mount itself read-only: set for another workspace's claim that
	// may not write, so that no pod spec can write through it.
	ReadOnly bool
}

// PersistentVolumeName is the binding's PersistentVolume.
func (b Binding) PersistentVolumeName() string {
	return PersistentVolumeName(b.Claim.Namespace, b.Claim.Name)
}

func (b Binding) labels() map[string]string {
	return map[string]string{doradev1.LabelVolume: naming.WorkloadLabelValue(b.Source.Name)}
}

func (b Binding) annotations() map[string]string {
	return map[string]string{doradev1.AnnotationSourceVolume: SourceKey(b.Source)}
}

// PersistentVolume is the NFS PersistentVolume of the binding: ReadWriteMany, Retain (the
// data outlives it), no storage class, and bound ahead to its claim so that no other claim
// can take it. A volume's own PersistentVolume is read-write at the NFS level (its policy
// may change; the workload controller mounts a readonly volume read-only in every pod); one
// for another workspace is read-only there too unless it may write.
func (b Binding) PersistentVolume() *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        b.PersistentVolumeName(),
			Labels:      b.labels(),
			Annotations: b.annotations(),
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: NominalCapacity},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			PersistentVolumeSource: corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{
				Server:   b.Dir.Server,
				Path:     b.Dir.Path(),
				ReadOnly: b.ReadOnly,
			}},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              "",
			MountOptions:                  b.Dir.MountOptions,
			ClaimRef: &corev1.ObjectReference{
				APIVersion: "v1",
				Kind:       "PersistentVolumeClaim",
				Namespace:  b.Claim.Namespace,
				Name:       b.Claim.Name,
			},
			VolumeMode: ptr.To(corev1.PersistentVolumeFilesystem),
		},
	}
}

// Claim is the binding's claim: it names its PersistentVolume, so the binder pairs the two
// and no provisioner is asked.
func Claim(source, claim types.NamespacedName) *corev1.PersistentVolumeClaim {
	b := Binding{Source: source, Claim: claim}
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   claim.Namespace,
			Name:        claim.Name,
			Labels:      b.labels(),
			Annotations: b.annotations(),
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: NominalCapacity}},
			VolumeName:       b.PersistentVolumeName(),
			StorageClassName: ptr.To(""),
			VolumeMode:       ptr.To(corev1.PersistentVolumeFilesystem),
		},
	}
}

// ReachesDirectory reports whether pv is an NFS PersistentVolume made for source.
func ReachesDirectory(pv *corev1.PersistentVolume, source types.NamespacedName) bool {
	return pv.Annotations[doradev1.AnnotationSourceVolume] == SourceKey(source) && pv.Spec.NFS != nil
}
