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

	// WorkspaceCloned is True once a clone has copied everything of its source.
	WorkspaceCloned = "Cloned"
	// ReasonCloning: the clone is copying objects or data.
	ReasonCloning = "Cloning"
	// ReasonCloneComplete: every object of the source was copied.
	ReasonCloneComplete = "CloneComplete"
	// ReasonCloneFailed: some objects could not be copied; status.clone.objects says which.
	ReasonCloneFailed = "CloneFailed"
	// ReasonSourceNotFound: the workspace to clone does not exist.
	ReasonSourceNotFound = "SourceNotFound"

	// WorkspaceDeleting is present while the workspace is being taken down; its reason
	// says which step it is at.
	WorkspaceDeleting = "Deleting"
	// ReasonStoppingWorkloads: the workspace's workloads are being deleted and their pods
	// awaited.
	ReasonStoppingWorkloads = "StoppingWorkloads"
	// ReasonRemovingClaims: the workspace's volumes and claims are being removed (the data
	// stays on the storage).
	ReasonRemovingClaims = "RemovingClaims"
	// ReasonDeletingNamespace: the namespace is being deleted.
	ReasonDeletingNamespace = "DeletingNamespace"
)

// Progress of one object of a workspace clone.
const (
	ClonePending  = "Pending"
	CloneCopying  = "Copying"
	CloneDone     = "Done"
	CloneFailed   = "Failed"
	CloneComplete = "Complete"
	CloneRunning  = "Running"
)

// Pod Security Admission levels a workspace's namespace may enforce
// (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
const (
	// PodSecurityPrivileged enforces nothing: for workspaces an administrator trusts with
	// host networking.
	PodSecurityPrivileged = "privileged"
	// PodSecurityBaseline refuses the known privilege escalations (privileged containers,
	// host namespaces and ports, hostPath volumes, added capabilities); root images still
	// run. The default.
	PodSecurityBaseline = "baseline"
	// PodSecurityRestricted adds the hardening best practices on top of baseline: images
	// must run as a non-root user.
	PodSecurityRestricted = "restricted"
)

// WorkspaceSpec configures a Workspace.
// +kubebuilder:validation:XValidation:rule="!has(self.allowHostNetwork) || !self.allowHostNetwork || (has(self.podSecurity) && self.podSecurity == 'privileged')",message="spec.allowHostNetwork needs spec.podSecurity: privileged, because the baseline and restricted Pod Security levels refuse pods on the host network; set podSecurity to privileged too, or leave allowHostNetwork false",fieldPath=".allowHostNetwork"
type WorkspaceSpec struct {
	// cloneFrom names a workspace to copy when this one is created: its volumes (new
	// directories; with copyData, their data too) and its workloads as paused copies. It
	// can only be given when the workspace is created.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	CloneFrom string `json:"cloneFrom,omitempty"`

	// copyData copies the data of the cloned volumes, not only the volumes. It can only be
	// given when the workspace is created.
	// +optional
	CopyData bool `json:"copyData,omitempty"`

	// allowHostNetwork lets workloads of this workspace use network.mode host. Host
	// networking is outside the baseline Pod Security level, so it needs podSecurity
	// privileged as well: without it, the API server would refuse every such pod. Only
	// administrators may set it.
	// +optional
	AllowHostNetwork bool `json:"allowHostNetwork,omitempty"`

	// podSecurity is the Pod Security Admission level the workspace's namespace enforces
	// (and audits and warns about): privileged, baseline (the default) or restricted.
	// baseline keeps workloads from the node (no privileged containers, host namespaces,
	// host ports or hostPath volumes) and runs root images; restricted also requires
	// images that run as a non-root user; privileged enforces nothing and is needed for
	// allowHostNetwork. Only administrators may change it from the default.
	// +kubebuilder:validation:Enum=privileged;baseline;restricted
	// +default="baseline"
	// +optional
	PodSecurity string `json:"podSecurity,omitempty"`
}

// WorkspaceStatus is what the manager observed of a Workspace.
type WorkspaceStatus struct {
	// conditions are Ready, NamespaceReady, Cloned (for a clone) and Deleting (while it is
	// taken down).
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

	// namespace is the namespace that holds the workspace's workloads and volumes.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// clone reports the copy of spec.cloneFrom, object by object.
	// +optional
	Clone *CloneStatus `json:"clone,omitzero"`
}

// CloneStatus is the progress of a workspace clone.
type CloneStatus struct {
	// source is the workspace copied.
	// +kubebuilder:validation:MaxLength=63
	// +required
	Source string `json:"source"`

	// phase is Running, Complete or Failed.
	// +kubebuilder:validation:Enum=Running;Complete;Failed
	// +required
	Phase string `json:"phase,omitempty"`

	// startTime is when the clone started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// completionTime is when every object was copied or had failed.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// objects are the source's objects the clone copies, as found when it started.
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=4096
	// +optional
	Objects []ClonedObject `json:"objects,omitempty"`
}

// ClonedObject is one object of a workspace clone.
type ClonedObject struct {
	// kind is Volume or Workload.
	// +kubebuilder:validation:MaxLength=63
	// +required
	Kind string `json:"kind"`

	// name is the object's name, the same in both workspaces.
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// state is Pending, Copying (the volume's data), Done or Failed.
	// +kubebuilder:validation:Enum=Pending;Copying;Done;Failed
	// +required
	State string `json:"state,omitempty"`

	// message says what failed, or what the object waits for.
	// +kubebuilder:validation:MaxLength=32768
	// +optional
	Message string `json:"message,omitempty"`
}

// Workspace is a place for a user's or a team's workloads and volumes: a namespace owned by
// the Workspace, named after it with '.' turned into '-'.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ws,categories=dora
// +kubebuilder:validation:XValidation:rule="(has(self.spec) && has(self.spec.cloneFrom)) == (has(oldSelf.spec) && has(oldSelf.spec.cloneFrom)) && (!has(self.spec) || !has(self.spec.cloneFrom) || self.spec.cloneFrom == oldSelf.spec.cloneFrom) && (has(self.spec) && has(self.spec.copyData) && self.spec.copyData) == (has(oldSelf.spec) && has(oldSelf.spec.copyData) && oldSelf.spec.copyData)",message="spec.cloneFrom and spec.copyData can only be given when a workspace is created; to clone into a new workspace, create one with spec.cloneFrom"
// +kubebuilder:validation:XValidation:rule="!has(self.spec) || !has(self.spec.cloneFrom) || self.spec.cloneFrom != self.metadata.name",message="spec.cloneFrom must name another workspace, not this one"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')",message="a workspace name must be at most 63 lower-case letters, digits, '-' or '.', starting and ending with a letter or digit, such as amedeo.setti"
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.namespace`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Cloned From",type=string,JSONPath=`.spec.cloneFrom`,priority=1
// +kubebuilder:printcolumn:name="Clone",type=string,JSONPath=`.status.clone.phase`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Workspace struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata: its name, labels and annotations.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec configures the workspace.
	// +default={}
	// +optional
	Spec WorkspaceSpec `json:"spec,omitempty,omitzero"`

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
