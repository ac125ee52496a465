package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Storage condition reasons (of Ready).
const (
	// ReasonStorageReady: volumes are made below the export.
	ReasonStorageReady = "StorageReady"
	// ReasonStorageOverlaps: the export nests with an older Storage's on the same server.
	ReasonStorageOverlaps = "Overlaps"
	// ReasonStorageInUse: the Storage is being deleted and waits for its volumes to go.
	ReasonStorageInUse = "InUse"
)

// StorageSpec describes an NFS export.
type StorageSpec struct {
	// endpoint is the NFS server: a host name or an IP address. It cannot be changed, as
	// the PersistentVolumes made for its volumes cannot follow.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="endpoint cannot be changed: existing volumes stay on the old server; create a new Storage"
	// +kubebuilder:validation:XValidation:rule="self.size() > 0",message="endpoint must name the NFS server, such as 10.10.10.1 or nfs.example.org"
	// +required
	Endpoint string `json:"endpoint"`

	// mountpath is the exported path on the server, an absolute path. Each volume is the
	// directory <mountpath>/<workspace>/<volume>. It cannot be changed.
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="mountpath cannot be changed: existing volumes stay where they are; create a new Storage"
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/') && !self.split('/').exists(p, p == '..')",message="mountpath must be the absolute exported path on the server, without '..', such as /dora-storage-01/share-01"
	// +required
	Mountpath string `json:"mountpath"`

	// kind is the storage protocol; NFS is the only one.
	// +kubebuilder:validation:Enum=NFS
	// +default="NFS"
	// +optional
	Kind string `json:"kind,omitempty"`

	// mountOptions are passed to the NFS mount, such as nfsvers=4.1. They apply to
	// PersistentVolumes made after a change.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=256
	// +listType=atomic
	// +optional
	MountOptions []string `json:"mountOptions,omitempty"`
}

// StorageStatus is what the manager observed of a Storage.
type StorageStatus struct {
	// conditions describe the storage: Ready.
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation this status describes.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=9007199254740991
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// volumeCount is how many volumes live on this storage.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	// +optional
	VolumeCount int32 `json:"volumeCount,omitempty"`

	// volumes lists the volumes on this storage as <workspace>/<volume>.
	// +listType=set
	// +kubebuilder:validation:MaxItems=10000
	// +kubebuilder:validation:items:MaxLength=317
	// +optional
	Volumes []string `json:"volumes,omitempty"`
}

// Storage is an NFS export that Volumes live on, reachable from every node of the zone.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=sto,categories=dora
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="Mountpath",type=string,JSONPath=`.spec.mountpath`
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.kind`
// +kubebuilder:printcolumn:name="Volumes",type=integer,JSONPath=`.status.volumeCount`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Storage struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata: its name, labels and annotations.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec describes the export.
	// +required
	Spec StorageSpec `json:"spec"`

	// status is what the manager observed.
	// +optional
	Status StorageStatus `json:"status,omitempty"`
}

// StorageList is a list of Storages.
// +kubebuilder:object:root=true
type StorageList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Storage `json:"items"`
}

func init() {
	register(&Storage{}, &StorageList{})
}
