package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VolumeSpec configures a Volume.
type VolumeSpec struct {
	// storage is the Storage (NFS export) the volume's directory lives on.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Storage string `json:"storage"`

	// subpath places the volume's directory below <mountpath>/<workspace>/<volume>, a
	// relative path.
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(p, p == '..')",message="subpath must be a relative path without '..'"
	// +optional
	Subpath string `json:"subpath,omitempty"`

	// policy is readwrite (default) or readonly; readonly mounts it read-only everywhere.
	// +kubebuilder:validation:Enum=readwrite;readonly
	// +kubebuilder:default=readwrite
	// +optional
	Policy string `json:"policy,omitempty"`

	// sharedWriters lets workloads of other workspaces that may use this volume write to it;
	// without it they mount it read-only.
	// +optional
	SharedWriters bool `json:"sharedWriters,omitempty"`

	// reclaimPolicy is what happens to the data when the Volume is deleted: Retain (default)
	// keeps it on the storage, Delete removes the directory.
	// +kubebuilder:validation:Enum=Retain;Delete
	// +kubebuilder:default=Retain
	// +optional
	ReclaimPolicy string `json:"reclaimPolicy,omitempty"`
}

// VolumeStatus is what the manager observed of a Volume.
type VolumeStatus struct {
	// observedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// path is the directory on the storage's export that holds the data.
	// +optional
	Path string `json:"path,omitempty"`

	// claimName is the PersistentVolumeClaim workloads mount.
	// +optional
	ClaimName string `json:"claimName,omitempty"`

	// conditions are Ready, StorageNotFound and others.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Volume is a directory on an NFS Storage that workloads of its workspace mount, on any node.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vol;vols,categories=dora
// +kubebuilder:printcolumn:name="Storage",type=string,JSONPath=`.spec.storage`
// +kubebuilder:printcolumn:name="Policy",type=string,JSONPath=`.spec.policy`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.status.path`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Volume struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec configures the volume.
	// +required
	Spec VolumeSpec `json:"spec"`

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
