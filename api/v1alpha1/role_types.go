package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RoleSpec lists what a role may do.
type RoleSpec struct {
	// permission maps a Dora kind to the verbs allowed on it, such as
	// Workload: [Apply, Delete, Get].
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['All','Workload','Container','Volume','Storage','Node','Workspace','Zone','CPU','GPU','Resourcecredit','Usercredit','User','Role','Project'])",message="permission keys must be Dora kinds: All, Workload, Container, Volume, Storage, Node, Workspace, Zone, CPU, GPU, Resourcecredit, Usercredit, User, Role or Project"
	// +optional
	Permission map[string][]string `json:"permission,omitempty"`
}

// RoleStatus is what the manager observed of a Role.
type RoleStatus struct {
	// observedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// clusterRole is the Kubernetes ClusterRole made from this role.
	// +optional
	ClusterRole string `json:"clusterRole,omitempty"`
	// conditions describe the role.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Role is a Dora role: the verbs allowed on each kind. It becomes a ClusterRole.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=dr,categories=dora
// +kubebuilder:printcolumn:name="ClusterRole",type=string,JSONPath=`.status.clusterRole`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Role struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec lists the permissions.
	// +optional
	Spec RoleSpec `json:"spec,omitzero"`

	// status is what the manager observed.
	// +optional
	Status RoleStatus `json:"status,omitempty"`
}

// RoleList is a list of Roles.
// +kubebuilder:object:root=true
type RoleList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Role `json:"items"`
}

func init() {
	register(&Role{}, &RoleList{})
}
