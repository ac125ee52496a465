package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ZoneSpec says where a zone's API is.
type ZoneSpec struct {
	// endpoint is the URL of the zone's Kubernetes API server.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self == '' || isURL(self)",message="endpoint must be a URL, such as https://mydora1.doracluster.com"
	// +optional
	Endpoint string `json:"endpoint,omitempty"`
}

// GPUCount is a number of GPUs of one model.
type GPUCount struct {
	// product is the GPU model as NVML names it (at most 96 bytes).
	// +kubebuilder:validation:MaxLength=96
	// +required
	Product string `json:"product"`
	// count is how many there are.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	// +required
	Count int32 `json:"count"`
}

// ZoneStatus is the state of the manager's own zone.
type ZoneStatus struct {
	// conditions describe the zone.
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

	// nodes is the number of nodes in the zone.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	// +optional
	Nodes int32 `json:"nodes,omitempty"`

	// gpus counts the zone's GPUs by model.
	// +listType=map
	// +listMapKey=product
	// +kubebuilder:validation:MaxItems=256
	// +optional
	GPUs []GPUCount `json:"gpus,omitempty"`

	// workloads counts the zone's workloads by phase.
	// +kubebuilder:validation:MaxProperties=8
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.size() <= 16 && self[k] >= 0 && self[k] <= 100000000)",message="status.workloads must count workloads by phase (a phase name of at most 16 characters), each from 0 to 100000000"
	// +optional
	Workloads map[string]int32 `json:"workloads,omitempty"`

	// unowned is the week of the GPU pods of workloads without a Dora owner (made by an
	// administrator or a service account): charged to nobody, and counted here as a user's
	// would be (GPU-hours and what they would cost per product, the ledger, the history),
	// with no weekly budget.
	// +optional
	Unowned *ZoneCredits `json:"unowned,omitempty"`
}

// Zone is one Kubernetes cluster in a Dora installation. The Zone named after the manager's
// own zone carries its status; the others say where their API servers are.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=z,categories=dora
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="Nodes",type=integer,JSONPath=`.status.nodes`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Zone struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata: its name, labels and annotations.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says where the zone is.
	// +optional
	Spec ZoneSpec `json:"spec,omitempty,omitzero"`

	// status is the zone's state, for the manager's own zone.
	// +optional
	Status ZoneStatus `json:"status,omitempty"`
}

// ZoneList is a list of Zones.
// +kubebuilder:object:root=true
type ZoneList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Zone `json:"items"`
}

func init() {
	register(&Zone{}, &ZoneList{})
}
