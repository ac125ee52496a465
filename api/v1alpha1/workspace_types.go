package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Workspace condition types and reasons.
const (
	// WorkspaceNamespaceReady is True when the workspace's namespace exists and is owned by it.
	WorkspaceNamespaceReady = "NamespaceReady"

	// ReasonNamespaceCreated: the event sent when the namespace is created for the workspace.
	ReasonNamespaceCreated = "NamespaceCreated"
	// ReasonNamespaceOwned: the namespace exists and belongs to the workspace.
	ReasonNamespaceOwned = "NamespaceOwned"
	// ReasonNamespaceClash: a namespace of that name exists and is not the workspace's.
	ReasonNamespaceClash = "NamespaceClash"
	// ReasonNamespaceTerminating: the namespace is being deleted and cannot be used yet.
	ReasonNamespaceTerminating = "NamespaceTerminating"
)

// WorkspaceSpec configures a Workspace.
type WorkspaceSpec struct {
	// cloneFrom names a workspace to copy when this one is created: its volumes (and, with
	// copyData, their data) and its workloads as paused copies. It cannot be changed later.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="cloneFrom cannot be changed after the workspace is created"
	// +optional
	CloneFrom string `json:"cloneFrom,omitempty"`

	// copyData copies the data of the cloned volumes, not only the volumes.
	// +optional
	CopyData bool `json:"copyData,omitempty"`

	// allowHostNetwork lets workloads of this workspace use network.mode host.
	// +optional
	AllowHostNetwork bool `json:"allowHostNetwork,omitempty"`
}

// WorkspaceStatus is what the manager observed of a Workspace.
type WorkspaceStatus struct {
	// observedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// namespace is the namespace that holds the workspace's workloads and volumes.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// conditions are Ready and NamespaceReady.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Workspace is a place for a user's or a team's workloads and volumes: a namespace owned by
// the Workspace, named after it with '.' turned into '-'.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ws,categories=dora
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')",message="a workspace name must be at most 63 lower-case letters, digits, '-' or '.', starting and ending with a letter or digit, such as amedeo.setti"
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.namespace`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Cloned From",type=string,JSONPath=`.spec.cloneFrom`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Workspace struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec configures the workspace.
	// +optional
	Spec WorkspaceSpec `json:"spec,omitzero"`

	// status is what the manager observed.
	// +optional
	Status WorkspaceStatus `json:"status,omitempty"`
}

// WorkspaceList is a list of Workspaces.
// +kubebuilder:object:root=true
type WorkspaceList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Workspace `json:"items"`
}

func init() {
	register(&Workspace{}, &WorkspaceList{})
}
