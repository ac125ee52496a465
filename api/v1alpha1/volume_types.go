package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Volume condition types and reasons.
const (
	// VolumeDirectoryReady is True once the volume's directory exists on the storage.
	VolumeDirectoryReady = "DirectoryReady"

	// ReasonStorageNotFound: spec.storage names no Storage (yet).
	ReasonStorageNotFound = "StorageNotFound"
	// ReasonStorageDeleting: the Storage is being deleted and takes no new volumes.
	ReasonStorageDeleting = "StorageDeleting"
	// ReasonDirectoryPending: the Job that creates the directory has not finished.
	ReasonDirectoryPending = "DirectoryPending"
	// ReasonDirectoryCreated: the directory exists.
	ReasonDirectoryCreated = "DirectoryCreated"
	// ReasonDirectoryFailed: the Job that creates the directory failed.
	ReasonDirectoryFailed = "DirectoryFailed"
	// ReasonDirectoryClash: another Volume already uses this directory, or one inside or
	// around it.
	ReasonDirectoryClash = "DirectoryClash"
	// ReasonNameClash: a PersistentVolume or claim of the name this volume needs exists and
	// is not this volume's.
	ReasonNameClash = "NameClash"
	// ReasonClaimPending: the claim exists and is not bound yet.
	ReasonClaimPending = "ClaimPending"
	// ReasonClaimBound: the claim is bound; workloads can mount the volume.
	ReasonClaimBound = "ClaimBound"
	// ReasonDeleting: the volume is being deleted.
	ReasonDeleting = "Deleting"
	// ReasonDeleteFailed: the Job that removes the directory failed.
	ReasonDeleteFailed = "DeleteFailed"
)

// Volume event reasons besides the condition reasons.
const (
	// EventDataKept: a deleted volume's data stays on the storage (the message says why).
	EventDataKept = "DataKept"
	// EventDataRemoved: a deleted volume's directory was removed (reclaimPolicy Delete).
	EventDataRemoved = "DataRemoved"
)

// Volume policies and reclaim policies.
const (
	VolumeReadWrite     = "readwrite"
	VolumeReadOnly      = "readonly"
	VolumeReclaimRetain = "Retain"
	VolumeReclaimDelete = "Delete"
)

// VolumeSpec configures a Volume.
//
// +kubebuilder:validation:XValidation:rule="has(self.subpath) == has(oldSelf.subpath) && (!has(self.subpath) || self.subpath == oldSelf.subpath)",message="subpath cannot be changed: the data stays in the old directory; create a new Volume"
type VolumeSpec struct {
	// storage is the Storage (NFS export) the volume's directory lives on. It cannot be
	// changed: the data would stay behind on the old storage.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="storage cannot be changed: the data stays on the old storage; create a new Volume and copy the data"
	// +required
	Storage string `json:"storage,omitempty"`

	// subpath places the volume's directory below <mountpath>/<workspace>/<volume>, a
	// relative path.
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(p, p == '..')",message="subpath must be a relative path without '..'"
	// +optional
	Subpath string `json:"subpath,omitempty"`

	// policy is readwrite (default) or readonly; readonly mounts it read-only everywhere.
	// +kubebuilder:validation:Enum=readwrite;readonly
	// +default="readwrite"
	// +optional
	Policy string `json:"policy,omitempty"`

	// sharedWriters lets workloads of other workspaces that may use this volume write to it;
	// without it they mount it read-only.
	// +optional
	SharedWriters bool `json:"sharedWriters,omitempty"`

	// reclaimPolicy is what happens to the data when the Volume is deleted: Retain (default)
	// keeps it on the storage, Delete removes the directory.
	// +kubebuilder:validation:Enum=Retain;Delete
	// +default="Retain"
	// +optional
	ReclaimPolicy string `json:"reclaimPolicy,omitempty"`
}

// VolumeStatus is what the manager observed of a Volume.
type VolumeStatus struct {
	// conditions are Ready (the claim is bound; its reason says what is missing when it is
	// not, such as StorageNotFound) and DirectoryReady.
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

	// server is the NFS server that holds the data.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Server string `json:"server,omitempty"`

	// path is the directory on the server that holds the data:
	// <mountpath>/<workspace>/<volume>[/<subpath>]. Its bound is the longest mountpath (4096),
	// workspace (63), volume name (253) and subpath (4096) joined.
	// +kubebuilder:validation:MaxLength=8511
	// +optional
	Path string `json:"path,omitempty"`

	// persistentVolumeName is the PersistentVolume that reaches the directory.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	PersistentVolumeName string `json:"persistentVolumeName,omitempty"`

	// claimName is the PersistentVolumeClaim workloads of the workspace mount.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ClaimName string `json:"claimName,omitempty"`
}

// Volume is a directory on an NFS Storage that workloads of its workspace mount, on any node.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vol;vols,categories=dora
// +kubebuilder:printcolumn:name="Storage",type=string,JSONPath=`.spec.storage`
// +kubebuilder:printcolumn:name="Policy",type=string,JSONPath=`.spec.policy`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Claim",type=string,JSONPath=`.status.claimName`,priority=1
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.status.path`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Volume struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata: its name, labels and annotations.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec configures the volume.
	// +required
	Spec VolumeSpec `json:"spec,omitzero"`

	// status is what the manager observed.
	// +optional
	Status VolumeStatus `json:"status,omitempty"`
}

// VolumeList is a list of Volumes.
// +kubebuilder:object:root=true
type VolumeList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Volume `json:"items"`
}

func init() {
	register(&Volume{}, &VolumeList{})
}
